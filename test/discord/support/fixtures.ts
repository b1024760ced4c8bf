/** Jobs, results and messages for the Discord tests, built through the real schemas and message model. */
import { JobSchema, ResultSchema, type Job, type Result } from '../../../core/job.ts';
import { makeResult } from '../../bot/support/fixtures.ts';
import { buildJobMessage, type JobMessage } from '../../../bot/message-model.ts';
import type { JobState } from '../../../bot/job-state.ts';

export const APP_ID = '1100000000000000001';
export const CHANNEL_ID = '1200000000000000002';
export const GUILD_ID = '1300000000000000003';
export const USER_ID = '1400000000000000004';
export const INTERACTION_TOKEN = 'aW50ZXJhY3Rpb246dG9rZW46c2VjcmV0LXZhbHVlLTE5OTk';

export function discordJob(options: { id?: string; tokenIssuedAt?: number; replyTo?: string; messageId?: string; parentJobId?: string } = {}): Job {
  return JobSchema.parse({
    v: 1,
    id: options.id ?? 'j0123456789abcdef0123456789abcde',
    kind: 'imagine',
    ...(options.parentJobId ? { parent: { jobId: options.parentJobId, index: 2 } } : {}),
    createdAt: new Date(options.tokenIssuedAt ?? Date.now()).toISOString(),
    requester: { platform: 'discord', userId: USER_ID, channelId: CHANNEL_ID, workspaceId: GUILD_ID },
    delivery: {
      platform: 'discord',
      applicationId: APP_ID,
      interactionToken: INTERACTION_TOKEN,
      tokenIssuedAt: options.tokenIssuedAt ?? Date.now(),
      channelId: CHANNEL_ID,
      guildId: GUILD_ID,
      ...(options.replyTo ? { replyToMessageId: options.replyTo } : {}),
      ...(options.messageId ? { messageId: options.messageId } : {}),
    },
    request: { prompt: 'a lighthouse in a storm', negativePrompt: '', aspect: { w: 3, h: 2 }, size: 'medium', seed: 42, chaos: 0, lite: false, count: 4 },
  });
}

/** A finished 3:2 grid at full size (1216×832 tiles, seeds 42–45), checked against the wire schema. */
export function gridResult(job: Job): Result {
  return ResultSchema.parse(makeResult(job, 4, { width: 1216, height: 832, firstSeed: 42 }));
}

export function completedMessage(job: Job): JobMessage {
  const state: JobState = { phase: 'completed', result: gridResult(job), progress: { fraction: 1 }, updatedAt: Date.now() };
  return buildJobMessage(job, state);
}

export function queuedMessage(job: Job, position = 2): JobMessage {
  return buildJobMessage(job, { phase: 'queued', position, updatedAt: Date.now() });
}
