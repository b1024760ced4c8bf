/** Slack-flavoured jobs and results for the Slack tests. */
import { WIRE_VERSION, type Job } from '../../../core/job.ts';

export function slackJob(overrides: Partial<Pick<Job, 'id' | 'requester'>> & { messageTs?: string; threadTs?: string; prompt?: string; channelId?: string } = {}): Job {
  const id = overrides.id ?? 'jslack0001';
  const channelId = overrides.channelId ?? 'C0001';
  return {
    v: WIRE_VERSION,
    kind: 'imagine',
    id,
    createdAt: '2026-11-26T10:00:00.000Z',
    requester: overrides.requester ?? { platform: 'slack', userId: 'U0001', channelId, workspaceId: 'T0001' },
    delivery: {
      platform: 'slack',
      teamId: 'T0001',
      channelId,
      ...(overrides.messageTs ? { messageTs: overrides.messageTs } : {}),
      ...(overrides.threadTs ? { threadTs: overrides.threadTs } : {}),
    },
    request: {
      prompt: overrides.prompt ?? 'a lighthouse at dusk',
      negativePrompt: '',
      aspect: { w: 1, h: 1 },
      size: 'medium',
      seed: 42,
      chaos: 0,
      lite: false,
      count: 4,
    },
  };
}

/** Results come from the shared bot fixtures. */
export { makeResult as resultOf } from '../../bot/support/fixtures.ts';
