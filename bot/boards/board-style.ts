/**
 * "The board's style" for `/imagine … --board mb-…` and `/board generate`: the shared style preset, the negative
 * prompt and the taste line (the pinned prompts' most frequent words); and, when the deployed model reads images
 * (its bundle has an image encoder: the pinned jobs' results say `model.imagePrompts`), the top pins' pictures as
 * image prompts (Stage C `clip_img`), weighted by votes with the hero heaviest (`boardImagePrompts`). A model
 * without an image encoder gets the text style only, and `/board generate` says so.
 *
 * @example
 *   extractBoardOption('a fox --board mb-b123456789ab-0abcdefgh1234 --ar 3:2') // → { text: 'a fox --ar 3:2', code: 'mb-b123…' }
 */
import { MAX_IMAGE_PROMPTS, type GenerationRequest, type ImagePromptRef } from '../../core/job.ts';
import type { BlobStore } from '../../core/ports.ts';
import { loadResult } from '../job-records.ts';
import { loadVersion } from './board-store.ts';
import { parseBoardCode, type BoardVersion } from './model.ts';

/** At most this many pins condition a generation (Midjourney blends 2–5 images, Krea 4 references; moodboards.md says ≤ 8). */
export const MAX_BOARD_REFERENCES = 8;

/** Takes `--board <code>` out of the prompt text; `code` is undefined when absent. */
export function extractBoardOption(text: string): { text: string; code?: string } {
  const match = /(^|\s)--board(?:\s+(\S+))?/.exec(text);
  if (!match) return { text };
  const rest = `${text.slice(0, match.index)}${match[1]}${text.slice(match.index + match[0].length)}`.replace(/\s{2,}/g, ' ').trim();
  return { text: rest, code: match[2] ?? '' };
}

/** The version behind a code, or a sentence saying what is wrong with it. */
export async function resolveBoardCode(blobs: BlobStore, code: string): Promise<BoardVersion | string> {
  const parsed = parseBoardCode(code);
  if (!parsed) return `--board ${code.slice(0, 40)}: a board code looks like mb-b…-… (ask /board status for the current one).`;
  const version = await loadVersion(blobs, parsed.boardId, parsed.versionId);
  return version ?? `--board ${code.slice(0, 40)}: there is no such board code (it may have expired).`;
}

/** The request in the board's style: the taste line appended, the board's style and negative prompt where the user gave none. */
export function applyBoardStyle(request: GenerationRequest, version: BoardVersion, given: { style: boolean; negativePrompt: boolean }): GenerationRequest {
  const prompt = version.tasteLine ? `${request.prompt}, ${version.tasteLine}`.slice(0, 2000) : request.prompt;
  return {
    ...request,
    prompt,
    ...(!given.style && version.style ? { style: version.style } : {}),
    ...(!given.negativePrompt && version.negativePrompt ? { negativePrompt: version.negativePrompt } : {}),
  };
}

/** The top pins by weight (hero first among equals), weights renormalised over those kept: what image conditioning will use. */
export function boardReferences(version: BoardVersion, max = MAX_BOARD_REFERENCES): Array<{ imageKey: string; weight: number }> {
  const top = [...version.pins]
    .sort((a, b) => b.weight - a.weight || Number(b.pinKey === version.heroPinKey) - Number(a.pinKey === version.heroPinKey) || (a.pinKey < b.pinKey ? -1 : 1))
    .slice(0, max);
  const total = top.reduce((sum, pin) => sum + pin.weight, 0);
  return top.map((pin) => ({ imageKey: pin.imageKey, weight: total === 0 ? 1 / top.length : pin.weight / total }));
}

/**
 * The board's top pins as image prompts, at most `max` (the job schema's 5), hero first: the hero conditions at
 * full weight 1 (as one uploaded picture does), every other pin at its vote weight relative to the hero's, so the
 * hero is the heaviest (equal only to a pin with more than twice its votes); without a hero the most voted pin
 * gets 1. Weights have 3 decimals; empty when nothing is pinned.
 */
export function referencePrompts(version: BoardVersion, max = MAX_IMAGE_PROMPTS): ImagePromptRef[] {
  const references = boardReferences(version, Math.min(max, MAX_BOARD_REFERENCES));
  if (references.length === 0) return [];
  const heroKey = version.pins.find((pin) => pin.pinKey === version.heroPinKey)?.imageKey;
  const hero = references.find((reference) => reference.imageKey === heroKey);
  const heaviest = Math.max(...references.map((reference) => reference.weight));
  const top = hero ? Math.max(hero.weight, heaviest) : heaviest;
  if (top === 0) return [];
  const ordered = hero ? [hero, ...references.filter((reference) => reference !== hero)] : references;
  return ordered.map((reference) => ({ key: reference.imageKey, weight: reference === hero ? 1 : Math.round(Math.min(1, reference.weight / top) * 1000) / 1000 })).filter((p) => p.weight > 0);
}

export type BoardImagePrompts = { kind: 'images'; prompts: ImagePromptRef[] } | { kind: 'text_only'; reason: 'no_pins' | 'no_image_encoder' };

/**
 * Whether a generation in this board's style gets its pictures: only when the model that made the pins reads
 * image prompts (the newest of the referenced jobs' results says so; a job without a result says nothing).
 */
export async function boardImagePrompts(blobs: BlobStore, version: BoardVersion): Promise<BoardImagePrompts> {
  const prompts = referencePrompts(version);
  if (prompts.length === 0) return { kind: 'text_only', reason: 'no_pins' };
  const jobIds = [...new Set(version.pins.filter((pin) => prompts.some((p) => p.key === pin.imageKey)).map((pin) => pin.jobId))];
  const results = (await Promise.all(jobIds.map((jobId) => loadResult(blobs, jobId).catch(() => null)))).filter((result) => result !== null);
  const newest = results.sort((a, b) => (a.finishedAt < b.finishedAt ? 1 : -1))[0];
  return newest?.model.imagePrompts ? { kind: 'images', prompts } : { kind: 'text_only', reason: 'no_image_encoder' };
}

/** The request with the board's pictures after the user's own (together at most MAX_IMAGE_PROMPTS). */
export function withBoardImages(request: GenerationRequest, prompts: readonly ImagePromptRef[]): GenerationRequest {
  const own = request.imagePrompts ?? [];
  const room = MAX_IMAGE_PROMPTS - own.length;
  if (room <= 0 || prompts.length === 0) return request;
  return { ...request, imagePrompts: [...own, ...prompts.slice(0, room)] };
}

/** What `/board generate` tells about the style it used. */
export function boardStyleNote(images: BoardImagePrompts): string {
  if (images.kind === 'images') return `Conditioned on the board's top ${images.prompts.length} pinned picture${images.prompts.length === 1 ? '' : 's'} (weights ${images.prompts.map((p) => p.weight).join(', ')}: the hero heaviest, then by votes), plus its taste line.`;
  if (images.reason === 'no_pins') return 'Nothing is pinned yet, so the style is the board\'s preset, negative prompt and brief.';
  return 'This deployment\'s model has no image encoder, so the style is the board\'s preset, negative prompt and taste line, not its pinned pictures.';
}
