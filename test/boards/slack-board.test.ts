/**
 * Mood boards on Slack with real parts: HMAC-signed slash commands and block actions through the Lambda handler
 * (Bolt), the emulator, the dispatcher with the board header updater and SlackPoster, and a recording Slack Web
 * API. /board start posts the header whose thread is the session; /imagine in the channel joins the board (the
 * slash payload names no thread); 📌 posts a pin card with 👍 ⭐ unpin into the thread; votes; status; a refused
 * end; the host's end edits the header with chat.update and posts the summary in the thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dispatcher } from '../../bot/dispatcher.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { createSlackApp } from '../../bot/slack/app.ts';
import { SLACK_COMMANDS } from '../../bot/slack/commands.ts';
import { SlackPoster } from '../../bot/slack/poster.ts';
import { createSlackClient } from '../../bot/slack/web-client.ts';
import { BoardHeaderUpdater } from '../../bot/boards/header-updater.ts';
import { findActiveBoard, loadBoardState } from '../../bot/boards/board-store.ts';
import { loadJob } from '../../bot/job-records.ts';
import { createSlackEventsHandler } from '../../functions/slack-events.ts';
import { takeJobs } from '../support/drain-jobs.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { RecordingSlackApi } from '../slack/support/recording-slack-api.ts';
import { FORM, SIGNING_SECRET, interactionBody, signedEvent, slashCommandBody } from '../slack/support/signed-requests.ts';
import { finishJob } from './support.ts';

let emulator: TestEmulator;
let api: RecordingSlackApi;
let dispatcher: Dispatcher;
let handle: Awaited<ReturnType<typeof createSlackEventsHandler>>;
const stop = new AbortController();
let n = 0;

const command = (command: string, text: string, user = 'UHOST') =>
  signedEvent(slashCommandBody({ team_id: 'T0001', channel_id: 'C0001', user_id: user, command, text, trigger_id: `t.${++n}`, response_url: api.responseUrl(`r${n}`) }), FORM);
const press = (actionId: string, user: string) =>
  signedEvent(interactionBody({ type: 'block_actions', trigger_id: `p.${++n}`, user: { id: user }, team: { id: 'T0001' }, channel: { id: 'C0001' }, container: { type: 'message', message_ts: '1700000000.000900', channel_id: 'C0001' }, response_url: api.responseUrl(`p${n}`), actions: [{ type: 'button', action_id: actionId, block_id: 'b', action_ts: '1.1' }] }), FORM);
const lastRespond = () => String(api.callsOf('respond').at(-1)?.params.text ?? '');

beforeAll(async () => {
  [emulator, api] = await Promise.all([startTestEmulator(), new RecordingSlackApi().start()]);
  const bot: BotDeps = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 10 };
  const { receiver } = createSlackApp({ transport: 'lambda', botToken: 'xoxb-test', signingSecret: SIGNING_SECRET, apiUrl: api.url }, { bot });
  handle = await createSlackEventsHandler(receiver!, { signingSecret: SIGNING_SECRET });
  const poster = new SlackPoster({ client: createSlackClient('xoxb-test', { apiUrl: api.url }) });
  const updater = new BoardHeaderUpdater({ blobs: emulator.ports.blobs, posters: { slack: poster }, minIntervalMs: 500, pageBaseUrl: 'https://boards.example/' });
  dispatcher = new Dispatcher({ events: emulator.ports.events, blobs: emulator.ports.blobs, posters: { slack: poster }, boards: updater, receiveWaitSeconds: 1 });
  void dispatcher.run(stop.signal);
});

afterAll(async () => {
  stop.abort();
  dispatcher?.stop();
  await api?.stop();
  await emulator?.stop();
});

describe('GIVEN the Slack app with mood boards on loopback', () => {
  let headerTs = '';
  let jobId = '';

  it('THEN /board is a registered command', () => {
    expect(SLACK_COMMANDS.map((c) => c.definition.command)).toContain('/board');
  });

  it('WHEN a signed /board start arrives THEN the header is posted in the channel, its thread is the session, and it is updated in place', async () => {
    expect((await handle(command('/board', 'start "Harbour moods" --brief foggy mornings --duration 2h'))).statusCode).toBe(200);
    await api.waitFor(() => api.callsOf('respond').length > 0, 10_000);
    expect(lastRespond()).toContain('Board "Harbour moods" is open');
    const posted = api.callsOf('chat.postMessage')[0]!;
    expect(posted.params.channel).toBe('C0001');
    const board = await findActiveBoard(emulator.ports.blobs, { platform: 'slack', channelId: 'C0001' }, Date.now());
    headerTs = board!.place.threadId!;
    expect(headerTs).toBeTruthy();
    await api.waitFor(() => api.callsOf('chat.update').some((u) => u.params.ts === headerTs && String(u.params.blocks).includes('Board code')), 15_000);
    const update = api.callsOf('chat.update').find((u) => u.params.ts === headerTs)!;
    expect(String(update.params.blocks)).toContain('slack_file');
    expect(String(update.params.blocks)).toContain('https://boards.example/boards/');
  });

  it('WHEN /imagine is used in the channel (a slash payload names no thread) THEN the job joins the board', async () => {
    await handle(command('/imagine', 'a misty harbour --seed 3', 'UMAKER'));
    let jobs = await takeJobs(emulator.ports.queue);
    for (let i = 0; i < 50 && jobs.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      jobs = await takeJobs(emulator.ports.queue);
    }
    jobId = jobs[0]!.id;
    expect((await loadJob(emulator.ports.blobs, jobId))?.boardId).toMatch(/^b/);
    await finishJob(emulator.ports.blobs, jobId);
  });

  it('WHEN 📌 is pressed THEN a pin card with 👍 ⭐ unpin is posted in the board thread, and votes count', async () => {
    await handle(press(`pin:${jobId}:1`, 'UMAKER'));
    // The /imagine placeholder is in the thread too (a channel's /imagine posts in its board's thread): find the card.
    const isCard = (c: { params: Record<string, string> }) => c.params.thread_ts === headerTs && String(c.params.blocks).includes(`vote:${jobId}:1`);
    await api.waitFor(() => api.callsOf('chat.postMessage').some(isCard), 10_000);
    const card = api.callsOf('chat.postMessage').find(isCard)!;
    for (const action of ['vote', 'hero', 'unpin']) expect(String(card.params.blocks)).toContain(`${action}:${jobId}:1`);
    await handle(press(`vote:${jobId}:1`, 'UA'));
    await handle(press(`vote:${jobId}:1`, 'UB'));
    expect(lastRespond()).toContain('👍 Voted for tile 1 (2 votes)');
    await handle(press(`hero:${jobId}:1`, 'UA'));
    expect(lastRespond()).toBe('Only the host can choose the ⭐ hero image.');
    const state = await loadBoardState(emulator.ports.blobs, (await loadJob(emulator.ports.blobs, jobId))!.boardId!);
    expect(state!.pins.map((p) => p.votes)).toEqual([2]);
  });

  it('WHEN /board status, a member’s /board end and the host’s /board end arrive THEN the code, a refusal, and the end with its summary in the thread', async () => {
    await handle(command('/board', 'status', 'UA'));
    await api.waitFor(() => JSON.stringify(api.callsOf('respond').at(-1)?.params ?? {}).includes('mb-b'), 10_000);
    await handle(command('/board', 'end', 'UA'));
    await api.waitFor(() => lastRespond() === 'Only the host or a co-host can end this board.', 10_000);
    await handle(command('/board', 'end'));
    await api.waitFor(() => lastRespond().startsWith('Ended "Harbour moods"'), 10_000);
    await api.waitFor(() => api.callsOf('chat.postMessage').some((c) => c.params.thread_ts === headerTs && String(c.params.text).includes('final board')), 20_000);
    await api.waitFor(() => api.callsOf('chat.update').some((u) => u.params.ts === headerTs && String(u.params.text).includes('Ended')), 10_000);
    await handle(command('/board', 'end'));
    await api.waitFor(() => lastRespond() === 'There is no open board here to end.', 10_000);
  });
});
