/**
 * The ports the rest of the system talks through. `core/aws/` implements them over the AWS SDK v3,
 * which reaches real AWS or the local emulator depending only on the configured endpoints.
 * Unit tests may implement them in memory; integration tests must use the AWS adapters.
 */
import type { Job, JobEvent } from './job.ts';

/** A message taken off the jobs queue. `job` is absent when the body failed to parse (`parseError` says why). */
export interface ReceivedJob {
  messageId: string;
  receiptHandle: string;
  /** How many times SQS has handed this message out, this time included. */
  receiveCount: number;
  body: string;
  job?: Job;
  parseError?: string;
}

export interface ReceiveOptions {
  /** Long-poll wait, 0–20 s. */
  waitSeconds: number;
  /** Visibility timeout for what is received; the queue's default when absent. */
  visibilitySeconds?: number;
  signal?: AbortSignal;
}

export interface QueueDepth {
  visible: number;
  inFlight: number;
}

export interface JobQueue {
  send(job: Job): Promise<void>;
  /** Long-polls for at most one job; resolves null when the wait ends empty or the signal aborts. */
  receive(options: ReceiveOptions): Promise<ReceivedJob | null>;
  extendVisibility(receiptHandle: string, seconds: number): Promise<void>;
  /** Makes the message visible again at once (visibility 0) so another runner can take it. */
  release(receiptHandle: string): Promise<void>;
  delete(receiptHandle: string): Promise<void>;
  depth(): Promise<QueueDepth>;
}

export interface ReceivedEvent {
  receiptHandle: string;
  event?: JobEvent;
  parseError?: string;
}

export interface EventBus {
  publish(event: JobEvent): Promise<void>;
  /** For consumers (dispatcher): long-poll a batch of events. */
  receive(options: ReceiveOptions & { max?: number }): Promise<ReceivedEvent[]>;
  ack(receiptHandle: string): Promise<void>;
}

export interface BlobStore {
  put(key: string, body: Uint8Array | string, contentType: string): Promise<void>;
  /**
   * Creates the object only if no object has the key (S3 `If-None-Match: *`): true when this call created it,
   * false when it already existed. Of several concurrent creates of one key exactly one gets true.
   */
  putIfAbsent(key: string, body: Uint8Array | string, contentType: string): Promise<boolean>;
  /** Resolves null when the key does not exist. */
  get(key: string): Promise<Uint8Array | null>;
  exists(key: string): Promise<boolean>;
  list(prefix: string): Promise<string[]>;
  delete(keys: string[]): Promise<void>;
  /** A time-limited GET URL for the object. */
  presignedUrl(key: string, expiresSeconds: number): Promise<string>;
}
