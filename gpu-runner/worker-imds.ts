/**
 * A small EC2 instance metadata client (IMDSv2): PUT a session token, then GET paths with it. One
 * token is cached until shortly before it expires and dropped when IMDS answers 401. The base URL is
 * configurable so tests serve metadata on loopback. Used by the spot watcher and the scale-in guard.
 */

const TOKEN_TTL_SECONDS = 21_600;

export class InstanceMetadata {
  readonly #baseUrl: string;
  #token: { value: string; expiresAt: number } | undefined;

  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  }

  /** The text at `latest/meta-data/<path>`, or undefined when IMDS has nothing there (404). */
  async get(path: string, signal?: AbortSignal): Promise<string | undefined> {
    const token = await this.#sessionToken(signal);
    const response = await fetch(new URL(`latest/meta-data/${path}`, this.#baseUrl), { headers: { 'X-aws-ec2-metadata-token': token }, ...(signal ? { signal } : {}) });
    if (response.status === 404) return undefined;
    if (response.status === 401) {
      this.#token = undefined;
      throw new Error('instance metadata refused the session token (401); a new one is requested next time');
    }
    if (!response.ok) throw new Error(`instance metadata answered ${response.status} for ${path}`);
    return response.text();
  }

  async #sessionToken(signal?: AbortSignal): Promise<string> {
    if (this.#token && this.#token.expiresAt > Date.now()) return this.#token.value;
    const response = await fetch(new URL('latest/api/token', this.#baseUrl), {
      method: 'PUT',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS) },
      ...(signal ? { signal } : {}),
    });
    if (!response.ok) throw new Error(`instance metadata token request answered ${response.status}`);
    const value = await response.text();
    this.#token = { value, expiresAt: Date.now() + (TOKEN_TTL_SECONDS - 60) * 1000 };
    return value;
  }
}
