/**
 * EventBus over SQS.
 *
 * On a FIFO events queue each job is its own message group (its events arrive in order) and the
 * deduplication id of a final event is `jobId:type`, so when a redelivered job publishes
 * `completed` again SQS itself drops the copy (5-minute window); consumers should still treat
 * events as at-least-once beyond that window. On a standard queue the same code simply publishes.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { JobEventSchema, type JobEvent } from '../job.ts';
import type { EventBus, ReceivedEvent, ReceiveOptions } from '../ports.ts';
import { isAbort, withServiceErrors } from './service-errors.ts';
import { parseBody, queueBody } from './parse-body.ts';

export interface SqsEventBusOptions {
  client: SQSClient;
  queueUrl: string;
}

export class SqsEventBus implements EventBus {
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #fifo: boolean;

  constructor(options: SqsEventBusOptions) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#fifo = options.queueUrl.endsWith('.fifo');
  }

  async publish(event: JobEvent): Promise<void> {
    const body = queueBody(JobEventSchema.parse(event));
    await this.#call(() =>
      this.#client.send(
        new SendMessageCommand({
          QueueUrl: this.#queueUrl,
          MessageBody: body,
          ...(this.#fifo ? { MessageGroupId: event.jobId, MessageDeduplicationId: eventDeduplicationId(event) } : {}),
        }),
      ),
    );
  }

  async receive(options: ReceiveOptions & { max?: number }): Promise<ReceivedEvent[]> {
    let response;
    try {
      response = await this.#call(() =>
        this.#client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.#queueUrl,
            MaxNumberOfMessages: Math.min(10, Math.max(1, options.max ?? 10)),
            WaitTimeSeconds: options.waitSeconds,
            ...(options.visibilitySeconds === undefined ? {} : { VisibilityTimeout: options.visibilitySeconds }),
          }),
          options.signal ? { abortSignal: options.signal } : {},
        ),
      );
    } catch (error) {
      if (options.signal?.aborted && isAbort(error)) return [];
      throw error;
    }
    return (response.Messages ?? []).flatMap((message) => (message.ReceiptHandle ? [{ receiptHandle: message.ReceiptHandle, ...parseEvent(message.Body ?? '') }] : []));
  }

  async ack(receiptHandle: string): Promise<void> {
    await this.#call(() => this.#client.send(new DeleteMessageCommand({ QueueUrl: this.#queueUrl, ReceiptHandle: receiptHandle })));
  }

  /** Makes a received, unacked event visible again in `seconds` (0–43200): "not yet, ask me then". */
  async defer(receiptHandle: string, seconds: number): Promise<void> {
    const visibility = Math.min(43_200, Math.max(0, Math.ceil(seconds)));
    await this.#call(() => this.#client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.#queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: visibility })));
  }

  #call<T>(operation: () => Promise<T>): Promise<T> {
    return withServiceErrors('SQS events queue', this.#queueUrl, operation);
  }
}

/**
 * Final and one-off events dedupe per job (a republished `completed` is dropped); a `started` per
 * attempt; progress-like events are all distinct.
 */
export function eventDeduplicationId(event: JobEvent): string {
  switch (event.type) {
    case 'queued':
    case 'completed':
      return `${event.jobId}:${event.type}`;
    case 'failed':
      return event.willRetry ? `${event.jobId}:failed:${event.at}` : `${event.jobId}:failed`;
    case 'started':
      return `${event.jobId}:started:${event.attempt}`;
    case 'progress':
      return `${event.jobId}:progress:${event.stage}:${event.step}:${event.at}`;
    case 'preview':
      return `${event.jobId}:preview:${event.fraction}:${event.at}`;
    case 'board_changed':
      return `${event.jobId}:board:${event.change}:${event.at}`;
  }
}

/** Parses one events-queue message body (also used by the Lambda adapter, functions/dispatch.ts). */
export function parseEvent(body: string): { event: JobEvent } | { parseError: string } {
  const parsed = parseBody(JobEventSchema, body);
  return 'value' in parsed ? { event: parsed.value } : parsed;
}
