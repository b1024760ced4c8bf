/**
 * A pressed button, on any platform: decode the custom id, load the parent job from S3 (buttons
 * never expire; nothing comes from memory), check who may press it, then act:
 *   upscale / vary_subtle / vary_strong / remix / reroll → a child job linked to its parent, via enqueue;
 *   info → the job's parameters; delete → owner only, removes the S3 objects; cancel → owner only.
 *
 * Platforms decode the id themselves first (`decodeButtonId`) when they must choose how to ack:
 * info and rejections are ephemeral, a child job gets a new message (its `ctx.delivery`), delete
 * removes the message, remix opens a text dialog and calls back with `remixText`.
 *
 * @example
 *   await pressButton(deps, ctx, 'upscale:j1:2') // → { kind: 'accepted', jobId: 'j…' }  (an upscale of tile 2 of j1)
 *   await pressButton(deps, ctx, 'upscale:j1:9') // → { kind: 'rejected', code: 'invalid_button_id', … }
 */
import type { GenerationRequest, Job } from '../../core/job.ts';
import { OptionsError } from '../../core/errors.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { clearPending } from '../../core/pending.ts';
import { givenOptionNames, parseImagine } from '../../core/options.ts';
import { ButtonIdError, decodeButtonId, isBoardAction, type ButtonId } from '../custom-id.ts';
import { boardButton } from '../boards/actions.ts';
import { deleteJobObjects, isDeleted, loadJob, loadResult, requestCancel } from '../job-records.ts';
import { mayPress } from '../permissions.ts';
import { readChannelSettings } from '../settings.ts';
import { cancel } from './cancel.ts';
import type { BotDeps, ButtonReply, CommandContext } from './context.ts';
import { enqueue, randomSeed, rejected, screen } from './enqueue.ts';
import { applyDefaults } from './imagine.ts';
import { jobInfo, notFound } from './job-info.ts';

export async function pressButton(deps: BotDeps, ctx: CommandContext, customId: string, remixText?: string): Promise<ButtonReply> {
  let button: ButtonId;
  try {
    button = decodeButtonId(customId);
  } catch (error) {
    if (error instanceof ButtonIdError) return rejected(error.code, error.message);
    throw error;
  }
  const placeRefusal = screen(deps, ctx);
  if (placeRefusal) return placeRefusal;
  const parent = await loadJob(deps.blobs, button.jobId);
  if (!parent) return notFound(button.jobId, await isDeleted(deps.blobs, button.jobId));
  const channel = await readChannelSettings(deps.blobs, ctx.requester.platform, ctx.requester.channelId);
  const verdict = mayPress(button.action, ctx.requester, parent, channel.buttons ?? 'requester');
  if (!verdict.allowed) return rejected('not_allowed', verdict.message);

  if (isBoardAction(button.action)) return boardButton(deps, ctx, { action: button.action, jobId: button.jobId, index: button.index }, parent);
  const inParentBoard = parent.boardId ? { parentBoardId: parent.boardId } : {};
  switch (button.action) {
    case 'info':
      return jobInfo(deps, parent.id, { asker: ctx.requester, links: ctx.requester.platform === 'web' ? 'by-key' : 'signed' });
    case 'cancel':
      return cancel(deps, ctx, parent.id);
    case 'delete':
      return deleteJob(deps, parent);
    case 'reroll':
      return enqueue(deps, ctx, { ...parent.request, seed: randomSeed(deps) }, { kind: 'imagine', parent: { jobId: parent.id, index: 1 } }, inParentBoard);
    default:
      break; // the image actions, below, need the parent's result
  }
  const result = await loadResult(deps.blobs, parent.id);
  const tile = result?.images.find((image) => image.index === button.index);
  if (!result || !tile) {
    return rejected('not_found', result ? `Job ${parent.id} has no image ${button.index}.` : `Job ${parent.id} has not finished yet; try again when its images are shown.`);
  }
  const parentRef = { jobId: parent.id, index: tile.index };
  switch (button.action) {
    case 'upscale':
      return enqueue(deps, ctx, { ...parent.request, seed: tile.seed, count: 1 }, { kind: 'upscale', parent: parentRef }, inParentBoard);
    case 'vary_subtle':
    case 'vary_strong': {
      const strength = button.action === 'vary_subtle' ? 'subtle' : 'strong';
      return enqueue(deps, ctx, { ...parent.request, seed: randomSeed(deps) }, { kind: 'variation', parent: parentRef, strength }, inParentBoard);
    }
    case 'more': {
      // 🧬 More like this: four new images with the tile itself (by its key: nothing is uploaded) as the image prompt.
      const { imageWeight: _weight, imageStrength: _strength, initImage: _init, ...rest } = parent.request;
      const request: GenerationRequest = { ...rest, prompt: '', seed: randomSeed(deps), count: 4, imagePrompts: [{ key: jobKeys.image(parent.id, tile.index), weight: 1 }] };
      return enqueue(deps, ctx, request, { kind: 'imagine', parent: parentRef }, inParentBoard);
    }
    case 'remix': {
      if (remixText === undefined || remixText.trim() === '') return rejected('needs_text', 'Remix needs a new prompt: edit the prompt in the dialog and send it.');
      const request = remixRequest(deps, parent, remixText);
      if ('kind' in request) return request;
      return enqueue(deps, ctx, request, { kind: 'variation', parent: parentRef, strength: 'strong' }, inParentBoard);
    }
  }
}

/** The remix text's own options win; the rest come from the parent, with a fresh seed unless one is given. */
function remixRequest(deps: BotDeps, parent: Job, text: string): GenerationRequest | ReturnType<typeof rejected> {
  try {
    const parsed = parseImagine(text, {}, { randomSeed: () => randomSeed(deps) });
    const { request } = parent;
    const defaults = { aspect: request.aspect, negativePrompt: request.negativePrompt, size: request.size, chaos: request.chaos, lite: request.lite, ...(request.steps === undefined ? {} : { steps: request.steps }), ...(request.cfg === undefined ? {} : { cfg: request.cfg }), ...(request.style === undefined ? {} : { style: request.style }) };
    return applyDefaults(parsed, defaults, givenOptionNames(text));
  } catch (error) {
    if (error instanceof OptionsError) return rejected('invalid_options', error.message);
    throw error;
  }
}

async function deleteJob(deps: BotDeps, job: Job): Promise<ButtonReply> {
  const finished = (await loadResult(deps.blobs, job.id)) !== null;
  const removed = await deleteJobObjects(deps.blobs, job.id, (deps.now ?? Date.now)());
  await clearPending(deps.blobs, job);
  // A job still queued or running would write its images again: ask the runner to stop it.
  if (!finished) await requestCancel(deps.blobs, job.id, { v: 1, by: `${job.requester.platform}:${job.requester.userId}`, at: (deps.now ?? Date.now)() });
  return { kind: 'done', action: 'deleted', jobId: job.id, message: `Deleted job ${job.id} and its ${removed} stored file${removed === 1 ? '' : 's'}.` };
}
