/**
 * Remix on Slack over signed HTTP: R2 opens a dialog (views.open on the recording API), and the signed
 * view_submission enqueues a strong variation of tile 2 with the new prompt, in the pressed message's
 * thread. The queue and store are the emulator's.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Job } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { createSlackApp } from '../../bot/slack/app.ts';
import { createSlackEventsHandler, type SlackEventsHandler } from '../../functions/slack-events.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { takeJobs } from '../support/drain-jobs.ts';
import { RecordingSlackApi } from './support/recording-slack-api.ts';
import { FORM, SIGNING_SECRET, interactionBody, signedEvent, slashCommandBody } from './support/signed-requests.ts';
import { resultOf } from './support/fixtures.ts';
import { recordingLogger } from '../support/recording-logger.ts';

const THREAD_TS = '1700000000.000400';
let emulator: TestEmulator;
let api: RecordingSlackApi;
let handle: SlackEventsHandler;
const log = recordingLogger();
const logged = log.lines;
let parent: Job;

beforeAll(async () => {
  [emulator, api] = await Promise.all([startTestEmulator(), new RecordingSlackApi().start()]);
  const bot = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: ['gore'] }), randomSeed: () => 7 };
  const { receiver } = createSlackApp({ transport: 'lambda', botToken: 'xoxb-test', signingSecret: SIGNING_SECRET, apiUrl: api.url, retryConfig: { retries: 0 } }, { bot, log });
  handle = await createSlackEventsHandler(receiver!, { signingSecret: SIGNING_SECRET });

  const imagine = slashCommandBody({ team_id: 'T0001', channel_id: 'C0001', user_id: 'UOWNER', command: '/imagine', text: 'a castle --ar 3:2 --chaos 10', trigger_id: 'remix.imagine', response_url: api.responseUrl('imagine') });
  expect((await handle(signedEvent(imagine, FORM))).statusCode).toBe(200);
  [parent] = (await takeJobs(emulator.ports.queue)) as [Job];
  await emulator.ports.blobs.put(jobKeys.result(parent.id), JSON.stringify(resultOf(parent)), 'application/json');
  api.calls.length = 0;
});
afterAll(async () => {
  await Promise.all([emulator?.stop(), api?.stop()]);
});
afterEach(async () => {
  await takeJobs(emulator.ports.queue);
  api.calls.length = 0;
  logged.length = 0;
});

let presses = 0;
/** Presses R{tile} as `userId` on the parent's message in a thread; returns the dialog Slack was asked to open. */
async function pressRemix(userId: string, tile = 2): Promise<{ viewId: string; view: Record<string, unknown> }> {
  presses += 1;
  const press = {
    type: 'block_actions', trigger_id: `remix.press.${presses}`, user: { id: userId }, team: { id: 'T0001' }, channel: { id: 'C0001' },
    container: { type: 'message', message_ts: '1700000000.000500', thread_ts: THREAD_TS }, message: { ts: '1700000000.000500', thread_ts: THREAD_TS },
    response_url: api.responseUrl(`press-${presses}`), actions: [{ type: 'button', action_id: `remix:${parent.id}:${tile}`, block_id: 'row:remix' }],
  };
  expect((await handle(signedEvent(interactionBody(press), FORM))).statusCode).toBe(200);
  const opened = api.callsOf('views.open').at(-1)!;
  expect(opened.params.trigger_id).toBe(`remix.press.${presses}`);
  return { viewId: `V-dialog-${presses}`, view: JSON.parse(opened.params.view!) as Record<string, unknown> };
}

function submission(userId: string, viewId: string, privateMetadata: string, prompt: string) {
  return {
    type: 'view_submission', team: { id: 'T0001', domain: 'test' }, user: { id: userId, name: 'tester', team_id: 'T0001' }, api_app_id: 'A0001', token: 'legacy', trigger_id: `${viewId}.submit`,
    view: {
      id: viewId, callback_id: 'remix', team_id: 'T0001', app_id: 'A0001', bot_id: 'B0001', type: 'modal', hash: 'h', private_metadata: privateMetadata,
      state: { values: { prompt: { prompt: { type: 'plain_text_input', value: prompt } } } },
    },
  };
}

describe('GIVEN a finished grid posted in a Slack thread', () => {
  it('WHEN R2 is pressed THEN a dialog for the new prompt opens and nothing is enqueued or posted yet', async () => {
    const { view } = await pressRemix('UOWNER');
    expect(view).toMatchObject({ type: 'modal', callback_id: 'remix', title: { text: 'Remix image 2' }, submit: { text: 'Remix' } });
    expect(JSON.parse(view.private_metadata as string)).toEqual({ customId: `remix:${parent.id}:2`, channelId: 'C0001', teamId: 'T0001', threadTs: THREAD_TS });
    expect(JSON.stringify(view.blocks)).toContain('"action_id":"prompt"');
    expect(await takeJobs(emulator.ports.queue)).toEqual([]);
    expect(api.callsOf('chat.postMessage')).toEqual([]);
  });

  it('WHEN the dialog is submitted THEN a strong variation of tile 2 with the new prompt (its options over the parent\'s) is enqueued, its message in that thread', async () => {
    const { viewId, view } = await pressRemix('UOWNER');
    const response = await handle(signedEvent(interactionBody(submission('UOWNER', viewId, view.private_metadata as string, 'a castle at dawn --ar 16:9')), FORM));
    expect(response.statusCode).toBe(200);
    const [child, ...more] = await takeJobs(emulator.ports.queue);
    expect(more).toEqual([]);
    const placeholder = api.callsOf('chat.postMessage').at(-1)!.params;
    expect(placeholder).toMatchObject({ channel: 'C0001', thread_ts: THREAD_TS });
    expect(child).toMatchObject({
      kind: 'variation', strength: 'strong', parent: { jobId: parent.id, index: 2 },
      requester: { userId: 'UOWNER', channelId: 'C0001' },
      request: { prompt: 'a castle at dawn', aspect: { w: 16, h: 9 }, chaos: 10, seed: 7 },
      delivery: { platform: 'slack', channelId: 'C0001', threadTs: THREAD_TS, messageTs: api.messages.get([...api.messages.keys()].at(-1)!)!.ts },
    });
  });

  it('WHEN the submitted prompt is blocked THEN the submitter alone is told why, and nothing is posted or enqueued', async () => {
    const { viewId, view } = await pressRemix('UOWNER');
    await handle(signedEvent(interactionBody(submission('UOWNER', viewId, view.private_metadata as string, 'gore everywhere')), FORM));
    expect(await takeJobs(emulator.ports.queue)).toEqual([]);
    expect(api.callsOf('chat.postMessage')).toEqual([]);
    const ephemeral = api.callsOf('chat.postEphemeral').at(-1)!.params;
    expect(ephemeral).toMatchObject({ channel: 'C0001', user: 'UOWNER', thread_ts: THREAD_TS });
    expect(ephemeral.text).toContain('gore');
  });

  it('WHEN someone else submits a remix of the owner\'s grid THEN the placeholder is removed and they are told only the owner may', async () => {
    const { viewId, view } = await pressRemix('USTRANGER');
    await handle(signedEvent(interactionBody(submission('USTRANGER', viewId, view.private_metadata as string, 'a castle at night')), FORM));
    expect(await takeJobs(emulator.ports.queue)).toEqual([]);
    expect(api.callsOf('chat.delete')).toHaveLength(1);
    const ephemeral = api.callsOf('chat.postEphemeral').at(-1)!.params;
    expect(ephemeral).toMatchObject({ user: 'USTRANGER' });
    expect(ephemeral.text).toContain('Only the person who asked');
  });

  it.each([
    ['not JSON', () => 'not json'],
    ['a forged button id', () => JSON.stringify({ customId: 'remix:../../x:9', channelId: 'C0001' })],
    ['another button\'s id (U1 of the same grid)', () => JSON.stringify({ customId: `upscale:${parent.id}:1`, channelId: 'C0001' })],
    ['no channel', () => JSON.stringify({ customId: `remix:${parent.id}:1` })],
  ])('WHEN the dialog comes back with %s as its metadata THEN nothing is posted or enqueued and the failure is logged', async (_name, metadataOf) => {
    const metadata = metadataOf();
    await handle(signedEvent(interactionBody(submission('UOWNER', 'V-forged', metadata, 'a castle')), FORM));
    expect(await takeJobs(emulator.ports.queue)).toEqual([]);
    expect(api.callsOf('chat.postMessage')).toEqual([]);
    expect(log.events()).toContain('slack_request_failed');
  });
});
