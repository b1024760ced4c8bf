/** The AWS adapters of core/ports.ts, built from config in one call. */
import type { Config } from '../config.ts';
import type { BlobStore, EventBus, JobQueue } from '../ports.ts';
import { ConfigError } from '../errors.ts';
import { createS3Client, createSqsClient, type ClientTuning } from './clients.ts';
import { SqsJobQueue } from './sqs-job-queue.ts';
import { SqsEventBus } from './sqs-event-bus.ts';
import { S3BlobStore } from './s3-blob-store.ts';

export { createS3Client, createSqsClient, type ClientTuning } from './clients.ts';
export { SqsJobQueue, userGroupId } from './sqs-job-queue.ts';
export { SqsEventBus, eventDeduplicationId } from './sqs-event-bus.ts';
export { S3BlobStore } from './s3-blob-store.ts';

export interface Ports {
  queue: JobQueue;
  events: EventBus;
  blobs: BlobStore;
  /** The jobs DLQ, when JOBS_DLQ_URL is set (the runner tells users about jobs that died there). */
  deadLetters?: JobQueue;
}

/** Needs JOBS_QUEUE_URL, EVENTS_QUEUE_URL and BUCKET (set by the emulator launcher locally). */
export function createAwsPorts(config: Config, tuning: ClientTuning = {}): Ports {
  const missing = [
    config.jobsQueueUrl ? undefined : 'JOBS_QUEUE_URL: required',
    config.eventsQueueUrl ? undefined : 'EVENTS_QUEUE_URL: required',
    config.bucket ? undefined : 'BUCKET: required',
  ].filter((issue): issue is string => issue !== undefined);
  if (missing.length > 0) throw new ConfigError(missing);
  const sqs = createSqsClient(config.aws, tuning);
  return {
    queue: new SqsJobQueue({ client: sqs, queueUrl: config.jobsQueueUrl! }),
    events: new SqsEventBus({ client: sqs, queueUrl: config.eventsQueueUrl! }),
    blobs: new S3BlobStore({ client: createS3Client(config.aws, tuning), bucket: config.bucket! }),
    ...(config.jobsDlqUrl ? { deadLetters: new SqsJobQueue({ client: sqs, queueUrl: config.jobsDlqUrl }) } : {}),
  };
}
