/**
 * JobQueue over SQS.
 *
 * Fairness: the jobs queue is FIFO with `MessageGroupId = platform:userId` and
 * `MessageDeduplicationId = job id`. SQS never hands out a second message of a group while one is
 * in flight, so one user occupies at most one GPU at a time however many jobs they queue, and every
 * other user's group stays receivable; the per-user pending cap (bot/submit.ts) bounds how many
 * jobs one user can put ahead of others. Dedup by job id drops a double-submitted interaction.
 * On a standard queue the same group id feeds SQS fair queues; nothing else changes.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { JobSchema, type Job } from '../job.ts';
import type { JobQueue, QueueDepth, ReceivedJob, ReceiveOptions } from '../ports.ts';
import { isAbort, withServiceErrors } from './service-errors.ts';
import { parseBody, queueBody } from './parse-body.ts';

export interface SqsJobQueueOptions {
  client: SQSClient;
  queueUrl: string;
}

export class SqsJobQueue implements JobQueue {
  readonly #client: SQSClient;
  readonly #queueUrl: string;
  readonly #fifo: boolean;

  constructor(options: SqsJobQueueOptions) {
    this.#client = options.client;
    this.#queueUrl = options.queueUrl;
    this.#fifo = options.queueUrl.endsWith('.fifo');
  }

  async send(job: Job): Promise<void> {
    const body = queueBody(JobSchema.parse(job));
    await this.#call(() =>
      this.#client.send(
        new SendMessageCommand({
          QueueUrl: this.#queueUrl,
          MessageBody: body,
          MessageGroupId: userGroupId(job),
          ...(this.#fifo ? { MessageDeduplicationId: job.id } : {}),
        }),
      ),
    );
  }

  async receive(options: ReceiveOptions): Promise<ReceivedJob | null> {
    let response;
    try {
      response = await this.#call(() =>
        this.#client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.#queueUrl,
            MaxNumberOfMessages: 1,
            WaitTimeSeconds: options.waitSeconds,
            ...(options.visibilitySeconds === undefined ? {} : { VisibilityTimeout: options.visibilitySeconds }),
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          options.signal ? { abortSignal: options.signal } : {},
        ),
      );
    } catch (error) {
      if (options.signal?.aborted && isAbort(error)) return null;
      throw error;
    }
    const message = response.Messages?.[0];
    if (!message?.ReceiptHandle || !message.MessageId) return null;
    const body = message.Body ?? '';
    return {
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? '1'),
      body,
      ...parseJob(body),
    };
  }

  async extendVisibility(receiptHandle: string, seconds: number): Promise<void> {
    await this.#call(() => this.#client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.#queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds })));
  }

  async release(receiptHandle: string): Promise<void> {
    await this.extendVisibility(receiptHandle, 0);
  }

  async delete(receiptHandle: string): Promise<void> {
    await this.#call(() => this.#client.send(new DeleteMessageCommand({ QueueUrl: this.#queueUrl, ReceiptHandle: receiptHandle })));
  }

  async depth(): Promise<QueueDepth> {
    const response = await this.#call(() =>
      this.#client.send(
        new GetQueueAttributesCommand({ QueueUrl: this.#queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      ),
    );
    return {
      visible: Number(response.Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(response.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }

  #call<T>(operation: () => Promise<T>): Promise<T> {
    return withServiceErrors('SQS jobs queue', this.#queueUrl, operation);
  }
}

/** One message group per user: at most one of their jobs in flight at a time. */
export function userGroupId(job: Pick<Job, 'requester'>): string {
  return `${job.requester.platform}:${job.requester.userId}`;
}

function parseJob(body: string): { job: Job } | { parseError: string } {
  const parsed = parseBody(JobSchema, body);
  return 'value' in parsed ? { job: parsed.value } : parsed;
}
