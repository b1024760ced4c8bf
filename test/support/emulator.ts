/**
 * The SQS/S3 emulator for tests: fauxqs in-process on 127.0.0.1, port 0, with the jobs queue (+ DLQ
 * via redrive), the events queue and the bucket, plus AWS-SDK ports pointed at it over HTTP.
 */
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startLocalEmulator, type LocalEmulator, type LocalEmulatorOptions } from '../../local/emulator.js';
import { loadConfig, type Config } from '../../core/config.js';
import { createAwsPorts, createSqsClient, type Ports } from '../../core/aws/index.js';
import type { JobEvent } from '../../core/job.js';

export interface TestEmulator extends LocalEmulator {
  config: Config;
  ports: Ports;
  sqs: SQSClient;
  /** Sends a raw body to the jobs queue (malformed-message tests). */
  sendRaw(body: string, groupId: string): Promise<void>;
  /** Bodies currently visible in the DLQ (received with visibility 0 so they stay there). */
  dlqBodies(): Promise<string[]>;
  /** Messages in the DLQ, visible or not. */
  inspectDlqCount(): Promise<number>;
}

export async function startTestEmulator(options: LocalEmulatorOptions & { env?: Record<string, string> } = {}): Promise<TestEmulator> {
  const emulator = await startLocalEmulator({ port: 0, visibilitySeconds: 5, maxReceives: 3, ...options });
  const config = loadConfig({ ...emulator.env(), ...options.env });
  const ports = createAwsPorts(config, { maxAttempts: 1 });
  const sqs = createSqsClient(config.aws, { maxAttempts: 1 });
  return {
    ...emulator,
    config,
    ports,
    sqs,
    async sendRaw(body, groupId) {
      await sqs.send(new SendMessageCommand({ QueueUrl: emulator.jobsQueueUrl, MessageBody: body, MessageGroupId: groupId, MessageDeduplicationId: `${groupId}-${Date.now()}-${Math.random()}`.slice(0, 120) }));
    },
    async dlqBodies() {
      const response = await sqs.send(new ReceiveMessageCommand({ QueueUrl: emulator.jobsDlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 0 }));
      return (response.Messages ?? []).map((message) => message.Body ?? '');
    },
    async inspectDlqCount() {
      const response = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: emulator.jobsDlqUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      return Number(response.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(response.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    },
    async stop() {
      sqs.destroy();
      await emulator.stop();
    },
  };
}

/** Reads (and acks) every event on the bus until `done(events)` holds or the time runs out. */
export async function collectEvents(ports: Ports, done: (events: JobEvent[]) => boolean, timeoutMs = 20_000, seed: JobEvent[] = []): Promise<JobEvent[]> {
  const events = seed;
  const deadline = Date.now() + timeoutMs;
  while (!done(events)) {
    if (Date.now() > deadline) throw new Error(`events did not arrive in ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => `${e.jobId}:${e.type}`))}`);
    for (const received of await ports.events.receive({ waitSeconds: 1, max: 10 })) {
      if (received.event) events.push(received.event);
      await ports.events.ack(received.receiptHandle);
    }
  }
  return events;
}

/** Keeps reading a little longer to prove nothing else arrives (e.g. no second `completed`). */
export async function drainEvents(ports: Ports, forMs: number, into: JobEvent[]): Promise<JobEvent[]> {
  const until = Date.now() + forMs;
  while (Date.now() < until) {
    for (const received of await ports.events.receive({ waitSeconds: 1, max: 10 })) {
      if (received.event) into.push(received.event);
      await ports.events.ack(received.receiptHandle);
    }
  }
  return into;
}
