import { describe, expect, it } from 'vitest';
import { JobEventSchema, JobSchema } from '../core/job.ts';
import { isBotMarkerKey, jobKeys } from '../core/storage-layout.ts';

const job = {
  v: 1,
  id: 'j-123',
  kind: 'imagine',
  createdAt: '2026-11-26T10:00:00.000Z',
  requester: { platform: 'web', userId: 'u1', channelId: 'c1' },
  delivery: { platform: 'web', sessionId: 's1' },
  request: { prompt: 'a lighthouse', aspect: { w: 3, h: 2 }, size: 'medium', seed: 7, chaos: 0, lite: false, count: 4 },
};

describe('wire schemas', () => {
  it('GIVEN a well-formed imagine job THEN it parses and fills defaults', () => {
    const parsed = JobSchema.parse(job);
    expect(parsed.request.negativePrompt).toBe('');
  });

  it('GIVEN an unknown field THEN the strict schema rejects it', () => {
    expect(() => JobSchema.parse({ ...job, extra: 1 })).toThrow(/extra/);
  });

  it('GIVEN a variation without a parent THEN it is rejected', () => {
    expect(JobSchema.safeParse({ ...job, kind: 'variation', strength: 'subtle' }).success).toBe(false);
  });

  it('GIVEN a job id with a slash THEN it is rejected (ids become S3 keys)', () => {
    expect(JobSchema.safeParse({ ...job, id: 'a/b' }).success).toBe(false);
  });

  it('GIVEN a failed event THEN it keeps its code and reason', () => {
    const e = JobEventSchema.parse({ v: 1, jobId: 'j-1', at: 1, type: 'failed', code: 'poison_message', reason: 'bad', willRetry: false });
    expect(e.type).toBe('failed');
  });

  it('keys are fixed per job', () => {
    expect(jobKeys.result('j-1')).toBe('jobs/j-1/result.json');
    expect(jobKeys.latents('j-1')).toBe('jobs/j-1/latents.f32');
    // The bot side's own markers (npm start keeps them in memory: the runner never writes them).
    expect([jobKeys.deleted('j-1'), jobKeys.delivered('j-1')].every(isBotMarkerKey)).toBe(true);
    expect(['jobs/j-1/result.json', 'jobs/j-1/job.json', 'jobs/j-1/cancel.json', 'jobs/a/b/deleted.json', 'xjobs/j-1/deleted.json', 'jobs/j-1/deleted.json.tmp'].some(isBotMarkerKey)).toBe(false);
  });
});
