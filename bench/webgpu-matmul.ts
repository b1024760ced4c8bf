/**
 * fp16/fp32 MatMul and Gemm at Stage C's shapes through onnxruntime-node, per graph form and WebGPU provider option (issue #25).
 *
 *   node bench/webgpu-matmul.ts [--provider webgpu|cpu] [--quick] [--json out.json] [--budget 60] [--runs 10] [--only REGEX]
 *   (on the GPU machine: node webgpu-matmul.mjs …, bundled by tools/export/pack_gpu_bench.sh; run by gpu_measure.sh)
 *
 * Each case is a tiny graph built in memory (bench/support/onnx-graph.ts) with random weights as initializers:
 *  - mlp-B{2,8}: Stage C's channel MLP, x [B·576, 2048] → (2048→8192, 8192→2048) × 2 layers = 4 matmuls per run, so
 *    that the 2048-wide input and output (uploaded and read back each run) are small next to the work; the weights
 *    are shared by the two layers (one 2048×8192 and one 8192×2048 tensor);
 *    forms: gemm (Gemm transB=1 + bias, as the exported nn.Linear), gemm-kn (Gemm transB=0, weight [K,N]),
 *    matmul (MatMul, weight [K,N], no bias), matmul-add (MatMul + Add), matmul-3d (x [B,576,2048], MatMul + Add: the
 *    exporter's Linear on a 3-D input), matmul-nk (MatMul of x by Transpose(weight [N,K]), folded or not by onnxruntime),
 *    nbits8 (com.microsoft MatMulNBits, 8-bit blockwise weights, no bias: the only WebGPU matmul in onnxruntime 1.30
 *    whose subgroup-matrix table has NVIDIA's 16x16x16 config; see docs/decisions/005-gpu-execution-provider.md);
 *    fp32 for gemm and matmul-3d;
 *  - proj-B{2,8}: the attention projections, 2048→2048 Gemm × 4 (gemm, matmul-3d);
 *  - attn-B{2,8}: attention-sized batched matmuls, X [B·32, 576, 64] → (X·Kᵀ [.., 576, 576]) · V × 2, K and V inputs;
 *  - io-B{2,8}: the upload and read-back alone (x → Identity), to subtract from the cases above.
 * WebGPU option variants of mlp (gemm and matmul-3d): preferredLayout NHWC, validationMode disabled, outputs kept on
 * the GPU (preferredOutputLocation gpu-buffer, each output fed back as the next run's input), graph capture (session
 * config ep.webgpuexecutionprovider.enableGraphCapture=1, with GPU-resident I/O). A variant that onnxruntime refuses
 * is recorded with its error.
 *
 * Per variant: median ms over --runs timed runs after 3 warm-ups (GPU-resident variants: the mean of the runs, synced
 * at the end by a read-back run on the same device), TFLOP/s (2·M·N·K per matmul, over that time; `tflopsNetOfIo` over
 * the time less the io case's), and `output`: a checksum of the first output values, equal across the forms of a case
 * that add the bias (matmul and matmul-nk have none).
 * Evidence of what runs: a child process opens WebGPU sessions (Gemm, 3-D MatMul, MatMulNBits; fp16, [576, 2048]·[2048, 2048])
 * at log level verbose; its WebGPU/Dawn log lines (EP options, Dawn warnings) and onnxruntime's dump of every WGSL
 * program it compiled are kept (`adapter.shaders`: program name such as MatMul / SubgroupMatrixMatMul / GemmSubgroup,
 * `enable`s — f16, subgroups, chromium_experimental_subgroup_matrix —, workgroup size, tile constants; the first
 * MatMul/Gemm texts in full); one profiled run of mlp gemm lists the kernels that ran (onnxruntime profile).
 * The JSON (--json) is rewritten after every variant, so a run cut by --budget or by `timeout` still leaves its results.
 * --quick: tiny dims (the CPU smoke test). The numbers are ms and TFLOP/s; nothing is asserted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { toFloat16 } from '../gpu-runner/cascade/runtime.ts';
import { median } from './percentiles.ts';
import { buildModel, type GraphInitializer, type GraphNode, type GraphSpec } from './support/onnx-graph.ts';

/** Activation element types (weights may also be uint8: MatMulNBits). */
export type GraphElementType = 'float16' | 'float32';

export interface Dims {
  /** Latent tokens per image (24×24 at 1024²). */
  tokens: number;
  channels: number;
  hidden: number;
  heads: number;
  headDim: number;
  batches: readonly number[];
}
export const FULL_DIMS: Dims = { tokens: 24 * 24, channels: 2048, hidden: 8192, heads: 32, headDim: 64, batches: [8, 2] };
export const QUICK_DIMS: Dims = { tokens: 4 * 4, channels: 32, hidden: 64, heads: 2, headDim: 8, batches: [2] };

export type Form = 'gemm' | 'gemm-kn' | 'matmul' | 'matmul-add' | 'matmul-3d' | 'matmul-nk' | 'nbits8';
export type Family = 'mlp' | 'proj' | 'attn' | 'io';

export interface CaseGraph {
  /** e.g. mlp-B8 gemm fp16 */
  name: string;
  family: Family;
  form: Form | 'batched' | 'identity';
  type: GraphElementType;
  batch: number;
  /** Floating-point operations of one run (2·M·N·K per matmul). */
  flops: number;
  matmuls: string[];
  spec: GraphSpec;
  /** The graph's input values (the first is the activation; the output has its shape for mlp/proj/attn/io). */
  feeds: Record<string, { type: GraphElementType; dims: number[]; data: Float32Array | Uint16Array }>;
}

/** Deterministic uniform values in [-scale, scale). */
export function randomValues(count: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

function typed(values: Float32Array, type: GraphElementType): Float32Array | Uint16Array {
  return type === 'float16' ? toFloat16(values) : values;
}

/** [rows, cols] → [cols, rows] */
export function transpose2d(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

/**
 * Weights drawn once per process (drawing, transposing and rounding a 2048×8192 tensor takes about a second): the
 * variants of a case share them. Keyed by seed, shape, role and element type.
 */
const valueCache = new Map<string, Float32Array | Uint16Array | Uint8Array>();
function cachedValues<T extends Float32Array | Uint16Array | Uint8Array>(key: string, make: () => T): T {
  let v = valueCache.get(key);
  if (!v) valueCache.set(key, (v = make()));
  return v as T;
}

const quantized = new Map<string, { data: Uint8Array; scales: Float32Array }>();

/**
 * One linear layer k→n of `form` from `input` (name) into `output`, its weights (drawn with `seed`, scale 1/√k) added to
 * `inits` unless already there (layers sharing a seed share their tensors).
 */
function linear(form: Form, type: GraphElementType, k: number, n: number, seed: number, input: string, output: string, nodes: GraphNode[], inits: Map<string, GraphInitializer>): void {
  const weightNK = () => cachedValues(`${seed}/${n}x${k}/f32`, () => randomValues(n * k, seed, 1 / Math.sqrt(k))); // nn.Linear's weight, [out, in]
  const bias = () => randomValues(n, seed + 1, 0.1);
  const w = `w${seed}_${form}`;
  const b = `b${seed}`;
  const add = (name: string, dims: number[], values: () => Float32Array, layout = '') => {
    if (inits.has(name)) return;
    const data = cachedValues(`${seed}/${n}x${k}/${name[0]}${layout}/${type}`, () => typed(values(), type));
    inits.set(name, { name, type, dims, data });
  };
  const kn = () => transpose2d(weightNK(), n, k);
  switch (form) {
    case 'gemm':
      add(w, [n, k], weightNK, 'nk');
      add(b, [n], bias);
      nodes.push({ op: 'Gemm', inputs: [input, w, b], outputs: [output], ints: { transB: 1 } });
      break;
    case 'gemm-kn':
      add(w, [k, n], kn, 'kn');
      add(b, [n], bias);
      nodes.push({ op: 'Gemm', inputs: [input, w, b], outputs: [output] });
      break;
    case 'matmul':
      add(w, [k, n], kn, 'kn');
      nodes.push({ op: 'MatMul', inputs: [input, w], outputs: [output] });
      break;
    case 'matmul-nk':
      add(w, [n, k], weightNK, 'nk');
      nodes.push({ op: 'Transpose', inputs: [w], outputs: [`${output}_wt`], ints: {} });
      nodes.push({ op: 'MatMul', inputs: [input, `${output}_wt`], outputs: [output] });
      break;
    case 'nbits8': {
      // onnxruntime's MatMulNBits (com.microsoft): 8-bit weights, blocks of 32 along K with one scale each (symmetric,
      // default zero point 128), fp16 activations. Its WebGPU kernel has the subgroup-matrix path whose config table
      // includes NVIDIA's 16x16x16 (the core MatMul/Gemm ones need Intel's 8x16x16).
      const key = `${seed}/${n}x${k}`;
      const q = quantized.get(key) ?? quantized.set(key, quantize8(weightNK(), n, k)).get(key)!;
      if (!inits.has(w)) {
        inits.set(w, { name: w, type: 'uint8', dims: [n, k / 32, 32], data: q.data });
        inits.set(`${w}_scales`, { name: `${w}_scales`, type, dims: [n * (k / 32)], data: cachedValues(`${seed}/${n}x${k}/q8s/${type}`, () => typed(q.scales, type)) });
      }
      nodes.push({ op: 'MatMulNBits', domain: 'com.microsoft', inputs: [input, w, `${w}_scales`], outputs: [output], ints: { K: k, N: n, bits: 8, block_size: 32 } });
      break;
    }
    case 'matmul-add':
    case 'matmul-3d':
      add(w, [k, n], kn, 'kn');
      add(b, [n], bias);
      nodes.push({ op: 'MatMul', inputs: [input, w], outputs: [`${output}_mm`] });
      nodes.push({ op: 'Add', inputs: [`${output}_mm`, b], outputs: [output] });
      break;
  }
}

/**
 * Symmetric 8-bit blockwise quantization of a [n, k] weight as MatMulNBits reads it: blocks of 32 along k, scale =
 * max|w| / 127 per block, stored q = round(w / scale) + 128 (the default zero point); `scales` is [n · k/32].
 */
export function quantize8(weightNK: Float32Array, n: number, k: number): { data: Uint8Array; scales: Float32Array } {
  if (k % 32 !== 0) throw new Error(`quantize8: K=${k} must be a multiple of 32`);
  const blocks = k / 32;
  const data = new Uint8Array(n * k);
  const scales = new Float32Array(n * blocks);
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const at = row * k + b * 32;
      let max = 0;
      for (let i = 0; i < 32; i++) max = Math.max(max, Math.abs(weightNK[at + i]!));
      const scale = max / 127 || 1;
      scales[row * blocks + b] = scale;
      for (let i = 0; i < 32; i++) data[at + i] = Math.min(255, Math.max(0, Math.round(weightNK[at + i]! / scale) + 128));
    }
  }
  return { data, scales };
}

/**
 * A chain of linear layers over [batch·tokens, widths[0]] (3-D [batch, tokens, ·] for matmul-3d): widths [2048, 8192,
 * 2048] is one MLP; `layers` repeats the chain with the same weights.
 */
export function linearChain(name: string, family: Family, form: Form, type: GraphElementType, batch: number, tokens: number, widths: readonly number[], layers: number): CaseGraph {
  const rows = batch * tokens;
  const lead = form === 'matmul-3d' ? [batch, tokens] : [rows];
  const nodes: GraphNode[] = [];
  const inits = new Map<string, GraphInitializer>();
  const matmuls: string[] = [];
  let flops = 0;
  let current = 'x';
  let step = 0;
  for (let layer = 0; layer < layers; layer++) {
    for (let i = 0; i + 1 < widths.length; i++) {
      const k = widths[i]!;
      const n = widths[i + 1]!;
      const output = layer === layers - 1 && i + 2 === widths.length ? 'y' : `h${step}`;
      linear(form, type, k, n, 1000 * (i + 1), current, output, nodes, inits);
      matmuls.push(`[${rows},${k}]×[${k},${n}]`);
      flops += 2 * rows * k * n;
      current = output;
      step++;
    }
  }
  const width0 = widths[0]!;
  const widthN = widths[widths.length - 1]!;
  const x = cachedValues(`x/${rows}x${width0}/${type}`, () => typed(randomValues(rows * width0, 7, 1), type));
  return {
    name,
    family,
    form,
    type,
    batch,
    flops,
    matmuls,
    spec: {
      name,
      inputs: [{ name: 'x', type, dims: [...lead, width0] }],
      outputs: [{ name: 'y', type, dims: [...lead, widthN] }],
      initializers: [...inits.values()],
      nodes,
      ...(form === 'nbits8' ? { domains: { 'com.microsoft': 1 } } : {}),
    },
    feeds: { x: { type, dims: [...lead, width0], data: x } },
  };
}

/** X [B·heads, T, D] → ((X·Kᵀ)·V) × `layers`, Kᵀ [B·heads, D, T] and V [B·heads, T, D] inputs (no softmax: timing only). */
export function attentionChain(name: string, type: GraphElementType, batch: number, dims: Dims, layers: number): CaseGraph {
  const bh = batch * dims.heads;
  const t = dims.tokens;
  const d = dims.headDim;
  const nodes: GraphNode[] = [];
  let current = 'x';
  for (let layer = 0; layer < layers; layer++) {
    const out = layer === layers - 1 ? 'y' : `h${layer}`;
    nodes.push({ op: 'MatMul', inputs: [current, 'kt'], outputs: [`s${layer}`] });
    nodes.push({ op: 'MatMul', inputs: [`s${layer}`, 'v'], outputs: [out] });
    current = out;
  }
  const value = (seed: number, shape: number[], scale: number) => ({ type, dims: shape, data: typed(randomValues(shape.reduce((a, b) => a * b, 1), seed, scale), type) });
  return {
    name,
    family: 'attn',
    form: 'batched',
    type,
    batch,
    flops: layers * 2 * (2 * bh * t * d * t),
    matmuls: Array.from({ length: layers }, () => [`[${bh},${t},${d}]×[${bh},${d},${t}]`, `[${bh},${t},${t}]×[${bh},${t},${d}]`]).flat(),
    spec: {
      name,
      inputs: [
        { name: 'x', type, dims: [bh, t, d] },
        { name: 'kt', type, dims: [bh, d, t] },
        { name: 'v', type, dims: [bh, t, d] },
      ],
      outputs: [{ name: 'y', type, dims: [bh, t, d] }],
      nodes,
    },
    feeds: { x: value(7, [bh, t, d], 1), kt: value(8, [bh, d, t], 1 / Math.sqrt(d)), v: value(9, [bh, t, d], 1 / Math.sqrt(t)) },
  };
}

/** x → Identity → y at [batch·tokens, channels]: the upload and read-back that every mlp/proj run pays. */
export function ioGraph(name: string, type: GraphElementType, batch: number, dims: Dims): CaseGraph {
  const shape = [batch * dims.tokens, dims.channels];
  return {
    name,
    family: 'io',
    form: 'identity',
    type,
    batch,
    flops: 0,
    matmuls: [],
    spec: { name, inputs: [{ name: 'x', type, dims: shape }], outputs: [{ name: 'y', type, dims: shape }], nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }] },
    feeds: { x: { type, dims: shape, data: typed(randomValues(shape[0]! * shape[1]!, 7, 1), type) } },
  };
}

// ---- sessions ----
export type Provider = 'webgpu' | 'cpu';
export type OptionVariant = 'default' | 'nhwc' | 'novalidation' | 'gpu-io' | 'graph-capture';

interface Variant {
  /** The graph, built when the variant runs (weights are large). */
  graph: () => CaseGraph;
  option: OptionVariant;
  profile?: boolean;
}

function sessionOptions(provider: Provider, option: OptionVariant, profilePrefix?: string): ort.InferenceSession.SessionOptions {
  const ep: ort.InferenceSession.ExecutionProviderConfig =
    provider === 'cpu'
      ? 'cpu'
      : option === 'nhwc'
        ? { name: 'webgpu', preferredLayout: 'NHWC' }
        : option === 'novalidation'
          ? { name: 'webgpu', validationMode: 'disabled' }
          : 'webgpu';
  return {
    executionProviders: [ep],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    ...(option === 'gpu-io' || option === 'graph-capture' ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
    // The node binding passes `extra` entries to the session config, where the WebGPU EP factory reads its keys.
    ...(option === 'graph-capture' ? { extra: { 'ep.webgpuexecutionprovider.enableGraphCapture': '1' } } : {}),
    ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
  };
}

function toOrt(feeds: CaseGraph['feeds']): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(v.type, v.data, v.dims)]));
}

async function checksum(t: ort.Tensor): Promise<number> {
  const data = (await t.getData()) as Float32Array | Uint16Array;
  let sum = 0;
  const n = Math.min(data.length, 4096);
  if (data instanceof Uint16Array) {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let i = 0; i < n; i++) {
      const h = data[i]!;
      // half → float: enough for a checksum (normals and zero).
      const e = (h >> 10) & 0x1f;
      u[0] = e === 0 ? 0 : ((h & 0x8000) << 16) | ((e + 112) << 23) | ((h & 0x3ff) << 13);
      sum += f[0]!;
    }
  } else for (let i = 0; i < n; i++) sum += data[i]!;
  return Number(sum.toPrecision(6));
}

export interface VariantResult {
  name: string;
  label: string;
  family: Family;
  form: string;
  type: GraphElementType;
  batch: number;
  option: OptionVariant;
  matmuls: string[];
  gflopPerRun: number;
  status: 'ok' | 'failed' | 'skipped';
  error?: string;
  createMs?: number;
  ms?: number;
  msAll?: number[];
  timing?: 'median per run' | 'mean of back-to-back runs, synced at the end';
  tflops?: number;
  tflopsNetOfIo?: number;
  output?: number;
  kernels?: { name: string; cat: string; msPerRun: number; count: number; args?: Record<string, unknown> }[];
}

interface RunContext {
  provider: Provider;
  runs: number;
  warmup: number;
  /** io case ms per batch and type, for tflopsNetOfIo */
  ioMs: Map<string, number>;
  /** A session with a CPU read-back output on the same device: run after GPU-resident runs to wait for the queue. */
  sync?: () => Promise<void>;
}

let lastModel: { name: string; bytes: Uint8Array } | undefined;

async function runVariant(v: Variant, ctx: RunContext): Promise<VariantResult> {
  const g = v.graph();
  const base: VariantResult = {
    name: g.name,
    label: '',
    family: g.family,
    form: g.form,
    type: g.type,
    batch: g.batch,
    option: v.option,
    matmuls: g.matmuls,
    gflopPerRun: g.flops / 1e9,
    status: 'ok',
  };
  // Consecutive variants of one graph (the provider options) share its serialized model.
  if (lastModel?.name !== g.name) lastModel = { name: g.name, bytes: buildModel(g.spec) };
  const bytes = lastModel.bytes;
  const profileDir = v.profile ? mkdtempSync(join(tmpdir(), 'webgpu-matmul-profile-')) : undefined;
  let session: ort.InferenceSession | undefined;
  try {
    let t0 = performance.now();
    session = await ort.InferenceSession.create(bytes, sessionOptions(ctx.provider, v.option, profileDir ? join(profileDir, 'p') : undefined));
    base.createMs = round(performance.now() - t0);
    const feeds = toOrt(g.feeds);
    const gpuResident = v.option === 'gpu-io' || v.option === 'graph-capture';
    const first = await session.run(feeds);
    try {
      base.output = await checksum(gpuResident ? await cpuCopy(first.y!) : first.y!);
    } catch (err) {
      base.error = `output not read back (${err instanceof Error ? err.message : String(err)}); timed anyway`;
    }
    const times: number[] = [];
    if (!gpuResident) {
      for (let i = 0; i < ctx.warmup + ctx.runs; i++) {
        t0 = performance.now();
        await session.run(feeds);
        if (i >= ctx.warmup) times.push(performance.now() - t0);
      }
      base.ms = round(median(times));
      base.timing = 'median per run';
    } else {
      // The output stays on the GPU and is the next run's input (same shape for mlp/proj/attn).
      let x: ort.Tensor = first.y!;
      const step = async () => {
        const out = await session!.run({ ...feeds, x });
        if (x !== first.y) x.dispose();
        x = out.y!;
      };
      for (let i = 0; i < ctx.warmup; i++) await step();
      await ctx.sync?.();
      t0 = performance.now();
      for (let i = 0; i < ctx.runs; i++) {
        const r0 = performance.now();
        await step();
        times.push(performance.now() - r0);
      }
      await ctx.sync?.();
      base.ms = round((performance.now() - t0) / ctx.runs);
      base.timing = 'mean of back-to-back runs, synced at the end';
    }
    base.msAll = times.map(round);
    if (g.family === 'io') ctx.ioMs.set(`${g.batch}/${g.type}`, base.ms);
    if (g.flops) {
      base.tflops = round(g.flops / (base.ms / 1e3) / 1e12);
      const io = ctx.ioMs.get(`${g.batch}/${g.type}`);
      if (io !== undefined && g.family !== 'attn' && !gpuResident && base.ms > io) base.tflopsNetOfIo = round(g.flops / ((base.ms - io) / 1e3) / 1e12);
    }
    if (profileDir) {
      await session.release();
      session = undefined;
      base.kernels = summarizeProfile(profileDir, ctx.warmup + ctx.runs + 1);
    }
  } catch (err) {
    base.status = 'failed';
    base.error = err instanceof Error ? err.message : String(err);
  } finally {
    await session?.release();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  }
  return base;
}

/** A CPU copy of a tensor that may live on the GPU. */
async function cpuCopy(t: ort.Tensor): Promise<ort.Tensor> {
  if (t.location === 'cpu') return t;
  const data = (await t.getData()) as Float32Array | Uint16Array;
  return new ort.Tensor(t.type as 'float32' | 'float16', data, t.dims);
}

function round(x: number): number {
  return Number(x.toFixed(3));
}

/** Events of an onnxruntime profile other than the session's, summed by name: which kernels and programs ran. */
export function summarizeProfile(dir: string, runs: number): VariantResult['kernels'] {
  const file = readdirSync(dir).find((f) => f.endsWith('.json'));
  if (!file) return [];
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { cat?: string; name?: string; dur?: number; args?: Record<string, unknown> }[];
  const by = new Map<string, { name: string; cat: string; us: number; count: number; args?: Record<string, unknown> }>();
  for (const e of events) {
    if (e.cat === 'Session') continue;
    const key = `${e.cat}/${e.name}`;
    const row = by.get(key) ?? { name: e.name ?? '?', cat: e.cat ?? '?', us: 0, count: 0, args: e.args };
    row.us += e.dur ?? 0;
    row.count++;
    by.set(key, row);
  }
  return [...by.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, 40)
    .map((r) => ({ name: r.name, cat: r.cat, msPerRun: round(r.us / runs / 1e3), count: r.count, ...(r.args ? { args: r.args } : {}) }));
}

/** The variants, most telling first (the budget cuts the last ones). */
export function variants(provider: Provider, dims: Dims): Variant[] {
  const list: Variant[] = [];
  const mlp = [dims.channels, dims.hidden, dims.channels];
  const proj = [dims.channels, dims.channels];
  const fp = (t: GraphElementType) => (t === 'float16' ? 'fp16' : 'fp32');
  const mlpCase = (b: number, form: Form, type: GraphElementType) => () => linearChain(`mlp-B${b} ${form} ${fp(type)}`, 'mlp', form, type, b, dims.tokens, mlp, 2);
  const options: OptionVariant[] = provider === 'webgpu' ? ['nhwc', 'novalidation'] : [];
  // Last: GPU-resident outputs go through less-trodden paths of the binding (a crash there leaves the rest measured).
  const residentOptions: OptionVariant[] = provider === 'webgpu' ? ['gpu-io', 'graph-capture'] : [];
  for (const b of dims.batches) {
    const add = (graph: () => CaseGraph, option: OptionVariant = 'default') => list.push({ graph, option });
    add(() => ioGraph(`io-B${b} fp16`, 'float16', b, dims));
    for (const form of ['gemm', 'matmul-3d', 'nbits8', 'gemm-kn', 'matmul', 'matmul-add', 'matmul-nk'] as const) add(mlpCase(b, form, 'float16'));
    for (const form of ['gemm', 'matmul-3d'] as const) for (const option of options) add(mlpCase(b, form, 'float16'), option);
    add(() => ioGraph(`io-B${b} fp32`, 'float32', b, dims));
    add(mlpCase(b, 'gemm', 'float32'));
    add(mlpCase(b, 'matmul-3d', 'float32'));
    add(() => linearChain(`proj-B${b} gemm fp16`, 'proj', 'gemm', 'float16', b, dims.tokens, proj, 4));
    add(() => linearChain(`proj-B${b} matmul-3d fp16`, 'proj', 'matmul-3d', 'float16', b, dims.tokens, proj, 4));
    add(() => attentionChain(`attn-B${b} fp16`, 'float16', b, dims, 2));
    add(() => attentionChain(`attn-B${b} fp32`, 'float32', b, dims, 2));
  }
  const b0 = dims.batches[0]!;
  list.push({ graph: mlpCase(b0, 'gemm', 'float16'), option: 'default', profile: true });
  for (const b of dims.batches) {
    for (const form of ['gemm', 'matmul-3d'] as const) for (const option of residentOptions) list.push({ graph: mlpCase(b, form, 'float16'), option });
  }
  return list;
}

// ---- adapter evidence ----
const PROBE_PATTERN = /webgpu|dawn|adapter|feature|subgroup|shader-?f16|vulkan|vendor|architecture|device/i;

/** One WGSL program that onnxruntime compiled, from its verbose "=== WebGPU Shader code [Name, Key=…] Start ===" dump. */
export interface ShaderSummary {
  program: string;
  key: string;
  /** WGSL `enable` directives (f16, subgroups, chromium_experimental_subgroup_matrix, …). */
  enables: string[];
  workgroupSize: string;
  usesSubgroupMatrix: boolean;
  usesSubgroupOps: boolean;
  /** Tile constants of the packed matmul (rowPerThread, colPerThread, tileInner, …). */
  constants: string[];
  lines: number;
}

/** The shader dumps in onnxruntime's verbose log, summarized; the first few full texts of MatMul/Gemm programs. */
export function parseShaderDumps(log: string, keepText = 3): { shaders: ShaderSummary[]; texts: { program: string; code: string }[] } {
  const shaders: ShaderSummary[] = [];
  const texts: { program: string; code: string }[] = [];
  const block = /=== WebGPU Shader code \[([^,\]\n]+)(?:, Key="([^"\n]*)")?\] Start ===\n([\s\S]*?)\n=== WebGPU Shader code \[[^\n]*?\] End ===/g;
  for (const m of log.matchAll(block)) {
    const program = m[1]!.trim();
    const code = m[3]!;
    shaders.push({
      program,
      key: (m[2] ?? '').slice(0, 300),
      enables: [...code.matchAll(/^\s*enable\s+([^;]+);/gm)].map((e) => e[1]!.trim()),
      workgroupSize: /const workgroup_size_x: u32 = (\d+)[\s\S]*?const workgroup_size_y: u32 = (\d+)[\s\S]*?const workgroup_size_z: u32 = (\d+)/.exec(code)?.slice(1).join('x') ?? '',
      usesSubgroupMatrix: /subgroupMatrix|subgroup_matrix_/.test(code),
      usesSubgroupOps: /subgroup(Broadcast|Shuffle|Add|Max|Min)\b/.test(code),
      constants: [...code.matchAll(/^\s*const (rowPerThread|colPerThread|innerElementSize|tileInner|tile_[a-z_]+|TILE_[A-Z_]+|kSplitK)\b[^;\n]*/gm)].map((c) => c[0].trim()),
      lines: code.split('\n').length,
    });
    if (texts.length < keepText && /matmul|gemm/i.test(program)) texts.push({ program, code: code.slice(0, 20_000) });
  }
  return { shaders, texts };
}

/**
 * Opens WebGPU sessions at log level verbose in a child process (Gemm transB=1 + bias and 3-D MatMul + Add, fp16, at
 * Stage C's projection shape [576, 2048]·[2048, 2048]) and keeps: the log lines about WebGPU/Dawn/features, and the
 * WGSL of every program onnxruntime compiled (which kernel ran, with which `enable`s and tiles).
 */
function probeAdapter(script: string, timeoutMs: number): Record<string, unknown> {
  const child = spawnSync(process.execPath, [...process.execArgv, script, '--probe-child'], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 << 20 });
  const text = `${child.stdout ?? ''}\n${child.stderr ?? ''}`;
  // Verbose lines carry a "[V:onnxruntime:…] " prefix on their first line only; shader code follows on plain lines.
  const { shaders, texts } = parseShaderDumps(text);
  const outside = text.replace(/=== WebGPU Shader code \[[^\n]*?\] Start ===[\s\S]*?=== WebGPU Shader code \[[^\n]*?\] End ===/g, '');
  const lines = outside.split('\n').filter((l) => PROBE_PATTERN.test(l)).map((l) => l.slice(0, 400));
  return {
    exitCode: child.status,
    signal: child.signal,
    lines: [...new Set(lines)].slice(0, 300),
    shaders,
    shaderTexts: texts,
    note: "onnxruntime-node exposes no WebGPU adapter object (its env.webgpu is the web build's); these are onnxruntime's own verbose log lines and shader dumps",
  };
}

async function probeChild(): Promise<void> {
  ort.env.logLevel = 'verbose'; // the default logger's level: the EP factory, the WebGPU context and the shader dumps log through it
  const dims = { ...FULL_DIMS, batches: [1] };
  for (const form of ['gemm', 'matmul-3d', 'nbits8'] as const) {
    const g = linearChain(`probe ${form}`, 'proj', form, 'float16', 1, dims.tokens, [dims.channels, dims.channels], 1);
    const session = await ort.InferenceSession.create(buildModel(g.spec), { executionProviders: ['webgpu'], logSeverityLevel: 0, logVerbosityLevel: 10 } as ort.InferenceSession.SessionOptions);
    await session.run(toOrt(g.feeds));
    await session.release();
  }
}

// ---- main ----
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      provider: { type: 'string', default: 'webgpu' },
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
      budget: { type: 'string', default: '60' },
      runs: { type: 'string', default: '10' },
      only: { type: 'string' },
      'probe-child': { type: 'boolean', default: false },
    },
  });
  if (values['probe-child']) {
    await probeChild();
    return 0;
  }
  const provider = values.provider as Provider;
  if (provider !== 'webgpu' && provider !== 'cpu') throw new Error(`--provider webgpu|cpu, got ${values.provider}`);
  const budgetMs = Number(values.budget) * 1000;
  const runs = Number(values.runs);
  if (!(budgetMs > 0) || !(runs >= 1)) throw new Error('--budget and --runs must be positive');
  const started = performance.now();
  const dims = values.quick ? QUICK_DIMS : FULL_DIMS;
  const only = values.only ? new RegExp(values.only) : undefined;
  const result: Record<string, unknown> = {
    bench: 'bench/webgpu-matmul.ts',
    provider,
    quick: values.quick,
    dims,
    runs,
    warmup: 3,
    versions: { node: process.version, onnxruntime: ort.env.versions, backends: ort.listSupportedBackends() },
    startedAt: new Date().toISOString(),
  };
  const rows: VariantResult[] = [];
  result.variants = rows;
  const save = () => {
    result.elapsedS = round((performance.now() - started) / 1e3);
    if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 1));
  };
  if (provider === 'webgpu') {
    const adapter = probeAdapter(process.argv[1]!, Math.round(Math.min(25_000, budgetMs / 3)));
    result.adapter = adapter;
    for (const line of (adapter.lines as string[]).slice(0, 40)) console.log(`adapter: ${line}`);
    for (const sh of adapter.shaders as ShaderSummary[]) {
      if (!/matmul|gemm/i.test(sh.program)) continue;
      const flags = `${sh.usesSubgroupMatrix ? ' subgroup-matrix' : ''}${sh.usesSubgroupOps ? ' subgroup-ops' : ''}`;
      console.log(`shader: ${sh.program} enables [${sh.enables.join(', ')}] workgroup ${sh.workgroupSize}${flags} ${sh.constants.join(' ')}`);
    }
    save();
  }
  const ctx: RunContext = { provider, runs, warmup: 3, ioMs: new Map() };
  if (provider === 'webgpu') {
    const io = ioGraph('sync', 'float16', 1, { ...dims, tokens: 1, channels: 8 });
    try {
      const syncSession = await ort.InferenceSession.create(buildModel(io.spec), { executionProviders: ['webgpu'], logSeverityLevel: 3 });
      const feeds = toOrt(io.feeds);
      ctx.sync = async () => void (await syncSession.run(feeds));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      result.webgpuError = message;
      console.log(`webgpu session failed: ${message}`);
      save();
      return 1;
    }
  }
  console.log(`${'variant'.padEnd(44)} ${'option'.padEnd(14)} ${'ms'.padStart(9)} ${'TFLOP/s'.padStart(8)} ${'net io'.padStart(8)}  output`);
  for (const v of variants(provider, dims)) {
    const build = v.graph;
    if (performance.now() - started > budgetMs) {
      rows.push({ name: '(not run)', label: '', family: 'io', form: 'identity', type: 'float16', batch: 0, option: v.option, matmuls: [], gflopPerRun: 0, status: 'skipped', error: 'budget' });
      continue;
    }
    let built: CaseGraph | undefined;
    const variant: Variant = { ...v, graph: () => (built ??= build()) };
    const name = variant.graph().name; // building the graph draws its weights (a second or so at full size)
    if (only && !only.test(`${name} ${v.option}`)) continue;
    const r = await runVariant(variant, ctx);
    r.label = `${name}${v.option === 'default' ? '' : ` [${v.option}]`}${v.profile ? ' [profiled]' : ''}`;
    rows.push(r);
    const line = r.status === 'ok' ? `${fmt(r.ms, 9)} ${fmt(r.tflops, 8)} ${fmt(r.tflopsNetOfIo, 8)}  ${r.output}` : `FAILED ${r.error?.split('\n')[0]?.slice(0, 200)}`;
    console.log(`${name.padEnd(44)} ${(v.option + (v.profile ? '+prof' : '')).padEnd(14)} ${line}`);
    if (r.kernels) for (const k of r.kernels.slice(0, 12)) console.log(`   profile ${k.cat}/${k.name}: ${k.msPerRun} ms/run ×${k.count}`);
    save();
  }
  const skipped = rows.filter((r) => r.status === 'skipped').length;
  result.skippedForBudget = skipped;
  save();
  console.log(`${rows.length - skipped} variants in ${round((performance.now() - started) / 1e3)} s${skipped ? `, ${skipped} skipped (budget)` : ''}${values.json ? `; JSON: ${values.json}` : ''}`);
  return 0;
}

function fmt(x: number | undefined, width: number): string {
  return (x === undefined ? '-' : x.toFixed(x < 10 ? 3 : 1)).padStart(width);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
