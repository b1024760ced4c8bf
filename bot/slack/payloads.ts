/**
 * Slack payloads → the platform-neutral request context. Payloads are untrusted input (a signed
 * request can still carry a shape we do not expect), so the few fields we use are parsed with zod
 * and a malformed payload is refused with a sentence naming the field, before anything is enqueued.
 *
 * Where results go: a slash command cannot be used in a thread (Slack's documented limitation), so
 * `/imagine` posts in the channel; an @mention inside a thread and a button pressed on a message in a
 * thread keep their results in that thread.
 *
 * @example
 *   slashCommandContext({ team_id: 'T1', channel_id: 'C1', user_id: 'U1', text: 'a cat', trigger_id: '123.456.abc', command: '/imagine' })
 *   // → { requester: { platform: 'slack', userId: 'U1', channelId: 'C1', workspaceId: 'T1' }, sourceId: 'slack:123.456.abc', … }
 */
import { z } from 'zod';
import type { Delivery, Requester } from '../../core/job.ts';
import type { CommandContext } from '../commands/context.ts';
import { decodeButtonId } from '../custom-id.ts';
import { CodedError } from '../../core/errors.ts';
import { EventFileSchema } from './files.ts';

function isRemixButtonId(id: string): boolean {
  try {
    return decodeButtonId(id).action === 'remix';
  } catch {
    return false;
  }
}

const SlackId = z.string().regex(/^[A-Z0-9][A-Z0-9_-]{1,31}$/, 'must be a Slack id such as C0123ABCD');
const SlackTs = z.string().regex(/^\d{1,12}\.\d{1,9}$/, 'must be a Slack timestamp such as 1700000000.000100');

export const SlashCommandSchema = z.object({
  command: z.string().min(1).max(64),
  text: z.string().max(4000),
  team_id: SlackId,
  channel_id: SlackId,
  user_id: SlackId,
  trigger_id: z.string().min(1).max(128),
  /** The user's handle; only shown (initials on a board's collage), never trusted for permissions. */
  user_name: z.string().min(1).max(80).optional().catch(undefined),
  /** Not sent today (slash commands cannot be used in threads); honoured if Slack ever adds it. */
  thread_ts: SlackTs.optional(),
});
export type SlashCommandPayload = z.infer<typeof SlashCommandSchema>;

export const BlockActionSchema = z.object({
  type: z.literal('block_actions'),
  trigger_id: z.string().min(1).max(128),
  user: z.object({ id: SlackId }),
  team: z.object({ id: SlackId }).nullable().optional(),
  channel: z.object({ id: SlackId }),
  container: z.object({ message_ts: SlackTs.optional(), thread_ts: SlackTs.optional() }).optional(),
  message: z.object({ ts: SlackTs, thread_ts: SlackTs.optional() }).optional(),
  actions: z.array(z.object({ action_id: z.string().min(1).max(255), action_ts: z.string().max(64).optional() })).min(1),
});
export type BlockActionPayload = z.infer<typeof BlockActionSchema>;

/**
 * A submitted Remix dialog (bot/slack/remix.ts). `private_metadata` is what the bot put there when it
 * opened the dialog; Slack keeps it server-side and returns it with the signed submission.
 */
export const RemixSubmissionSchema = z.object({
  type: z.literal('view_submission'),
  user: z.object({ id: SlackId }),
  team: z.object({ id: SlackId }).nullable().optional(),
  view: z.object({
    id: z.string().min(1).max(64),
    callback_id: z.literal('remix'),
    private_metadata: z.string().max(3000),
    state: z.object({ values: z.object({ prompt: z.object({ prompt: z.object({ value: z.string().max(4000).nullable().optional() }) }) }) }),
  }),
});
export type RemixSubmissionPayload = z.infer<typeof RemixSubmissionSchema>;

/** Where a remix's result goes: the channel (and thread) of the message whose R button was pressed. */
export const RemixOriginSchema = z.object({
  customId: z.string().min(1).max(255).refine(isRemixButtonId, 'must be the id of a Remix button (remix:<job id>:<tile>)'),
  channelId: SlackId,
  teamId: SlackId.optional(),
  threadTs: SlackTs.optional(),
});
export type RemixOrigin = z.infer<typeof RemixOriginSchema>;

export const AppMentionSchema = z.object({
  team_id: SlackId,
  event_id: z.string().min(1).max(64),
  event: z.object({
    type: z.literal('app_mention'),
    user: SlackId,
    channel: SlackId,
    text: z.string().max(4000),
    ts: SlackTs,
    thread_ts: SlackTs.optional(),
    /** Files attached to the mentioning message (bot/slack/files.ts). */
    files: z.array(EventFileSchema).max(20).optional(),
  }),
});
export type AppMentionPayload = z.infer<typeof AppMentionSchema>;

export class SlackPayloadError extends CodedError<'invalid_slack_payload'> {
  constructor(kind: string, error: z.ZodError) {
    const where = error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ');
    super('invalid_slack_payload', `malformed Slack ${kind} payload: ${where}`, { kind });
  }
}

export function parsePayload<T>(schema: z.ZodType<T>, kind: string, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new SlackPayloadError(kind, parsed.error);
  return parsed.data;
}

function contextOf(teamId: string | undefined, channelId: string, userId: string, sourceId: string, threadTs?: string): CommandContext {
  const requester: Requester = {
    platform: 'slack',
    userId,
    channelId,
    ...(teamId ? { workspaceId: teamId } : {}),
    ...(threadTs ? { threadId: threadTs } : {}),
  };
  const delivery: Delivery = { platform: 'slack', channelId, ...(teamId ? { teamId } : {}), ...(threadTs ? { threadTs } : {}) };
  // Slack has no age-restricted channels; the stricter prompt list always applies.
  return { requester, delivery, sourceId, channel: { ageRestricted: false } };
}

/** The trigger id is unique per invocation, and identical when the same request is delivered again. */
export function slashCommandContext(payload: SlashCommandPayload): CommandContext {
  return contextOf(payload.team_id, payload.channel_id, payload.user_id, `slack:${payload.trigger_id}`, payload.thread_ts);
}

export function blockActionContext(payload: BlockActionPayload): CommandContext {
  const threadTs = payload.container?.thread_ts ?? payload.message?.thread_ts;
  return contextOf(payload.team?.id ?? undefined, payload.channel.id, payload.user.id, `slack:${payload.trigger_id}`, threadTs);
}

/** One dialog is submitted once: its view id names the job, so a redelivered submission names the same one. */
export function remixSubmissionContext(payload: RemixSubmissionPayload, origin: RemixOrigin): CommandContext {
  return contextOf(origin.teamId ?? payload.team?.id ?? undefined, origin.channelId, payload.user.id, `slack:view:${payload.view.id}`, origin.threadTs);
}

/** A channel message has a unique ts per channel: a retried event (X-Slack-Retry-Num) names the same job. */
export function appMentionContext(payload: AppMentionPayload): CommandContext {
  const { event } = payload;
  return contextOf(payload.team_id, event.channel, event.user, `slack:${payload.team_id}:${event.channel}:${event.ts}`, event.thread_ts);
}

/** The prompt of an @mention: the text without the leading mention(s) of the bot. */
export function mentionPrompt(text: string): string {
  return text.replace(/^(\s*<@[A-Z0-9]+(?:\|[^>]*)?>\s*)+/, '').trim();
}
