import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeButtonId } from '../../bot/custom-id.ts';
import { DeliveryError } from '../../bot/poster.ts';
import { buildJobMessage } from '../../bot/message-model.ts';
import { blobMessageIds, createDiscordRest, DiscordRestPoster, INTERACTION_TOKEN_USABLE_MS, type DiscordMessageIds } from '../../bot/discord/rest-poster.ts';
import type { BlobStore } from '../../core/ports.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { RecordingDiscordApi } from './support/recording-discord-api.ts';
import { APP_ID, CHANNEL_ID, GUILD_ID, INTERACTION_TOKEN, completedMessage, discordJob, queuedMessage } from './support/fixtures.ts';

const BOT_TOKEN = 'bot-token-MTIzNDU2Nzg5.secret-part';
const api = new RecordingDiscordApi();
const WEBHOOK_ORIGINAL = `/webhooks/${APP_ID}/${INTERACTION_TOKEN}/messages/@original`;

function memoryIds(): DiscordMessageIds & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, get: async (id) => map.get(id), set: async (id, messageId) => void map.set(id, messageId) };
}

function poster(options: { botToken?: string; ids?: DiscordMessageIds; maxWaitMs?: number } = {}) {
  const rest = createDiscordRest({ api: api.api, ...(options.botToken ? { token: options.botToken } : {}), maxRateLimitWaitMs: options.maxWaitMs ?? 5000 });
  return new DiscordRestPoster({ rest, hasBotToken: options.botToken !== undefined, messageIds: options.ids ?? memoryIds() });
}

const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]);

beforeAll(async () => void (await api.start()));
afterAll(async () => api.stop());
afterEach(() => api.clear());

describe('DiscordRestPoster', () => {
  it('GIVEN a fresh token and a finished grid THEN it PATCHes @original as multipart with the grid, the embed and U/V/🔄/ℹ️/🗑️/R rows, without the bot token', async () => {
    const job = discordJob();
    const ids = memoryIds();
    await poster({ botToken: BOT_TOKEN, ids }).deliver(job, completedMessage(job), { bytes: png, contentType: 'image/png', fileName: `grid-${job.id}.png` });

    expect(api.requests).toHaveLength(1);
    const edit = api.requests[0]!;
    expect(edit.method).toBe('PATCH');
    expect(edit.path).toBe(WEBHOOK_ORIGINAL);
    expect(edit.headers.authorization).toBeUndefined();
    expect(edit.contentType).toMatch(/^multipart\/form-data/);
    expect(edit.files).toHaveLength(1);
    expect(edit.files[0]!.name).toBe(`grid-${job.id}.png`);
    expect(edit.files[0]!.contentType).toBe('image/png');
    expect([...edit.files[0]!.bytes]).toEqual([...png]);

    const body = edit.json as { content: string; embeds: Array<{ image?: { url: string }; title: string }>; attachments: unknown[]; components: Array<{ components: Array<{ custom_id: string; label?: string; emoji?: { name: string } }> }> };
    expect(body.content).toBe('<@1400000000000000004>');
    expect(body.embeds[0]!.title).toBe('a lighthouse in a storm');
    // A plain attachment, not an embed image: later edits without a file must not lose the picture.
    expect(body.embeds[0]!.image).toBeUndefined();
    expect(body.attachments).toEqual([{ id: 0, filename: `grid-${job.id}.png` }]);
    const rows = body.components.map((row) => row.components.map((b) => b.label ?? b.emoji?.name));
    expect(rows).toEqual([
      ['U1', 'U2', 'U3', 'U4', '🔄'],
      ['V1', 'V2', 'V3', 'V4', 'ℹ️'],
      ['V1+', 'V2+', 'V3+', 'V4+', '🗑️'],
      ['R1', 'R2', 'R3', 'R4'],
    ]);
    const decoded = body.components.flatMap((row) => row.components.map((b) => decodeButtonId(b.custom_id)));
    expect(decoded.every((id) => id.jobId === job.id)).toBe(true);
    expect(decoded.map((id) => `${id.action}:${id.index}`)).toContain('upscale:3');
    expect(ids.map.get(job.id)).toMatch(/^\d+$/);
  });

  it('GIVEN a progress update without a file THEN the edit is JSON and leaves attachments alone', async () => {
    const job = discordJob();
    await poster().deliver(job, queuedMessage(job, 3));
    const edit = api.requests[0]!;
    expect(edit.contentType).toBe('application/json');
    const body = edit.json as Record<string, unknown>;
    expect(body).not.toHaveProperty('attachments');
    expect(JSON.stringify(body.embeds)).toContain('Queued · position 3');
    expect(JSON.stringify(body.embeds)).not.toContain('attachment://');
  });

  it('GIVEN a 13-minute-old token THEN the interaction webhook is still used', async () => {
    const job = discordJob({ tokenIssuedAt: Date.now() - 13 * 60 * 1000 });
    await poster({ botToken: BOT_TOKEN }).deliver(job, completedMessage(job));
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`PATCH ${WEBHOOK_ORIGINAL}`]);
  });

  it('GIVEN a token older than 14 minutes and a known message THEN the bot token edits the channel message instead', async () => {
    // 14 minutes written out: the test pins the rule, not whatever the constant says.
    expect(INTERACTION_TOKEN_USABLE_MS).toBe(14 * 60 * 1000);
    const job = discordJob({ tokenIssuedAt: Date.now() - 14 * 60 * 1000 - 1000 });
    const ids = memoryIds();
    ids.map.set(job.id, '1500000000000000005');
    await poster({ botToken: BOT_TOKEN, ids }).deliver(job, completedMessage(job), { bytes: png, contentType: 'image/png', fileName: 'grid.png' });
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`PATCH /channels/${CHANNEL_ID}/messages/1500000000000000005`]);
    expect(api.requests[0]!.headers.authorization).toBe(`Bot ${BOT_TOKEN}`);
    expect(api.requests[0]!.files).toHaveLength(1);
  });

  it('GIVEN an expired token and no known message THEN it posts a new channel message replying to the parent and remembers its id', async () => {
    const job = discordJob({ tokenIssuedAt: Date.now() - 20 * 60 * 1000, replyTo: '1600000000000000006', parentJobId: 'jparent0001' });
    const ids = memoryIds();
    const discord = poster({ botToken: BOT_TOKEN, ids });
    await discord.deliver(job, completedMessage(job));
    const post = api.requests[0]!;
    expect(`${post.method} ${post.path}`).toBe(`POST /channels/${CHANNEL_ID}/messages`);
    expect((post.json as { message_reference: unknown }).message_reference).toEqual({ message_id: '1600000000000000006', fail_if_not_exists: false });
    expect(JSON.stringify(post.json)).toContain(`https://discord.com/channels/${GUILD_ID}/${CHANNEL_ID}/1600000000000000006`);
    const remembered = ids.map.get(job.id);
    expect(remembered).toMatch(/^\d+$/);

    await discord.deliver(job, completedMessage(job));
    expect(`${api.requests[1]!.method} ${api.requests[1]!.path}`).toBe(`PATCH /channels/${CHANNEL_ID}/messages/${remembered}`);
  });

  it('GIVEN Discord answers 401 Invalid Webhook Token inside the window THEN it falls back to the bot token', async () => {
    const job = discordJob();
    api.scriptNext((r) => r.path === WEBHOOK_ORIGINAL, { status: 401, body: { message: 'Invalid Webhook Token', code: 50027 } });
    await poster({ botToken: BOT_TOKEN }).deliver(job, completedMessage(job));
    expect(api.requests.map((r) => `${r.method} ${r.path.startsWith('/webhooks') ? 'webhook' : r.path}`)).toEqual(['PATCH webhook', `POST /channels/${CHANNEL_ID}/messages`]);
  });

  it('GIVEN 404 Unknown Webhook within a minute of the interaction THEN a retryable error, no second message; later THEN the bot token', async () => {
    const unknownWebhook = { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
    api.scriptNext((r) => r.path === WEBHOOK_ORIGINAL, unknownWebhook);
    const fresh = discordJob({ tokenIssuedAt: Date.now() - 5000 });
    const error = (await poster({ botToken: BOT_TOKEN }).deliver(fresh, completedMessage(fresh)).catch((e: unknown) => e)) as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.retryable).toBe(true);
    expect(api.requests.map((r) => r.method)).toEqual(['PATCH']);

    api.clear();
    api.scriptNext((r) => r.path === WEBHOOK_ORIGINAL, unknownWebhook);
    const older = discordJob({ tokenIssuedAt: Date.now() - 5 * 60 * 1000 });
    await poster({ botToken: BOT_TOKEN }).deliver(older, completedMessage(older));
    expect(api.requests.map((r) => `${r.method} ${r.path.startsWith('/webhooks') ? 'webhook' : r.path}`)).toEqual(['PATCH webhook', `POST /channels/${CHANNEL_ID}/messages`]);
  });

  it('GIVEN the bot cannot edit the old message (403 50005) THEN it posts a new one', async () => {
    const job = discordJob({ tokenIssuedAt: 0, messageId: '1700000000000000007' });
    api.scriptNext((r) => r.method === 'PATCH', { status: 403, body: { message: 'Cannot edit a message authored by another user', code: 50005 } });
    await poster({ botToken: BOT_TOKEN }).deliver(job, completedMessage(job));
    expect(api.requests.map((r) => r.method)).toEqual(['PATCH', 'POST']);
  });

  it('GIVEN an expired token and no bot token THEN it fails for good, naming DISCORD_TOKEN and not the interaction token', async () => {
    const job = discordJob({ tokenIssuedAt: 0 });
    const error = await poster().deliver(job, completedMessage(job)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).retryable).toBe(false);
    expect((error as Error).message).toContain('DISCORD_TOKEN');
    expect((error as Error).message).not.toContain(INTERACTION_TOKEN);
    expect(api.requests).toHaveLength(0);
  });

  it('GIVEN a 429 with a short Retry-After THEN the client waits at least that long and retries the same edit', async () => {
    const job = discordJob();
    api.scriptNext((r) => r.path === WEBHOOK_ORIGINAL, { status: 429, headers: { 'retry-after': '0.3', 'x-ratelimit-scope': 'user' }, body: { message: 'You are being rate limited.', retry_after: 0.3, global: false } });
    await poster().deliver(job, queuedMessage(job));
    expect(api.requests).toHaveLength(2);
    expect(api.requests[1]!.path).toBe(WEBHOOK_ORIGINAL);
    expect(api.requests[1]!.at - api.requests[0]!.at).toBeGreaterThanOrEqual(300);
  });

  it('GIVEN a 429 with a long Retry-After THEN it hands back a retryable error carrying the wait, without the token', async () => {
    const job = discordJob();
    api.scriptNext((r) => r.path === WEBHOOK_ORIGINAL, { status: 429, headers: { 'retry-after': '30', 'x-ratelimit-scope': 'shared' }, body: { message: 'rate limited', retry_after: 30, global: false } });
    const error = (await poster({ maxWaitMs: 1000 }).deliver(job, queuedMessage(job)).catch((e: unknown) => e)) as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBeGreaterThanOrEqual(30_000);
    expect(error.message).not.toContain(INTERACTION_TOKEN);
    expect(api.requests).toHaveLength(1);
  });

  it('GIVEN a 5xx that persists THEN the error is retryable', async () => {
    const job = discordJob();
    for (let i = 0; i < 4; i++) api.scriptNext((r) => r.path === WEBHOOK_ORIGINAL, { status: 502, body: { message: 'bad gateway' } });
    const error = (await poster().deliver(job, queuedMessage(job)).catch((e: unknown) => e)) as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.retryable).toBe(true);
  });

  it('GIVEN the owner deleted the job THEN the message itself is deleted', async () => {
    const job = discordJob();
    await poster().deliver(job, buildJobMessage(job, { phase: 'deleted', updatedAt: Date.now() }));
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`DELETE ${WEBHOOK_ORIGINAL}`]);
  });

  it('GIVEN a job with an attachment_size_limit THEN attachmentLimitBytes reports it, else 10 MiB', () => {
    const job = discordJob();
    expect(poster().attachmentLimitBytes(job)).toBe(10 * 1024 * 1024);
    const limited = { ...job, delivery: { ...job.delivery, attachmentLimitBytes: 26_214_400 } } as typeof job;
    expect(poster().attachmentLimitBytes(limited)).toBe(26_214_400);
  });
});

describe('blobMessageIds', () => {
  // Unit level: an in-memory store stands in for S3.
  const objects = new Map<string, Uint8Array>();
  const blobs: BlobStore = {
    put: async (key, body) => void objects.set(key, typeof body === 'string' ? new TextEncoder().encode(body) : body),
    putIfAbsent: async (key, body) => !objects.has(key) && Boolean(objects.set(key, typeof body === 'string' ? new TextEncoder().encode(body) : body)),
    get: async (key) => objects.get(key) ?? null,
    exists: async (key) => objects.has(key),
    list: async (prefix) => [...objects.keys()].filter((key) => key.startsWith(prefix)),
    delete: async (keys) => keys.forEach((key) => objects.delete(key)),
    presignedUrl: async (key) => `memory://${key}`,
  };

  it('GIVEN a stored id THEN it reads back under jobs/{id}/ (deleted with the job)', async () => {
    const ids = blobMessageIds(blobs);
    await ids.set('j1', '1234567890123456789');
    expect(await ids.get('j1')).toBe('1234567890123456789');
    expect(jobKeys.discordMessage('j1')).toBe('jobs/j1/discord-message.json');
  });

  it('GIVEN a damaged or foreign record THEN it reads as unknown instead of failing delivery', async () => {
    const ids = blobMessageIds(blobs);
    objects.set(jobKeys.discordMessage('j2'), new TextEncoder().encode('{not json'));
    objects.set(jobKeys.discordMessage('j3'), new TextEncoder().encode('{"messageId":"../../x"}'));
    expect(await ids.get('j2')).toBeUndefined();
    expect(await ids.get('j3')).toBeUndefined();
    expect(await ids.get('j4')).toBeUndefined();
  });
});
