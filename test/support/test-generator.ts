/**
 * A small deterministic ImageGenerator for worker tests: pixels and latents are simple functions of
 * (seed, prompt, size), so a test can recompute exactly what must have landed in S3.
 */
import type { GenerateHooks, GenerateOutput, GenerateRequest, ImageGenerator, Latent, RgbImage } from '../../gpu-runner/generator.ts';
import type { ModelGuide } from '../../core/model-notes.ts';

export interface TestGeneratorOptions {
  baseResolution?: number;
  /** Denoising steps reported through onProgress. */
  steps?: number;
  /** Delay per step (ms), to give tests time to kill, signal or cancel mid-job. */
  stepDelayMs?: number;
  /** Throw on every call (a poison job) with this message. */
  alwaysFailWith?: string;
  /** Offer a preview (the final images, early) half-way through. */
  previews?: boolean;
}

export const LATENT_CHANNELS = 4;
export const LATENT_STRIDE = 32;

export class TestGenerator implements ImageGenerator {
  readonly baseResolution: number;
  readonly modelName = 'test-generator';
  readonly modelVariant = 'deterministic';
  readonly requests: GenerateRequest[] = [];
  /** A small model's guide (vocabulary, drawable styles), as the demo bundle's manifest gives; settable per test. */
  guide?: ModelGuide;
  disposed = false;
  readonly #options: TestGeneratorOptions;

  constructor(options: TestGeneratorOptions = {}) {
    this.#options = options;
    this.baseResolution = options.baseResolution ?? 128;
  }

  async generate(request: GenerateRequest, hooks: GenerateHooks = {}): Promise<GenerateOutput> {
    this.requests.push(request);
    const steps = this.#options.steps ?? 4;
    for (let step = 1; step <= steps; step += 1) {
      if (hooks.signal?.aborted) throw Object.assign(new Error('generation aborted'), { name: 'AbortError' });
      if (this.#options.stepDelayMs) await new Promise((resolve) => setTimeout(resolve, this.#options.stepDelayMs));
      hooks.onProgress?.({ stage: 'prior', step, steps, fraction: step / steps });
      if (this.#options.previews && step === Math.ceil(steps / 2)) {
        hooks.onPreview?.(request.seeds.map((seed) => expectedImage(seed, request.width, request.height, request.prompt)), step / steps);
      }
    }
    if (hooks.signal?.aborted) throw Object.assign(new Error('generation aborted'), { name: 'AbortError' });
    if (this.#options.alwaysFailWith) throw new Error(this.#options.alwaysFailWith);
    const images = request.seeds.map((seed) => expectedImage(seed, request.width, request.height, request.prompt));
    const latents = request.seeds.map((seed) => (request.kind === 'imagine' ? expectedLatent(seed, request.width, request.height) : variedLatent(request.source, request.kind === 'upscale' ? 0 : seed)));
    return { images, latents, timings: { prior: steps } };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

export function expectedImage(seed: number, width: number, height: number, prompt: string): RgbImage {
  const salt = [...prompt].reduce((sum, char) => (sum * 31 + char.charCodeAt(0)) >>> 0, 7);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      for (let c = 0; c < 3; c += 1) data[(y * width + x) * 3 + c] = (seed * 13 + salt + x * 7 + y * 11 + c * 101) & 255;
    }
  }
  return { width, height, data };
}

export function expectedLatent(seed: number, width: number, height: number): Latent {
  const dims: [number, number, number] = [LATENT_CHANNELS, Math.ceil(height / LATENT_STRIDE), Math.ceil(width / LATENT_STRIDE)];
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  for (let i = 0; i < data.length; i += 1) data[i] = Math.sin(seed + i) * 1.5;
  return { dims, data };
}

/** Variations shift the source latent by a seed-dependent amount; upscales (shift 0) keep it. */
export function variedLatent(source: Latent, seed: number): Latent {
  const shift = seed === 0 ? 0 : ((seed % 1000) + 1) / 1000;
  return { dims: [...source.dims], data: source.data.map((value) => value + shift) };
}
