/**
 * The dispatcher against the real emulator (SQS + S3 over HTTP on 127.0.0.1) and the real runner
 * with the deterministic test generator: /imagine → queue → runner → events → recorded deliveries,
 * then a U2 press and a duplicate `completed`.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import sharp from 'sharp';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { WIRE_VERSION } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import type { RunnerHandle } from '../../gpu-runner/main.ts';
import { imagine, pressButton } from '../../bot/commands/index.ts';
import type { BotDeps, CommandContext } from '../../bot/commands/context.ts';
import { Dispatcher } from '../../bot/dispatcher.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { recordingLogger } from '../support/recording-logger.ts';
import { TestGenerator } from '../support/test-generator.ts';
import { startTestRunner } from '../runner/harness.ts';
import { RecordingPoster } from './support/recording-poster.ts';

// A chat delivery: its messages attach the grid the runner stores (storesGridImage).
const member = { platform: 'slack' as const, userId: 'U1', channelId: 'C1', workspaceId: 'T1' };
const context = (sourceId: string): CommandContext => ({ requester: member, delivery: { platform: 'slack', channelId: 'C1' }, sourceId, channel: { ageRestricted: false } });

describe('GIVEN the emulator, a runner and the dispatcher with a recording poster', () => {
  let emulator: TestEmulator;
  let runner: RunnerHandle;
  let deps: BotDeps;
  const poster = new RecordingPoster('slack');
  const stop = new AbortController();
  let running: Promise<void>;
  const log = recordingLogger();

  beforeAll(async () => {
    emulator = await startTestEmulator();
    runner = await startTestRunner(emulator.env(), new TestGenerator({ baseResolution: 128, steps: 6, stepDelayMs: 250 }));
    deps = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }) };
    const dispatcher = new Dispatcher({ ...emulator.ports, posters: { slack: poster }, minEditIntervalMs: 200, minChannelEditIntervalMs: 100, receiveWaitSeconds: 1, log });
    running = dispatcher.run(stop.signal);
  });
  afterAll(async () => {
    stop.abort();
    await running;
    await runner?.stop('test over');
    await emulator?.stop();
  });

  let firstJobId = '';

  it('WHEN /imagine is submitted THEN the message goes from queued/progress to the grid with buttons, delivered once', async () => {
    const reply = await imagine(deps, context('slack:req-1'), 'a lighthouse in a storm --ar 3:2 --seed 4242');
    expect(reply).toMatchObject({ kind: 'accepted', duplicate: false });
    if (reply.kind !== 'accepted') return;
    firstJobId = reply.jobId;
    await vi.waitFor(() => expect(poster.deliveries.some((d) => d.jobId === firstJobId && d.message.status === 'completed'), 'the completed delivery').toBe(true), { timeout: 20_000, interval: 50 });

    const mine = poster.deliveries.filter((d) => d.jobId === firstJobId);
    const statuses = mine.map((d) => d.message.status);
    expect(statuses.filter((s) => s === 'completed')).toHaveLength(1);
    expect(statuses.at(-1)).toBe('completed');
    expect(statuses).toContain('running');
    const fractions = mine.flatMap((d) => (d.message.progress ? [d.message.progress.fraction] : []));
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));

    const final = mine.at(-1)!;
    expect(final.message.buttonRows.map((row) => row.buttons.map((b) => b.customId))[0]).toEqual([1, 2, 3, 4].map((i) => `upscale:${firstJobId}:${i}`).concat(`reroll:${firstJobId}:0`));
    const meta = await sharp(final.attachment!.bytes).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBe(final.message.grid!.width);
    const stats = await sharp(final.attachment!.bytes).stats();
    expect(stats.channels.some((channel) => channel.stdev > 1)).toBe(true);
    expect(await emulator.ports.blobs.exists(jobKeys.delivered(firstJobId))).toBe(true);
  });

  it('WHEN U2 is pressed THEN an upscale child is delivered with its lineage and single-image buttons', async () => {
    const reply = await pressButton(deps, context('slack:press-1'), `upscale:${firstJobId}:2`);
    expect(reply).toMatchObject({ kind: 'accepted' });
    if (reply.kind !== 'accepted') return;
    await vi.waitFor(() => expect(poster.deliveries.some((d) => d.jobId === reply.jobId && d.message.final), 'the upscale delivery').toBe(true), { timeout: 20_000, interval: 50 });
    const final = poster.deliveries.filter((d) => d.jobId === reply.jobId).at(-1)!;
    expect(final.message.status).toBe('completed');
    expect(final.message.parent).toEqual({ jobId: firstJobId, index: 2, label: 'Upscale of tile 2' });
    expect(final.message.buttonRows[0]!.buttons.map((b) => b.action)).toEqual(['vary_subtle', 'vary_strong', 'info', 'delete']);
  });

  it('WHEN a duplicate completed arrives later THEN nothing is delivered again', async () => {
    const before = poster.deliveries.length;
    // Sent raw with fresh deduplication ids: the FIFO queue's own 5-minute dedup would otherwise drop the copy before the dispatcher sees it.
    const late = [
      { v: WIRE_VERSION, type: 'completed', jobId: firstJobId, at: Date.now(), resultKey: jobKeys.result(firstJobId) },
      { v: WIRE_VERSION, type: 'progress', jobId: firstJobId, at: Date.now(), stage: 'prior', step: 1, steps: 6, fraction: 0.1 },
    ];
    for (const [i, event] of late.entries()) {
      await emulator.sqs.send(new SendMessageCommand({ QueueUrl: emulator.eventsQueueUrl, MessageBody: JSON.stringify(event), MessageGroupId: firstJobId, MessageDeduplicationId: `late-${i}-${Date.now()}` }));
    }
    const depth = async () => {
      const { Attributes } = await emulator.sqs.send(new GetQueueAttributesCommand({ QueueUrl: emulator.eventsQueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    };
    const deadline = Date.now() + 10_000;
    while ((await depth()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await depth()).toBe(0);
    expect(poster.deliveries.length).toBe(before);
    expect(log.events()).not.toContain('event_failed');
  });
});
