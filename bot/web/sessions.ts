/**
 * Playground sessions: the cookie holds a server-issued token, and the jobs it makes are owned by a
 * derived, non-secret user id. Pages see only user ids ("is this message mine"), never a token, so
 * what one visitor can read gives them nothing to act as another.
 *
 *   token  = s1.<128 random bits, hex>.<HMAC(key, "token:" + random), base64url>
 *   userId = w<HMAC(key, "user:" + random), first 128 bits, hex>
 *
 * The tag makes every token verifiable without a session table: a token the server did not issue
 * (guessed, invented, or an old 24-hex cookie from before this scheme) is refused and a new one is
 * issued. The key lives in the object store (`web/session-key`), so sessions survive a restart.
 * Jobs of pre-token sessions (their user id was the old cookie, which every visitor could read)
 * keep showing but no session owns them any more.
 *
 * @example
 *   const sessions = await Sessions.open(blobs);
 *   const { token, userId } = sessions.issue();   // token → Set-Cookie; userId → job.requester.userId
 *   sessions.userIdOf(token)                      // → userId; undefined for anything not issued here
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { BlobStore } from '../../core/ports.ts';
import { webKeys } from '../../core/storage-layout.ts';

const SESSION_KEY_OBJECT = webKeys.sessionKey;
const KEY_BYTES = 32;
const TOKEN_PATTERN = /^s1\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/;

export interface IssuedSession {
  token: string;
  userId: string;
}

export class Sessions {
  readonly #key: Buffer;

  constructor(key: Uint8Array) {
    if (key.byteLength < KEY_BYTES) throw new Error(`Sessions: the key must be at least ${KEY_BYTES} bytes`);
    this.#key = Buffer.from(key);
  }

  /**
   * The store's key, made on first use. Two servers starting at once on an empty store may both write one;
   * each then reads back what is stored, so both use the same key (the last write) from then on.
   */
  static async open(blobs: BlobStore): Promise<Sessions> {
    const stored = await blobs.get(SESSION_KEY_OBJECT);
    if (stored && stored.byteLength >= KEY_BYTES) return new Sessions(stored);
    await blobs.put(SESSION_KEY_OBJECT, randomBytes(KEY_BYTES), 'application/octet-stream');
    const written = await blobs.get(SESSION_KEY_OBJECT);
    if (!written) throw new Error(`Sessions: ${SESSION_KEY_OBJECT} could not be read back after writing it`);
    return new Sessions(written);
  }

  issue(): IssuedSession {
    const random = randomBytes(16).toString('hex');
    return { token: `s1.${random}.${this.#mac('token', random).toString('base64url')}`, userId: this.#userIdOf(random) };
  }

  /** The user id of a token this server issued; undefined for anything else. */
  userIdOf(token: string): string | undefined {
    const match = TOKEN_PATTERN.exec(token);
    if (!match) return undefined;
    const [, random, tag] = match;
    const expected = this.#mac('token', random!);
    const given = Buffer.from(tag!, 'base64url');
    if (given.byteLength !== expected.byteLength || !timingSafeEqual(given, expected)) return undefined;
    return this.#userIdOf(random!);
  }

  #userIdOf(random: string): string {
    return `w${this.#mac('user', random).subarray(0, 16).toString('hex')}`;
  }

  #mac(purpose: string, random: string): Buffer {
    return createHmac('sha256', this.#key).update(`${purpose}:${random}`).digest();
  }
}
