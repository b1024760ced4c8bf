import { describe, expect, it } from 'vitest';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { type JobEvent } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { silentLogger } from '../../core/log.ts';
import { recordingLogger } from '../support/recording-logger.ts';
import { DeliveryError } from '../../bot/poster.ts';
import { createDispatchHandler } from '../../functions/dispatch.ts';
import { batchItemFailures } from '../../functions/sqs-event-batch.ts';
import { MemoryBlobStore } from '../bot/support/memory-ports.ts';
import { makeJob, makeResult, storeJob } from '../bot/support/fixtures.ts';
import { RecordingPoster } from '../bot/support/recording-poster.ts';

let sequence = 0;
function record(body: JobEvent | string, group?: string): SQSRecord {
  sequence++;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    messageId: `m${sequence}`,
    receiptHandle: `rh${sequence}`,
    body: text,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: '0',
      ...(group ?? (typeof body === 'string' ? undefined : body.jobId) ? { MessageGroupId: group ?? (body as JobEvent).jobId } : {}),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:events.fifo',
    awsRegion: 'eu-west-1',
  };
}
const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
/** Leaves 500 ms for deliveries before the handler's 3 s safety margin. */
const context = { getRemainingTimeInMillis: () => 3500 };

const at = Date.parse('2026-11-26T10:00:00Z');
const jobA = makeJob({ id: 'ja' });
// Another channel: the dispatcher spaces edits per channel, and this test's budget is short.
const jobB = makeJob({ id: 'jb', requester: { platform: 'discord', userId: 'bob', channelId: 'c2' } });

function setup() {
  const blobs = new MemoryBlobStore();
  storeJob(blobs, jobA, makeResult(jobA));
  storeJob(blobs, jobB, makeResult(jobB));
  void blobs.put(jobKeys.grid(jobA.id), new Uint8Array([1, 2, 3]), 'image/png');
  void blobs.put(jobKeys.grid(jobB.id), new Uint8Array([4, 5, 6]), 'image/png');
  const poster = new RecordingPoster('web');
  let nudges = 0;
  const nudgeFleet = async () => {
    nudges++;
  };
  return { blobs, poster, nudgeFleet, nudges: () => nudges };
}

describe('events dispatcher Lambda adapter', () => {
  it('GIVEN a batch with a queued event THEN the fleet is nudged once, messages are delivered and nothing is reported failed', async () => {
    const s = setup();
    const handle = createDispatchHandler({ blobs: s.blobs, posters: { web: s.poster }, nudgeFleet: s.nudgeFleet, log: silentLogger });
    const response = await handle(
      batch(record({ v: 1, type: 'queued', jobId: 'ja', at, position: 2 }), record({ v: 1, type: 'queued', jobId: 'jb', at, position: 3 })),
      context,
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(s.nudges()).toBe(1);
    expect(s.poster.deliveries.map((d) => d.jobId).sort()).toEqual(['ja', 'jb']);
  });

  it('GIVEN no queued event THEN the fleet is not nudged', async () => {
    const s = setup();
    const handle = createDispatchHandler({ blobs: s.blobs, posters: { web: s.poster }, nudgeFleet: s.nudgeFleet, log: silentLogger });
    await handle(batch(record({ v: 1, type: 'started', jobId: 'ja', at, runnerId: 'i-1', attempt: 1 })), context);
    expect(s.nudges()).toBe(0);
  });

  it('GIVEN a final event that cannot be delivered THEN it and the later events of its job come back, the other job\'s do not', async () => {
    const s = setup();
    const failing = new RecordingPoster('web');
    for (let i = 0; i < 20; i++) failing.failures.push(new DeliveryError('chat API down', true));
    const handle = createDispatchHandler({ blobs: s.blobs, posters: { web: failing }, log: silentLogger });
    const completedA = record({ v: 1, type: 'completed', jobId: 'ja', at, resultKey: jobKeys.result('ja') });
    const laterA = record({ v: 1, type: 'progress', jobId: 'ja', at: at + 1, stage: 'vqgan', step: 1, steps: 1, fraction: 1 });
    const startedB = record({ v: 1, type: 'started', jobId: 'jb', at, runnerId: 'i-1', attempt: 1 });
    const response = await handle(batch(completedA, startedB, laterA), context);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: completedA.messageId }, { itemIdentifier: laterA.messageId }]);
  });

  it('GIVEN the nudge fails THEN deliveries still happen and the failure is logged', async () => {
    const s = setup();
    const log = recordingLogger();
    const handle = createDispatchHandler({
      blobs: s.blobs,
      posters: { web: s.poster },
      nudgeFleet: async () => {
        throw new Error('throttled');
      },
      log,
    });
    const response = await handle(batch(record({ v: 1, type: 'queued', jobId: 'ja', at, position: 1 })), context);
    expect(response.batchItemFailures).toEqual([]);
    expect(s.poster.deliveries).toHaveLength(1);
    expect(log.lines).toContainEqual({ level: 'warn', event: 'fleet_nudge_failed', fields: { error: expect.any(Error) } });
  });

  it('GIVEN an unreadable body THEN it is dropped (acked), not redelivered forever', async () => {
    const s = setup();
    const handle = createDispatchHandler({ blobs: s.blobs, posters: { web: s.poster }, nudgeFleet: s.nudgeFleet, log: silentLogger });
    const response = await handle(batch(record('{"type":"queued"', 'ja')), context);
    expect(response.batchItemFailures).toEqual([]);
    expect(s.nudges()).toBe(0);
  });
});

describe('events dispatcher Lambda across warm invocations', () => {
  it('GIVEN two batches a moment apart on the same warm instance THEN the second edit still waits out the 2 s pacing, and the job record is read once', async () => {
    const s = setup();
    const reads: string[] = [];
    const get = s.blobs.get.bind(s.blobs);
    s.blobs.get = async (key: string) => {
      reads.push(key);
      return get(key);
    };
    const handle = createDispatchHandler({ blobs: s.blobs, posters: { web: s.poster }, log: silentLogger });
    const long = { getRemainingTimeInMillis: () => 6000 };
    await handle(batch(record({ v: 1, type: 'started', jobId: 'ja', at, runnerId: 'i-1', attempt: 1 })), long);
    const firstAt = s.poster.deliveries[0]!.at;
    const response = await handle(batch(record({ v: 1, type: 'progress', jobId: 'ja', at: at + 1, stage: 'prior', step: 5, steps: 20, fraction: 0.25 })), long);
    expect(response.batchItemFailures).toEqual([]);
    expect(s.poster.deliveries).toHaveLength(2);
    // A fresh dispatcher per batch would have sent at once (it would not know the first edit).
    expect(s.poster.deliveries[1]!.at - firstAt).toBeGreaterThanOrEqual(1900);
    expect(reads.filter((key) => key === jobKeys.job('ja'))).toHaveLength(1);
  });

  it('GIVEN a final event delivered in an earlier invocation THEN a redelivered copy is acked without another delivery', async () => {
    const s = setup();
    const handle = createDispatchHandler({ blobs: s.blobs, posters: { web: s.poster }, log: silentLogger });
    await handle(batch(record({ v: 1, type: 'completed', jobId: 'jb', at, resultKey: jobKeys.result('jb') })), context);
    expect(s.poster.deliveries).toHaveLength(1);
    const again = await handle(batch(record({ v: 1, type: 'completed', jobId: 'jb', at, resultKey: jobKeys.result('jb') })), context);
    expect(again.batchItemFailures).toEqual([]);
    expect(s.poster.deliveries).toHaveLength(1);
  });
});

describe('batchItemFailures', () => {
  it('GIVEN an unacked message in a FIFO group THEN every later message of that group fails too, other groups are untouched', () => {
    const records = [record('a1', 'A'), record('b1', 'B'), record('a2', 'A'), record('b2', 'B'), record('c1', 'C')];
    const acked = new Set(['rh' /* none */, records[1]!.receiptHandle, records[2]!.receiptHandle, records[4]!.receiptHandle]);
    // a1 unacked → a2 fails although acked; b2 unacked → fails; c1 fine.
    expect(batchItemFailures(records, acked).map((f) => f.itemIdentifier)).toEqual([records[0]!.messageId, records[2]!.messageId, records[3]!.messageId]);
  });

  it('GIVEN a standard queue (no groups) THEN only unacked messages fail', () => {
    const records = [record('x'), record('y')];
    for (const r of records) delete r.attributes.MessageGroupId;
    expect(batchItemFailures(records, new Set([records[1]!.receiptHandle])).map((f) => f.itemIdentifier)).toEqual([records[0]!.messageId]);
  });
});
