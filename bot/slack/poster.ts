/**
 * The Slack `Poster`: every update of a job edits the one placeholder message the job owns
 * (`chat.update` on `delivery.messageTs`), never `response_url` (5 uses in 30 minutes). A grid or
 * preview is uploaded first (upload.ts) and shown with an image block.
 *
 * Slack-side failures become `DeliveryError`s the dispatcher understands: a 429 is retryable with
 * `retryAfterMs` from Retry-After; a message, channel or token that is gone is not retryable;
 * network failures and Slack's internal errors are retryable. Messages carry Slack's error code
 * only, never tokens or request bodies.
 *
 * @example
 *   const poster = new SlackPoster({ client: createSlackClient(botToken, { onRateLimit: 'reject' }) });
 *   await poster.deliver(job, buildJobMessage(job, state), { bytes, contentType: 'image/png', fileName: 'grid-j1.png' });
 */
import { renderBoardHeaderBlocks, renderBoardSummaryBlocks } from './board-blocks.js';
import type { BoardHeader, BoardSummary } from '../boards/board-message.js';
import type { BoardRecord, HeaderRecord } from '../boards/model.js';
import { ErrorCode, type WebClient } from '@slack/web-api';
import type { Job } from '../../core/job.js';
import { sleep } from '../../core/backoff.js';
import type { JobMessage } from '../message-model.js';
import { DeliveryError, type Attachment, type Poster } from '../poster.js';
import { SlackBlocksError } from './block-limits.js';
import { renderSlackMessage, type RenderOptions } from './blocks.js';
import { uploadImage } from './upload.js';

/** Slack shows images of any size we produce; keep uploads modest so they render quickly on phones. */
export const SLACK_ATTACHMENT_LIMIT_BYTES = 10 * 1024 * 1024;

/** Waits before retrying an update whose fresh file Slack has not finished processing. */
export const FILE_READY_RETRY_DELAYS_MS: readonly number[] = Object.freeze([500, 1_000, 2_000, 4_000]);

const MAX_REMEMBERED_PREVIEWS = 2000;

/** Slack errors that no retry can fix: the message, channel, app or permission is gone. */
const PERMANENT_ERRORS: ReadonlySet<string> = new Set([
  'message_not_found', 'cant_update_message', 'edit_window_closed', 'channel_not_found', 'not_in_channel', 'is_archived',
  'msg_too_long', 'invalid_blocks', 'no_text', 'invalid_auth', 'not_authed', 'account_inactive', 'token_revoked',
  'token_expired', 'missing_scope', 'no_permission', 'team_access_not_granted', 'ekm_access_denied', 'restricted_action',
]);

export interface SlackPosterOptions {
  client: WebClient;
  attachmentLimitBytes?: number;
  fileReadyRetryDelaysMs?: readonly number[];
  /** For tests. */
  sleep?: (ms: number) => Promise<void>;
}

interface SlackTarget {
  channel: string;
  ts: string;
  threadTs?: string;
}

export class SlackPoster implements Poster {
  readonly platform = 'slack' as const;
  private readonly client: WebClient;
  private readonly limit: number;
  private readonly delays: readonly number[];
  private readonly sleep: (ms: number) => Promise<void>;
  /**
   * The preview file each running job's message shows. An edit without a new attachment keeps showing
   * it, and a newer preview or the final message deletes the old file so previews do not pile up in the
   * workspace. Memory only: after a restart the next preview or the result replaces it.
   */
  private readonly previews = new Map<string, string>();

  constructor(options: SlackPosterOptions) {
    this.client = options.client;
    this.limit = options.attachmentLimitBytes ?? SLACK_ATTACHMENT_LIMIT_BYTES;
    this.delays = options.fileReadyRetryDelaysMs ?? FILE_READY_RETRY_DELAYS_MS;
    this.sleep = options.sleep ?? ((ms) => sleep(ms));
  }

  attachmentLimitBytes(_job: Job): number {
    return this.limit;
  }

  async deliver(job: Job, message: JobMessage, attachment?: Attachment): Promise<void> {
    const target = targetOf(job);
    try {
      if (message.status === 'deleted') return await this.remove(target);
      if (attachment && attachment.bytes.byteLength > this.limit) {
        throw new DeliveryError(`attachment of ${attachment.bytes.byteLength} bytes exceeds the Slack limit of ${this.limit}`, false);
      }
      const uploaded = attachment ? await uploadImage(this.client, attachment, message.title) : undefined;
      const previous = this.previews.get(job.id);
      const keepPreview = uploaded === undefined && !message.final && message.previewKey !== undefined ? previous : undefined;
      const fileId = uploaded ?? keepPreview;
      await this.showWithImage(target, message, fileId, attachment);
      this.remember(job.id, message.final ? undefined : fileId);
      if (previous !== undefined && previous !== fileId) await this.deleteFile(previous);
    } catch (error) {
      throw toDeliveryError(error, job.id);
    }
  }

  /** chat.update, retrying while Slack still processes a fresh file; past that, the image goes to the thread instead. */
  private async showWithImage(target: SlackTarget, message: JobMessage, fileId: string | undefined, attachment: Attachment | undefined): Promise<void> {
    if (fileId === undefined) return this.update(target, message, {});
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.update(target, message, { imageFileId: fileId });
      } catch (error) {
        if (!isFileNotReady(error)) throw error;
        const delay = this.delays[attempt];
        if (delay === undefined) break;
        await this.sleep(delay);
      }
    }
    // Still refused: show the message without the inline image and put the image in the message's thread.
    await this.update(target, message, { imageNote: 'The image is in the thread below (Slack was still processing it).' });
    if (attachment) {
      await this.client.filesUploadV2({
        channel_id: target.channel,
        thread_ts: target.threadTs ?? target.ts,
        file: Buffer.from(attachment.bytes.buffer, attachment.bytes.byteOffset, attachment.bytes.byteLength),
        filename: attachment.fileName,
        alt_text: message.title.slice(0, 1000),
      });
    }
  }

  private remember(jobId: string, fileId: string | undefined): void {
    this.previews.delete(jobId);
    if (fileId === undefined) return;
    this.previews.set(jobId, fileId);
    if (this.previews.size > MAX_REMEMBERED_PREVIEWS) this.previews.delete(this.previews.keys().next().value!);
  }

  /** Best effort: a preview file left behind costs storage, never correctness. */
  /** The collage file each board header shows; the next header's upload replaces (deletes) it. Memory only. */
  private readonly collages = new Map<string, string>();

  /**
   * Mood boards: the header is the message in the channel whose thread is the session (posted by /board start, so
   * `existing` is normally known); each edit is chat.update with a freshly uploaded collage. A header posted here
   * (none known) goes to the channel.
   */
  async deliverBoardHeader(board: BoardRecord, header: BoardHeader, collage: Attachment, existing: HeaderRecord | null): Promise<HeaderRecord> {
    try {
      const fileId = await uploadImage(this.client, collage, `Collage of ${board.name}`).catch(() => undefined);
      const message = renderBoardHeaderBlocks(header, fileId);
      let where = existing;
      if (where) await this.client.chat.update({ channel: where.channelId, ts: where.messageId, text: message.text, blocks: message.blocks });
      else {
        const posted = await this.client.chat.postMessage({ channel: board.place.channelId, text: message.text, blocks: message.blocks });
        where = { v: 1, platform: 'slack', channelId: board.place.channelId, messageId: String(posted.ts) };
      }
      const previous = this.collages.get(board.id);
      if (fileId) this.collages.set(board.id, fileId);
      if (previous && previous !== fileId) await this.deleteFile(previous);
      return where;
    } catch (error) {
      throw toDeliveryError(error, `board ${board.id}`);
    }
  }

  async postBoardSummary(board: BoardRecord, summary: BoardSummary): Promise<void> {
    const message = renderBoardSummaryBlocks(summary);
    const where = board.place.threadId ? { channel: board.place.channelId, thread_ts: board.place.threadId, reply_broadcast: true } : { channel: board.place.channelId };
    await this.client.chat
      .postMessage({ ...where, text: message.text, blocks: message.blocks })
      .catch((error: unknown) => {
        throw toDeliveryError(error, `board ${board.id}`);
      });
  }

  private async deleteFile(fileId: string): Promise<void> {
    await this.client.files.delete({ file: fileId }).catch(() => undefined);
  }

  private async update(target: SlackTarget, message: JobMessage, options: RenderOptions): Promise<void> {
    const rendered = renderSlackMessage(message, options);
    await this.client.chat.update({ channel: target.channel, ts: target.ts, text: rendered.text, blocks: rendered.blocks });
  }

  private async remove(target: SlackTarget): Promise<void> {
    try {
      await this.client.chat.delete({ channel: target.channel, ts: target.ts });
    } catch (error) {
      if (platformErrorOf(error) !== 'message_not_found') throw error;
    }
  }
}

function targetOf(job: Job): SlackTarget {
  const delivery = job.delivery;
  if (delivery.platform !== 'slack') throw new DeliveryError(`job ${job.id} is for ${delivery.platform}, not Slack`, false);
  if (!delivery.messageTs) throw new DeliveryError(`job ${job.id} has no Slack message to update (messageTs missing)`, false);
  return { channel: delivery.channelId, ts: delivery.messageTs, ...(delivery.threadTs ? { threadTs: delivery.threadTs } : {}) };
}

/** Slack's `error` field of a platform error (ok: false), if that is what this is. */
export function platformErrorOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, data } = error as { code?: unknown; data?: { error?: unknown } };
  return code === ErrorCode.PlatformError && typeof data?.error === 'string' ? data.error : undefined;
}

function isFileNotReady(error: unknown): boolean {
  if (platformErrorOf(error) !== 'invalid_blocks') return false;
  const details = (error as { data?: { errors?: unknown } }).data?.errors;
  return Array.isArray(details) && details.some((detail) => typeof detail === 'string' && /slack_file|slack file/i.test(detail));
}

export function toDeliveryError(error: unknown, jobId: string): DeliveryError {
  if (error instanceof DeliveryError) return error;
  if (error instanceof SlackBlocksError) return new DeliveryError(`job ${jobId}: ${error.message}`, false, undefined, { cause: error });
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (code === ErrorCode.RateLimitedError) {
    const retryAfter = (error as { retryAfter?: unknown }).retryAfter;
    const seconds = typeof retryAfter === 'number' && retryAfter >= 0 ? retryAfter : 1;
    return new DeliveryError(`job ${jobId}: Slack rate limit, retry after ${seconds} s`, true, seconds * 1000, { cause: error });
  }
  const slackError = platformErrorOf(error);
  if (slackError !== undefined) {
    return new DeliveryError(`job ${jobId}: Slack refused the update (${slackError})`, !PERMANENT_ERRORS.has(slackError), undefined, { cause: error });
  }
  const why = error instanceof Error ? error.message : String(error);
  return new DeliveryError(`job ${jobId}: Slack could not be reached (${why})`, true, undefined, { cause: error });
}
