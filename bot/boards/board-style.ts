/**
 * "The board's style" for `/imagine … --board mb-…` and `/board generate`: today the shared style preset,
 * the negative prompt and the taste line (the pinned prompts' most frequent words). Once images as prompts
 * exist, `boardReferences` is the seam: the top pins' image keys with their vote weights, for the runner's
 * CLIP image embeddings (Stage C `clip_img`), so a job carrying `boardCode` can be conditioned on them.
 *
 * @example
 *   extractBoardOption('a fox --board mb-b123456789ab-0abcdefgh1234 --ar 3:2') // → { text: 'a fox --ar 3:2', code: 'mb-b123…' }
 */
import type { GenerationRequest } from '../../core/job.js';
import type { BlobStore } from '../../core/ports.js';
import { loadVersion } from './board-store.js';
import { parseBoardCode, type BoardVersion } from './model.js';

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
