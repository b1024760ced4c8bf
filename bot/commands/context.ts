/**
 * What every platform-neutral command handler receives: the ports (`BotDeps`, built once in main)
 * and a small per-request `CommandContext` the platform fills from its interaction payload.
 * Handlers return plain reply values; the platform decides how to show them (Discord ephemeral
 * reply, Slack respond/chat.postMessage, web JSON). Handlers never throw for user mistakes — those
 * are `rejected` replies with a short, specific message; they throw only when infrastructure fails.
 */
import type { Delivery, JobId, Requester } from '../../core/job.ts';
import type { BlobStore, EventBus, JobQueue } from '../../core/ports.ts';
import type { FleetStatus } from '../fleet.ts';
import type { ChannelFacts, ModerationPolicy } from '../moderation.ts';
import type { JobMessage } from '../message-model.ts';
import type { Attachment } from '../poster.ts';

export interface BotDeps {
  queue: JobQueue;
  events: EventBus;
  blobs: BlobStore;
  moderation: ModerationPolicy;
  /** Default: always warm. */
  fleet?: FleetStatus;
  /** Jobs one user may have waiting or running at once (default: submit.ts's DEFAULT_MAX_PENDING_PER_USER). */
  maxPendingPerUser?: number;
  /** Clock (ms since epoch), for tests. */
  now?: () => number;
  /** Seed source (uint32), for tests. */
  randomSeed?: () => number;
  /** Mood-board limits (default 48 pins, 25 members: bot/boards/board-store.ts). */
  boardLimits?: { maxPins: number; maxMembers: number };
  /** Base URL of the board pages (`{base}/boards/{id}?t={token}`): the playground's own URL locally, the function URL in AWS. */
  boardPageBaseUrl?: string;
}

export interface CommandContext {
  /** Who typed the command or pressed the button. For a button this is the presser, not the parent's owner. */
  requester: Requester;
  /** Where a job created by this request delivers its message (the platform built it from the interaction). */
  delivery: Delivery;
  /**
   * The platform's id of this interaction (Discord interaction id, Slack trigger/action ts, web request id),
   * prefixed by platform: job ids derive from it, so a retried interaction names the same job.
   */
  sourceId: string;
  channel: ChannelFacts;
  /** True when the platform says the actor may manage the channel (Discord Manage Channels, Slack admin/owner): required to change channel settings. */
  canManageChannel?: boolean;
}

/**
 * Why a request was refused: stable and machine-readable (tests, logs); the `message` is for people.
 * A new refusal adds its code here.
 */
export type RejectionCode =
  // where and what may be asked (moderation.ts)
  | 'blocked_prompt'
  | 'channel_not_allowed'
  | 'workspace_not_allowed'
  // input
  | 'invalid_options'
  | 'invalid_settings'
  | 'invalid_button_id'
  | 'invalid_job_id'
  | 'unknown_command'
  | 'needs_text'
  | 'bad_upload'
  // caps and permissions
  | 'too_many_pending'
  | 'not_allowed'
  // the job asked about
  | 'not_found'
  | 'already_finished'
  | 'not_finished'
  | 'no_grid'
  // mood boards (bot/boards/)
  | 'no_board'
  | 'invalid_board'
  | 'board_exists'
  | 'board_full'
  | 'board_closed'
  | 'not_in_board'
  | 'already_pinned'
  | 'not_pinned'
  | 'already_ended'
  | 'not_available'
  // our side failed (the actor is told to try again)
  | 'internal';

/** A request refused for a reason the user can act on. Show `message` only to the actor (ephemeral). */
export interface Rejected {
  kind: 'rejected';
  code: RejectionCode;
  message: string;
}

export interface Accepted {
  kind: 'accepted';
  jobId: JobId;
  /** 1-based place in the queue (approximate); absent when it could not be read. */
  position?: number;
  /** The same interaction had already created this job; nothing new was enqueued. */
  duplicate: boolean;
}

/** Text for the actor only, e.g. ℹ️ info, /info usage, settings. `text` is plain; `code` lines are meant for copyable code blocks. */
export interface InfoReply {
  kind: 'info';
  title: string;
  lines: string[];
  /** Values users copy on mobile (prompt, seed, job id); renderers put them in code blocks. */
  copyable: Array<{ label: string; value: string }>;
  /** The pictures the job was made from (ℹ️ of a job with image prompts or a start image), in request order. */
  pictures?: InfoPicture[];
}

/** One picture a job was made from: an upload (`jobs/{id}/inputs/{n}.png`) or an earlier job's tile ("More like this"). */
export interface InfoPicture {
  /** Its key (core/storage-layout.ts `IMAGE_KEY_PATTERN`); the playground shows it through its own /api/image. */
  key: string;
  /** e.g. "Picture 1 · image prompt, weight 0.5" or "Picture 1 · start image, strength 0.6". */
  label: string;
  /**
   * A short-lived link (job-info.ts PICTURE_LINK_SECONDS) for an asker who can see the job (its owner, or anyone in its
   * channel): Discord and Slack show it as a thumbnail in the private ℹ️ reply. Absent for anyone else and on the web.
   */
  url?: string;
}

/** A job's message to post again (/show): the platform posts it as a new message. */
export interface ShowReply {
  kind: 'show';
  jobId: JobId;
  message: JobMessage;
  attachment?: Attachment;
}

export interface DoneReply {
  kind: 'done';
  /** What happened, for an ephemeral confirmation: 'deleted', 'cancelled', 'settings_saved'. */
  action: 'deleted' | 'cancelled' | 'settings_saved' | 'pinned' | 'unpinned' | 'voted' | 'unvoted' | 'hero' | 'board_started' | 'board_generated' | 'board_ended' | 'cohost_added';
  /** The board a board action changed (bot/boards/). */
  boardId?: string;
  jobId?: JobId;
  message: string;
}

export type ImagineReply = Accepted | Rejected;
export type ButtonReply = Accepted | Rejected | InfoReply | DoneReply;
