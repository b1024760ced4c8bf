/**
 * Main-thread milliseconds of Stage B's per-step noise with the seeded sources drawn on the JS thread (tileNoise, the
 * old path) vs drawn ahead on the noise worker (noise-worker.ts, what the engine now uses), at Stage B's latent shapes
 * (4 × H/4 × W/4 per image: 262 144 values at 1024², ≈ 1 M for a 2×2 grid) (issue #25).
 *
 *   node bench/noise-prefetch.ts [--images 1,4] [--size 1024] [--steps 10] [--graph-ms 340] [--graphs wait,cpu] [--json out.json]
 *
 * Each step is "the graph" then the sampler's update (GdfSampler.step, which draws the step's noise), as in denoise.ts:
 *  - graph `wait`: the JS thread blocked for --graph-ms without using a core (Atomics.wait), as it is while onnxruntime
 *    waits for a GPU (WebGPU/CUDA), so the worker's draw overlaps for free;
 *  - graph `cpu`: a real onnxruntime CPU session (chained 1024² MatMuls, calibrated to ≈ --graph-ms), which uses every
 *    core: the worker's draw then competes with onnxruntime for them (on a 2-core machine, the graph's time grows).
 * Per case: median over steps 2..N of the ms inside noise.fill and inside sampler.step on the main thread, the graph's
 * median ms, and step 1 (the worker's first draw is not ahead). Also the cost of a worker per request (start + first
 * fill) vs one worker per engine reused. Figures only; nothing is asserted.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { NoiseWorker } from '../gpu-runner/cascade/noise-worker.ts';
import type { NoiseSource } from '../gpu-runner/cascade/noise.ts';
import { GdfSampler } from '../gpu-runner/cascade/scheduler.ts';
import { NOISE_STREAM, tileNoise } from '../gpu-runner/cascade/stages/seeds.ts';
import { deriveSeed } from '../gpu-runner/cascade/noise.ts';
import { median } from './percentiles.ts';
import { buildModel, type GraphNode } from './support/onnx-graph.ts';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '1,4' },
    size: { type: 'string', default: '1024' },
    steps: { type: 'string', default: '10' },
    'graph-ms': { type: 'string', default: '340' },
    graphs: { type: 'string', default: 'wait,cpu' },
    json: { type: 'string' },
  },
});
const imageCounts = values.images.split(',').map(Number);
const size = Number(values.size);
const steps = Number(values.steps);
const graphMs = Number(values['graph-ms']);
const graphs = values.graphs.split(',') as ('wait' | 'cpu')[];
const perImage = 4 * (size / 4) * (size / 4);

const round = (x: number) => Math.round(x * 100) / 100;

/** Blocks the JS thread for `ms` without using a core. */
const sleeper = new Int32Array(new SharedArrayBuffer(4));
async function waitGraph(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve)); // onnxruntime-node's run also starts from setImmediate
  Atomics.wait(sleeper, 0, 0, graphMs);
}

/** An onnxruntime CPU session of `count` chained [1024, 1024] MatMuls. */
async function matmulSession(count: number): Promise<{ run: () => Promise<void>; release: () => Promise<void> }> {
  const n = 1024;
  const weight = new Float32Array(n * n).map((_, i) => ((i * 2654435761) % 1000) / 1e6);
  const nodes: GraphNode[] = Array.from({ length: count }, (_, i) => ({ op: 'MatMul', inputs: [i === 0 ? 'x' : `h${i}`, 'w'], outputs: [i === count - 1 ? 'y' : `h${i + 1}`] }));
  const model = buildModel({
    name: 'bench',
    inputs: [{ name: 'x', type: 'float32', dims: [n, n] }],
    outputs: [{ name: 'y', type: 'float32', dims: [n, n] }],
    initializers: [{ name: 'w', type: 'float32', dims: [n, n], data: weight }],
    nodes,
  });
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
  const x = new ort.Tensor('float32', new Float32Array(n * n).fill(0.001), [n, n]);
  return { run: async () => void (await session.run({ x })), release: () => session.release() };
}

async function cpuGraph(): Promise<{ run: () => Promise<void>; release: () => Promise<void>; count: number }> {
  const probe = await matmulSession(4);
  await probe.run();
  const t0 = performance.now();
  for (let i = 0; i < 3; i++) await probe.run();
  const perMatmul = (performance.now() - t0) / 12;
  await probe.release();
  const count = Math.max(1, Math.round(graphMs / perMatmul));
  return { ...(await matmulSession(count)), count };
}

/** Wraps a source to time its fills. */
function timedSource(source: NoiseSource, ms: number[]): NoiseSource {
  return {
    fill(out) {
      const t0 = performance.now();
      source.fill(out);
      ms.push(performance.now() - t0);
    },
  };
}

interface Case { graph: string; images: number; noise: 'main' | 'worker'; valuesPerStep: number; graphMs: number; fillMs: number; stepMs: number; firstFillMs: number }
const results: { cases: Case[]; workerPerRequest?: Record<string, number>; cpus: number; matmuls?: number } = { cases: [], cpus: (await import('node:os')).availableParallelism() };

const engineWorker = new NoiseWorker();
for (const graph of graphs) {
  const cpu = graph === 'cpu' ? await cpuGraph() : undefined;
  if (cpu) results.matmuls = cpu.count;
  const runGraph = cpu ? cpu.run : waitGraph;
  for (const images of imageCounts) {
    const seeds = Array.from({ length: images }, (_, i) => deriveSeed(1234, i));
    const n = images * perImage;
    for (const noise of ['main', 'worker'] as const) {
      const fills: number[] = [];
      const stepMs: number[] = [];
      const graphTimes: number[] = [];
      const prefetched = noise === 'worker' ? engineWorker.open(seeds, NOISE_STREAM.decoderSteps) : undefined;
      const source = timedSource(prefetched ?? tileNoise(seeds, NOISE_STREAM.decoderSteps), fills);
      const sampler = new GdfSampler({ steps, tStart: 1, shift: 1, rho: 0, rMode: 'raw', final: 'mu' });
      const x = new Float32Array(n).fill(0.5);
      const eps = new Float32Array(n).fill(0.1);
      for (let i = 0; i < steps; i++) {
        const g0 = performance.now();
        await runGraph();
        graphTimes.push(performance.now() - g0);
        const t0 = performance.now();
        sampler.step(i, x, eps, source, x);
        stepMs.push(performance.now() - t0);
      }
      prefetched?.close();
      const c: Case = {
        graph, images, noise, valuesPerStep: n,
        graphMs: round(median(graphTimes.slice(1))), fillMs: round(median(fills.slice(1))), stepMs: round(median(stepMs.slice(1))), firstFillMs: round(fills[0]!),
      };
      results.cases.push(c);
      console.log(JSON.stringify(c), process.env.BENCH_VERBOSE ? fills.map(round).join(" ") : "");
    }
  }
  await cpu?.release();
}

// A worker per request: its start and first (synchronous) fill, vs the engine's warm worker's first fill.
{
  const images = Math.max(...imageCounts);
  const seeds = Array.from({ length: images }, (_, i) => deriveSeed(99, i));
  const out = new Float32Array(images * perImage);
  const cold: number[] = [];
  const warm: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    const fresh = new NoiseWorker();
    fresh.open(seeds, NOISE_STREAM.decoderSteps).fill(out);
    cold.push(performance.now() - t0);
    await fresh.dispose();
    const t1 = performance.now();
    const stream = engineWorker.open(seeds, NOISE_STREAM.decoderSteps);
    stream.fill(out);
    warm.push(performance.now() - t1);
    stream.close();
  }
  results.workerPerRequest = { images, newWorkerFirstFillMs: round(median(cold)), engineWorkerFirstFillMs: round(median(warm)) };
  console.log(JSON.stringify(results.workerPerRequest));
}
await engineWorker.dispose();
if (values.json) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
