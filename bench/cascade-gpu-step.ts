/**
 * One denoising step of exported Stage C / Stage B graphs through onnxruntime-node, with the engine's own runtime
 * (gpu-runner/cascade/runtime.ts), on the provider given (webgpu on the GPU machine; cuda where onnxruntime-node's
 * CUDA provider is installed; cpu works but is slow at real sizes).
 *
 *   tsx bench/cascade-gpu-step.ts <dir with index.json> <results.json> [provider=webgpu] [runs=5]
 *
 * index.json (written by tools/export/bench_gpu.py): { graphs: [{ name, file, inputs: [{ name, dtype, dims, file }],
 * output, reference }] }, raw little-endian tensors beside it. For each graph:
 *  1. a default session (CPU tensors in and out, the engine's path): creation time, first run, `runs` timed runs,
 *     max |output − PyTorch output|;
 *  2. a session with every symbolic dim fixed (`staticDims`): timed runs with outputs read back;
 *  3. with PROFILE_STATIC=prior,decoder (names), three profiled runs of the static session (profile-static-*.json; profiling slows runs).
 * Prints a JSON summary and writes it to <results.json>.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelSession, tensor, fromFloat16, type Provider, type Tensor } from '../gpu-runner/cascade/runtime.js';

interface InputSpec {
  name: string;
  dtype: 'float32' | 'float16';
  dims: number[];
  file: string;
}
interface GraphSpec {
  name: string;
  file: string;
  inputs: InputSpec[];
  output: string;
  reference: string;
}

function readTensor(dir: string, spec: InputSpec): Tensor {
  const bytes = readFileSync(join(dir, spec.file));
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return tensor(spec.dtype === 'float16' ? new Uint16Array(copy) : new Float32Array(copy), spec.dims);
}

function asFloat(t: Tensor): Float32Array {
  return t.data instanceof Uint16Array ? fromFloat16(t.data) : (t.data as Float32Array);
}

async function timeRuns(runs: number, run: () => Promise<unknown>): Promise<{ meanMs: number; minMs: number; allMs: number[] }> {
  const all: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await run();
    all.push(performance.now() - t0);
  }
  return { meanMs: all.reduce((a, b) => a + b, 0) / all.length, minMs: Math.min(...all), allMs: all };
}

/** The export's symbolic dims (tools/export/cascade_export/graphs.py) at this graph's input sizes. */
function staticDimsFor(g: GraphSpec): Record<string, number> {
  const dims = (name: string) => g.inputs.find((i) => i.name === name)?.dims ?? [];
  const [batch = 1, , height = 1, width = 1] = dims('sample');
  const fixed: Record<string, number> = { batch, height, width };
  const text = dims('clip_text');
  if (text.length) fixed.tokens = text[1]!;
  const img = dims('clip_img');
  if (img.length) fixed.images = img[1]!;
  const effnet = dims('effnet');
  if (effnet.length) Object.assign(fixed, { effnet_height: effnet[2]!, effnet_width: effnet[3]! });
  return fixed;
}

async function benchGraph(dir: string, g: GraphSpec, provider: Provider, runs: number, log: (line: string) => void): Promise<Record<string, unknown>> {
  const feeds: Record<string, Tensor> = {};
  for (const input of g.inputs) feeds[input.name] = readTensor(dir, input);
  const result: Record<string, unknown> = { name: g.name };
  let t0 = performance.now();
  const session = await ModelSession.open(join(dir, g.file), { provider, label: g.name });
  result.createMs = performance.now() - t0;
  t0 = performance.now();
  const first = await session.run(feeds);
  result.firstRunMs = performance.now() - t0;
  const out = asFloat(first[g.output]!);
  const refBytes = readFileSync(join(dir, g.reference));
  const reference = new Float32Array(refBytes.buffer.slice(refBytes.byteOffset, refBytes.byteOffset + refBytes.byteLength));
  let maxDiff = 0;
  let maxRef = 0;
  let nonFinite = 0;
  for (let i = 0; i < reference.length; i++) {
    if (!Number.isFinite(out[i]!)) nonFinite++;
    else maxDiff = Math.max(maxDiff, Math.abs(out[i]! - reference[i]!));
    maxRef = Math.max(maxRef, Math.abs(reference[i]!));
  }
  Object.assign(result, { maxAbsDiffVsTorch: maxDiff, maxAbsTorch: maxRef, nonFinite });
  result.steady = await timeRuns(runs, () => session.run(feeds));
  await session.release();
  log(`${g.name}: default ${JSON.stringify(result)}`);

  // Static shapes: every symbolic dim fixed to this call's sizes, so the shape arithmetic folds away.
  const staticDims = staticDimsFor(g);
  result.staticDims = staticDims;
  t0 = performance.now();
  const fixed = await ModelSession.open(join(dir, g.file), { provider, label: `${g.name}-static`, staticDims });
  result.staticCreateMs = performance.now() - t0;
  const fixedFirst = asFloat((await fixed.run(feeds))[g.output]!);
  let staticVsDefault = 0;
  for (let i = 0; i < out.length; i++) if (Number.isFinite(out[i]!)) staticVsDefault = Math.max(staticVsDefault, Math.abs(fixedFirst[i]! - out[i]!));
  result.staticMaxAbsDiffVsDefault = staticVsDefault;
  result.staticSteady = await timeRuns(runs, () => fixed.run(feeds));
  await fixed.release();
  log(`${g.name}: static ${JSON.stringify({ steady: result.staticSteady })}`);
  if (process.env.PROFILE_STATIC?.split(',').includes(g.name)) {
    const profiled = await ModelSession.open(join(dir, g.file), { provider, label: `${g.name}-profile`, staticDims, profileFilePrefix: join(dir, `profile-static-${g.name}`) });
    for (let i = 0; i < 3; i++) await profiled.run(feeds);
    await profiled.release();
  }
  return result;
}

async function main(): Promise<void> {
  const [dir, resultsPath, provider = 'webgpu', runsText = '5'] = process.argv.slice(2);
  if (!dir || !resultsPath) throw new Error('usage: cascade-gpu-step.ts <dir with index.json> <results.json> [provider] [runs]');
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { graphs: GraphSpec[] };
  const only = process.env.GRAPHS?.split(',');
  const results: Record<string, unknown>[] = [];
  for (const g of index.graphs) {
    if (only && !only.includes(g.name)) continue;
    try {
      results.push(await benchGraph(dir, g, provider as Provider, Number(runsText), (line) => console.log(line)));
    } catch (err) {
      results.push({ name: g.name, error: err instanceof Error ? err.message : String(err) });
      console.log(`${g.name}: FAILED ${String(err)}`);
    }
    writeFileSync(resultsPath, JSON.stringify({ provider, results }, null, 1));
  }
}

await main();
