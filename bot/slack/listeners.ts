/**
 * Bolt listeners: Slack requests → the platform-neutral handlers in bot/commands. This file only
 * translates; every decision (options, defaults, moderation, caps, permissions) is made there.
 *
 * Every listener acks first (Slack's 3-second rule), then works. A request that makes a job posts a
 * placeholder message (chat.postMessage, in the thread when the request came from one) and submits
 * the job with that message's ts, so the dispatcher drives it with chat.update from then on. Cheap
 * pure checks (allow-lists, option syntax, blocked words) run before the placeholder so a refused
 * prompt never appears in the channel; if the handler still refuses (cap, permissions), the
 * placeholder is deleted and the reason goes to the actor only. A redelivered request (Events API
 * retries carry X-Slack-Retry-Num) names the same job id and posts nothing new. A Remix press opens
 * a dialog (remix.ts); its submission makes the job like any other button press.
 */
import { postPinCard } from './board-thread.ts';
import type { App, RespondFn } from '@slack/bolt';
import { ErrorCode, type WebClient } from '@slack/web-api';
import { jobKeys } from '../../core/storage-layout.ts';
import { jobIdFrom } from '../../core/ids.ts';
import { silentLogger, type Logger } from '../../core/log.ts';
import { OptionsError } from '../../core/errors.ts';
import { parseImagine } from '../../core/options.ts';
import { imagine, pressButton } from '../commands/index.ts';
import type { BotDeps, ButtonReply, CommandContext, Rejected } from '../commands/context.ts';
import { screen } from '../commands/enqueue.ts';
import { ButtonIdError, decodeButtonId, type ButtonAction } from '../custom-id.ts';
import { renderNotice } from './blocks.ts';
import { renderReply } from './replies.ts';
import { parseRemixSubmission, REMIX_CALLBACK_ID, remixView } from './remix.ts';
import { SLACK_COMMANDS } from './commands.ts';
import type { Submit, Tell } from './slash-command.ts';
import { platformErrorOf } from './poster.ts';
import { fetchSlackPictures, pictureCount, slackFileLinks, threadPictureFiles, wantsThreadPictures, type SlackFileDeps, type SlackPictureRequest } from './files.ts';
import {
  AppMentionSchema, BlockActionSchema, SlashCommandSchema, appMentionContext, blockActionContext, mentionPrompt, parsePayload, slashCommandContext,
} from './payloads.ts';

export interface SlackListenerDeps {
  bot: BotDeps;
  /** Never receives tokens or request bodies. */
  log?: Logger;
  /** Tests: where "files.slack.com" is served (bot/slack/files.ts); the bot token still goes in the header. */
  fileHosts?: SlackFileDeps['hosts'];
}

/** Button actions that create a job (and so a message of their own). */
const JOB_CREATING: ReadonlySet<ButtonAction> = new Set(['upscale', 'vary_subtle', 'vary_strong', 'reroll', 'more']);
const ACTION_ID_PATTERN = /^[a-z_]+:[a-z0-9-]+:\d+$/;

export function registerSlackListeners(app: App, deps: SlackListenerDeps): void {
  const log = deps.log ?? silentLogger;
  const { bot } = deps;
  // Requests being turned into jobs by this process, by job id: a redelivery that arrives while the
  // first delivery is still working (Socket Mode acks at once) must not post a second placeholder.
  const inFlight = new Set<string>();
  const startJob = (start: JobStart) => startJobOnce(inFlight, bot, start);
  const fileDeps = (client: WebClient, botToken: string | undefined): SlackFileDeps => ({ client, botToken: botToken ?? '', ...(deps.fileHosts ? { hosts: deps.fileHosts } : {}) });

  // Every slash command: ack, parse, run; failures end in one ephemeral sentence.
  for (const command of SLACK_COMMANDS) {
    app.command(command.definition.command, async ({ ack, body, client, context, respond }) => {
      await ack();
      const tell = ephemeralVia(respond);
      await guarded(log, command.definition.command, tell, async () => {
        const payload = parsePayload(SlashCommandSchema, 'slash command', body);
        const ctx = slashCommandContext(payload);
        const files = fileDeps(client, context.botToken);
        await command.execute({ bot, payload, ctx, client, files, tell, startJob: (text, submit, at = ctx, pictures) => startJob({ client, ctx: at, text, tell, submit, ...(pictures ? { pictures: { request: pictures, deps: files } } : {}) }) });
      });
    });
  }

  app.action(ACTION_ID_PATTERN, async ({ ack, body, client, respond }) => {
    await ack();
    const tell = ephemeralVia(respond, { replace_original: false });
    await guarded(log, 'button', tell, async () => {
      const payload = parsePayload(BlockActionSchema, 'block action', body);
      const ctx = blockActionContext(payload);
      const customId = payload.actions[0]!.action_id;
      let action: ButtonAction;
      try {
        action = decodeButtonId(customId).action;
      } catch (error) {
        if (error instanceof ButtonIdError) return void (await tell(renderNotice(error.message)));
        throw error;
      }
      if (JOB_CREATING.has(action)) {
        await startJob({ client, ctx, text: undefined, tell, submit: (withMessage) => pressButton(bot, withMessage, customId) });
        return;
      }
      if (action === 'remix') {
        // The prompt comes from a dialog; its submission (below) makes the job where this message is.
        const { index } = decodeButtonId(customId);
        const origin = { customId, channelId: ctx.requester.channelId, ...(ctx.requester.workspaceId ? { teamId: ctx.requester.workspaceId } : {}), ...(ctx.requester.threadId ? { threadTs: ctx.requester.threadId } : {}) };
        await client.views.open({ trigger_id: payload.trigger_id, view: remixView(origin, index) });
        return;
      }
      const reply = await pressButton(bot, ctx, customId);
      const messageTs = payload.container?.message_ts ?? payload.message?.ts;
      if (reply.kind === 'done' && reply.action === 'deleted' && messageTs) {
        await client.chat.delete({ channel: ctx.requester.channelId, ts: messageTs }).catch((error: unknown) => {
          if (platformErrorOf(error) !== 'message_not_found') throw error;
        });
      }
      const button = decodeButtonId(customId);
      if (reply.kind === 'done' && reply.action === 'pinned' && button.action === 'pin' && (await postPinCard(client, bot, reply, button, ctx.requester.userId))) return;
      if (reply.kind !== 'accepted') await tell(renderReply(reply));
    });
  });

  app.view(REMIX_CALLBACK_ID, async ({ ack, body, client }) => {
    await ack();
    // Until the submission is read there is no channel to answer in; the failure is still logged.
    let tell: Tell = async () => undefined;
    await guarded(log, 'remix', (message) => tell(message), async () => {
      const { ctx, customId, text } = parseRemixSubmission(body);
      tell = ephemeralIn(client, ctx.requester.channelId, ctx.requester.userId, ctx.requester.threadId);
      await startJob({ client, ctx, text, tell, submit: (withMessage) => pressButton(bot, withMessage, customId, text) });
    });
  });

  app.event('app_mention', async ({ body, client, context }) => {
    if (context.retryNum) log.info('slack_event_retry', { retryNum: context.retryNum, reason: context.retryReason });
    // Until the event is read there is no one to answer; a malformed one is logged and acked (never retried).
    let tell: Tell = async () => undefined;
    await guarded(log, 'mention', (message) => tell(message), async () => {
      const payload = parsePayload(AppMentionSchema, 'app_mention event', body);
      const ctx = appMentionContext(payload);
      tell = ephemeralIn(client, payload.event.channel, payload.event.user, payload.event.thread_ts);
      // Files attached to the mention and Slack file links in it are image prompts (bot/slack/files.ts).
      const { text: prompt, fileIds } = slackFileLinks(mentionPrompt(payload.event.text));
      const { channel, thread_ts: threadTs, ts } = payload.event;
      let attached = payload.event.files ?? [];
      // In a thread, a mention without pictures that asks for one takes the thread's newest (bot/slack/files.ts).
      if (attached.length === 0 && fileIds.length === 0 && threadTs && wantsThreadPictures(prompt)) attached = await threadPictureFiles(client, channel, threadTs, ts);
      const pictures = { request: { attached, linked: fileIds }, deps: fileDeps(client, context.botToken) };
      await startJob({ client, ctx, text: prompt, tell, pictures, submit: (withMessage, bytes) => imagine(bot, withMessage, prompt, {}, undefined, bytes) });
    });
  });
}

/** At most one start per job id at a time in this process; the job record in S3 covers other processes. */
async function startJobOnce(inFlight: Set<string>, bot: BotDeps, start: JobStart): Promise<void> {
  const jobId = jobIdFrom(start.ctx.sourceId);
  if (inFlight.has(jobId)) return;
  inFlight.add(jobId);
  try {
    if (await bot.blobs.exists(jobKeys.job(jobId))) return;
    await startJob(bot, start);
  } finally {
    inFlight.delete(jobId);
  }
}

/** A request that makes a job, as the listeners hand it over. */
interface JobStart {
  client: WebClient;
  ctx: CommandContext;
  /** The /imagine text (undefined for buttons: their prompt comes from the parent job). */
  text: string | undefined;
  /** Answers the actor alone. */
  tell: Tell;
  /** The bot-core call that makes the job, given the context with the placeholder's ts. */
  submit: Submit;
  /** Slack files the request names, fetched after the cheap checks and before the placeholder. */
  pictures?: { request: SlackPictureRequest; deps: SlackFileDeps };
}

/** Posts the placeholder, submits with its ts, and cleans up when nothing was enqueued. */
async function startJob(bot: BotDeps, { client, ctx, text, tell, submit, pictures }: JobStart): Promise<void> {
  const early = preScreen(bot, ctx, text, pictures ? pictureCount(pictures.request) : 0);
  if (early) return void (await tell(renderNotice(early.message)));
  const bytes = pictures && pictureCount(pictures.request) > 0 ? await fetchSlackPictures(pictures.deps, ctx.requester, pictures.request) : [];
  if ('kind' in bytes) return void (await tell(renderNotice(bytes.message)));

  const channel = ctx.requester.channelId;
  const threadTs = ctx.delivery.platform === 'slack' ? ctx.delivery.threadTs : undefined;
  const placeholder = renderNotice('Queued…', { ...(text ? { title: text.slice(0, 200) } : {}), mentionUserId: ctx.requester.userId });
  let ts: string;
  try {
    const posted = await client.chat.postMessage({ channel, ...(threadTs ? { thread_ts: threadTs } : {}), text: placeholder.text, blocks: placeholder.blocks });
    if (!posted.ts) throw new Error('chat.postMessage returned no ts');
    ts = posted.ts;
  } catch (error) {
    const retryAfter = rateLimitedFor(error);
    if (retryAfter !== undefined) {
      return void (await tell(renderNotice(`Slack is rate-limiting messages in this channel right now. Nothing was queued; try again in ${retryAfter} s.`)));
    }
    const code = platformErrorOf(error);
    if (code === 'not_in_channel' || code === 'channel_not_found') {
      return void (await tell(renderNotice('I cannot post in this conversation. Invite me with /invite @cascade (private channels and DMs need that), then try again.')));
    }
    throw error;
  }
  const delivery = ctx.delivery.platform === 'slack' ? { ...ctx.delivery, messageTs: ts } : ctx.delivery;
  const removePlaceholder = () => client.chat.delete({ channel, ts }).catch(() => undefined);
  let reply: ButtonReply;
  try {
    reply = await submit({ ...ctx, delivery }, bytes);
  } catch (error) {
    // The queue or store failed: no "Queued…" message may stay behind for a job that will never run.
    await removePlaceholder();
    throw error;
  }
  if (reply.kind === 'accepted' && !reply.duplicate) return;
  await removePlaceholder();
  if (reply.kind !== 'accepted') await tell(renderReply(reply));
}

/** Seconds Slack asked us to wait, when the error is a rejected rate-limited call. */
function rateLimitedFor(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || (error as { code?: unknown }).code !== ErrorCode.RateLimitedError) return undefined;
  const seconds = (error as { retryAfter?: unknown }).retryAfter;
  return typeof seconds === 'number' ? seconds : 1;
}

/** The handlers' own pure checks, run before anything is posted; the handlers run them again. */
function preScreen(bot: BotDeps, ctx: CommandContext, text: string | undefined, imageCount: number): Rejected | undefined {
  if (text === undefined) return screen(bot, ctx);
  try {
    return screen(bot, ctx, parseImagine(text, {}, { randomSeed: () => 0, imageCount }).prompt);
  } catch (error) {
    if (error instanceof OptionsError) return { kind: 'rejected', code: 'invalid_options', message: error.message };
    throw error;
  }
}

/** An ephemeral message to `user` in the channel (and thread), for requests that carry no response_url. */
function ephemeralIn(client: WebClient, channel: string, user: string, threadTs: string | undefined): Tell {
  return (message) => client.chat.postEphemeral({ channel, user, ...(threadTs ? { thread_ts: threadTs } : {}), ...message });
}

/** Via the request's response_url; Bolt passes no `respond` when a (malformed) request has none, and then there is no one to tell. */
function ephemeralVia(respond: RespondFn | undefined, extra: { replace_original?: boolean } = {}): Tell {
  if (typeof respond !== 'function') return async () => undefined;
  return async (message) => respond({ response_type: 'ephemeral', ...extra, text: message.text, blocks: message.blocks });
}

/** The one catch-all per request: log the code (never the body), tell the actor in a sentence. */
async function guarded(log: Logger, what: string, tell: Tell, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    log.warn('slack_request_failed', { what, code: typeof code === 'string' ? code : undefined, error: error instanceof Error ? error.message : String(error) });
    const reason = error instanceof Error && (error as { code?: unknown }).code === 'invalid_slack_payload' ? 'the request from Slack was malformed' : 'something went wrong on our side';
    try {
      await tell(renderNotice(`Sorry, ${reason}. Try again in a minute.`));
    } catch {
      // Telling is best effort: the request is answered (acked) either way, and the failure is logged above.
    }
  }
}
