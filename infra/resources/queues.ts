/**
 * The jobs queue (FIFO: one message group per user, deduplicated by job id, see core/aws/sqs-job-queue.ts)
 * with its dead-letter queue, and the events queue (FIFO: one group per job, so a job's events arrive in
 * order) with a dead-letter queue for events that can never be delivered.
 */
import { DEFAULT_PENDING_STALE_MS } from '../../core/pending.js';
import type { InfraConfig } from '../config.js';

/** Jobs older than the pending markers' staleness cannot count against a user, so they must not outlive it. */
const JOB_RETENTION_SECONDS = DEFAULT_PENDING_STALE_MS / 1000;
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
