/**
 * The jobs queue (FIFO: one message group per user, deduplicated by job id, see core/aws/sqs-job-queue.ts)
 * with its dead-letter queue, and the events queue (FIFO: one group per job, so a job's events arrive in
 * order) with a dead-letter queue for events that can never be delivered.
 */
import { JOB_RETENTION_MINUTES, type InfraConfig } from '../config.ts';

/**
 * Four days: SQS expiry does not dead-letter a message, it deletes it unseen, so a job must never expire on
 * the queue. The runner refuses, with a "expired after …" message the user sees, any job older than
 * CASCADE_JOB_MAX_AGE_MINUTES (≤ this retention), so no job is dropped silently.
 */
export const JOB_RETENTION_SECONDS = JOB_RETENTION_MINUTES * 60;
export const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;
/** Lambda wants the queue's visibility timeout at least 6× the consumer's timeout. */
export const DISPATCHER_TIMEOUT_SECONDS = 60;
const EVENT_MAX_RECEIVES = 10;

export function createQueues(config: InfraConfig) {
  const dlqRetention = { queue: { messageRetentionSeconds: DLQ_RETENTION_SECONDS } };
  const jobsDlq = new sst.aws.Queue('JobsDlq', { fifo: true, transform: dlqRetention });
  const jobs = new sst.aws.Queue('Jobs', {
    fifo: true,
    visibilityTimeout: `${config.jobs.visibilitySeconds} seconds`,
    dlq: { queue: jobsDlq.arn, retry: config.jobs.maxReceives },
    transform: {
      queue: {
        messageRetentionSeconds: JOB_RETENTION_SECONDS,
        receiveWaitTimeSeconds: 20,
        // Throughput is tracked per user (message group), not for the whole queue.
        deduplicationScope: 'messageGroup',
        fifoThroughputLimit: 'perMessageGroupId',
      },
    },
  });
  const eventsDlq = new sst.aws.Queue('EventsDlq', { fifo: true, transform: dlqRetention });
  const events = new sst.aws.Queue('Events', {
    fifo: true,
    visibilityTimeout: `${DISPATCHER_TIMEOUT_SECONDS * 6} seconds`,
    dlq: { queue: eventsDlq.arn, retry: EVENT_MAX_RECEIVES },
    transform: {
      queue: { messageRetentionSeconds: 24 * 3600, deduplicationScope: 'messageGroup', fifoThroughputLimit: 'perMessageGroupId' },
    },
  });
  return { jobs, jobsDlq, events, eventsDlq };
}

export type Queues = ReturnType<typeof createQueues>;
