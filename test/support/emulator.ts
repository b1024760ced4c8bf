/**
 * The SQS/S3 emulator for tests: fauxqs in-process on 127.0.0.1, port 0, with the jobs queue (+ DLQ
 * via redrive), the events queue and the bucket, plus AWS-SDK ports pointed at it over HTTP.
 */
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startLocalEmulator, type LocalEmulator, type LocalEmulatorOptions } from '../../local/emulator.ts';
import { loadConfig, type Config } from '../../core/config.ts';
import { createAwsPorts, createSqsClient, type Ports } from '../../core/aws/index.ts';
import type { JobEvent } from '../../core/job.ts';

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
  /** Messages in the events queue, visible or not (received but not yet acknowledged counts). */
  eventsQueueCount(): Promise<number>;
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
    inspectDlqCount: () => messageCount(sqs, emulator.jobsDlqUrl),
    eventsQueueCount: () => messageCount(sqs, emulator.eventsQueueUrl),
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

async function messageCount(sqs: SQSClient, queueUrl: string): Promise<number> {
  const response = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(response.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(response.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/**
 * Reads events until no more can come: the jobs queue holds nothing (visible or in flight, so no job can run again)
 * and every event published so far has been read and acknowledged. What a test waits on to prove that nothing else
 * arrives (e.g. no second `completed`), instead of reading for a fixed time. Runners left alive must be idle.
 */
export async function settleEvents(emulator: TestEmulator, into: JobEvent[], timeoutMs = 20_000): Promise<JobEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const received = await emulator.ports.events.receive({ waitSeconds: 0, max: 10 });
    for (const message of received) {
      if (message.event) into.push(message.event);
      await emulator.ports.events.ack(message.receiptHandle);
    }
    if (received.length === 0) {
      const jobs = await emulator.ports.queue.depth();
      if (jobs.visible === 0 && jobs.inFlight === 0 && (await emulator.eventsQueueCount()) === 0) return into;
      if (Date.now() > deadline) throw new Error(`events did not settle in ${timeoutMs} ms: jobs queue ${JSON.stringify(jobs)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
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
