/**
 * Where a model bundle comes from: a local folder (used as is) or an `s3://bucket/prefix` synced into a local cache
 * folder, so that the engine (`cascade/`, which never imports AWS) always reads a plain folder.
 *
 * Sync rule: list every object under the prefix; download an object when the cached copy is missing or its recorded
 * size/ETag differ (large graphs are streamed to `<file>.part` and renamed, so a crash never leaves a truncated file
 * that looks complete); `.source.json` in the cache folder records what was fetched. Nothing is deleted.
 *
 * @example
 *   const dir = await resolveModelSource('s3://models/stable-cascade-big-fp16/', { cacheDir: '/var/cache/bundles', s3 });
 *   const generator = await createCascadeGenerator({ bundleDir: dir, provider: 'cuda' });
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface ModelSourceOptions {
  /** Cache root for s3:// sources; each source gets `<cacheDir>/<bucket>/<prefix>`. */
  cacheDir: string;
  /** Needed for s3:// sources. */
  s3?: S3Client;
  log?: (message: string) => void;
}

interface CachedObject {
  size: number;
  etag: string;
}

const RECORD = '.source.json';

export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match?.[1]) throw new Error(`model source ${uri} is not of the form s3://bucket/prefix`);
  const prefix = match[2] ?? '';
  return { bucket: match[1], prefix: prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix };
}

/** A local folder holding the bundle (the source itself, or the synced cache of an s3:// source). */
export async function resolveModelSource(source: string, options: ModelSourceOptions): Promise<string> {
  if (!source.startsWith('s3://')) {
    const info = await stat(source).catch(() => undefined);
    if (!info?.isDirectory()) throw new Error(`model source ${source} is not a folder (give a bundle folder or an s3://bucket/prefix)`);
    return source;
  }
  if (!options.s3) throw new Error(`model source ${source} is on S3 but no S3 client was given`);
  return syncS3Bundle(options.s3, source, options);
}

async function listObjects(s3: S3Client, bucket: string, prefix: string): Promise<{ key: string; size: number; etag: string }[]> {
  const objects: { key: string; size: number; etag: string }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const item of page.Contents ?? []) {
      if (item.Key && !item.Key.endsWith('/')) objects.push({ key: item.Key, size: item.Size ?? 0, etag: item.ETag ?? '' });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

async function syncS3Bundle(s3: S3Client, source: string, options: ModelSourceOptions): Promise<string> {
  const { bucket, prefix } = parseS3Uri(source);
  const root = resolve(options.cacheDir, bucket, ...prefix.split('/').filter(Boolean));
  let objects: { key: string; size: number; etag: string }[];
  try {
    objects = await listObjects(s3, bucket, prefix);
  } catch (err) {
    throw new Error(`model source ${source}: cannot list objects: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (!objects.some((o) => o.key === `${prefix}manifest.json`)) {
    throw new Error(`model source ${source} has no manifest.json (found ${objects.length} objects under the prefix)`);
  }
  await mkdir(root, { recursive: true });
  const record: Record<string, CachedObject> = await readFile(join(root, RECORD), 'utf8')
    .then((text) => JSON.parse(text) as Record<string, CachedObject>)
    .catch(() => ({}));
  let fetched = 0;
  for (const object of objects) {
    const name = object.key.slice(prefix.length);
    const target = resolve(root, name);
    if (relative(root, target).startsWith(`..${sep}`) || name === RECORD) throw new Error(`model source ${source}: refusing object key ${object.key}`);
    const cached = record[name];
    const present = await stat(target).then((s) => s.size === object.size).catch(() => false);
    if (present && cached?.etag === object.etag && cached.size === object.size) continue;
    await mkdir(dirname(target), { recursive: true });
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.key }));
    if (!(response.Body instanceof Readable)) throw new Error(`model source ${source}: ${object.key} came back without a readable body`);
    await pipeline(response.Body, createWriteStream(`${target}.part`));
    const size = (await stat(`${target}.part`)).size;
    if (size !== object.size) throw new Error(`model source ${source}: ${object.key} arrived with ${size} bytes, the listing says ${object.size}`);
    await rename(`${target}.part`, target);
    record[name] = { size: object.size, etag: object.etag };
    await writeFile(join(root, RECORD), JSON.stringify(record, null, 1));
    fetched++;
  }
  options.log?.(`model source ${source}: ${fetched} of ${objects.length} files fetched into ${root}`);
  return root;
}
