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
import { ErrorCode, type WebClient } from '@slack/web-api';
import type { Job } from '../../core/job.ts';
import { sleep } from '../../core/backoff.ts';
import type { JobMessage } from '../message-model.ts';
import { DeliveryError, type Attachment, type Poster } from '../poster.ts';
import { SlackBlocksError } from './block-limits.ts';
import { renderSlackMessage, type RenderOptions } from './blocks.ts';
import { uploadImage } from './upload.ts';
import { renderBoardHeaderBlocks, renderBoardSummaryBlocks, type BoardImageOptions } from './board-blocks.ts';
import type { BoardHeader, BoardSummary } from '../boards/board-message.ts';
import type { BoardRecord, HeaderRecord } from '../boards/model.ts';

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
  /** The collage file each board's header shows (memory only, like previews). */
  private readonly collages = new Map<string, string>();

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
    const shown = await this.untilFileReady(() => this.update(target, message, { imageFileId: fileId }));
    if (shown) return;
    // Still refused: show the message without the inline image and put the image in the message's thread.
    await this.update(target, message, { imageNote: 'The image is in the thread below (Slack was still processing it).' });
    if (attachment) await this.uploadToThread(target.channel, target.threadTs ?? target.ts, attachment, message.title);
  }

  /** Runs `show` until Slack stops refusing a fresh file as not ready; false when it still refuses after the last delay. */
  private async untilFileReady(show: () => Promise<unknown>): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await show();
        return true;
      } catch (error) {
        if (!isFileNotReady(error)) throw error;
        const delay = this.delays[attempt];
        if (delay === undefined) return false;
        await this.sleep(delay);
      }
    }
  }

  private async uploadToThread(channel: string, threadTs: string, attachment: Attachment, altText: string): Promise<void> {
    await this.client.filesUploadV2({
      channel_id: channel,
      thread_ts: threadTs,
      file: Buffer.from(attachment.bytes.buffer, attachment.bytes.byteOffset, attachment.bytes.byteLength),
      filename: attachment.fileName,
      alt_text: altText.slice(0, 1000),
    });
  }

  /**
   * Mood boards: the header is the channel message `/board start` posted (its ts is the board's thread), edited in
   * place with the new collage; the collage it showed before is deleted so collages do not pile up in the workspace.
   * A header that is gone (message_not_found…) is a permanent DeliveryError: the updater then ends the board.
   */
  async deliverBoardHeader(board: BoardRecord, header: BoardHeader, collage: Attachment, existing: HeaderRecord | null): Promise<HeaderRecord> {
    const channel = existing?.channelId ?? board.place.channelId;
    const ts = existing?.messageId ?? board.place.threadId;
    if (!ts) throw new DeliveryError(`board ${board.id}: no Slack header message (place.threadId missing)`, false);
    try {
      const fileId = await uploadImage(this.client, collage, header.title);
      const update = (options: BoardImageOptions) => {
        const rendered = renderBoardHeaderBlocks(header, options);
        return this.client.chat.update({ channel, ts, text: rendered.text, blocks: rendered.blocks });
      };
      if (!(await this.untilFileReady(() => update({ collageFileId: fileId })))) {
        await update({ imageNote: 'The collage is in the thread below (Slack was still processing it).' });
        await this.uploadToThread(channel, ts, collage, header.title);
      }
      const previous = this.collages.get(board.id);
      this.collages.delete(board.id);
      this.collages.set(board.id, fileId);
      if (this.collages.size > MAX_REMEMBERED_PREVIEWS) this.collages.delete(this.collages.keys().next().value!);
      if (previous !== undefined && previous !== fileId) await this.deleteFile(previous);
    } catch (error) {
      throw toDeliveryError(error, `board ${board.id}`);
    }
    return { v: 1, platform: 'slack', channelId: channel, messageId: ts };
  }

  /** The end summary with the final collage, in the board's thread and broadcast to the channel. */
  async postBoardSummary(board: BoardRecord, summary: BoardSummary, collage: Attachment): Promise<void> {
    const channel = board.place.channelId;
    const threadTs = board.place.threadId;
    try {
      const fileId = await uploadImage(this.client, collage, summary.title);
      const post = (options: BoardImageOptions) => {
        const rendered = renderBoardSummaryBlocks(summary, options);
        const message = { channel, text: rendered.text, blocks: rendered.blocks };
        return this.client.chat.postMessage(threadTs ? { ...message, thread_ts: threadTs, reply_broadcast: true } : message);
      };
      if (!(await this.untilFileReady(() => post({ collageFileId: fileId })))) await post({ imageNote: 'Slack was still processing the final collage; the Collage link above has it.' });
    } catch (error) {
      throw toDeliveryError(error, `board ${board.id}`);
    }
  }

  private remember(jobId: string, fileId: string | undefined): void {
    this.previews.delete(jobId);
    if (fileId === undefined) return;
    this.previews.set(jobId, fileId);
    if (this.previews.size > MAX_REMEMBERED_PREVIEWS) this.previews.delete(this.previews.keys().next().value!);
  }

  /** Best effort: a preview file left behind costs storage, never correctness. */
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
