/**
 * A whole mood-board session on Slack with real parts: HMAC-signed requests through the Lambda handler (the same
 * gate Slack's requests pass), the emulator's SQS/S3, a runner with the test generator, the dispatcher with the board
 * header updater, and SlackPoster talking to a recording Web API on loopback.
 *
 * `/board start` → header posted in the channel, then edited (chat.update) with the collage; a second start is refused;
 * `/imagine` in the channel and an `@cascade` mention in the header's thread both join the board, in its thread, with
 * 📌/👍 under the grid; 📌 stores a pin and posts a pin card (👍 ⭐ unpin) in the thread; 👍 toggles one vote object
 * per user; ⭐ only for the host; `/board status`, `generate 2`, `end` (refused for a member, then by the host) → the
 * summary in the thread with the exports and the header shown as ended. Refusals are ephemeral, with the core's sentences.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/log.ts';
import type { Job } from '../../core/job.ts';
import { boardKeys } from '../../core/storage-layout.ts';
import { startRunner, type RunnerHandle } from '../../gpu-runner/main.ts';
import { Dispatcher } from '../../bot/dispatcher.ts';
import { decodeButtonId } from '../../bot/custom-id.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { loadJob } from '../../bot/job-records.ts';
import { BoardHeaderUpdater } from '../../bot/boards/header-updater.ts';
import { findActiveBoard, loadBoardState } from '../../bot/boards/board-store.ts';
import type { BoardRecord } from '../../bot/boards/model.ts';
import { createSlackApp } from '../../bot/slack/app.ts';
import { SlackPoster } from '../../bot/slack/poster.ts';
import { createSlackClient } from '../../bot/slack/web-client.ts';
import { createSlackEventsHandler, type SlackEventsHandler } from '../../functions/slack-events.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { TestGenerator } from '../support/test-generator.ts';
import { FAST_RUNNER_ENV } from '../runner/harness.ts';
import { RecordingSlackApi, type RecordedMessage } from './support/recording-slack-api.ts';
import { FORM, JSON_TYPE, SIGNING_SECRET, interactionBody, signedEvent, slashCommandBody } from './support/signed-requests.ts';

type Block = { type: string; block_id?: string; slack_file?: { id: string }; text?: { text: string }; elements?: Array<{ action_id?: string; text?: string | { text: string } }> };

const CHANNEL = 'C0B0ARD01';
const HOST = 'U0HOST01';
const MEMBER = 'U0MEMB01';

let emulator: TestEmulator;
let api: RecordingSlackApi;
let runner: RunnerHandle;
let dispatcher: Dispatcher;
let updater: BoardHeaderUpdater;
let handle: SlackEventsHandler;
let bot: BotDeps;
const stopDispatcher = new AbortController();
let requestNo = 0;

const actionIds = (blocks: unknown[]) => (blocks as Block[]).flatMap((b) => (b.type === 'actions' ? (b.elements ?? []).map((e) => e.action_id!) : []));
const isFinalGrid = (m: RecordedMessage) => (m.blocks as Block[]).some((b) => b.type === 'image') && JSON.stringify(m.blocks).includes('Done');

/** A signed slash command; returns the response_url name its ephemeral answers go to. */
async function slash(user: string, command: string, text: string, userName?: string): Promise<string> {
  const name = `r${++requestNo}`;
  const body = slashCommandBody({ team_id: 'T0001', channel_id: CHANNEL, user_id: user, ...(userName ? { user_name: userName } : {}), command, text, trigger_id: `board.${requestNo}`, response_url: api.responseUrl(name) });
  expect((await handle(signedEvent(body, FORM))).statusCode).toBe(200);
  return name;
}

/** A signed button press on message `ts`; returns the response_url name. */
async function press(user: string, actionId: string, ts: string, threadTs?: string): Promise<string> {
  const name = `r${++requestNo}`;
  const payload = {
    type: 'block_actions', trigger_id: `press.${requestNo}`, user: { id: user }, team: { id: 'T0001' }, channel: { id: CHANNEL },
    container: { type: 'message', message_ts: ts, channel_id: CHANNEL, ...(threadTs ? { thread_ts: threadTs } : {}) }, message: { ts, ...(threadTs ? { thread_ts: threadTs } : {}) },
    response_url: api.responseUrl(name), actions: [{ type: 'button', action_id: actionId, block_id: 'row' }],
  };
  expect((await handle(signedEvent(interactionBody(payload), FORM))).statusCode).toBe(200);
  return name;
}

/** What was told to the actor through one response_url (ephemeral answers). */
function told(name: string): string[] {
  return api.callsOf('respond').filter((c) => c.params.responseUrl === `/respond/${name}`).map((c) => {
    expect(c.params.response_type).toBe('ephemeral');
    return c.params.text ?? '';
  });
}

async function jobsInThread(threadTs: string): Promise<Job[]> {
  const keys = (await bot.blobs.list('jobs/')).filter((key) => key.endsWith('/job.json'));
  const jobs = await Promise.all(keys.map((key) => loadJob(bot.blobs, key.split('/')[1]!)));
  return jobs.filter((job): job is Job => job !== null && job.delivery.platform === 'slack' && job.delivery.threadTs === threadTs);
}

beforeAll(async () => {
  [emulator, api] = await Promise.all([startTestEmulator(), new RecordingSlackApi().start()]);
  bot = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 10 };
  const poster = new SlackPoster({ client: createSlackClient('xoxb-test', { apiUrl: api.url }), fileReadyRetryDelaysMs: [] });
  updater = new BoardHeaderUpdater({ blobs: emulator.ports.blobs, posters: { slack: poster }, minIntervalMs: 300, pageBaseUrl: 'http://127.0.0.1:9/' });
  dispatcher = new Dispatcher({ events: emulator.ports.events, blobs: emulator.ports.blobs, posters: { slack: poster }, boards: updater, receiveWaitSeconds: 1 });
  void dispatcher.run(stopDispatcher.signal);
  const { receiver } = createSlackApp({ transport: 'lambda', botToken: 'xoxb-test', signingSecret: SIGNING_SECRET, apiUrl: api.url }, { bot });
  handle = await createSlackEventsHandler(receiver!, { signingSecret: SIGNING_SECRET });
  const config = loadConfig({ ...emulator.env(), ...FAST_RUNNER_ENV, RUNNER_ID: 'slack-board-e2e' });
  runner = await startRunner({ config, generator: new TestGenerator(), ports: emulator.ports, handleSignals: false, log: createLogger({ level: 'error' }) });
});

afterAll(async () => {
  stopDispatcher.abort();
  dispatcher?.stop();
  updater?.stop();
  await runner?.stop('test over');
  await api?.stop();
  await emulator?.stop();
});

describe('GIVEN the Slack app over signed HTTP, the queue, a runner, the dispatcher and the board header updater', () => {
  let board: BoardRecord;
  let headerTs = '';
  let gridJobId = '';
  let gridTs = '';

  it('WHEN /board start "Spring campaign" --brief … --duration 2h arrives THEN the header is posted in the channel, the board is stored with its ts as the thread, and the header is edited with the collage', async () => {
    const name = await slash(HOST, '/board', 'start "Spring campaign" --brief pastel, outdoors --duration 2h --visibility link', 'hana');
    const posted = api.callsOf('chat.postMessage');
    expect(posted).toHaveLength(1);
    expect(posted[0]!.params.channel).toBe(CHANNEL);
    expect(posted[0]!.params.thread_ts).toBeUndefined();

    board = (await findActiveBoard(bot.blobs, { platform: 'slack', channelId: CHANNEL }, Date.now()))!;
    expect(board).toMatchObject({ name: 'Spring campaign', brief: 'pastel, outdoors', visibility: 'link', host: { platform: 'slack', userId: HOST, name: 'hana' }, place: { platform: 'slack', channelId: CHANNEL, workspaceId: 'T0001' } });
    expect(board.deadline - board.createdAt).toBe(2 * 3_600_000);
    headerTs = board.place.threadId!;
    expect([...api.messages.values()].find((m) => m.ts === headerTs)?.channel).toBe(CHANNEL);
    expect(told(name).join('\n')).toMatch(/^Board "Spring campaign" is open until .* UTC\. Every \/imagine here joins it/);

    // The header updater edits that same message (chat.update) with the uploaded collage, the code and the page link.
    await api.waitFor(() => (api.messages.get(headerTs)?.blocks as Block[] | undefined)?.some((b) => b.block_id?.startsWith('collage:')) === true, 20_000);
    const header = api.messages.get(headerTs)!;
    expect(api.callsOf('chat.update').some((u) => u.params.ts === headerTs && u.params.channel === CHANNEL)).toBe(true);
    expect(header.text).toContain('📋 Spring campaign');
    const lines = JSON.stringify(header.blocks);
    expect(lines).toContain(`Host: <@${HOST}>`);
    expect(lines).toMatch(/Board code: `mb-b[a-z0-9]{11}-[a-z0-9]+`/);
    expect(lines).toContain(`<http://127.0.0.1:9/boards/${board.id}?t=`);
    const fileId = (header.blocks as Block[]).find((b) => b.type === 'image')!.slack_file!.id;
    expect(api.uploads.get(fileId)).toMatchObject({ completed: true, filename: `board-${board.id}.png` });
    expect(Buffer.from(api.uploads.get(fileId)!.bytes!.subarray(1, 4)).toString('latin1')).toBe('PNG');
  });

  it('WHEN a second /board start comes in the same channel THEN it is refused privately and nothing is posted', async () => {
    const before = api.callsOf('chat.postMessage').length;
    const name = await slash(MEMBER, '/board', 'start Another --brief x');
    expect(told(name)).toEqual(['This channel already has a board, "Spring campaign". Its host can end it with /board end first.']);
    expect(api.callsOf('chat.postMessage')).toHaveLength(before);
  });

  it('WHEN /imagine is used in the channel THEN its grid goes to the board thread, joins the board, and carries 📌 and 👍 per tile in one actions block', async () => {
    await slash(MEMBER, '/imagine', 'a red kite over dunes --seed 3');
    await api.waitFor(() => [...api.messages.values()].some((m) => m.threadTs === headerTs && isFinalGrid(m)), 30_000);
    const grid = [...api.messages.values()].find((m) => m.threadTs === headerTs && isFinalGrid(m))!;
    gridTs = grid.ts;
    const boardRow = (grid.blocks as Block[]).find((b) => b.block_id === 'row:board')!;
    const ids = (boardRow.elements ?? []).map((e) => decodeButtonId(e.action_id!));
    gridJobId = ids[0]!.jobId;
    expect(ids.map((b) => `${b.action}:${b.index}`)).toEqual(['pin:1', 'pin:2', 'pin:3', 'pin:4', 'vote:1', 'vote:2', 'vote:3', 'vote:4']);
    const job = (await loadJob(bot.blobs, gridJobId))!;
    expect(job.boardId).toBe(board.id);
    expect(await bot.blobs.exists(boardKeys.candidate(board.id, gridJobId))).toBe(true);
  });

  it('WHEN @cascade is mentioned in the board thread THEN that job joins the board and stays in the thread', async () => {
    const envelope = {
      type: 'event_callback', team_id: 'T0001', api_app_id: 'A0001', event_id: 'EvBoard01', event_time: 1700000000,
      event: { type: 'app_mention', user: MEMBER, channel: CHANNEL, text: '<@UBOT> a paper lantern festival', ts: '1700000200.000300', thread_ts: headerTs, event_ts: '1700000200.000300' },
    };
    expect((await handle(signedEvent(JSON.stringify(envelope), JSON_TYPE))).statusCode).toBe(200);
    const mentioned = (await jobsInThread(headerTs)).find((job) => job.request.prompt === 'a paper lantern festival')!;
    expect(mentioned.boardId).toBe(board.id);
    expect(mentioned.requester).toMatchObject({ userId: MEMBER, threadId: headerTs });
    expect(await bot.blobs.exists(boardKeys.candidate(board.id, mentioned.id))).toBe(true);
  });

  it('WHEN 📌 2 is pressed on the grid THEN the pin is stored and a pin card with 👍 ⭐ unpin is posted in the board thread', async () => {
    const name = await press(MEMBER, `pin:${gridJobId}:2`, gridTs, headerTs);
    const pinKey = `${gridJobId}-2`;
    const pin = JSON.parse(Buffer.from((await bot.blobs.get(boardKeys.pin(board.id, pinKey)))!).toString('utf8')) as { pinnedBy: { userId: string }; prompt: string; tile: number };
    expect(pin).toMatchObject({ tile: 2, prompt: 'a red kite over dunes', pinnedBy: { userId: MEMBER } });
    const card = [...api.messages.values()].find((m) => m.threadTs === headerTs && m.text.startsWith('📌 Pinned tile 2'))!;
    expect(card.text).toBe(`📌 Pinned tile 2 to "Spring campaign". (by <@${MEMBER}>)`);
    expect(actionIds(card.blocks)).toEqual([`vote:${gridJobId}:2`, `hero:${gridJobId}:2`, `unpin:${gridJobId}:2`]);
    expect(told(name)).toEqual([]);

    const again = await press(HOST, `pin:${gridJobId}:2`, gridTs, headerTs);
    expect(told(again)).toEqual(['Tile 2 is already pinned on "Spring campaign".']);
  });

  it('WHEN host and member press 👍 at once, then the member again THEN one vote object per user and the second press removes it', async () => {
    const votes = () => bot.blobs.list(boardKeys.votesOf(board.id, `${gridJobId}-2`));
    const [a, b] = await Promise.all([press(HOST, `vote:${gridJobId}:2`, gridTs, headerTs), press(MEMBER, `vote:${gridJobId}:2`, gridTs, headerTs)]);
    expect(await votes()).toHaveLength(2);
    expect([...told(a), ...told(b)].every((text) => text.startsWith('👍 Voted for tile 2'))).toBe(true);
    const undo = await press(MEMBER, `vote:${gridJobId}:2`, gridTs, headerTs);
    expect(told(undo)).toEqual(['Removed your vote for tile 2 (1 vote).']);
    expect((await votes()).map((key) => key.split('/').at(-1))).toHaveLength(1);
    expect((await loadBoardState(bot.blobs, board.id))!.pins[0]).toMatchObject({ pinKey: `${gridJobId}-2`, votes: 1 });

    const unpinned = await press(MEMBER, `vote:${gridJobId}:3`, gridTs, headerTs);
    expect(told(unpinned)).toEqual(['Tile 3 is not pinned on "Spring campaign"; pin it with 📌 first.']);
  });

  it('WHEN ⭐ is pressed by a member THEN the core refuses privately; by the host THEN the hero is stored', async () => {
    const refused = await press(MEMBER, `hero:${gridJobId}:2`, gridTs, headerTs);
    expect(told(refused)).toEqual(['Only the host can choose the ⭐ hero image.']);
    expect(await bot.blobs.exists(boardKeys.hero(board.id))).toBe(false);
    const chosen = await press(HOST, `hero:${gridJobId}:2`, gridTs, headerTs);
    expect(told(chosen)).toEqual(['⭐ Tile 2 is now the hero of "Spring campaign".']);
    expect((await loadBoardState(bot.blobs, board.id))!.hero).toMatchObject({ pinKey: `${gridJobId}-2`, by: { userId: HOST } });
  });

  it('WHEN /board status is asked THEN the counts, the top pin and the code come back privately', async () => {
    const name = await slash(MEMBER, '/board', 'status');
    const text = told(name).join('\n');
    expect(text).toContain('Board "Spring campaign"');
    expect(text).toContain('1/48 pins');
    expect(text).toContain('1. a red kite over dunes — 1 👍 ⭐');
    expect(text).toMatch(/Board code: mb-b[a-z0-9]{11}-/);
  });

  it('WHEN /board cohost names a mention THEN only the host may, and the co-host is stored by user id', async () => {
    const refused = await slash(MEMBER, '/board', `cohost <@${HOST}|hana>`);
    expect(told(refused)).toEqual(['Only the host can name co-hosts.']);
    const named = await slash(HOST, '/board', 'cohost <@U0OLGA01|olga>');
    expect(told(named)).toEqual(['U0OLGA01 is now a co-host of "Spring campaign".']);
    expect((await loadBoardState(bot.blobs, board.id))!.cohosts).toEqual([expect.stringContaining('U0OLGA01')]);
  });

  it('WHEN /board generate a kite festival 2 is used THEN two placeholders go to the board thread and both jobs carry the board and its code', async () => {
    const before = (await jobsInThread(headerTs)).length;
    const name = await slash(MEMBER, '/board', 'generate a kite festival 2');
    const jobs = (await jobsInThread(headerTs)).filter((job) => job.request.prompt.startsWith('a kite festival'));
    expect(jobs).toHaveLength(2);
    expect((await jobsInThread(headerTs)).length).toBe(before + 2);
    for (const job of jobs) {
      expect(job.boardId).toBe(board.id);
      expect(job.boardCode).toMatch(new RegExp(`^mb-${board.id}-`));
    }
    expect(told(name)).toEqual([expect.stringMatching(/^2 of 2 grids queued in the board's thread, in the style of "Spring campaign" \(mb-/)]);
  });

  it('WHEN a member ends the board THEN it is refused; WHEN the host ends it THEN the summary with the exports is posted in the thread and the header shows it ended', async () => {
    const refused = await slash(MEMBER, '/board', 'end');
    expect(told(refused)).toEqual(['Only the host or a co-host can end this board.']);

    const ended = await slash(HOST, '/board', 'end');
    expect(told(ended)[0]).toMatch(/^Ended "Spring campaign": 1 pin from \d+ generations\./);
    const isSummary = (m: RecordedMessage) => m.threadTs === headerTs && m.text.startsWith('🏁 Spring campaign — final board');
    await api.waitFor(() => [...api.messages.values()].some(isSummary), 30_000);
    const summary = [...api.messages.values()].find(isSummary)!;
    const call = api.callsOf('chat.postMessage').find((c) => c.params.thread_ts === headerTs && (c.params.text ?? '').startsWith('🏁'))!;
    expect(call.params.reply_broadcast).toBe('true');
    const blocks = summary.blocks as Block[];
    expect(blocks.find((b) => b.block_id === 'top')!.text!.text).toContain(`1. a red kite over dunes — 1 👍 ⭐ (<@${MEMBER}>)`);
    expect(blocks.find((b) => b.block_id === 'exports')!.elements!.map((e) => (e.text as string).replace(/^<[^|]+\|/, '').replace(/>$/, ''))).toEqual(['Collage (PNG)', 'Contact sheet (PDF)', 'All images (zip)']);
    expect(blocks.some((b) => b.type === 'image')).toBe(true);
    await api.waitFor(() => api.messages.get(headerTs)!.text.includes('Ended '), 20_000);
    await updater.idle(); // the summary's marker is written after the post returns
    expect(await bot.blobs.exists(boardKeys.summary(board.id))).toBe(true);
    expect(await bot.blobs.exists(boardKeys.export(board.id, 'board.zip'))).toBe(true);

    const twice = await slash(HOST, '/board', 'end');
    // The channel has no open board any more: ending again is answered, and nothing is posted or changed.
    expect(told(twice)).toEqual(['There is no open board here to end.']);
  });
});
