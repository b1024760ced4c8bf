/**
 * `/board start|end|status|generate|add|cohost` on every platform: one entry point the Discord and Slack command
 * files and the playground's prompt box call, with the subcommand and its options already named. `parseBoardText`
 * reads the text form (Slack, playground): `/board start "Spring campaign" --brief pastel, outdoors --duration 2h
 * --visibility private --style watercolor`.
 *
 * `generate [prompt] [k]` makes k (1–4) grids in the board's style from inside its place: the prompt (or the
 * board's brief) with the current board code, so each job is conditioned on the top pins' pictures, weighted by
 * votes, where the model reads images (bot/boards/board-style.ts); the reply's `styleNote` says which it was.
 */
import type { BotDeps, CommandContext, DoneReply, ImagineReply, InfoReply, Rejected } from '../commands/context.ts';
import { rejected } from '../commands/enqueue.ts';
import { imagine } from '../commands/imagine.ts';
import { addBoardCohost, boardHere, pinUploadedPicture, boardStatus, endBoard, startBoard, type BoardStartInput, type BoardStartReply, type OpenPlace } from './actions.ts';
import { currentVersion, loadBoardState } from './board-store.ts';
import { boardImagePrompts, boardStyleNote } from './board-style.ts';
import { boardCode, type UserRef } from './model.ts';
import type { Platform } from '../../core/job.ts';

export const BOARD_SUBCOMMANDS = ['start', 'end', 'status', 'generate', 'add', 'cohost'] as const;
export type BoardSubcommand = (typeof BOARD_SUBCOMMANDS)[number];

export type BoardCommandInput =
  | ({ sub: 'start' } & BoardStartInput)
  | { sub: 'end' }
  | { sub: 'status' }
  | { sub: 'generate'; prompt?: string; count?: number }
  /** `pictures`: the platform's file(s), raw; `caption` stands for the pin's prompt. */
  | { sub: 'add'; caption?: string; pictures?: readonly Uint8Array[] }
  | { sub: 'cohost'; user?: UserRef };

export interface GenerateReply {
  kind: 'board_generated';
  code: string;
  results: ImagineReply[];
  /** Whether the board's pictures conditioned the grids, or why only its text style did. */
  styleNote: string;
  message: string;
}

export type BoardCommandReply = BoardStartReply | DoneReply | InfoReply | GenerateReply | Rejected;

export interface BoardCommandOptions {
  /** Discord: creates the thread and posts the header there; Slack: posts the header whose thread is the session. */
  openPlace?: OpenPlace;
  /** The actor's display name, for initials on the collage and names on the page. */
  actorName?: string;
}

export const BOARD_HELP = 'Use /board start name brief [duration 2h] [visibility private|link], /board status, /board generate [prompt] [k], /board add [caption] with a picture, /board end.';

export async function boardCommand(deps: BotDeps, ctx: CommandContext, input: BoardCommandInput, options: BoardCommandOptions = {}): Promise<BoardCommandReply> {
  switch (input.sub) {
    case 'start': {
      const { sub: _sub, ...start } = input;
      return startBoard(deps, ctx, start, options.openPlace, options.actorName);
    }
    case 'end':
      return endBoard(deps, ctx);
    case 'status':
      return boardStatus(deps, ctx);
    case 'add':
      return pinUploadedPicture(deps, ctx, input.pictures ?? [], input.caption, options.actorName);
    case 'cohost':
      if (!input.user) return rejected('invalid_board', 'Name the co-host: /board cohost @someone.');
      return addBoardCohost(deps, ctx, input.user);
    case 'generate':
      return generate(deps, ctx, input.prompt, input.count);
  }
}

async function generate(deps: BotDeps, ctx: CommandContext, prompt: string | undefined, count = 1): Promise<GenerateReply | Rejected> {
  if (!Number.isInteger(count) || count < 1 || count > 4) return rejected('invalid_options', 'k must be 1–4 grids.');
  const here = await boardHere(deps, ctx);
  if ('kind' in here) return here;
  const state = await loadBoardState(deps.blobs, here.id);
  if (!state) return rejected('no_board', 'There is no open board here.');
  const version = await currentVersion(deps.blobs, state, (deps.now ?? Date.now)());
  const code = boardCode(here.id, version.versionId);
  const text = (prompt?.trim() || here.brief || here.name).replace(/(^|\s)--board(\s+\S+)?/g, ' ').trim();
  const results: ImagineReply[] = [];
  // One after another: each counts against the per-user cap like any /imagine, and says so when it is reached.
  for (let i = 0; i < count; i++) results.push(await imagine(deps, { ...ctx, sourceId: `${ctx.sourceId}:g${i}` }, text, {}, code));
  const accepted = results.filter((result) => result.kind === 'accepted').length;
  const refusal = results.find((result): result is Rejected => result.kind === 'rejected');
  const styleNote = boardStyleNote(await boardImagePrompts(deps.blobs, version));
  return {
    kind: 'board_generated',
    code,
    results,
    styleNote,
    message: `${accepted} of ${count} grid${count === 1 ? '' : 's'} queued in the style of "${here.name}" (${code}). ${styleNote}${refusal ? ` ${refusal.message}` : ''}`,
  };
}

/** Words and "quoted phrases" of the text form, with `--name value…` options (a value runs until the next option). */
export function parseBoardText(text: string, platform: Platform = 'web'): BoardCommandInput | Rejected {
  const trimmed = text.trim();
  const [first = '', ...restWords] = trimmed.split(/\s+/);
  const sub = first.toLowerCase();
  if (!(BOARD_SUBCOMMANDS as readonly string[]).includes(sub)) return rejected('invalid_board', `Unknown /board ${first.slice(0, 20) || '(nothing)'}. ${BOARD_HELP}`);
  const rest = restWords.join(' ');
  const optionAt = rest.search(/(^|\s)--[a-z]/);
  const head = (optionAt < 0 ? rest : rest.slice(0, optionAt)).trim();
  const options = new Map<string, string>();
  if (optionAt >= 0) {
    for (const part of rest.slice(optionAt).split(/(?:^|\s)--(?=[a-z])/).filter((p) => p.trim() !== '')) {
      const [name = '', ...value] = part.trim().split(/\s+/);
      options.set(name.toLowerCase(), value.join(' '));
    }
  }
  const unquoted = head.replace(/^"(.*)"$/s, '$1').replace(/^“(.*)”$/s, '$1');
  switch (sub) {
    case 'start': {
      const known = new Set(['brief', 'duration', 'visibility', 'style', 'no']);
      const unknown = [...options.keys()].find((name) => !known.has(name));
      if (unknown) return rejected('invalid_board', `/board start has no --${unknown.slice(0, 20)}; it takes --brief, --duration, --visibility, --style and --no.`);
      return {
        sub: 'start',
        name: unquoted,
        ...(options.has('brief') ? { brief: options.get('brief')! } : {}),
        ...(options.has('duration') ? { duration: options.get('duration')! } : {}),
        ...(options.has('visibility') ? { visibility: options.get('visibility')! } : {}),
        ...(options.has('style') ? { style: options.get('style')! } : {}),
        ...(options.has('no') ? { negativePrompt: options.get('no')! } : {}),
      };
    }
    case 'generate': {
      const k = /\s(\d)$/.exec(` ${unquoted}`);
      const prompt = k ? unquoted.slice(0, -k[1]!.length).trim() : unquoted;
      return { sub: 'generate', ...(prompt ? { prompt } : {}), ...(k ? { count: Number(k[1]) } : {}) };
    }
    case 'cohost':
      // Slack writes a mention as <@U123|name>; the playground takes a session id.
      return unquoted ? { sub: 'cohost', user: { platform, userId: unquoted.replace(/^<@([^|>]+)(\|[^>]*)?>$/, '$1').replace(/^@/, '').slice(0, 64) } } : { sub: 'cohost' };
    case 'add':
      return { sub: 'add', ...(unquoted ? { caption: unquoted } : {}) };
    default:
      return { sub: sub as 'end' | 'status' };
  }
}
