/**
 * The Stable Cascade engine behind `ImageGenerator`: prompts → Stage C → Stage B → Stage A, all images of a request in
 * one batch (one graph call per denoising step, doubled for guidance).
 * - imagine: text-to-image, one image per seed, `chaos` spread (stages/conditioning.ts).
 * - variation: Stage C img2img from a stored latent. The latent is noised to t_start = manifest prior.variation[strength]
 *   with the SAME shift the sampler uses, so the loop's first step sees the noise level it assumes (a self-consistent
 *   choice; the official notebook noises unshifted and samples shifted, spec §4.2). Steps = round(steps · t_start) ≥ 1.
 * - imagine with `init` (image-to-image from a picture): the picture's EfficientNet latent (stages/encoders.ts) takes
 *   the stored latent's place in the same img2img path, with t_start = init.strength.
 * - imagine with `imagePrompts`: weighted CLIP image embeddings in Stage C's clip_img (stages/encoders.ts).
 * - upscale: Stage B + A from a stored latent onto the (larger) requested canvas (spec §4.4); the latent is returned as is.
 * Each image's noise comes from its own seed (stages/seeds.ts), so a tile can be regenerated alone.
 */
import type { GenerateHooks, GenerateOutput, GenerateRequest, ImageGenerator, Latent, RgbImage } from '../generator.ts';
import type { StageName } from '../../core/job.ts';
import type { LoadedBundle } from './bundle.ts';
import type { Manifest, SamplerSettings } from './manifest.ts';
import type { ModelGuide } from '../../core/model-notes.ts';
import { addNoise, GdfSampler } from './scheduler.ts';
import type { SessionPool } from './sessions.ts';
import type { ClipTokenizer } from './tokenizer.ts';
import { MissingGraphError } from './bundle.ts';
import { encodeConditioning, type Conditioning } from './stages/conditioning.ts';
import { checkImagePrompts, encodeImagePrompts, encodeInitImage, type ClipImageGroups } from './stages/encoders.ts';
import { runDecoder } from './stages/decoder.ts';
import { checkImageSize, latentGeometry, type LatentGeometry } from './stages/geometry.ts';
import { runPrior } from './stages/prior.ts';
import { NoiseWorker } from './noise-worker.ts';
import { draw, seededStageNoise, type StageNoise } from './stages/seeds.ts';
import { decodeLatents, previewLatents, toRgbImages } from './stages/vqgan.ts';

/** Test and benchmark hooks: replayed noise, explicit time grids, intermediate tensors. */
export interface DebugOptions {
  noise?: Partial<StageNoise>;
  timesteps?: { prior?: readonly number[]; decoder?: readonly number[] };
  trace?: (
    name: 'text/cond/hidden' | 'text/cond/pooled' | 'text/uncond/hidden' | 'text/uncond/pooled' | 'image/embeds' | 'init/latent' | 'prior/out' | 'decoder/out' | 'image',
    data: Float32Array,
  ) => void;
}

/** One generate() call as every stage sees it. */
interface GenerationCall {
  request: GenerateRequest;
  hooks: GenerateHooks;
  debug: DebugOptions;
  geometry: LatentGeometry;
  noise: StageNoise;
  /** Ends the generation's prefetched noise streams. */
  releaseNoise: () => void;
  /** Milliseconds per phase, filled as the stages run. */
  timings: Record<string, number>;
}

/** Stage C's output as Stage B reads it, with the progress counter sized for the whole run. */
interface StageCLatents {
  latents: Float32Array;
  /** Its latent height and width. */
  dims: [number, number];
  progress: Progress;
}

async function timed<T>(timings: Record<string, number>, phase: string, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const value = await work();
  timings[phase] = performance.now() - t0;
  return value;
}

class Progress {
  private done = 0;
  private readonly hooks: GenerateHooks;
  private readonly total: number;
  constructor(
    hooks: GenerateHooks,
    total: number,
  ) {
    this.hooks = hooks;
    this.total = total;
  }
  step(stage: StageName, step: number, steps: number): void {
    this.done++;
    this.hooks.onProgress?.({ stage, step, steps, fraction: Math.min(1, this.done / this.total) });
  }
  get fraction(): number {
    return this.done / this.total;
  }
}

export class CascadePipeline implements ImageGenerator {
  readonly baseResolution: number;
  readonly modelName: string;
  readonly modelVariant: string;
  readonly guide?: ModelGuide;
  readonly acceptsImagePrompts: boolean;
  private readonly manifest: Manifest;
  private queue: Promise<unknown> = Promise.resolve();
  /** Draws the per-step noise of every generation ahead, off the JS thread (stages/seeds.ts); started at first use. */
  private readonly noiseWorker = new NoiseWorker();
  readonly bundle: LoadedBundle;
  private readonly pool: SessionPool;
  private readonly tokenizer: ClipTokenizer;

  constructor(
    bundle: LoadedBundle,
    pool: SessionPool,
    tokenizer: ClipTokenizer,
  ) {
    this.bundle = bundle;
    this.pool = pool;
    this.tokenizer = tokenizer;
    this.manifest = bundle.manifest;
    this.baseResolution = bundle.manifest.resolution.base;
    this.modelName = bundle.manifest.name;
    this.modelVariant = bundle.manifest.variant;
    this.acceptsImagePrompts = bundle.manifest.imageEncoder !== undefined;
    const { vocabulary, styles } = bundle.manifest;
    if (vocabulary || styles) this.guide = { ...(vocabulary ? { vocabulary } : {}), ...(styles ? { styles } : {}) };
  }

  /** Requests run one at a time (sessions are shared); a second call waits for the first. */
  generate(request: GenerateRequest, hooks: GenerateHooks = {}, debug: DebugOptions = {}): Promise<GenerateOutput> {
    const run = this.queue.then(() => this.run(request, hooks, debug));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** onnxruntime calls and ms per stage since the generator was created (benchmarks). */
  sessionStats(): Record<string, { runs: number; runMs: number }> {
    return this.pool.sessionStats();
  }

  /** The bundle files with an open onnxruntime session: dynamic graphs and fixed-shape buckets (tests, logs). */
  openGraphFiles(): string[] {
    return this.pool.openFiles();
  }

  async dispose(): Promise<void> {
    await this.queue;
    await this.pool.releaseAll();
    await this.noiseWorker.dispose();
  }

  /** The stages in order, as named calls (the shape of diffusers' `__call__`). */
  private async run(request: GenerateRequest, hooks: GenerateHooks, debug: DebugOptions): Promise<GenerateOutput> {
    const call = this.prepare(request, hooks, debug);
    try {
      const started = performance.now();
      const conditioning = await this.encodePrompt(call);
      const clipImage = await this.encodeImagePrompts(call);
      const stageC = request.kind === 'upscale' ? this.storedStageC(call, request) : await this.denoiseStageC(call, request, conditioning, clipImage);
      debug.trace?.('prior/out', stageC.latents);
      hooks.signal?.throwIfAborted();
      const images = await this.decode(call, stageC, conditioning);
      call.timings.total = performance.now() - started;
      return { images, latents: this.outputLatents(request, stageC, call.geometry), timings: call.timings };
    } finally {
      call.releaseNoise();
    }
  }

  /** Checks the request before any work, and fixes what every stage reads: latent geometry and noise. */
  private prepare(request: GenerateRequest, hooks: GenerateHooks, debug: DebugOptions): GenerationCall {
    hooks.signal?.throwIfAborted();
    checkSeeds(request.seeds);
    this.checkImageInputs(request);
    const m = this.manifest;
    const upscale = request.kind === 'upscale';
    checkImageSize(m, request.width, request.height, upscale ? 'upscale' : 'image', upscale ? 2 * m.resolution.max : m.resolution.max);
    const geometry = latentGeometry(m, request.width, request.height);
    // Replayed per-step noise (tests) needs no worker.
    const replayed = debug.noise?.priorSteps && debug.noise.decoderSteps;
    const { release, ...seeded } = seededStageNoise(request.seeds, replayed ? undefined : this.noiseWorker);
    const noise: StageNoise = { ...seeded, ...debug.noise };
    return { request, hooks, debug, geometry, noise, releaseNoise: release, timings: {} };
  }

  /** CLIP text: conditional and unconditional embeddings, spread by `chaos` for imagine. */
  private async encodePrompt({ request, debug, timings }: GenerationCall): Promise<Conditioning> {
    const chaos = request.kind === 'imagine' ? request.chaos : 0;
    const conditioning = await timed(timings, 'text', () => encodeConditioning(this.pool, this.manifest, this.tokenizer, request.prompt, request.negativePrompt, request.seeds, chaos));
    debug.trace?.('text/cond/hidden', conditioning.cond.hidden);
    debug.trace?.('text/cond/pooled', conditioning.cond.pooled);
    debug.trace?.('text/uncond/hidden', conditioning.uncond.hidden);
    debug.trace?.('text/uncond/pooled', conditioning.uncond.pooled);
    return conditioning;
  }

  /** CLIP image embeddings of the request's image prompts, when it has any. */
  private async encodeImagePrompts({ request, debug, timings }: GenerationCall): Promise<ClipImageGroups | undefined> {
    if (request.kind !== 'imagine' || !request.imagePrompts?.length) return undefined;
    const prompts = request.imagePrompts;
    const clipImage = await timed(timings, 'imageEncoder', () => encodeImagePrompts(this.pool, this.manifest, prompts));
    debug.trace?.('image/embeds', clipImage.embeds);
    return clipImage;
  }

  /** Stage C's latents for an upscale: the stored tile's, once per seed (no Stage C run). */
  private storedStageC({ hooks }: GenerationCall, request: Extract<GenerateRequest, { kind: 'upscale' }>): StageCLatents {
    const m = this.manifest;
    const [c, h, w] = request.source.dims;
    checkLatent(request.source, c === m.geometry.priorChannels, `${m.geometry.priorChannels} channels`);
    return { latents: repeat(request.source.data, request.seeds.length), dims: [h, w], progress: new Progress(hooks, m.decoder.sampler.steps + 1) };
  }

  /** Stage C (the prior): text (and image) conditioning → compressed latents, with previews along the way. */
  private async denoiseStageC(
    call: GenerationCall, request: Exclude<GenerateRequest, { kind: 'upscale' }>, conditioning: Conditioning, clipImage: ClipImageGroups | undefined,
  ): Promise<StageCLatents> {
    const { hooks, geometry, noise, timings } = call;
    const m = this.manifest;
    const prior = this.priorPlan(request, call.debug);
    const progress = new Progress(hooks, prior.sampler.steps + m.decoder.sampler.steps + 1);
    const init = await this.priorInit(call, request, prior.sampler);
    const latents = await timed(timings, 'prior', () =>
      runPrior(this.pool, m, {
        geometry, ...conditioning, clipImage, sampler: prior.sampler, cfg: prior.cfg, rho: m.prior.sampler.rho, init, noise: noise.priorSteps, signal: hooks.signal,
        onStep: async (i, x0) => {
          progress.step('prior', i + 1, prior.sampler.steps);
          if (this.wantsPreview(hooks, i, prior.sampler.steps)) {
            hooks.onPreview?.(await previewLatents(this.pool, m, x0, [request.seeds.length, m.geometry.priorChannels, geometry.hC, geometry.wC]), progress.fraction);
          }
        },
      }),
    );
    return { latents, dims: [geometry.hC, geometry.wC], progress };
  }

  /** One Stage C latent per image: the stored one for an upscale, else the new ones. */
  private outputLatents(request: GenerateRequest, stageC: StageCLatents, geometry: LatentGeometry): Latent[] {
    if (request.kind === 'upscale') return request.seeds.map(() => copyLatent(request.source));
    return splitLatents(stageC.latents, request.seeds.length, [this.manifest.geometry.priorChannels, geometry.hC, geometry.wC]);
  }

  private priorPlan(request: Exclude<GenerateRequest, { kind: 'upscale' }>, debug: DebugOptions): { sampler: GdfSampler; cfg: number } {
    const s = this.manifest.prior.sampler;
    const fullSteps = request.steps ?? s.steps;
    const tStart = startLevel(this.manifest, request);
    const steps = tStart < 1 ? Math.max(1, Math.round(fullSteps * tStart)) : fullSteps;
    return { sampler: makeSampler(s, steps, tStart, debug.timesteps?.prior), cfg: request.cfg ?? s.cfg };
  }

  /**
   * Stage C's starting latents: pure noise for text-to-image; otherwise a start latent (a stored tile's for variations,
   * the picture's EfficientNet latent for image-to-image) re-noised to the sampler's first level — one img2img path.
   */
  private async priorInit({ geometry, noise, timings, debug }: GenerationCall, request: Exclude<GenerateRequest, { kind: 'upscale' }>, sampler: GdfSampler): Promise<Float32Array> {
    const m = this.manifest;
    const size = request.seeds.length * m.geometry.priorChannels * geometry.hC * geometry.wC;
    let start: Float32Array;
    if (request.kind === 'imagine') {
      const init = request.init;
      if (!init) return draw(noise.priorInit, size);
      start = await timed(timings, 'effnetEncoder', () => encodeInitImage(this.pool, m, init.image, geometry.hC, geometry.wC));
      debug.trace?.('init/latent', start);
    } else {
      const [c, h, w] = request.source.dims;
      checkLatent(request.source, c === m.geometry.priorChannels && h === geometry.hC && w === geometry.wC, `[${m.geometry.priorChannels}, ${geometry.hC}, ${geometry.wC}] for ${request.width}×${request.height}`);
      start = request.source.data;
    }
    return addNoise(repeat(start, request.seeds.length), draw(noise.variation, size), sampler.grid[0]!, m.prior.sampler.shift);
  }

  /** Refuses, before any work, a request that needs an encoder this bundle lacks or whose image inputs are out of range. */
  private checkImageInputs(request: GenerateRequest): void {
    if (request.kind !== 'imagine') return;
    if (request.imagePrompts?.length) {
      if (!this.manifest.imageEncoder) throw new MissingGraphError('imageEncoder', this.modelName, 'image prompts');
      checkImagePrompts(request.imagePrompts);
    }
    if (request.init) {
      if (!this.manifest.effnetEncoder) throw new MissingGraphError('effnetEncoder', this.modelName, 'image-to-image from a picture');
      const { strength } = request.init;
      if (!(strength > 0 && strength <= 1)) throw new RangeError(`image-to-image strength must be in (0, 1], got ${strength}`);
    }
  }

  /** Stage B (the decoder) on Stage C's latents, then Stage A (VQGAN) to pixels. */
  private async decode({ geometry, noise, hooks, timings, debug }: GenerationCall, stageC: StageCLatents, conditioning: Conditioning): Promise<RgbImage[]> {
    const { latents: priorLatents, dims: effnetDims, progress } = stageC;
    const m = this.manifest;
    const n = conditioning.cond.count;
    const sampler = makeSampler(m.decoder.sampler, m.decoder.sampler.steps, 1, debug.timesteps?.decoder);
    const t0 = performance.now();
    const latents = await runDecoder(this.pool, m, {
      geometry, effnet: priorLatents, effnetDims, ...conditioning, sampler, cfg: m.decoder.sampler.cfg, rho: m.decoder.sampler.rho,
      init: draw(noise.decoderInit, n * m.geometry.decoderChannels * geometry.hB * geometry.wB), noise: noise.decoderSteps, signal: hooks.signal,
      onStep: (i) => progress.step('decoder', i + 1, sampler.steps),
    });
    timings.decoder = performance.now() - t0;
    debug.trace?.('decoder/out', latents);
    hooks.signal?.throwIfAborted();
    const t1 = performance.now();
    const floats = await decodeLatents(this.pool, m, latents, [n, m.geometry.decoderChannels, geometry.hB, geometry.wB]);
    timings.vqgan = performance.now() - t1;
    debug.trace?.('image', floats.data);
    progress.step('vqgan', 1, 1);
    return toRgbImages(floats, geometry.width, geometry.height);
  }

  private wantsPreview(hooks: GenerateHooks, step: number, steps: number): boolean {
    // Low-memory mode holds one stage at a time: swapping in the previewer mid-loop would drop Stage C.
    if (!hooks.onPreview || !this.manifest.previewer || this.pool.lowMemory) return false;
    const every = Math.max(1, Math.floor(steps / 4));
    return (step + 1) % every === 0 && step + 1 < steps;
  }
}

/** t_start of Stage C: the variation level of a V button, the strength of image-to-image, else 1 (pure noise). */
function startLevel(m: Manifest, request: Exclude<GenerateRequest, { kind: 'upscale' }>): number {
  if (request.kind === 'variation') return m.prior.variation[request.strength];
  return request.init?.strength ?? 1;
}

function makeSampler(s: SamplerSettings, steps: number, tStart: number, timesteps: readonly number[] | undefined): GdfSampler {
  return new GdfSampler({ steps, tStart, shift: s.shift, rho: s.rho, rMode: s.rMode, final: s.final, ...(timesteps ? { timesteps } : {}) });
}

function checkSeeds(seeds: readonly number[]): void {
  if (seeds.length === 0) throw new RangeError('a request needs at least one seed (one image per seed)');
  for (const seed of seeds) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed ${seed} is not an integer in [0, 2^32 − 1]`);
  }
}

function checkLatent(latent: Latent, ok: boolean, expected: string): void {
  const count = latent.dims.reduce((a, b) => a * b, 1);
  if (!ok || count !== latent.data.length) {
    throw new RangeError(`stored latent [${latent.dims.join(', ')}] (${latent.data.length} values) does not fit this model: expected ${expected}`);
  }
}

function repeat(item: Float32Array, times: number): Float32Array {
  const out = new Float32Array(item.length * times);
  for (let k = 0; k < times; k++) out.set(item, k * item.length);
  return out;
}

function splitLatents(all: Float32Array, count: number, dims: [number, number, number]): Latent[] {
  const per = all.length / count;
  return Array.from({ length: count }, (_, i) => ({ dims: [...dims] as [number, number, number], data: all.slice(i * per, (i + 1) * per) }));
}

function copyLatent(latent: Latent): Latent {
  return { dims: [...latent.dims] as [number, number, number], data: Float32Array.from(latent.data) };
}
