/**
 * The commands' single path to the queue: builds the Job record around a request and hands it to
 * `submitJob` (bot/submit.ts: per-user cap, job.json, queue, `queued` event), translating its
 * outcome into a command reply. Moderation and place checks happen here too, so no command can
 * enqueue a prompt that skipped them.
 */
import { WIRE_VERSION, type GenerationRequest, type ImagePromptRef, type Job, type ParentRef, type VariationStrength } from '../../core/job.ts';
import { jobIdFrom } from '../../core/ids.ts';
import { checkAdmission, submitJob, type SubmitDeps } from '../submit.ts';
import { checkPlace, moderatePrompt } from '../moderation.ts';
import type { BotDeps, CommandContext, ImagineReply, Rejected, RejectionCode } from './context.ts';
import { boardForJob, captureCandidate, inBoardStyle, joinBoard } from '../boards/capture.ts';
import { withBoardImages } from '../boards/board-style.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { discardUploads, storeUploads, type NormalisedUpload } from '../uploads.ts';

export type JobSpec =
  | { kind: 'imagine'; parent?: ParentRef }
  | { kind: 'variation'; parent: ParentRef; strength: VariationStrength }
  | { kind: 'upscale'; parent: ParentRef };

/**
 * Where the job's board comes from: a child (U/V/🔄/remix) stays in its parent's board; a new job joins the open
 * board of the place it was asked in (bot/boards/capture.ts). `boardCode` is a `--board` code whose style it uses.
 */
export interface JobPlacement {
  parentBoardId?: string;
  boardCode?: string;
  /** A board code's pinned pictures (bot/boards/board-style.ts), after the user's own image prompts. */
  boardImages?: readonly ImagePromptRef[];
}

export function rejected(code: RejectionCode, message: string): Rejected {
  return { kind: 'rejected', code, message };
}

/** Place and prompt checks shared by every command that creates a job. */
export function screen(deps: BotDeps, ctx: CommandContext, prompt?: string): Rejected | undefined {
  const place = checkPlace(deps.moderation, ctx.requester);
  if (!place.allowed) return rejected(place.code, place.message);
  if (prompt !== undefined) {
    const verdict = moderatePrompt(deps.moderation, prompt, ctx.channel);
    if (!verdict.allowed) return rejected(verdict.code, verdict.message);
  }
  return undefined;
}

/**
 * `request` may still be in the making (imagine reads the saved defaults): the duplicate and cap checks need only the
 * job id and the requester, so they run meanwhile instead of after it (one store round trip less before the queue).
 */
export async function enqueue(
  deps: BotDeps, ctx: CommandContext, request: GenerationRequest | Promise<GenerationRequest>, spec: JobSpec, placement: JobPlacement = {},
  uploads: readonly (NormalisedUpload & { weight?: number })[] = [],
): Promise<ImagineReply> {
  const now = deps.now ?? Date.now;
  const submitDeps: SubmitDeps = { queue: deps.queue, events: deps.events, blobs: deps.blobs, now, ...(deps.maxPendingPerUser === undefined ? {} : { maxPendingPerUser: deps.maxPendingPerUser }) };
  const id = jobIdFrom(ctx.sourceId);
  const checks = checkAdmission(submitDeps, id, ctx.requester);
  checks.catch(() => undefined); // observed by submitJob below; a refusal before that must not leave it unhandled
  // The board lookup (one LIST when the place has none) runs beside the admission checks, not after them.
  const boardLookup = boardForJob(deps.blobs, ctx.requester, placement.parentBoardId, now());
  boardLookup.catch(() => undefined);
  const asked = await request;
  const inputKeys = uploads.map((_, n) => jobKeys.input(id, n));
  const resolved = withBoardImages(withPictures(asked, inputKeys, uploads.map((upload) => upload.weight)), placement.boardImages ?? []);
  const refusal = screen(deps, ctx, resolved.prompt);
  if (refusal) return refusal;
  const board = await boardLookup;
  const joined = board ? await joinBoard(deps.blobs, board, ctx.requester, now()) : undefined;
  if (joined) return joined;
  const job = {
    v: WIRE_VERSION,
    id,
    createdAt: new Date(now()).toISOString(),
    requester: ctx.requester,
    delivery: ctx.delivery,
    request: board ? inBoardStyle(resolved, board) : resolved,
    ...spec,
    ...(board ? { boardId: board.id } : {}),
    ...(placement.boardCode ? { boardCode: placement.boardCode } : {}),
  } as Job;
  // Stored only now that every check before the queue has passed; removed again if the submission is refused. A
  // replayed request (same id) leaves the first request's pictures as they are: its job may be reading them.
  if (uploads.length && !(await checks).duplicate) await storeUploads(deps.blobs, id, uploads);
  const outcome = await submitJob(submitDeps, job, checks).catch(async (error: unknown) => {
    await discardUploads(deps.blobs, inputKeys).catch(() => undefined);
    throw error;
  });
  if (!outcome.accepted) {
    await discardUploads(deps.blobs, inputKeys);
    return rejected(outcome.code, outcome.message);
  }
  if (board && !outcome.duplicate) await captureCandidate(deps.blobs, board.id, job);
  return { kind: 'accepted', jobId: outcome.jobId, duplicate: outcome.duplicate, ...(outcome.position === undefined ? {} : { position: outcome.position }) };
}

/**
 * Uploaded pictures, stored under the job's own keys (bot/uploads.ts), become its image prompts, each weighted by its
 * own weight when it has one, else by `--iw` (default 1); with `--strength` the first one is the start image
 * (image-to-image) instead.
 */
export function withPictures(request: GenerationRequest, inputKeys: readonly string[], weights: readonly (number | undefined)[] = []): GenerationRequest {
  if (inputKeys.length === 0) return request;
  const first = request.imageStrength === undefined ? 0 : 1;
  const prompts = inputKeys.map((key, n) => ({ key, weight: weights[n] ?? request.imageWeight ?? 1 })).slice(first);
  return {
    ...request,
    ...(first === 1 ? { initImage: { key: inputKeys[0]!, strength: request.imageStrength! } } : {}),
    ...(prompts.length ? { imagePrompts: prompts } : {}),
  };
}

export function randomSeed(deps: BotDeps): number {
  return deps.randomSeed ? deps.randomSeed() : crypto.getRandomValues(new Uint32Array(1))[0]!;
}
