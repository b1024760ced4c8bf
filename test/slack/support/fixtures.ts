/** Slack-flavoured jobs and results for the Slack tests. */
import { jobKeys, WIRE_VERSION, type Job, type Result } from '../../../core/job.js';

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

export function resultOf(job: Job, tiles = 4): Result {
  return {
    v: WIRE_VERSION,
    jobId: job.id,
    kind: job.kind,
    width: 256,
    height: 256,
    grid: { key: jobKeys.grid(job.id), width: 512, height: 512, contentType: 'image/png' },
    images: Array.from({ length: tiles }, (_, i) => ({
      index: i + 1,
      key: jobKeys.image(job.id, i + 1),
      width: 256,
      height: 256,
      seed: 42 + i,
      latent: { key: jobKeys.latent(job.id, i + 1), dims: [16, 6, 6] as [number, number, number], dtype: 'float32' as const },
    })),
    model: { name: 'demo', variant: 'tiny' },
    timings: { total: 10 },
    finishedAt: '2026-11-26T10:00:05.000Z',
    runnerId: 'runner-1',
  };
}
