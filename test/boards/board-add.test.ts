/**
 * `/board add`: a picture of one's own pinned to the open board, from every front end, on the emulator's S3 over HTTP:
 * the core (pin record, stored image, the board code's references, refusals that store nothing), a signed Discord
 * interaction with an attachment from a file server on 127.0.0.1 (standing in for Discord's CDN), a signed Slack
 * command with a file link (files.info on the recording Slack API, the file on 127.0.0.1), and the playground's
 * multipart POST.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotDeps, CommandContext } from '../../bot/commands/context.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { pinUploadedPicture, startBoard, type BoardStarted } from '../../bot/boards/actions.ts';
import { currentVersion, loadBoardState } from '../../bot/boards/board-store.ts';
import { boardReferences } from '../../bot/boards/board-style.ts';
import { createCommandHandlers } from '../../bot/discord/command-handlers.ts';
import { createDiscordRest } from '../../bot/discord/rest-poster.ts';
import { createInteractionVerifier } from '../../bot/discord/verify.ts';
import { createSlackApp } from '../../bot/slack/app.ts';
import { WebPoster } from '../../bot/web/poster.ts';
import { startWebPlayground, type WebPlayground } from '../../bot/web/server.ts';
import { PLAYGROUND_CHANNEL } from '../../bot/web/commands.ts';
import { createDiscordInteractionsHandler } from '../../functions/discord-interactions.ts';
import { createSlackEventsHandler } from '../../functions/slack-events.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { RecordingDiscordApi } from '../discord/support/recording-discord-api.ts';
import { CHANNEL_ID, GUILD_ID } from '../discord/support/fixtures.ts';
import { functionUrlEvent, makeSigningKeys, slashCommand } from '../discord/support/signed-interactions.ts';
import { RecordingSlackApi } from '../slack/support/recording-slack-api.ts';
import { FORM, SIGNING_SECRET, signedEvent, slashCommandBody } from '../slack/support/signed-requests.ts';
import { slackUser } from './support.ts';

let emulator: TestEmulator;
let deps: BotDeps;
let files: Server;
let host = '';
let png: Buffer;

beforeAll(async () => {
  emulator = await startTestEmulator();
  deps = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: ['gore'] }), maxPendingPerUser: 10, boardLimits: { maxPins: 2, maxMembers: 25 } };
  png = await sharp({ create: { width: 120, height: 90, channels: 3, background: '#e80' } }).png().toBuffer();
  files = createServer((req, res) => (req.url?.endsWith('.png') ? res.writeHead(200, { 'content-type': 'image/png' }).end(png) : res.writeHead(404).end()));
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  host = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => files.close(() => resolve()));
  await emulator?.stop();
});

async function openBoard(ctx: CommandContext, name: string): Promise<BoardStarted> {
  const started = await startBoard(deps, ctx, { name });
  expect(started.kind).toBe('board_started');
  return started as BoardStarted;
}

describe('GIVEN an open board (core)', () => {
  it('WHEN a picture is added with a caption THEN it is pinned, stored as a PNG where a tile would be, and referenced by the board code', async () => {
    const { board } = await openBoard(slackUser('host', 'C1'), 'Autumn');
    const reply = await pinUploadedPicture(deps, slackUser('u1', 'C1'), [png], 'our old poster');
    expect(reply).toMatchObject({ kind: 'done', action: 'pinned', boardId: board.id, message: '📌 Pinned your picture to "Autumn".' });
    const state = (await loadBoardState(emulator.ports.blobs, board.id))!;
    expect(state.pins).toHaveLength(1);
    const pin = state.pins[0]!;
    expect(pin).toMatchObject({ prompt: 'our old poster', tile: 1, width: 120, height: 90, author: { userId: 'u1' }, imageKey: `jobs/${pin.jobId}/image-1.png` });
    expect(await sharp((await emulator.ports.blobs.get(pin.imageKey))!).metadata()).toMatchObject({ format: 'png', width: 120, height: 90 });
    const version = await currentVersion(emulator.ports.blobs, state, Date.now());
    expect(boardReferences(version)).toEqual([{ imageKey: pin.imageKey, weight: 1 }]);
  });

  it('WHEN the picture is missing, doubled, no picture, the caption blocked, the board full or absent THEN a sentence each and nothing new stored', async () => {
    const { board } = await openBoard(slackUser('host', 'C2'), 'Winter');
    const stored = async () => (await emulator.ports.blobs.list('jobs/')).length;
    const before = await stored();
    const cases: Array<[Promise<unknown>, string, string]> = [
      [pinUploadedPicture(deps, slackUser('u1', 'C2'), [], undefined), 'invalid_options', 'attach one'],
      [pinUploadedPicture(deps, slackUser('u1', 'C2'), [png, png], undefined), 'invalid_options', 'one picture at a time; 2 were given'],
      [pinUploadedPicture(deps, slackUser('u1', 'C2'), [new TextEncoder().encode('%PDF-1.7')], undefined), 'bad_upload', 'is not a picture this bot reads'],
      [pinUploadedPicture(deps, slackUser('u1', 'C2'), [png], 'gore poster'), 'blocked_prompt', ''],
      [pinUploadedPicture(deps, slackUser('u1', 'C9'), [png], undefined), 'no_board', 'There is no open board here'],
    ];
    for (const [pending, code, message] of cases) expect(await pending).toMatchObject({ kind: 'rejected', code, message: expect.stringContaining(message) });
    expect(await stored()).toBe(before);
    for (const n of [1, 2]) expect(await pinUploadedPicture(deps, slackUser(`u${n}`, 'C2'), [png], `pin ${n}`)).toMatchObject({ action: 'pinned' });
    const full = await pinUploadedPicture(deps, slackUser('u3', 'C2'), [png], 'one too many');
    expect(full).toMatchObject({ kind: 'rejected', code: 'board_full' });
    expect(await stored()).toBe(before + 2);
    expect((await loadBoardState(emulator.ports.blobs, board.id))!.pins).toHaveLength(2);
  });
});

describe('GIVEN each front end', () => {
  it('WHEN Discord /board add comes with an attachment THEN the picture from the CDN is pinned', async () => {
    const discord = new RecordingDiscordApi();
    await discord.start();
    try {
      const ctx: CommandContext = {
        requester: { platform: 'discord', userId: '1400000000000000004', channelId: CHANNEL_ID, workspaceId: GUILD_ID },
        delivery: { platform: 'discord', applicationId: '1', interactionToken: 'x', channelId: CHANNEL_ID, tokenIssuedAt: 0 },
        sourceId: 'discord:board-add-start', channel: { ageRestricted: false },
      };
      const { board } = await openBoard(ctx, 'Discord moods');
      const keys = makeSigningKeys();
      const handler = createDiscordInteractionsHandler({
        handlers: createCommandHandlers(deps), moderation: deps.moderation, rest: createDiscordRest({ api: discord.api }),
        verify: createInteractionVerifier({ publicKeyHex: keys.publicKeyHex }), files: { hosts: [], allowInsecureLoopback: true },
      });
      const payload = slashCommand('board', [{ name: 'add', type: 1, options: [{ name: 'image', type: 11, value: '901' }, { name: 'caption', type: 3, value: 'harbour sketch' }] } as unknown as { name: string; type: number; value: string }]);
      const withFile = { ...payload, data: { ...payload.data, resolved: { attachments: { 901: { id: '901', url: `${host}/sketch.png`, size: png.byteLength, content_type: 'image/png', filename: 'sketch.png' } } } } };
      expect((await handler(functionUrlEvent(keys, JSON.stringify(withFile)))).statusCode).toBe(202);
      const pins = (await loadBoardState(emulator.ports.blobs, board.id))!.pins;
      expect(pins.map((pin) => pin.prompt)).toEqual(['harbour sketch']);
      expect(JSON.stringify(discord.requests.map((r) => r.json))).toContain('Pinned your picture to \\"Discord moods\\"');
    } finally {
      await discord.stop();
    }
  });

  it('WHEN Slack /board add carries a file link THEN the linked file is pinned with the rest of the text as its caption', async () => {
    const slack = await new RecordingSlackApi().start();
    try {
      const { board } = await openBoard(slackUser('UHOST', 'C0001'), 'Slack moods');
      slack.files.set('F0000000A1', { id: 'F0000000A1', name: 'sketch.png', mimetype: 'image/png', size: png.byteLength, user: 'U0001', url_private: `${host}/files-pri/T0001-F0000000A1/sketch.png` });
      const { receiver } = createSlackApp({ transport: 'lambda', botToken: 'xoxb-board-add', signingSecret: SIGNING_SECRET, apiUrl: slack.url, retryConfig: { retries: 0 } }, { bot: deps, fileHosts: { hosts: ['files.slack.com'], allowInsecureLoopback: true } });
      const handle = await createSlackEventsHandler(receiver!, { signingSecret: SIGNING_SECRET });
      const text = 'add <https://acme.slack.com/files/U0001/F0000000A1/sketch.png|sketch.png> dock at noon';
      const body = slashCommandBody({ team_id: 'T1', channel_id: 'C0001', user_id: 'U0001', command: '/board', text, response_url: slack.responseUrl('board-add'), trigger_id: '77.1700000000.add' });
      expect((await handle(signedEvent(body, FORM))).statusCode).toBe(200);
      expect((await loadBoardState(emulator.ports.blobs, board.id))!.pins.map((pin) => pin.prompt)).toEqual(['dock at noon']);
      expect(slack.callsOf('respond').map((call) => call.params.text).join()).toContain('Pinned your picture to "Slack moods"');
    } finally {
      await slack.stop();
    }
  });

  it('WHEN the playground sends /board add with a dropped picture THEN it is pinned to the playground board', async () => {
    const web: WebPlayground = await startWebPlayground({ bot: deps, poster: new WebPoster(emulator.ports.blobs), port: 0 });
    try {
      const session = ((await fetch(web.url)).headers.get('set-cookie') ?? '').split(';')[0]!;
      const { board } = await openBoard({ requester: { platform: 'web', userId: 'whost', channelId: PLAYGROUND_CHANNEL }, delivery: { platform: 'web', sessionId: 'whost' }, sourceId: 'web:host:1', channel: { ageRestricted: false } }, 'Web moods');
      const form = new FormData();
      form.append('text', '/board add "studio light"');
      form.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'light.png');
      const response = await fetch(new URL('/api/imagine', web.url), { method: 'POST', body: form, headers: { cookie: session } });
      expect(await response.json()).toMatchObject({ kind: 'done', action: 'pinned', boardId: board.id });
      expect((await loadBoardState(emulator.ports.blobs, board.id))!.pins.map((pin) => pin.prompt)).toEqual(['studio light']);
    } finally {
      await web.stop();
    }
  });
});
