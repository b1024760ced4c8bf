/**
 * Events dispatcher Lambda, subscribed to the events queue: a thin adapter around bot/dispatcher.ts.
 *
 * One Dispatcher per warm Lambda instance, not per batch: its per-job state (last edit time, the job
 * record, what was delivered) carries over from one invocation to the next, so the 2-second edit pacing
 * holds across batches and a job's records are read from S3 once, not once per batch. (Everything needed
 * to deliver is still in S3: a cold instance simply starts empty.)
 *
 * Per invocation: if the batch holds a `queued` event, nudge the GPU fleet first (the fast path from
 * zero: the fleet starts growing seconds after the first job, not at the next scheduled scaler run);
 * then fold the batch into the dispatcher, wait until it is idle or the invocation is about to time out,
 * and report what it did not ack as batch item failures so SQS redelivers exactly those. A delivery still
 * pending at the deadline stays scheduled: it resumes when the instance is next invoked.
 *
 * Mood boards: `board_changed` events are handled here, not by the Dispatcher's timers (an instance may be frozen
 * or dropped before a timer fires). Per board in the batch, one BoardHeaderUpdater.renderIfDue: the collage and
 * header are re-rendered now if the 30-s pace allows and this instance wins the edit's conditional claim in S3
 * (at most one edit per 30 s across all instances, bot/boards/header-updater.ts), and the events are acked; else
 * they go back to the queue for as long as the pace still asks (ChangeMessageVisibility) and are reported failed,
 * so SQS redelivers them when due. Nothing waits out the pace inside an invocation, so the job events that share
 * a batch with a board's are not held in flight for it.
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { loadConfig, type Config } from '../core/config.ts';
import { createS3Client, createSqsClient, S3BlobStore, SqsEventBus, SqsJobQueue } from '../core/aws/index.ts';
import { AutoScalingFleet } from '../core/aws/auto-scaling-fleet.ts';
import { createLogger, type Logger } from '../core/log.ts';
import type { BlobStore } from '../core/ports.ts';
import { Dispatcher } from '../bot/dispatcher.ts';
import { BoardHeaderUpdater } from '../bot/boards/header-updater.ts';
import type { FleetStatus } from '../bot/fleet.ts';
import type { PosterRegistry } from '../bot/poster.ts';
import { blobMessageIds, createDiscordRest, DiscordRestPoster } from '../bot/discord/rest-poster.ts';
import { SlackPoster } from '../bot/slack/poster.ts';
import { createSlackClient } from '../bot/slack/web-client.ts';
import { loadFleetControlSettings, reconcileFleet, type ReconcileDeps } from './fleet-reconcile.ts';
import { batchItemFailures, InvocationAcks, toReceivedEvent } from './sqs-event-batch.ts';

/** Stop waiting for deliveries this long before the Lambda timeout; what is undelivered is redelivered. */
const DEADLINE_MARGIN_MS = 3000;

export interface DispatchDeps {
  blobs: BlobStore;
  posters: PosterRegistry;
  fleet?: FleetStatus;
  /** Grows the fleet when jobs were queued; never shrinks it. */
  nudgeFleet?: () => Promise<unknown>;
  log: Logger;
  /** The board page function's URL: header and summary links point there. */
  boardPageBaseUrl?: string;
  /** Header pacing per board (default 30 s; tests shorten it). */
  boardHeaderIntervalMs?: number;
  /** Puts a received event back on the queue for `seconds` (SQS ChangeMessageVisibility); without it, SQS's visibility timeout decides. */
  deferEvent?: (receiptHandle: string, seconds: number) => Promise<void>;
  now?: () => number;
}

export function createDispatchHandler(deps: DispatchDeps) {
  const bus = new InvocationAcks();
  const boards = new BoardHeaderUpdater({
    blobs: deps.blobs,
    posters: deps.posters,
    ...(deps.boardPageBaseUrl ? { pageBaseUrl: deps.boardPageBaseUrl } : {}),
    ...(deps.boardHeaderIntervalMs !== undefined ? { minIntervalMs: deps.boardHeaderIntervalMs } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    log: (event, fields) => deps.log.warn(event, { component: 'boards', ...fields }),
  });
  const dispatcher = new Dispatcher({
    events: bus,
    blobs: deps.blobs,
    posters: deps.posters,
    ...(deps.fleet ? { fleet: deps.fleet } : {}),
    log: deps.log,
  });

  /** One render attempt per board of the batch; its events are acked when shown, else deferred for as long as needed. */
  async function handleBoardChanges(changes: Array<{ record: SQSRecord; boardId: string; at: number }>): Promise<void> {
    const byBoard = new Map<string, typeof changes>();
    for (const change of changes) byBoard.set(change.boardId, [...(byBoard.get(change.boardId) ?? []), change]);
    await Promise.all(
      [...byBoard].map(async ([boardId, events]) => {
        const changedAt = Math.max(...events.map((e) => e.at));
        const attempt = Math.max(...events.map((e) => Number(e.record.attributes.ApproximateReceiveCount) || 1));
        const outcome = await boards.renderIfDue(boardId, changedAt, attempt).catch((error: unknown) => {
          deps.log.warn('board_header_failed', { boardId, error });
          return { kind: 'later' as const, inMs: 5000 };
        });
        if (outcome.kind === 'shown') {
          for (const e of events) await bus.ack(e.record.receiptHandle);
          return;
        }
        const seconds = Math.max(1, Math.ceil(outcome.inMs / 1000));
        const defer = deps.deferEvent;
        if (defer) await Promise.all(events.map((e) => defer(e.record.receiptHandle, seconds).catch((error: unknown) => deps.log.warn('board_event_defer_failed', { boardId, error }))));
      }),
    );
  }
  return async (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> => {
    const records = event.Records;
    const received = records.map(toReceivedEvent);
    if (deps.nudgeFleet && received.some((item) => item.event?.type === 'queued')) {
      // A failed nudge only delays scaling until the scheduled scaler runs; deliveries go on.
      await deps.nudgeFleet().catch((error: unknown) => deps.log.warn('fleet_nudge_failed', { error }));
    }
    const acked = bus.begin();
    const boardChanges = records.flatMap((record, i) => {
      const parsed = received[i]!.event;
      return parsed?.type === 'board_changed' ? [{ record, boardId: parsed.jobId, at: parsed.at }] : [];
    });
    const boardsDone = handleBoardChanges(boardChanges);
    await dispatcher.handleBatch(received.filter((item) => item.event?.type !== 'board_changed'));
    const budgetMs = (context?.getRemainingTimeInMillis() ?? 60_000) - DEADLINE_MARGIN_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all([dispatcher.idle(), boardsDone]), new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, budgetMs))))]);
    clearTimeout(timer);
    const failures = batchItemFailures(records, acked);
    if (failures.length > 0) deps.log.warn('events_redelivered', { count: failures.length, of: records.length });
    return { batchItemFailures: failures };
  };
}

function postersFrom(config: Config, blobs: BlobStore): PosterRegistry {
  const posters: PosterRegistry = {};
  if (config.discord.applicationId) {
    const rest = createDiscordRest(config.discord.token ? { token: config.discord.token } : {});
    posters.discord = new DiscordRestPoster({ rest, hasBotToken: config.discord.token !== undefined, messageIds: blobMessageIds(blobs) });
  }
  if (config.slack.botToken) posters.slack = new SlackPoster({ client: createSlackClient(config.slack.botToken) });
  return posters;
}

function fromEnvironment(env: Record<string, string | undefined>) {
  const config = loadConfig(env);
  const settings = loadFleetControlSettings(env);
  if (!config.jobsQueueUrl || !config.eventsQueueUrl || !config.bucket) throw new Error('JOBS_QUEUE_URL, EVENTS_QUEUE_URL and BUCKET: required by the events dispatcher');
  const events = new SqsEventBus({ client: createSqsClient(config.aws), queueUrl: config.eventsQueueUrl });
  const blobs = new S3BlobStore({ client: createS3Client(config.aws), bucket: config.bucket });
  const fleet = new AutoScalingFleet({ client: new AutoScalingClient({ region: config.aws.region }), groupName: settings.groupName });
  const control: ReconcileDeps = { fleet, backlog: new SqsJobQueue({ client: createSqsClient(config.aws), queueUrl: config.jobsQueueUrl }), settings };
  return createDispatchHandler({
    blobs,
    posters: postersFrom(config, blobs),
    fleet,
    nudgeFleet: () => reconcileFleet(control, 'nudge'),
    deferEvent: (receiptHandle, seconds) => events.defer(receiptHandle, seconds),
    ...(config.boards.pageBaseUrl ? { boardPageBaseUrl: config.boards.pageBaseUrl } : {}),
    log: createLogger({ json: true, level: config.log.level }),
  });
}

let handle: ReturnType<typeof createDispatchHandler> | undefined;

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  handle ??= fromEnvironment(process.env);
  return handle(event, context);
}
