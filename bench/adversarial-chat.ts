/**
 * Hostile requests at both chat endpoints, the long version of test/adversarial/{slack,discord}-requests:
 * N requests each to the Slack handler (functions/slack-events.ts) and the Discord interactions
 * handler (functions/discord-interactions.ts), with the emulator behind them and recording APIs for
 * Slack and Discord. Each request is one of: a curated signed-but-malformed shape, a valid request
 * with a required field removed or replaced by a wrong value, a forged signature, a timestamp too old
 * or in the future, a replay of an accepted request, or an oversized body. None of them may enqueue
 * (a replay may not add a second job). Prints N tried, N wrongly enqueued, N 5xx per platform.
 *
 * Measured (2026-12-07, seed 18): Slack 1000 tried, 0 wrongly enqueued, 0 5xx; Discord 1000 tried, 0 wrongly
 * enqueued, 0 5xx (before the Slack gate the issue counted 45 5xx in 626 Slack requests, and future timestamps enqueued).
 *
 *   nice node bench/adversarial-chat.ts [requestsPerPlatform=1000] [seed]
 */
import { createModerationPolicy } from '../bot/moderation.ts';
import { createSlackApp } from '../bot/slack/app.ts';
import { createCommandHandlers } from '../bot/discord/command-handlers.ts';
import { createDiscordRest } from '../bot/discord/rest-poster.ts';
import { createInteractionVerifier } from '../bot/discord/verify.ts';
import { createSlackEventsHandler } from '../functions/slack-events.ts';
import { createDiscordInteractionsHandler } from '../functions/discord-interactions.ts';
import { startTestEmulator } from '../test/support/emulator.ts';
import { takeJobs } from '../test/support/drain-jobs.ts';
import { RecordingSlackApi } from '../test/slack/support/recording-slack-api.ts';
import { RecordingDiscordApi } from '../test/discord/support/recording-discord-api.ts';
import { FORM, SIGNING_SECRET, signedEvent, slashCommandBody } from '../test/slack/support/signed-requests.ts';
import { functionUrlEvent, makeSigningKeys, nowSeconds, slashCommand } from '../test/discord/support/signed-interactions.ts';
import { malformedSlackRequests, slashCommandFields } from '../test/adversarial/support/slack-hostile.ts';
import { malformedInteractions } from '../test/adversarial/support/discord-hostile.ts';

const N = Number(process.argv[2] ?? 1000);
let state = Number(process.argv[3] ?? Date.now() % 100_000) >>> 0;
const seed = state;
const next = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state / 4294967296;
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
const WRONG_VALUES: readonly unknown[] = [null, 42, '', 'not an id!', {}, [], true, 'x'.repeat(5000)];

interface Tally { tried: number; wronglyEnqueued: number; serverErrors: number; byKind: Record<string, number> }
const tally = (): Tally => ({ tried: 0, wronglyEnqueued: 0, serverErrors: 0, byKind: {} });

const emulator = await startTestEmulator();
const [slackApi, discordApi] = await Promise.all([new RecordingSlackApi().start(), (async () => { const api = new RecordingDiscordApi(); await api.start(); return api; })()]);
const bot = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 100_000, randomSeed: () => 7 };
const { receiver } = createSlackApp({ transport: 'lambda', botToken: 'xoxb-bench', signingSecret: SIGNING_SECRET, apiUrl: slackApi.url, retryConfig: { retries: 0 } }, { bot });
const slack = await createSlackEventsHandler(receiver!, { signingSecret: SIGNING_SECRET });
const keys = makeSigningKeys();
const discord = createDiscordInteractionsHandler({ handlers: createCommandHandlers(bot), moderation: bot.moderation, rest: createDiscordRest({ api: discordApi.api }), verify: createInteractionVerifier({ publicKeyHex: keys.publicKeyHex }) });

async function record(t: Tally, kind: string, status: number, allowedJobs: number): Promise<void> {
  t.tried += 1;
  t.byKind[kind] = (t.byKind[kind] ?? 0) + 1;
  if (status >= 500) t.serverErrors += 1;
  const jobs = await takeJobs(emulator.ports.queue);
  if (jobs.length > allowedJobs) {
    t.wronglyEnqueued += jobs.length - allowedJobs;
    console.log(`wrongly enqueued (${kind})`);
  }
}

const slackTally = tally();
const slackShapes = malformedSlackRequests();
const now = () => Math.floor(Date.now() / 1000);
for (let i = 0; i < N; i += 1) {
  const kind = pick(['curated', 'field', 'forged', 'old', 'future', 'replay', 'oversized']);
  if (kind === 'curated') {
    const request = pick(slackShapes);
    await record(slackTally, kind, (await slack(signedEvent(request.body, request.contentType))).statusCode, 0);
  } else if (kind === 'field') {
    const fields = slashCommandFields('a fox');
    // trigger_id is opaque to us (any short string is valid), so it is only ever removed.
    const field = pick(['user_id', 'channel_id', 'team_id', 'trigger_id']);
    if (field === 'trigger_id' || next() < 0.5) delete fields[field];
    else fields[field] = String(pick(WRONG_VALUES.filter((value) => typeof value === 'string')));
    await record(slackTally, `${kind}:${field}`, (await slack(signedEvent(slashCommandBody(fields), FORM))).statusCode, 0);
  } else if (kind === 'replay') {
    const body = slashCommandBody(slashCommandFields('a replayed fox'));
    let worst = 0;
    for (let copy = 0; copy < 3; copy += 1) worst = Math.max(worst, (await slack(signedEvent(body, FORM))).statusCode);
    await record(slackTally, kind, worst, 1);
  } else {
    const body = kind === 'oversized' ? slashCommandBody(slashCommandFields(`a fox ${'x'.repeat(600 * 1024)}`)) : slashCommandBody(slashCommandFields('a fox'));
    const options = kind === 'forged' ? { secret: `forged-${i}` } : kind === 'old' ? { timestamp: now() - 301 - Math.floor(next() * 1e6) } : kind === 'future' ? { timestamp: now() + 61 + Math.floor(next() * 3e8) } : {};
    await record(slackTally, kind, (await slack(signedEvent(body, FORM, options))).statusCode, 0);
  }
}

const discordTally = tally();
const discordShapes = malformedInteractions();
const imagineBody = (prompt = 'a fox') => JSON.stringify(slashCommand('imagine', [{ name: 'prompt', type: 3, value: prompt }]));
for (let i = 0; i < N; i += 1) {
  const kind = pick(['curated', 'field', 'forged', 'old', 'future', 'replay', 'oversized']);
  if (kind === 'curated') {
    await record(discordTally, kind, (await discord(functionUrlEvent(keys, pick(discordShapes).body))).statusCode ?? 0, 0);
  } else if (kind === 'field') {
    const payload = JSON.parse(imagineBody()) as Record<string, unknown>;
    // The channel comes as channel_id and as channel.id (either serves), so both change together.
    const field = pick(['type', 'data', 'member', 'channel', 'id', 'token']);
    const targets = field === 'channel' ? ['channel', 'channel_id'] : [field];
    const remove = next() < 0.3;
    // The token is opaque to us (any string of 1–512 characters is valid), so it only gets values that are not one.
    const wrong = pick(field === 'token' ? WRONG_VALUES.filter((value) => value !== 'not an id!') : WRONG_VALUES);
    for (const target of targets) {
      if (remove) delete payload[target];
      else payload[target] = wrong;
    }
    await record(discordTally, `${kind}:${field}`, (await discord(functionUrlEvent(keys, JSON.stringify(payload)))).statusCode ?? 0, 0);
  } else if (kind === 'replay') {
    const event = functionUrlEvent(keys, imagineBody('a replayed fox'));
    let worst = 0;
    for (let copy = 0; copy < 3; copy += 1) worst = Math.max(worst, (await discord(event)).statusCode ?? 0);
    await record(discordTally, kind, worst, 1);
  } else {
    const body = kind === 'oversized' ? imagineBody(`a fox ${'x'.repeat(300 * 1024)}`) : imagineBody();
    const options = kind === 'forged' ? { signature: functionUrlEvent(makeSigningKeys(), body).headers['x-signature-ed25519']! } : kind === 'old' ? { timestamp: nowSeconds(-301 - Math.floor(next() * 1e6)) } : kind === 'future' ? { timestamp: nowSeconds(61 + Math.floor(next() * 3e8)) } : {};
    await record(discordTally, kind, (await discord(functionUrlEvent(keys, body, options))).statusCode ?? 0, 0);
  }
}

console.log(`seed ${seed}`);
for (const [name, t] of [['slack', slackTally], ['discord', discordTally]] as const) {
  console.log(`${name.padEnd(8)} ${t.tried} tried, ${t.wronglyEnqueued} wrongly enqueued, ${t.serverErrors} 5xx   (${Object.entries(t.byKind).sort().map(([kind, count]) => `${kind} ${count}`).join(', ')})`);
}
await Promise.all([slackApi.stop(), discordApi.stop(), emulator.stop()]);
