/**
 * The playground's mood-board routes (bot/boards/ holds the logic; this file only serves it), handed to
 * startWebPlayground as `routes` (local/system.ts):
 *
 *   GET /api/boards                        the open board of the playground channel, for the side panel
 *   GET /boards/{id}?t={token}             the read-only board page: pins with prompt, seed, author, votes,
 *                                          lineage, the board code, download links
 *   GET /boards/{id}/image/{pinKey}?t=     a pinned image (add &download=1 to save it)
 *   GET /boards/{id}/download/{file}?t=    collage.png, sheet.pdf or board.zip (rendered when missing or while open)
 *
 * Every /boards/ route needs a page-link token of that board (only its hash is stored). A wrong token, an
 * unknown board and a malformed id all get the same 404, so a link cannot be used to learn that a board exists.
 */
import type { ServerResponse } from 'node:http';
import type { BotDeps } from '../commands/index.ts';
import { boardKeys } from '../../core/storage-layout.ts';
import { currentVersion, findActiveBoard, issueLinkToken, loadBoardState, verifyLinkToken } from '../boards/board-store.ts';
import { writeExports } from '../boards/board-media.ts';
import { rankPins } from '../boards/exports.ts';
import { boardCode, BoardIdSchema, type BoardState, type BoardVersion } from '../boards/model.ts';
import { roleOf } from '../boards/roles.ts';
import { PLAYGROUND_CHANNEL } from './commands.ts';
import type { WebRoute } from './server.ts';

const EXPORT_TYPES = { 'collage.png': 'image/png', 'sheet.pdf': 'application/pdf', 'board.zip': 'application/zip' } as const;
type ExportFile = keyof typeof EXPORT_TYPES;

/** One page-link token per board per process (issued on first need; the store keeps only its hash). */
export class BoardLinks {
  readonly #tokens = new Map<string, string>();
  private readonly deps: BotDeps;
  constructor(deps: BotDeps) {
    this.deps = deps;
  }

  async pagePath(boardId: string): Promise<string> {
    let token = this.#tokens.get(boardId);
    if (!token) {
      token = await issueLinkToken(this.deps.blobs, boardId, (this.deps.now ?? Date.now)());
      this.#tokens.set(boardId, token);
    }
    return `/boards/${boardId}?t=${encodeURIComponent(token)}`;
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function send(response: ServerResponse, status: number, type: string, body: string | Uint8Array, extra: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...extra });
  response.end(body);
}

const NOT_FOUND = '<!doctype html><meta charset="utf-8"><title>Board not found</title><p>This board does not exist, or it is private and this link has no valid token. Ask the board\'s host for its link.</p>';

/** The side panel's data: the open board of the playground, with what this session may do on it. */
export async function boardPanel(deps: BotDeps, links: BoardLinks, userId: string | undefined): Promise<unknown> {
  const board = await findActiveBoard(deps.blobs, { platform: 'web', channelId: PLAYGROUND_CHANNEL }, (deps.now ?? Date.now)());
  if (!board) return { board: null };
  const state = await loadBoardState(deps.blobs, board.id);
  if (!state) return { board: null };
  const version = await currentVersion(deps.blobs, state, (deps.now ?? Date.now)());
  const role = userId === undefined ? 'member' : roleOf(state, { platform: 'web', userId });
  const canSeeLink = board.visibility === 'link' || role !== 'member';
  return {
    board: {
      id: board.id, name: board.name, brief: board.brief, deadline: new Date(board.deadline).toISOString(), visibility: board.visibility, role,
      code: boardCode(board.id, version.versionId), tasteLine: version.tasteLine, members: state.members, generations: state.candidates, maxPins: board.limits.maxPins,
      ...(canSeeLink ? { pageUrl: await links.pagePath(board.id) } : {}),
      pins: rankPins(state.pins).map((pin) => ({ pinKey: pin.pinKey, jobId: pin.jobId, tile: pin.tile, prompt: pin.prompt, seed: pin.seed, votes: pin.votes, hero: state.hero?.pinKey === pin.pinKey, imageUrl: `/api/image?key=${encodeURIComponent(pin.imageKey)}` })),
    },
  };
}

const BOARD_PATH = /^\/boards\/([^/]+)(?:\/(image|download)\/([^/]+))?\/?$/;

/** The playground's board routes (passed to startWebPlayground as `routes`). */
export function boardRoutes(deps: BotDeps): WebRoute[] {
  const links = new BoardLinks(deps);
  return [
    { method: 'GET', path: '/api/boards', handle: async ({ response, userId }) => send(response, 200, 'application/json; charset=utf-8', JSON.stringify(await boardPanel(deps, links, userId))) },
    { method: 'GET', path: BOARD_PATH, handle: async ({ response, url }) => void (await handleBoardPage(deps, response, url)) },
  ];
}

/**
 * What a /boards/… request gets, independent of the server: the playground writes it to its response, the board
 * page Lambda (functions/board-page.ts) to a function URL response. `object` is a stored object to serve: the
 * playground sends its bytes, the Lambda redirects to a short-lived presigned URL (a function URL answer is
 * capped at 6 MB, a zip of 48 full-size PNGs is not).
 */
export type BoardPageReply =
  | { kind: 'body'; status: number; headers: Record<string, string>; body: string | Uint8Array }
  | { kind: 'object'; key: string; headers: Record<string, string> };

export interface BoardPageOptions {
  /** Origins the page may load pin images from besides its own (the Lambda's presigned S3 URLs); asked only for a page. */
  imageOrigins?: () => Promise<string[]>;
}

const html = (status: number, body: string, headers: Record<string, string> = {}): BoardPageReply => ({ kind: 'body', status, headers: { 'content-type': 'text/html; charset=utf-8', ...headers }, body });
const jsonError = (error: string): BoardPageReply => ({ kind: 'body', status: 404, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ error }) });

/** The reply to a /boards/… URL, or undefined when the path is not one of them. */
export async function boardPageReply(deps: Pick<BotDeps, 'blobs' | 'now'>, url: URL, options: BoardPageOptions = {}): Promise<BoardPageReply | undefined> {
  const match = BOARD_PATH.exec(url.pathname);
  if (!match) return undefined;
  const [, boardId = '', kind, item = ''] = match;
  const token = url.searchParams.get('t') ?? undefined;
  if (!BoardIdSchema.safeParse(boardId).success || !(await verifyLinkToken(deps.blobs, boardId, token))) return html(404, NOT_FOUND);
  const state = await loadBoardState(deps.blobs, boardId);
  if (!state) return html(404, NOT_FOUND);
  if (kind === 'image') {
    const pin = state.pins.find((candidate) => candidate.pinKey === item);
    if (!pin) return jsonError(`No pinned image ${item.slice(0, 80)} on this board (unpinned or deleted).`);
    const disposition: Record<string, string> = url.searchParams.has('download') ? { 'content-disposition': `attachment; filename="${pin.jobId}-${pin.tile}.png"` } : {};
    return { kind: 'object', key: pin.imageKey, headers: { 'content-type': 'image/png', 'cache-control': 'private, max-age=3600', ...disposition } };
  }
  if (kind === 'download') {
    if (!(item in EXPORT_TYPES)) return jsonError('Exports are collage.png, sheet.pdf and board.zip.');
    const file = item as ExportFile;
    const key = boardKeys.export(boardId, file);
    // An ended board's exports are final (written once by its summary); an open board's are rendered fresh.
    if (!state.ended || !(await deps.blobs.exists(key))) await writeExports(deps.blobs, state, (deps.now ?? Date.now)());
    return { kind: 'object', key, headers: { 'content-type': EXPORT_TYPES[file], 'content-disposition': `attachment; filename="${boardId}-${file}"` } };
  }
  const version = await currentVersion(deps.blobs, state, (deps.now ?? Date.now)());
  const imgSrc = ["'self'", ...((await options.imageOrigins?.()) ?? [])].join(' ');
  return html(200, boardPageHtml(state, version, token!), { 'content-security-policy': `default-src 'none'; img-src ${imgSrc}; style-src 'unsafe-inline'` });
}

/** Serves /boards/… in the playground. */
export async function handleBoardPage(deps: BotDeps, response: ServerResponse, url: URL): Promise<boolean> {
  const reply = await boardPageReply(deps, url);
  if (!reply) return false;
  if (reply.kind === 'body') {
    send(response, reply.status, reply.headers['content-type']!, reply.body, reply.headers);
    return true;
  }
  const bytes = await deps.blobs.get(reply.key);
  if (!bytes) send(response, 404, 'application/json; charset=utf-8', JSON.stringify({ error: 'That file is gone from the store (its job was deleted); try again later or ask the host.' }));
  else send(response, 200, reply.headers['content-type']!, bytes, reply.headers);
  return true;
}

/** The read-only page: no script, every stored text escaped. */
export function boardPageHtml(state: BoardState, version: BoardVersion, token: string): string {
  const { board } = state;
  const t = encodeURIComponent(token);
  const code = boardCode(board.id, version.versionId);
  const closed = state.ended ? `Ended ${new Date(state.ended.at).toISOString().slice(0, 16).replace('T', ' ')} UTC` : `Open until ${new Date(board.deadline).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const cards = rankPins(state.pins)
    .map((pin, rank) => {
      const hero = state.hero?.pinKey === pin.pinKey;
      const lineage = pin.parent ? `${escapeHtml(pin.parent.label)} of ${escapeHtml(pin.parent.jobId)} tile ${pin.parent.index} → ${escapeHtml(pin.jobId)} tile ${pin.tile}` : `original · ${escapeHtml(pin.jobId)} tile ${pin.tile}`;
      const image = `/boards/${board.id}/image/${encodeURIComponent(pin.pinKey)}?t=${t}`;
      return `<li class="pin${hero ? ' hero' : ''}" data-pin="${escapeHtml(pin.pinKey)}" data-votes="${pin.votes}">
<img src="${image}" alt="${escapeHtml(pin.prompt)}" width="${pin.width}" height="${pin.height}" loading="lazy">
<div class="meta"><b>#${rank + 1}${hero ? ' ⭐ hero' : ''}</b> · <span class="votes">${pin.votes} 👍</span>
<p class="prompt">${escapeHtml(pin.prompt)}</p>
<p>seed <code>${pin.seed}</code> · by ${escapeHtml(pin.author.name ?? pin.author.userId)} · <span class="lineage">${lineage}</span></p>
<p><code class="options">${escapeHtml(pin.optionsText)}</code> · <a href="${image}&amp;download=1">download</a></p></div></li>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>${escapeHtml(board.name)} · mood board</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#16161a;color:#eee}header{padding:20px 28px;background:#202027;border-bottom:1px solid #333}
h1{margin:0 0 6px;font-size:26px}header p{margin:4px 0;color:#bbb}code{background:#2b2b33;padding:1px 5px;border-radius:4px}a{color:#8ab4ff}
ul.pins{list-style:none;display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:16px;padding:20px 28px;margin:0}
li.pin{background:#202027;border-radius:10px;overflow:hidden;border:2px solid transparent}li.pin.hero{border-color:#d4a017}
li.pin img{width:100%;height:auto;display:block;aspect-ratio:auto}.meta{padding:10px 12px}.meta p{margin:6px 0;color:#ccc;font-size:13px}.prompt{color:#fff!important;font-size:14px!important}
.downloads a{margin-right:14px}.empty{padding:28px;color:#aaa}
</style></head><body>
<header><h1>${escapeHtml(board.name)}</h1>
${board.brief ? `<p class="brief">${escapeHtml(board.brief)}</p>` : ''}
<p>Host ${escapeHtml(board.host.name ?? board.host.userId)} · ${closed} · ${state.pins.length} pins · ${state.members} members · ${state.candidates} generations</p>
<p>Board code <code id="code">${code}</code>${version.tasteLine ? ` · taste: <span id="taste">${escapeHtml(version.tasteLine)}</span>` : ''}</p>
<p class="downloads">Download: <a href="/boards/${board.id}/download/collage.png?t=${t}">collage (PNG)</a><a href="/boards/${board.id}/download/sheet.pdf?t=${t}">contact sheet (PDF)</a><a href="/boards/${board.id}/download/board.zip?t=${t}">all images (zip)</a></p></header>
${cards ? `<ul class="pins">\n${cards}\n</ul>` : '<p class="empty">Nothing is pinned yet.</p>'}
</body></html>`;
}
