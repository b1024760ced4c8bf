/**
 * The interactions Lambda over the real protocol: Ed25519-signed payloads in function-URL events,
 * SQS/S3 on the fauxqs emulator, Discord's REST API as a recording server on 127.0.0.1.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InteractionResponseType, MessageFlags } from 'discord-api-types/v10';
import { type Job } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { createCommandHandlers } from '../../bot/discord/command-handlers.ts';
import { createDiscordRest } from '../../bot/discord/rest-poster.ts';
import { createInteractionVerifier } from '../../bot/discord/verify.ts';
import { createDiscordInteractionsHandler, type DiscordInteractionsHandler } from '../../functions/discord-interactions.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { takeJobs } from '../support/drain-jobs.ts';
import { RecordingDiscordApi } from './support/recording-discord-api.ts';
import { APP_ID, CHANNEL_ID, USER_ID, discordJob, gridResult } from './support/fixtures.ts';
import { autocomplete, buttonPress, DM_CHANNEL_ID, functionUrlEvent, makeSigningKeys, modalSubmit, nowSeconds, ping, signBody, slashCommand } from './support/signed-interactions.ts';

const keys = makeSigningKeys();
const api = new RecordingDiscordApi();
let emulator: TestEmulator;

function makeHandler(overrides: Partial<BotDeps> = {}): DiscordInteractionsHandler {
  const moderation = createModerationPolicy({ blocklist: ['gore'], restrictedOnly: ['nude'] });
  const bot: BotDeps = { ...emulator.ports, moderation, maxPendingPerUser: 100, randomSeed: () => 777, ...overrides };
  const rest = createDiscordRest({ api: api.api });
  return createDiscordInteractionsHandler({ handlers: createCommandHandlers(bot), moderation, rest, verify: createInteractionVerifier({ publicKeyHex: keys.publicKeyHex }) });
}

let handler: DiscordInteractionsHandler;
const send = (payload: unknown, options = {}) => handler(functionUrlEvent(keys, JSON.stringify(payload), options));

/** The fields of an interaction response body these tests read (a message, a modal or autocomplete choices). */
interface InteractionReply {
  type: InteractionResponseType;
  data: { flags?: number; content: string; custom_id?: string; choices: { value: string }[]; components: { components: unknown[] }[] };
}
const replyBody = (response: { body?: string }) => JSON.parse(response.body!) as InteractionReply;

function callbacks() {
  return api.requests.filter((r) => r.path.startsWith('/interactions/'));
}

async function storeFinishedParent(id: string): Promise<Job> {
  const job = discordJob({ id });
  await emulator.ports.blobs.put(jobKeys.job(id), JSON.stringify(job), 'application/json');
  await emulator.ports.blobs.put(jobKeys.result(id), JSON.stringify(gridResult(job)), 'application/json');
  await emulator.ports.blobs.put(jobKeys.grid(id), new Uint8Array([1, 2, 3]), 'image/png');
  return job;
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  await api.start();
  handler = makeHandler();
});
afterAll(async () => {
  await api.stop();
  await emulator.stop();
});
afterEach(async () => {
  await takeJobs(emulator.ports.queue);
  api.clear();
});

describe('GIVEN a PING', () => {
  it('THEN it answers PONG in the body and enqueues nothing', async () => {
    const response = await send(ping());
    expect(response.statusCode).toBe(200);
    expect(replyBody(response)).toEqual({ type: InteractionResponseType.Pong });
    expect(api.requests).toHaveLength(0);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
  });
});

describe('GIVEN /imagine', () => {
  it('WITH slash and inline options THEN it defers (type 5) through the callback, then enqueues one job built from both', async () => {
    const payload = slashCommand('imagine', [
      { name: 'prompt', type: 3, value: 'a lighthouse in a storm --seed 1234 --no fog' },
      { name: 'ar', type: 3, value: '3:2' },
      { name: 'style', type: 3, value: 'cinematic' },
      { name: 'chaos', type: 4, value: 20 },
    ]);
    const response = await send(payload);
    expect(response.statusCode).toBe(202);
    expect(callbacks().map((r) => r.path)).toEqual([`/interactions/${payload.id}/${payload.token}/callback`]);
    expect(callbacks()[0]!.json).toEqual({ type: InteractionResponseType.DeferredChannelMessageWithSource });
    expect(callbacks()[0]!.headers.authorization).toBeUndefined();

    const jobs = await takeJobs(emulator.ports.queue);
    expect(jobs).toHaveLength(1);
    const job = jobs[0]!;
    expect(job.kind).toBe('imagine');
    expect(job.request).toMatchObject({ prompt: 'a lighthouse in a storm', negativePrompt: 'fog', aspect: { w: 3, h: 2 }, seed: 1234, chaos: 20, style: 'cinematic' });
    expect(job.requester).toEqual({ platform: 'discord', userId: USER_ID, channelId: CHANNEL_ID, workspaceId: payload.guild_id });
    expect(job.delivery).toMatchObject({ platform: 'discord', applicationId: APP_ID, interactionToken: payload.token, channelId: CHANNEL_ID, attachmentLimitBytes: 10_485_760 });
    if (job.delivery.platform !== 'discord') throw new Error('not a discord delivery');
    expect(Math.abs(job.delivery.tokenIssuedAt - Date.now())).toBeLessThan(60_000);
    expect(await emulator.ports.blobs.exists(jobKeys.job(job.id))).toBe(true);
  });

  it('IN a DM with the bot THEN the job has the DM channel, no workspace, and is delivered there', async () => {
    const payload = slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'a red fox' }], { dm: true });
    expect((await send(payload)).statusCode).toBe(202);
    const jobs = await takeJobs(emulator.ports.queue);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.requester).toEqual({ platform: 'discord', userId: USER_ID, channelId: DM_CHANNEL_ID });
    expect(jobs[0]!.delivery).toMatchObject({ channelId: DM_CHANNEL_ID });
    expect(jobs[0]!.delivery).not.toHaveProperty('guildId');
  });

  it('WITH a base64 body (as function URLs may send) THEN it is verified on the decoded bytes', async () => {
    const response = await send(slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'a red fox' }]), { base64: true });
    expect(response.statusCode).toBe(202);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(1);
  });

  it('WITH a bad option THEN the parser message comes back ephemeral at once and nothing is deferred or enqueued', async () => {
    const response = await send(slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'a fox --ar 0:5' }]));
    expect(response.statusCode).toBe(200);
    const body = replyBody(response);
    expect(body.type).toBe(InteractionResponseType.ChannelMessageWithSource);
    expect(body.data.flags).toBe(MessageFlags.Ephemeral);
    expect(body.data.content).toContain('--ar 0:5');
    expect(callbacks()).toHaveLength(0);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
  });

  it('WITH an oversized prompt THEN it is refused with the limit and nothing is enqueued', async () => {
    const response = await send(slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'x'.repeat(2500) }]));
    const body = replyBody(response);
    expect(body.data.content).toContain('at most 2000');
    expect(body.data.flags).toBe(MessageFlags.Ephemeral);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
  });

  it('WITH hundreds of unknown inline options THEN the refusal still fits one Discord message', async () => {
    const prompt = `a fox ${Array.from({ length: 300 }, (_, i) => `--bogus${i} x`).join(' ')}`;
    const body = replyBody(await send(slashCommand('imagine', [{ name: 'prompt', type: 3, value: prompt }])));
    expect(body.data.content).toContain('--bogus0: unknown option');
    expect(body.data.content.length).toBeLessThanOrEqual(2000);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
  });

  it('WITH a blocklisted word THEN it is refused, saying which word', async () => {
    const body = replyBody(await send(slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'a scene full of G0RE' }])));
    expect(body.data.content).toContain('"gore"');
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
  });

  it('WITH a word allowed only in age-restricted channels THEN it depends on the channel nsfw flag', async () => {
    const sfw = replyBody(await send(slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'a nude marble statue' }])));
    expect(sfw.data.content).toContain('age-restricted');
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
    const nsfw = await send(slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'a nude marble statue' }], { nsfw: true }));
    expect(nsfw.statusCode).toBe(202);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(1);
  });

  it('WHEN the user is over the pending cap THEN the public placeholder is replaced by a private refusal', async () => {
    const capped = makeHandler({ maxPendingPerUser: 1 });
    const actor = { userId: '1999000000000000001' };
    const first = await capped(functionUrlEvent(keys, JSON.stringify(slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'one' }], actor))));
    expect(first.statusCode).toBe(202);
    api.clear();
    const secondPayload = slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'two' }], actor);
    expect((await capped(functionUrlEvent(keys, JSON.stringify(secondPayload)))).statusCode).toBe(202);
    expect(api.requests.map((r) => `${r.method} ${r.path.replace(secondPayload.token, 'TOKEN').replace(secondPayload.id, 'ID')}`)).toEqual([
      'POST /interactions/ID/TOKEN/callback',
      `DELETE /webhooks/${APP_ID}/TOKEN/messages/@original`,
      `POST /webhooks/${APP_ID}/TOKEN`,
    ]);
    const followUp = api.requests[2]!.json as { content: string; flags: number };
    expect(followUp.flags).toBe(MessageFlags.Ephemeral);
    expect(followUp.content).toContain('the limit is 1');
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(1);
  });
});

describe('GIVEN autocomplete', () => {
  it('THEN aspect ratios and style presets are offered as type 8', async () => {
    const ratios = replyBody(await send(autocomplete('ar', '16')));
    expect(ratios.type).toBe(InteractionResponseType.ApplicationCommandAutocompleteResult);
    expect(ratios.data.choices.map((c: { value: string }) => c.value)).toContain('16:9');
    const styles = replyBody(await send(autocomplete('style', 'anim')));
    expect(styles.data.choices.map((c: { value: string }) => c.value)).toEqual(['anime']);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
  });
});

describe('GIVEN a finished grid and its buttons', () => {
  const parentId = 'jparent0000000000000000000000001';
  const messageId = '1800000000000000008';
  beforeAll(async () => void (await storeFinishedParent(parentId)));

  it.each([
    ['upscale', 1, 'upscale'],
    ['upscale', 2, 'upscale'],
    ['upscale', 3, 'upscale'],
    ['upscale', 4, 'upscale'],
    ['vary_subtle', 1, 'variation'],
    ['vary_subtle', 2, 'variation'],
    ['vary_subtle', 3, 'variation'],
    ['vary_subtle', 4, 'variation'],
    ['vary_strong', 2, 'variation'],
    ['reroll', 0, 'imagine'],
  ] as const)('WHEN %s:%i is pressed THEN it defers publicly and enqueues a %s child that replies to the parent', async (action, index, kind) => {
    const payload = buttonPress(`${action}:${parentId}:${index}`, messageId);
    expect((await send(payload)).statusCode).toBe(202);
    expect(callbacks()[0]!.json).toEqual({ type: InteractionResponseType.DeferredChannelMessageWithSource });
    const jobs = await takeJobs(emulator.ports.queue);
    expect(jobs).toHaveLength(1);
    const child = jobs[0]!;
    expect(child.kind).toBe(kind);
    expect(child.parent).toEqual({ jobId: parentId, index: index === 0 ? 1 : index });
    if (child.kind === 'variation') expect(child.strength).toBe(action === 'vary_strong' ? 'strong' : 'subtle');
    expect(child.delivery).toMatchObject({ interactionToken: payload.token, replyToMessageId: messageId });
  });

  it('WHEN Remix is pressed THEN a dialog opens at once; its submit enqueues a strong variation with the new prompt', async () => {
    const opened = replyBody(await send(buttonPress(`remix:${parentId}:2`, messageId)));
    expect(opened.type).toBe(InteractionResponseType.Modal);
    expect(opened.data.custom_id).toBe(`remix:${parentId}:2`);
    expect(opened.data.components[0]!.components[0]).toMatchObject({ type: 4, custom_id: 'prompt', required: true });
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);

    const submit = modalSubmit(`remix:${parentId}:2`, { prompt: 'a lighthouse at dawn --ar 16:9' }, messageId);
    expect((await send(submit)).statusCode).toBe(202);
    expect(callbacks()[0]!.json).toEqual({ type: InteractionResponseType.DeferredChannelMessageWithSource });
    const jobs = await takeJobs(emulator.ports.queue);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ kind: 'variation', strength: 'strong', parent: { jobId: parentId, index: 2 }, request: { prompt: 'a lighthouse at dawn', aspect: { w: 16, h: 9 } } });
  });

  it('WHEN a remix dialog is submitted with a blocked prompt or a forged id THEN an ephemeral refusal and nothing enqueued', async () => {
    const blocked = replyBody(await send(modalSubmit(`remix:${parentId}:2`, { prompt: 'gore' }, messageId)));
    expect(blocked.data.content).toContain('"gore"');
    const forged = replyBody(await send(modalSubmit(`remix:${parentId}:8`, { prompt: 'a fox' }, messageId)));
    expect(forged.data.content).toContain('not valid');
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
  });

  it('WHEN ℹ️ is pressed THEN the actor alone gets prompt, seed and job id as copyable code blocks', async () => {
    const payload = buttonPress(`info:${parentId}:0`, messageId, { userId: '1999000000000000002' });
    expect((await send(payload)).statusCode).toBe(202);
    expect(callbacks()[0]!.json).toEqual({ type: InteractionResponseType.DeferredChannelMessageWithSource, data: { flags: MessageFlags.Ephemeral } });
    const edit = await api.waitFor((r) => r.method === 'PATCH');
    expect(edit.path).toBe(`/webhooks/${APP_ID}/${payload.token}/messages/@original`);
    const text = JSON.stringify(edit.json);
    expect(text).toContain('```\\n42\\n```');
    expect(text).toContain(parentId);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
  });

  it('WHEN someone else presses U1 in a requester-only channel THEN the placeholder goes, they are told privately, nothing is enqueued', async () => {
    const payload = buttonPress(`upscale:${parentId}:1`, messageId, { userId: '1999000000000000003' });
    expect((await send(payload)).statusCode).toBe(202);
    expect(api.requests.map((r) => r.method)).toEqual(['POST', 'DELETE', 'POST']);
    expect((api.requests[2]!.json as { content: string }).content).toContain('Only the person who asked');
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
  });

  it('WHEN someone else presses 🗑️ THEN nothing is deleted', async () => {
    const payload = buttonPress(`delete:${parentId}:0`, messageId, { userId: '1999000000000000003' });
    await send(payload);
    expect(callbacks()[0]!.json).toEqual({ type: InteractionResponseType.DeferredMessageUpdate });
    expect(api.requests.some((r) => r.method === 'DELETE')).toBe(false);
    expect(await emulator.ports.blobs.exists(jobKeys.result(parentId))).toBe(true);
  });

  it.each([
    ['an out-of-range tile', `upscale:${parentId}:9`],
    ['an unknown action', `nuke:${parentId}:0`],
    ['a malformed job id', 'upscale:../../etc:1'],
    ['an overlong id', `upscale:${'j'.repeat(120)}:1`],
    ['a foreign shape', 'button_1'],
  ])('WHEN the custom id is tampered (%s) THEN an ephemeral refusal comes at once and nothing is enqueued', async (_label, customId) => {
    const response = await send(buttonPress(customId, messageId));
    expect(response.statusCode).toBe(200);
    const body = replyBody(response);
    expect(body.type).toBe(InteractionResponseType.ChannelMessageWithSource);
    expect(body.data.flags).toBe(MessageFlags.Ephemeral);
    expect(body.data.content).toContain('not valid');
    expect(api.requests).toHaveLength(0);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
  });

  it('WHEN /show names the job THEN its grid is posted again as a new message with its buttons', async () => {
    const payload = slashCommand('show', [{ name: 'job', type: 3, value: parentId }], { userId: '1999000000000000004' });
    expect((await send(payload)).statusCode).toBe(202);
    expect(callbacks()[0]!.json).toEqual({ type: InteractionResponseType.DeferredChannelMessageWithSource });
    const edit = await api.waitFor((r) => r.method === 'PATCH' && r.path === `/webhooks/${APP_ID}/${payload.token}/messages/@original`);
    expect(edit.files).toHaveLength(1);
    expect([...edit.files[0]!.bytes]).toEqual([1, 2, 3]);
    expect((edit.json as { components: unknown[] }).components).toHaveLength(4);
  });

  it('WHEN a manager opens the buttons to everyone THEN another user may upscale; a non-manager may not change it', async () => {
    const stranger = { userId: '1999000000000000005', permissions: '0' };
    await send(slashCommand('settings', [{ name: 'scope', type: 3, value: 'channel' }, { name: 'buttons', type: 3, value: 'everyone' }], stranger));
    expect(JSON.stringify((await api.waitFor((r) => r.method === 'PATCH')).json)).toContain('Only people who can manage this channel');
    api.clear();
    await send(slashCommand('settings', [{ name: 'scope', type: 3, value: 'channel' }, { name: 'buttons', type: 3, value: 'everyone' }]));
    expect(JSON.stringify((await api.waitFor((r) => r.method === 'PATCH')).json)).toContain('Saved channel defaults');
    api.clear();
    expect((await send(buttonPress(`upscale:${parentId}:1`, messageId, stranger))).statusCode).toBe(202);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(1);
    await send(slashCommand('settings', [{ name: 'scope', type: 3, value: 'channel' }, { name: 'reset', type: 5, value: true }]));
  });

  it('WHEN the owner presses 🗑️ THEN the message and the stored objects are deleted (last: it removes the parent)', async () => {
    const payload = buttonPress(`delete:${parentId}:0`, messageId);
    await send(payload);
    expect(callbacks()[0]!.json).toEqual({ type: InteractionResponseType.DeferredMessageUpdate });
    expect(api.requests.map((r) => r.method)).toEqual(['POST', 'DELETE', 'POST']);
    expect(api.requests[1]!.path).toBe(`/webhooks/${APP_ID}/${payload.token}/messages/@original`);
    expect(await emulator.ports.blobs.exists(jobKeys.result(parentId))).toBe(false);
    expect(await emulator.ports.blobs.exists(jobKeys.grid(parentId))).toBe(false);
  });
});

describe('GIVEN requests that are not from Discord', () => {
  const imagine = () => JSON.stringify(slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'a lighthouse' }]));

  it.each([
    ['a signature of other bytes', (body: string) => functionUrlEvent(keys, body, { signature: signBody(keys, `${body} `, nowSeconds()) })],
    ['a signature by another key', (body: string) => functionUrlEvent(keys, body, { signature: signBody(makeSigningKeys(), body, nowSeconds()) })],
    ['no signature headers', (body: string) => functionUrlEvent(keys, body, { omitHeaders: true })],
    ['a signature that is not hex', (body: string) => functionUrlEvent(keys, body, { signature: 'zz'.repeat(64) })],
    ['a stale timestamp (10 minutes old)', (body: string) => functionUrlEvent(keys, body, { timestamp: nowSeconds(-600) })],
    ['a timestamp from the future', (body: string) => functionUrlEvent(keys, body, { timestamp: nowSeconds(600) })],
  ])('WITH %s THEN 401 and nothing is enqueued or sent', async (_label, build) => {
    const response = await handler(build(imagine()));
    expect(response.statusCode).toBe(401);
    expect(api.requests).toHaveLength(0);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
  });

  it('WHEN a signed request is replayed THEN the replay gets 401 and only one job exists', async () => {
    const event = functionUrlEvent(keys, imagine());
    expect((await handler(event)).statusCode).toBe(202);
    expect((await handler(event)).statusCode).toBe(401);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(1);
  });

  it.each([
    ['a signed body that is not JSON', '{"type": 2, '],
    ['a signed JSON that is not an interaction', JSON.stringify({ type: 99, hello: 'world' })],
    ['a command without a token', JSON.stringify({ ...slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'x' }]), token: undefined })],
  ])('WITH %s THEN 400 and nothing is enqueued', async (_label, body) => {
    const response = await handler(functionUrlEvent(keys, body));
    expect(response.statusCode).toBe(400);
    expect(api.requests).toHaveLength(0);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
  });

  it('WITH a body over 256 KiB THEN 413 before anything else', async () => {
    const response = await handler(functionUrlEvent(keys, JSON.stringify({ type: 2, padding: 'x'.repeat(300_000) })));
    expect(response.statusCode).toBe(413);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
  });
});
