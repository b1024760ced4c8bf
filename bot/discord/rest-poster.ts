/**
 * Delivers job messages to Discord over REST (@discordjs/rest: per-route rate-limit queues, Retry-After).
 *
 * While the interaction token is fresh the job's message is edited through the interaction webhook
 * (`PATCH /webhooks/{app}/{token}/messages/@original`, multipart when a file goes with it). Tokens die
 * after 15 minutes — and sometimes earlier with 401/404 (chat-platforms §5.1) — so from then on the
 * bot token edits the same channel message, or posts a new one that replies to the parent when the
 * old one cannot be edited. The message id is remembered (S3, next to the job) so a restarted
 * dispatcher keeps editing one message instead of posting a new one per update.
 *
 * Errors become DeliveryError without the request URL: webhook URLs contain the token.
 */
import { DiscordAPIError, HTTPError, RateLimitError, REST, type RawFile } from '@discordjs/rest';
import { Routes, type APIMessage } from 'discord-api-types/v10';
import { z } from 'zod';
import type { Job } from '../../core/job.ts';
import type { BlobStore } from '../../core/ports.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { readRecord, writeRecord } from '../../core/stored-records.ts';
import type { JobMessage } from '../message-model.ts';
import { DeliveryError, type Attachment, type Poster } from '../poster.ts';
import { DISCORD_LIMITS, type DiscordMessage } from './limits.ts';
import { renderDiscordMessage } from './render.ts';
import { renderBoardHeader, renderBoardSummary } from './board-render.ts';
import type { BoardHeader, BoardSummary } from '../boards/board-message.ts';
import type { BoardRecord, HeaderRecord } from '../boards/model.ts';

/** Interaction tokens live 15 minutes; stop using one a minute early so an edit never races expiry. */
export const INTERACTION_TOKEN_USABLE_MS = 14 * 60 * 1000;

/**
 * A 404 Unknown Webhook this soon after the interaction is Discord catching up (discord-api-docs#6851),
 * not a dead token; falling back then would leave the "thinking…" message behind next to a new one.
 */
export const UNKNOWN_WEBHOOK_GRACE_MS = 60 * 1000;

/** Discord error codes that mean "this interaction token can no longer be used". */
const DEAD_TOKEN_CODES = new Set([50027 /* Invalid Webhook Token */, 10015 /* Unknown Webhook */]);
const CANNOT_EDIT_CODES = new Set([50005 /* Cannot edit a message authored by another user */]);

/** Where the message a job owns lives, so edits after a restart land on the same message. */
export interface DiscordMessageIds {
  get(jobId: string): Promise<string | undefined>;
  set(jobId: string, messageId: string): Promise<void>;
}

/** `jobs/{id}/discord-message.json`: the id is a snowflake (it goes into a route, so nothing else passes). */
export const DiscordMessageRecordSchema = z.object({ messageId: z.string().regex(/^\d{1,25}$/) });

export function blobMessageIds(blobs: BlobStore): DiscordMessageIds {
  return {
    async get(jobId) {
      // A damaged record only costs a new message instead of an edit; it must not block delivery.
      const record = await readRecord(blobs, jobKeys.discordMessage(jobId), DiscordMessageRecordSchema, { ifCorrupt: 'absent' });
      return record?.messageId;
    },
    async set(jobId, messageId) {
      await writeRecord(blobs, jobKeys.discordMessage(jobId), DiscordMessageRecordSchema, { messageId });
    },
  };
}

export interface DiscordRestOptions {
  /** Bot token; without it only interaction-token delivery works (HTTP-only deployments). */
  token?: string;
  /** API base, e.g. `http://127.0.0.1:8080/api` in tests; Discord's by default. */
  api?: string;
  /** Rate-limit waits up to this long happen inside the client; longer ones are handed back as retryable errors. */
  maxRateLimitWaitMs?: number;
}

export function createDiscordRest(options: DiscordRestOptions = {}): REST {
  const maxWait = options.maxRateLimitWaitMs ?? 5000;
  const rest = new REST({
    ...(options.api ? { api: options.api } : {}),
    rejectOnRateLimit: (data) => data.retryAfter > maxWait,
  });
  if (options.token) rest.setToken(options.token);
  return rest;
}

export interface DiscordPosterOptions {
  rest: REST;
  /** True when `rest` carries a bot token (the fallback after the interaction token expires). */
  hasBotToken: boolean;
  messageIds: DiscordMessageIds;
  now?: () => number;
  tokenUsableMs?: number;
}

/** One message through the bot token (after the interaction token expired or died): where, what, and which message to edit. */
interface BotTokenDelivery {
  channelId: string;
  /** The parent job's message, for a reply when a new message must be posted. */
  replyTo: string | undefined;
  /** The job's own message when the job already names it. */
  messageIdFromJob: string | undefined;
  body: DiscordMessage;
  files: RawFile[] | undefined;
  /** Delete the job's message instead of editing it. */
  deleting: boolean;
}

export class DiscordRestPoster implements Poster {
  readonly platform = 'discord' as const;
  private readonly now: () => number;
  private readonly tokenUsableMs: number;
  /** Message ids known to this process; saves a read per update. */
  private readonly known = new Map<string, string>();
  private readonly options: DiscordPosterOptions;

  constructor(options: DiscordPosterOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.tokenUsableMs = options.tokenUsableMs ?? INTERACTION_TOKEN_USABLE_MS;
  }

  attachmentLimitBytes(job: Job): number {
    return job.delivery.platform === 'discord' ? (job.delivery.attachmentLimitBytes ?? DISCORD_LIMITS.defaultAttachmentBytes) : DISCORD_LIMITS.defaultAttachmentBytes;
  }

  async deliver(job: Job, message: JobMessage, attachment?: Attachment): Promise<void> {
    const delivery = job.delivery;
    if (delivery.platform !== 'discord') throw new DeliveryError(`job ${job.id} is not a Discord job`, false);
    const body = renderDiscordMessage(message, {
      ...(attachment ? { attachmentName: attachment.fileName } : {}),
      ...(delivery.guildId ? { guildId: delivery.guildId } : {}),
      channelId: delivery.channelId,
      ...(delivery.replyToMessageId ? { parentMessageId: delivery.replyToMessageId } : {}),
    });
    const files: RawFile[] | undefined = attachment ? [{ name: attachment.fileName, data: Buffer.from(attachment.bytes), contentType: attachment.contentType }] : undefined;
    const deleting = message.status === 'deleted';

    if (this.now() - delivery.tokenIssuedAt < this.tokenUsableMs) {
      const route = Routes.webhookMessage(delivery.applicationId, delivery.interactionToken, '@original');
      try {
        if (deleting) {
          await this.options.rest.delete(route, { auth: false });
          return;
        }
        const edited = (await this.options.rest.patch(route, { auth: false, body, ...(files ? { files } : {}) })) as APIMessage;
        await this.remember(job.id, edited.id);
        return;
      } catch (error) {
        const age = this.now() - delivery.tokenIssuedAt;
        if (isUnknownWebhook(error) && age < UNKNOWN_WEBHOOK_GRACE_MS) {
          // Discord sometimes answers 404 for a webhook it has just created: retry rather than post a second message.
          throw new DeliveryError(`Discord does not know the interaction webhook yet (${Math.round(age / 1000)} s old); retrying`, true, 1000);
        }
        if (!isDeadToken(error)) throw toDeliveryError(error, 'editing the interaction response');
        // The token died early: fall through to the bot token.
      }
    }
    await this.deliverWithBotToken(job, { channelId: delivery.channelId, replyTo: delivery.replyToMessageId, messageIdFromJob: delivery.messageId, body, files, deleting });
  }

  private async deliverWithBotToken(job: Job, { channelId, replyTo, messageIdFromJob, body, files, deleting }: BotTokenDelivery): Promise<void> {
    if (!this.options.hasBotToken) {
      throw new DeliveryError(`job ${job.id}: the interaction token expired and no bot token (DISCORD_TOKEN) is configured to post the result`, false);
    }
    const messageId = messageIdFromJob ?? this.known.get(job.id) ?? (await this.options.messageIds.get(job.id));
    if (messageId) {
      try {
        if (deleting) {
          await this.options.rest.delete(Routes.channelMessage(channelId, messageId));
          return;
        }
        await this.options.rest.patch(Routes.channelMessage(channelId, messageId), { body, ...(files ? { files } : {}) });
        return;
      } catch (error) {
        if (!(error instanceof DiscordAPIError && CANNOT_EDIT_CODES.has(Number(error.code)))) throw toDeliveryError(error, 'editing the channel message');
        // Not editable with the bot token: post a fresh message below.
      }
    }
    if (deleting) return;
    const created = (await this.options.rest
      .post(Routes.channelMessages(channelId), {
        body: { ...body, ...(replyTo ? { message_reference: { message_id: replyTo, fail_if_not_exists: false } } : {}) },
        ...(files ? { files } : {}),
      })
      .catch((error: unknown) => {
        throw toDeliveryError(error, 'posting to the channel');
      })) as APIMessage;
    await this.remember(job.id, created.id);
  }

  /**
   * Mood boards: the header lives in the board's thread and is edited with the bot token (an interaction token would
   * die after 15 minutes). The first render posts it and pins it; a failed pin (no Manage Messages) only costs the pin.
   */
  async deliverBoardHeader(board: BoardRecord, header: BoardHeader, collage: Attachment, existing: HeaderRecord | null): Promise<HeaderRecord> {
    if (!this.options.hasBotToken) throw new DeliveryError(`board ${board.id}: the board header needs the bot token (DISCORD_TOKEN)`, false);
    const body = renderBoardHeader(header, collage.fileName);
    const files: RawFile[] = [{ name: collage.fileName, data: Buffer.from(collage.bytes), contentType: collage.contentType }];
    if (existing) {
      await this.options.rest.patch(Routes.channelMessage(existing.channelId, existing.messageId), { body, files }).catch((error: unknown) => {
        throw toDeliveryError(error, 'editing the board header');
      });
      return existing;
    }
    const channelId = board.place.channelId;
    const created = (await this.options.rest.post(Routes.channelMessages(channelId), { body, files }).catch((error: unknown) => {
      throw toDeliveryError(error, 'posting the board header');
    })) as APIMessage;
    await this.options.rest.put(Routes.channelPin(channelId, created.id)).catch(() => undefined);
    return { v: 1, platform: 'discord', channelId, messageId: created.id };
  }

  async postBoardSummary(board: BoardRecord, summary: BoardSummary, collage: Attachment): Promise<void> {
    if (!this.options.hasBotToken) throw new DeliveryError(`board ${board.id}: the summary needs the bot token (DISCORD_TOKEN)`, false);
    const body = renderBoardSummary(summary, collage.fileName);
    await this.options.rest
      .post(Routes.channelMessages(board.place.channelId), { body, files: [{ name: collage.fileName, data: Buffer.from(collage.bytes), contentType: collage.contentType }] })
      .catch((error: unknown) => {
        throw toDeliveryError(error, 'posting the board summary');
      });
  }

  private async remember(jobId: string, messageId: string): Promise<void> {
    if (this.known.get(jobId) === messageId) return;
    this.known.set(jobId, messageId);
    await this.options.messageIds.set(jobId, messageId);
  }
}

function isUnknownWebhook(error: unknown): boolean {
  return error instanceof DiscordAPIError && Number(error.code) === 10015;
}

function isDeadToken(error: unknown): boolean {
  return error instanceof DiscordAPIError && (error.status === 401 || DEAD_TOKEN_CODES.has(Number(error.code)));
}

/** Classifies a REST failure; the message names what failed and Discord's code, never the URL (it holds tokens). */
export function toDeliveryError(error: unknown, what: string): DeliveryError {
  if (error instanceof DeliveryError) return error;
  if (error instanceof RateLimitError) {
    return new DeliveryError(`Discord rate limit while ${what}; retry in ${Math.ceil(error.retryAfter)} ms`, true, error.retryAfter);
  }
  if (error instanceof DiscordAPIError) {
    const retryable = error.status >= 500 || error.status === 429;
    return new DeliveryError(`Discord answered ${error.status} (code ${error.code}) while ${what}`, retryable);
  }
  if (error instanceof HTTPError) return new DeliveryError(`Discord answered HTTP ${error.status} while ${what}`, error.status >= 500);
  const reason = error instanceof Error ? error.name : 'unknown error';
  return new DeliveryError(`network failure (${reason}) while ${what}`, true);
}
