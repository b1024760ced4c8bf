/**
 * Prompt moderation and where the bot may be used, with refusals that say why.
 *
 * Blocklist matching is on whole words after normalising case and diacritics ("Café" = "cafe") and
 * undoing simple obfuscation (leetspeak digits, separators inside a word: "n.u.d.e", "n u d e",
 * repeated letters), so it catches the usual tricks without the false positives of substring
 * matching ("class" does not match "ass"). An age-restricted channel (Discord `nsfw`) uses only the
 * base list; every other channel also applies the stricter `restrictedOnly` list.
 *
 * @example
 *   const policy = createModerationPolicy({ blocklist: ['gore'], restrictedOnly: ['nude'] });
 *   moderatePrompt(policy, 'G0RE everywhere', { ageRestricted: true })  // → { allowed: false, message: '… "gore" …' }
 *   moderatePrompt(policy, 'a nude statue', { ageRestricted: true })    // → { allowed: true }
 */
import type { Requester } from '../core/job.ts';
import type { ModerationSettings } from '../core/config.ts';

/** Facts about the channel a request comes from, supplied by the platform. */
export interface ChannelFacts {
  /** Discord: the channel's `nsfw` flag. Slack and web: false. */
  ageRestricted: boolean;
}

export type ModerationVerdict = { allowed: true } | { allowed: false; code: 'blocked_prompt' | 'workspace_not_allowed' | 'channel_not_allowed'; message: string };

export interface ModerationPolicy {
  readonly config: ModerationSettings;
  /** Normalised blocklist phrases, as word arrays. */
  readonly blocked: readonly string[][];
  readonly restricted: readonly string[][];
}

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '@': 'a', $: 's', '!': 'i' };

/** Lower case, no diacritics, leet digits as letters, runs of 3+ equal letters squeezed to one. */
export function normaliseText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[0134578@$!]/g, (ch) => LEET[ch] ?? ch)
    .replace(/(\p{L})\1{2,}/gu, '$1');
}

/** Words of the normalised text; single letters separated by . - _ * or spaces are joined ("n.u.d.e" → "nude"). */
export function promptWords(text: string): string[] {
  const normalised = normaliseText(text);
  const joined = normalised.replace(/\b\p{L}(?:[\s.\-_*|+]+\p{L}\b){2,}/gu, (run) => run.replace(/[\s.\-_*|+]+/g, ''));
  return joined.split(/[^\p{L}\p{N}]+/u).filter((word) => word.length > 0);
}

function phrase(entry: string): string[] {
  return promptWords(entry);
}

export function createModerationPolicy(config: ModerationSettings): ModerationPolicy {
  return {
    config,
    blocked: config.blocklist.map(phrase).filter((p) => p.length > 0),
    restricted: (config.restrictedOnly ?? []).map(phrase).filter((p) => p.length > 0),
  };
}

/** A policy that allows everything (tests and `npm start` without a configured list). */
export const permissivePolicy: ModerationPolicy = createModerationPolicy({ blocklist: [] });

function findPhrase(words: readonly string[], phrases: readonly string[][]): string[] | undefined {
  const squashed = words.join('');
  return phrases.find((p) => {
    for (let i = 0; i + p.length <= words.length; i++) {
      if (p.every((w, j) => words[i + j] === w || words[i + j] === `${w}s`)) return true;
    }
    // "n u d e" style splits of a single word survive joining only as adjacent words: catch them whole.
    return p.length === 1 && p[0]!.length >= 4 && words.length > 1 && squashed === p[0];
  });
}

export function moderatePrompt(policy: ModerationPolicy, prompt: string, channel: ChannelFacts): ModerationVerdict {
  const words = promptWords(prompt);
  const lists = channel.ageRestricted ? [policy.blocked] : [policy.blocked, policy.restricted];
  for (const list of lists) {
    const hit = findPhrase(words, list);
    if (hit) {
      const where = list === policy.restricted ? ' outside age-restricted channels' : '';
      return { allowed: false, code: 'blocked_prompt', message: `Your prompt was not sent: "${hit.join(' ')}" is not allowed here${where}. Rephrase it and try again.` };
    }
  }
  return { allowed: true };
}

/** Whether the bot may be used in this workspace and channel at all. */
export function checkPlace(policy: ModerationPolicy, requester: Requester): ModerationVerdict {
  const { allowedWorkspaces, allowedChannels } = policy.config;
  if (allowedWorkspaces && allowedWorkspaces.length > 0 && (!requester.workspaceId || !allowedWorkspaces.includes(requester.workspaceId))) {
    return { allowed: false, code: 'workspace_not_allowed', message: 'This bot is not enabled for this server or workspace.' };
  }
  if (allowedChannels && allowedChannels.length > 0 && !allowedChannels.includes(requester.channelId)) {
    return { allowed: false, code: 'channel_not_allowed', message: 'This bot is not enabled in this channel. Try one of the channels it was set up for.' };
  }
  return { allowed: true };
}
