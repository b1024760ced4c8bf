/**
 * A mood board's records as stored (bot/boards/keys.ts says where), with zod schemas: every object read
 * back is validated, a record that does not parse is an error naming its key, never half-used.
 */
import { z } from 'zod';
import { JobIdSchema, ParentRefSchema, PlatformSchema, TileIndexSchema } from '../../core/job.ts';

/** Board ids: `b` + 11 base-36 chars. They also fit JobIdSchema, so a board's events can share the events queue's grouping. */
export const BoardIdSchema = z.string().regex(/^b[a-z0-9]{11}$/, 'board id must be b + 11 chars of a-z, 0-9');
export type BoardId = z.infer<typeof BoardIdSchema>;

export const VersionIdSchema = z.string().regex(/^[a-z0-9]{9,16}$/, 'version id must be 9–16 chars of a-z, 0-9');

export const UserRefSchema = z.strictObject({
  platform: PlatformSchema,
  userId: z.string().min(1).max(64),
  /** A display name when the platform gave one (initials on the collage, names on the page). */
  name: z.string().min(1).max(80).optional(),
});
export type UserRef = z.infer<typeof UserRefSchema>;

/** Where the board lives: a Discord thread (channelId = the thread), a Slack channel + thread, or the playground. */
export const BoardPlaceSchema = z.strictObject({
  platform: PlatformSchema,
  channelId: z.string().min(1).max(64),
  /** Slack: ts of the header message, whose thread is the session. Discord threads are channels of their own. */
  threadId: z.string().min(1).max(64).optional(),
  /** Discord: the channel the thread was opened from. */
  parentChannelId: z.string().min(1).max(64).optional(),
  workspaceId: z.string().min(1).max(64).optional(),
});
export type BoardPlace = z.infer<typeof BoardPlaceSchema>;

export const VisibilitySchema = z.enum(['private', 'link']);
export type Visibility = z.infer<typeof VisibilitySchema>;

export const BoardRecordSchema = z.strictObject({
  v: z.literal(1),
  id: BoardIdSchema,
  name: z.string().min(1).max(100),
  brief: z.string().max(1000),
  host: UserRefSchema,
  place: BoardPlaceSchema,
  createdAt: z.number().int().nonnegative(),
  deadline: z.number().int().nonnegative(),
  visibility: VisibilitySchema,
  limits: z.strictObject({ maxPins: z.number().int().min(1).max(500), maxMembers: z.number().int().min(1).max(1000) }),
  /** Shared style preset and negative prompt of the board: every generation in it and every `--board` code uses them. */
  style: z.string().min(1).max(32).optional(),
  negativePrompt: z.string().max(2000).default(''),
});
export type BoardRecord = z.infer<typeof BoardRecordSchema>;

/** A pinned tile: the facts the page, the collage and the exports need, copied from the job at pin time (jobs are immutable). */
export const PinRecordSchema = z.strictObject({
  v: z.literal(1),
  jobId: JobIdSchema,
  tile: TileIndexSchema,
  pinnedBy: UserRefSchema,
  at: z.number().int().nonnegative(),
  author: UserRefSchema,
  prompt: z.string().min(1).max(2000),
  negativePrompt: z.string().max(2000),
  seed: z.number().int().min(0).max(0xffffffff),
  optionsText: z.string().max(3000),
  style: z.string().max(32).optional(),
  imageKey: z.string().min(1),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** Lineage: the job and tile this image came from, with a human label. */
  parent: ParentRefSchema.extend({ label: z.string().max(100) }).optional(),
  kind: z.enum(['imagine', 'variation', 'upscale']),
  /** The pin slot it holds (board-store.ts: the pin limit is exact); set by addPin. */
  slot: z.number().int().min(0).max(499).optional(),
});
export type PinRecord = z.infer<typeof PinRecordSchema>;

/** `slot`: the member slot it holds (board-store.ts: the member limit is exact). */
export const MemberRecordSchema = z.strictObject({ v: z.literal(1), user: UserRefSchema, at: z.number().int().nonnegative(), slot: z.number().int().min(0).max(999).optional() });
export const CandidateRecordSchema = z.strictObject({ v: z.literal(1), jobId: JobIdSchema, author: UserRefSchema, at: z.number().int().nonnegative() });
export type CandidateRecord = z.infer<typeof CandidateRecordSchema>;
export const HeroRecordSchema = z.strictObject({ v: z.literal(1), pinKey: z.string().min(3).max(80), by: UserRefSchema, at: z.number().int().nonnegative() });
export type HeroRecord = z.infer<typeof HeroRecordSchema>;
export const EndedRecordSchema = z.strictObject({
  v: z.literal(1),
  at: z.number().int().nonnegative(),
  by: UserRefSchema.optional(),
  reason: z.enum(['ended', 'deadline', 'place_gone']),
});
export type EndedRecord = z.infer<typeof EndedRecordSchema>;

/** Where the header message is, once posted (Discord: thread + message id; Slack: channel + ts; web: none). */
export const HeaderRecordSchema = z.strictObject({
  v: z.literal(1),
  platform: PlatformSchema,
  channelId: z.string().min(1).max(64),
  messageId: z.string().min(1).max(64),
});
export type HeaderRecord = z.infer<typeof HeaderRecordSchema>;

/** A frozen board version behind a code `mb-{boardId}-{versionId}`: the pinned set with vote weights. */
export const BoardVersionSchema = z.strictObject({
  v: z.literal(1),
  boardId: BoardIdSchema,
  versionId: VersionIdSchema,
  createdAt: z.number().int().nonnegative(),
  name: z.string(),
  /** sha256 of the pinned set, votes and hero: a version is written only when this changes. */
  contentHash: z.string().length(64),
  style: z.string().max(32).optional(),
  negativePrompt: z.string(),
  tasteLine: z.string(),
  heroPinKey: z.string().optional(),
  pins: z.array(z.strictObject({ pinKey: z.string(), jobId: JobIdSchema, tile: TileIndexSchema, prompt: z.string(), seed: z.number().int(), imageKey: z.string(), votes: z.number().int().nonnegative(), weight: z.number().min(0).max(1) })),
});
export type BoardVersion = z.infer<typeof BoardVersionSchema>;

/** Everything the collage, the page, the header and the exports are computed from. */
export interface BoardState {
  board: BoardRecord;
  pins: Array<PinRecord & { pinKey: string; votes: number }>;
  hero?: HeroRecord;
  cohosts: string[];
  members: number;
  candidates: number;
  ended?: EndedRecord;
}

/** `mb-{boardId}-{versionId}`. */
export function boardCode(boardId: string, versionId: string): string {
  return `mb-${boardId}-${versionId}`;
}

export function parseBoardCode(code: string): { boardId: BoardId; versionId: string } | undefined {
  const match = /^mb-(b[a-z0-9]{11})-([a-z0-9]{9,16})$/.exec(code.trim());
  return match ? { boardId: match[1]!, versionId: match[2]! } : undefined;
}
