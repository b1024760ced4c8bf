/**
 * Board → platform-neutral messages, PURE like message-model.ts: the header (name, brief, host, deadline,
 * counts, taste line, code, the collage beside it) and the end summary (participants, generations, pins,
 * the top five by votes, the code, the page link, the exports' links). Text carries no platform markup;
 * renderers (Discord, Slack, web) lay it out and keep within their limits.
 */
import type { BoardState, UserRef } from './model.ts';
import { rankPins } from './exports.ts';

export interface BoardHeader {
  boardId: string;
  /** "📋 Spring campaign" (≤ 100 chars). */
  title: string;
  brief: string;
  host: UserRef;
  /** One line: open until … / ended …; counts. */
  statusLine: string;
  tasteLine: string;
  code: string;
  /** Present for `link` boards; `private` boards keep their link out of shared messages. */
  pageUrl?: string;
  final: boolean;
  /** Whole header as plain text (Slack `text`, notifications). */
  text: string;
}

export interface BoardSummary {
  boardId: string;
  title: string;
  lines: string[];
  top: Array<{ rank: number; prompt: string; votes: number; author: UserRef; hero: boolean; jobId: string; tile: number }>;
  code: string;
  pageUrl?: string;
  exports: { collage: string; sheet: string; zip: string };
  text: string;
}

function utc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function nameOf(user: UserRef): string {
  return user.name ?? user.userId;
}

export function buildBoardHeader(state: BoardState, code: string, tasteLine: string, now: number, pageUrl?: string): BoardHeader {
  const { board } = state;
  const closed = state.ended ?? (now >= board.deadline ? { at: board.deadline, reason: 'deadline' as const } : undefined);
  const counts = `${state.pins.length}/${board.limits.maxPins} pins · ${state.members} member${state.members === 1 ? '' : 's'} · ${state.candidates} generation${state.candidates === 1 ? '' : 's'}`;
  const statusLine = closed ? `Ended ${utc(closed.at)} · ${counts}` : `Open until ${utc(board.deadline)} · ${counts}`;
  const title = `📋 ${board.name}`.slice(0, 100);
  const shownUrl = board.visibility === 'link' ? pageUrl : undefined;
  const lines = [title, board.brief ? `Brief: ${board.brief}` : '', `Host: ${nameOf(board.host)}`, statusLine, tasteLine ? `Taste: ${tasteLine}` : '', `Board code: ${code}`, shownUrl ? `Board page: ${shownUrl}` : ''];
  return {
    boardId: board.id,
    title,
    brief: board.brief,
    host: board.host,
    statusLine,
    tasteLine,
    code,
    ...(shownUrl ? { pageUrl: shownUrl } : {}),
    final: closed !== undefined,
    text: lines.filter(Boolean).join('\n'),
  };
}

export function buildBoardSummary(state: BoardState, code: string, exports: BoardSummary['exports'], pageUrl?: string): BoardSummary {
  const { board } = state;
  const top = rankPins(state.pins).slice(0, 5).map((pin, index) => ({ rank: index + 1, prompt: pin.prompt, votes: pin.votes, author: pin.author, hero: state.hero?.pinKey === pin.pinKey, jobId: pin.jobId, tile: pin.tile }));
  const shownUrl = board.visibility === 'link' ? pageUrl : undefined;
  const title = `🏁 ${board.name} — final board`.slice(0, 100);
  const lines = [
    `${state.members} participant${state.members === 1 ? '' : 's'} · ${state.candidates} generation${state.candidates === 1 ? '' : 's'} · ${state.pins.length} pin${state.pins.length === 1 ? '' : 's'}`,
    `Board code: ${code} (use it with /imagine … --board ${code})`,
    ...(shownUrl ? [`Board page: ${shownUrl}`] : []),
  ];
  const topLines = top.map((pin) => `${pin.rank}. ${pin.prompt.slice(0, 120)} — ${pin.votes} 👍${pin.hero ? ' ⭐' : ''} (${nameOf(pin.author)})`);
  const exportLines = [`Collage: ${exports.collage}`, `Contact sheet (PDF): ${exports.sheet}`, `All images (zip): ${exports.zip}`];
  return {
    boardId: board.id,
    title,
    lines,
    top,
    code,
    ...(shownUrl ? { pageUrl: shownUrl } : {}),
    exports,
    text: [title, ...lines, ...(topLines.length ? ['Top pins:', ...topLines] : ['Nothing was pinned.']), ...exportLines].join('\n'),
  };
}
