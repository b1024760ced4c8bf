/**
 * Disk persistence for the local emulator's S3, without changing how anything talks to it.
 *
 * fauxqs keeps objects in memory. Rather than a BlobStore decorator (which would give the runner and
 * the bot a code path production never takes), the S3 *server* becomes durable: a Fastify `onSend`
 * hook on the emulator app sees every successful mutating S3 request (PutObject, CopyObject,
 * CompleteMultipartUpload, DeleteObject, DeleteObjects) and queues a write of the object as the S3
 * API then serves it (an in-process GET through the same routes) to `{dir}/objects/`, or its removal.
 * At start, `restore` PUTs every saved object back over HTTP. So clients still speak S3 over HTTP to
 * 127.0.0.1, and nothing in the runner or the bot knows about the disk.
 *
 * Write-behind, not write-through: the response does not wait for the disk (waiting cost ~80 ms of a
 * job's ~0.5 s on the tiny model: bench/e2e-latency.ts), and a write starts WRITE_DELAY_MS after its
 * request. Writes of one key stay in order, and closing the app (Ctrl-C, SIGTERM) waits for every queued
 * write; only a kill -9 can lose the last WRITE_DELAY_MS (a job lost that way is one submitted or
 * finished in that moment: its record or result was not on disk yet).
 *
 * Layout: `{dir}/objects/{name}` holds the bytes and `{dir}/meta/{name}.json` the bucket, key and
 * content type; `name` is the URL-encoded `bucket/key`, or its sha256 when that is too long for a
 * file name. Writes go to a temporary file and are renamed, so a crash leaves old or new, never half.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { buildApp } from 'fauxqs';

/** fauxqs's Fastify app (its types come through fauxqs, not a direct fastify dependency). */
type FastifyInstance = ReturnType<typeof buildApp>;
/** What the mirror reads of a request. */
interface S3Request {
  url: string;
  method: string;
  body: unknown;
}

interface ObjectMeta {
  bucket: string;
  key: string;
  contentType: string;
}

type Mutation = { kind: 'write'; bucket: string; key: string } | { kind: 'remove'; bucket: string; keys: string[] };

/**
 * A job's nine uploads arrive in one burst, and the completed message, the dispatcher's reads and the
 * page's four tile downloads follow on this same event loop within tens of ms; the disk copies (an
 * in-process GET and two file writes each) wait until after them. bench/e2e-latency.ts, demo model 256²,
 * 3 interleaved runs: not model compute per job 109–127 ms without the delay, 100–114 ms with it.
 */
const WRITE_DELAY_MS = 150;
const MAX_NAME = 200;
const RESTORE_BATCH = 16;

export class S3DiskMirror {
  readonly #dir: string;
  /** Per-object chains, so two quick PUTs of one key land on disk in the order the server applied them. */
  readonly #chains = new Map<string, Promise<void>>();
  #restoring = false;
  readonly #inFlight = new Set<Promise<void>>();
  /** Writes waiting out WRITE_DELAY_MS; `flush` starts them at once. */
  readonly #waiting = new Set<() => void>();
  #flushing = false;
  /** objects/ and meta/, created on the first write (not before every one: each mkdir costs the event loop too). */
  #folders: Promise<unknown> | undefined;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Installs the hooks; call before the app listens. */
  attach(app: FastifyInstance): void {
    app.addHook('onSend', async (request, reply, payload) => {
      if (this.#restoring || reply.statusCode >= 300) return payload;
      const mutation = mutationOf(request);
      if (mutation) {
        const write = this.#apply(app, mutation).catch((error: unknown) => {
          process.stderr.write(`local S3 disk mirror: could not save ${mutation.bucket}: ${error instanceof Error ? error.message : String(error)}\n`);
        });
        this.#inFlight.add(write);
        void write.finally(() => this.#inFlight.delete(write));
      }
      return payload;
    });
    app.addHook('onClose', async () => {
      await this.flush();
    });
  }

  /** Resolves when every write queued so far is on disk (those still waiting out their delay start now). */
  async flush(): Promise<void> {
    this.#flushing = true;
    try {
      for (const start of [...this.#waiting]) start();
      while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
    } finally {
      this.#flushing = false;
    }
  }

  /** PUTs every saved object back through the S3 API, 16 at a time; returns how many. The bucket must exist. */
  async restore(s3: S3Client): Promise<number> {
    await mkdir(join(this.#dir, 'meta'), { recursive: true });
    const names = (await readdir(join(this.#dir, 'meta'))).filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -'.json'.length));
    this.#restoring = true;
    let restored = 0;
    const restoreOne = async (name: string) => {
      const meta = JSON.parse(await readFile(join(this.#dir, 'meta', `${name}.json`), 'utf8')) as ObjectMeta;
      const body = await readFile(join(this.#dir, 'objects', name)).catch(() => null);
      if (!body) return;
      await s3.send(new PutObjectCommand({ Bucket: meta.bucket, Key: meta.key, Body: body, ContentType: meta.contentType }));
      restored++;
    };
    try {
      for (let i = 0; i < names.length; i += RESTORE_BATCH) await Promise.all(names.slice(i, i + RESTORE_BATCH).map(restoreOne));
    } finally {
      this.#restoring = false;
    }
    return restored;
  }

  async #apply(app: FastifyInstance, mutation: Mutation): Promise<void> {
    const keys = mutation.kind === 'write' ? [mutation.key] : mutation.keys;
    await Promise.all(
      keys.map((key) =>
        this.#chain(`${mutation.bucket}/${key}`, async () => {
          await this.#delay();
          await (mutation.kind === 'write' ? this.#save(app, mutation.bucket, key) : this.#remove(mutation.bucket, key));
        }),
      ),
    );
  }

  #delay(): Promise<void> {
    if (this.#flushing) return Promise.resolve();
    return new Promise((resolve) => {
      const start = () => {
        clearTimeout(timer);
        this.#waiting.delete(start);
        resolve();
      };
      const timer = setTimeout(start, WRITE_DELAY_MS);
      this.#waiting.add(start);
    });
  }

  #chain(id: string, work: () => Promise<void>): Promise<void> {
    const next = (this.#chains.get(id) ?? Promise.resolve()).then(work);
    const settled = next.catch(() => undefined);
    this.#chains.set(id, settled);
    void settled.then(() => {
      if (this.#chains.get(id) === settled) this.#chains.delete(id);
    });
    return next;
  }

  async #save(app: FastifyInstance, bucket: string, key: string): Promise<void> {
    // As a stream: a buffered inject also decodes the whole body into a UTF-8 string (~2 ms of the event
    // loop per 100 KB image, measured with --cpu-prof on bench/e2e-latency.ts), which nothing here reads.
    const response = await app.inject({ method: 'GET', url: `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`, payloadAsStream: true });
    const body = await buffer(response.stream());
    if (response.statusCode !== 200) return this.#remove(bucket, key);
    const name = fileNameOf(bucket, key);
    const contentType = String(response.headers['content-type'] ?? 'application/octet-stream');
    await this.#writeFile(join('objects', name), body);
    await this.#writeFile(join('meta', `${name}.json`), JSON.stringify({ bucket, key, contentType } satisfies ObjectMeta));
  }

  /** Writes under the mirror's folder; creates the folders again if someone removed them meanwhile. */
  async #writeFile(path: string, data: Uint8Array | string): Promise<void> {
    this.#folders ??= this.#createFolders();
    await this.#folders;
    try {
      await writeAtomically(join(this.#dir, path), data);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.#folders = this.#createFolders();
      await this.#folders;
      await writeAtomically(join(this.#dir, path), data);
    }
  }

  #createFolders(): Promise<unknown> {
    return Promise.all(['objects', 'meta'].map((folder) => mkdir(join(this.#dir, folder), { recursive: true })));
  }

  async #remove(bucket: string, key: string): Promise<void> {
    const name = fileNameOf(bucket, key);
    await rm(join(this.#dir, 'meta', `${name}.json`), { force: true });
    await rm(join(this.#dir, 'objects', name), { force: true });
  }
}

/** Which objects a successful S3 request changed, from its method, path and query. */
function mutationOf(request: S3Request): Mutation | undefined {
  const url = new URL(request.url, 'http://local');
  const [bucket, ...rest] = url.pathname.slice(1).split('/');
  if (!bucket) return undefined;
  const key = rest.map(decodeURIComponent).join('/');
  const query = url.searchParams;
  switch (request.method) {
    case 'PUT':
      // UploadPart (partNumber) changes nothing visible; PUT /bucket is CreateBucket.
      return key && !query.has('partNumber') && !query.has('tagging') && !query.has('acl') ? { kind: 'write', bucket, key } : undefined;
    case 'POST':
      if (key && query.has('uploadId')) return { kind: 'write', bucket, key };
      if (!key && query.has('delete')) return { kind: 'remove', bucket, keys: keysOfDeleteRequest(request.body) };
      return undefined;
    case 'DELETE':
      return key && !query.has('uploadId') ? { kind: 'remove', bucket, keys: [key] } : undefined;
    default:
      return undefined;
  }
}

/** Keys of a DeleteObjects XML body (`<Object><Key>…</Key></Object>…`). */
function keysOfDeleteRequest(body: unknown): string[] {
  const xml = Buffer.isBuffer(body) ? body.toString('utf8') : typeof body === 'string' ? body : '';
  return [...xml.matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((match) => unescapeXml(match[1]!));
}

function unescapeXml(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

function fileNameOf(bucket: string, key: string): string {
  const encoded = encodeURIComponent(`${bucket}/${key}`);
  return encoded.length <= MAX_NAME ? encoded : `sha256-${createHash('sha256').update(`${bucket}/${key}`).digest('hex')}`;
}

/** The folder must exist. */
async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}
