/**
 * Board deadlines on AWS: a Lambda run every minute (infra/resources/board-deadlines.ts) that publishes
 * `board_changed` (ended) for every open board whose deadline passed (bot/boards/deadline.ts, the same sweep
 * `npm start` runs); the dispatcher Lambda then ends the board, renders its final header and posts the summary
 * and exports once.
 *
 * Why a sweep and not an EventBridge Scheduler one-shot per board: the sweep needs nothing when a board starts
 * (no scheduler:CreateSchedule and iam:PassRole for the front ends, no schedule to delete when a board ends
 * early, none lost when the scheduler call fails after the board was written), it also ends boards started
 * before it was deployed, and a failed run is simply repeated a minute later. The price: a board ends up to a
 * minute after its deadline (pins and votes are refused from the deadline on, closedReason), and each run
 * lists the open boards' markers, one LIST plus two small GETs per open board.
 */
import { loadConfig } from '../core/config.ts';
import { createS3Client, createSqsClient, S3BlobStore, SqsEventBus } from '../core/aws/index.ts';
import { createLogger, type Logger } from '../core/log.ts';
import type { BlobStore, EventBus } from '../core/ports.ts';
import { sweepDeadlines } from '../bot/boards/deadline.ts';

export interface BoardDeadlineDeps {
  blobs: BlobStore;
  events: EventBus;
  log: Logger;
  now?: () => number;
}

export function createBoardDeadlineHandler(deps: BoardDeadlineDeps) {
  return async (): Promise<{ due: string[] }> => {
    const due = await sweepDeadlines(deps.blobs, deps.events, (deps.now ?? Date.now)());
    if (due.length > 0) deps.log.info('board_deadlines_due', { count: due.length, boards: due });
    return { due };
  };
}

function fromEnvironment(env: Record<string, string | undefined>) {
  const config = loadConfig(env);
  if (!config.eventsQueueUrl || !config.bucket) throw new Error('EVENTS_QUEUE_URL and BUCKET: required by the board deadline sweep');
  return createBoardDeadlineHandler({
    blobs: new S3BlobStore({ client: createS3Client(config.aws), bucket: config.bucket }),
    events: new SqsEventBus({ client: createSqsClient(config.aws), queueUrl: config.eventsQueueUrl }),
    log: createLogger({ json: true, level: config.log.level }),
  });
}

let handle: ReturnType<typeof createBoardDeadlineHandler> | undefined;

/** Built on the first invocation and reused while the Lambda instance lives. */
export async function handler(): Promise<{ due: string[] }> {
  handle ??= fromEnvironment(process.env);
  return handle();
}
