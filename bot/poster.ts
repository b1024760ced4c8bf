/**
 * The seam between the platform-neutral dispatcher and one chat platform.
 *
 * Each platform folder implements `Poster`: Discord edits the interaction's original message (and
 * after 15 minutes uses the bot token on the channel message), Slack uses chat.update on the
 * placeholder, the web playground pushes to the page. `deliver` is idempotent from the dispatcher's
 * point of view: it always edits the one message the job owns, so calling it twice with the same
 * message shows the same thing.
 *
 * Errors: throw `DeliveryError` with `retryable: false` when retrying can never help (message deleted,
 * channel gone, app removed); any other error is retried with back-off by the dispatcher
 * (`retryAfterMs` honours a platform's Retry-After).
 */
import type { Job, Platform, Result } from '../core/job.ts';
import type { JobMessage } from './message-model.ts';
import type { BoardHeader, BoardSummary } from './boards/board-message.ts';
import type { BoardRecord, HeaderRecord } from './boards/model.ts';
import { CodedError } from '../core/errors.ts';

/** The grid (or single image) bytes to attach, already converted to fit the platform's size limit. */
export interface Attachment {
  bytes: Uint8Array;
  contentType: string;
  /** e.g. `grid-j1234.png`; safe characters only. */
  fileName: string;
}

export interface Poster {
  readonly platform: Platform;
  /** Largest attachment this job's message may carry, in bytes (Discord: the interaction's attachment_size_limit, default 10 MiB). */
  attachmentLimitBytes(job: Job): number;
  /**
   * True when the platform shows the final grid by its store key (the web page loads images itself):
   * the dispatcher then does not download the grid to attach it. Absent = false.
   */
  readonly showsGridByKey?: boolean;
  /**
   * Shows `message` in the message the job owns. `attachment` is given with the final grid and with each
   * new preview; when absent, keep the image the message already shows (Discord: omit `attachments` in the PATCH).
   * `known` carries what the dispatcher has already read (the final result), so a poster need not read it again.
   */
  deliver(job: Job, message: JobMessage, attachment?: Attachment, known?: KnownRecords): Promise<void>;
  /**
   * Mood boards (bot/boards/): shows the board's header with the collage, editing the message at `existing` when
   * there is one (else posting it in the board's place). Returns where the header is now. Absent = the platform
   * shows boards another way.
   */
  deliverBoardHeader?(board: BoardRecord, header: BoardHeader, collage: Attachment, existing: HeaderRecord | null): Promise<HeaderRecord | undefined>;
  /** Posts the end summary (with the final collage) in the board's place, once. */
  postBoardSummary?(board: BoardRecord, summary: BoardSummary, collage: Attachment): Promise<void>;
}

/** Records the dispatcher read while folding events; optional, posters that need them may read them themselves. */
export interface KnownRecords {
  result?: Result;
}

export class DeliveryError extends CodedError<'delivery_failed'> {
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  constructor(
    message: string,
    retryable: boolean,
    retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super('delivery_failed', message, { retryable }, options);
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

export type PosterRegistry = Partial<Record<Platform, Poster>>;
