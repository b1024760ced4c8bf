/**
 * Micro-benchmarks of the TypeScript work around the models: CLIP tokenizer (tokens/s, cold vs cached pieces) and the
 * per-step loop arithmetic (noise fill, CFG + rescale, sampler step) in ns per latent element, at Stage C and Stage B
 * sizes for a 4-image grid. Prints figures; asserts nothing.
 *
 *   node bench/cascade-sampler.ts
 *
 * Tokenizer figures use test/fixtures/vectors/clip-tokenizer, or the folder named by CLIP_VECTORS.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { applyCfg } from '../gpu-runner/cascade/guidance.ts';
import { createSeededNoise, type NoiseSource } from '../gpu-runner/cascade/noise.ts';
import { GdfSampler } from '../gpu-runner/cascade/scheduler.ts';
import { ClipTokenizer } from '../gpu-runner/cascade/tokenizer.ts';

const VECTORS = process.env.CLIP_VECTORS ?? path.resolve(import.meta.dirname, '../test/fixtures/vectors/clip-tokenizer');
const CLIP = { maxLength: 77, bosId: 49406, eosId: 49407, padId: 49407 };

/** Median wall time in ms of `runs` calls after `warmup` calls. */
function medianMs(fn: () => void, runs: number, warmup = 3): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function benchTokenizer(): Promise<void> {
  if (!existsSync(path.join(VECTORS, 'vocab.json'))) {
    console.log(`tokenizer: skipped (${VECTORS} absent)`);
    return;
  }
  const loadStart = performance.now();
  await ClipTokenizer.fromFiles(path.join(VECTORS, 'vocab.json'), path.join(VECTORS, 'merges.txt'), CLIP);
  const loadMs = performance.now() - loadStart;
  const vocab = JSON.parse(readFileSync(path.join(VECTORS, 'vocab.json'), 'utf8')) as Record<string, number>;
  const merges = readFileSync(path.join(VECTORS, 'merges.txt'), 'utf8').split('\n');
  const prompts = (JSON.parse(readFileSync(path.join(VECTORS, 'cases.json'), 'utf8')) as { cases: { text: string }[] }).cases.map(
    (c) => c.text,
  );

  // Cold: a fresh instance per pass, so every piece goes through BPE (instances built outside the timed region).
  const coldPasses = 7;
  const fresh = Array.from({ length: coldPasses + 3 }, () => ClipTokenizer.fromData(vocab, merges, CLIP));
  let tokens = 0;
  for (const text of prompts) tokens += fresh[0]!.tokenize(text, 75).length;
  let next = 0;
  const coldMs = medianMs(() => {
    const tok = fresh[next++]!;
    for (const text of prompts) tok.encode(text);
  }, coldPasses);
  const warm = fresh[0]!;
  const warmMs = medianMs(() => {
    for (const text of prompts) warm.encode(text);
  }, 50);
  console.log(`tokenizer: load vocab+merges ${loadMs.toFixed(0)} ms`);
  console.log(
    `tokenizer: ${prompts.length} prompts, ${tokens} tokens — cold ${coldMs.toFixed(2)} ms (${fmt(tokens / (coldMs / 1e3))} tokens/s, ` +
      `${((coldMs * 1e3) / prompts.length).toFixed(0)} µs/prompt), cached ${warmMs.toFixed(2)} ms (${fmt(tokens / (warmMs / 1e3))} tokens/s, ` +
      `${((warmMs * 1e3) / prompts.length).toFixed(0)} µs/prompt), cached/cold speed-up ${(coldMs / warmMs).toFixed(1)}×`,
  );
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(1)} k`;
}

/** A noise source that costs nothing, to separate the step's arithmetic from noise generation. */
const zeroNoise: NoiseSource = { fill: () => undefined };

function benchLoop(label: string, elements: number, modelMsReference: number, modelLabel: string): void {
  const runs = elements > 100_000 ? 15 : 200;
  const sample = new Float32Array(elements);
  const eps = new Float32Array(elements);
  createSeededNoise(1).fill(sample);
  createSeededNoise(2).fill(eps);
  const cond = new Float32Array(elements);
  const uncond = new Float32Array(elements);
  createSeededNoise(3).fill(cond);
  createSeededNoise(4).fill(uncond);
  const guided = new Float32Array(elements);
  const noise = createSeededNoise(5);
  const sampler = new GdfSampler({ steps: 20, tStart: 1, shift: 2, rho: 0.7, rMode: 'gdf', final: 'x0' });
  const out = new Float32Array(elements);

  const copyMs = medianMs(() => {
    for (let k = 0; k < elements; k++) out[k] = sample[k]! + eps[k]!;
  }, runs);
  const noiseMs = medianMs(() => noise.fill(out), runs);
  const stepMs = medianMs(() => sampler.step(5, sample, eps, zeroNoise, out), runs);
  const cfgMs = medianMs(() => applyCfg(cond, uncond, 4, 0.7, guided), runs);
  const total = noiseMs + stepMs + cfgMs;
  const ns = (ms: number) => ((ms * 1e6) / elements).toFixed(2);
  console.log(
    `${label} (${elements} elements): noise ${ns(noiseMs)} ns/el, step arithmetic ${ns(stepMs)} ns/el, CFG+rescale ${ns(cfgMs)} ns/el; ` +
      `(baseline: a plain out = a + b loop ${ns(copyMs)} ns/el); per step ${total.toFixed(2)} ms = ${((100 * total) / modelMsReference).toFixed(1)} % of ${modelLabel} ` +
      `(${((100 * (stepMs + cfgMs)) / modelMsReference).toFixed(1)} % without noise; onnxruntime-node runs sessions on the JS thread, so nothing overlaps)`,
  );
}

await benchTokenizer();
// Reference model times from spec §6.1 (H100, bf16, CUDA graphs), for scale only; not measured here.
benchLoop('Stage C step, 4 images [4,16,24,24]', 4 * 16 * 24 * 24, 29.4 * 4, 'a Stage C B=8 (CFG) H100 forward (≈4×29.4 ms, linear from spec §6.1)');
benchLoop('Stage B step, 4 images [4,4,256,256]', 4 * 4 * 256 * 256, 37.2 * 4, 'a Stage B B=4 H100 forward (≈4×37.2 ms, linear from spec §6.1)');
