/**
 * Pictures from Slack files over the real protocol: signed /imagine and app_mention requests through the Lambda handler,
 * files.info and conversations.replies on the recording Slack API, the downloads from an HTTP server on 127.0.0.1 standing in for
 * files.slack.com, SQS/S3 on the fauxqs emulator. What reaches the queue and the store, what the file host was sent
 * (the bot token, and only for allowed files), and the sentence the user gets when a file is refused.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobSchema, type Job } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { createSlackApp } from '../../bot/slack/app.ts';
import { slackFileLinks } from '../../bot/slack/files.ts';
import { createSlackEventsHandler, type SlackEventsHandler } from '../../functions/slack-events.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { takeJobs } from '../support/drain-jobs.ts';
import { RecordingSlackApi } from './support/recording-slack-api.ts';
import { FORM, JSON_TYPE, SIGNING_SECRET, signedEvent, slashCommandBody } from './support/signed-requests.ts';

const BOT_TOKEN = 'xoxb-test-files-0123';
let emulator: TestEmulator;
let api: RecordingSlackApi;
let handle: SlackEventsHandler;
let files: Server;
let host = '';
const served = new Map<string, { body: Uint8Array; type: string }>();
const downloads: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
let trigger = 0;

beforeAll(async () => {
  [emulator, api] = await Promise.all([startTestEmulator(), new RecordingSlackApi().start()]);
  const bot = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 20, randomSeed: () => 3 };
  const { receiver } = createSlackApp(
    { transport: 'lambda', botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: api.url, retryConfig: { retries: 0 } },
    { bot, fileHosts: { hosts: ['files.slack.com'], allowInsecureLoopback: true } },
  );
  handle = await createSlackEventsHandler(receiver!, { signingSecret: SIGNING_SECRET });
  served.set('/files-pri/T0001-F0000000A1/red.png', { body: new Uint8Array(await sharp({ create: { width: 120, height: 80, channels: 3, background: '#c33' } }).png().toBuffer()), type: 'image/png' });
  served.set('/files-pri/T0001-F0000000B2/green.jpg', { body: new Uint8Array(await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3c3' } }).jpeg().toBuffer()), type: 'image/jpeg' });
  served.set('/files-pri/T0001-F0000000C3/login.png', { body: new TextEncoder().encode('<!DOCTYPE html><title>Sign in</title>'), type: 'text/html; charset=utf-8' });
  served.set('/files-pri/T0001-F0000000D4/notes.png', { body: new TextEncoder().encode('just text, named .png'), type: 'image/png' });
  files = createServer((req, res) => {
    downloads.push({ path: req.url ?? '', headers: req.headers });
    const file = served.get(req.url ?? '');
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file.type }).end(Buffer.from(file.body));
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  host = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  const info = (id: string, path: string, extra: Record<string, unknown>) => api.files.set(id, { id, name: path.split('/').pop(), mimetype: 'image/png', size: served.get(path)?.body.byteLength ?? 100, url_private: `${host}${path}`, url_private_download: `${host}${path}`, ...extra });
  info('F0000000A1', '/files-pri/T0001-F0000000A1/red.png', { user: 'U0001', channels: [] });
  info('F0000000B2', '/files-pri/T0001-F0000000B2/green.jpg', { user: 'U0999', mimetype: 'image/jpeg', channels: ['C0001'] });
  info('F0000000C3', '/files-pri/T0001-F0000000C3/login.png', { user: 'U0001' });
  info('F0000000D4', '/files-pri/T0001-F0000000D4/notes.png', { user: 'U0001' });
  info('F0000000E5', '/files-pri/T0001-F0000000B2/green.jpg', { user: 'U0999', channels: ['C0999'], shares: { private: { C0999: [] } } });
  info('F0000000F6', '/files-pri/T0001-F0000000A1/red.png', { user: 'U0001', size: 50 * 1024 * 1024 });
  info('F0000000G7', '/x/report.pdf', { user: 'U0001', name: 'report.pdf', mimetype: 'application/pdf' });
  api.files.set('F0000000H8', { id: 'F0000000H8', name: 'elsewhere.png', mimetype: 'image/png', size: 10, user: 'U0001', url_private: 'https://images.example.org/elsewhere.png' });
});
afterAll(async () => {
  await new Promise<void>((resolve) => files.close(() => resolve()));
  await Promise.all([emulator?.stop(), api?.stop()]);
});
afterEach(async () => {
  await takeJobs(emulator.ports.queue);
  api.calls.length = 0;
  downloads.length = 0;
});

function imagine(text: string, user = 'U0001') {
  trigger += 1;
  const body = slashCommandBody({ team_id: 'T0001', channel_id: 'C0001', user_id: user, command: '/imagine', text, response_url: api.responseUrl(`f-${trigger}`), trigger_id: `${trigger}.1700000000.files` });
  return handle(signedEvent(body, FORM));
}

function mention(text: string, fileIds: string[], ts: string) {
  const envelope = {
    type: 'event_callback', team_id: 'T0001', api_app_id: 'A0001', event_id: `EvF${ts.replace('.', '')}`, event_time: 1700000000,
    event: { type: 'app_mention', user: 'U0001', channel: 'C0001', text, ts, thread_ts: '1700000000.000100', event_ts: ts, files: fileIds.map((id) => ({ id, name: 'x.png', mimetype: 'image/png' })) },
  };
  return handle(signedEvent(JSON.stringify(envelope), JSON_TYPE));
}

/** Everything the user was told privately (response_url or chat.postEphemeral). */
const told = () => [...api.callsOf('respond'), ...api.callsOf('chat.postEphemeral')].map((call) => call.params.text ?? '').join('\n');
const inputsIn = async (job: Job) => (await emulator.ports.blobs.list(jobKeys.prefix(job.id))).filter((key) => key.includes('/inputs/'));

describe('GIVEN /imagine with Slack file links in its text', () => {
  it('WHEN the requester links their own file THEN one job has it as its image prompt, downloaded with the bot token', async () => {
    expect((await imagine(`a castle <https://acme.slack.com/files/U0001/F0000000A1/red.png> --iw 1.5`)).statusCode).toBe(200);
    const [sent, ...more] = await takeJobs(emulator.ports.queue);
    expect(more).toEqual([]);
    const job = JobSchema.parse(sent);
    expect(job.request).toMatchObject({ prompt: 'a castle', imageWeight: 1.5, imagePrompts: [{ key: jobKeys.input(job.id, 0), weight: 1.5 }] });
    expect(await sharp((await emulator.ports.blobs.get(jobKeys.input(job.id, 0)))!).metadata()).toMatchObject({ format: 'png', width: 120, height: 80 });
    expect(downloads.map((d) => [d.path, d.headers.authorization])).toEqual([['/files-pri/T0001-F0000000A1/red.png', `Bearer ${BOT_TOKEN}`]]);
    expect(api.callsOf('files.info').map((call) => call.params.file)).toEqual(['F0000000A1']);
  });

  it("WHEN someone else's file shared in this channel is linked bare with --strength THEN it is the start image (the typed --ar wins)", async () => {
    expect((await imagine('https://files.slack.com/files-pri/T0001-F0000000B2/green.jpg --strength 0.5 --ar 3:2')).statusCode).toBe(200);
    const job = JobSchema.parse((await takeJobs(emulator.ports.queue))[0]);
    expect(job.request).toMatchObject({ prompt: '', initImage: { key: jobKeys.input(job.id, 0), strength: 0.5 }, aspect: { w: 3, h: 2 } });
    expect(job.request.imagePrompts).toBeUndefined();
  });

  it("WHEN a file that is neither the requester's nor shared in this channel is linked THEN it is refused unread, nothing posted or queued", async () => {
    await imagine('a castle <https://acme.slack.com/files/U0999/F0000000E5/green.jpg>');
    expect(told()).toContain('is neither yours nor shared in this conversation');
    expect(downloads).toEqual([]);
    expect(api.callsOf('chat.postMessage')).toEqual([]);
    expect(await takeJobs(emulator.ports.queue)).toEqual([]);
  });

  it('WHEN Slack declares a file too large or not a picture THEN each is refused with its reason before any download', async () => {
    await imagine('x https://acme.slack.com/files/U0001/F0000000F6/red.png');
    await imagine('x https://acme.slack.com/files/U0001/F0000000G7/report.pdf');
    await imagine('x https://acme.slack.com/files/U0001/F0000000ZZ/gone.png');
    expect(told()).toContain('"red.png" is 50.0 MiB; pictures up to 10 MiB are used.');
    expect(told()).toContain('"report.pdf" is not a picture (application/pdf). Send a still PNG, JPEG or WebP picture.');
    expect(told()).toContain('The linked file F0000000ZZ is not there any more');
    expect(downloads).toEqual([]);
    expect(await takeJobs(emulator.ports.queue)).toEqual([]);
  });

  it('WHEN the file host answers with a sign-in page, or bytes that are no picture, or files.info names another host THEN clear refusals, no job, no stored input', async () => {
    const before = (await emulator.ports.blobs.list('jobs/')).filter((key) => key.includes('/inputs/'));
    await imagine('x https://acme.slack.com/files/U0001/F0000000C3/login.png');
    await imagine('x https://acme.slack.com/files/U0001/F0000000D4/notes.png');
    await imagine('x https://acme.slack.com/files/U0001/F0000000H8/elsewhere.png');
    expect(told()).toContain('sent a web page instead of the image');
    expect(told()).toContain('is not a picture this bot reads');
    expect(told()).toContain('Images are only taken from files.slack.com');
    expect(downloads.map((d) => d.path)).toEqual(['/files-pri/T0001-F0000000C3/login.png', '/files-pri/T0001-F0000000D4/notes.png']);
    expect(await takeJobs(emulator.ports.queue)).toEqual([]);
    expect((await emulator.ports.blobs.list('jobs/')).filter((key) => key.includes('/inputs/'))).toEqual(before);
  });

  it('WHEN six files are linked THEN the request is refused before any lookup', async () => {
    const links = ['A1', 'B2', 'C3', 'D4', 'F6', 'G7'].map((id) => `https://acme.slack.com/files/U0001/F0000000${id}/x.png`).join(' ');
    await imagine(`x ${links}`);
    expect(told()).toContain('6 pictures were given; at most 5');
    expect(api.callsOf('files.info')).toEqual([]);
  });

  it('THEN the bot token is never in anything said to the user or posted', () => {
    expect(JSON.stringify(api.calls.map((call) => call.params))).not.toContain(BOT_TOKEN);
  });
});

describe('GIVEN /imagine-blend with file links', () => {
  const blend = (text: string) => {
    trigger += 1;
    return handle(signedEvent(slashCommandBody({ team_id: 'T0001', channel_id: 'C0001', user_id: 'U0001', command: '/imagine-blend', text, response_url: api.responseUrl(`b-${trigger}`), trigger_id: `${trigger}.1700000000.blend` }), FORM));
  };

  it('WHEN two linked pictures and portrait are given THEN one text-less job blends them at weight 1', async () => {
    await blend('https://acme.slack.com/files/U0001/F0000000A1/red.png <https://acme.slack.com/files/U0999/F0000000B2/green.jpg> portrait');
    const job = JobSchema.parse((await takeJobs(emulator.ports.queue))[0]);
    expect(job.request).toMatchObject({ prompt: '', aspect: { w: 2, h: 3 }, imagePrompts: [0, 1].map((n) => ({ key: jobKeys.input(job.id, n), weight: 1 })) });
  });

  it('WHEN one link or an unknown shape is given THEN it is refused before any lookup', async () => {
    await blend('https://acme.slack.com/files/U0001/F0000000A1/red.png');
    await blend('https://acme.slack.com/files/U0001/F0000000A1/red.png https://acme.slack.com/files/U0001/F0000000D4/notes.png round');
    expect(told()).toContain('/imagine-blend needs 2 to 5 Slack file links (Copy link to file); 1 was given.');
    expect(told()).toContain('shape must be square, portrait or landscape; "round" is none of them.');
    expect(api.callsOf('files.info')).toEqual([]);
    expect(await takeJobs(emulator.ports.queue)).toEqual([]);
  });
});

describe('GIVEN an @mention in a thread with files attached', () => {
  it('WHEN two pictures come with the mention THEN one job in that thread has both as image prompts', async () => {
    expect((await mention('<@UBOT> the same, at night', ['F0000000A1', 'F0000000B2'], '1700000200.000300')).statusCode).toBe(200);
    const job = JobSchema.parse((await takeJobs(emulator.ports.queue))[0]);
    expect(job.request).toMatchObject({ prompt: 'the same, at night', imagePrompts: [0, 1].map((n) => ({ key: jobKeys.input(job.id, n), weight: 1 })) });
    expect(job.delivery).toMatchObject({ threadTs: '1700000000.000100' });
    expect(await inputsIn(job)).toHaveLength(2);
    expect(downloads.every((d) => d.headers.authorization === `Bearer ${BOT_TOKEN}`)).toBe(true);
  });

  it('WHEN a mention in the thread asks for a picture (--strength, no prompt of its own) THEN the thread\'s newest picture starts the job; a plain prompt stays text', async () => {
    api.threads.set('1700000000.000100', [
      { ts: '1700000000.000100', text: 'ideas' },
      { ts: '1700000100.000100', files: [{ id: 'F0000000B2', mimetype: 'image/jpeg' }] },
      { ts: '1700000150.000100', files: [{ id: 'F0000000A1', mimetype: 'image/png' }, { id: 'F0000000G7', mimetype: 'application/pdf' }] },
      { ts: '1700000900.000100', files: [{ id: 'F0000000D4', mimetype: 'image/png' }] },
    ]);
    await mention('<@UBOT> --strength 0.5', [], '1700000300.000500');
    const job = JobSchema.parse((await takeJobs(emulator.ports.queue))[0]);
    expect(job.request).toMatchObject({ prompt: '', initImage: { key: jobKeys.input(job.id, 0), strength: 0.5 }, aspect: { w: 3, h: 2 } });
    expect(api.callsOf('files.info').map((call) => call.params.file)).toEqual(['F0000000A1']);
    expect(api.callsOf('conversations.replies')[0]!.params).toMatchObject({ channel: 'C0001', ts: '1700000000.000100' });

    await mention('<@UBOT> a red fox in the snow', [], '1700000300.000600');
    const text = JobSchema.parse((await takeJobs(emulator.ports.queue))[0]);
    expect(text.request.imagePrompts).toBeUndefined();
    expect(text.request.initImage).toBeUndefined();
    expect(api.callsOf('conversations.replies')).toHaveLength(1);
  });

  it('WHEN the attached file is not a picture THEN the requester alone is told, in the thread', async () => {
    await mention('<@UBOT> like this', ['F0000000D4'], '1700000200.000400');
    const ephemeral = api.callsOf('chat.postEphemeral')[0]!;
    expect(ephemeral.params).toMatchObject({ user: 'U0001', channel: 'C0001', thread_ts: '1700000000.000100' });
    expect(ephemeral.params.text).toContain('is not a picture this bot reads');
    expect(await takeJobs(emulator.ports.queue)).toEqual([]);
  });
});

describe('slackFileLinks', () => {
  it('GIVEN links in every form Slack sends THEN only Slack file links are taken out, once each', () => {
    expect(slackFileLinks('a fox <https://acme.slack.com/files/U1/F0ABCDEF12/fox.png|fox.png> --iw 2')).toEqual({ text: 'a fox --iw 2', fileIds: ['F0ABCDEF12'] });
    expect(slackFileLinks('https://files.slack.com/files-pri/T01-F0ABCDEF12/fox.png https://acme.slack.com/files/U1/F0ABCDEF12/fox.png')).toEqual({ text: '', fileIds: ['F0ABCDEF12'] });
    expect(slackFileLinks('see https://example.org/files/U1/F0ABCDEF12/x.png and https://acme.slack.com/archives/C1')).toEqual({ text: 'see https://example.org/files/U1/F0ABCDEF12/x.png and https://acme.slack.com/archives/C1', fileIds: [] });
    expect(slackFileLinks('http://acme.slack.com/files/U1/F0ABCDEF12/x.png').fileIds).toEqual([]);
  });
});
