/** Jobs for runner tests, valid against the wire schema. */
import { JobSchema, type Delivery, type Job } from '../../core/job.ts';

let counter = 0;

export function imagineJob(overrides: { id?: string; userId?: string; prompt?: string; seed?: number; aspect?: { w: number; h: number }; delivery?: Delivery } = {}): Job {
  counter += 1;
  return JobSchema.parse({
    v: 1,
    id: overrides.id ?? `t${process.pid}-${Date.now().toString(36)}-${counter}`,
    kind: 'imagine',
    createdAt: new Date().toISOString(),
    requester: { platform: 'web', userId: overrides.userId ?? 'user-a', channelId: 'c1' },
    delivery: overrides.delivery ?? { platform: 'web', sessionId: 's1' },
    request: { prompt: overrides.prompt ?? 'a lighthouse at dusk', aspect: overrides.aspect ?? { w: 1, h: 1 }, size: 'medium', seed: overrides.seed ?? 1234, chaos: 0, lite: false, count: 4 },
  });
}

export function childJob(parent: Job, kind: 'variation' | 'upscale', index: number, id: string): Job {
  return JobSchema.parse({
    ...parent,
    id,
    kind,
    createdAt: new Date().toISOString(),
    parent: { jobId: parent.id, index },
    request: { ...parent.request, seed: 777 },
    ...(kind === 'variation' ? { strength: 'subtle' } : {}),
  });
}
