/**
 * Reading and writing a board's facts (keys: bot/boards/keys.ts). Every write is one object per fact:
 * a pin, a user's vote on a pin, a member, a candidate. Counts come from LIST, so 25 people pressing at
 * once give exact counts without any read-modify-write of a shared object.
 *
 * Limits (48 pins, 25 members by default) are exact: a pin or a member first takes one of the board's numbered
 * slots (boards/{id}/pin-slots/0000 … maxPins−1, member-slots/ likewise), each created with a conditional PUT
 * (S3 `If-None-Match: *`; the local emulator honours it too, local/conditional-puts.ts), so of any number of
 * concurrent claims exactly as many hold as there are free slots; then the fact itself is created the same way
 * (a second pin of the same tile gives its slot back). An unpin deletes the pin first and its slot last, so the
 * slots in use never undercount the pins. A claimant that dies between slot and fact leaves one slot taken
 * (the board holds one fewer pin); nothing ever goes over the limit.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { BlobStore } from '../../core/ports.ts';
import { readRecord } from '../../core/stored-records.ts';
import { boardKeys, userKey } from '../../core/storage-layout.ts';
import {
  BoardRecordSchema,
  BoardVersionSchema,
  CandidateRecordSchema,
  EndedRecordSchema,
  HeaderRecordSchema,
  HeroRecordSchema,
  MemberRecordSchema,
  PinRecordSchema,
  type BoardRecord,
  type BoardState,
  type BoardVersion,
  type CandidateRecord,
  type EndedRecord,
  type HeaderRecord,
  type HeroRecord,
  type PinRecord,
  type UserRef,
} from './model.ts';

export interface BoardLimits {
  maxPins: number;
  maxMembers: number;
}

export const DEFAULT_BOARD_LIMITS: BoardLimits = { maxPins: 48, maxMembers: 25 };

const JSON_TYPE = 'application/json';

function randomBase36(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += (byte % 36).toString(36);
  return out;
}

export function newBoardId(): string {
  return `b${randomBase36(11)}`;
}

/** Time-ordered and unique: ms since epoch in base 36 (9 chars until the year 5188) + 4 random chars. */
export function newVersionId(now: number): string {
  return `${now.toString(36).padStart(9, '0')}${randomBase36(4)}`;
}

/** A page-link token: 32 random bytes, base64url. Only its sha256 is stored. */
export function newLinkToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function put(blobs: BlobStore, key: string, value: unknown): Promise<void> {
  return blobs.put(key, JSON.stringify(value), JSON_TYPE);
}

export function loadBoard(blobs: BlobStore, boardId: string): Promise<BoardRecord | null> {
  return readRecord(blobs, boardKeys.board(boardId), BoardRecordSchema);
}

export function loadEnded(blobs: BlobStore, boardId: string): Promise<EndedRecord | null> {
  return readRecord(blobs, boardKeys.ended(boardId), EndedRecordSchema);
}

export function loadHeader(blobs: BlobStore, boardId: string): Promise<HeaderRecord | null> {
  return readRecord(blobs, boardKeys.header(boardId), HeaderRecordSchema);
}

export async function saveHeader(blobs: BlobStore, boardId: string, header: HeaderRecord): Promise<void> {
  await put(blobs, boardKeys.header(boardId), HeaderRecordSchema.parse(header));
}

/** Writes a new board: its record, the host as first member, and the "active here" index entry (last, so a half-written board is never found). */
export async function createBoard(blobs: BlobStore, board: BoardRecord): Promise<void> {
  const record = BoardRecordSchema.parse(board);
  await put(blobs, boardKeys.board(record.id), record);
  // The host holds member slot 0 of a board nobody else can have written to yet.
  await put(blobs, boardKeys.memberSlot(record.id, 0), { v: 1, holder: userKey(record.host), at: record.createdAt });
  await put(blobs, boardKeys.member(record.id, userKey(record.host)), { v: 1, user: record.host, at: record.createdAt, slot: 0 });
  await blobs.put(boardKeys.place(record.place.platform, record.place.channelId, record.createdAt, record.id), new Uint8Array(0), 'application/octet-stream');
}

/** Why a board no longer takes pins and votes, or undefined while it is open. A passed deadline ends it even before the sweeper writes ended.json. */
export function closedReason(board: BoardRecord, ended: EndedRecord | null | undefined, now: number): EndedRecord | undefined {
  if (ended) return ended;
  if (now >= board.deadline) return { v: 1, at: board.deadline, reason: 'deadline' };
  return undefined;
}

/** The open board of a channel (a Discord thread is a channel), newest first; undefined when there is none. */
export async function findActiveBoard(blobs: BlobStore, place: { platform: BoardRecord['place']['platform']; channelId: string }, now: number): Promise<BoardRecord | undefined> {
  const prefix = boardKeys.placePrefix(place.platform, place.channelId);
  const entries = (await blobs.list(prefix)).map((key) => key.slice(prefix.length)).sort().reverse();
  for (const entry of entries) {
    const boardId = /-(b[a-z0-9]{11})$/.exec(entry)?.[1];
    if (!boardId) continue;
    const [board, ended] = await Promise.all([loadBoard(blobs, boardId), loadEnded(blobs, boardId)]);
    if (board && !closedReason(board, ended, now)) return board;
  }
  return undefined;
}

/** Every board that still has an "active here" entry (the deadline sweeper's input). */
export async function listPlacedBoards(blobs: BlobStore): Promise<string[]> {
  const ids = new Set<string>();
  for (const key of await blobs.list(boardKeys.allPlaces())) {
    const boardId = /-(b[a-z0-9]{11})$/.exec(key)?.[1];
    if (boardId) ids.add(boardId);
  }
  return [...ids];
}

const SlotSchema = z.strictObject({ v: z.literal(1), holder: z.string().min(1).max(200), at: z.number().int().nonnegative() });

/**
 * Takes a free slot of `limit` (numbered keys under `prefix`, `keyOf(n)`) for `holder` with conditional creates,
 * trying the free ones from a random place so concurrent claimants spread out; undefined when every slot was
 * taken at the moment this claim tried it (after one more look, in case some were freed meanwhile).
 */
async function claimSlot(blobs: BlobStore, prefix: string, keyOf: (slot: number) => string, limit: number, holder: string, now: number): Promise<number | undefined> {
  const body = JSON.stringify(SlotSchema.parse({ v: 1, holder, at: now }));
  for (let look = 0; look < 2; look++) {
    const taken = new Set((await blobs.list(prefix)).map((key) => Number(key.slice(prefix.length))));
    const free = Array.from({ length: limit }, (_, slot) => slot).filter((slot) => !taken.has(slot));
    const start = free.length ? randomBytes(2).readUInt16BE(0) % free.length : 0;
    for (const slot of [...free.slice(start), ...free.slice(0, start)]) {
      if (await blobs.putIfAbsent(keyOf(slot), body, JSON_TYPE)) return slot;
    }
  }
  return undefined;
}

export type JoinOutcome = 'member' | 'joined' | 'full';

/** Makes `user` a member (host and co-hosts always are). 'full' when the board already has its maximum of members. */
export async function ensureMember(blobs: BlobStore, board: BoardRecord, user: UserRef, now: number): Promise<JoinOutcome> {
  const member = userKey(user);
  const key = boardKeys.member(board.id, member);
  if (await blobs.exists(key)) return 'member';
  const slot = await claimSlot(blobs, boardKeys.memberSlots(board.id), (n) => boardKeys.memberSlot(board.id, n), board.limits.maxMembers, member, now);
  if (slot === undefined) return (await blobs.exists(key)) ? 'member' : 'full';
  const record = MemberRecordSchema.parse({ v: 1, user: { platform: user.platform, userId: user.userId, ...(user.name ? { name: user.name } : {}) }, at: now, slot });
  if (await blobs.putIfAbsent(key, JSON.stringify(record), JSON_TYPE)) return 'joined';
  // The same user joined at the same moment through another request: that one holds a slot, this one gives its back.
  await blobs.delete([boardKeys.memberSlot(board.id, slot)]);
  return 'member';
}

export async function recordCandidate(blobs: BlobStore, boardId: string, candidate: CandidateRecord): Promise<void> {
  await put(blobs, boardKeys.candidate(boardId, candidate.jobId), CandidateRecordSchema.parse(candidate));
}

export function isCandidate(blobs: BlobStore, boardId: string, jobId: string): Promise<boolean> {
  return blobs.exists(boardKeys.candidate(boardId, jobId));
}

export type PinOutcome = 'pinned' | 'already_pinned' | 'full';

export async function addPin(blobs: BlobStore, board: BoardRecord, pinKey: string, pin: PinRecord): Promise<PinOutcome> {
  const key = boardKeys.pin(board.id, pinKey);
  if (await blobs.exists(key)) return 'already_pinned';
  const slot = await claimSlot(blobs, boardKeys.pinSlots(board.id), (n) => boardKeys.pinSlot(board.id, n), board.limits.maxPins, pinKey, pin.at);
  // The slots may have been taken by presses of this very tile: then it is pinned, not full.
  if (slot === undefined) return (await blobs.exists(key)) ? 'already_pinned' : 'full';
  if (await blobs.putIfAbsent(key, JSON.stringify(PinRecordSchema.parse({ ...pin, slot })), JSON_TYPE)) return 'pinned';
  // Someone pinned the same tile at the same moment: theirs holds a slot, this one gives its back.
  await blobs.delete([boardKeys.pinSlot(board.id, slot)]);
  return 'already_pinned';
}

export function loadPin(blobs: BlobStore, boardId: string, pinKey: string): Promise<PinRecord | null> {
  return readRecord(blobs, boardKeys.pin(boardId, pinKey), PinRecordSchema);
}

/** Unpin = DELETE the pin, then its votes (a later re-pin starts from zero votes), then its slot (last: slots never undercount pins). */
export async function removePin(blobs: BlobStore, boardId: string, pinKey: string): Promise<void> {
  const pin = await loadPin(blobs, boardId, pinKey);
  await blobs.delete([boardKeys.pin(boardId, pinKey)]);
  const votes = await blobs.list(boardKeys.votesOf(boardId, pinKey));
  if (votes.length > 0) await blobs.delete(votes);
  if (pin?.slot !== undefined) await blobs.delete([boardKeys.pinSlot(boardId, pin.slot)]);
}

/** A user's 👍 on a pin: PUT when absent, DELETE when present. Returns whether the user now votes for it. */
export async function toggleVote(blobs: BlobStore, boardId: string, pinKey: string, user: UserRef, now: number): Promise<boolean> {
  const key = boardKeys.vote(boardId, pinKey, userKey(user));
  if (await blobs.exists(key)) {
    await blobs.delete([key]);
    return false;
  }
  await put(blobs, key, { v: 1, at: now });
  return true;
}

export async function setHero(blobs: BlobStore, boardId: string, hero: HeroRecord): Promise<void> {
  await put(blobs, boardKeys.hero(boardId), HeroRecordSchema.parse(hero));
}

export async function addCohost(blobs: BlobStore, boardId: string, user: UserRef, now: number): Promise<void> {
  await put(blobs, boardKeys.cohost(boardId, userKey(user)), { v: 1, user, at: now });
}

/** Issues a new page-link token; only its hash is stored, so the token is shown once and never logged. */
export async function issueLinkToken(blobs: BlobStore, boardId: string, now: number): Promise<string> {
  const token = newLinkToken();
  await put(blobs, boardKeys.token(boardId, hashToken(token)), { v: 1, at: now });
  return token;
}

const SharedLinkSchema = z.strictObject({ v: z.literal(1), token: z.string().regex(/^[A-Za-z0-9_-]{43}$/), at: z.number().int().nonnegative() });

/**
 * The page-link token of a `link` board, the same for the start reply, every header edit (whichever dispatcher
 * instance makes it) and the summary: created once (a conditional create; a racer that lost uses the winner's) and
 * kept in the clear in boards/{id}/shared-link.json, because a `link` board shows it to its whole place anyway.
 * `private` boards never get one: their tokens are issued per person (issueLinkToken) and stored as hashes only.
 */
export async function sharedLinkToken(blobs: BlobStore, board: BoardRecord, now: number): Promise<string | undefined> {
  if (board.visibility !== 'link') return undefined;
  const key = boardKeys.sharedLink(board.id);
  const existing = await readRecord(blobs, key, SharedLinkSchema, { ifCorrupt: 'absent' });
  if (existing) return existing.token;
  const token = newLinkToken();
  await put(blobs, boardKeys.token(board.id, hashToken(token)), { v: 1, at: now });
  if (await blobs.putIfAbsent(key, JSON.stringify(SharedLinkSchema.parse({ v: 1, token, at: now })), JSON_TYPE)) return token;
  // Another writer was first: its token is the one shown (this one stays valid, shown nowhere).
  return (await readRecord(blobs, key, SharedLinkSchema, { ifCorrupt: 'absent' }))?.token ?? token;
}

export async function verifyLinkToken(blobs: BlobStore, boardId: string, token: string | undefined): Promise<boolean> {
  if (!token || token.length > 100 || !/^[A-Za-z0-9_-]+$/.test(token)) return false;
  return blobs.exists(boardKeys.token(boardId, hashToken(token)));
}

/** Writes ended.json unless it exists; `first` says whether this call ended it. The "active here" entry goes either way. */
export async function markEnded(blobs: BlobStore, board: BoardRecord, ended: EndedRecord): Promise<{ first: boolean; ended: EndedRecord }> {
  const existing = await loadEnded(blobs, board.id);
  if (!existing) await put(blobs, boardKeys.ended(board.id), EndedRecordSchema.parse(ended));
  await blobs.delete([boardKeys.place(board.place.platform, board.place.channelId, board.createdAt, board.id)]);
  return existing ? { first: false, ended: existing } : { first: true, ended };
}

/** All of a board's facts, read in parallel (pins one GET each; everything else one LIST or GET). */
export async function loadBoardState(blobs: BlobStore, boardId: string): Promise<BoardState | null> {
  const [board, pinKeys, voteKeys, hero, cohostKeys, memberKeys, candidateKeys, ended] = await Promise.all([
    loadBoard(blobs, boardId),
    blobs.list(boardKeys.pins(boardId)),
    blobs.list(boardKeys.votes(boardId)),
    readRecord(blobs, boardKeys.hero(boardId), HeroRecordSchema),
    blobs.list(boardKeys.cohosts(boardId)),
    blobs.list(boardKeys.members(boardId)),
    blobs.list(boardKeys.candidates(boardId)),
    loadEnded(blobs, boardId),
  ]);
  if (!board) return null;
  const votePrefix = boardKeys.votes(boardId);
  const votesByPin = new Map<string, number>();
  for (const key of voteKeys) {
    const pinKey = key.slice(votePrefix.length).split('/')[0]!;
    votesByPin.set(pinKey, (votesByPin.get(pinKey) ?? 0) + 1);
  }
  const pinPrefix = boardKeys.pins(boardId);
  const pins = (
    await Promise.all(
      pinKeys.map(async (key) => {
        const pinKey = key.slice(pinPrefix.length).replace(/\.json$/, '');
        const pin = await readRecord(blobs, key, PinRecordSchema);
        return pin ? { ...pin, pinKey, votes: votesByPin.get(pinKey) ?? 0 } : undefined;
      }),
    )
  ).filter((pin) => pin !== undefined);
  pins.sort((a, b) => a.at - b.at || (a.pinKey < b.pinKey ? -1 : 1));
  const cohostPrefix = boardKeys.cohosts(boardId);
  return {
    board,
    pins,
    ...(hero && pins.some((pin) => pin.pinKey === hero.pinKey) ? { hero } : {}),
    cohosts: cohostKeys.map((key) => decodeURIComponent(key.slice(cohostPrefix.length))),
    members: memberKeys.length,
    candidates: candidateKeys.length,
    ...(ended ? { ended } : {}),
  };
}

const STOP_WORDS = new Set(
  'a an the and or of in on at to with by for from into over under is are be as it its this that these those very some any no not of'.split(' '),
);

/** The most frequent words of the pinned prompts (votes count extra), at most `max`: the board's "taste line". */
export function tasteLine(pins: ReadonlyArray<{ prompt: string; votes: number }>, max = 6): string {
  const counts = new Map<string, number>();
  for (const pin of pins) {
    const words = new Set(pin.prompt.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((word) => word.length > 2 && !STOP_WORDS.has(word)));
    for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1 + pin.votes);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, max)
    .map(([word]) => word)
    .join(', ');
}

/** Each pin's share of the board's style: (1 + votes, ×2 for the hero), normalised to sum 1. */
export function voteWeights(state: Pick<BoardState, 'pins' | 'hero'>): Map<string, number> {
  const raw = state.pins.map((pin) => [pin.pinKey, (1 + pin.votes) * (state.hero?.pinKey === pin.pinKey ? 2 : 1)] as const);
  const total = raw.reduce((sum, [, w]) => sum + w, 0);
  return new Map(raw.map(([key, w]) => [key, total === 0 ? 0 : w / total]));
}

function contentHashOf(state: BoardState): string {
  const facts = { pins: state.pins.map((pin) => [pin.pinKey, pin.votes]), hero: state.hero?.pinKey ?? null };
  return createHash('sha256').update(JSON.stringify(facts)).digest('hex');
}

export async function latestVersion(blobs: BlobStore, boardId: string): Promise<BoardVersion | null> {
  const prefix = boardKeys.versions(boardId);
  const ids = (await blobs.list(prefix)).map((key) => key.slice(prefix.length).replace(/\.json$/, '')).sort();
  const last = ids.at(-1);
  return last ? loadVersion(blobs, boardId, last) : null;
}

export function loadVersion(blobs: BlobStore, boardId: string, versionId: string): Promise<BoardVersion | null> {
  return readRecord(blobs, boardKeys.version(boardId, versionId), BoardVersionSchema);
}

/** The number of each version (1-based, in time order), for "v3" labels. */
export async function versionNumber(blobs: BlobStore, boardId: string, versionId: string): Promise<number> {
  const prefix = boardKeys.versions(boardId);
  const ids = (await blobs.list(prefix)).map((key) => key.slice(prefix.length).replace(/\.json$/, '')).sort();
  return ids.indexOf(versionId) + 1;
}

/**
 * The board's current version: a new frozen snapshot when the pinned set, votes or hero changed since the
 * latest one, else the latest. Snapshots get unique ids and are never rewritten, so old codes keep working;
 * two writers racing both write (two versions of nearly the same state), never one over the other.
 */
export async function currentVersion(blobs: BlobStore, state: BoardState, now: number): Promise<BoardVersion> {
  const hash = contentHashOf(state);
  const latest = await latestVersion(blobs, state.board.id);
  if (latest && latest.contentHash === hash) return latest;
  const weights = voteWeights(state);
  const version: BoardVersion = BoardVersionSchema.parse({
    v: 1,
    boardId: state.board.id,
    versionId: newVersionId(now),
    createdAt: now,
    name: state.board.name,
    contentHash: hash,
    ...(state.board.style ? { style: state.board.style } : {}),
    negativePrompt: state.board.negativePrompt,
    tasteLine: tasteLine(state.pins),
    ...(state.hero ? { heroPinKey: state.hero.pinKey } : {}),
    pins: state.pins.map((pin) => ({ pinKey: pin.pinKey, jobId: pin.jobId, tile: pin.tile, prompt: pin.prompt, seed: pin.seed, imageKey: pin.imageKey, votes: pin.votes, weight: weights.get(pin.pinKey) ?? 0 })),
  });
  await put(blobs, boardKeys.version(state.board.id, version.versionId), version);
  return version;
}
