/**
 * `/imagine <prompt> --options` on every platform: parse (core/options.ts), fill in the user's and
 * the channel's saved defaults for options not given, moderate, enqueue.
 *
 * @example
 *   await imagine(deps, ctx, 'a lighthouse in a storm --ar 3:2')  // → { kind: 'accepted', jobId: 'j…', position: 1, duplicate: false }
 *   await imagine(deps, ctx, 'fox --ar 0:5')                     // → { kind: 'rejected', code: 'invalid_options', message: '--ar 0:5: both sides must be 1–21, e.g. 16:9' }
 */
import type { GenerationRequest } from '../../core/job.ts';
import { OptionsError } from '../../core/errors.ts';
import { givenOptionNames, parseImagine, type SlashOptions } from '../../core/options.ts';
import { readEffectiveSettings, type RequestDefaults } from '../settings.ts';
import type { BotDeps, CommandContext, ImagineReply, Rejected } from './context.ts';
import { checkUploads, UploadError, type NormalisedUpload } from '../uploads.ts';
import { enqueue, randomSeed, rejected, screen } from './enqueue.ts';
import { applyBoardStyle, boardImagePrompts, extractBoardOption, resolveBoardCode } from '../boards/board-style.ts';
import { boardCode } from '../boards/model.ts';
import { aspectNear } from '../../core/dimensions.ts';

/**
 * `pictures`: files given with the command (attachments, uploads), raw as received: checked and normalised here
 * (bot/uploads.ts) for every platform; they become the job's image prompts, weighted by `--iw`. With `--strength` the
 * first is the start image instead (image-to-image), and the job keeps its shape unless `--ar` is typed.
 */
export async function imagine(
  deps: BotDeps, ctx: CommandContext, rawText: string, slashOptions: SlashOptions = {}, boardCodeOption?: string, pictures: readonly (Uint8Array | WeightedPicture)[] = [],
): Promise<ImagineReply> {
  const placeRefusal = screen(deps, ctx);
  if (placeRefusal) return placeRefusal;
  const checked = await checkPictures(pictures.map((picture) => (picture instanceof Uint8Array ? picture : picture.bytes)));
  if ('kind' in checked) return checked;
  const uploads = checked.map((upload, n) => {
    const picture = pictures[n]!;
    return picture instanceof Uint8Array ? upload : { ...upload, weight: picture.weight };
  });
  // `--board mb-…` (or the slash option `board`) generates in a board's style (bot/boards/board-style.ts).
  const extracted = extractBoardOption(rawText);
  const text = extracted.text;
  const code = boardCodeOption?.trim() || extracted.code;
  let parsed: GenerationRequest;
  try {
    if (code === '') throw new OptionsError([{ option: 'board', message: '--board needs a board code, e.g. --board mb-b…-… (ask /board status for the current one).' }]);
    parsed = parseImagine(text, slashOptions, { randomSeed: () => randomSeed(deps), imageCount: uploads.length });
  } catch (error) {
    if (error instanceof OptionsError) return rejected('invalid_options', error.message);
    throw error;
  }
  const version = code === undefined ? undefined : await resolveBoardCode(deps.blobs, code);
  if (typeof version === 'string') return rejected('invalid_options', version);
  const given = givenOptionNames(text, slashOptions);
  const boardImages = version ? await boardImagePrompts(deps.blobs, version) : undefined;
  const request = readEffectiveSettings(deps.blobs, ctx.requester.platform, ctx.requester.userId, ctx.requester.channelId)
    .then((settings) => applyDefaults(parsed, settings.defaults, given))
    .then((withDefaults) => keepStartShape(withDefaults, uploads, given))
    .then((withDefaults) => (version ? applyBoardStyle(withDefaults, version, { style: given.has('style'), negativePrompt: given.has('no') }) : withDefaults));
  const placement = version ? { boardCode: boardCode(version.boardId, version.versionId), ...(boardImages?.kind === 'images' ? { boardImages: boardImages.prompts } : {}) } : {};
  return enqueue(deps, ctx, request, { kind: 'imagine' }, placement, uploads);
}

/** A picture with its own image weight (the playground's per-picture control); it wins over `--iw`. */
export interface WeightedPicture {
  bytes: Uint8Array;
  weight: number;
}

/** The pictures checked and normalised, or the refusal that says what is wrong with which one. */
export async function checkPictures(pictures: readonly Uint8Array[]): Promise<NormalisedUpload[] | Rejected> {
  try {
    return await checkUploads(pictures);
  } catch (error) {
    if (error instanceof UploadError) return rejected(error.code, error.message);
    throw error;
  }
}

/** Image-to-image keeps the start picture's shape (not a saved default's) unless `--ar` was typed. */
function keepStartShape(request: GenerationRequest, uploads: readonly NormalisedUpload[], given: ReadonlySet<keyof SlashOptions>): GenerationRequest {
  const start = uploads[0];
  if (request.imageStrength === undefined || !start || given.has('ar')) return request;
  return { ...request, aspect: aspectNear(start.width, start.height) };
}

/** Saved defaults fill each option the user did not give; what the user typed always wins. */
export function applyDefaults(request: GenerationRequest, defaults: RequestDefaults, given: ReadonlySet<keyof SlashOptions>): GenerationRequest {
  const out = { ...request };
  if (!given.has('ar') && defaults.aspect) out.aspect = defaults.aspect;
  if (!given.has('no') && defaults.negativePrompt) out.negativePrompt = defaults.negativePrompt;
  if (!given.has('size') && defaults.size) out.size = defaults.size;
  if (!given.has('steps') && defaults.steps !== undefined) out.steps = defaults.steps;
  if (!given.has('cfg') && defaults.cfg !== undefined) out.cfg = defaults.cfg;
  if (!given.has('chaos') && defaults.chaos !== undefined) out.chaos = defaults.chaos;
  if (!given.has('style') && defaults.style) out.style = defaults.style;
  if (!given.has('lite') && defaults.lite !== undefined) out.lite = defaults.lite;
  return out;
}
