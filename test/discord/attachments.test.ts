/**
 * /imagine with attachment options and /blend over the real protocol: Ed25519-signed interactions whose resolved
 * attachments point at a file server on 127.0.0.1 (standing in for Discord's CDN, the only host files are taken from),
 * SQS/S3 on the fauxqs emulator, Discord's REST API as a recording server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MessageFlags } from 'discord-api-types/v10';
import { JobSchema } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { createCommandHandlers } from '../../bot/discord/command-handlers.ts';
import { createDiscordRest } from '../../bot/discord/rest-poster.ts';
import { createInteractionVerifier } from '../../bot/discord/verify.ts';
import { createDiscordInteractionsHandler, type DiscordInteractionsHandler } from '../../functions/discord-interactions.ts';
import { DISCORD_CDN, type FileSource } from '../../bot/uploads.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { takeJobs } from '../support/drain-jobs.ts';
import { RecordingDiscordApi } from './support/recording-discord-api.ts';
import { functionUrlEvent, makeSigningKeys, slashCommand } from './support/signed-interactions.ts';

const keys = makeSigningKeys();
const api = new RecordingDiscordApi();
let emulator: TestEmulator;
let files: Server;
let cdn: string;
const served = new Map<string, Uint8Array>();

function makeHandler(source: FileSource): DiscordInteractionsHandler {
  const moderation = createModerationPolicy({ blocklist: [], restrictedOnly: [] });
  const bot: BotDeps = { ...emulator.ports, moderation, maxPendingPerUser: 100, randomSeed: () => 9 };
  return createDiscordInteractionsHandler({
    handlers: createCommandHandlers(bot), moderation, rest: createDiscordRest({ api: api.api }),
    verify: createInteractionVerifier({ publicKeyHex: keys.publicKeyHex }), files: source,
  });
}
const loopbackCdn: FileSource = { hosts: [], allowInsecureLoopback: true };

/** A slash command whose attachment options resolve to files on `cdn`. */
function withAttachments(name: string, options: { name: string; type: number; value: string | number }[], attachments: Record<string, { path: string; size?: number }>) {
  const payload = slashCommand(name, [...options, ...Object.keys(attachments).map((option, i) => ({ name: option, type: 11, value: `90${i}` }))]);
  const resolved = Object.fromEntries(Object.entries(attachments).map(([, file], i) => [`90${i}`, { id: `90${i}`, url: `${cdn}${file.path}`, size: file.size ?? served.get(file.path)?.byteLength ?? 0, content_type: 'image/png', filename: 'x.png' }]));
  return { ...payload, data: { ...payload.data, resolved: { attachments: resolved } } };
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  await api.start();
  served.set('/a.png', new Uint8Array(await sharp({ create: { width: 120, height: 80, channels: 3, background: '#a33' } }).png().toBuffer()));
  served.set('/b.jpg', new Uint8Array(await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3a3' } }).jpeg().toBuffer()));
  served.set('/text.png', new TextEncoder().encode('not a picture'));
  files = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (!body) return void res.writeHead(404).end();
    res.end(Buffer.from(body));
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  cdn = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => files.close(() => resolve()));
  await api.stop();
  await emulator.stop();
});
afterEach(async () => {
  await takeJobs(emulator.ports.queue);
  api.clear();
});

const followUp = () => api.requests.find((r) => r.method === 'POST' && r.path.startsWith('/webhooks/'))?.json as { content: string; flags: number } | undefined;

describe('GIVEN /imagine with attachment options', () => {
  it('WHEN two pictures and --iw come with a prompt THEN one job carries them as image prompts, stored under its keys', async () => {
    const handler = makeHandler(loopbackCdn);
    const payload = withAttachments('imagine', [{ name: 'prompt', type: 3, value: 'a castle' }, { name: 'iw', type: 10, value: 1.5 }], { image: { path: '/a.png' }, image2: { path: '/b.jpg' } });
    expect((await handler(functionUrlEvent(keys, JSON.stringify(payload)))).statusCode).toBe(202);
    const [sent] = await takeJobs(emulator.ports.queue);
    const job = JobSchema.parse(sent);
    expect(job.request).toMatchObject({ prompt: 'a castle', imageWeight: 1.5 });
    expect(job.request.imagePrompts).toEqual([0, 1].map((n) => ({ key: jobKeys.input(job.id, n), weight: 1.5 })));
    const stored = await emulator.ports.blobs.get(jobKeys.input(job.id, 1));
    expect(await sharp(stored!).metadata()).toMatchObject({ format: 'png', width: 64, height: 64 });
  });

  it('WHEN a picture comes with the strength option THEN the job starts from it (image-to-image) in its shape', async () => {
    const handler = makeHandler(loopbackCdn);
    const payload = withAttachments('imagine', [{ name: 'prompt', type: 3, value: 'a castle in winter' }, { name: 'strength', type: 10, value: 0.45 }], { image: { path: '/a.png' } });
    expect((await handler(functionUrlEvent(keys, JSON.stringify(payload)))).statusCode).toBe(202);
    const job = JobSchema.parse((await takeJobs(emulator.ports.queue))[0]);
    expect(job.request).toMatchObject({ prompt: 'a castle in winter', imageStrength: 0.45, initImage: { key: jobKeys.input(job.id, 0), strength: 0.45 }, aspect: { w: 3, h: 2 } });
    expect(job.request.imagePrompts).toBeUndefined();
    expect(await sharp((await emulator.ports.blobs.get(jobKeys.input(job.id, 0)))!).metadata()).toMatchObject({ width: 120, height: 80 });
  });

  it('WHEN the strength option comes without a picture THEN it is refused at once, before any deferral', async () => {
    const handler = makeHandler(loopbackCdn);
    const response = await handler(functionUrlEvent(keys, JSON.stringify(slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'x' }, { name: 'strength', type: 10, value: 0.5 }]))));
    expect(JSON.parse(response.body!)).toMatchObject({ data: { flags: MessageFlags.Ephemeral, content: expect.stringContaining('--strength starts from a picture') } });
  });

  it('WHEN the attachment is not a picture THEN a private refusal says so and nothing is queued or stored', async () => {
    const handler = makeHandler(loopbackCdn);
    const inputs = async () => (await emulator.ports.blobs.list('jobs/')).filter((k) => k.includes('/inputs/'));
    const before = await inputs();
    const payload = withAttachments('imagine', [{ name: 'prompt', type: 3, value: 'a castle' }], { image: { path: '/text.png' } });
    expect((await handler(functionUrlEvent(keys, JSON.stringify(payload)))).statusCode).toBe(202);
    expect(followUp()).toMatchObject({ flags: MessageFlags.Ephemeral, content: expect.stringContaining('is not a picture this bot reads') });
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
    expect(await inputs()).toEqual(before);
  });

  it('WHEN an attachment URL is not on Discord CDN THEN it is never fetched and the user is told', async () => {
    const handler = makeHandler(DISCORD_CDN);
    const before = served.size;
    const payload = withAttachments('imagine', [{ name: 'prompt', type: 3, value: 'a castle' }], { image: { path: '/a.png' } });
    expect((await handler(functionUrlEvent(keys, JSON.stringify(payload)))).statusCode).toBe(202);
    expect(followUp()?.content).toMatch(/Images are only taken from cdn\.discordapp\.com or media\.discordapp\.net/);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
    expect(served.size).toBe(before);
  });

  it('WHEN Discord says a file is over the limit THEN it is refused on the ack, without a download', async () => {
    const handler = makeHandler(loopbackCdn);
    const payload = withAttachments('imagine', [{ name: 'prompt', type: 3, value: 'x' }], { image: { path: '/a.png', size: 50 * 1024 * 1024 } });
    const response = await handler(functionUrlEvent(keys, JSON.stringify(payload)));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body!)).toMatchObject({ data: { flags: MessageFlags.Ephemeral, content: expect.stringContaining('50.0 MiB') } });
  });
});

describe('GIVEN /blend', () => {
  it('WHEN two pictures and landscape are sent THEN one text-less job with both as image prompts of weight 1', async () => {
    const handler = makeHandler(loopbackCdn);
    const payload = withAttachments('blend', [{ name: 'shape', type: 3, value: 'landscape' }], { image1: { path: '/a.png' }, image2: { path: '/b.jpg' } });
    expect((await handler(functionUrlEvent(keys, JSON.stringify(payload)))).statusCode).toBe(202);
    const job = JobSchema.parse((await takeJobs(emulator.ports.queue))[0]);
    expect(job.request).toMatchObject({ prompt: '', aspect: { w: 3, h: 2 } });
    expect(job.request.imagePrompts!.map((p) => p.weight)).toEqual([1, 1]);
  });

  it('WHEN only one picture is resolved THEN it is refused at once', async () => {
    const handler = makeHandler(loopbackCdn);
    const payload = withAttachments('blend', [], { image1: { path: '/a.png' } });
    const response = await handler(functionUrlEvent(keys, JSON.stringify(payload)));
    expect(JSON.parse(response.body!)).toMatchObject({ data: { content: '/blend needs at least 2 pictures (image1 and image2).' } });
  });
});
