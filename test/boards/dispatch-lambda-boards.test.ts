/**
 * The dispatcher Lambda drives board headers on AWS: `board_changed` events read from the real events queue (the
 * emulator over HTTP) are handed to functions/dispatch.ts handlers as Lambda SQS batches, by two warm copies at once.
 * The header is re-rendered with the collage, at most once per interval across both copies (a conditional claim
 * per edit in S3), each event is acked only once a render saw it, and an event whose invocation ends before its
 * render is reported failed, so SQS redelivers it and another copy renders it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { imagine, pressButton } from '../../bot/commands/index.js';
import type { BotDeps } from '../../bot/commands/context.js';
import { createModerationPolicy } from '../../bot/moderation.js';
import { startBoard, type BoardStarted } from '../../bot/boards/actions.js';
import { boardKeys } from '../../core/storage-layout.js';
import { silentLogger } from '../../core/log.js';
import { createDispatchHandler } from '../../functions/dispatch.js';
import { takeJobs } from '../support/drain-jobs.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { BoardRecordingPoster, finishJob, slackUser } from './support.js';

const INTERVAL_MS = 1000;

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

/** What Lambda does with the response: deletes the messages not reported failed, and (here at once) lets the failed ones come back. */
async function settle(emulator: TestEmulator, records: SQSRecord[], failed: Array<{ itemIdentifier: string }>): Promise<void> {
  const failedIds = new Set(failed.map((f) => f.itemIdentifier));
  for (const record of records) {
    if (failedIds.has(record.messageId)) await emulator.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: emulator.eventsQueueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 0 }));
    else await emulator.sqs.send(new DeleteMessageCommand({ QueueUrl: emulator.eventsQueueUrl, ReceiptHandle: record.receiptHandle }));
  }
}

const typeOf = (record: SQSRecord) => (JSON.parse(record.body) as { type: string }).type;
const budget = (ms: number) => ({ getRemainingTimeInMillis: () => ms + 3000 });

describe('GIVEN the emulator and two warm copies of the dispatcher Lambda (board header interval 1 s for the test; 30 s deployed)', () => {
  let emulator: TestEmulator;
  let deps: BotDeps;
  const poster = new BoardRecordingPoster('slack');
  let copyA: ReturnType<typeof createDispatchHandler>;
  let copyB: ReturnType<typeof createDispatchHandler>;
  let board: BoardStarted;
  let jobId = '';

  beforeAll(async () => {
    emulator = await startTestEmulator();
    deps = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 100 };
    const copy = () => createDispatchHandler({ blobs: emulator.ports.blobs, posters: { slack: poster }, log: silentLogger, boardPageBaseUrl: 'https://pages.example/', boardHeaderIntervalMs: INTERVAL_MS });
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
    await settle(emulator, records, response.batchItemFailures);
    expect(response.batchItemFailures).toEqual([]);
    expect(poster.headers).toHaveLength(1);
    expect(poster.headers[0]!.header.pageUrl).toMatch(new RegExp(`^https://pages\\.example/boards/${board.board.id}\\?t=[A-Za-z0-9_-]{43}$`));
    expect(poster.headers[0]!.collage.bytes.byteLength).toBeGreaterThan(1000);
    expect(await emulator.ports.blobs.list(boardKeys.prefix(board.board.id) + 'header-claims/')).toHaveLength(1);
  });

  it('WHEN pins and votes arrive and both copies get the board\'s events at once THEN edits stay an interval apart, the last shows every change, and every event is acked', async () => {
    const reply = await imagine(deps, slackUser('host', 'L1'), 'neon rain over a harbour');
    jobId = (reply as { jobId: string }).jobId;
    await takeJobs(emulator.ports.queue);
    await finishJob(emulator.ports.blobs, jobId);
    for (const tile of [1, 2, 3]) await pressButton(deps, slackUser(`p${tile}`, 'L1'), `pin:${jobId}:${tile}`);
    for (const user of ['a', 'b', 'c']) await pressButton(deps, slackUser(user, 'L1'), `vote:${jobId}:2`);
    // SQS hands a FIFO group's messages out a batch at a time; each batch goes to both copies at once, as when a
    // redelivery races the first delivery (or a copy's timer outlives its invocation).
    let boardEvents = 0;
    for (let round = 0; round < 20 && boardEvents < 6; round++) {
      const received = await receiveBatch(emulator);
      const jobEvents = received.filter((r) => typeOf(r) !== 'board_changed');
      await settle(emulator, jobEvents, []);
      const records = received.filter((r) => typeOf(r) === 'board_changed');
      if (records.length === 0) continue;
      boardEvents += records.length;
      const [a, b] = await Promise.all([copyA({ Records: records }, budget(8000)), copyB({ Records: records }, budget(8000))]);
      expect(a.batchItemFailures).toEqual([]);
      expect(b.batchItemFailures).toEqual([]);
      await settle(emulator, records, []);
    }
    expect(boardEvents).toBe(6);
    for (let i = 1; i < poster.headers.length; i++) expect(poster.headers[i]!.at - poster.headers[i - 1]!.at).toBeGreaterThanOrEqual(INTERVAL_MS - 50);
    expect(poster.headers.at(-1)!.header.statusLine).toContain('3/48 pins');
    const claims = await emulator.ports.blobs.list(boardKeys.prefix(board.board.id) + 'header-claims/');
    expect(claims).toHaveLength(poster.headers.length);
  });

  it('WHEN an invocation ends while its change still waits out the interval THEN the event is reported failed, and the redelivery to the other copy renders it', async () => {
    const edits = poster.headers.length;
    const codeBefore = poster.headers.at(-1)!.header.code;
    await pressButton(deps, slackUser('d', 'L1'), `vote:${jobId}:3`);
    const first = await receiveBatch(emulator);
    expect(first).toHaveLength(1);
    // The last edit was moments ago: this copy would have to wait ~1 s but has 100 ms left.
    const cut = await copyA({ Records: first }, budget(100));
    expect(cut.batchItemFailures).toEqual([{ itemIdentifier: first[0]!.messageId }]);
    await settle(emulator, first, cut.batchItemFailures);
    const again = await receiveBatch(emulator);
    expect(again.map((r) => r.messageId)).toEqual([first[0]!.messageId]);
    expect(again[0]!.attributes.ApproximateReceiveCount).toBe('2');
    const done = await copyB({ Records: again }, budget(8000));
    expect(done.batchItemFailures).toEqual([]);
    await settle(emulator, again, []);
    expect(poster.headers.length).toBeGreaterThan(edits);
    // The vote made a new frozen version: the header carries its new code.
    expect(poster.headers.at(-1)!.header.code).not.toBe(codeBefore);
    // Copy A's own render, still scheduled from the cut invocation, never edits within an interval of B's.
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 2));
    for (let i = 1; i < poster.headers.length; i++) expect(poster.headers[i]!.at - poster.headers[i - 1]!.at).toBeGreaterThanOrEqual(INTERVAL_MS - 50);
  });
});
