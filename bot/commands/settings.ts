/**
 * `/settings`: show or change saved defaults. Defaults are typed like /imagine options
 * (`--ar 3:2 --style anime --no text`) and validated by the same parser, so what is accepted here
 * is exactly what /imagine accepts. Scope 'user' is the actor's own; scope 'channel' needs
 * `ctx.canManageChannel` and also sets who may press buttons in the channel.
 *
 * @example
 *   await settings(deps, ctx, { scope: 'user', options: '--ar 16:9 --style cinematic' })
 *   // → { kind: 'done', action: 'settings_saved', message: 'Saved your defaults: --ar 16:9 --style cinematic' }
 */
import { OptionsError } from '../../core/errors.ts';
import { givenOptionNames, parseImagine } from '../../core/options.ts';
import {
  readChannelSettings,
  readUserSettings,
  writeChannelSettings,
  writeUserSettings,
  type ButtonPolicy,
  type RequestDefaults,
} from '../settings.ts';
import type { BotDeps, CommandContext, DoneReply, InfoReply, Rejected } from './context.ts';
import { rejected } from './enqueue.ts';

export interface SettingsInput {
  scope: 'user' | 'channel';
  /** Options to save, e.g. '--ar 3:2 --chaos 20'. Absent: show the current settings. */
  options?: string;
  /** Channel scope only. */
  buttons?: ButtonPolicy;
  /** Forget every saved default of the scope (and the channel's button policy). */
  reset?: boolean;
}

export async function settings(deps: BotDeps, ctx: CommandContext, input: SettingsInput): Promise<InfoReply | DoneReply | Rejected> {
  const { platform, userId, channelId } = ctx.requester;
  if (input.scope === 'channel' && (input.options !== undefined || input.buttons !== undefined || input.reset) && !ctx.canManageChannel) {
    return rejected('not_allowed', 'Only people who can manage this channel can change its defaults.');
  }
  if (input.scope === 'user' && input.buttons !== undefined) return rejected('invalid_settings', 'Who may press buttons is a channel setting: use the channel scope.');
  const parsed = input.options === undefined ? {} : parseDefaults(input.options);
  if ('kind' in parsed) return parsed;

  if (input.scope === 'user') {
    const current = await readUserSettings(deps.blobs, platform, userId);
    if (input.options === undefined && !input.reset) return describeSettings('Your defaults', current.defaults);
    const defaults = input.reset ? parsed : { ...current.defaults, ...parsed };
    await writeUserSettings(deps.blobs, platform, userId, { v: 1, defaults });
    return { kind: 'done', action: 'settings_saved', message: `Saved your defaults: ${summarise(defaults)}` };
  }
  const current = await readChannelSettings(deps.blobs, platform, channelId);
  if (input.options === undefined && input.buttons === undefined && !input.reset) {
    return describeSettings('Channel defaults', current.defaults, current.buttons ?? 'requester');
  }
  const defaults = input.reset ? parsed : { ...current.defaults, ...parsed };
  const buttons = input.buttons ?? (input.reset ? undefined : current.buttons);
  await writeChannelSettings(deps.blobs, platform, channelId, { v: 1, defaults, ...(buttons ? { buttons } : {}) });
  return { kind: 'done', action: 'settings_saved', message: `Saved channel defaults: ${summarise(defaults)}; buttons: ${buttons ?? 'requester'} only` };
}

/** Parses `--options` with the /imagine parser and keeps exactly the ones given. A seed cannot be a default. */
export function parseDefaults(options: string): RequestDefaults | Rejected {
  const text = `defaults ${options}`;
  const given = givenOptionNames(text);
  if (given.has('seed')) return rejected('invalid_settings', '--seed cannot be a default: every image would come out the same.');
  if (given.size === 0) return rejected('invalid_settings', 'Give the defaults as options, e.g. --ar 16:9 --style photo --no text');
  try {
    const request = parseImagine(text, {}, { randomSeed: () => 0 });
    const defaults: RequestDefaults = {};
    if (given.has('ar')) defaults.aspect = request.aspect;
    if (given.has('no')) defaults.negativePrompt = request.negativePrompt;
    if (given.has('size')) defaults.size = request.size;
    if (given.has('steps') && request.steps !== undefined) defaults.steps = request.steps;
    if (given.has('cfg') && request.cfg !== undefined) defaults.cfg = request.cfg;
    if (given.has('chaos')) defaults.chaos = request.chaos;
    if (given.has('style') && request.style !== undefined) defaults.style = request.style;
    if (given.has('lite')) defaults.lite = request.lite;
    return defaults;
  } catch (error) {
    if (error instanceof OptionsError) return rejected('invalid_options', error.message);
    throw error;
  }
}

function summarise(defaults: RequestDefaults): string {
  const parts: string[] = [];
  if (defaults.aspect) parts.push(`--ar ${defaults.aspect.w}:${defaults.aspect.h}`);
  if (defaults.size) parts.push(`--size ${defaults.size}`);
  if (defaults.negativePrompt) parts.push(`--no ${defaults.negativePrompt}`);
  if (defaults.steps !== undefined) parts.push(`--steps ${defaults.steps}`);
  if (defaults.cfg !== undefined) parts.push(`--cfg ${defaults.cfg}`);
  if (defaults.chaos !== undefined) parts.push(`--chaos ${defaults.chaos}`);
  if (defaults.style) parts.push(`--style ${defaults.style}`);
  if (defaults.lite) parts.push('--lite');
  return parts.length > 0 ? parts.join(' ') : '(none)';
}

function describeSettings(title: string, defaults: RequestDefaults, buttons?: ButtonPolicy): InfoReply {
  const lines = [`Defaults: ${summarise(defaults)}`];
  if (buttons) lines.push(`Buttons: ${buttons === 'everyone' ? 'everyone in the channel' : 'only the person who asked'} (delete and cancel: always only the owner)`);
  return { kind: 'info', title, lines, copyable: [] };
}
