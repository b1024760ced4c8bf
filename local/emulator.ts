/**
 * The local stand-in for SQS and S3: fauxqs 1.9.2 served in-process on 127.0.0.1 only, with the
 * queues and bucket the system needs. fauxqs's CLI and its `startFauxqs()` both bind 0.0.0.0, so
 * this builds its Fastify app and listens on loopback itself. Everything is created over HTTP
 * with the AWS SDK, exactly as the system later uses it.
 *
 * Message groups of a FIFO queue take turns, as in SQS (local/fair-fifo.ts), and a PUT with
 * `If-None-Match: *` creates or fails with 412, as in S3 (local/conditional-puts.ts).
 *
 * State lives in memory: stopping the emulator forgets queues and messages. Objects too, unless
 * `dataDir` is given: then S3 writes are mirrored to disk and restored at start (local/s3-disk-mirror.ts).
 */
import { buildApp } from 'fauxqs';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createS3Client, createSqsClient } from '../core/aws/clients.ts';
import { PortInUseError } from '../core/errors.ts';
import { S3DiskMirror } from './s3-disk-mirror.ts';
import { makeFifoGroupsTakeTurns } from './fair-fifo.ts';
import { honourConditionalCreates } from './conditional-puts.ts';

export interface LocalEmulatorOptions {
  /** 0 = any free port. */
  port?: number;
  region?: string;
  /** Default visibility of the jobs queue; the runner extends it while it works. */
  visibilitySeconds?: number;
  /** Receives before a job moves to the DLQ (the redrive policy's maxReceiveCount). */
  maxReceives?: number;
  bucket?: string;
  /** Keep S3 objects in this folder across restarts (queues stay in memory). */
  dataDir?: string;
}

export interface LocalEmulator {
  endpoint: string;
  port: number;
  region: string;
  jobsQueueUrl: string;
  jobsDlqUrl: string;
  eventsQueueUrl: string;
  bucket: string;
  /** Objects put back from `dataDir` at start (0 without one). */
  restoredObjects: number;
  /** The environment variables that point config (core/config.ts) at this emulator. */
  env(): Record<string, string>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

export async function startLocalEmulator(options: LocalEmulatorOptions = {}): Promise<LocalEmulator> {
  await makeFifoGroupsTakeTurns();
  const app = buildApp({ logger: false });
  keepHeadConnectionsAlive(app);
  honourConditionalCreates(app);
  const mirror = options.dataDir ? new S3DiskMirror(options.dataDir) : undefined;
  mirror?.attach(app);
  let address: string;
  try {
    address = await app.listen({ port: options.port ?? 0, host: HOST });
  } catch (error) {
    await app.close().catch(() => undefined);
    if ((error as { code?: string }).code === 'EADDRINUSE') throw new PortInUseError(HOST, options.port ?? 0);
    throw error;
  }
  const port = Number(new URL(address).port);
  const endpoint = `http://${HOST}:${port}`;
  const region = options.region ?? 'us-east-1';
  try {
    const queues = await provisionResources(endpoint, region, options);
    const bucket = options.bucket ?? 'cascade-bot-local';
    const restoredObjects = mirror ? await restoreObjects(mirror, endpoint, region) : 0;
    return {
      endpoint,
      port,
      region,
      bucket,
      restoredObjects,
      ...queues,
      env: () => ({
        AWS_REGION: region,
        AWS_ENDPOINT_URL: endpoint,
        JOBS_QUEUE_URL: queues.jobsQueueUrl,
        JOBS_DLQ_URL: queues.jobsDlqUrl,
        EVENTS_QUEUE_URL: queues.eventsQueueUrl,
        BUCKET: bucket,
        JOB_MAX_RECEIVES: String(options.maxReceives ?? 4),
      }),
      // Delayed disk writes read the object back through the app: run them while it still answers.
      stop: async () => {
        await mirror?.flush();
        await app.close();
      },
    };
  } catch (error) {
    await app.close();
    throw error;
  }
}

/**
 * fauxqs answers a HEAD of a missing key (every `exists` that says no) without Content-Length, and Node's HTTP
 * client closes a kept-alive connection after a HEAD response that has neither Content-Length nor
 * Transfer-Encoding (nodejs/node#28438): each such check cost a new TCP connection on both ends. So the emulator
 * adds `content-length: 0`; a HEAD response carries no body whatever the header says.
 */
function keepHeadConnectionsAlive(app: ReturnType<typeof buildApp>): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method === 'HEAD' && !reply.hasHeader('content-length') && !reply.hasHeader('transfer-encoding')) reply.header('content-length', '0');
    return payload;
  });
}

async function restoreObjects(mirror: S3DiskMirror, endpoint: string, region: string): Promise<number> {
  const s3 = createS3Client({ region, s3Endpoint: endpoint }, { maxAttempts: 1 });
  try {
    return await mirror.restore(s3);
  } finally {
    s3.destroy();
  }
}

/** Creates (idempotently) the FIFO jobs queue with its FIFO DLQ, the FIFO events queue and the bucket. */
export async function provisionResources(
  endpoint: string,
  region: string,
  options: Pick<LocalEmulatorOptions, 'visibilitySeconds' | 'maxReceives' | 'bucket'> = {},
): Promise<{ jobsQueueUrl: string; jobsDlqUrl: string; eventsQueueUrl: string }> {
  const aws = { region, sqsEndpoint: endpoint, s3Endpoint: endpoint };
  const sqs = createSqsClient(aws, { maxAttempts: 1 });
  const s3 = createS3Client(aws, { maxAttempts: 1 });
  try {
    const fifo = { FifoQueue: 'true', ContentBasedDeduplication: 'false' };
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'jobs-dlq.fifo', Attributes: { ...fifo, MessageRetentionPeriod: '1209600' } }));
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    const jobs = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'jobs.fifo',
        Attributes: {
          ...fifo,
          VisibilityTimeout: String(options.visibilitySeconds ?? 300),
          MessageRetentionPeriod: '3600',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: options.maxReceives ?? 4 }),
        },
      }),
    );
    const events = await sqs.send(new CreateQueueCommand({ QueueName: 'events.fifo', Attributes: { ...fifo, VisibilityTimeout: '30' } }));
    await s3.send(new CreateBucketCommand({ Bucket: options.bucket ?? 'cascade-bot-local' })).catch((error: Error) => {
      if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
    });
    return { jobsQueueUrl: jobs.QueueUrl!, jobsDlqUrl: dlq.QueueUrl!, eventsQueueUrl: events.QueueUrl! };
  } finally {
    sqs.destroy();
    s3.destroy();
  }
}
