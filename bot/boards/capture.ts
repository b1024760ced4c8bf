/**
 * Capture: a job made in a board's place becomes a candidate of that board (the job carries `boardId`; the
 * candidate is one object). A child job (U/V/🔄/remix) stays in its parent's board while the board is open.
 * Outside a board nothing changes: the lookup is one LIST of the place's index that finds nothing.
 */
import type { GenerationRequest, Job, Requester } from '../../core/job.ts';
import type { BlobStore } from '../../core/ports.ts';
import type { Rejected } from '../commands/context.ts';
import { closedReason, ensureMember, findActiveBoard, loadBoard, loadEnded, recordCandidate } from './board-store.ts';
import type { BoardRecord } from './model.ts';

/** The open board a new job belongs to, if any. */
export async function boardForJob(blobs: BlobStore, requester: Requester, parentBoardId: string | undefined, now: number): Promise<BoardRecord | undefined> {
  if (parentBoardId) {
    const [board, ended] = await Promise.all([loadBoard(blobs, parentBoardId), loadEnded(blobs, parentBoardId)]);
    return board && !closedReason(board, ended, now) ? board : undefined;
  }
  return findActiveBoard(blobs, requester, now);
}

/** Makes the requester a member; a refusal when the board already has its maximum of members. */
export async function joinBoard(blobs: BlobStore, board: BoardRecord, requester: Requester, now: number): Promise<Rejected | undefined> {
  const outcome = await ensureMember(blobs, board, { platform: requester.platform, userId: requester.userId }, now);
  if (outcome !== 'full') return undefined;
  return {
    kind: 'rejected',
    code: 'board_full',
    message: `This place's board "${board.name}" already has ${board.limits.maxMembers} members (its limit), so your image was not made here. Ask the host to end it, or use another channel.`,
  };
}

/** The board's shared style preset and negative prompt, where the request has none of its own. */
export function inBoardStyle(request: GenerationRequest, board: BoardRecord): GenerationRequest {
  return {
    ...request,
    ...(request.style === undefined && board.style ? { style: board.style } : {}),
    ...(request.negativePrompt === '' && board.negativePrompt ? { negativePrompt: board.negativePrompt } : {}),
  };
}

export async function captureCandidate(blobs: BlobStore, boardId: string, job: Job): Promise<void> {
  await recordCandidate(blobs, boardId, { v: 1, jobId: job.id, author: { platform: job.requester.platform, userId: job.requester.userId }, at: Date.parse(job.createdAt) });
}
