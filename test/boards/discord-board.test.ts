/**
 * Mood boards on Discord with real parts: Ed25519-signed interactions into the Lambda handler, the emulator for
 * S3/SQS, the dispatcher with the board header updater, and a recording Discord API on loopback. /board start
 * opens a thread and the header is posted and pinned there; /imagine in the thread joins the board and its grid
 * gets 📌 in the fifth row; 📌 posts a pin card with 👍 ⭐ unpin; votes, status, a refused end and the host's end
 * with its summary in the thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModerationPolicy } from '../../bot/moderation.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { createCommandHandlers } from '../../bot/discord/command-handlers.ts';
import type { InteractionRouterDeps } from '../../bot/discord/acks.ts';
import { COMMAND_DEFINITIONS } from '../../bot/discord/commands.ts';
import { blobMessageIds, createDiscordRest, DiscordRestPoster } from '../../bot/discord/rest-poster.ts';
import { renderDiscordMessage } from '../../bot/discord/render.ts';
import { createInteractionVerifier } from '../../bot/discord/verify.ts';
import { buildJobMessage } from '../../bot/message-model.ts';
import { Dispatcher } from '../../bot/dispatcher.ts';
import { BoardHeaderUpdater } from '../../bot/boards/header-updater.ts';
import { findActiveBoard, loadBoardState } from '../../bot/boards/board-store.ts';
import { loadJob } from '../../bot/job-records.ts';
import { createDiscordInteractionsHandler } from '../../functions/discord-interactions.ts';
import { takeJobs } from '../support/drain-jobs.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { RecordingDiscordApi, type RecordedRequest } from '../discord/support/recording-discord-api.ts';
import { APP_ID, CHANNEL_ID } from '../discord/support/fixtures.ts';
import { buttonPress, functionUrlEvent, makeSigningKeys, slashCommand } from '../discord/support/signed-interactions.ts';
import { finishJob } from './support.ts';

const THREAD_ID = '1250000000000000077';
const HOST = '1400000000000000004';
const keys = makeSigningKeys();
const api = new RecordingDiscordApi();
let emulator: TestEmulator;
let handler: ReturnType<typeof createDiscordInteractionsHandler>;
let dispatcher: Dispatcher;
let updater: BoardHeaderUpdater;
const stop = new AbortController();

type Payload = ReturnType<typeof slashCommand>;
const inThread = <T extends Payload | ReturnType<typeof buttonPress>>(payload: T): T => ({ ...payload, channel_id: THREAD_ID, channel: { id: THREAD_ID, type: 11, nsfw: false, parent_id: CHANNEL_ID } });
const board = (sub: string, options: Array<{ name: string; type: number; value: string | number }> = [], actor?: { userId: string }) =>
  slashCommand('board', [{ name: sub, type: 1, options } as unknown as { name: string; type: number; value: string }], actor);
const send = async (payload: unknown) => (await handler(functionUrlEvent(keys, JSON.stringify(payload)))).statusCode;
const followUpOf = (token: string) => (r: RecordedRequest) => r.method === 'POST' && r.path === `/webhooks/${APP_ID}/${token}`;
const originalOf = (token: string) => (r: RecordedRequest) => r.method === 'PATCH' && r.path === `/webhooks/${APP_ID}/${token}/messages/@original`;
type Json = { content?: string; embeds?: Array<{ title?: string; description?: string }>; components?: Array<{ components: Array<{ custom_id?: string; url?: string }> }>; flags?: number };

beforeAll(async () => {
  emulator = await startTestEmulator();
  await api.start();
  const rest = createDiscordRest({ api: api.api, token: 'test-bot-token' });
  const moderation = createModerationPolicy({ blocklist: [] });
  const bot: BotDeps = { ...emulator.ports, moderation, maxPendingPerUser: 10 };
  const router: InteractionRouterDeps = { handlers: createCommandHandlers(bot), moderation, rest };
  handler = createDiscordInteractionsHandler({ ...router, verify: createInteractionVerifier({ publicKeyHex: keys.publicKeyHex }) });
  const poster = new DiscordRestPoster({ rest, hasBotToken: true, messageIds: blobMessageIds(emulator.ports.blobs) });
  updater = new BoardHeaderUpdater({ blobs: emulator.ports.blobs, posters: { discord: poster }, minIntervalMs: 500, pageBaseUrl: 'https://boards.example/' });
  dispatcher = new Dispatcher({ events: emulator.ports.events, blobs: emulator.ports.blobs, posters: { discord: poster }, boards: updater, receiveWaitSeconds: 1 });
  void dispatcher.run(stop.signal);
  api.scriptNext((r) => r.method === 'POST' && r.path === `/channels/${CHANNEL_ID}/threads`, { status: 201, body: { id: THREAD_ID, type: 11, parent_id: CHANNEL_ID, name: 'Harbour moods' } });
});

afterAll(async () => {
  stop.abort();
  dispatcher.stop();
  await api.stop();
  await emulator.stop();
});

describe('GIVEN the Discord bot with mood boards on loopback', () => {
  let jobId = '';

  it('THEN /board is registered with its six subcommands', () => {
    const definition = COMMAND_DEFINITIONS.find((command) => command.name === 'board') as { options: Array<{ name: string }> };
    expect(definition.options.map((o) => o.name).sort()).toEqual(['add', 'cohost', 'end', 'generate', 'start', 'status']);
  });

  it('WHEN a signed /board start arrives THEN a thread opens, the channel is told, and the header is posted and pinned in the thread', async () => {
    const payload = board('start', [{ name: 'name', type: 3, value: 'Harbour moods' }, { name: 'brief', type: 3, value: 'foggy mornings' }, { name: 'duration', type: 3, value: '2h' }]);
    expect(await send(payload)).toBe(202);
    const thread = await api.waitFor((r) => r.method === 'POST' && r.path === `/channels/${CHANNEL_ID}/threads`);
    expect(thread.json).toMatchObject({ name: 'Harbour moods', type: 11 });
    const answer = await api.waitFor(originalOf(payload.token));
    expect((answer.json as Json).content).toContain(`<#${THREAD_ID}>`);
    const header = await api.waitFor((r) => r.method === 'POST' && r.path === `/channels/${THREAD_ID}/messages`, 15_000);
    const body = header.json as Json;
    expect(body.embeds![0]!.title).toBe('📋 Harbour moods');
    expect(body.embeds![0]!.description).toContain('Board code: `mb-');
    expect(body.components![0]!.components[0]!.url).toMatch(/^https:\/\/boards\.example\/boards\/b[a-z0-9]{11}\?t=/);
    expect(header.files).toHaveLength(1);
    await api.waitFor((r) => r.method === 'PUT' && r.path.startsWith(`/channels/${THREAD_ID}/pins/`));
    expect((await findActiveBoard(emulator.ports.blobs, { platform: 'discord', channelId: THREAD_ID }, Date.now()))?.name).toBe('Harbour moods');
  });

  it('WHEN /imagine is used in the thread THEN the job joins the board and its finished grid has 📌 1–4 in the fifth row', async () => {
    const payload = inThread(slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'a misty harbour at dawn --seed 3' }]));
    expect(await send(payload)).toBe(202);
    await api.waitFor((r) => r.path === `/interactions/${payload.id}/${payload.token}/callback`);
    const jobs = await (async () => { for (let i = 0; i < 50; i++) { const taken = await takeJobs(emulator.ports.queue); if (taken.length) return taken; await new Promise((r) => setTimeout(r, 100)); } return []; })();
    jobId = jobs[0]!.id;
    const job = await loadJob(emulator.ports.blobs, jobId);
    expect(job?.boardId).toMatch(/^b/);
    const result = await finishJob(emulator.ports.blobs, jobId);
    const rendered = renderDiscordMessage(buildJobMessage(job!, { phase: 'completed', result, updatedAt: 1 }), { channelId: THREAD_ID });
    expect(rendered.components).toHaveLength(5);
    expect(rendered.components![4]!.components.map((c) => (c as { custom_id: string }).custom_id)).toEqual([1, 2, 3, 4].map((t) => `pin:${jobId}:${t}`));
  });

  it('WHEN 📌 is pressed THEN a pin card with 👍 ⭐ unpin is posted in the thread; others vote on it; a second pin of the tile is refused privately', async () => {
    const press = inThread(buttonPress(`pin:${jobId}:2`, '1900000000000000001'));
    expect(await send(press)).toBe(202);
    const card = await api.waitFor(followUpOf(press.token));
    expect((card.json as Json).flags ?? 0).toBe(0);
    expect((card.json as Json).components![0]!.components.map((c) => c.custom_id)).toEqual([`vote:${jobId}:2`, `hero:${jobId}:2`, `unpin:${jobId}:2`]);
    for (const userId of ['1400000000000000101', '1400000000000000102']) {
      const vote = inThread(buttonPress(`vote:${jobId}:2`, '1900000000000000002', { userId }));
      expect(await send(vote)).toBe(202);
      const reply = await api.waitFor(followUpOf(vote.token));
      expect((reply.json as Json).content).toMatch(/^👍 Voted for tile 2/);
      expect((reply.json as Json).flags).toBe(64);
    }
    const again = inThread(buttonPress(`pin:${jobId}:2`, '1900000000000000001', { userId: '1400000000000000103' }));
    await send(again);
    expect(((await api.waitFor(followUpOf(again.token))).json as Json).content).toContain('already pinned');
    const state = await loadBoardState(emulator.ports.blobs, (await loadJob(emulator.ports.blobs, jobId))!.boardId!);
    expect(state!.pins.map((p) => p.votes)).toEqual([2]);
  });

  it('WHEN /board status is asked in the thread THEN the code and the counts come back privately', async () => {
    const payload = inThread(board('status'));
    await send(payload);
    const body = (await api.waitFor(originalOf(payload.token))).json as Json;
    expect(body.embeds![0]!.title).toBe('Board "Harbour moods"');
    expect(JSON.stringify(body)).toContain('mb-b');
  });

  it('WHEN a member tries /board end THEN it is refused; the host ends it and the summary is posted in the thread', async () => {
    const member = inThread(board('end', [], { userId: '1400000000000000101' }));
    await send(member);
    expect(((await api.waitFor(originalOf(member.token))).json as Json).content).toBe('Only the host or a co-host can end this board.');
    const host = inThread(board('end', [], { userId: HOST }));
    await send(host);
    expect(((await api.waitFor(originalOf(host.token))).json as Json).content).toContain('Ended "Harbour moods"');
    const summary = await api.waitFor((r) => r.method === 'POST' && r.path === `/channels/${THREAD_ID}/messages` && ((r.json as Json).embeds?.[0]?.title ?? '').startsWith('🏁'), 20_000);
    expect((summary.json as Json).embeds![0]!.description).toContain('2 👍');
    // The header is edited in place (bot token) to show the end.
    const edit = await api.waitFor((r) => r.method === 'PATCH' && r.path.startsWith(`/channels/${THREAD_ID}/messages/`) && /Ended/.test((r.json as Json).embeds?.[0]?.description ?? ''));
    expect(edit.files).toHaveLength(1);
  });
});
