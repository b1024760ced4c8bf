/**
 * Hostile requests against the Slack HTTP endpoint (functions/slack-events.ts over Bolt's
 * AwsLambdaReceiver), with the real SQS/S3 emulator behind it and the Web API on a recording server.
 * Every request here is refused or answered without a 5xx, and none of them enqueues anything:
 * forged, replayed, future-dated, oversized, and signed-but-malformed (issue #18, items 5 and 6).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../core/job.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { createSlackApp } from '../../bot/slack/app.ts';
import { createSlackEventsHandler, type SlackEventsHandler } from '../../functions/slack-events.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { takeJobs } from '../support/drain-jobs.ts';
import { RecordingSlackApi } from '../slack/support/recording-slack-api.ts';
import { FORM, JSON_TYPE, SIGNING_SECRET, interactionBody, signedEvent, slashCommandBody } from '../slack/support/signed-requests.ts';
import { malformedSlackRequests, slashCommandFields } from './support/slack-hostile.ts';
import { recordingLogger } from '../support/recording-logger.ts';

let emulator: TestEmulator;
let api: RecordingSlackApi;
let handle: SlackEventsHandler;
const log = recordingLogger();
const logged = log.lines;

beforeAll(async () => {
  [emulator, api] = await Promise.all([startTestEmulator(), new RecordingSlackApi().start()]);
  const bot = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 1000, randomSeed: () => 7 };
  const { receiver } = createSlackApp({ transport: 'lambda', botToken: 'xoxb-test', signingSecret: SIGNING_SECRET, apiUrl: api.url, retryConfig: { retries: 0 } }, { bot, log });
  handle = await createSlackEventsHandler(receiver!, { signingSecret: SIGNING_SECRET, log });
});
afterAll(async () => {
  await Promise.all([emulator?.stop(), api?.stop()]);
});
afterEach(async () => {
  await takeJobs(emulator.ports.queue);
  api.calls.length = 0;
});

const drainQueue = (): Promise<Job[]> => takeJobs(emulator.ports.queue);
const now = () => Math.floor(Date.now() / 1000);

describe('signed but malformed Slack requests', () => {
  for (const request of malformedSlackRequests()) {
    it(`GIVEN ${request.name} THEN a 2xx or 4xx, nothing enqueued and no message left in the channel`, async () => {
      const messagesBefore = new Set(api.messages.keys());
      const response = await handle(signedEvent(request.body, request.contentType));
      expect(response.statusCode, `status for ${request.name}`).toBeGreaterThanOrEqual(200);
      expect(response.statusCode, `status for ${request.name}`).toBeLessThan(500);
      expect(await drainQueue()).toEqual([]);
      expect([...api.messages.keys()].filter((key) => !messagesBefore.has(key))).toEqual([]);
    });
  }

  it('GIVEN a slash command without response_url or user THEN 200, nothing enqueued, and the failure is logged without the prompt', async () => {
    logged.length = 0;
    const fields = slashCommandFields('a private prompt 7f3a');
    delete fields.response_url;
    delete fields.user_id;
    const response = await handle(signedEvent(slashCommandBody(fields), FORM));
    expect(response.statusCode).toBe(200);
    expect(await drainQueue()).toEqual([]);
    expect(log.events()).toContain('slack_request_failed');
    expect(JSON.stringify(logged)).not.toContain('7f3a');
  });

  it('GIVEN a malformed app_mention THEN 200 (so Slack does not retry it) and nothing enqueued', async () => {
    const body = JSON.stringify({ type: 'event_callback', team_id: 'T0001', event_id: 'EvBad', event: { type: 'app_mention', channel: 'C0001', text: '<@UBOT> a fox', ts: '1.2' } });
    const response = await handle(signedEvent(body, JSON_TYPE));
    expect(response.statusCode).toBe(200);
    expect(await drainQueue()).toEqual([]);
  });
});

describe('signature and timestamp', () => {
  const body = () => slashCommandBody(slashCommandFields('a lighthouse'));

  it.each([
    ['6 minutes old', -6 * 60],
    ['61 seconds ahead', 61],
    ['400 seconds ahead', 400],
    ['a day ahead', 86_400],
    ['10 years ahead', 10 * 365 * 86_400],
  ])('GIVEN a correctly signed request %s THEN 401 and nothing enqueued', async (_label, offset) => {
    const response = await handle(signedEvent(body(), FORM, { timestamp: now() + offset }));
    expect(response.statusCode).toBe(401);
    expect(api.calls).toEqual([]);
    expect(await drainQueue()).toEqual([]);
  });

  it('GIVEN a correctly signed request a few seconds ahead (clock skew) THEN it is accepted', async () => {
    const response = await handle(signedEvent(body(), FORM, { timestamp: now() + 20 }));
    expect(response.statusCode).toBe(200);
    expect(await drainQueue()).toHaveLength(1);
  });

  it.each([
    ['no signature', { signature: '' }],
    ['a signature of the wrong secret', { secret: 'forged' }],
    ['a signature that is not hex', { signature: 'v0=zzzz' }],
    ['a v1 signature', { signature: 'v1=00' }],
  ])('GIVEN %s THEN 401 and no Slack call', async (_label, options) => {
    const response = await handle(signedEvent(body(), FORM, options));
    expect(response.statusCode).toBe(401);
    expect(api.calls).toEqual([]);
    expect(await drainQueue()).toEqual([]);
  });

  it.each(['', 'abc', '1e3', '-1', String(Number.MAX_SAFE_INTEGER) + '0'])('GIVEN the timestamp header %j THEN 401', async (timestamp) => {
    const event = signedEvent(body(), FORM);
    event.headers['x-slack-request-timestamp'] = timestamp;
    const response = await handle(event);
    expect(response.statusCode).toBe(401);
    expect(await drainQueue()).toEqual([]);
  });

  it('GIVEN the same signed request replayed 5 times THEN one job and one placeholder', async () => {
    const replayed = body();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await handle(signedEvent(replayed, FORM))).statusCode);
    expect(statuses.every((status) => status < 500)).toBe(true);
    expect(await drainQueue()).toHaveLength(1);
    expect(api.callsOf('chat.postMessage')).toHaveLength(1);
  });

  it('GIVEN a signed body of 2 MiB THEN 413 before any parsing, nothing enqueued', async () => {
    const response = await handle(signedEvent(slashCommandBody(slashCommandFields(`a cat ${'x'.repeat(2 * 1024 * 1024)}`)), FORM));
    expect(response.statusCode).toBe(413);
    expect(api.calls).toEqual([]);
    expect(await drainQueue()).toEqual([]);
  });

  it('GIVEN an unsigned body that is not JSON THEN 401 (the signature is checked before the body is parsed)', async () => {
    const response = await handle(signedEvent('{"type": ', JSON_TYPE, { secret: 'forged' }));
    expect(response.statusCode).toBe(401);
  });

  it('GIVEN a signed button press whose payload is null THEN 400', async () => {
    const response = await handle(signedEvent(interactionBody(null), FORM));
    expect(response.statusCode).toBe(400);
  });
});
