/**
 * Where a mood board's facts live in the bucket, next to the jobs. One object per fact, so concurrent
 * presses never read-modify-write a shared object (the emulator's S3, fauxqs 1.9.2, ignores
 * `If-None-Match` on PUT, so conditional writes are not relied on):
 *
 *   boards/{boardId}/board.json                 the board as started (written once, never rewritten)
 *   boards/{boardId}/cohosts/{userKey}          one per co-host
 *   boards/{boardId}/members/{userKey}          one per member (the 25-member limit counts these)
 *   boards/{boardId}/candidates/{jobId}         one per job made in the board's place
 *   boards/{boardId}/pins/{jobId}-{tile}.json   one per pinned tile; unpin = DELETE
 *   boards/{boardId}/votes/{jobId}-{tile}/{userKey}  one per user per pin; vote = PUT, unvote = DELETE, count = LIST
 *   boards/{boardId}/hero.json                  the host's hero pick (only the host writes it)
 *   boards/{boardId}/header.json                where the board's header message is (written by whoever posted it)
 *   boards/{boardId}/tokens/{sha256(token)}     one per issued page-link token (the token itself is never stored)
 *   boards/{boardId}/versions/{versionId}.json  frozen snapshots behind the board codes; unique ids, never rewritten
 *   boards/{boardId}/ended.json                 the end of the board (who, when, why)
 *   boards/{boardId}/exports/{collage.png, sheet.pdf, board.zip}
 *   board-places/{platform}/{channelId}/{startedAtMs}-{boardId}   "this board is active here"; deleted when it ends
 */
import type { Platform } from '../../core/job.js';

/** `platform:userId`, URI-encoded so any platform id is a safe key segment. */
export function userKey(user: { platform: Platform; userId: string }): string {
  return encodeURIComponent(`${user.platform}:${user.userId}`);
}

export function pinKeyOf(jobId: string, tile: number): string {
  return `${jobId}-${tile}`;
}

export const boardKeys = {
  prefix: (boardId: string) => `boards/${boardId}/`,
  board: (boardId: string) => `boards/${boardId}/board.json`,
  cohosts: (boardId: string) => `boards/${boardId}/cohosts/`,
  cohost: (boardId: string, user: string) => `boards/${boardId}/cohosts/${user}`,
  members: (boardId: string) => `boards/${boardId}/members/`,
  member: (boardId: string, user: string) => `boards/${boardId}/members/${user}`,
  candidates: (boardId: string) => `boards/${boardId}/candidates/`,
  candidate: (boardId: string, jobId: string) => `boards/${boardId}/candidates/${jobId}`,
  pins: (boardId: string) => `boards/${boardId}/pins/`,
  pin: (boardId: string, pinKey: string) => `boards/${boardId}/pins/${pinKey}.json`,
  votes: (boardId: string) => `boards/${boardId}/votes/`,
  votesOf: (boardId: string, pinKey: string) => `boards/${boardId}/votes/${pinKey}/`,
  vote: (boardId: string, pinKey: string, user: string) => `boards/${boardId}/votes/${pinKey}/${user}`,
  hero: (boardId: string) => `boards/${boardId}/hero.json`,
  header: (boardId: string) => `boards/${boardId}/header.json`,
  tokens: (boardId: string) => `boards/${boardId}/tokens/`,
  token: (boardId: string, tokenHash: string) => `boards/${boardId}/tokens/${tokenHash}`,
  versions: (boardId: string) => `boards/${boardId}/versions/`,
  version: (boardId: string, versionId: string) => `boards/${boardId}/versions/${versionId}.json`,
  ended: (boardId: string) => `boards/${boardId}/ended.json`,
  export: (boardId: string, file: 'collage.png' | 'sheet.pdf' | 'board.zip') => `boards/${boardId}/exports/${file}`,
  placePrefix: (platform: Platform, channelId: string) => `board-places/${platform}/${encodeURIComponent(channelId)}/`,
  place: (platform: Platform, channelId: string, startedAtMs: number, boardId: string) =>
    `board-places/${platform}/${encodeURIComponent(channelId)}/${String(startedAtMs).padStart(15, '0')}-${boardId}`,
  allPlaces: () => 'board-places/',
} as const;
