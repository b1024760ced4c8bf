/**
 * The whole Slack path with real parts: a signed /imagine through the Lambda handler → SQS (fauxqs) →
 * the GPU runner with the test generator → S3 + events → the dispatcher → SlackPoster → the recorded
 * upload and chat.update carrying the grid and the buttons. Then U2 on that message arrives over
 * Socket Mode (a loopback WebSocket speaking Slack's envelope protocol) and goes the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/log.ts';
import { ResultSchema } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { startRunner, type RunnerHandle } from '../../gpu-runner/main.ts';
import { Dispatcher } from '../../bot/dispatcher.ts';
import { decodeButtonId } from '../../bot/custom-id.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { createSlackApp } from '../../bot/slack/app.ts';
import { startSlackSocketMode, type SlackSocketMode } from '../../bot/slack/socket-mode.ts';
import { createSlackEventsHandler } from '../../functions/slack-events.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { TestGenerator } from '../support/test-generator.ts';
import { FAST_RUNNER_ENV } from '../runner/harness.ts';
import { RecordingSlackApi, type RecordedMessage } from './support/recording-slack-api.ts';
import { SocketModeLink } from './support/socket-mode-link.ts';
import { FORM, SIGNING_SECRET, signedEvent, slashCommandBody } from './support/signed-requests.ts';

type Block = { type: string; slack_file?: { id: string }; elements?: Array<{ action_id?: string; text?: string | { text: string } }> };

let emulator: TestEmulator;
let api: RecordingSlackApi;
let link: SocketModeLink;
let runner: RunnerHandle;
let dispatcher: Dispatcher;
let socket: SlackSocketMode;
let bot: BotDeps;
const stopDispatcher = new AbortController();

const isFinal = (message: RecordedMessage | undefined) =>
  message !== undefined && (message.blocks as Block[]).some((b) => b.type === 'image') && JSON.stringify(message.blocks).includes('Done');

function actionIds(blocks: Block[]): string[] {
  return blocks.flatMap((b) => (b.type === 'actions' ? (b.elements ?? []).map((e) => e.action_id!) : []));
}

beforeAll(async () => {
  [emulator, api] = await Promise.all([startTestEmulator(), new RecordingSlackApi().start()]);
  link = new SocketModeLink(api.httpServer);
  bot = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 10 };
  socket = await startSlackSocketMode({ botToken: 'xoxb-test', appToken: 'xapp-test', apiUrl: api.url, bot });
  await link.connected;
  dispatcher = new Dispatcher({ events: emulator.ports.events, blobs: emulator.ports.blobs, posters: { slack: socket.poster }, receiveWaitSeconds: 1 });
  void dispatcher.run(stopDispatcher.signal);
  const config = loadConfig({ ...emulator.env(), ...FAST_RUNNER_ENV, RUNNER_ID: 'slack-e2e' });
  runner = await startRunner({ config, generator: new TestGenerator(), ports: emulator.ports, handleSignals: false, log: createLogger({ level: 'error' }) });
});

afterAll(async () => {
  stopDispatcher.abort();
  dispatcher?.stop();
  await runner?.stop('test over');
  await socket?.stop();
  await link?.close();
  await api?.stop();
  await emulator?.stop();
});

describe('GIVEN the Slack app, the queue, a runner and the dispatcher on loopback', () => {
  let gridTs = '';
  let jobId = '';

  it('WHEN a signed /imagine arrives over HTTP THEN the placeholder is edited in place up to the uploaded grid with U1–U4, V1–V4, 🔄, ℹ️, 🗑️', async () => {
    const { receiver } = createSlackApp({ transport: 'lambda', botToken: 'xoxb-test', signingSecret: SIGNING_SECRET, apiUrl: api.url }, { bot });
    const handle = await createSlackEventsHandler(receiver!, { signingSecret: SIGNING_SECRET });
    const body = slashCommandBody({ team_id: 'T0001', channel_id: 'C0001', user_id: 'U0001', command: '/imagine', text: 'a lighthouse in a storm --ar 3:2 --seed 7', trigger_id: 'e2e.1', response_url: api.responseUrl('e2e') });
    expect((await handle(signedEvent(body, FORM))).statusCode).toBe(200);

    await api.waitFor(() => [...api.messages.values()].some(isFinal), 30_000);
    const message = [...api.messages.values()].find(isFinal)!;
    gridTs = message.ts;
    const blocks = message.blocks as Block[];

    // Every edit went to the one placeholder, via chat.update; nothing else was posted.
    expect(api.callsOf('chat.postMessage')).toHaveLength(1);
    const updates = api.callsOf('chat.update');
    expect(updates.every((u) => u.params.ts === gridTs && u.params.channel === 'C0001')).toBe(true);
    expect(updates.at(-1)!.params.blocks).toContain('Done');
    expect(api.callsOf('respond')).toEqual([]);

    // The upload flow ran in order before the final edit, and the message shows that file.
    const methods = api.calls.map((c) => c.method);
    const finalUpdate = methods.lastIndexOf('chat.update');
    const [getUrl, upload, complete] = ['files.getUploadURLExternal', 'upload', 'files.completeUploadExternal'].map((m) => methods.lastIndexOf(m));
    expect(getUrl).toBeLessThan(upload!);
    expect(upload).toBeLessThan(complete!);
    expect(complete).toBeLessThan(finalUpdate);
    const fileId = blocks.find((b) => b.type === 'image')!.slack_file!.id;
    const uploaded = api.uploads.get(fileId)!;
    expect(uploaded.completed).toBe(true);

    const buttons = actionIds(blocks).map(decodeButtonId);
    jobId = buttons[0]!.jobId;
    expect(buttons.map((b) => `${b.action}:${b.index}`)).toEqual([
      'upscale:1', 'upscale:2', 'upscale:3', 'upscale:4', 'reroll:0',
      'vary_subtle:1', 'vary_subtle:2', 'vary_subtle:3', 'vary_subtle:4', 'info:0',
      'vary_strong:1', 'vary_strong:2', 'vary_strong:3', 'vary_strong:4', 'delete:0',
      'remix:1', 'remix:2', 'remix:3', 'remix:4',
    ]);

    // The uploaded bytes are the grid the runner stored (or a smaller re-encoding of it).
    const result = ResultSchema.parse(JSON.parse(Buffer.from((await emulator.ports.blobs.get(jobKeys.result(jobId)))!).toString('utf8')));
    expect(result.grid).toBeDefined(); // a chat delivery attaches the grid (storesGridImage)
    const stored = (await emulator.ports.blobs.get(result.grid!.key))!;
    if (uploaded.filename.endsWith('.png')) expect(Buffer.from(uploaded.bytes!).equals(Buffer.from(stored))).toBe(true);
    else expect(uploaded.bytes!.byteLength).toBeLessThan(stored.byteLength);
  });

  it('WHEN U2 is pressed on that message over Socket Mode THEN the envelope is acked and an upscale is delivered as its own message with lineage', async () => {
    expect(jobId).not.toBe('');
    const press = {
      type: 'block_actions', trigger_id: 'e2e.press.2', user: { id: 'U0001' }, team: { id: 'T0001' }, channel: { id: 'C0001' },
      container: { type: 'message', message_ts: gridTs, channel_id: 'C0001' }, message: { ts: gridTs },
      response_url: api.responseUrl('e2e-press'), actions: [{ type: 'button', action_id: `upscale:${jobId}:2`, block_id: 'row:upscale' }],
    };
    await link.send({ envelope_id: 'env-press-2', type: 'interactive', payload: press, accepts_response_payload: false });
    expect(link.acks.has('env-press-2')).toBe(true);

    const isUpscale = (m: RecordedMessage) => m.ts !== gridTs && isFinal(m) && JSON.stringify(m.blocks).includes(`Upscale of tile 2 of job ${jobId}`);
    await api.waitFor(() => [...api.messages.values()].some(isUpscale), 30_000);
    const upscale = [...api.messages.values()].find(isUpscale)!;
    expect(actionIds(upscale.blocks as Block[]).map((id) => decodeButtonId(id).action)).toEqual(['vary_subtle', 'vary_strong', 'info', 'delete']);
    expect(api.messages.get(gridTs)!.updates).toBeGreaterThan(0);
  });

  it('WHEN a slash command envelope arrives over Socket Mode THEN it is acked with an empty payload and enqueued once, also when Slack retries it', async () => {
    const payload = { team_id: 'T0001', channel_id: 'C0002', user_id: 'U0009', command: '/imagine', text: 'a quiet harbour', trigger_id: 'e2e.socket.1', response_url: api.responseUrl('socket') };
    await link.send({ envelope_id: 'env-cmd-1', type: 'slash_commands', payload, accepts_response_payload: true });
    await link.send({ envelope_id: 'env-cmd-1-retry', type: 'slash_commands', payload, accepts_response_payload: true, retry_attempt: 1, retry_reason: 'timeout' });
    expect(link.acks.get('env-cmd-1')).toEqual({ at: expect.any(Number), payload: {} });
    expect(link.acks.has('env-cmd-1-retry')).toBe(true);
    await api.waitFor(() => [...api.messages.values()].some((m) => m.channel === 'C0002' && isFinal(m)), 30_000);
    expect(api.callsOf('chat.postMessage').filter((c) => c.params.channel === 'C0002')).toHaveLength(1);
  });
});
