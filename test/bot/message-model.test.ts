import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseImagine } from '../../core/options.ts';
import type { JobEvent } from '../../core/job.ts';
import { decodeButtonId } from '../../bot/custom-id.ts';
import { applyEvent, INITIAL_STATE, type JobState } from '../../bot/job-state.ts';
import { buildJobMessage, describeOptions } from '../../bot/message-model.ts';
import { makeJob, makeResult } from './support/fixtures.ts';

const job = makeJob();
const at = (n: number) => ({ v: 1 as const, jobId: job.id, at: n });

function fold(events: JobEvent[]): JobState {
  return events.reduce(applyEvent, INITIAL_STATE);
}

describe('job state folding', () => {
  const started: JobEvent = { ...at(2), type: 'started', runnerId: 'r', attempt: 1 };
  const p30: JobEvent = { ...at(3), type: 'progress', stage: 'prior', step: 3, steps: 10, fraction: 0.3 };
  const p60: JobEvent = { ...at(4), type: 'progress', stage: 'decoder', step: 6, steps: 10, fraction: 0.6 };
  const completed: JobEvent = { ...at(5), type: 'completed', resultKey: 'jobs/jparent/result.json' };

  it('GIVEN events in order THEN the state follows them', () => {
    expect(fold([{ ...at(1), type: 'queued', position: 3 }]).position).toBe(3);
    expect(fold([{ ...at(1), type: 'queued', position: 3 }, started, p30])).toMatchObject({ phase: 'running', progress: { fraction: 0.3, stage: 'prior' } });
    expect(fold([started, p30, completed]).phase).toBe('completed');
  });

  it('GIVEN progress out of order THEN it never goes backwards', () => {
    expect(fold([started, p60, p30]).progress).toEqual({ fraction: 0.6, stage: 'decoder' });
  });

  it('GIVEN a late queued or progress after completion THEN the final state stays', () => {
    const final = fold([started, completed, p30, { ...at(9), type: 'queued', position: 1 }]);
    expect(final.phase).toBe('completed');
    expect(final.progress).toEqual({ fraction: 1 });
  });

  it('GIVEN any permutation and duplication of the events THEN a completed job ends completed', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray([started, p30, p60, started, p30], { minLength: 0 }), fc.nat(5), (others, where) => {
        const events: JobEvent[] = [...others];
        events.splice(Math.min(where, events.length), 0, completed);
        expect(fold(events).phase).toBe('completed');
      }),
    );
  });

  it('GIVEN a failure that will be retried THEN the job is not final and says it retries', () => {
    const state = fold([started, { ...at(4), type: 'failed', code: 'spot_interruption', reason: 'The GPU was reclaimed.', willRetry: true }]);
    expect(state.phase).toBe('running');
    expect(buildJobMessage(job, state).statusLine).toMatch(/retrying on another GPU/);
  });

  it('GIVEN a cancelled failure THEN the phase is cancelled', () => {
    expect(fold([{ ...at(4), type: 'failed', code: 'cancelled', reason: 'Cancelled by its owner.', willRetry: false }]).phase).toBe('cancelled');
  });

  it('GIVEN an older preview after a newer one THEN the newer stays', () => {
    const state = fold([{ ...at(3), type: 'preview', key: 'jobs/jparent/preview.jpg', fraction: 0.5 }, { ...at(4), type: 'preview', key: 'jobs/jparent/preview.jpg', fraction: 0.2 }]);
    expect(state.previewFraction).toBe(0.5);
  });
});

describe('message model', () => {
  it('GIVEN a queued job THEN the status line shows the position and the only button is cancel', () => {
    const message = buildJobMessage(job, { phase: 'queued', position: 2, updatedAt: 0 });
    expect(message.statusLine).toBe('Queued · position 2');
    expect(message.final).toBe(false);
    expect(message.buttonRows.flatMap((row) => row.buttons.map((b) => b.customId))).toEqual(['cancel:jparent:0']);
  });

  it('GIVEN no runner is up THEN it says the GPU is waking up', () => {
    const message = buildJobMessage(job, { phase: 'queued', position: 1, waking: true, updatedAt: 0 });
    expect(message.status).toBe('waking');
    expect(message.statusLine).toMatch(/GPU waking up/);
  });

  it('GIVEN progress THEN a bar and the stage are shown', () => {
    const message = buildJobMessage(job, { phase: 'running', progress: { fraction: 0.45, stage: 'prior' }, updatedAt: 0 });
    expect(message.progress?.bar).toBe('▰▰▰▰▰▱▱▱▱▱ 45 %');
    expect(message.statusLine).toBe('Stage C · ▰▰▰▰▰▱▱▱▱▱ 45 %');
  });

  it('GIVEN a completed result with model notes THEN the message shows them; a running job does not', () => {
    const notes = ["the demo model draws shapes and colours; it doesn't know 'cat'"];
    const done = buildJobMessage(job, { phase: 'completed', result: { ...makeResult(job), notes }, updatedAt: 0 });
    expect(done.lines).toContain(notes[0]);
    expect(done.text).toContain("it doesn't know 'cat'");
    expect(buildJobMessage(job, { phase: 'running', updatedAt: 0 }).text).not.toContain("doesn't know");
  });

  it('GIVEN a completed grid of four THEN U1–U4 + 🔄, V1–V4 + ℹ️, strong V1–V4 + 🗑️, R1–R4 (the web has a remix dialog), all with decodable ids', () => {
    const result = makeResult(job);
    const message = buildJobMessage(job, { phase: 'completed', result, updatedAt: 0 });
    expect(message.final).toBe(true);
    expect(message.grid).toEqual(result.grid);
    expect(message.buttonRows.map((row) => row.buttons.map((b) => b.label || b.emoji))).toEqual([
      ['U1', 'U2', 'U3', 'U4', '🔄'],
      ['V1', 'V2', 'V3', 'V4', 'ℹ️'],
      ['V1+', 'V2+', 'V3+', 'V4+', '🗑️'],
      ['R1', 'R2', 'R3', 'R4'],
    ]);
    for (const button of message.buttonRows.flatMap((row) => row.buttons)) {
      expect(decodeButtonId(button.customId)).toMatchObject({ action: button.action, jobId: job.id, index: button.index });
      expect(button.disabled).toBe(false);
    }
  });

  it.each([
    ['discord', { platform: 'discord' as const, applicationId: '1', interactionToken: 't', tokenIssuedAt: 0, channelId: 'c1' }],
    ['slack', { platform: 'slack' as const, channelId: 'C1' }],
    ['web', { platform: 'web' as const, sessionId: 'wsession' }],
  ])('GIVEN a completed grid delivered to %s (which opens a dialog for the new prompt) THEN a fourth row R1–R4 remixes each tile', (_platform, delivery) => {
    const chat = makeJob({ delivery });
    const message = buildJobMessage(chat, { phase: 'completed', result: makeResult(chat), updatedAt: 0 });
    expect(message.buttonRows.map((row) => row.kind)).toEqual(['upscale', 'vary_subtle', 'vary_strong', 'remix']);
    expect(message.buttonRows[3]!.buttons.map((b) => [b.label, b.customId])).toEqual([1, 2, 3, 4].map((tile) => [`R${tile}`, `remix:${chat.id}:${tile}`]));
  });

  it('GIVEN a single image THEN no remix buttons', () => {
    const upscale = makeJob({ id: 'jup', kind: 'upscale', parent: { jobId: 'jparent', index: 2 }, delivery: { platform: 'slack', channelId: 'C1' } });
    const single = buildJobMessage(upscale, { phase: 'completed', result: makeResult(upscale, 1), updatedAt: 0 });
    for (const message of [single]) expect(message.buttonRows.flatMap((row) => row.buttons).some((b) => b.action === 'remix')).toBe(false);
  });

  it('GIVEN a single upscaled image THEN vary subtle/strong, ℹ️ and 🗑️ for that tile', () => {
    const upscale = makeJob({ id: 'jup', kind: 'upscale', parent: { jobId: 'jparent', index: 2 } });
    const message = buildJobMessage(upscale, { phase: 'completed', result: { ...makeResult(upscale, 1), images: [{ ...makeResult(upscale, 1).images[0]!, index: 1 }] }, updatedAt: 0 });
    expect(message.buttonRows.map((row) => row.buttons.map((b) => b.customId))).toEqual([['vary_subtle:jup:1', 'vary_strong:jup:1', 'info:jup:0', 'delete:jup:0']]);
    expect(message.parent).toEqual({ jobId: 'jparent', index: 2, label: 'Upscale of tile 2' });
    expect(message.lines).toContain('Upscale of tile 2 of job jparent');
  });

  it('GIVEN a failure THEN the reason is shown with try again, info and delete', () => {
    const message = buildJobMessage(job, { phase: 'failed', failure: { code: 'model_error', reason: 'The model ran out of memory.', willRetry: false }, updatedAt: 0 });
    expect(message.statusLine).toBe('Failed: The model ran out of memory.');
    expect(message.buttonRows[0]!.buttons.map((b) => b.action)).toEqual(['reroll', 'info', 'delete']);
  });

  it('GIVEN the same job and state THEN the message is identical (pure)', () => {
    const state: JobState = { phase: 'running', progress: { fraction: 0.3 }, updatedAt: 1 };
    expect(buildJobMessage(job, state)).toEqual(buildJobMessage(job, state));
  });

  it('GIVEN a very long prompt THEN the title is cut to 200 chars', () => {
    const long = makeJob({ request: { ...job.request, prompt: 'word '.repeat(300).trim() } });
    expect(buildJobMessage(long, INITIAL_STATE).title.length).toBe(200);
  });

  it('GIVEN any request THEN the options text parses back to the same options (the ℹ️ reproduce line works)', () => {
    const requestArb = fc.record({
      w: fc.integer({ min: 1, max: 4 }),
      h: fc.integer({ min: 1, max: 4 }),
      seed: fc.nat({ max: 0xffffffff }),
      chaos: fc.integer({ min: 0, max: 100 }),
      steps: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
      size: fc.constantFrom('small' as const, 'medium' as const, 'large' as const),
      lite: fc.boolean(),
      negative: fc.constantFrom('', 'text', 'blur, watermark'),
    });
    fc.assert(
      fc.property(requestArb, (r) => {
        const request = { ...job.request, aspect: { w: r.w, h: r.h }, seed: r.seed, chaos: r.chaos, size: r.size, lite: r.lite, negativePrompt: r.negative, ...(r.steps === undefined ? {} : { steps: r.steps }) };
        const reparsed = parseImagine(`${request.prompt} ${describeOptions(request)}`);
        expect(reparsed).toEqual({ ...request, count: 4 });
      }),
    );
  });
});
