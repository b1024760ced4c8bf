/**
 * The wire format between the bots, the queue, the GPU runner and the dispatcher.
 *
 * Every message that crosses a process boundary (SQS body, S3 JSON object) is parsed with these
 * schemas; strict objects so that a typo or a foreign message is rejected with a readable error
 * instead of being half-understood. `v` is the wire version: bump it and keep the old parser when
 * the shape changes, because messages and S3 records outlive deployments.
 */
import { z } from 'zod';
import { IMAGE_KEY_PATTERN } from './storage-layout.ts';

export const WIRE_VERSION = 1 as const;

/** Job ids are safe in S3 keys, custom ids (≤ 100 chars with action and index) and file names. */
export const JobIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'job id must be 1–64 chars of a-z, 0-9 and -, starting with a letter or digit');
export type JobId = z.infer<typeof JobIdSchema>;

export const PlatformSchema = z.enum(['discord', 'slack', 'web']);
export type Platform = z.infer<typeof PlatformSchema>;

/** Who asked, and where. Ids are the platform's own (Discord snowflakes, Slack U…/C…/T…, web session ids). */
export const RequesterSchema = z.strictObject({
  platform: PlatformSchema,
  userId: z.string().min(1).max(64),
  channelId: z.string().min(1).max(64),
  /** Discord guild id or Slack team id; absent in DMs and on the web. */
  workspaceId: z.string().min(1).max(64).optional(),
  /** Slack thread timestamp when the request came from a thread. */
  threadId: z.string().min(1).max(64).optional(),
});
export type Requester = z.infer<typeof RequesterSchema>;

/**
 * Where the dispatcher delivers updates. Kept separate from the requester because it holds
 * short-lived credentials (a Discord interaction token is valid 15 minutes): never log it.
 */
export const DeliverySchema = z.discriminatedUnion('platform', [
  z.strictObject({
    platform: z.literal('discord'),
    applicationId: z.string().min(1).max(32),
    interactionToken: z.string().min(1).max(512),
    /** When the token was issued (ms since epoch); after 15 minutes the bot token is used instead. */
    tokenIssuedAt: z.number().int().nonnegative(),
    channelId: z.string().min(1).max(32),
    /** The message the job owns, once known. */
    messageId: z.string().min(1).max(32).optional(),
    /** Message to reply to (the parent job's message) for upscales and variations. */
    replyToMessageId: z.string().min(1).max(32).optional(),
    /** Guild of the channel, for message links (absent in DMs). */
    guildId: z.string().min(1).max(32).optional(),
    /** The interaction's `attachment_size_limit` in bytes; 10 MiB when absent. */
    attachmentLimitBytes: z.number().int().positive().optional(),
  }),
  z.strictObject({
    platform: z.literal('slack'),
    teamId: z.string().min(1).max(32).optional(),
    channelId: z.string().min(1).max(32),
    /** ts of the placeholder message that chat.update edits. */
    messageTs: z.string().min(1).max(32).optional(),
    threadTs: z.string().min(1).max(32).optional(),
  }),
  z.strictObject({
    platform: z.literal('web'),
    sessionId: z.string().min(1).max(64),
  }),
]);
export type Delivery = z.infer<typeof DeliverySchema>;

/**
 * Whether the runner stores a grid image for a job delivered here. Chat messages attach the grid; the web
 * playground lays out the four tiles itself, so its jobs skip the grid's encode and upload (8–13 ms of a
 * 256² job's 55–65 ms outside the model on 2 cores: docs/decisions/008-end-to-end-overhead.md).
 */
export function storesGridImage(delivery: Delivery): boolean {
  return delivery.platform !== 'web';
}

export const AspectSchema = z.strictObject({
  w: z.number().int().min(1).max(21),
  h: z.number().int().min(1).max(21),
});
export type Aspect = z.infer<typeof AspectSchema>;

/** Size classes relative to the model's base resolution (1024² for Stable Cascade). */
export const SizeClassSchema = z.enum(['small', 'medium', 'large']);
export type SizeClass = z.infer<typeof SizeClassSchema>;

export const VariationStrengthSchema = z.enum(['subtle', 'strong']);
export type VariationStrength = z.infer<typeof VariationStrengthSchema>;

/**
 * Where a picture given with a request is stored: an upload normalised into the job's own keys
 * (`jobs/{id}/inputs/{n}.png`), or a finished tile of an earlier job (`jobs/{id}/image-{k}.png`, "More like this").
 * Nothing else can be named, so a request can never make the runner read an arbitrary object.
 */
export const ImageKeySchema = z.string().regex(IMAGE_KEY_PATTERN, 'an image key is jobs/{id}/inputs/{0-4}.png or jobs/{id}/image-{1-4}.png');

/** At most this many pictures condition one request (Stage C's clip_img groups, spec §4.3). */
export const MAX_IMAGE_PROMPTS = 5;
/** Image weight range (`--iw`): 0 = as if absent, 1 = as given; above 3 the effect saturates. */
export const MAX_IMAGE_WEIGHT = 3;

export const ImagePromptRefSchema = z.strictObject({ key: ImageKeySchema, weight: z.number().min(0).max(MAX_IMAGE_WEIGHT) });
export type ImagePromptRef = z.infer<typeof ImagePromptRefSchema>;

/** What the user asked for, after parsing `/imagine` text and slash options and applying defaults. */
export const GenerationRequestSchema = z.strictObject({
  /** May be empty only with image prompts (a pure image variation or blend); the parser and /blend enforce it. */
  prompt: z.string().max(2000),
  negativePrompt: z.string().max(2000).default(''),
  aspect: AspectSchema,
  size: SizeClassSchema,
  /** Seed of tile 1; tiles 2–4 derive their seeds from it. uint32. */
  seed: z.number().int().min(0).max(0xffffffff),
  /** Stage C steps; absent = the model bundle's default. */
  steps: z.number().int().min(1).max(100).optional(),
  /** Stage C guidance; absent = the model bundle's default. */
  cfg: z.number().min(0).max(30).optional(),
  /** 0–100: how different the four tiles are from each other. */
  chaos: z.number().int().min(0).max(100),
  style: z.string().min(1).max(32).optional(),
  /** Use the lite Stage C / Stage B variant when the deployment has it. */
  lite: z.boolean(),
  /** Number of images in the grid. */
  count: z.number().int().min(1).max(4),
  /** `--iw`: the weight of the request's image prompts, as typed (1 when absent). */
  imageWeight: z.number().min(0).max(MAX_IMAGE_WEIGHT).optional(),
  /**
   * `--strength`, as typed: the request's first picture is its start image (`initImage`) at this strength, the others
   * are its image prompts.
   */
  imageStrength: z.number().gt(0).max(1).optional(),
  /** Pictures whose CLIP embeddings condition Stage C (uploads, or a tile for "More like this"); 1–5. */
  imagePrompts: z.array(ImagePromptRefSchema).min(1).max(MAX_IMAGE_PROMPTS).optional(),
  /** Image-to-image: Stage C starts from this picture, re-noised to t_start = strength ∈ (0, 1]. */
  initImage: z.strictObject({ key: ImageKeySchema, strength: z.number().gt(0).max(1) }).optional(),
});
export type GenerationRequest = z.infer<typeof GenerationRequestSchema>;

export const TileIndexSchema = z.number().int().min(1).max(4);

export const JobKindSchema = z.enum(['imagine', 'variation', 'upscale']);
export type JobKind = z.infer<typeof JobKindSchema>;

const JobBase = {
  v: z.literal(WIRE_VERSION),
  id: JobIdSchema,
  createdAt: z.iso.datetime(),
  requester: RequesterSchema,
  delivery: DeliverySchema,
  request: GenerationRequestSchema,
  /** The mood board this job was made in (bot/boards/), when it was made in a board's place. */
  boardId: z.string().regex(/^b[a-z0-9]{11}$/).optional(),
  /**
   * The board code (`mb-…`) whose style this job was made in (`--board`). Its prompt already carries the board's taste
   * line, style and negative prompt; the code is kept for the runner's image conditioning (vote-weighted embeddings of
   * the pins, bot/boards/board-style.ts `boardReferences`) once images as prompts exist.
   */
  boardCode: z.string().regex(/^mb-b[a-z0-9]{11}-[a-z0-9]{9,16}$/).optional(),
};

export const ParentRefSchema = z.strictObject({ jobId: JobIdSchema, index: TileIndexSchema });
export type ParentRef = z.infer<typeof ParentRefSchema>;

/**
 * A job on the jobs queue. `imagine` makes a grid (a reroll is an `imagine` with a parent and a new seed);
 * `variation` re-noises one stored Stage C latent of the parent; `upscale` decodes one stored latent at 2×.
 */
export const JobSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...JobBase, kind: z.literal('imagine'), parent: ParentRefSchema.optional() }),
  z.strictObject({ ...JobBase, kind: z.literal('variation'), parent: ParentRefSchema, strength: VariationStrengthSchema }),
  z.strictObject({ ...JobBase, kind: z.literal('upscale'), parent: ParentRefSchema }),
]);
export type Job = z.infer<typeof JobSchema>;

/**
 * A Stage C latent as stored next to the images: float32 little-endian, layout [channels, height, width], starting
 * `offset` bytes into the object at `key`. A job's latents share one object (one upload instead of four); results
 * written before that have one object per latent and no offset.
 */
export const LatentRefSchema = z.strictObject({
  key: z.string().min(1),
  dims: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
  dtype: z.literal('float32'),
  offset: z.number().int().min(0).optional(),
});
export type LatentRef = z.infer<typeof LatentRefSchema>;

export const ResultImageSchema = z.strictObject({
  index: TileIndexSchema,
  key: z.string().min(1),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  seed: z.number().int().min(0).max(0xffffffff),
  latent: LatentRefSchema,
});
export type ResultImage = z.infer<typeof ResultImageSchema>;

/** `jobs/{id}/result.json`: what the runner produced. Its presence means the job is done. */
export const ResultSchema = z.strictObject({
  v: z.literal(WIRE_VERSION),
  jobId: JobIdSchema,
  kind: JobKindSchema,
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** The grid image (2×2 for four images); for a single image, the image itself. Absent when the job's delivery
   * lays out the tiles itself (storesGridImage). */
  grid: z.strictObject({ key: z.string().min(1), width: z.number().int().positive(), height: z.number().int().positive(), contentType: z.string() }).optional(),
  images: z.array(ResultImageSchema).min(1).max(4),
  /** `imagePrompts`: the model reads image prompts (its bundle has an image encoder), so 🧬 is offered. */
  model: z.strictObject({ name: z.string(), variant: z.string(), imagePrompts: z.boolean().optional() }),
  /** Milliseconds per phase, for /info and benchmarks. */
  timings: z.record(z.string(), z.number().nonnegative()),
  finishedAt: z.iso.datetime(),
  runnerId: z.string(),
  /** What the model could not draw of the request, for the user (core/model-notes.ts); absent when nothing. */
  notes: z.array(z.string().max(300)).max(4).optional(),
});
export type Result = z.infer<typeof ResultSchema>;

export const StageNameSchema = z.enum(['text', 'prior', 'decoder', 'vqgan']);
export type StageName = z.infer<typeof StageNameSchema>;

const EventBase = {
  v: z.literal(WIRE_VERSION),
  jobId: JobIdSchema,
  /** ms since epoch at the producer. */
  at: z.number().int().nonnegative(),
};

/** Events on the events queue, from the runner (started/progress/preview/completed/failed) and the bot (queued). */
export const JobEventSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...EventBase, type: z.literal('queued'), position: z.number().int().nonnegative().optional() }),
  z.strictObject({ ...EventBase, type: z.literal('started'), runnerId: z.string(), attempt: z.number().int().positive() }),
  z.strictObject({
    ...EventBase,
    type: z.literal('progress'),
    stage: StageNameSchema,
    step: z.number().int().nonnegative(),
    steps: z.number().int().positive(),
    /** Whole-job progress in [0, 1]. */
    fraction: z.number().min(0).max(1),
  }),
  z.strictObject({ ...EventBase, type: z.literal('preview'), key: z.string().min(1), fraction: z.number().min(0).max(1) }),
  z.strictObject({
    ...EventBase,
    type: z.literal('completed'),
    resultKey: z.string().min(1),
    /** What result.json holds, so the consumer need not read it back (one store round trip less before the grid is
     * shown). result.json stays the durable record: absent here when a runner re-announces a job that an earlier
     * attempt finished, and consumers read the file then. */
    result: ResultSchema.optional(),
  }),
  /**
   * A mood board changed (pin, vote, hero, end; bot/boards/). `jobId` holds the board id (board ids fit the job-id
   * pattern): a board's events then group and order like a job's on a FIFO events queue. Published by the bot only.
   */
  z.strictObject({ ...EventBase, type: z.literal('board_changed'), change: z.enum(['started', 'pinned', 'unpinned', 'voted', 'hero', 'ended']) }),
  z.strictObject({
    ...EventBase,
    type: z.literal('failed'),
    /** Stable machine-readable code, e.g. `poison_message`, `model_error`, `parent_missing`, `cancelled`. */
    code: z.string().min(1).max(64),
    /** A sentence for the user. Never contains secrets or stack traces. */
    reason: z.string().min(1).max(500),
    /** True when the runner released the job for another attempt. */
    willRetry: z.boolean(),
  }),
]);
export type JobEvent = z.infer<typeof JobEventSchema>;
