/**
 * Board deadlines on AWS: functions/board-deadlines.ts run against the emulator's S3 and SQS over HTTP, through a
 * recording proxy. A lapsed board gets exactly one `board_changed` (ended) on the events queue per run, an open one
 * none, an ended one none; the dispatcher Lambda then ends it by its deadline and posts the summary once; and
 * every request the sweep makes is allowed by boardDeadlineStatements, each right granted being used.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SQSRecord } from 'aws-lambda';
import { loadConfig } from '../../core/config.ts';
import { createAwsPorts } from '../../core/aws/index.ts';
import type { JobEvent } from '../../core/job.ts';
import { silentLogger } from '../../core/log.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { endBoard, startBoard, type BoardStarted } from '../../bot/boards/actions.ts';
import { loadEnded } from '../../bot/boards/board-store.ts';
import { createBoardDeadlineHandler } from '../../functions/board-deadlines.ts';
import { createDispatchHandler } from '../../functions/dispatch.ts';
import { boardDeadlineStatements } from '../../infra/iam-policies.ts';
import { authorizationsOf, checkStatements, emulatorArns, startRecordingProxy, type RecordingProxy } from '../infra/aws-request-recorder.ts';
import { settleEvents, startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { BoardRecordingPoster, slackUser } from './support.ts';

describe('GIVEN the emulator, three boards (open, lapsed, ended early) and the deadline sweep Lambda over a recording proxy', () => {
  let emulator: TestEmulator;
  let proxy: RecordingProxy;
  let deps: BotDeps;
  let open: BoardStarted;
  let lapsed: BoardStarted;
  let endedEarly: BoardStarted;
  let sweep: ReturnType<typeof createBoardDeadlineHandler>;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    proxy = await startRecordingProxy(emulator.env().AWS_ENDPOINT_URL!);
    deps = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 10 };
    open = (await startBoard(deps, slackUser('host', 'D1'), { name: 'Open', duration: '2h' })) as BoardStarted;
    // Started three hours ago for two hours: its deadline passed an hour ago and nobody touched it since.
    const past = { ...deps, now: () => Date.now() - 3 * 3_600_000 };
    lapsed = (await startBoard(past, slackUser('host', 'D2'), { name: 'Lapsed', duration: '2h' })) as BoardStarted;
    endedEarly = (await startBoard(past, slackUser('host', 'D3'), { name: 'Ended early', duration: '2h' })) as BoardStarted;
    await endBoard(past, slackUser('host', 'D3'));
    await settleEvents(emulator, []);
    const viaProxy = createAwsPorts(loadConfig({ ...emulator.env(), AWS_ENDPOINT_URL: proxy.url }), { maxAttempts: 1 });
    sweep = createBoardDeadlineHandler({ blobs: viaProxy.blobs, events: viaProxy.events, log: silentLogger });
  });
  afterAll(async () => {
    await proxy?.stop();
    await emulator?.stop();
  });

  it('WHEN the sweep runs THEN only the lapsed board is due, and exactly one "ended" event for it is on the events queue', async () => {
    expect(await sweep()).toEqual({ due: [lapsed.board.id] });
    const events = await settleEvents(emulator, []);
    expect(events).toEqual([expect.objectContaining({ type: 'board_changed', jobId: lapsed.board.id, change: 'ended' })]);
    expect(open.board.id).not.toBe(lapsed.board.id);
    expect(endedEarly.board.id).not.toBe(lapsed.board.id);
  });

  it('WHEN the dispatcher Lambda gets that event THEN the board ends by its deadline, the summary goes out once, and the next sweep finds nothing due', async () => {
    const poster = new BoardRecordingPoster('slack');
    const dispatch = createDispatchHandler({ blobs: emulator.ports.blobs, posters: { slack: poster }, log: silentLogger });
    const event: JobEvent = { v: 1, type: 'board_changed', jobId: lapsed.board.id, change: 'ended', at: Date.now() };
    const record: SQSRecord = {
      messageId: 'm1', receiptHandle: 'rh1', body: JSON.stringify(event),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: event.jobId },
      messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:events.fifo', awsRegion: 'us-east-1',
    };
    expect((await dispatch({ Records: [record] }, { getRemainingTimeInMillis: () => 20_000 })).batchItemFailures).toEqual([]);
    expect(await loadEnded(emulator.ports.blobs, lapsed.board.id)).toMatchObject({ reason: 'deadline', at: lapsed.board.deadline });
    expect(poster.summaries.map((s) => s.boardId)).toEqual([lapsed.board.id]);
    expect(poster.headers.at(-1)!.header.final).toBe(true);
    expect(await sweep()).toEqual({ due: [] });
  });

  it('THEN every request of the sweep is allowed by its statements, and every right granted is used', () => {
    const region = emulator.config.aws.region;
    const arns = emulatorArns(emulator);
    const authorizations = proxy.requests.flatMap((r) => authorizationsOf(r, region));
    expect(checkStatements(boardDeadlineStatements(arns), authorizations)).toEqual({ denied: [], unused: [] });
  });
});
