/**
 * `/blend` with 2–5 pictures and a shape: four images from the pictures alone (no text), each picture an image prompt
 * of weight 1 (Stage C's clip_img groups, spec §4.3). The pictures take the same path as /imagine's (bot/uploads.ts).
 *
 * @example
 *   await blend(deps, ctx, [pngA, pngB], 'portrait') // → { kind: 'accepted', jobId: 'j…' }  (--ar 2:3, prompt '')
 *   await blend(deps, ctx, [pngA], 'square')          // → { kind: 'rejected', code: 'invalid_options', message: '/blend needs 2 to 5 pictures…' }
 */
import { OptionsError } from '../../core/errors.ts';
import { MAX_IMAGE_PROMPTS, type GenerationRequest } from '../../core/job.ts';
import { parseImagine } from '../../core/options.ts';
import type { BotDeps, CommandContext, ImagineReply } from './context.ts';
import { enqueue, randomSeed, rejected, screen } from './enqueue.ts';
import { checkPictures } from './imagine.ts';

export const BLEND_SHAPES = { square: '1:1', portrait: '2:3', landscape: '3:2' } as const;
export type BlendShape = keyof typeof BLEND_SHAPES;
export const MIN_BLEND_PICTURES = 2;

export function isBlendShape(value: unknown): value is BlendShape {
  return typeof value === 'string' && Object.hasOwn(BLEND_SHAPES, value);
}

export async function blend(deps: BotDeps, ctx: CommandContext, pictures: readonly Uint8Array[], shape: string = 'square'): Promise<ImagineReply> {
  const placeRefusal = screen(deps, ctx);
  if (placeRefusal) return placeRefusal;
  if (pictures.length < MIN_BLEND_PICTURES || pictures.length > MAX_IMAGE_PROMPTS) {
    return rejected('invalid_options', `/blend needs ${MIN_BLEND_PICTURES} to ${MAX_IMAGE_PROMPTS} pictures; ${pictures.length} ${pictures.length === 1 ? 'was' : 'were'} given.`);
  }
  if (!isBlendShape(shape)) return rejected('invalid_options', `/blend shape must be one of ${Object.keys(BLEND_SHAPES).join(', ')}.`);
  const uploads = await checkPictures(pictures);
  if ('kind' in uploads) return uploads;
  let request: GenerationRequest;
  try {
    request = parseImagine('', { ar: BLEND_SHAPES[shape] }, { randomSeed: () => randomSeed(deps), imageCount: uploads.length });
  } catch (error) {
    if (error instanceof OptionsError) return rejected('invalid_options', error.message);
    throw error;
  }
  return enqueue(deps, ctx, request, { kind: 'imagine' }, {}, uploads);
}
