/**
 * The seam between the worker loop and whatever makes the pixels. The worker loop owns queues,
 * storage and retries; an ImageGenerator owns only compute. The real one is the cascade engine
 * (`cascade/pipeline.ts`); tests may use a small deterministic one kept in `test/`.
 */
import type { StageName, VariationStrength } from '../core/job.ts';
import type { ModelGuide } from '../core/model-notes.ts';

/** Interleaved 8-bit RGB, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A Stage C latent of one image: float32, layout [channels, height, width]. */
export interface Latent {
  dims: [number, number, number];
  data: Float32Array;
}

export interface GenerateProgress {
  stage: StageName;
  step: number;
  steps: number;
  /** Whole-request progress in [0, 1]. */
  fraction: number;
}

export interface GenerateHooks {
  onProgress?: (progress: GenerateProgress) => void;
  /** A quick look at the images before they are done (when the model has a previewer). */
  onPreview?: (images: RgbImage[], fraction: number) => void;
  /** Aborting stops the work between denoising steps with an AbortError. */
  signal?: AbortSignal;
}

/** Bytes of an encoded picture (PNG, JPEG, WebP…), e.g. an upload stored at jobs/{id}/inputs/{n}.png. */
export type EncodedImage = Uint8Array;

/** A picture used as a prompt: its CLIP image embedding, scaled by `weight`, conditions Stage C (clip_img). */
export interface ImagePrompt {
  image: EncodedImage;
  /** 0–3; 1 = the picture as it is, 0 = as if absent. */
  weight: number;
}

interface CommonRequest {
  /** Output size in pixels; sides are multiples of 64. */
  width: number;
  height: number;
  /** One seed per output image. */
  seeds: number[];
}

export type GenerateRequest =
  | (CommonRequest & {
      kind: 'imagine';
      prompt: string;
      negativePrompt: string;
      steps?: number;
      cfg?: number;
      /** 0–100: spread between the images. */
      chaos: number;
      /** Image prompts (1–5 pictures; needs the bundle's image encoder). The prompt may then be empty. */
      imagePrompts?: ImagePrompt[];
      /**
       * Image-to-image (needs the bundle's EfficientNet encoder): Stage C starts from this picture's latent re-noised
       * to t_start = strength, in (0, 1]: small keeps the picture, 1 keeps nothing of it.
       */
      init?: { image: EncodedImage; strength: number };
    })
  | (CommonRequest & {
      kind: 'variation';
      prompt: string;
      negativePrompt: string;
      steps?: number;
      cfg?: number;
      /** The stored latent of the tile being varied; one variation per seed. */
      source: Latent;
      strength: VariationStrength;
    })
  | (CommonRequest & {
      kind: 'upscale';
      prompt: string;
      negativePrompt: string;
      /** The stored latent of the tile, decoded again onto the (larger) width × height canvas. */
      source: Latent;
    });

export interface GenerateOutput {
  images: RgbImage[];
  /** The Stage C latent of each image (for upscale: the source latent, unchanged). */
  latents: Latent[];
  /** ms per phase. */
  timings: Record<string, number>;
}

export interface ImageGenerator {
  /** Base resolution of the loaded model (1024 for Stable Cascade, smaller for the demo model). */
  readonly baseResolution: number;
  readonly modelName: string;
  readonly modelVariant: string;
  /** The model reads image prompts (its bundle has an image encoder); front ends then offer 🧬 "More like this". */
  readonly acceptsImagePrompts?: boolean;
  /** A small model's known words and drawable styles (manifest `vocabulary`, `styles`); absent for real bundles. */
  readonly guide?: ModelGuide;
  generate(request: GenerateRequest, hooks?: GenerateHooks): Promise<GenerateOutput>;
  dispose(): Promise<void>;
}
