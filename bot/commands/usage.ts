/**
 * `/info` without a job: where the actor stands — their jobs in progress against the per-user cap,
 * the queue's length and whether a GPU is up.
 */
import { listPending } from '../../core/pending.ts';
import { DEFAULT_MAX_PENDING_PER_USER } from '../submit.ts';
import { alwaysWarm } from '../fleet.ts';
import type { BotDeps, CommandContext, InfoReply } from './context.ts';

export async function usage(deps: BotDeps, ctx: CommandContext): Promise<InfoReply> {
  const limit = deps.maxPendingPerUser ?? DEFAULT_MAX_PENDING_PER_USER;
  const [pending, depth, warm] = await Promise.all([
    listPending(deps.blobs, ctx.requester, (deps.now ?? Date.now)()),
    deps.queue.depth().catch(() => undefined),
    (deps.fleet ?? alwaysWarm).isWarm().catch(() => undefined),
  ]);
  const queueLine = depth === undefined ? 'Queue: unknown right now' : `Queue: ${depth.visible} waiting, ${depth.inFlight} being made`;
  const gpuLine = warm === undefined ? 'GPU: unknown right now' : warm ? 'GPU: ready' : 'GPU: asleep (the next job wakes one up, about 1–2 minutes)';
  return {
    kind: 'info',
    title: 'Your usage',
    lines: [`In progress: ${pending.length} of ${limit} allowed at once`, queueLine, gpuLine],
    copyable: pending.map((id) => ({ label: 'Job in progress', value: id })),
  };
}
