/**
 * The commands' single path to the queue: builds the Job record around a request and hands it to
 * `submitJob` (bot/submit.ts: per-user cap, job.json, queue, `queued` event), translating its
 * outcome into a command reply. Moderation and place checks happen here too, so no command can
 * enqueue a prompt that skipped them.
 */
import { WIRE_VERSION, type GenerationRequest, type Job, type ParentRef, type VariationStrength } from '../../core/job.js';
import { jobIdFrom } from '../../core/ids.js';
import { submitJob } from '../submit.js';
import { checkPlace, moderatePrompt } from '../moderation.js';
import type { BotDeps, CommandContext, ImagineReply, Rejected } from './context.js';

export type JobSpec =
  | { kind: 'imagine'; parent?: ParentRef }
  | { kind: 'variation'; parent: ParentRef; strength: VariationStrength }
  | { kind: 'upscale'; parent: ParentRef };

export function rejected(code: string, message: string): Rejected {
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

export async function enqueue(deps: BotDeps, ctx: CommandContext, request: GenerationRequest, spec: JobSpec): Promise<ImagineReply> {
  const refusal = screen(deps, ctx, request.prompt);
  if (refusal) return refusal;
  const now = deps.now ?? Date.now;
  const job = {
    v: WIRE_VERSION,
    id: jobIdFrom(ctx.sourceId),
    createdAt: new Date(now()).toISOString(),
    requester: ctx.requester,
    delivery: ctx.delivery,
    request,
    ...spec,
  } as Job;
  const outcome = await submitJob({ queue: deps.queue, events: deps.events, blobs: deps.blobs, now, ...(deps.maxPendingPerUser === undefined ? {} : { maxPendingPerUser: deps.maxPendingPerUser }) }, job);
  if (!outcome.accepted) return rejected(outcome.code, outcome.message);
  return { kind: 'accepted', jobId: outcome.jobId, duplicate: outcome.duplicate, ...(outcome.position === undefined ? {} : { position: outcome.position }) };
}

export function randomSeed(deps: BotDeps): number {
  return deps.randomSeed ? deps.randomSeed() : crypto.getRandomValues(new Uint32Array(1))[0]!;
}
