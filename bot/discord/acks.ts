/**
 * Acknowledgements and what follows them: the response shapes (immediate ephemeral answer, public
 * or private deferral, deferred update), the after-ack runner that shows a command's reply through
 * the interaction webhook, and the callback POST used by the gateway and the Lambda.
 */
import type { REST } from '@discordjs/rest';
import type { Logger } from '../../core/log.ts';
import { InteractionResponseType, MessageFlags, Routes, type APIInteractionResponse } from 'discord-api-types/v10';
import type { ButtonReply } from '../commands/context.ts';
import type { FileSource } from '../uploads.ts';
import type { ModerationPolicy } from '../moderation.ts';
import type { DiscordCommandHandlers } from './command-handlers.ts';
import { DISCORD_LIMITS } from './limits.ts';
import { InteractionWebhook, renderActorReply, type ActorReply } from './replies.ts';
import { truncate } from '../../core/truncate.ts';

export interface InteractionRouterDeps {
  handlers: DiscordCommandHandlers;
  /** For the synchronous checks on the ack path (place and prompt); the commands check again. */
  moderation: ModerationPolicy;
  /** REST client for follow-ups (webhook calls carry no bot token). */
  rest: REST;
  /** Never receives tokens. */
  log?: Logger;
  /** Where attachment files may be downloaded from (default Discord's CDN; tests: a loopback stand-in). */
  files?: FileSource;
}

export type RouteResult =
  | {
      ok: true;
      response: APIInteractionResponse;
      /** Slow work to start once Discord has `response`; with it, `interaction` names the callback to post to. */
      afterAck?: () => Promise<void>;
      interaction?: { id: string; token: string };
    }
  | { ok: false; status: 400; error: string };

const EPHEMERAL = MessageFlags.Ephemeral;
const SORRY = 'Something went wrong on our side. Nothing was lost; please try again in a minute.';

/** An immediate answer for the actor alone; long refusals (many bad options) are cut to Discord's 2000 characters. */
export function ephemeral(content: string): APIInteractionResponse {
  return { type: InteractionResponseType.ChannelMessageWithSource, data: { content: truncate(content, DISCORD_LIMITS.contentChars), flags: EPHEMERAL, allowed_mentions: { parse: [] } } };
}

export const deferPublic: APIInteractionResponse = { type: InteractionResponseType.DeferredChannelMessageWithSource };
export const deferPrivate: APIInteractionResponse = { type: InteractionResponseType.DeferredChannelMessageWithSource, data: { flags: EPHEMERAL } };
export const deferUpdate: APIInteractionResponse = { type: InteractionResponseType.DeferredMessageUpdate };

/** After a public deferral: an accepted job's message is the dispatcher's to fill; anything else goes private. */
export async function publicOutcome(webhook: InteractionWebhook, reply: ButtonReply): Promise<void> {
  if (reply.kind === 'accepted') return;
  await webhook.replacePublicWithPrivate(renderActorReply(reply));
}

export function asActorReply(reply: ButtonReply): ActorReply {
  if (reply.kind === 'accepted') return { kind: 'done', action: 'settings_saved', jobId: reply.jobId, message: `Started job ${reply.jobId}.` };
  return reply;
}

/** The interaction being answered: where follow-ups go and what reports failures. */
export interface InteractionTarget {
  deps: InteractionRouterDeps;
  webhook: InteractionWebhook;
  interaction: { id: string; token: string };
}

/** What a deferred answer does once Discord has the acknowledgement. */
export interface DeferredWork<R> {
  /** The acknowledgement: deferPublic, deferPrivate or deferUpdate. */
  ack: APIInteractionResponse;
  /** Names the command in logs. */
  command: string;
  /** The bot-core call (S3/SQS work). */
  run: () => Promise<R>;
  /** Shows its reply through the interaction webhook. */
  show: (reply: R) => Promise<void>;
}

/** Deferral now; the command and its follow-up once acked. Failures tell the actor and are logged without secrets. */
export function deferred<R>({ deps, webhook, interaction }: InteractionTarget, { ack, command, run, show }: DeferredWork<R>): RouteResult {
  return {
    ok: true,
    response: ack,
    interaction,
    afterAck: async () => {
      let reply: R;
      try {
        reply = await run();
      } catch (error) {
        deps.log?.error('discord_command_failed', { command, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
        await webhook.followUp(renderActorReply({ kind: 'rejected', code: 'internal', message: SORRY }), true).catch(() => undefined);
        return;
      }
      try {
        await show(reply);
      } catch (error) {
        deps.log?.warn('discord_reply_failed', { command, error: error instanceof Error ? error.name : String(error) });
      }
    },
  };
}

/**
 * Posts the acknowledgement to `/interactions/{id}/{token}/callback`, then runs the slow part. Used by
 * the gateway client and by the Lambda (which is frozen once it returns, so it cannot answer in the
 * HTTP body first and work afterwards). If the callback fails the interaction is dead: nothing runs.
 */
export async function acknowledgeThenRun(rest: REST, result: Extract<RouteResult, { ok: true }>, log?: Logger): Promise<boolean> {
  if (!result.interaction) return false;
  try {
    await rest.post(Routes.interactionCallback(result.interaction.id, result.interaction.token), { auth: false, body: result.response });
  } catch (error) {
    log?.warn('discord_ack_failed', { error: error instanceof Error ? error.name : String(error), status: (error as { status?: unknown }).status });
    return false;
  }
  await result.afterAck?.();
  return true;
}
