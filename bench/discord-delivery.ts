/**
 * Time from a `completed` event on the events queue to the recorded Discord edit carrying the grid:
 * fauxqs (SQS + S3) on loopback, the real Dispatcher and DiscordRestPoster, a recording Discord API.
 * The grid is a 2048×1365 PNG of a few MiB (a 3:2 grid of four 1024-class tiles). Also times the renderer alone.
 * Prints p50/p99/max; asserts nothing.
 *
 *   node bench/discord-delivery.ts [count]
 */
import { randomFillSync } from 'node:crypto';
import sharp from 'sharp';
import { latencySummary } from './percentiles.ts';
import { WIRE_VERSION } from '../core/job.ts';
import { jobKeys } from '../core/storage-layout.ts';
import { Dispatcher } from '../bot/dispatcher.ts';
import { blobMessageIds, createDiscordRest, DiscordRestPoster } from '../bot/discord/rest-poster.ts';
import { renderDiscordMessage } from '../bot/discord/render.ts';
import { startTestEmulator } from '../test/support/emulator.ts';
import { RecordingDiscordApi } from '../test/discord/support/recording-discord-api.ts';
import { APP_ID, completedMessage, discordJob, gridResult } from '../test/discord/support/fixtures.ts';

const COUNT = Number(process.argv[2] ?? 30);

async function main(): Promise<void> {
  const emulator = await startTestEmulator();
  const api = await new RecordingDiscordApi().start();
  const { blobs, events } = emulator.ports;
  const poster = new DiscordRestPoster({ rest: createDiscordRest({ api: api.api }), hasBotToken: false, messageIds: blobMessageIds(blobs) });
  const dispatcher = new Dispatcher({ events, blobs, posters: { discord: poster }, receiveWaitSeconds: 1 });
  const stop = new AbortController();
  void dispatcher.run(stop.signal);

  const width = 2048;
  const height = 1365;
  // Half noise, half flat: a PNG of a few MiB, like a detailed real grid (pure noise would not compress at all).
  const pixels = randomFillSync(Buffer.alloc(width * height * 3));
  pixels.fill(128, 0, pixels.length / 2);
  const grid = new Uint8Array(await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer());

  const latency: number[] = [];
  let id0 = '';
  for (let i = 0; i < COUNT; i++) {
    const id = `jbench${String(i).padStart(6, '0')}${Date.now().toString(36)}`;
    id0 ||= id;
    const job = discordJob({ id });
    const token = `bench-token-${id}`;
    const owned = { ...job, delivery: { ...job.delivery, interactionToken: token } } as typeof job;
    await blobs.put(jobKeys.job(id), JSON.stringify(owned), 'application/json');
    await blobs.put(jobKeys.result(id), JSON.stringify(gridResult(owned)), 'application/json');
    await blobs.put(jobKeys.grid(id), grid, 'image/png');
    const path = `/webhooks/${APP_ID}/${token}/messages/@original`;
    const start = Date.now();
    await events.publish({ v: WIRE_VERSION, type: 'completed', jobId: id, at: start, resultKey: jobKeys.result(id) });
    const edit = await api.waitFor((r) => r.path === path && r.files.length === 1, 30_000);
    latency.push(edit.at - start);
  }

  const s3Get: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    await blobs.get(jobKeys.grid(id0));
    s3Get.push(performance.now() - t);
  }

  const job = discordJob();
  const message = completedMessage(job);
  const render: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    renderDiscordMessage(message, { attachmentName: 'grid.png', guildId: '1', channelId: '2' });
    if (i >= 200) render.push(performance.now() - t);
  }

  console.log(`Discord delivery (${process.version}, grid PNG ${(grid.byteLength / 1024 / 1024).toFixed(2)} MiB)`);
  console.log(latencySummary('completed event → recorded edit (wall)', latency));
  console.log(latencySummary('of which: S3 GET of the grid (emulator)', s3Get));
  console.log(latencySummary('renderDiscordMessage (incl. limit check)', render));

  stop.abort();
  dispatcher.stop();
  await api.stop();
  await emulator.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
