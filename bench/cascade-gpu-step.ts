/**
 * One denoising step of exported Stage C / Stage B graphs through onnxruntime-node, with the engine's own runtime
 * (gpu-runner/cascade/runtime.ts), on the provider given (webgpu on the GPU machine; cuda where onnxruntime-node's
 * CUDA provider is installed; cpu works but is slow at real sizes).
 *
 *   node bench/cascade-gpu-step.ts <dir with index.json> <results.json> [provider=webgpu] [runs=5]
 *
 * index.json (written by tools/export/bench_gpu.py): { graphs: [{ name, file, inputs: [{ name, dtype, dims, file }],
 * output, reference }] }, raw little-endian tensors beside it. For each graph:
 *  1. a default session (CPU tensors in and out, the engine's path): creation time, first run, `runs` timed runs,
 *     max |output − PyTorch output|;
 *  2. a session of a copy of the graph with every symbolic dim fixed in the file (gpu-runner/cascade/onnx-dims.ts; the
 *     session option freeDimensionOverrides is not read by onnxruntime-node 1.30): timed runs with outputs read back;
 *  3. with PROFILE_STATIC=prior,decoder (names), three profiled runs of the static session (profile-static-*.json; profiling slows runs).
 * Prints a JSON summary and writes it to <results.json>.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bindSymbols } from '../gpu-runner/cascade/buckets.ts';
import { fixSymbolicDims, graphInputShapes } from '../gpu-runner/cascade/onnx-dims.ts';
import { ModelSession, tensor, fromFloat16, type Provider, type Tensor } from '../gpu-runner/cascade/runtime.ts';

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

/** A copy of the graph with every symbolic dim fixed at this call's input sizes, beside it (shares its .data file). */
function writeFixedGraph(dir: string, g: GraphSpec): { file: string; symbols: Record<string, number> } {
  const bytes = readFileSync(join(dir, g.file));
  const shapes = Object.fromEntries(g.inputs.map((i) => [i.name, i.dims]));
  const symbols = bindSymbols(graphInputShapes(bytes), shapes);
  const file = g.file.replace(/\.onnx$/, '.fixed.onnx');
  writeFileSync(join(dir, file), fixSymbolicDims(bytes, symbols).bytes);
  return { file, symbols };
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

  // Static shapes: every symbolic dim fixed in the graph file, so onnxruntime folds the shape arithmetic away.
  const fixedGraph = writeFixedGraph(dir, g);
  result.staticDims = fixedGraph.symbols;
  t0 = performance.now();
  const fixed = await ModelSession.open(join(dir, fixedGraph.file), { provider, label: `${g.name}-static` });
  result.staticCreateMs = performance.now() - t0;
  const fixedFirst = asFloat((await fixed.run(feeds))[g.output]!);
  let staticVsDefault = 0;
  for (let i = 0; i < out.length; i++) if (Number.isFinite(out[i]!)) staticVsDefault = Math.max(staticVsDefault, Math.abs(fixedFirst[i]! - out[i]!));
  result.staticMaxAbsDiffVsDefault = staticVsDefault;
  result.staticSteady = await timeRuns(runs, () => fixed.run(feeds));
  await fixed.release();
  log(`${g.name}: static ${JSON.stringify({ steady: result.staticSteady })}`);
  if (process.env.PROFILE_STATIC?.split(',').includes(g.name)) {
    const profiled = await ModelSession.open(join(dir, fixedGraph.file), { provider, label: `${g.name}-profile`, profileFilePrefix: join(dir, `profile-static-${g.name}`) });
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
