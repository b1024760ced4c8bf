/**
 * The Lambda roles' IAM statements, derived from what the bot code really calls: the front-end commands
 * (settings, /imagine accepted and refused at the cap, usage, U2, cancel, info, show, delete) and the
 * events dispatcher's Lambda handler run over the emulator through a recording proxy; every SQS/S3
 * request must be allowed by frontEndStatements / dispatcherStatements, and every SQS/S3 right granted
 * must be used. (Auto Scaling calls of the dispatcher and scaler are fixed commands, see fleet-control.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SQSRecord } from 'aws-lambda';
import { loadConfig } from '../../core/config.ts';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createAwsPorts, SqsEventBus } from '../../core/aws/index.ts';
import { type Job, type JobEvent, type Result } from '../../core/job.ts';
import { boardKeys, jobKeys } from '../../core/storage-layout.ts';
import { silentLogger } from '../../core/log.ts';
import { cancel, imagine, jobInfo, pressButton, settings, show, usage, type BotDeps, type CommandContext } from '../../bot/commands/index.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { endBoard, startBoard } from '../../bot/boards/actions.ts';
import { createDispatchHandler } from '../../functions/dispatch.ts';
import { dispatcherStatements, frontEndStatements, type AppArns } from '../../infra/iam-policies.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { RecordingPoster } from '../bot/support/recording-poster.ts';
import { importClosure } from './import-closure.ts';
import { authorizationsOf, checkStatements, emulatorArns, startRecordingProxy, type RecordingProxy } from './aws-request-recorder.ts';

const requester = { platform: 'web' as const, userId: 'perm-user', channelId: 'playground' };
let source = 0;
const ctx = (): CommandContext => ({ requester, delivery: { platform: 'web', sessionId: 's1' }, sourceId: `web:perm-${++source}`, channel: { ageRestricted: false } });

function resultFor(job: Job): Result {
  return {
    v: 1, jobId: job.id, kind: job.kind, width: 64, height: 64,
    grid: { key: jobKeys.grid(job.id), width: 128, height: 128, contentType: 'image/png' },
    images: [1, 2, 3, 4].map((index) => ({ index, key: jobKeys.image(job.id, index), width: 64, height: 64, seed: index, latent: { key: jobKeys.latents(job.id), dims: [16, 2, 2] as [number, number, number], dtype: 'float32' as const, offset: (index - 1) * 16 * 2 * 2 * 4 } })),
    model: { name: 'test', variant: 'x' }, timings: { total: 1 }, finishedAt: new Date().toISOString(), runnerId: 'r1',
  };
}

function sqsRecord(event: JobEvent, n: number): SQSRecord {
  return {
    messageId: `m${n}`, receiptHandle: `rh${n}`, body: JSON.stringify(event),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: event.jobId },
    messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:events.fifo', awsRegion: 'us-east-1',
  };
}

describe('GIVEN the front-end commands and the dispatcher Lambda over a recording proxy', () => {
  let emulator: TestEmulator;
  let frontProxy: RecordingProxy;
  let dispatchProxy: RecordingProxy;
  let arns: AppArns;
  const replies: string[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator();
    frontProxy = await startRecordingProxy(emulator.env().AWS_ENDPOINT_URL!);
    dispatchProxy = await startRecordingProxy(emulator.env().AWS_ENDPOINT_URL!);
    arns = emulatorArns(emulator);
    const viaProxy = (proxy: RecordingProxy) => createAwsPorts(loadConfig({ ...emulator.env(), AWS_ENDPOINT_URL: proxy.url }), { maxAttempts: 1 });

    // Front end: the commands a Discord/Slack function runs.
    const deps: BotDeps = { ...viaProxy(frontProxy), moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 1 };
    const note = (reply: { kind: string; code?: string }) => replies.push(reply.code ? `${reply.kind}:${reply.code}` : reply.kind);
    note(await settings(deps, ctx(), { scope: 'user', options: '--ar 3:2' }));
    const accepted = await imagine(deps, ctx(), 'a fox in the snow');
    note(accepted);
    note(await imagine(deps, ctx(), 'a second fox'));
    note(await usage(deps, ctx()));
    if (accepted.kind !== 'accepted') throw new Error(`imagine was not accepted: ${JSON.stringify(accepted)}`);
    const job = JSON.parse(new TextDecoder().decode((await emulator.ports.blobs.get(jobKeys.job(accepted.jobId)))!)) as Job;
    // The runner's part, written directly (not recorded): the result and the grid, and the user's slot freed.
    await emulator.ports.blobs.put(jobKeys.result(job.id), JSON.stringify(resultFor(job)), 'application/json');
    await emulator.ports.blobs.put(jobKeys.grid(job.id), new Uint8Array([137, 80, 78, 71]), 'image/png');
    await emulator.ports.blobs.delete(await emulator.ports.blobs.list('pending/'));
    const upscale = await pressButton(deps, ctx(), `upscale:${job.id}:2`);
    note(upscale);
    const childId = 'jobId' in upscale ? String(upscale.jobId) : '';
    note(await cancel(deps, ctx(), childId));
    note(await jobInfo(deps, job.id));
    note(await show(deps, ctx(), job.id, 8 * 1024 * 1024));
    note(await pressButton(deps, ctx(), `delete:${job.id}:0`));
    // A mood board: start, a job made in it, pin, vote and unvote, end.
    await emulator.ports.blobs.delete(await emulator.ports.blobs.list('pending/'));
    note(await startBoard(deps, ctx(), { name: 'Permissions board' }));
    const inBoard = await imagine(deps, ctx(), 'a fox on the board');
    note(inBoard);
    const boardJob = JSON.parse(new TextDecoder().decode((await emulator.ports.blobs.get(jobKeys.job('jobId' in inBoard ? String(inBoard.jobId) : '')))!)) as Job;
    await emulator.ports.blobs.put(jobKeys.result(boardJob.id), JSON.stringify(resultFor(boardJob)), 'application/json');
    note(await pressButton(deps, ctx(), `pin:${boardJob.id}:1`));
    note(await pressButton(deps, ctx(), `vote:${boardJob.id}:1`));
    note(await pressButton(deps, ctx(), `vote:${boardJob.id}:1`));
    note(await endBoard(deps, ctx()));
    // A second board, started three hours ago for two: its deadline passed, and the dispatcher is the one to end it.
    const lapsed = await startBoard({ ...deps, now: () => Date.now() - 3 * 3_600_000 }, ctx(), { name: 'Lapsed board', duration: '2h' });
    note(lapsed);
    const boardIds = [...new Set((await emulator.ports.blobs.list('boards/')).map((key) => key.split('/')[1]!))];

    // Dispatcher: a fresh job's events through the Lambda handler.
    const other = { ...job, id: `${job.id}-d`, createdAt: new Date().toISOString() } as Job;
    await emulator.ports.blobs.put(jobKeys.job(other.id), JSON.stringify(other), 'application/json');
    await emulator.ports.blobs.put(jobKeys.result(other.id), JSON.stringify(resultFor(other)), 'application/json');
    await emulator.ports.blobs.put(jobKeys.grid(other.id), new Uint8Array([137, 80, 78, 71]), 'image/png');
    const dispatchPorts = viaProxy(dispatchProxy);
    const deferVia = dispatchPorts.events instanceof SqsEventBus ? dispatchPorts.events : undefined;
    const handle = createDispatchHandler({
      blobs: dispatchPorts.blobs, posters: { web: new RecordingPoster('web') }, log: silentLogger,
      ...(deferVia ? { deferEvent: (receiptHandle: string, seconds: number) => deferVia.defer(receiptHandle, seconds) } : {}),
    });
    const at = Date.now();
    const events: JobEvent[] = [
      { v: 1, type: 'queued', jobId: other.id, at, position: 1 },
      { v: 1, type: 'started', jobId: other.id, at: at + 1, runnerId: 'r1', attempt: 1 },
      { v: 1, type: 'completed', jobId: other.id, at: at + 2, resultKey: jobKeys.result(other.id) },
    ];
    const response = await handle({ Records: events.map(sqsRecord) }, { getRemainingTimeInMillis: () => 8000 });
    replies.push(`dispatch:${response.batchItemFailures.length}`);
    // Both boards' changes: the ended one gets its header, exports and summary; the lapsed one is ended by its deadline.
    const boardEvents: JobEvent[] = boardIds.map((id) => ({ v: 1, type: 'board_changed', jobId: id, change: 'ended', at: Date.now() }));
    const boardResponse = await handle({ Records: boardEvents.map((event, i) => sqsRecord(event, 100 + i)) }, { getRemainingTimeInMillis: () => 20_000 });
    replies.push(`boards:${boardIds.length}:${boardResponse.batchItemFailures.length}`);
    replies.push(`summaries:${(await emulator.ports.blobs.list('boards/')).filter((key) => key.endsWith('/summary.json')).length}`);
    // The boards' own events from the queue (what the commands published) and a change made just now, moments after
    // the headers were made: within the 30-s pace, so the board's events go back to the queue for the rest of it.
    await emulator.ports.events.publish({ v: 1, type: 'board_changed', jobId: boardIds[0]!, change: 'voted', at: Date.now() });
    const queued = await emulator.sqs.send(new ReceiveMessageCommand({ QueueUrl: emulator.eventsQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    const boardMessages = (queued.Messages ?? []).filter((m) => (JSON.parse(m.Body ?? '{}') as { type?: string }).type === 'board_changed');
    const deferred = await handle({ Records: boardMessages.map((m, i) => ({ ...sqsRecord(JSON.parse(m.Body!) as JobEvent, 200 + i), receiptHandle: m.ReceiptHandle! })) }, { getRemainingTimeInMillis: () => 8000 });
    replies.push(`deferred:${deferred.batchItemFailures.length > 0}`);
    // Another live copy holds the claim to the next edit (the last edit was a minute ago): this copy reads that
    // claim (board-header-claims/) and hands the event back to the queue as well.
    const raced = boardIds[0]!;
    const editedAt = Date.now() - 60_000;
    await emulator.ports.blobs.put(boardKeys.headerEdited(raced), JSON.stringify({ v: 1, at: editedAt }), 'application/json');
    await emulator.ports.blobs.put(boardKeys.headerClaim(raced, editedAt, 0), JSON.stringify({ v: 1, at: Date.now(), by: 'another-copy' }), 'application/json');
    // (The event comes straight to the handler: on the FIFO queue this board's group is still held by the event deferred
    // just above, so a published one would not be received yet.)
    const lost = await handle({ Records: [sqsRecord({ v: 1, type: 'board_changed', jobId: raced, change: 'voted', at: Date.now() }, 300)] }, { getRemainingTimeInMillis: () => 8000 });
    replies.push(`lost:${lost.batchItemFailures.length}`);
  }, 60_000);

  afterAll(async () => {
    await frontProxy?.stop();
    await dispatchProxy?.stop();
    await emulator?.stop();
  });

  it('THEN each command did its real work (so its code path was recorded)', () => {
    expect(replies).toEqual(['done', 'accepted', 'rejected:too_many_pending', 'info', 'accepted', 'done', 'info', 'show', 'done', 'board_started', 'accepted', 'done', 'done', 'done', 'done', 'board_started', 'dispatch:0', 'boards:2:0', 'summaries:2', 'deferred:true', 'lost:1']);
  });

  it('THEN every front-end request is allowed by the front-end statements, and every SQS/S3 right granted is used', () => {
    const authorizations = frontProxy.requests.flatMap((r) => authorizationsOf(r, emulator.config.aws.region));
    expect(checkStatements(frontEndStatements(arns), authorizations)).toEqual({ denied: [], unused: [] });
  });

  it('THEN every dispatcher request is allowed by the dispatcher statements, and it deletes only the "board open here" marker of a board it ended', () => {
    const authorizations = dispatchProxy.requests.flatMap((r) => authorizationsOf(r, emulator.config.aws.region));
    expect(authorizations.some((a) => a.action === 's3:PutObject')).toBe(true);
    const deleted = authorizations.filter((a) => a.action === 's3:DeleteObject').map((a) => a.resource);
    expect(deleted).toHaveLength(1);
    expect(deleted[0]).toMatch(/:::[^/]+\/board-places\//);
    const { denied, unused } = checkStatements(dispatcherStatements(arns), authorizations);
    expect(denied).toEqual([]);
    // Its only SQS right (GetQueueAttributes, for the fleet nudge) is exercised by the reconcile, not by deliveries.
    expect(unused).toEqual(['ReadJobsDepth: sqs:GetQueueAttributes']);
  });
});

describe('Auto Scaling rights follow the code', () => {
  const arns = {
    jobsQueue: 'arn:aws:sqs:eu-west-1:1:j.fifo', jobsDlq: 'arn:aws:sqs:eu-west-1:1:d.fifo', eventsQueue: 'arn:aws:sqs:eu-west-1:1:e.fifo', bucket: 'arn:aws:s3:::b',
    fleetGroup: 'arn:aws:autoscaling:eu-west-1:1:autoScalingGroup:x:autoScalingGroupName/g', runnerRepository: 'arn:aws:ecr:eu-west-1:1:repository/r', runnerLogGroup: 'arn:aws:logs:eu-west-1:1:log-group:/l',
  };
  const roles = [
    { handler: 'functions/discord-interactions.ts', statements: frontEndStatements(arns) },
    { handler: 'functions/slack-events.ts', statements: frontEndStatements(arns) },
    { handler: 'functions/dispatch.ts', statements: dispatcherStatements(arns) },
  ];
  it.each(roles)('GIVEN $handler THEN it may describe the fleet exactly when its code imports the Auto Scaling adapter', ({ handler, statements }) => {
    const { files } = importClosure(handler);
    const usesFleet = [...files].some((file) => file.endsWith('core/aws/auto-scaling-fleet.ts'));
    const mayDescribe = statements.some((s) => s.Action.includes('autoscaling:DescribeAutoScalingGroups'));
    // A front end that starts passing fleetStatusFromEnvironment() as `fleet` needs describeFleet in frontEndStatements.
    expect(mayDescribe, `${handler}: imports the fleet adapter = ${usesFleet}, but may describe = ${mayDescribe}`).toBe(usesFleet);
  });
});
