/**
 * The platform-neutral board commands: start, pin/unpin, vote, hero, co-host, end, status. Discord, Slack and
 * the playground call these exactly as they call `imagine`; each refusal is a `rejected` reply with a sentence
 * the user can act on. Every change publishes a `board_changed` event, so the header and collage follow
 * through the dispatcher (bot/boards/header-updater.ts), at most one header edit per 30 s.
 *
 * @example
 *   await startBoard(deps, ctx, { name: 'Spring campaign', brief: 'pastel, outdoors' })  // → { kind: 'board_started', board, linkToken, … }
 *   await boardButton(deps, ctx, { action: 'pin', jobId: 'j…', index: 2 }, job)         // → { kind: 'done', action: 'pinned', … }
 */
import { WIRE_VERSION, type Job } from '../../core/job.ts';
import { findStyle, STYLE_NAMES } from '../../core/styles.ts';
import type { BoardAction } from '../custom-id.ts';
import { isDeleted, loadResult } from '../job-records.ts';
import { describeOptions } from '../message-model.ts';
import { moderatePrompt } from '../moderation.ts';
import type { BotDeps, ButtonReply, CommandContext, DoneReply, InfoReply, Rejected } from '../commands/context.ts';
import { rejected, screen } from '../commands/enqueue.ts';
import {
  addCohost,
  addPin,
  closedReason,
  createBoard,
  currentVersion,
  DEFAULT_BOARD_LIMITS,
  ensureMember,
  findActiveBoard,
  issueLinkToken,
  loadBoard,
  loadBoardState,
  loadEnded,
  loadPin,
  markEnded,
  newBoardId,
  removePin,
  setHero,
  sharedLinkToken,
  toggleVote,
} from './board-store.ts';
import { boardKeys, jobKeys, pinKeyOf } from '../../core/storage-layout.ts';
import { jobIdFrom } from '../../core/ids.ts';
import { checkPictures } from '../commands/imagine.ts';
import { boardCode, type BoardPlace, type BoardRecord, type EndedRecord, type PinRecord, type UserRef } from './model.ts';
import { mayAddCohost, mayEnd, mayPickHero, mayUnpin, roleOf } from './roles.ts';

/** Board commands take the same ports as every command (BotDeps carries the board limits and page URL). */
export type BoardDeps = BotDeps;

export interface BoardStartInput {
  name: string;
  brief?: string;
  /** `30m`, `2h`, `7d`; 10 minutes to 7 days; default 24 h. */
  duration?: string;
  visibility?: string;
  style?: string;
  negativePrompt?: string;
}

export interface BoardStarted {
  kind: 'board_started';
  board: BoardRecord;
  /** Shown once: to everyone in the place for `link` boards, to the host only for `private` ones. */
  linkToken: string;
  pageUrl?: string;
  message: string;
}

export type BoardStartReply = BoardStarted | Rejected;

/** Opens the board's place (a Discord thread, a Slack header message) once the input is valid; the board is written after. */
export type OpenPlace = (draft: BoardRecord) => Promise<BoardPlace>;

const MIN_DURATION_MS = 10 * 60_000;
const MAX_DURATION_MS = 7 * 24 * 3_600_000;
const DEFAULT_DURATION_MS = 24 * 3_600_000;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 24 * 3_600_000 };

/** `2h` → 7 200 000; undefined input = the default; a string naming the problem when it is not allowed. */
export function parseDuration(text: string | undefined): number | string {
  if (text === undefined || text.trim() === '') return DEFAULT_DURATION_MS;
  const match = /^(\d{1,4})\s*([mhd])$/i.exec(text.trim());
  if (!match) return `duration "${text.slice(0, 20)}" is not like 30m, 2h or 7d.`;
  const ms = Number(match[1]) * UNIT_MS[match[2]!.toLowerCase()]!;
  if (ms < MIN_DURATION_MS || ms > MAX_DURATION_MS) return `duration ${text.trim()} is outside 10m–7d.`;
  return ms;
}

function actorOf(ctx: CommandContext, name?: string): UserRef {
  return userRefOf(ctx.requester, name);
}

/** A playground session has no display name: it is shown as the page shows it, guest-xxxx. */
function userRefOf(user: { platform: UserRef['platform']; userId: string }, name?: string): UserRef {
  const shown = name ?? (user.platform === 'web' ? `guest-${user.userId.slice(1, 5)}` : undefined);
  return { platform: user.platform, userId: user.userId, ...(shown ? { name: shown.slice(0, 80) } : {}) };
}

function nowOf(deps: BotDeps): number {
  return (deps.now ?? Date.now)();
}

export function pageUrl(deps: BoardDeps, boardId: string, token: string): string | undefined {
  if (!deps.boardPageBaseUrl) return undefined;
  return `${deps.boardPageBaseUrl.replace(/\/$/, '')}/boards/${boardId}?t=${encodeURIComponent(token)}`;
}

async function publishChange(deps: BotDeps, boardId: string, change: 'started' | 'pinned' | 'unpinned' | 'voted' | 'hero' | 'ended'): Promise<void> {
  await deps.events.publish({ v: WIRE_VERSION, type: 'board_changed', jobId: boardId, change, at: nowOf(deps) });
}

/** The place a board started here would have: the channel (a Discord thread is one) and, on Slack, the thread. */
function placeOfContext(ctx: CommandContext): BoardPlace {
  const { requester } = ctx;
  return { platform: requester.platform, channelId: requester.channelId, ...(requester.threadId ? { threadId: requester.threadId } : {}), ...(requester.workspaceId ? { workspaceId: requester.workspaceId } : {}) };
}

export async function startBoard(deps: BoardDeps, ctx: CommandContext, input: BoardStartInput, openPlace?: OpenPlace, hostName?: string): Promise<BoardStartReply> {
  const placeRefusal = screen(deps, ctx);
  if (placeRefusal) return placeRefusal;
  const name = input.name.replace(/\s+/g, ' ').trim();
  const brief = (input.brief ?? '').trim();
  if (name === '') return rejected('invalid_board', 'A board needs a name, e.g. /board start name:"Spring campaign" brief:"pastel, outdoors".');
  if (name.length > 100) return rejected('invalid_board', `The board's name is ${name.length} characters; the limit is 100.`);
  if (brief.length > 1000) return rejected('invalid_board', `The brief is ${brief.length} characters; the limit is 1000.`);
  const verdict = moderatePrompt(deps.moderation, `${name}\n${brief}`, ctx.channel);
  if (!verdict.allowed) return rejected(verdict.code, verdict.message.replace('Your prompt was not sent', 'The board was not started'));
  const duration = parseDuration(input.duration);
  if (typeof duration === 'string') return rejected('invalid_board', `The board was not started: ${duration}`);
  const visibility = (input.visibility ?? 'link').trim().toLowerCase();
  if (visibility !== 'link' && visibility !== 'private') return rejected('invalid_board', `visibility must be private or link, not "${visibility.slice(0, 20)}".`);
  if (input.style !== undefined && !findStyle(input.style)) return rejected('invalid_board', `Unknown style "${input.style.slice(0, 32)}"; choose one of ${STYLE_NAMES.join(', ')}.`);
  const now = nowOf(deps);
  // One open board per place: also where the platform opens a place of its own (Slack's header lives in the channel).
  const existing = await findActiveBoard(deps.blobs, ctx.requester, now);
  if (existing) return rejected('board_exists', `This channel already has a board, "${existing.name}". Its host can end it with /board end first.`);
  const draft: BoardRecord = {
    v: 1,
    id: newBoardId(),
    name,
    brief,
    host: actorOf(ctx, hostName),
    place: placeOfContext(ctx),
    createdAt: now,
    deadline: now + duration,
    visibility: visibility,
    limits: deps.boardLimits ?? DEFAULT_BOARD_LIMITS,
    ...(input.style ? { style: findStyle(input.style)!.name } : {}),
    negativePrompt: (input.negativePrompt ?? '').slice(0, 2000),
  };
  const board: BoardRecord = openPlace ? { ...draft, place: await openPlace(draft) } : draft;
  await createBoard(deps.blobs, board);
  // A link board's one shared link; a private board's link for its host alone.
  const linkToken = (await sharedLinkToken(deps.blobs, board, now)) ?? (await issueLinkToken(deps.blobs, board.id, now));
  await publishChange(deps, board.id, 'started');
  const url = pageUrl(deps, board.id, linkToken);
  const until = new Date(board.deadline).toISOString().replace(/:\d\d\.\d+Z$/, ' UTC').replace('T', ' ');
  return {
    kind: 'board_started',
    board,
    linkToken,
    ...(url ? { pageUrl: url } : {}),
    message: `Board "${board.name}" is open until ${until}. Every /imagine here joins it; 📌 pins a tile, 👍 votes, the host picks the ⭐ hero.`,
  };
}

/** The open board of the place the context comes from, or a refusal saying there is none. */
export async function boardHere(deps: BotDeps, ctx: CommandContext): Promise<BoardRecord | Rejected> {
  const board = await findActiveBoard(deps.blobs, ctx.requester, nowOf(deps));
  return board ?? rejected('no_board', 'There is no open board here. Start one with /board start name:"…".');
}

function closedMessage(board: BoardRecord, ended: EndedRecord): string {
  const when = new Date(ended.at).toISOString().slice(0, 16).replace('T', ' ');
  const why = ended.reason === 'deadline' ? 'reached its deadline' : ended.reason === 'place_gone' ? 'lost its thread' : 'was ended';
  return `The board "${board.name}" ${why} at ${when} UTC; its pins and votes are final.`;
}

/** 📌 👍 ⭐ unpin on a tile of `job` (already loaded by pressButton). */
export async function boardButton(deps: BoardDeps, ctx: CommandContext, button: { action: BoardAction; jobId: string; index: number }, job: Job, actorName?: string): Promise<ButtonReply> {
  if (!job.boardId) return rejected('not_in_board', 'This image was not made in a mood board, so it cannot be pinned or voted on. Make it in the board’s thread.');
  const now = nowOf(deps);
  const [board, ended] = await Promise.all([loadBoard(deps.blobs, job.boardId), loadEnded(deps.blobs, job.boardId)]);
  if (!board) return rejected('not_found', 'The board this image was made in no longer exists.');
  const closed = closedReason(board, ended, now);
  if (closed) return rejected('board_closed', closedMessage(board, closed));
  const pinKey = pinKeyOf(job.id, button.index);
  const actor = actorOf(ctx, actorName);
  switch (button.action) {
    case 'pin':
      return pinTile(deps, board, job, button.index, actor, now);
    case 'vote': {
      if (!(await deps.blobs.exists(boardKeys.pin(board.id, pinKey)))) return rejected('not_pinned', `Tile ${button.index} is not pinned on "${board.name}"; pin it with 📌 first.`);
      if ((await ensureMember(deps.blobs, board, actor, now)) === 'full') return membersFull(board);
      const voted = await toggleVote(deps.blobs, board.id, pinKey, actor, now);
      const votes = (await deps.blobs.list(boardKeys.votesOf(board.id, pinKey))).length;
      await publishChange(deps, board.id, 'voted');
      return done(voted ? 'voted' : 'unvoted', board, `${voted ? '👍 Voted for' : 'Removed your vote for'} tile ${button.index} (${votes} vote${votes === 1 ? '' : 's'}).`, job.id);
    }
    case 'hero':
    case 'unpin': {
      const state = await loadBoardState(deps.blobs, board.id);
      if (!state) return rejected('not_found', 'The board this image was made in no longer exists.');
      const role = roleOf(state, ctx.requester);
      const pin = await loadPin(deps.blobs, board.id, pinKey);
      if (!pin) return rejected('not_pinned', `Tile ${button.index} is not pinned on "${board.name}".`);
      if (button.action === 'hero') {
        const verdict = mayPickHero(role);
        if (!verdict.allowed) return rejected('not_allowed', verdict.message);
        await setHero(deps.blobs, board.id, { v: 1, pinKey, by: actor, at: now });
        await publishChange(deps, board.id, 'hero');
        return done('hero', board, `⭐ Tile ${button.index} is now the hero of "${board.name}".`, job.id);
      }
      const verdict = mayUnpin(role, pin, ctx.requester);
      if (!verdict.allowed) return rejected('not_allowed', verdict.message);
      await removePin(deps.blobs, board.id, pinKey);
      await publishChange(deps, board.id, 'unpinned');
      return done('unpinned', board, `Unpinned tile ${button.index} from "${board.name}".`, job.id);
    }
  }
}

function done(action: DoneReply['action'], board: BoardRecord, message: string, jobId?: string): DoneReply {
  return { kind: 'done', action, boardId: board.id, message, ...(jobId ? { jobId } : {}) };
}

function membersFull(board: BoardRecord): Rejected {
  return rejected('board_full', `"${board.name}" already has ${board.limits.maxMembers} members (its limit), so you can't join it. Ask the host to end it or start your own board.`);
}

async function pinTile(deps: BoardDeps, board: BoardRecord, job: Job, tile: number, actor: UserRef, now: number): Promise<ButtonReply> {
  if (await isDeleted(deps.blobs, job.id)) return rejected('not_found', 'That image was deleted by its owner, so it cannot be pinned.');
  const result = await loadResult(deps.blobs, job.id);
  if (!result) return rejected('not_found', `Job ${job.id} has not finished yet; pin it when its images are shown.`);
  const image = result.images.find((candidate) => candidate.index === tile);
  if (!image) return rejected('not_found', `Job ${job.id} has no image ${tile}.`);
  if ((await ensureMember(deps.blobs, board, actor, now)) === 'full') return membersFull(board);
  const pin: PinRecord = {
    v: 1,
    jobId: job.id,
    tile: image.index,
    pinnedBy: actor,
    at: now,
    author: userRefOf(job.requester),
    prompt: job.request.prompt,
    negativePrompt: job.request.negativePrompt,
    seed: image.seed,
    optionsText: describeOptions({ ...job.request, seed: image.seed }),
    ...(job.request.style ? { style: job.request.style } : {}),
    imageKey: image.key,
    width: image.width,
    height: image.height,
    ...(job.parent ? { parent: { ...job.parent, label: job.kind === 'upscale' ? 'Upscale' : job.kind === 'variation' ? 'Variation' : 'Reroll' } } : {}),
    kind: job.kind,
  };
  const outcome = await addPin(deps.blobs, board, pinKeyOf(job.id, tile), pin);
  if (outcome === 'already_pinned') return rejected('already_pinned', `Tile ${tile} is already pinned on "${board.name}".`);
  if (outcome === 'full') return rejected('board_full', `"${board.name}" already has ${board.limits.maxPins} pins (its limit). Unpin one first.`);
  await publishChange(deps, board.id, 'pinned');
  return done('pinned', board, `📌 Pinned tile ${tile} to "${board.name}".`, job.id);
}

/** `/board cohost @user`: the host names a co-host. */
export async function addBoardCohost(deps: BoardDeps, ctx: CommandContext, cohost: UserRef): Promise<DoneReply | Rejected> {
  const here = await boardHere(deps, ctx);
  if ('kind' in here) return here;
  const state = await loadBoardState(deps.blobs, here.id);
  if (!state) return rejected('no_board', 'There is no open board here.');
  const verdict = mayAddCohost(roleOf(state, ctx.requester));
  if (!verdict.allowed) return rejected('not_allowed', verdict.message);
  await addCohost(deps.blobs, here.id, cohost, nowOf(deps));
  return done('cohost_added', here, `${cohost.name ?? cohost.userId} is now a co-host of "${here.name}".`);
}

/**
 * `/board end`: host or co-host. Ending twice says when it ended; the summary and exports follow from the
 * `board_changed` event (the header updater posts them once).
 */
export async function endBoard(deps: BoardDeps, ctx: CommandContext, boardId?: string): Promise<DoneReply | Rejected> {
  let board: BoardRecord | null;
  if (boardId) board = await loadBoard(deps.blobs, boardId);
  else {
    board = (await findActiveBoard(deps.blobs, ctx.requester, nowOf(deps))) ?? null;
    if (!board) return rejected('no_board', 'There is no open board here to end.');
  }
  if (!board) return rejected('not_found', 'There is no such board.');
  const state = await loadBoardState(deps.blobs, board.id);
  if (!state) return rejected('not_found', 'There is no such board.');
  const verdict = mayEnd(roleOf(state, ctx.requester));
  if (!verdict.allowed) return rejected('not_allowed', verdict.message);
  const outcome = await markEnded(deps.blobs, board, { v: 1, at: nowOf(deps), by: actorOf(ctx), reason: 'ended' });
  if (!outcome.first) return rejected('already_ended', closedMessage(board, outcome.ended));
  await publishChange(deps, board.id, 'ended');
  return done('board_ended', board, `Ended "${board.name}": ${state.pins.length} pin${state.pins.length === 1 ? '' : 's'} from ${state.candidates} generation${state.candidates === 1 ? '' : 's'}. The summary and exports follow in the thread.`);
}

/** `/board status`: the board of this place, its counts, current code and taste line. */
export async function boardStatus(deps: BoardDeps, ctx: CommandContext): Promise<InfoReply | Rejected> {
  const here = await boardHere(deps, ctx);
  if ('kind' in here) return here;
  const state = await loadBoardState(deps.blobs, here.id);
  if (!state) return rejected('no_board', 'There is no open board here.');
  const version = await currentVersion(deps.blobs, state, nowOf(deps));
  const code = boardCode(here.id, version.versionId);
  const top = [...state.pins].sort((a, b) => b.votes - a.votes || a.at - b.at).slice(0, 5);
  return {
    kind: 'info',
    title: `Board "${here.name}"`,
    lines: [
      ...(here.brief ? [`Brief: ${here.brief}`] : []),
      `Host: ${here.host.name ?? here.host.userId} · ends ${new Date(here.deadline).toISOString().slice(0, 16).replace('T', ' ')} UTC · ${here.visibility}`,
      `${state.pins.length}/${here.limits.maxPins} pins · ${state.members}/${here.limits.maxMembers} members · ${state.candidates} generations`,
      ...(version.tasteLine ? [`Taste: ${version.tasteLine}`] : []),
      ...top.map((pin, rank) => `${rank + 1}. ${pin.prompt.slice(0, 80)} — ${pin.votes} 👍${state.hero?.pinKey === pin.pinKey ? ' ⭐' : ''}`),
    ],
    copyable: [{ label: 'Board code', value: code }],
  };
}

/**
 * `/board add` with a picture: the picture (checked and normalised like every upload, bot/uploads.ts) is pinned to the
 * open board here. It is stored where a finished tile would be (`jobs/{id}/image-1.png`, the id from this request),
 * so the collage, the page, the exports and the board's image references read it as they read a tile; the caption
 * (moderated like a prompt) stands for its prompt. Nothing is stored when the pin is refused.
 */
export async function pinUploadedPicture(deps: BoardDeps, ctx: CommandContext, pictures: readonly Uint8Array[], caption: string | undefined, actorName?: string): Promise<DoneReply | Rejected> {
  if (pictures.length !== 1) {
    return rejected('invalid_options', pictures.length === 0
      ? '/board add pins a picture: attach one (Discord: the image option; Slack: a file link, /board add <link> [caption]; playground: drop it on the prompt box).'
      : `/board add pins one picture at a time; ${pictures.length} were given.`);
  }
  const text = caption?.trim().slice(0, 200) || 'Uploaded picture';
  const refusal = screen(deps, ctx, text);
  if (refusal) return refusal;
  const here = await boardHere(deps, ctx);
  if ('kind' in here) return here;
  const uploads = await checkPictures(pictures);
  if ('kind' in uploads) return uploads;
  const now = nowOf(deps);
  const actor = actorOf(ctx, actorName);
  if ((await ensureMember(deps.blobs, here, actor, now)) === 'full') return membersFull(here);
  const id = jobIdFrom(ctx.sourceId);
  const imageKey = jobKeys.image(id, 1);
  const upload = uploads[0]!;
  const pin: PinRecord = {
    v: 1, jobId: id, tile: 1, pinnedBy: actor, at: now, author: actor, prompt: text, negativePrompt: '', seed: 0,
    optionsText: `uploaded picture, ${upload.width}×${upload.height}`, imageKey, width: upload.width, height: upload.height, kind: 'imagine',
  };
  await deps.blobs.put(imageKey, upload.png, 'image/png');
  const outcome = await addPin(deps.blobs, here, pinKeyOf(id, 1), pin);
  // A redelivered request names the same pin: it stays (the picture is the same); a full board keeps nothing.
  if (outcome === 'already_pinned') return done('pinned', here, `📌 Your picture is pinned to "${here.name}".`);
  if (outcome === 'full') {
    await deps.blobs.delete([imageKey]);
    return rejected('board_full', `"${here.name}" already has ${here.limits.maxPins} pins (its limit). Unpin one first.`);
  }
  await publishChange(deps, here.id, 'pinned');
  return done('pinned', here, `📌 Pinned your picture to "${here.name}".`);
}
