/** Jobs, results and contexts for bot unit tests. */
import { type Job, type Result } from '../../../core/job.ts';
import { jobKeys } from '../../../core/storage-layout.ts';
import type { CommandContext } from '../../../bot/commands/context.ts';
import type { MemoryBlobStore } from './memory-ports.ts';

export const alice = { platform: 'discord' as const, userId: 'alice', channelId: 'c1', workspaceId: 'g1' };
export const bob = { platform: 'discord' as const, userId: 'bob', channelId: 'c1', workspaceId: 'g1' };

/** Overrides may set any field of any job kind (e.g. `strength` of a variation); the result is not schema-checked. */
export function makeJob(overrides: Partial<Job> & { strength?: 'subtle' | 'strong' } = {}): Job {
  return {
    v: 1,
    id: 'jparent',
    kind: 'imagine',
    createdAt: '2026-11-26T10:00:00.000Z',
    requester: alice,
    delivery: { platform: 'web', sessionId: 's1' },
    request: { prompt: 'a lighthouse in a storm', negativePrompt: '', aspect: { w: 3, h: 2 }, size: 'medium', seed: 42, chaos: 0, lite: false, count: 4 },
    ...overrides,
  } as Job;
}

/** A result of `tiles` images of `tile` size (seeds from `tile.firstSeed`), its 2×2 grid, and latents; the default is small. */
export function makeResult(job: Job, tiles = 4, tile: { width: number; height: number; firstSeed: number } = { width: 96, height: 64, firstSeed: 1000 }): Result {
  return {
    v: 1,
    jobId: job.id,
    kind: job.kind,
    width: tile.width,
    height: tile.height,
    grid: { key: jobKeys.grid(job.id), width: tile.width * 2, height: tile.height * 2, contentType: 'image/png' },
    images: Array.from({ length: tiles }, (_, i) => ({
      index: i + 1,
      key: jobKeys.image(job.id, i + 1),
      width: tile.width,
      height: tile.height,
      seed: tile.firstSeed + i,
      latent: { key: jobKeys.latents(job.id), dims: [16, 24, 24] as [number, number, number], dtype: 'float32' as const, offset: i * 16 * 24 * 24 * 4 },
    })),
    model: { name: 'demo', variant: 'tiny' },
    timings: { total: 10 },
    finishedAt: '2026-11-26T10:01:00.000Z',
    runnerId: 'r1',
  };
}

export function storeJob(blobs: MemoryBlobStore, job: Job, result?: Result): void {
  blobs.putJson(jobKeys.job(job.id), job);
  if (result) blobs.putJson(jobKeys.result(job.id), result);
}

let counter = 0;
export function contextFor(requester: CommandContext['requester'], overrides: Partial<CommandContext> = {}): CommandContext {
  counter++;
  return {
    requester,
    delivery: { platform: 'web', sessionId: 's1' },
    sourceId: `test:${counter}:${Math.random()}`,
    channel: { ageRestricted: false },
    ...overrides,
  };
}
