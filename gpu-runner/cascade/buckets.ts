/**
 * Fixed-shape graph buckets (issue #25): for a (rows, latent height, latent width) that the bot requests often, a copy
 * of a stage's graph with every symbolic dim fixed (onnx-dims.ts), written next to the dynamic graph so that it shares
 * its external-data file, and declared in the manifest (`<stage>.buckets`, manifest.ts). The engine runs a bucket
 * when a call's feed shapes equal the bucket's `inputs` exactly (`matchBucket`) and the dynamic graph otherwise.
 *
 *   npm run model:buckets -- <bundle dir> --grid 1024x1024:4 [--grid 1024x1536:4] [--bucket prior:2:24x24] [--warm]
 *
 * `--grid WxH:N` adds the buckets an N-image request at W×H uses: Stage C at 2N rows when its sampler guides (CFG > 1),
 * Stage B likewise, Stage A at N rows, and the previewer at N rows when the bundle has one.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative } from 'node:path';
import { sha256File } from './bundle.ts';
import { ManifestSchema, type GraphBucket, type Manifest } from './manifest.ts';
import { fixSymbolicDims, graphInputShapes } from './onnx-dims.ts';
import { isGuided } from './stages/denoise.ts';
import { latentGeometry } from './stages/geometry.ts';

/** The stages whose graphs can have buckets: the per-step and per-image graphs (encoders run once per request). */
export const BUCKET_STAGES = ['prior', 'decoder', 'vqgan', 'previewer', 'textEncoder'] as const;
export type BucketStage = (typeof BUCKET_STAGES)[number];

export interface BucketSpec {
  stage: BucketStage;
  /** Rows fed to the graph in one call (images, doubled when the stage's sampler guides). */
  rows: number;
  /** The stage's own latent size (Stage C latent for the prior and previewer, Stage B latent for decoder and VQGAN). */
  height: number;
  width: number;
  warm: boolean;
}

/** Every input's dims when `stage` runs `rows` rows at latent height × width, as the engine's stages build them. */
export function bucketInputShapes(m: Manifest, spec: Pick<BucketSpec, 'stage' | 'rows' | 'height' | 'width'>): Record<string, number[]> {
  const { rows, height, width } = spec;
  const g = m.geometry;
  const te = m.textEncoder;
  switch (spec.stage) {
    case 'prior': {
      const p = m.prior.inputs;
      return {
        [p.sample]: [rows, g.priorChannels, height, width],
        [p.timestepRatio]: [rows],
        [p.clipTextPooled]: [rows, 1, te.pooledSize],
        [p.clipText]: [rows, m.tokenizer.maxLength, te.hiddenSize],
        // One clip_img group: no image prompt (zeros) or one image prompt; more groups use the dynamic graph.
        [p.clipImg]: [rows, 1, m.prior.clipImageSize],
      };
    }
    case 'decoder': {
      const d = m.decoder.inputs;
      // The Stage C latent of the same picture (the upscale path decodes onto a larger canvas and is not bucketed).
      const picture = latentGeometry(m, width * g.decoderCompression, height * g.decoderCompression);
      return {
        [d.sample]: [rows, g.decoderChannels, height, width],
        [d.timestepRatio]: [rows],
        [d.clipTextPooled]: [rows, 1, te.pooledSize],
        [d.effnet]: [rows, g.priorChannels, picture.hC, picture.wC],
      };
    }
    case 'vqgan':
      return { [m.vqgan.input]: [rows, g.decoderChannels, height, width] };
    case 'previewer':
      if (!m.previewer) throw new Error('this bundle has no previewer');
      return { [m.previewer.input]: [rows, g.priorChannels, height, width] };
    case 'textEncoder':
      return { [te.inputs.inputIds]: [rows, m.tokenizer.maxLength], [te.inputs.attentionMask]: [rows, m.tokenizer.maxLength] };
  }
}

/** The buckets an `images`-image request at width × height uses (see the module comment). */
export function gridBucketSpecs(m: Manifest, width: number, height: number, images: number, warm: boolean): BucketSpec[] {
  const geometry = latentGeometry(m, width, height);
  // The stages double their rows exactly when they guide (denoise.ts isGuided).
  const guided = (cfg: number) => (isGuided(cfg) ? 2 : 1);
  const specs: BucketSpec[] = [
    { stage: 'prior', rows: images * guided(m.prior.sampler.cfg), height: geometry.hC, width: geometry.wC, warm },
    { stage: 'decoder', rows: images * guided(m.decoder.sampler.cfg), height: geometry.hB, width: geometry.wB, warm },
    { stage: 'vqgan', rows: images, height: geometry.hB, width: geometry.wB, warm },
  ];
  if (m.previewer) specs.push({ stage: 'previewer', rows: images, height: geometry.hC, width: geometry.wC, warm });
  return specs;
}

/**
 * Symbol → size for a graph's inputs (dims as numbers or symbol names) at `shapes`. Throws when a fixed dim or a
 * symbol seen twice disagrees with the shapes, or an input is missing.
 */
export function bindSymbols(graphInputs: ReadonlyMap<string, readonly (number | string | null)[]>, shapes: Readonly<Record<string, readonly number[]>>): Record<string, number> {
  const bound: Record<string, number> = {};
  const problems: string[] = [];
  for (const [name, dims] of graphInputs) {
    const shape = shapes[name];
    if (!shape) {
      problems.push(`no shape for input ${name}`);
      continue;
    }
    if (shape.length !== dims.length) {
      problems.push(`input ${name} has rank ${dims.length} [${dims.join(', ')}], the bucket gives [${shape.join(', ')}]`);
      continue;
    }
    dims.forEach((dim, axis) => {
      const size = shape[axis]!;
      if (typeof dim === 'number' && dim !== size) problems.push(`input ${name} axis ${axis} is fixed at ${dim}, the bucket gives ${size}`);
      if (typeof dim !== 'string') return;
      if (bound[dim] !== undefined && bound[dim] !== size) problems.push(`symbol ${dim} would be both ${bound[dim]} and ${size} (input ${name} axis ${axis})`);
      else bound[dim] = size;
    });
  }
  for (const name of Object.keys(shapes)) if (!graphInputs.has(name)) problems.push(`the graph has no input ${name}`);
  if (problems.length) throw new Error(problems.join('; '));
  return bound;
}

/** `prior.onnx` + rows 2 at 24×24 → `prior.b2-24x24.onnx` (same folder: external data paths stay valid). */
export function bucketFileName(graphFile: string, spec: Pick<BucketSpec, 'rows' | 'height' | 'width'>): string {
  const ext = extname(graphFile);
  return join(dirname(graphFile), `${basename(graphFile, ext)}.b${spec.rows}-${spec.height}x${spec.width}${ext}`);
}

export interface WrittenBucket {
  stage: BucketStage;
  file: string;
  bytes: number;
  symbols: Record<string, number>;
}

/**
 * Writes each spec's fixed-shape graph into the bundle and adds it to manifest.json (replacing an entry with the same
 * file). The manifest is rewritten once, after every graph was written, through a temporary file and a rename.
 */
export async function writeBucketGraphs(bundleDir: string, specs: readonly BucketSpec[]): Promise<WrittenBucket[]> {
  const manifestPath = join(bundleDir, 'manifest.json');
  const raw = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, Record<string, unknown> | undefined>;
  const manifest = ManifestSchema.parse(raw);
  const written: WrittenBucket[] = [];
  const graphBytes = new Map<string, Uint8Array>();
  for (const spec of specs) {
    const graph = manifest[spec.stage];
    const section = raw[spec.stage];
    if (!graph || !section) throw new Error(`${bundleDir}: the bundle has no ${spec.stage} graph`);
    let bytes = graphBytes.get(graph.file);
    if (!bytes) {
      bytes = await readFile(join(bundleDir, graph.file));
      graphBytes.set(graph.file, bytes);
    }
    const inputs = bucketInputShapes(manifest, spec);
    let symbols: Record<string, number>;
    try {
      symbols = bindSymbols(graphInputShapes(bytes), inputs);
    } catch (err) {
      throw new Error(`${spec.stage} (${graph.file}) at ${spec.rows} rows, ${spec.height}×${spec.width}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const result = fixSymbolicDims(bytes, symbols);
    const unfixedInputs = result.remaining.filter((use) => use.kind === 'input');
    if (unfixedInputs.length) throw new Error(`${spec.stage}: inputs still symbolic after the rewrite: ${unfixedInputs.map((u) => `${u.value}[${u.axis}]=${u.symbol}`).join(', ')}`);
    const file = bucketFileName(graph.file, spec);
    const target = join(bundleDir, file);
    await writeFile(`${target}.tmp`, result.bytes);
    await rename(`${target}.tmp`, target);
    const entry: GraphBucket = { file: relative(bundleDir, target), sha256: await sha256File(target), inputs, warm: spec.warm };
    const buckets = (Array.isArray(section.buckets) ? section.buckets : []) as GraphBucket[];
    section.buckets = [...buckets.filter((b) => b.file !== entry.file), entry];
    written.push({ stage: spec.stage, file: entry.file, bytes: result.bytes.length, symbols });
  }
  ManifestSchema.parse(raw); // what we write must load
  await writeFile(`${manifestPath}.tmp`, `${JSON.stringify(raw, null, 2)}\n`);
  await rename(`${manifestPath}.tmp`, manifestPath);
  return written;
}

/** The bucket whose input shapes equal the feeds' shapes exactly, if any. */
export function matchBucket<B extends Pick<GraphBucket, 'inputs'>>(buckets: readonly B[], feedDims: Readonly<Record<string, readonly number[]>>): B | undefined {
  const names = Object.keys(feedDims);
  return buckets.find((bucket) => {
    const declared = Object.keys(bucket.inputs);
    if (declared.length !== names.length) return false;
    return names.every((name) => {
      const want = bucket.inputs[name];
      const got = feedDims[name]!;
      return want !== undefined && want.length === got.length && want.every((d, i) => d === got[i]);
    });
  });
}
