/**
 * Prompts in every script and with emoji, end to end through the emulator (issue #18, item 4):
 * `/imagine` (bot/commands) → job on the SQS queue over HTTP → runner with the real cascade engine on
 * the tiny ONNX bundle → result.json and the completed event, the prompt intact at every step.
 * fauxqs (1.9.2 and 2.4.1 alike) refuses the surrogate pairs of astral characters that SQS accepts;
 * queue bodies are written with those escaped (core/aws/parse-body.ts), so this ran into
 * "something went wrong" for every emoji before.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { queueBody } from '../../core/aws/parse-body.ts';
import { JobEventSchema, ResultSchema, type JobEvent } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { imagine } from '../../bot/commands/index.ts';
import type { CommandContext } from '../../bot/commands/context.ts';
import { createCascadeGenerator } from '../../gpu-runner/cascade/index.ts';
import type { RunnerHandle } from '../../gpu-runner/main.ts';
import { collectEvents, startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { startTestRunner, TEST_CPU_THREADS } from '../runner/harness.ts';
import { imagineJob } from '../runner/fixtures.ts';
import { UNICODE_PROMPTS } from './support/unicode-prompts.ts';

const BUNDLE = fileURLToPath(new URL('../fixtures/cascade-tiny', import.meta.url));

let emulator: TestEmulator;
let runner: RunnerHandle;

beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => {
  await runner?.stop('test over');
  await emulator?.stop();
});

function webContext(index: number): CommandContext {
  const requester = { platform: 'web' as const, userId: `unicode-${index}`, channelId: 'playground' };
  return { requester, delivery: { platform: 'web', sessionId: `s-unicode-${index}` }, sourceId: `web:unicode-${process.pid}-${Date.now()}-${index}`, channel: { ageRestricted: false } };
}

/** What SQS accepts in a message body (its documented set, read as code points). */
// eslint-disable-next-line no-control-regex -- tab, LF and CR are in SQS's documented set: the pattern must name them
const SQS_VALID_BODY = /^[\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
/** What the emulator accepts: the same set read as UTF-16 code units (fauxqs's check), so no surrogates. */
// eslint-disable-next-line no-control-regex -- as above
const EMULATOR_VALID_BODY = /^[\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD]*$/;

describe('queueBody', () => {
  it('GIVEN any string (lone surrogates, controls, noncharacters included) THEN the body is valid for SQS and the emulator and parses back to the same value', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 50 }), (binary, graphemes) => {
        const value = { prompt: binary, negativePrompt: graphemes, nested: [binary] };
        const body = queueBody(value);
        expect(body).toMatch(SQS_VALID_BODY);
        expect(body).toMatch(EMULATOR_VALID_BODY);
        expect(JSON.parse(body)).toEqual(value);
      }),
      { numRuns: 500 },
    );
  });

  it('GIVEN a body without astral characters THEN it is exactly JSON.stringify (what the queues carried before)', () => {
    const value = { prompt: 'café 雪の中の赤い狐 منارة', seed: 7 };
    expect(queueBody(value)).toBe(JSON.stringify(value));
  });
});

describe('prompts in every script, through the emulator and the runner', () => {
  it('GIVEN a job and an event with every prompt of the table THEN each comes off its queue equal to what was sent', async () => {
    for (const [index, { name, prompt, negative }] of UNICODE_PROMPTS.entries()) {
      const job = imagineJob({ prompt, userId: `roundtrip-${index}` });
      job.request.negativePrompt = negative;
      await emulator.ports.queue.send(job);
      const received = await emulator.ports.queue.receive({ waitSeconds: 1 });
      expect(received?.job, name).toEqual(job);
      await emulator.ports.queue.delete(received!.receiptHandle);
      const event = JobEventSchema.parse({ v: 1, jobId: job.id, at: Date.now(), type: 'failed', code: 'test', reason: `${prompt} ${negative}`, willRetry: false });
      await emulator.ports.events.publish(event);
      const [delivered] = await emulator.ports.events.receive({ waitSeconds: 1, max: 1 });
      expect(delivered?.event, name).toEqual(event);
      await emulator.ports.events.ack(delivered!.receiptHandle);
    }
  });

  it('GIVEN emoji, ZWJ sequences, CJK, RTL, combining marks and astral-plane text THEN every job is queued, run and completed with its prompt intact', async () => {
    runner = await startTestRunner(emulator.env(), await createCascadeGenerator({ bundleDir: BUNDLE, provider: 'cpu', cpuThreads: TEST_CPU_THREADS }), 'runner-unicode');
    const bot = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 100 };
    const submitted: Array<{ name: string; prompt: string; negative: string; jobId: string }> = [];
    for (const [index, { name, prompt, negative }] of UNICODE_PROMPTS.entries()) {
      const reply = await imagine(bot, webContext(index), `${prompt} --no ${negative} --seed ${index + 1}`);
      expect(reply, name).toMatchObject({ kind: 'accepted', duplicate: false });
      submitted.push({ name, prompt, negative, jobId: (reply as { jobId: string }).jobId });
    }
    const done = (events: JobEvent[], jobId: string) => events.some((e) => e.jobId === jobId && (e.type === 'completed' || (e.type === 'failed' && !e.willRetry)));
    const events = await collectEvents(emulator.ports, (all) => submitted.every(({ jobId }) => done(all, jobId)), 90_000);
    for (const { name, prompt, negative, jobId } of submitted) {
      const final = events.find((e) => e.jobId === jobId && (e.type === 'completed' || e.type === 'failed'));
      expect(final?.type, name).toBe('completed');
      const job = JSON.parse(new TextDecoder().decode((await emulator.ports.blobs.get(jobKeys.job(jobId)))!)) as { request: { prompt: string; negativePrompt: string } };
      expect(job.request.prompt, name).toBe(prompt);
      expect(job.request.negativePrompt, name).toBe(negative);
      const result = ResultSchema.parse(JSON.parse(new TextDecoder().decode((await emulator.ports.blobs.get(jobKeys.result(jobId)))!)));
      expect(result.images, name).toHaveLength(4);
    }
  }, 120_000);
});
