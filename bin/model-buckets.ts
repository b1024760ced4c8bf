/**
 * Adds fixed-shape graph buckets to a model bundle (gpu-runner/cascade/buckets.ts; issue #25):
 *
 *   npm run model:buckets -- <bundle dir> --grid 1024x1024:4 [--grid WxH:N …] [--bucket prior:2:24x24 …] [--warm]
 *
 * --grid WxH:N     the Stage C, Stage B, Stage A (and previewer) buckets of an N-image request at W×H pixels
 * --bucket S:R:hxw one graph: stage S (prior, decoder, vqgan, previewer, textEncoder) at R rows, its latent h×w
 * --warm           the engine opens these buckets at start and keeps them open (one copy of the weights each)
 *
 * Each bucket is a small .onnx beside its graph that shares the graph's external-data file; manifest.json gets a
 * `buckets` entry (file, sha256, input shapes, warm) per bucket. Run it again with other sizes to add more.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { BUCKET_STAGES, gridBucketSpecs, writeBucketGraphs, type BucketSpec, type BucketStage } from '../gpu-runner/cascade/buckets.ts';
import { ManifestSchema, type Manifest } from '../gpu-runner/cascade/manifest.ts';

const USAGE = 'usage: npm run model:buckets -- <bundle dir> [--grid WxH:N]… [--bucket stage:rows:hxw]… [--warm]\n';

function positiveInt(text: string | undefined, what: string): number {
  const value = Number(text);
  if (!text || !/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) throw new Error(`${what} must be a positive integer, got ${JSON.stringify(text ?? '')}`);
  return value;
}

/** `--grid` / `--bucket` values → bucket specs (duplicates removed, first one kept). */
export function parseBucketArgs(m: Manifest, grids: readonly string[], buckets: readonly string[], warm: boolean): BucketSpec[] {
  const specs: BucketSpec[] = [];
  for (const grid of grids) {
    const match = /^(\d+)x(\d+)(?::(\d+))?$/.exec(grid);
    if (!match) throw new Error(`--grid ${grid}: expected WxH:N, e.g. 1024x1024:4`);
    specs.push(...gridBucketSpecs(m, positiveInt(match[1], '--grid width'), positiveInt(match[2], '--grid height'), positiveInt(match[3] ?? '4', '--grid images'), warm));
  }
  for (const bucket of buckets) {
    const match = /^([A-Za-z]+):(\d+):(\d+)x(\d+)$/.exec(bucket);
    if (!match) throw new Error(`--bucket ${bucket}: expected stage:rows:hxw, e.g. prior:2:24x24`);
    const stage = match[1] as BucketStage;
    if (!BUCKET_STAGES.includes(stage)) throw new Error(`--bucket ${bucket}: stage must be one of ${BUCKET_STAGES.join(', ')}`);
    specs.push({ stage, rows: positiveInt(match[2], '--bucket rows'), height: positiveInt(match[3], '--bucket height'), width: positiveInt(match[4], '--bucket width'), warm });
  }
  const seen = new Set<string>();
  return specs.filter((s) => {
    const key = `${s.stage}:${s.rows}:${s.height}x${s.width}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { grid: { type: 'string', multiple: true, default: [] }, bucket: { type: 'string', multiple: true, default: [] }, warm: { type: 'boolean', default: false } },
  });
  const bundleDir = positionals[0];
  if (!bundleDir || positionals.length > 1 || (values.grid.length === 0 && values.bucket.length === 0)) {
    process.stderr.write(USAGE);
    return 2;
  }
  const manifest = ManifestSchema.parse(JSON.parse(await readFile(join(bundleDir, 'manifest.json'), 'utf8')));
  const specs = parseBucketArgs(manifest, values.grid, values.bucket, values.warm);
  for (const written of await writeBucketGraphs(bundleDir, specs)) {
    const symbols = Object.entries(written.symbols).map(([k, v]) => `${k}=${v}`).join(' ');
    process.stdout.write(`${written.stage.padEnd(11)} ${written.file} (${(written.bytes / 1e6).toFixed(2)} MB; ${symbols})\n`);
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
