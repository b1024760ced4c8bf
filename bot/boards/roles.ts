/**
 * Who may do what on a board. Host = who started it; co-hosts are named by the host; members are everyone
 * who made, pinned or voted in it. Sentences say who may, so a refused user knows whom to ask.
 */
import type { Requester } from '../../core/job.ts';
import { userKey } from '../../core/storage-layout.ts';
import type { BoardState, PinRecord } from './model.ts';

export type BoardRole = 'host' | 'cohost' | 'member';

export function roleOf(state: Pick<BoardState, 'board' | 'cohosts'>, actor: Pick<Requester, 'platform' | 'userId'>): BoardRole {
  if (actor.platform === state.board.host.platform && actor.userId === state.board.host.userId) return 'host';
  if (state.cohosts.includes(decodeURIComponent(userKey(actor)))) return 'cohost';
  return 'member';
}

export type BoardVerdict = { allowed: true } | { allowed: false; message: string };

const ALLOWED: BoardVerdict = { allowed: true };

export function mayEnd(role: BoardRole): BoardVerdict {
  return role === 'member' ? { allowed: false, message: 'Only the host or a co-host can end this board.' } : ALLOWED;
}

export function mayPickHero(role: BoardRole): BoardVerdict {
  return role === 'host' ? ALLOWED : { allowed: false, message: 'Only the host can choose the ⭐ hero image.' };
}

export function mayAddCohost(role: BoardRole): BoardVerdict {
  return role === 'host' ? ALLOWED : { allowed: false, message: 'Only the host can name co-hosts.' };
}

/** Host and co-hosts can unpin anything; members their own pins. */
export function mayUnpin(role: BoardRole, pin: Pick<PinRecord, 'pinnedBy'>, actor: Pick<Requester, 'platform' | 'userId'>): BoardVerdict {
  if (role !== 'member') return ALLOWED;
  if (pin.pinnedBy.platform === actor.platform && pin.pinnedBy.userId === actor.userId) return ALLOWED;
  return { allowed: false, message: 'Only whoever pinned this image, the host or a co-host can unpin it.' };
}
