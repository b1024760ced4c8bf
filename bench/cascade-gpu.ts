/**
 * The 2×2 grid through the cascade engine on a GPU provider: dynamic graphs vs fixed-shape buckets (issue #25).
 *
 *   npm run bench:gpu -- <bundle dir> [--provider webgpu|cuda|cpu] [--modes bucket,dynamic,halves] [--size 1024x1024]
 *                        [--images 4] [--steps C,B] [--out results.json]
 *
 * For each mode the engine (createCascadeGenerator, the runner's own code) opens the bundle through a folder of hard
 * links to its files (beside the bundle, removed after) with its own manifest.json: `dynamic` without any bucket, `bucket` with the buckets of this grid (written
 * first with `npm run model:buckets` logic when the bundle has none). Per mode: engine start (session creation, warm
 * buckets included), a first grid at one step per stage (first-run costs), then a measured grid: per stage the wall time, the time awaiting
 * onnxruntime and its calls, so ms per denoising step and the TypeScript share. `--steps 4,2` runs Stage C / Stage B with
 * fewer steps to fit a time budget; the grid at the manifest's steps is then projected from the per-step figures
 * (labelled as such). Mode `halves`: Stage B under CFG as one call of 2N rows vs two calls of N rows, on buckets.
 * Prints a table (figures and ratios, no assertions) and writes JSON after each mode.
 */
import { link, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gridBucketSpecs, matchBucket, bucketInputShapes, writeBucketGraphs } from '../gpu-runner/cascade/buckets.ts';
import { createCascadeGenerator } from '../gpu-runner/cascade/index.ts';
import { ManifestSchema, type Manifest } from '../gpu-runner/cascade/manifest.ts';
import { ModelSession, PROVIDERS, tensor, type Provider } from '../gpu-runner/cascade/runtime.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    provider: { type: 'string', default: 'webgpu' },
    modes: { type: 'string', default: 'bucket,dynamic' },
    size: { type: 'string', default: '1024x1024' },
    images: { type: 'string', default: '4' },
    steps: { type: 'string' },
    out: { type: 'string' },
  },
});
const bundleDir = positionals[0] ? resolve(positionals[0]) : undefined;
const provider = values.provider as Provider;
const [width, height] = values.size.split('x').map(Number) as [number, number];
const images = Number(values.images);
const modes = values.modes.split(',') as ('bucket' | 'dynamic' | 'halves')[];
if (!bundleDir || !PROVIDERS.includes(provider) || !width || !height || !(images >= 1) || modes.some((m) => !['bucket', 'dynamic', 'halves'].includes(m))) {
  console.error('usage: npm run bench:gpu -- <bundle dir> [--provider webgpu|cuda|cpu] [--modes bucket,dynamic,halves] [--size WxH] [--images N] [--steps C,B] [--out file]');
  process.exit(2);
}
const stepsOverride = values.steps?.split(',').map(Number) as [number, number] | undefined;

type Raw = Record<string, Record<string, unknown>>;
const STAGES = ['text', 'prior', 'decoder', 'vqgan'] as const;
const ORT_STAGE: Record<(typeof STAGES)[number], string> = { text: 'textEncoder', prior: 'prior', decoder: 'decoder', vqgan: 'vqgan' };

async function readManifest(dir: string): Promise<{ raw: Raw; manifest: Manifest }> {
  const raw = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Raw;
  return { raw, manifest: ManifestSchema.parse(raw) };
}

/** Whether every stage of this grid has a bucket for its shapes. */
function hasGridBuckets(m: Manifest): boolean {
  return gridBucketSpecs(m, width, height, images, true)
    .filter((spec) => spec.stage !== 'previewer')
    .every((spec) => matchBucket(m[spec.stage]?.buckets ?? [], bucketInputShapes(m, spec)));
}

/**
 * A folder beside the bundle with hard links to its files (onnxruntime reads external data relative to the graph's own
 * folder, and may refuse a symlink that leads out of it) and `manifest` as its manifest.json.
 */
async function bundleView(manifest: Raw, mode: string): Promise<string> {
  const view = await mkdtemp(`${bundleDir!.replace(/\/+$/, '')}.bench-${mode}-`);
  const linkTree = async (from: string, to: string): Promise<void> => {
    for (const entry of await readdir(from, { withFileTypes: true })) {
      if (from === bundleDir && entry.name === 'manifest.json') continue;
      if (entry.isDirectory()) {
        await mkdir(join(to, entry.name));
        await linkTree(join(from, entry.name), join(to, entry.name));
      } else {
        await link(join(from, entry.name), join(to, entry.name));
      }
    }
  };
  await linkTree(bundleDir!, view);
  await writeFile(join(view, 'manifest.json'), JSON.stringify(manifest));
  return view;
}

interface StageFigures {
  wallMs: number;
  ortMs: number;
  calls: number;
  msPerCall: number;
  tsShare: number;
}

async function runMode(mode: 'bucket' | 'dynamic', official: Manifest): Promise<Record<string, unknown>> {
  const { raw } = await readManifest(bundleDir!);
  for (const section of Object.values(raw)) if (mode === 'dynamic' && section && typeof section === 'object' && 'buckets' in section) section.buckets = [];
  const view = await bundleView(raw, mode);
  try {
    let t0 = performance.now();
    const generator = await createCascadeGenerator({ bundleDir: view, provider, checkHashes: false });
    const createMs = performance.now() - t0;
    const request = { kind: 'imagine' as const, prompt: 'a lighthouse on a cliff at dusk, oil painting', negativePrompt: '', width, height, seeds: Array.from({ length: images }, (_, i) => i + 1), chaos: 0 };
    // The first grid pays each session's first-run costs; one step per stage is enough for that. The engine reads the
    // sampler's steps from the loaded manifest at each request, so the benchmark sets them on that object.
    const samplers = generator.bundle.manifest;
    samplers.prior.sampler.steps = 1;
    samplers.decoder.sampler.steps = 1;
    t0 = performance.now();
    await generator.generate(request);
    const firstGridMs = performance.now() - t0;
    samplers.prior.sampler.steps = stepsOverride?.[0] ?? official.prior.sampler.steps;
    samplers.decoder.sampler.steps = stepsOverride?.[1] ?? official.decoder.sampler.steps;
    const before = generator.sessionStats();
    const out = await generator.generate(request);
    const after = generator.sessionStats();
    const stages: Record<string, StageFigures> = {};
    for (const stage of STAGES) {
      const key = ORT_STAGE[stage];
      const ortMs = (after[key]?.runMs ?? 0) - (before[key]?.runMs ?? 0);
      const calls = (after[key]?.runs ?? 0) - (before[key]?.runs ?? 0);
      const wallMs = out.timings[stage] ?? 0;
      stages[stage] = { wallMs, ortMs, calls, msPerCall: calls ? ortMs / calls : 0, tsShare: wallMs ? (wallMs - ortMs) / wallMs : 0 };
    }
    const gridMs = out.timings.total ?? 0;
    const outside = gridMs - STAGES.reduce((sum, s) => sum + stages[s]!.wallMs, 0);
    const perStep = (s: 'prior' | 'decoder') => stages[s]!.wallMs / Math.max(1, stages[s]!.calls);
    const projectedGridMs = stepsOverride
      ? stages.text!.wallMs + perStep('prior') * official.prior.sampler.steps + perStep('decoder') * official.decoder.sampler.steps + stages.vqgan!.wallMs + outside
      : gridMs;
    const openFiles = generator.openGraphFiles();
    await generator.dispose();
    return { mode, createMs, firstGridMs, gridMs, projectedGridMs, projected: Boolean(stepsOverride), stages, openFiles };
  } finally {
    await rm(view, { recursive: true, force: true });
  }
}

/**
 * Stage B under CFG: one call over [cond; uncond] (2N rows, what the engine does) against two calls of N rows, both on
 * fixed-shape buckets (issue #25 asks whether the halves beat one doubled batch on WebGPU). Sessions opened directly.
 */
async function runHalves(official: Manifest): Promise<Record<string, unknown>> {
  if (official.decoder.sampler.cfg <= 1) return { mode: 'halves', skipped: 'Stage B does not guide in this bundle (cfg ≤ 1)' };
  const geometry = gridBucketSpecs(official, width, height, images, false).find((spec) => spec.stage === 'decoder')!;
  const specs = [images, 2 * images].map((rows) => ({ ...geometry, rows }));
  const { manifest } = await readManifest(bundleDir!);
  const missing = specs.filter((spec) => !matchBucket(manifest.decoder.buckets, bucketInputShapes(manifest, spec)));
  if (missing.length) await writeBucketGraphs(bundleDir!, missing);
  const fresh = (await readManifest(bundleDir!)).manifest;
  const timings: Record<string, unknown> = { mode: 'halves', rows: specs.map((s) => s.rows) };
  for (const spec of specs) {
    const shapes = bucketInputShapes(fresh, spec);
    const bucket = matchBucket(fresh.decoder.buckets, shapes)!;
    let t0 = performance.now();
    const session = await ModelSession.open(join(bundleDir!, bucket.file), { provider, label: bucket.file });
    const createMs = performance.now() - t0;
    const feeds = Object.fromEntries(Object.entries(shapes).map(([name, dims]) => [name, tensor(new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(name === 'timestep_ratio' ? 0.5 : 0.1), dims)]));
    await session.run(feeds);
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      t0 = performance.now();
      await session.run(feeds);
      runs.push(performance.now() - t0);
    }
    await session.release();
    timings[`rows${spec.rows}`] = { file: bucket.file, createMs, msPerCall: runs.reduce((a, b) => a + b, 0) / runs.length, runsMs: runs };
  }
  const half = (timings[`rows${images}`] as { msPerCall: number }).msPerCall;
  const full = (timings[`rows${2 * images}`] as { msPerCall: number }).msPerCall;
  return { ...timings, oneCallMs: full, twoHalvesMs: 2 * half, halvesOverOneCall: (2 * half) / full };
}

function table(results: Record<string, unknown>[]): string {
  const byMode = new Map(results.map((r) => [r.mode as string, r]));
  const fmt = (ms: number | undefined) => (ms === undefined ? '—' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
  const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}×` : '—');
  const rows: [string, (r: Record<string, unknown>) => number | undefined][] = [
    ['engine start (sessions)', (r) => r.createMs as number],
    ['first grid (1 step per stage: first-run costs)', (r) => r.firstGridMs as number],
    ...STAGES.map((s): [string, (r: Record<string, unknown>) => number | undefined] => [`${s}: ms per call (onnxruntime)`, (r) => (r.stages as Record<string, StageFigures>)[s]?.msPerCall]),
    ...STAGES.map((s): [string, (r: Record<string, unknown>) => number | undefined] => [`${s}: stage wall`, (r) => (r.stages as Record<string, StageFigures>)[s]?.wallMs]),
    ['grid (measured, steps run)', (r) => r.gridMs as number],
    [stepsOverride ? 'grid at the manifest steps (PROJECTED)' : 'grid at the manifest steps', (r) => r.projectedGridMs as number],
  ];
  const lines = ['| figure | dynamic | bucket | dynamic ÷ bucket |', '|---|---|---|---|'];
  for (const [label, pick] of rows) {
    const d = byMode.get('dynamic');
    const b = byMode.get('bucket');
    const dv = d ? pick(d) : undefined;
    const bv = b ? pick(b) : undefined;
    lines.push(`| ${label} | ${fmt(dv)} | ${fmt(bv)} | ${ratio(dv, bv)} |`);
  }
  for (const r of results) {
    const st = r.stages as Record<string, StageFigures>;
    lines.push(`\n${r.mode as string}: TypeScript share of stage wall time: ${STAGES.map((s) => `${s} ${(st[s]!.tsShare * 100).toFixed(1)} %`).join(', ')}; open graphs: ${(r.openFiles as string[]).join(', ')}`);
  }
  return lines.join('\n');
}

const { manifest: official } = await readManifest(bundleDir);
if (modes.includes('bucket') && !hasGridBuckets(official)) {
  const written = await writeBucketGraphs(bundleDir, gridBucketSpecs(official, width, height, images, true));
  console.log(`wrote buckets: ${written.map((w) => w.file).join(', ')}`);
}
const results: Record<string, unknown>[] = [];
const header = { provider, bundle: bundleDir, size: `${width}x${height}`, images, steps: stepsOverride ?? [official.prior.sampler.steps, official.decoder.sampler.steps], manifestSteps: [official.prior.sampler.steps, official.decoder.sampler.steps], cfg: [official.prior.sampler.cfg, official.decoder.sampler.cfg] };
console.log(JSON.stringify(header));
for (const mode of modes) {
  try {
    const result = mode === 'halves' ? await runHalves(official) : await runMode(mode, official);
    results.push(result);
    console.log(JSON.stringify(result));
  } catch (err) {
    results.push({ mode, error: err instanceof Error ? err.message : String(err) });
    console.log(`${mode}: FAILED ${String(err)}`);
  }
  if (values.out) await writeFile(values.out, JSON.stringify({ ...header, results }, null, 1));
}
const complete = results.filter((r) => !('error' in r) && r.mode !== 'halves');
if (complete.length) console.log(`\n${table(complete)}`);
const halves = results.find((r) => r.mode === 'halves' && 'twoHalvesMs' in r);
if (halves) {
  const f = (v: unknown) => `${(v as number).toFixed(1)} ms`;
  console.log(`\nStage B under CFG, buckets: one call of ${2 * images} rows ${f(halves.oneCallMs)}, two calls of ${images} rows ${f(halves.twoHalvesMs)} (halves ÷ one call ${(halves.halvesOverOneCall as number).toFixed(2)}×)`);
}
