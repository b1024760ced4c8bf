/**
 * The dispatcher Lambda drives board headers on AWS: `board_changed` events read from the real events queue (the
 * emulator over HTTP) are handed to functions/dispatch.ts handlers as Lambda SQS batches, by two warm copies. The
 * header is re-rendered with the collage at most once per interval across both copies (a conditional claim per edit
 * in S3); an event that must wait is put back on the queue for the rest of the interval (ChangeMessageVisibility)
 * and reported failed, so SQS brings it back when due and it is shown then; no invocation waits out the interval,
 * so job events in the same batch are not held for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { imagine, pressButton } from '../../bot/commands/index.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { startBoard, type BoardStarted } from '../../bot/boards/actions.ts';
import { SqsEventBus } from '../../core/aws/index.ts';
import { boardKeys, STORAGE_PREFIXES } from '../../core/storage-layout.ts';
import { silentLogger } from '../../core/log.ts';
import { createDispatchHandler } from '../../functions/dispatch.ts';
import { takeJobs } from '../support/drain-jobs.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { RecordingPoster } from '../bot/support/recording-poster.ts';
import { BoardRecordingPoster, finishJob, slackUser } from './support.ts';

const INTERVAL_MS = 2000;

/** What the Lambda event source mapping hands the function: the queue's messages as SQS records. */
async function receiveBatch(emulator: TestEmulator): Promise<SQSRecord[]> {
  const response = await emulator.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: emulator.eventsQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['MessageGroupId', 'ApproximateReceiveCount'] }),
  );
  return (response.Messages ?? []).map((message) => ({
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body!,
    attributes: { ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: message.Attributes?.MessageGroupId ?? '' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:events.fifo',
    awsRegion: 'us-east-1',
  }));
}

/** What Lambda does with the response: deletes every message not reported failed (the failed ones come back when their visibility ends). */
async function deleteSucceeded(emulator: TestEmulator, records: SQSRecord[], failed: Array<{ itemIdentifier: string }>): Promise<void> {
  const failedIds = new Set(failed.map((f) => f.itemIdentifier));
  for (const record of records) if (!failedIds.has(record.messageId)) await emulator.sqs.send(new DeleteMessageCommand({ QueueUrl: emulator.eventsQueueUrl, ReceiptHandle: record.receiptHandle }));
}

const typeOf = (record: SQSRecord) => (JSON.parse(record.body) as { type: string }).type;
const budget = (ms: number) => ({ getRemainingTimeInMillis: () => ms + 3000 });

describe('GIVEN the emulator and two warm copies of the dispatcher Lambda (board header interval 2 s for the test; 30 s deployed)', () => {
  let emulator: TestEmulator;
  let deps: BotDeps;
  const poster = new BoardRecordingPoster('slack');
  const jobPoster = new RecordingPoster('slack');
  let copyA: ReturnType<typeof createDispatchHandler>;
  let copyB: ReturnType<typeof createDispatchHandler>;
  let board: BoardStarted;
  let jobId = '';
  const deferred: Array<{ seconds: number }> = [];

  beforeAll(async () => {
    emulator = await startTestEmulator();
    deps = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 100 };
    const events = new SqsEventBus({ client: emulator.sqs, queueUrl: emulator.eventsQueueUrl });
    const copy = () =>
      createDispatchHandler({
        blobs: emulator.ports.blobs, posters: { slack: Object.assign(jobPoster, { deliverBoardHeader: poster.deliverBoardHeader.bind(poster), postBoardSummary: poster.postBoardSummary.bind(poster) }) },
        log: silentLogger, boardPageBaseUrl: 'https://pages.example/', boardHeaderIntervalMs: INTERVAL_MS,
        deferEvent: async (receiptHandle, seconds) => {
          deferred.push({ seconds });
          await events.defer(receiptHandle, seconds);
        },
      });
    copyA = copy();
    copyB = copy();
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('WHEN a board starts THEN the start event from the queue makes the header (collage, page link on the page function) and is acked', async () => {
    board = (await startBoard(deps, slackUser('host', 'L1'), { name: 'Lambda board', brief: 'neon rain' })) as BoardStarted;
    const records = await receiveBatch(emulator);
    expect(records.map(typeOf)).toEqual(['board_changed']);
    const response = await copyA({ Records: records }, budget(5000));
    await deleteSucceeded(emulator, records, response.batchItemFailures);
    expect(response.batchItemFailures).toEqual([]);
    expect(poster.headers).toHaveLength(1);
    expect(poster.headers[0]!.header.pageUrl).toMatch(new RegExp(`^https://pages\\.example/boards/${board.board.id}\\?t=[A-Za-z0-9_-]{43}$`));
    expect(poster.headers[0]!.collage.bytes.byteLength).toBeGreaterThan(1000);
    expect(await emulator.ports.blobs.list(`${STORAGE_PREFIXES.boardHeaderClaims}${board.board.id}/`)).toHaveLength(1);
  });

  it('WHEN a change comes within the interval, in a batch with a job\'s event THEN the job is delivered at once, the board event goes back for the rest of the interval and is shown when it returns', async () => {
    const reply = await imagine(deps, slackUser('host', 'L1'), 'neon rain over a harbour');
    jobId = (reply as { jobId: string }).jobId;
    await takeJobs(emulator.ports.queue);
    await finishJob(emulator.ports.blobs, jobId);
    await pressButton(deps, slackUser('p1', 'L1'), `pin:${jobId}:1`);
    const edits = poster.headers.length;
    const batch: SQSRecord[] = [];
    for (let i = 0; i < 5 && !(batch.some((r) => typeOf(r) === 'queued') && batch.some((r) => typeOf(r) === 'board_changed')); i++) batch.push(...(await receiveBatch(emulator)));
    expect(batch.map(typeOf).sort()).toEqual(['board_changed', 'queued']);
    // Another copy edited the header just now (whatever the time this setup took on a busy machine).
    await emulator.ports.blobs.put(boardKeys.headerEdited(board.board.id), JSON.stringify({ v: 1, at: Date.now(), readFrom: 0 }), 'application/json');
    const response = await copyB({ Records: batch }, budget(20_000));
    // It did not wait out the interval (it would have rendered and acked): the job's event is delivered and acked,
    // the board's is reported failed and back on the queue for the rest of the interval.
    expect(jobPoster.deliveries.map((d) => d.jobId)).toContain(jobId);
    const boardRecord = batch.find((r) => typeOf(r) === 'board_changed')!;
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: boardRecord.messageId }]);
    expect(deferred.at(-1)!.seconds).toBeGreaterThanOrEqual(1);
    expect(deferred.at(-1)!.seconds).toBeLessThanOrEqual(INTERVAL_MS / 1000);
    expect(poster.headers).toHaveLength(edits);
    await deleteSucceeded(emulator, batch, response.batchItemFailures);
    let again: SQSRecord[] = [];
    for (let i = 0; i < 5 && again.length === 0; i++) again = await receiveBatch(emulator);
    expect(again.map((r) => r.messageId)).toEqual([boardRecord.messageId]);
    expect(again[0]!.attributes.ApproximateReceiveCount).toBe('2');
    const done = await copyA({ Records: again }, budget(5000));
    expect(done.batchItemFailures).toEqual([]);
    await deleteSucceeded(emulator, again, []);
    expect(poster.headers).toHaveLength(edits + 1);
    expect(poster.headers.at(-1)!.header.statusLine).toContain('1/48 pins');
  });

  it('WHEN a storm of changes reaches both copies at once (a redelivery racing the first delivery) THEN edits stay an interval apart, every event is acked in the end, and the last edit shows every change', async () => {
    for (const tile of [2, 3]) await pressButton(deps, slackUser(`p${tile}`, 'L1'), `pin:${jobId}:${tile}`);
    for (const user of ['a', 'b', 'c']) await pressButton(deps, slackUser(user, 'L1'), `vote:${jobId}:2`);
    let acked = 0;
    for (let round = 0; round < 30 && acked < 5; round++) {
      const records = (await receiveBatch(emulator)).filter((r) => typeOf(r) === 'board_changed');
      if (records.length === 0) continue;
      const [a, b] = await Promise.all([copyA({ Records: records }, budget(5000)), copyB({ Records: records }, budget(5000))]);
      // A message is deleted when either copy succeeded with it (the first delete wins; the other's is a no-op).
      const failedByBoth = a.batchItemFailures.filter((f) => b.batchItemFailures.some((g) => g.itemIdentifier === f.itemIdentifier));
      await deleteSucceeded(emulator, records, failedByBoth);
      acked += records.length - failedByBoth.length;
    }
    expect(acked).toBe(5);
    for (let i = 1; i < poster.headers.length; i++) expect(poster.headers[i]!.at - poster.headers[i - 1]!.at).toBeGreaterThanOrEqual(INTERVAL_MS - 50);
    expect(poster.headers.at(-1)!.header.statusLine).toContain('3/48 pins');
    expect(await emulator.ports.blobs.list(`${STORAGE_PREFIXES.boardHeaderClaims}${board.board.id}/`)).toHaveLength(poster.headers.length);
    // Whichever copy rendered, the header's page link is the board's one link, the one the start reply gave.
    expect(new Set(poster.headers.map((h) => h.header.pageUrl))).toEqual(new Set([`https://pages.example/boards/${board.board.id}?t=${board.linkToken}`]));
  }, 40_000);
});
