/** Shared helpers of the board tests: contexts per user, and a finished job stored as the runner stores it (real PNGs through sharp). */
import sharp from 'sharp';
import type { Job, Result } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import type { BlobStore } from '../../core/ports.ts';
import type { CommandContext } from '../../bot/commands/context.ts';
import { loadJob } from '../../bot/job-records.ts';
import { DeliveryError, type Attachment } from '../../bot/poster.ts';
import type { BoardHeader, BoardSummary } from '../../bot/boards/board-message.ts';
import type { BoardRecord, HeaderRecord } from '../../bot/boards/model.ts';
import { RecordingPoster } from '../bot/support/recording-poster.ts';

let counter = 0;

export function slackUser(userId: string, channelId = 'C1', threadId?: string): CommandContext {
  counter++;
  return {
    requester: { platform: 'slack', userId, channelId, workspaceId: 'T1', ...(threadId ? { threadId } : {}) },
    delivery: { platform: 'slack', channelId },
    sourceId: `slack:test:${counter}:${Math.random()}`,
    channel: { ageRestricted: false },
  };
}

/** A flat-colour PNG whose colour derives from `n`, so tiles differ. */
export async function tilePng(n: number, width = 64, height = 64): Promise<Buffer> {
  const r = (n * 67) % 256;
  const g = (n * 131) % 256;
  const b = (n * 199) % 256;
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } }).png().toBuffer();
}

/** Writes what a runner writes for a finished grid of `tiles` images: the images, then result.json. */
export async function finishJob(blobs: BlobStore, jobId: string, tiles = 4, size = 64): Promise<Result> {
  const job = (await loadJob(blobs, jobId)) as Job;
  const images = await Promise.all(
    Array.from({ length: tiles }, async (_, i) => {
      const key = jobKeys.image(jobId, i + 1);
      await blobs.put(key, await tilePng(jobId.charCodeAt(3) + i, size, size), 'image/png');
      return { index: i + 1, key, width: size, height: size, seed: job.request.seed + i, latent: { key: jobKeys.latents(jobId), dims: [16, 24, 24] as [number, number, number], dtype: 'float32' as const, offset: i * 16 * 24 * 24 * 4 } };
    }),
  );
  const result: Result = { v: 1, jobId, kind: job.kind, width: size, height: size, images, model: { name: 'test', variant: 'tiny' }, timings: {}, finishedAt: new Date().toISOString(), runnerId: 'test' };
  await blobs.put(jobKeys.result(jobId), JSON.stringify(result), 'application/json');
  return result;
}

/** Records board headers and summaries as a chat would show them; a board in `gone` lost its thread. */
export class BoardRecordingPoster extends RecordingPoster {
  readonly headers: Array<{ boardId: string; header: BoardHeader; collage: Attachment; existing: HeaderRecord | null; at: number }> = [];
  readonly summaries: Array<{ boardId: string; summary: BoardSummary }> = [];
  readonly gone = new Set<string>();
  async deliverBoardHeader(board: BoardRecord, header: BoardHeader, collage: Attachment, existing: HeaderRecord | null): Promise<HeaderRecord> {
    if (this.gone.has(board.id)) throw new DeliveryError('Unknown Channel (10003)', false);
    this.headers.push({ boardId: board.id, header, collage, existing, at: Date.now() });
    return existing ?? { v: 1, platform: 'slack', channelId: board.place.channelId, messageId: `ts-${board.id}` };
  }
  async postBoardSummary(board: BoardRecord, summary: BoardSummary): Promise<void> {
    this.summaries.push({ boardId: board.id, summary });
  }
}
