/**
 * Loading a model bundle (a folder with manifest.json and the files it names) and rejecting a bad one at load time,
 * with a message that says what is wrong, instead of a crash in the middle of a job:
 * - manifest.json missing, not JSON, or not matching `ManifestSchema` (each problem with its path);
 * - a named file missing (graphs, external data, tokenizer files) or, when the manifest gives one, a wrong sha256;
 * - a graph whose input/output names or element types differ from what the manifest promises (`checkGraphIo`,
 *   expected vs actual for each).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CodedError, UnsupportedRequestError } from '../../core/errors.ts';
import { ManifestSchema, type Manifest } from './manifest.ts';
import type { ValueInfo } from './runtime.ts';

/** A model bundle that cannot be served, with every problem found (the runner refuses to start on it). */
export class BundleError extends CodedError<'invalid_bundle'> {
  readonly bundleDir: string;
  readonly problems: readonly string[];
  constructor(
    bundleDir: string,
    problems: readonly string[],
  ) {
    super('invalid_bundle', `model bundle ${bundleDir} is not usable:\n  - ${problems.join('\n  - ')}`, { bundleDir, problems: problems.length });
    this.bundleDir = bundleDir;
    this.problems = problems;
  }
}

export type GraphStage = 'textEncoder' | 'prior' | 'decoder' | 'vqgan' | 'previewer' | 'imageEncoder' | 'effnetEncoder';
export const GRAPH_STAGES: readonly GraphStage[] = ['textEncoder', 'prior', 'decoder', 'vqgan', 'previewer', 'imageEncoder', 'effnetEncoder'];
/** Graphs a bundle may leave out; requests that need one are refused by name (`MissingGraphError`). */
export const OPTIONAL_STAGES: ReadonlySet<GraphStage> = new Set(['previewer', 'imageEncoder', 'effnetEncoder']);

/** The file name each optional graph has in a bundle (for messages that name what a bundle lacks). */
export const OPTIONAL_GRAPH_FILES = {
  previewer: 'previewer.onnx',
  imageEncoder: 'image_encoder.onnx',
  effnetEncoder: 'effnet_encoder.onnx',
} as const;

/** A request needs a graph this bundle does not have (e.g. an image prompt on a model without an image encoder). */
export class MissingGraphError extends UnsupportedRequestError {
  readonly stage: keyof typeof OPTIONAL_GRAPH_FILES;
  readonly modelName: string;
  readonly purpose: string;
  constructor(
    stage: keyof typeof OPTIONAL_GRAPH_FILES,
    modelName: string,
    purpose: string,
  ) {
    super(`The model ${modelName} cannot take ${purpose}: it has no ${OPTIONAL_GRAPH_FILES[stage]} (manifest section ${stage}).`, { stage, modelName });
    this.stage = stage;
    this.modelName = modelName;
    this.purpose = purpose;
  }
}

export interface LoadedBundle {
  readonly dir: string;
  readonly manifest: Manifest;
  /** Absolute path of a file named in the manifest. */
  path(relative: string): string;
}

export interface LoadOptions {
  /** Hash every graph that has a sha256 in the manifest (reads whole files: seconds for GB-sized graphs). Default true. */
  checkHashes?: boolean;
}

export async function loadBundle(dir: string, options: LoadOptions = {}): Promise<LoadedBundle> {
  const manifestPath = join(dir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch {
    throw new BundleError(dir, [`manifest.json not found (looked for ${manifestPath})`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new BundleError(dir, [`manifest.json is not valid JSON: ${err instanceof Error ? err.message : String(err)}`]);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new BundleError(
      dir,
      parsed.error.issues.map((issue) => `manifest.json ${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`),
    );
  }
  const manifest = parsed.data;
  const problems = [...checkConsistency(manifest), ...(await checkFiles(dir, manifest, options.checkHashes ?? true))];
  if (problems.length) throw new BundleError(dir, problems);
  return { dir, manifest, path: (relative) => join(dir, relative) };
}

function checkConsistency(m: Manifest): string[] {
  const problems: string[] = [];
  const { resolution: r, geometry: g } = m;
  if (r.min > r.max) problems.push(`resolution.min ${r.min} is above resolution.max ${r.max}`);
  if (r.base < r.min || r.base > r.max) problems.push(`resolution.base ${r.base} is outside [${r.min}, ${r.max}]`);
  if (r.base % r.multiple) problems.push(`resolution.base ${r.base} is not a multiple of resolution.multiple ${r.multiple}`);
  // Stage B's skips need latents that are multiples of 16 (spec §1.2 / §5.3).
  if ((r.multiple / g.decoderCompression) % 16) {
    problems.push(`resolution.multiple ${r.multiple} / decoderCompression ${g.decoderCompression} must be a multiple of 16 (Stage B latent alignment)`);
  }
  if (m.imageEncoder && m.imageEncoder.embedSize !== m.prior.clipImageSize) {
    problems.push(`imageEncoder.embedSize ${m.imageEncoder.embedSize} differs from prior.clipImageSize ${m.prior.clipImageSize} (the embeddings feed clip_img)`);
  }
  for (const stage of GRAPH_STAGES) {
    const seen = new Map<string, number>();
    m[stage]?.buckets.forEach((bucket, i) => {
      const key = JSON.stringify(Object.entries(bucket.inputs).sort(([a], [b]) => a.localeCompare(b)));
      const earlier = seen.get(key);
      if (earlier !== undefined) problems.push(`${stage}.buckets[${i}] has the same input shapes as ${stage}.buckets[${earlier}]`);
      else seen.set(key, i);
    });
  }
  if (m.effnetEncoder && m.effnetEncoder.channels !== g.priorChannels) {
    problems.push(`effnetEncoder.channels ${m.effnetEncoder.channels} differs from geometry.priorChannels ${g.priorChannels} (its output is a Stage C latent)`);
  }
  return problems;
}

function namedFiles(m: Manifest): { what: string; file: string; sha256?: string }[] {
  const files: { what: string; file: string; sha256?: string }[] = [
    { what: 'tokenizer.vocab', file: m.tokenizer.vocab },
    { what: 'tokenizer.merges', file: m.tokenizer.merges },
  ];
  for (const stage of GRAPH_STAGES) {
    const graph = m[stage];
    if (!graph) continue;
    files.push({ what: `${stage}.file`, file: graph.file, ...(graph.sha256 ? { sha256: graph.sha256 } : {}) });
    graph.externalData.forEach((file, i) => files.push({ what: `${stage}.externalData[${i}]`, file }));
    graph.buckets.forEach((bucket, i) => files.push({ what: `${stage}.buckets[${i}].file`, file: bucket.file, ...(bucket.sha256 ? { sha256: bucket.sha256 } : {}) }));
  }
  return files;
}

async function checkFiles(dir: string, m: Manifest, checkHashes: boolean): Promise<string[]> {
  const problems: string[] = [];
  for (const { what, file, sha256 } of namedFiles(m)) {
    const full = join(dir, file);
    const info = await stat(full).catch(() => undefined);
    if (!info?.isFile()) {
      problems.push(`${what}: file ${file} is missing`);
      continue;
    }
    if (sha256 && checkHashes) {
      const actual = await sha256File(full);
      if (actual !== sha256) problems.push(`${what}: ${file} has sha256 ${actual}, the manifest expects ${sha256}`);
    }
  }
  return problems;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Names and element types a stage's graph must have, per the manifest (timestep_ratio is always float32). */
export function expectedGraphIo(m: Manifest, stage: GraphStage): { inputs: Map<string, string>; outputs: Map<string, string> } {
  const inputs = new Map<string, string>();
  const outputs = new Map<string, string>();
  switch (stage) {
    case 'textEncoder': {
      const te = m.textEncoder;
      inputs.set(te.inputs.inputIds, 'int64').set(te.inputs.attentionMask, 'int64');
      outputs.set(te.outputs.pooled, te.dtype).set(te.outputs.hidden, te.dtype);
      break;
    }
    case 'prior': {
      const p = m.prior;
      for (const name of [p.inputs.sample, p.inputs.clipTextPooled, p.inputs.clipText, p.inputs.clipImg]) inputs.set(name, p.dtype);
      inputs.set(p.inputs.timestepRatio, 'float32');
      outputs.set(p.output, p.dtype);
      break;
    }
    case 'decoder': {
      const d = m.decoder;
      for (const name of [d.inputs.sample, d.inputs.clipTextPooled, d.inputs.effnet]) inputs.set(name, d.dtype);
      inputs.set(d.inputs.timestepRatio, 'float32');
      outputs.set(d.output, d.dtype);
      break;
    }
    case 'vqgan':
      inputs.set(m.vqgan.input, m.vqgan.dtype);
      outputs.set(m.vqgan.output, m.vqgan.dtype);
      break;
    case 'previewer':
    case 'imageEncoder':
    case 'effnetEncoder': {
      const graph = m[stage];
      if (!graph) throw new Error(`expectedGraphIo: this bundle has no ${stage}`);
      inputs.set(graph.input, graph.dtype);
      outputs.set(graph.output, graph.dtype);
      break;
    }
  }
  return { inputs, outputs };
}

/** Problems (empty when fine) between a graph's actual I/O and the manifest's promise for `stage`. */
export function graphIoProblems(m: Manifest, stage: GraphStage, actual: { inputs: readonly ValueInfo[]; outputs: readonly ValueInfo[] }): string[] {
  const expected = expectedGraphIo(m, stage);
  const problems: string[] = [];
  const compare = (kind: 'input' | 'output', want: Map<string, string>, got: readonly ValueInfo[]) => {
    const gotByName = new Map(got.map((v) => [v.name, v.type]));
    for (const [name, type] of want) {
      const actualType = gotByName.get(name);
      if (actualType === undefined) problems.push(`${stage}: ${kind} ${name} (${type}) expected, the graph has ${kind}s ${[...gotByName.keys()].join(', ') || 'none'}`);
      else if (actualType !== type) problems.push(`${stage}: ${kind} ${name} expected ${type}, the graph has ${actualType}`);
    }
    for (const name of gotByName.keys()) {
      if (!want.has(name)) problems.push(`${stage}: the graph has an unexpected ${kind} ${name} (${gotByName.get(name)})`);
    }
  };
  compare('input', expected.inputs, actual.inputs);
  compare('output', expected.outputs, actual.outputs);
  if (stage === 'imageEncoder' || stage === 'effnetEncoder') problems.push(...encoderShapeProblems(m, stage, actual));
  return problems;
}

/**
 * A prior graph whose clip_img group axis is fixed must say so (prior.clipImageGroups), or a blend would fail inside
 * onnxruntime. For the stage's own graph only: its fixed-shape buckets take one group by design (buckets.ts).
 */
export function clipImageGroupProblems(m: Manifest, actual: { inputs: readonly ValueInfo[] }): string[] {
  const groups = actual.inputs.find((v) => v.name === m.prior.inputs.clipImg)?.shape[1];
  if (typeof groups !== 'number' || groups === m.prior.clipImageGroups) return [];
  return groups === 1
    ? [`prior: input ${m.prior.inputs.clipImg} takes exactly 1 group; declare "clipImageGroups": 1 in the manifest's prior (several pictures are then summed into it)`]
    : [`prior: input ${m.prior.inputs.clipImg} has a fixed group axis of ${groups}; only a dynamic axis or exactly 1 is supported`];
}

/**
 * The encoders' shapes as the manifest promises them: fixed dims (numbers) must match, symbolic ones (strings) may be
 * anything. Image encoder [B, 3, size, size] → [B, embedSize]; EfficientNet [B, 3, H, W] → [B, channels, h, w].
 */
function encoderShapeProblems(m: Manifest, stage: 'imageEncoder' | 'effnetEncoder', actual: { inputs: readonly ValueInfo[]; outputs: readonly ValueInfo[] }): string[] {
  const graph = m[stage];
  if (!graph) return [];
  const wanted =
    stage === 'imageEncoder'
      ? { input: [null, 3, m.imageEncoder!.size, m.imageEncoder!.size], output: [null, m.imageEncoder!.embedSize] }
      : { input: [null, 3, null, null], output: [null, m.effnetEncoder!.channels, null, null] };
  const problems: string[] = [];
  const check = (kind: 'input' | 'output', info: ValueInfo | undefined, want: readonly (number | null)[]) => {
    if (!info) return; // a missing name is already reported
    const fits = info.shape.length === want.length && want.every((dim, i) => dim === null || typeof info.shape[i] !== 'number' || info.shape[i] === dim);
    if (!fits) {
      problems.push(`${stage}: ${kind} ${info.name} has shape [${info.shape.join(', ')}], the manifest implies [${want.map((d) => d ?? '?').join(', ')}]`);
    }
  };
  check('input', actual.inputs.find((v) => v.name === graph.input), wanted.input);
  check('output', actual.outputs.find((v) => v.name === graph.output), wanted.output);
  return problems;
}

export function checkGraphIo(bundle: LoadedBundle, stage: GraphStage, actual: { inputs: readonly ValueInfo[]; outputs: readonly ValueInfo[] }): void {
  const problems = graphIoProblems(bundle.manifest, stage, actual);
  if (problems.length) throw new BundleError(bundle.dir, problems);
}
