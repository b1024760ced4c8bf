/**
 * Button custom ids: `action:jobId:index`, the only state a button carries.
 *
 * Buttons never expire because everything else (prompt, seeds, latents, owner) is loaded from S3
 * (`jobs/{id}/job.json`, `result.json`) when the button is pressed; a restarted bot answers every old
 * button. Discord allows 1–100 chars per custom id, Slack 255 per action_id: we stay ≤ 100 everywhere.
 * Anything a client sends back is untrusted, so decoding checks every part and says which one is wrong.
 *
 * @example
 *   encodeButtonId({ action: 'upscale', jobId: 'j1a2b', index: 2 })   // → 'upscale:j1a2b:2'
 *   decodeButtonId('reroll:j1a2b:0')  // → { action: 'reroll', jobId: 'j1a2b', index: 0 }
 *   decodeButtonId('upscale:j1a2b:9') // throws ButtonIdError, reason 'bad_index'
 */
import { JobIdSchema, type JobId } from '../core/job.ts';
import { CodedError } from '../core/errors.ts';

/** What a button does. Tile actions need index 1–4; job actions use index 0. */
/** `more`: 🧬 "More like this", an image variation with the tile itself as the image prompt. */
export const TILE_ACTIONS = ['upscale', 'vary_subtle', 'vary_strong', 'remix', 'more'] as const;
export const JOB_ACTIONS = ['reroll', 'info', 'delete', 'cancel'] as const;
/** Mood-board actions on one tile of a job made in a board (bot/boards/): 📌 pin, 👍 vote, ⭐ hero, unpin. */
export const BOARD_ACTIONS = ['pin', 'vote', 'hero', 'unpin'] as const;
export const BUTTON_ACTIONS = [...TILE_ACTIONS, ...BOARD_ACTIONS, ...JOB_ACTIONS] as const;
export type BoardAction = (typeof BOARD_ACTIONS)[number];
export type TileAction = (typeof TILE_ACTIONS)[number] | BoardAction;
export type JobAction = (typeof JOB_ACTIONS)[number];
export type ButtonAction = TileAction | JobAction;

export const MAX_CUSTOM_ID_LENGTH = 100;

export type ButtonId =
  | { action: TileAction; jobId: JobId; index: 1 | 2 | 3 | 4 }
  | { action: JobAction; jobId: JobId; index: 0 };

export type ButtonIdProblem = 'empty' | 'too_long' | 'wrong_shape' | 'unknown_action' | 'bad_job_id' | 'bad_index';

/** A custom id that is not one of ours or was tampered with. `message` is safe to show (it never echoes long input). */
export class ButtonIdError extends CodedError<'invalid_button_id'> {
  readonly problem: ButtonIdProblem;
  constructor(problem: ButtonIdProblem, detail: string) {
    super('invalid_button_id', `This button is not valid (${detail}). Run /imagine again to get fresh buttons.`, { problem });
    this.problem = problem;
  }
}

export function isTileAction(action: string): action is TileAction {
  return (TILE_ACTIONS as readonly string[]).includes(action) || isBoardAction(action);
}

export function isBoardAction(action: string): action is BoardAction {
  return (BOARD_ACTIONS as readonly string[]).includes(action);
}

export function isButtonAction(action: string): action is ButtonAction {
  return (BUTTON_ACTIONS as readonly string[]).includes(action);
}

/** Builds the custom id; throws ButtonIdError for a value that `decodeButtonId` would reject. */
export function encodeButtonId(id: ButtonId): string {
  const raw = `${id.action}:${id.jobId}:${id.index}`;
  decodeButtonId(raw);
  return raw;
}

/** Parses and validates a custom id sent back by a platform. */
export function decodeButtonId(raw: string): ButtonId {
  if (raw.length === 0) throw new ButtonIdError('empty', 'empty id');
  if (raw.length > MAX_CUSTOM_ID_LENGTH) throw new ButtonIdError('too_long', `id longer than ${MAX_CUSTOM_ID_LENGTH} characters`);
  const parts = raw.split(':');
  if (parts.length !== 3) throw new ButtonIdError('wrong_shape', 'expected action:job:index');
  const [action, jobId, indexText] = parts as [string, string, string];
  if (!isButtonAction(action)) throw new ButtonIdError('unknown_action', 'unknown action');
  if (!JobIdSchema.safeParse(jobId).success) throw new ButtonIdError('bad_job_id', 'malformed job id');
  if (!/^[0-4]$/.test(indexText)) throw new ButtonIdError('bad_index', 'index must be 0–4');
  const index = Number(indexText);
  if (isTileAction(action)) {
    if (index < 1) throw new ButtonIdError('bad_index', `${action} needs a tile number 1–4`);
    return { action, jobId, index: index as 1 | 2 | 3 | 4 };
  }
  if (index !== 0) throw new ButtonIdError('bad_index', `${action} takes no tile number`);
  return { action, jobId, index: 0 };
}
