/**
 * Signed Slack requests against the Lambda handler (Bolt's AwsLambdaReceiver), with the real SQS/S3
 * emulator behind it and the Web API pointed at a recording server: what reaches the queue, and what
 * Slack would have been asked to show.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Job } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { loadConfig } from '../../core/config.ts';
import { createAwsPorts } from '../../core/aws/index.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { createSlackApp } from '../../bot/slack/app.ts';
import { createSlackEventsHandler, type SlackEventsHandler } from '../../functions/slack-events.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { takeJobs } from '../support/drain-jobs.ts';
import { closedPort } from '../support/closed-port.ts';
import { RecordingSlackApi } from './support/recording-slack-api.ts';
import { FORM, JSON_TYPE, SIGNING_SECRET, interactionBody, signedEvent, slashCommandBody } from './support/signed-requests.ts';
import { resultOf } from './support/fixtures.ts';

let emulator: TestEmulator;
let api: RecordingSlackApi;
let handle: SlackEventsHandler;
let trigger = 0;

beforeAll(async () => {
  [emulator, api] = await Promise.all([startTestEmulator(), new RecordingSlackApi().start()]);
  const moderation = createModerationPolicy({ blocklist: ['gore'], allowedWorkspaces: ['T0001'] });
  const bot = { ...emulator.ports, moderation, maxPendingPerUser: 2, randomSeed: () => 7 };
  const { receiver } = createSlackApp({ transport: 'lambda', botToken: 'xoxb-test', signingSecret: SIGNING_SECRET, apiUrl: api.url, retryConfig: { retries: 0 } }, { bot });
  handle = await createSlackEventsHandler(receiver!, { signingSecret: SIGNING_SECRET });
});
afterAll(async () => {
  await Promise.all([emulator?.stop(), api?.stop()]);
});
afterEach(async () => {
  await drainQueue();
  api.calls.length = 0;
});

const drainQueue = (): Promise<Job[]> => takeJobs(emulator.ports.queue);

function imagineCommand(text: string, overrides: Record<string, string> = {}) {
  trigger += 1;
  return slashCommandBody({
    token: 'legacy-verification-token',
    team_id: 'T0001',
    channel_id: 'C0001',
    user_id: `U${String(trigger).padStart(4, '0')}`,
    command: '/imagine',
    text,
    response_url: api.responseUrl(`cmd-${trigger}`),
    trigger_id: `${trigger}.1700000000.abcdef`,
    api_app_id: 'A0001',
    ...overrides,
  });
}

describe('Slack HTTP endpoint (AwsLambdaReceiver)', () => {
  it('GIVEN a signed /imagine THEN it answers 200, posts the placeholder and enqueues one job that owns that message', async () => {
    const response = await handle(signedEvent(imagineCommand('a lighthouse at dusk --ar 16:9 --seed 5'), FORM));
    expect(response.statusCode).toBe(200);
    const [job, ...more] = await drainQueue();
    expect(more).toEqual([]);
    expect(job!.request).toMatchObject({ prompt: 'a lighthouse at dusk', aspect: { w: 16, h: 9 }, seed: 5 });
    expect(job!.requester).toEqual({ platform: 'slack', userId: 'U0001', channelId: 'C0001', workspaceId: 'T0001' });
    const posts = api.callsOf('chat.postMessage');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.params.channel).toBe('C0001');
    expect(posts[0]!.params.blocks).toContain('<@U0001> · Queued…');
    const placeholderTs = [...api.messages.values()].find((m) => m.text.includes('a lighthouse'))!.ts;
    expect(job!.delivery).toEqual({ platform: 'slack', channelId: 'C0001', teamId: 'T0001', messageTs: placeholderTs });
    expect(await emulator.ports.blobs.exists(jobKeys.job(job!.id))).toBe(true);
  });

  it('GIVEN Slack verifies the events URL THEN the signed challenge is echoed', async () => {
    const response = await handle(signedEvent(JSON.stringify({ type: 'url_verification', token: 'legacy', challenge: 'c-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' }), JSON_TYPE));
    expect(response).toMatchObject({ statusCode: 200, body: JSON.stringify({ challenge: 'c-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' }) });
  });

  it('GIVEN a bad signature THEN 401, no Slack call and nothing enqueued', async () => {
    const response = await handle(signedEvent(imagineCommand('a cat'), FORM, { secret: 'not-the-secret' }));
    expect(response.statusCode).toBe(401);
    expect(api.calls).toEqual([]);
    expect(await drainQueue()).toEqual([]);
  });

  it('GIVEN a correctly signed request older than 5 minutes THEN 401 and nothing enqueued', async () => {
    const response = await handle(signedEvent(imagineCommand('a cat'), FORM, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 }));
    expect(response.statusCode).toBe(401);
    expect(api.calls).toEqual([]);
    expect(await drainQueue()).toEqual([]);
  });

  it('GIVEN a tampered body under a valid signature THEN 401', async () => {
    const event = signedEvent(imagineCommand('a cat'), FORM);
    const response = await handle({ ...event, body: event.body!.replace('a+cat', 'a+dog') });
    expect(response.statusCode).toBe(401);
    expect(await drainQueue()).toEqual([]);
  });

  it('GIVEN the same command delivered again with X-Slack-Retry-Num THEN one job and one placeholder', async () => {
    const body = imagineCommand('a red fox in snow');
    expect((await handle(signedEvent(body, FORM))).statusCode).toBe(200);
    expect((await handle(signedEvent(body, FORM, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } }))).statusCode).toBe(200);
    expect(await drainQueue()).toHaveLength(1);
    expect(api.callsOf('chat.postMessage')).toHaveLength(1);
  });

  it('GIVEN an @mention in a thread, retried by the Events API THEN one job whose message is in that thread, prompt intact (base64 UTF-8)', async () => {
    const envelope = {
      type: 'event_callback',
      team_id: 'T0001',
      api_app_id: 'A0001',
      event_id: 'Ev0001',
      event_time: 1700000000,
      event: { type: 'app_mention', user: 'U0777', channel: 'C0001', text: '<@UBOT> café ☕ at dawn --ar 3:2', ts: '1700000100.000200', thread_ts: '1700000000.000100', event_ts: '1700000100.000200' },
    };
    const body = JSON.stringify(envelope);
    expect((await handle(signedEvent(body, JSON_TYPE, { base64: true }))).statusCode).toBe(200);
    expect((await handle(signedEvent(body, JSON_TYPE, { base64: true, headers: { 'x-slack-retry-num': '1' } }))).statusCode).toBe(200);
    const jobs = await drainQueue();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.request.prompt).toBe('café ☕ at dawn');
    expect(jobs[0]!.delivery).toMatchObject({ threadTs: '1700000000.000100' });
    expect(api.callsOf('chat.postMessage')).toHaveLength(1);
    expect(api.callsOf('chat.postMessage')[0]!.params.thread_ts).toBe('1700000000.000100');
  });

  it('GIVEN a body that is not the JSON it claims THEN 400 and nothing enqueued', async () => {
    const response = await handle(signedEvent('{"type": "event_callback", ', JSON_TYPE));
    expect(response.statusCode).toBe(400);
    expect(await drainQueue()).toEqual([]);
  });

  it('GIVEN an interaction whose payload field is not JSON THEN 400 and nothing enqueued', async () => {
    const response = await handle(signedEvent('payload=%7Bnot-json', FORM));
    expect(response.statusCode).toBe(400);
    expect(await drainQueue()).toEqual([]);
  });

  it('GIVEN a signed slash command missing its user THEN it is acked, the actor is told, and nothing is posted or enqueued', async () => {
    const body = new URLSearchParams(imagineCommand('a cat'));
    body.delete('user_id');
    const response = await handle(signedEvent(body.toString(), FORM));
    expect(response.statusCode).toBe(200);
    expect(await drainQueue()).toEqual([]);
    expect(api.callsOf('chat.postMessage')).toEqual([]);
    expect(api.callsOf('respond')[0]!.params.text).toContain('malformed');
  });

  it('GIVEN invalid options, a blocked word or a workspace not allowed THEN the actor alone is told why and nothing is posted or enqueued', async () => {
    await handle(signedEvent(imagineCommand('a cat --ar 0:5'), FORM));
    await handle(signedEvent(imagineCommand('lots of G0RE'), FORM));
    await handle(signedEvent(imagineCommand('a cat', { team_id: 'T9999' }), FORM));
    expect(await drainQueue()).toEqual([]);
    expect(api.callsOf('chat.postMessage')).toEqual([]);
    const replies = api.callsOf('respond').map((call) => call.params);
    expect(replies.map((r) => r.response_type)).toEqual(['ephemeral', 'ephemeral', 'ephemeral']);
    expect(replies[0]!.text).toMatch(/--ar/);
    expect(replies[1]!.text).toContain('"gore" is not allowed');
    expect(replies[2]!.text).toContain('not enabled for this server or workspace');
  });

  it('GIVEN Slack rate-limits the placeholder post THEN the response does not wait out Retry-After, nothing is enqueued and the actor is told', async () => {
    api.script('chat.postMessage', { status: 429, retryAfterSeconds: 30 });
    const response = await handle(signedEvent(imagineCommand('a busy channel'), FORM));
    expect(response.statusCode).toBe(200);
    expect(api.callsOf('chat.postMessage')).toHaveLength(1);
    expect(await drainQueue()).toEqual([]);
    expect(api.callsOf('respond')[0]!.params.text).toContain('rate-limiting messages in this channel right now. Nothing was queued; try again in 30 s.');
  });

  it('GIVEN the queue is unreachable THEN the placeholder is removed and the actor is told to try again', async () => {
    const deadQueue = createAwsPorts(loadConfig({ ...emulator.env(), AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${await closedPort()}` }), { maxAttempts: 1 });
    const bot = { ...emulator.ports, queue: deadQueue.queue, events: deadQueue.events, moderation: createModerationPolicy({ blocklist: [] }) };
    const { receiver } = createSlackApp({ transport: 'lambda', botToken: 'xoxb-test', signingSecret: SIGNING_SECRET, apiUrl: api.url, retryConfig: { retries: 0 } }, { bot });
    const broken = await createSlackEventsHandler(receiver!, { signingSecret: SIGNING_SECRET });
    expect((await broken(signedEvent(imagineCommand('a storm'), FORM))).statusCode).toBe(200);
    expect(api.callsOf('chat.postMessage')).toHaveLength(1);
    expect(api.callsOf('chat.delete')).toHaveLength(1);
    expect([...api.messages.values()].some((m) => m.text.startsWith('a storm'))).toBe(false);
    expect(api.callsOf('respond')[0]!.params.text).toContain('something went wrong on our side');
    expect(await drainQueue()).toEqual([]);
  });

  it('GIVEN a user over the pending cap THEN the placeholder is removed and the actor is told the limit', async () => {
    const user = { user_id: 'UCAPPED' };
    await handle(signedEvent(imagineCommand('one', user), FORM));
    await handle(signedEvent(imagineCommand('two', user), FORM));
    await handle(signedEvent(imagineCommand('three', user), FORM));
    expect(await drainQueue()).toHaveLength(2);
    expect(api.callsOf('chat.postMessage')).toHaveLength(3);
    expect(api.callsOf('chat.delete')).toHaveLength(1);
    expect(api.callsOf('respond').at(-1)!.params.text).toContain('the limit is 2');
  });

  it('GIVEN U2 pressed on a finished grid inside a thread THEN an upscale of tile 2 is enqueued with its message in that thread', async () => {
    await handle(signedEvent(imagineCommand('a castle', { user_id: 'UOWNER' }), FORM));
    const [parent] = await drainQueue();
    await emulator.ports.blobs.put(jobKeys.result(parent!.id), JSON.stringify(resultOf(parent!)), 'application/json');
    const press = {
      type: 'block_actions',
      trigger_id: '999.1700000000.press',
      user: { id: 'UOWNER' },
      team: { id: 'T0001' },
      channel: { id: 'C0001' },
      container: { type: 'message', message_ts: '1700000000.000500', channel_id: 'C0001', thread_ts: '1700000000.000400' },
      message: { ts: '1700000000.000500', thread_ts: '1700000000.000400' },
      response_url: api.responseUrl('press'),
      actions: [{ type: 'button', action_id: `upscale:${parent!.id}:2`, block_id: 'row:upscale', action_ts: '1700000001.000000' }],
    };
    expect((await handle(signedEvent(interactionBody(press), FORM))).statusCode).toBe(200);
    const [child, ...more] = await drainQueue();
    expect(more).toEqual([]);
    expect(child).toMatchObject({ kind: 'upscale', parent: { jobId: parent!.id, index: 2 }, delivery: { threadTs: '1700000000.000400' } });
    expect(api.callsOf('chat.postMessage').at(-1)!.params.thread_ts).toBe('1700000000.000400');
  });

  it('GIVEN someone else presses U1 THEN the refusal is ephemeral and nothing is enqueued', async () => {
    await handle(signedEvent(imagineCommand('a bridge', { user_id: 'UOWNER2' }), FORM));
    const [parent] = await drainQueue();
    await emulator.ports.blobs.put(jobKeys.result(parent!.id), JSON.stringify(resultOf(parent!)), 'application/json');
    const press = {
      type: 'block_actions', trigger_id: '1000.1.x', user: { id: 'USTRANGER' }, team: { id: 'T0001' }, channel: { id: 'C0001' },
      container: { message_ts: '1700000000.000600' }, response_url: api.responseUrl('stranger'),
      actions: [{ action_id: `upscale:${parent!.id}:1` }],
    };
    await handle(signedEvent(interactionBody(press), FORM));
    expect(await drainQueue()).toEqual([]);
    const reply = api.callsOf('respond').at(-1)!.params;
    expect(reply).toMatchObject({ response_type: 'ephemeral', replace_original: 'false' });
    expect(reply.text).toContain('Only the person who asked');
  });

  it('GIVEN ℹ️ and 🗑️ pressed by the owner THEN info is ephemeral, and delete removes the Slack message and the stored job', async () => {
    await handle(signedEvent(imagineCommand('a tower --seed 99', { user_id: 'UOWNER3' }), FORM));
    const [parent] = await drainQueue();
    const messageTs = parent!.delivery.platform === 'slack' ? parent!.delivery.messageTs! : '';
    const pressOf = (action: string, n: number) => ({
      type: 'block_actions', trigger_id: `${2000 + n}.1.x`, user: { id: 'UOWNER3' }, team: { id: 'T0001' }, channel: { id: 'C0001' },
      container: { message_ts: messageTs }, message: { ts: messageTs }, response_url: api.responseUrl(`owner-${n}`), actions: [{ action_id: `${action}:${parent!.id}:0` }],
    });
    await handle(signedEvent(interactionBody(pressOf('info', 1)), FORM));
    const info = api.callsOf('respond').at(-1)!.params;
    expect(info.text).toContain('Seed: 99');
    expect(info.blocks).toContain('```a tower --ar 1:1 --seed 99```');
    await handle(signedEvent(interactionBody(pressOf('delete', 2)), FORM));
    expect(api.callsOf('chat.delete').at(-1)!.params).toMatchObject({ channel: 'C0001', ts: messageTs });
    expect(api.messages.has(messageTs)).toBe(false);
    expect(await emulator.ports.blobs.exists(jobKeys.job(parent!.id))).toBe(false);
    expect(await drainQueue()).toEqual([]);
  });

  it('GIVEN ❌ pressed by the owner on a job in progress THEN the runner is asked to stop it and the owner is told', async () => {
    await handle(signedEvent(imagineCommand('a slow one', { user_id: 'UCANCEL' }), FORM));
    const [job] = await drainQueue();
    const press = {
      type: 'block_actions', trigger_id: '3000.1.x', user: { id: 'UCANCEL' }, team: { id: 'T0001' }, channel: { id: 'C0001' },
      container: { message_ts: '1700000000.000700' }, response_url: api.responseUrl('cancel'), actions: [{ action_id: `cancel:${job!.id}:0` }],
    };
    await handle(signedEvent(interactionBody(press), FORM));
    expect(await emulator.ports.blobs.exists(jobKeys.cancel(job!.id))).toBe(true);
    expect(api.callsOf('respond').at(-1)!.params.text).toBe(`Cancelling job ${job!.id}. Its message will say when it stopped.`);
    expect(api.callsOf('chat.delete')).toEqual([]);
  });

  it('GIVEN /imagine-settings --ar 3:2 THEN the next /imagine without --ar uses 3:2, and /imagine-info reports usage', async () => {
    const settingsBody = imagineCommand('--ar 3:2', { command: '/imagine-settings', user_id: 'USETTINGS' });
    await handle(signedEvent(settingsBody, FORM));
    expect(api.callsOf('respond').at(-1)!.params.text).toContain('Saved your defaults: --ar 3:2');
    await handle(signedEvent(imagineCommand('a meadow', { user_id: 'USETTINGS' }), FORM));
    const [job] = await drainQueue();
    expect(job!.request.aspect).toEqual({ w: 3, h: 2 });
    await handle(signedEvent(imagineCommand('', { command: '/imagine-info', user_id: 'USETTINGS' }), FORM));
    expect(api.callsOf('respond').at(-1)!.params.text).toContain('In progress: 1 of 2 allowed at once');
  });

  it('GIVEN /imagine-settings channel changes from a non-admin THEN refused; from an admin THEN saved', async () => {
    await handle(signedEvent(imagineCommand('channel buttons everyone', { command: '/imagine-settings', user_id: 'UPLAIN' }), FORM));
    expect(api.callsOf('respond').at(-1)!.params.text).toContain('Only people who can manage this channel');
    await handle(signedEvent(imagineCommand('channel buttons everyone', { command: '/imagine-settings', user_id: 'UADMIN' }), FORM));
    expect(api.callsOf('respond').at(-1)!.params.text).toContain('buttons: everyone');
    expect(api.callsOf('users.info').map((call) => call.params.user)).toEqual(['UPLAIN', 'UADMIN']);
  });
});
