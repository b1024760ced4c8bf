/**
 * What the playground page receives for one job: the platform-neutral `JobMessage` (the same one
 * Discord and Slack render) plus what a browser needs to draw it: the four tiles' image keys and
 * seeds, lineage, and a sequence number so the page keeps the newest of two copies of a message
 * (one from the history request, one from the live stream).
 */
import type { Job, Result } from '../../core/job.ts';
import { describePictures, type JobMessage } from '../message-model.ts';

export interface WebTile {
  index: number;
  key: string;
  width: number;
  height: number;
  seed: number;
  /** A time-limited direct link to the image in the object store (live completed messages); the page falls back to /api/image. */
  url?: string;
}

export interface WebMessage {
  /** Increases with every delivery in this process; 0 for messages rebuilt from the store. */
  seq: number;
  jobId: string;
  kind: Job['kind'];
  createdAt: string;
  /** The web session that asked (other platforms' jobs never reach the playground). */
  ownerId: string;
  prompt: string;
  /** Stage C seed of tile 1 (tiles 2–4 derive theirs). */
  seed: number;
  message: JobMessage;
  /** Each picture the job was made from and its weight or strength, shown after the options line (not copied with it). */
  picturesText?: string;
  tiles?: WebTile[];
  /** Changes whenever the preview image changes, so the page can re-fetch the same key. */
  previewVersion?: number;
  /** Estimated seconds until done (queued: place × typical job; running: the rest of a typical job), from recent jobs' durations. */
  etaSeconds?: number;
}

/**
 * Server → page over server-sent events. `hello` opens every connection: a page that reconnects
 * reads the channel again (it may have missed deliveries), and a new `bootId` (the server restarted,
 * its sequence numbers started over) makes it forget the old ones.
 */
export type WebEvent =
  | { type: 'hello'; bootId: string }
  | { type: 'message'; message: WebMessage }
  | { type: 'removed'; jobId: string }
  /** A mood board's header changed (the page re-reads /api/boards); `summary` once it ended. */
  | { type: 'board'; boardId: string; text: string; summary?: string };

export function tilesOf(result: Result): WebTile[] {
  return result.images
    .map((image) => ({ index: image.index, key: image.key, width: image.width, height: image.height, seed: image.seed }))
    .sort((a, b) => a.index - b.index);
}

export function webMessageOf(job: Job, message: JobMessage, seq: number, result?: Result | null, previewVersion?: number): WebMessage {
  return {
    seq,
    jobId: job.id,
    kind: job.kind,
    createdAt: job.createdAt,
    ownerId: job.requester.userId,
    prompt: job.request.prompt,
    seed: job.request.seed,
    message,
    ...(describePictures(job.request) ? { picturesText: `pictures: ${describePictures(job.request)!}` } : {}),
    ...(result && message.status === 'completed' ? { tiles: tilesOf(result) } : {}),
    ...(previewVersion === undefined ? {} : { previewVersion }),
  };
}
