/**
 * `manifest.json` of a model bundle: every constant the TypeScript loop needs, so that the same code
 * runs the real Stable Cascade on a GPU and the small demo model on a laptop CPU.
 * Numbers and names follow `shared/docs/cascade-spec.md` (§1.2 geometry, §1.3 I/O contract, §3 sampling).
 * Written by `tools/export/` (real weights, parity fixture) and `tools/train-demo/` (demo model).
 */
import { z } from 'zod';

export const BUNDLE_FORMAT = 'cascade-bundle' as const;
export const BUNDLE_VERSION = 1 as const;

export const TensorDtypeSchema = z.enum(['float32', 'float16']);
export type TensorDtype = z.infer<typeof TensorDtypeSchema>;

/** Sampler settings of one diffusion stage, in the gdf formulation of spec §3.5 (diffusers = shift 1, rho 0, rMode raw, final mu). */
export const SamplerSchema = z.strictObject({
  steps: z.number().int().min(1).max(200),
  /** Guidance scale; ≤ 1 disables CFG (no batch doubling). */
  cfg: z.number().min(0).max(30),
  shift: z.number().positive(),
  /** CFG rescale ρ (0.7 official, 0 = off). */
  rho: z.number().min(0).max(1),
  rMode: z.enum(['gdf', 'raw']),
  final: z.enum(['x0', 'mu']),
});
export type SamplerSettings = z.infer<typeof SamplerSchema>;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * The same graph with every symbolic dim fixed for one set of input shapes (written by `npm run model:buckets`,
 * gpu-runner/cascade/buckets.ts): onnxruntime folds its shape arithmetic away, and the WebGPU provider ran such graphs
 * 1.1–1.8× faster than the dynamic ones (issue #25). It shares the dynamic graph's external-data file. The engine runs it whenever a call's
 * feeds have exactly `inputs`' shapes and the dynamic graph otherwise.
 */
export const GraphBucketSchema = z.strictObject({
  /** Path of the bucket's .onnx file relative to the bundle root (next to the dynamic graph). */
  file: z.string().min(1),
  sha256: Sha256.optional(),
  /** Every input's fixed dims, by input name. */
  inputs: z.record(z.string().min(1), z.array(z.number().int().positive()).min(1).max(8)),
  /** Opened when the engine starts and kept open (the shapes every request uses); others open at first use. */
  warm: z.boolean().default(false),
});
export type GraphBucket = z.infer<typeof GraphBucketSchema>;

const GraphFile = {
  /** Path of the .onnx file relative to the bundle root. */
  file: z.string().min(1),
  /** External-data files next to it (graphs over 2 GB), relative to the bundle root. */
  externalData: z.array(z.string().min(1)).default([]),
  /** dtype of the graph's float inputs and outputs (timestep_ratio is always float32). */
  dtype: TensorDtypeSchema,
  /** sha256 of the .onnx file, checked at load when present. */
  sha256: Sha256.optional(),
  /** Fixed-shape copies of this graph (see GraphBucketSchema); none by default. */
  buckets: z.array(GraphBucketSchema).max(64).default([]),
};

/** Per-channel R, G, B values (normalisation mean / std). */
const Rgb = z.tuple([z.number(), z.number(), z.number()]);
const RgbPositive = z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]);

export const ManifestSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  version: z.literal(BUNDLE_VERSION),
  name: z.string().min(1),
  /** e.g. `big`, `lite`, `demo`, `fixture`. */
  variant: z.string().min(1),
  description: z.string().default(''),
  license: z.string().default(''),
  tokenizer: z.strictObject({
    vocab: z.string().min(1),
    merges: z.string().min(1),
    maxLength: z.number().int().positive(),
    bosId: z.number().int().nonnegative(),
    eosId: z.number().int().nonnegative(),
    padId: z.number().int().nonnegative(),
  }),
  resolution: z.strictObject({
    /** Side of the default square image (1024 for Stable Cascade). */
    base: z.number().int().positive(),
    /** Output sides must be multiples of this (64: Stage B's skips line up, spec §1.2). */
    multiple: z.number().int().positive(),
    min: z.number().int().positive(),
    max: z.number().int().positive(),
  }),
  geometry: z.strictObject({
    /** h_c = ceil(H / priorCompression); 42.67 for Stable Cascade. */
    priorCompression: z.number().positive(),
    /** h_b = ceil(H / decoderCompression); 4 for Stable Cascade (official rule, not int(h_c × 10.67)). */
    decoderCompression: z.number().positive(),
    priorChannels: z.number().int().positive(),
    decoderChannels: z.number().int().positive(),
  }),
  textEncoder: z.strictObject({
    ...GraphFile,
    hiddenSize: z.number().int().positive(),
    /** Width of the pooled (projected) embedding. */
    pooledSize: z.number().int().positive(),
    inputs: z.strictObject({ inputIds: z.string().default('input_ids'), attentionMask: z.string().default('attention_mask') }),
    outputs: z.strictObject({ pooled: z.string().default('text_embeds'), hidden: z.string().default('hidden_state_last') }),
  }),
  prior: z.strictObject({
    ...GraphFile,
    /** Width of one clip_img token (768), fed as zeros when there is no image. */
    clipImageSize: z.number().int().positive(),
    /**
     * The number of clip_img groups the graph was exported for, when that axis is fixed (the demo prior takes exactly
     * 1); absent = any number (spec §4.3: one group per picture). With a fixed 1, several pictures (a blend) are
     * summed into that one group, each scaled by its weight (encoders.ts `fitClipImageGroups`); checked at load.
     */
    clipImageGroups: z.literal(1).optional(),
    sampler: SamplerSchema,
    /** Re-noising levels for variations (t_start of the img2img loop, spec §4.2). */
    variation: z.strictObject({ subtle: z.number().gt(0).lte(1), strong: z.number().gt(0).lte(1) }),
    inputs: z.strictObject({
      sample: z.string().default('sample'),
      timestepRatio: z.string().default('timestep_ratio'),
      clipTextPooled: z.string().default('clip_text_pooled'),
      clipText: z.string().default('clip_text'),
      clipImg: z.string().default('clip_img'),
    }),
    output: z.string().default('sample'),
  }),
  decoder: z.strictObject({
    ...GraphFile,
    sampler: SamplerSchema,
    inputs: z.strictObject({
      sample: z.string().default('sample'),
      timestepRatio: z.string().default('timestep_ratio'),
      clipTextPooled: z.string().default('clip_text_pooled'),
      effnet: z.string().default('effnet'),
    }),
    output: z.string().default('sample'),
  }),
  vqgan: z.strictObject({
    ...GraphFile,
    /** Latents are multiplied by this before decoding (0.43 official, 0.3764 diffusers). */
    scaleFactor: z.number().positive(),
    input: z.string().default('latents'),
    output: z.string().default('image'),
  }),
  /** Optional fast preview of Stage C latents → small RGB in [0, 1]. */
  previewer: z
    .strictObject({ ...GraphFile, input: z.string().default('latents'), output: z.string().default('image') })
    .optional(),
  /**
   * Optional CLIP vision tower + projection (image variations, image prompts: spec §1.3, §4.3). Preprocessing (done by
   * the engine with sharp): shortest side resized to `size` (bicubic), centre crop `size`×`size`, RGB in [0, 1],
   * then (x − mean) / std per channel. Input [B, 3, size, size] → output [B, embedSize], fed to Stage C's clip_img.
   */
  imageEncoder: z
    .strictObject({
      ...GraphFile,
      input: z.string().default('pixel_values'),
      output: z.string().default('image_embeds'),
      /** Side of the square input (224 for CLIP ViT-L/14). */
      size: z.number().int().min(8).max(1024),
      mean: Rgb,
      std: RgbPositive,
      /** Width of the output embedding; must equal prior.clipImageSize (768 for ViT-L/14). */
      embedSize: z.number().int().positive(),
    })
    .optional(),
  /**
   * Optional EfficientNet encoder: image → Stage C latent (image-to-image, spec §4.1). Preprocessing (engine, sharp):
   * the picture is resized to cover and centre-cropped to (cell·hC) × (cell·wC) px for an hC × wC latent (antialiased
   * bilinear, as torchvision's `resize(antialias=True)` in the official recipe), RGB in [0, 1], then (x − mean) / std.
   * Input [B, 3, cell·hC, cell·wC] → output [B, channels, hC, wC].
   */
  effnetEncoder: z
    .strictObject({
      ...GraphFile,
      input: z.string().default('image'),
      output: z.string().default('latent'),
      /** Input pixels per latent cell: 32 for EfficientNetV2-S (five stride-2 stages). */
      cell: z.number().int().min(1).max(256),
      mean: Rgb,
      std: RgbPositive,
      /** Output channels; must equal geometry.priorChannels (16). */
      channels: z.number().int().positive(),
    })
    .optional(),
  /** Optional: the words a small model was trained on (real bundles have none). Prompt words outside it are named
   * back to the user (core/model-notes.ts) while the image is still made. */
  vocabulary: z
    .strictObject({
      /** Says what the model does draw, e.g. "the demo model draws shapes and colours". */
      summary: z.string().min(1).max(200),
      words: z.array(z.string().min(1).max(40)).min(1).max(5000),
    })
    .optional(),
  /** Optional: the `--style` presets this model can draw, each mapped to words it knows; a preset absent here is not
   * applied and the user is told so. Absent = every preset applies as written (real bundles). */
  styles: z.record(z.string(), z.strictObject({ promptSuffix: z.string(), negative: z.string() })).optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;
export type ImageEncoderSettings = NonNullable<Manifest['imageEncoder']>;
export type EffnetEncoderSettings = NonNullable<Manifest['effnetEncoder']>;
