/** The AWS adapters of core/ports.ts, built from config in one call. */
import type { Config } from '../config.js';
import type { BlobStore, EventBus, JobQueue } from '../ports.js';
import { ConfigError } from '../errors.js';
import { createS3Client, createSqsClient, type ClientTuning } from './clients.js';
import { SqsJobQueue } from './sqs-job-queue.js';
import { SqsEventBus } from './sqs-event-bus.js';
import { S3BlobStore } from './s3-blob-store.js';

export { createS3Client, createSqsClient, type ClientTuning } from './clients.js';
export { SqsJobQueue, userGroupId } from './sqs-job-queue.js';
export { SqsEventBus, eventDeduplicationId } from './sqs-event-bus.js';
export { S3BlobStore } from './s3-blob-store.js';

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
