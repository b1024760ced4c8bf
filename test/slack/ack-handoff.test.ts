/**
 * Slack on Lambda acknowledges before it works: verify → acknowledge → hand off (functions/slack-events.ts).
 * The jobs queue here holds every send until the test releases it, so a handler whose answer waited for the
 * enqueue would not answer at all: the first test fails then. The handed-off request, run as the
 * asynchronous invocation would run it, then does the work (placeholder + job), and a signed URL check is
 * still answered inline. Real Bolt app, emulator over HTTP, recording Slack API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../core/job.ts';
import type { JobQueue } from '../../core/ports.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { createSlackApp } from '../../bot/slack/app.ts';
import { createSlackEventsHandler, selfInvoke, type SlackEventsHandler, type SlackHandOffEvent } from '../../functions/slack-events.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { takeJobs } from '../support/drain-jobs.ts';
import { RecordingSlackApi } from './support/recording-slack-api.ts';
import { FORM, JSON_TYPE, SIGNING_SECRET, signedEvent, slashCommandBody } from './support/signed-requests.ts';

let emulator: TestEmulator;
let api: RecordingSlackApi;
let release: () => void = () => undefined;
let sendsStarted = 0;
let sendsDone = 0;

/** The real queue, except that each send waits until `release()`. */
function heldQueue(queue: JobQueue): JobQueue {
  let gate = new Promise<void>((resolve) => (release = resolve));
  return Object.assign(Object.create(queue) as JobQueue, {
    send: async (job: Job) => {
      sendsStarted += 1;
      await gate;
      gate = Promise.resolve();
      await queue.send(job);
      sendsDone += 1;
    },
  });
}

function build(handOff?: (event: SlackHandOffEvent) => Promise<void>): Promise<SlackEventsHandler> {
  const bot = { ...emulator.ports, queue: heldQueue(emulator.ports.queue), moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 5, randomSeed: () => 7 };
  const { receiver } = createSlackApp({ transport: 'lambda', botToken: 'xoxb-test', signingSecret: SIGNING_SECRET, apiUrl: api.url, retryConfig: { retries: 0 } }, { bot });
  return createSlackEventsHandler(receiver!, { signingSecret: SIGNING_SECRET, ...(handOff ? { handOff } : {}) });
}

let trigger = 0;
const imagine = (text: string) => {
  trigger += 1;
  return signedEvent(
    slashCommandBody({ team_id: 'T0001', channel_id: 'C0001', user_id: `U${trigger}`, command: '/imagine', text, response_url: api.responseUrl(`h-${trigger}`), trigger_id: `${trigger}.1.a`, api_app_id: 'A1' }),
    FORM,
  );
};

const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), ms))]);

beforeAll(async () => {
  [emulator, api] = await Promise.all([startTestEmulator(), new RecordingSlackApi().start()]);
});
afterAll(async () => {
  release();
  await Promise.all([emulator?.stop(), api?.stop()]);
});

describe('Slack acknowledgement on Lambda', () => {
  it('GIVEN a signed /imagine and an enqueue that has not finished THEN Slack already has its empty 200, and the handed-off request then does the work', async () => {
    const handedOff: SlackHandOffEvent[] = [];
    const handle = await build(async (event) => void handedOff.push(event));
    sendsStarted = sendsDone = 0;

    const answer = await within(handle(imagine('a lighthouse at dusk')), 2000);
    expect(answer).toEqual({ statusCode: 200, body: '' });
    expect(handedOff).toHaveLength(1);
    // Acknowledged before any of the work: no Slack call, no send started.
    expect(api.calls).toEqual([]);
    expect(sendsStarted).toBe(0);

    // The asynchronous invocation: placeholder first, then the held enqueue.
    const work = handle(JSON.parse(JSON.stringify(handedOff[0])) as SlackHandOffEvent);
    await expect.poll(() => sendsStarted).toBe(1);
    expect(api.callsOf('chat.postMessage')).toHaveLength(1);
    expect(sendsDone).toBe(0);
    release();
    expect((await work).statusCode).toBe(200);
    const jobs = await takeJobs(emulator.ports.queue);
    expect(jobs.map((job) => job.request.prompt)).toEqual(['a lighthouse at dusk']);
  });

  it('GIVEN no hand-off (self-hosted, tests) THEN the answer waits for the work, as before', async () => {
    const handle = await build();
    sendsStarted = sendsDone = 0;
    const pending = handle(imagine('a fern'));
    expect(await within(pending, 1500)).toBe('still waiting');
    release();
    expect((await pending).statusCode).toBe(200);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(1);
  });

  it('GIVEN the URL check THEN it is answered inline even with a hand-off, and nothing is handed off', async () => {
    const handedOff: SlackHandOffEvent[] = [];
    const handle = await build(async (event) => void handedOff.push(event));
    const response = await handle(signedEvent(JSON.stringify({ type: 'url_verification', token: 't', challenge: 'c-123' }), JSON_TYPE));
    expect(response).toMatchObject({ statusCode: 200, body: JSON.stringify({ challenge: 'c-123' }) });
    expect(handedOff).toEqual([]);
  });

  it('GIVEN a forged or stale request THEN it is refused before any hand-off', async () => {
    const handedOff: SlackHandOffEvent[] = [];
    const handle = await build(async (event) => void handedOff.push(event));
    const forged = imagine('a cat');
    expect((await handle({ ...forged, body: forged.body!.replace('a+cat', 'a+dog') })).statusCode).toBe(401);
    expect(handedOff).toEqual([]);
  });

  it('GIVEN the hand-off itself fails THEN the work is done in the request (late rather than lost), never a 5xx', async () => {
    const handle = await build(async () => {
      throw new Error('Rate exceeded');
    });
    release();
    const response = await handle(imagine('a boat'));
    expect(response.statusCode).toBe(200);
    expect((await takeJobs(emulator.ports.queue)).map((job) => job.request.prompt)).toEqual(['a boat']);
  });

  it('GIVEN the Lambda hand-off THEN it is one asynchronous Invoke of the same function carrying the verified request', async () => {
    const sent: Array<{ input: { FunctionName: string; InvocationType: string; Payload: Uint8Array } }> = [];
    const invoke = selfInvoke({ send: async (command: unknown) => (sent.push(command as (typeof sent)[number]), { StatusCode: 202 }) } as never, 'cascade-bot-prod-slack-events');
    await invoke({ slackHandOff: { headers: { 'x-slack-signature': 'v0=ab' }, body: 'text=a' } });
    expect(sent[0]!.input).toMatchObject({ FunctionName: 'cascade-bot-prod-slack-events', InvocationType: 'Event' });
    expect(JSON.parse(Buffer.from(sent[0]!.input.Payload).toString('utf8'))).toEqual({ slackHandOff: { headers: { 'x-slack-signature': 'v0=ab' }, body: 'text=a' } });
    const refusing = selfInvoke({ send: async () => ({ StatusCode: 500 }) } as never, 'f');
    await expect(refusing({ slackHandOff: { headers: {}, body: '' } })).rejects.toThrow(/answered 500/);
  });
});
