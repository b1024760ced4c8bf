/**
 * Deadlines: a board whose time is up is ended by the header updater on its next render; this sweep makes sure
 * that render happens even when nobody touches the board, by publishing `board_changed` (ended) for every
 * board that still has an "open here" marker past its deadline. Run every minute by `npm start` (and by a
 * schedule in AWS); a board swept twice is harmless (the summary goes out once).
 */
import { WIRE_VERSION } from '../../core/job.ts';
import type { BlobStore, EventBus } from '../../core/ports.ts';
import { closedReason, listPlacedBoards, loadBoard, loadEnded } from './board-store.ts';

export async function sweepDeadlines(blobs: BlobStore, events: EventBus, now: number): Promise<string[]> {
  const due: string[] = [];
  for (const boardId of await listPlacedBoards(blobs)) {
    const [board, ended] = await Promise.all([loadBoard(blobs, boardId), loadEnded(blobs, boardId)]);
    if (board && closedReason(board, ended, now)) due.push(boardId);
  }
  for (const boardId of due) await events.publish({ v: WIRE_VERSION, type: 'board_changed', jobId: boardId, change: 'ended', at: now });
  return due;
}

/** Sweeps every `intervalMs` until stopped; a failed sweep is logged and tried again next time. */
export function startDeadlineSweeper(blobs: BlobStore, events: EventBus, intervalMs: number, log: (event: string, fields: Record<string, unknown>) => void): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepDeadlines(blobs, events, Date.now())
      .catch((error: unknown) => log('board_sweep_failed', { error: error instanceof Error ? error.message : String(error) }))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
