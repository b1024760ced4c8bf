/**
 * The only module that imports onnxruntime-node. Everything else in the engine speaks our small `Tensor` type
 * (dims, element type, typed array), so the runtime can be swapped or mocked in one place.
 *
 * - `ModelSession.open(path, { provider })` creates a session on `cpu`, `cuda` or `webgpu` (no silent fallback: a
 *   provider that this install lacks is a `ProviderUnavailableError` saying how to get it, `providerSupport`; one that
 *   cannot start is an error naming it).
 * - `session.run(feeds, into?)` checks the feeds against the graph's input names and element types first, and when
 *   onnxruntime fails it reports each input's name, dtype and dims. `into` lends pre-allocated output tensors, so a
 *   denoising loop allocates nothing per step.
 * - float16 tensors travel as Uint16Array (the binding cannot read a Float16Array, see keepFloat16AsUint16):
 *   `toFloat16` / `fromFloat16` convert.
 *
 * Pattern after transformers.js `src/models/session.js` (sessionRun / validateInputs):
 * https://github.com/huggingface/transformers.js/blob/5ed4c5c/packages/transformers/src/models/session.js
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';

/**
 * onnxruntime-common picks float16's array type once, at the first Tensor it builds: Float16Array where the runtime
 * has one (Node 24), which onnxruntime-node 1.30's binding reads as 0 bytes ("not enough space: expected N, got 0";
 * microsoft/onnxruntime#32323, open). Building that first tensor with Float16Array hidden keeps float16 data in
 * Uint16Array, which the binding reads, on every Node version.
 */
function keepFloat16AsUint16(): void {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'Float16Array');
  if (!descriptor) return;
  Reflect.deleteProperty(globalThis, 'Float16Array');
  try {
    new ort.Tensor('float32', new Float32Array(1), [1]);
  } finally {
    Object.defineProperty(globalThis, 'Float16Array', descriptor);
  }
}
keepFloat16AsUint16();

export type Provider = 'cpu' | 'cuda' | 'webgpu';
export const PROVIDERS: readonly Provider[] = ['cpu', 'cuda', 'webgpu'];

export type ElementType = 'float32' | 'float16' | 'int64';
export type TensorData = Float32Array | Uint16Array | BigInt64Array;

export interface Tensor {
  readonly type: ElementType;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((product, d) => product * d, 1);
}

/** A tensor over `data` (no copy); the element type follows the array (Uint16Array = float16). */
export function tensor(data: TensorData, dims: readonly number[]): Tensor {
  const type: ElementType = data instanceof Float32Array ? 'float32' : data instanceof Uint16Array ? 'float16' : 'int64';
  if (data.length !== elementCount(dims)) {
    throw new Error(`tensor: ${data.length} values do not fill dims [${dims.join(', ')}] (${elementCount(dims)} values)`);
  }
  return { type, dims: [...dims], data };
}

export function describeTensor(name: string, t: Pick<Tensor, 'type' | 'dims'>): string {
  return `${name}: ${t.type} [${t.dims.join(', ')}]`;
}

// ---- float16 <-> float32 (IEEE 754 binary16, round to nearest even) ----
/** binary16 bits of the float32 with bits `x` (integer work only: no float round trip per value). */
function halfBits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // inf / nan
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && (half & 1)) ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // Carry from rounding may bump the exponent (and reach inf), which is the correct result.
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1)) ? 1 : 0));
}

const HALF_TO_FLOAT = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    table[h] =
      exponent === 0
        ? sign * mantissa * 2 ** -24
        : exponent === 0x1f
          ? mantissa
            ? Number.NaN
            : sign * Number.POSITIVE_INFINITY
          : sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return table;
})();

export function toFloat16(src: Float32Array, out: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  if (out.length !== src.length) throw new Error(`toFloat16: ${src.length} values into ${out.length}`);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfBits(bits[i]!);
  return out;
}

export function fromFloat16(src: Uint16Array, out: Float32Array = new Float32Array(src.length)): Float32Array {
  if (out.length !== src.length) throw new Error(`fromFloat16: ${src.length} values into ${out.length}`);
  for (let i = 0; i < src.length; i++) out[i] = HALF_TO_FLOAT[src[i]!]!;
  return out;
}

// ---- execution providers ----
/** Shared libraries a provider needs next to the binding when onnxruntime-node does not bundle it (see its install script). */
const PROVIDER_LIBRARIES: Partial<Record<Provider, string>> = { cuda: 'libonnxruntime_providers_cuda.so' };

export interface ProviderSupport {
  provider: Provider;
  available: boolean;
  /** Why not, and how to get it (empty when available). */
  detail: string;
}

/**
 * Whether this onnxruntime-node install can start `provider`: the binding must list it, and a provider it does not
 * bundle (CUDA: downloaded from NuGet at install time, which this repository's .npmrc skips) must have its library
 * beside the binding. Missing CUDA/cuDNN system libraries still only show when a session opens (see `open`).
 */
export function providerSupport(provider: Provider): ProviderSupport {
  const listed = ort.listSupportedBackends();
  const entry = listed.find((b) => b.name === provider);
  if (!entry) {
    return { provider, available: false, detail: `this onnxruntime-node build has no ${provider} execution provider (it has ${listed.map((b) => b.name).join(', ')})` };
  }
  const library = PROVIDER_LIBRARIES[provider];
  if (entry.bundled || !library) return { provider, available: true, detail: '' };
  const bindingDir = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  if (existsSync(join(bindingDir, library))) return { provider, available: true, detail: '' };
  return {
    provider,
    available: false,
    detail:
      `onnxruntime-node's ${provider} provider is not installed (${library} is missing from ${bindingDir}): ` +
      `reinstall it with ONNXRUNTIME_NODE_INSTALL=true npm install onnxruntime-node, as gpu-runner/Dockerfile does, on a host with CUDA 12 and cuDNN 9`,
  };
}

/** Throws a `ProviderUnavailableError` naming what is missing, once per provider and process. */
export function requireProvider(provider: Provider): void {
  if (checkedProviders.has(provider)) return;
  const support = providerSupport(provider);
  if (!support.available) throw new ProviderUnavailableError(support);
  checkedProviders.add(provider);
}
const checkedProviders = new Set<Provider>();

export class ProviderUnavailableError extends Error {
  override readonly name = 'ProviderUnavailableError';
  readonly support: ProviderSupport;
  constructor(support: ProviderSupport) {
    super(`execution provider ${support.provider} is not available: ${support.detail}`);
    this.support = support;
  }
}

// ---- sessions ----
export interface ValueInfo {
  name: string;
  /** onnxruntime's element type name (`float32`, `float16`, `int64`, …). */
  type: string;
  /** Numbers for fixed sizes, strings for symbolic ones. */
  shape: readonly (number | string)[];
}

export interface OpenOptions {
  provider: Provider;
  /** Shown in errors ("prior", "decoder", …). */
  label?: string;
  /** Write onnxruntime's per-node profile (JSON) with this file prefix; it is flushed when the session is released. */
  profileFilePrefix?: string;
  /** CPU provider: onnxruntime's intra-op threads for this session (default: one per core). Ignored by GPU providers. */
  cpuThreads?: number;
}

function valueInfo(meta: readonly ort.InferenceSession.ValueMetadata[]): ValueInfo[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] }));
}

export class ModelSession {
  /** Calls to onnxruntime and the time spent awaiting them (for the TS-overhead benchmark). */
  readonly stats = { runs: 0, runMs: 0 };
  private session: ort.InferenceSession | undefined;
  readonly label: string;
  readonly path: string;
  readonly provider: Provider;
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];

  private constructor(
    session: ort.InferenceSession | undefined,
    label: string,
    path: string,
    provider: Provider,
    inputs: readonly ValueInfo[],
    outputs: readonly ValueInfo[],
  ) {
    this.session = session;
    this.label = label;
    this.path = path;
    this.provider = provider;
    this.inputs = inputs;
    this.outputs = outputs;
  }

  static async open(path: string, options: OpenOptions): Promise<ModelSession> {
    const label = options.label ?? path;
    requireProvider(options.provider);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(path, {
        executionProviders: [options.provider],
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
        // CPU: onnxruntime's pool threads otherwise spin after each run and take the cores from the process around it
        // (on npm start's 2 cores, the post-model tail and the other process): off, the demo model's jobs ran 5–10 % faster
        // end to end and the time outside the model fell, with the grid alone unchanged (bench/e2e-latency.ts, bench/demo-quality.ts).
        ...(options.provider === 'cpu' && options.cpuThreads ? { intraOpNumThreads: options.cpuThreads } : {}),
        ...(options.provider === 'cpu' ? { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } } : {}),
        ...(options.profileFilePrefix ? { enableProfiling: true, profileFilePrefix: options.profileFilePrefix } : {}),
      });
    } catch (err) {
      const hint = options.provider === 'cuda' ? ' (the CUDA provider needs the CUDA 12 and cuDNN 9 libraries on the library path: gpu-runner/Dockerfile)' : '';
      throw new Error(`${label}: cannot open ${path} with the ${options.provider} execution provider: ${errorText(err)}${hint}`, { cause: err });
    }
    return new ModelSession(session, label, path, options.provider, valueInfo(session.inputMetadata), valueInfo(session.outputMetadata));
  }

  get released(): boolean {
    return this.session === undefined;
  }

  /**
   * Runs the graph. `into` maps output names to pre-allocated tensors that onnxruntime writes (their arrays are
   * returned); other outputs are allocated by onnxruntime.
   */
  async run(feeds: Readonly<Record<string, Tensor>>, into: Readonly<Record<string, Tensor>> = {}): Promise<Record<string, Tensor>> {
    const session = this.session;
    if (!session) throw new Error(`${this.label}: session was released`);
    this.checkFeeds(feeds);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.type, t.data, t.dims);
    const fetches: Record<string, ort.Tensor | null> = {};
    for (const out of this.outputs) {
      const lent = into[out.name];
      fetches[out.name] = lent ? new ort.Tensor(lent.type, lent.data, lent.dims) : null;
    }
    let results: ort.InferenceSession.ReturnType;
    const started = performance.now();
    try {
      results = await session.run(ortFeeds, fetches);
      this.stats.runs++;
      this.stats.runMs += performance.now() - started;
    } catch (err) {
      const described = Object.entries(feeds).map(([name, t]) => describeTensor(name, t));
      throw new Error(`${this.label}: onnxruntime failed (${errorText(err)}); inputs were ${described.join('; ')}`, { cause: err });
    }
    const out: Record<string, Tensor> = {};
    for (const info of this.outputs) {
      const lent = into[info.name];
      if (lent) {
        out[info.name] = lent;
        continue;
      }
      const value = results[info.name];
      if (!value) throw new Error(`${this.label}: output ${info.name} missing from onnxruntime's results`);
      out[info.name] = tensor(value.data as TensorData, value.dims);
    }
    return out;
  }

  private checkFeeds(feeds: Readonly<Record<string, Tensor>>): void {
    const problems: string[] = [];
    const expected = new Map(this.inputs.map((i) => [i.name, i]));
    for (const info of this.inputs) {
      const fed = feeds[info.name];
      if (!fed) problems.push(`missing input ${info.name} (${info.type})`);
      else if (fed.type !== info.type) problems.push(`input ${info.name} must be ${info.type}, got ${fed.type}`);
      else if (fed.dims.length !== info.shape.length) problems.push(`input ${info.name} must have rank ${info.shape.length} [${info.shape.join(', ')}], got [${fed.dims.join(', ')}]`);
    }
    for (const name of Object.keys(feeds)) if (!expected.has(name)) problems.push(`unexpected input ${name} (the graph takes ${[...expected.keys()].join(', ')})`);
    if (problems.length) {
      const described = Object.entries(feeds).map(([name, t]) => describeTensor(name, t));
      throw new Error(`${this.label}: bad feeds: ${problems.join('; ')}. Fed ${described.join('; ')}`);
    }
  }

  async release(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session) await session.release();
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
