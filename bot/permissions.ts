/**
 * Who may press which button. Owner = the requester of the job the button belongs to (same platform
 * and user id). Delete and cancel are always owner-only; the rest follow the channel's button policy
 * ('requester': owner only, the default; 'everyone': anyone in the channel, e.g. group sessions).
 *
 * @example mayPress('upscale', presser, job, 'requester') // → { allowed: false, message: 'Only … can use these buttons …' }
 */
import type { Job, Requester } from '../core/job.ts';
import { isBoardAction, type ButtonAction } from './custom-id.ts';
import type { ButtonPolicy } from './settings.ts';

export type PressVerdict = { allowed: true } | { allowed: false; message: string };

const OWNER_ONLY: ReadonlySet<ButtonAction> = new Set(['delete', 'cancel']);
/** Reading a job's parameters hurts no one: ℹ️ is open to everyone who can see the message. */
const ANYONE: ReadonlySet<ButtonAction> = new Set(['info']);

export function isOwner(actor: Pick<Requester, 'platform' | 'userId'>, job: Job): boolean {
  return actor.platform === job.requester.platform && actor.userId === job.requester.userId;
}

export function mayPress(action: ButtonAction, actor: Requester, job: Job, policy: ButtonPolicy): PressVerdict {
  // Board actions (📌 👍 ⭐) follow the board's roles (bot/boards/roles.ts), not the channel's button policy.
  if (isOwner(actor, job) || ANYONE.has(action) || isBoardAction(action)) return { allowed: true };
  if (OWNER_ONLY.has(action)) return { allowed: false, message: `Only the person who asked for this image can ${action} it.` };
  if (policy === 'everyone') return { allowed: true };
  return { allowed: false, message: 'Only the person who asked for this image can use its buttons in this channel. Use /imagine to make your own.' };
}
