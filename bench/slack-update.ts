/**
 * Event → recorded Slack update: fauxqs (SQS + S3) on loopback, the real Dispatcher and SlackPoster,
 * a recording Slack API. Two cases per sample, each on a fresh job (so the 2-s edit throttle does not
 * apply): a `progress` event → the recorded chat.update; a `completed` event → the recorded final
 * chat.update, after the three-step upload of a 2048×1365 PNG grid.
 * Prints p50/p99/max; asserts nothing.
 *
 *   node bench/slack-update.ts [count]
 */
import { randomFillSync } from 'node:crypto';
import sharp from 'sharp';
import type { EventBus, ReceivedEvent } from '../core/ports.ts';
import { WIRE_VERSION } from '../core/job.ts';
import { jobKeys } from '../core/storage-layout.ts';
import { Dispatcher } from '../bot/dispatcher.ts';
import { SlackPoster } from '../bot/slack/poster.ts';
import { createSlackClient } from '../bot/slack/web-client.ts';
import { latencySummary } from './percentiles.ts';
import { startTestEmulator } from '../test/support/emulator.ts';
import { RecordingSlackApi } from '../test/slack/support/recording-slack-api.ts';
import { resultOf, slackJob } from '../test/slack/support/fixtures.ts';

const COUNT = Number(process.argv[2] ?? 30);


async function main(): Promise<void> {
  const [emulator, api] = await Promise.all([startTestEmulator(), new RecordingSlackApi().start()]);
  const { blobs, events } = emulator.ports;
  const client = createSlackClient('xoxb-bench', { apiUrl: api.url });
  const dispatcher = new Dispatcher({ events, blobs, posters: { slack: new SlackPoster({ client }) }, receiveWaitSeconds: 1 });
  const stop = new AbortController();
  void dispatcher.run(stop.signal);

  const width = 2048;
  const height = 1365;
  const pixels = Buffer.alloc(width * height * 3);
  // Noisy on alternate rows, smooth on the others: a PNG of a few MB, like a real 4-up grid.
  const row = width * 3;
  for (let y = 0; y < height; y += 2) randomFillSync(pixels, y * row, row);
  for (let y = 1; y < height; y += 2) for (let x = 0; x < row; x++) pixels[y * row + x] = (x + y) & 255;
  const grid = new Uint8Array(await sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer());

  // Each job in a channel of its own: the dispatcher paces non-final edits to one per second per
  // channel (Slack's ~1 message/s per channel), which would otherwise dominate the figure.
  async function newJob(i: number, tag: string) {
    const channelId = `C${tag.toUpperCase()}${String(i).padStart(5, '0')}`;
    const placeholder = await client.chat.postMessage({ channel: channelId, text: 'Queued…' });
    const id = `jbench${tag}${String(i).padStart(5, '0')}${Date.now().toString(36)}`;
    const job = slackJob({ id, messageTs: placeholder.ts!, channelId });
    await blobs.put(jobKeys.job(id), JSON.stringify(job), 'application/json');
    return { job, ts: placeholder.ts! };
  }
  const updatesOf = (ts: string) => api.messages.get(ts)?.updates ?? 0;

  const progress: number[] = [];
  const final: number[] = [];
  for (let i = 0; i < COUNT; i++) {
    const running = await newJob(i, 'p');
    let start = Date.now();
    await events.publish({ v: WIRE_VERSION, type: 'progress', jobId: running.job.id, at: start, stage: 'prior', step: 5, steps: 20, fraction: 0.25 });
    await api.waitFor(() => updatesOf(running.ts) >= 1, 30_000);
    progress.push(api.callsOf('chat.update').filter((c) => c.params.ts === running.ts).at(-1)!.at - start);

    const done = await newJob(i, 'c');
    await blobs.put(jobKeys.grid(done.job.id), grid, 'image/png');
    await blobs.put(jobKeys.result(done.job.id), JSON.stringify({ ...resultOf(done.job), grid: { key: jobKeys.grid(done.job.id), width, height, contentType: 'image/png' } }), 'application/json');
    start = Date.now();
    await events.publish({ v: WIRE_VERSION, type: 'completed', jobId: done.job.id, at: start, resultKey: jobKeys.result(done.job.id) });
    await api.waitFor(() => JSON.stringify(api.messages.get(done.ts)?.blocks ?? []).includes('slack_file'), 30_000);
    final.push(api.callsOf('chat.update').filter((c) => c.params.ts === done.ts).at(-1)!.at - start);
  }

  // The same two cases handed to a dispatcher directly (no events queue): the bot-side part alone.
  stop.abort();
  dispatcher.stop();
  const noQueue: EventBus = { publish: async () => undefined, receive: async () => [], ack: async () => undefined };
  const direct = new Dispatcher({ events: noQueue, blobs, posters: { slack: new SlackPoster({ client }) } });
  const directProgress: number[] = [];
  const directFinal: number[] = [];
  for (let i = 0; i < COUNT; i++) {
    const running = await newJob(i, 'dp');
    let start = Date.now();
    const progressEvent: ReceivedEvent = { receiptHandle: `p${i}`, event: { v: WIRE_VERSION, type: 'progress', jobId: running.job.id, at: start, stage: 'prior', step: 5, steps: 20, fraction: 0.25 } };
    await direct.handle(progressEvent);
    await api.waitFor(() => updatesOf(running.ts) >= 1, 30_000);
    directProgress.push(api.callsOf('chat.update').filter((c) => c.params.ts === running.ts).at(-1)!.at - start);

    const done = await newJob(i, 'dc');
    await blobs.put(jobKeys.grid(done.job.id), grid, 'image/png');
    await blobs.put(jobKeys.result(done.job.id), JSON.stringify({ ...resultOf(done.job), grid: { key: jobKeys.grid(done.job.id), width, height, contentType: 'image/png' } }), 'application/json');
    start = Date.now();
    await direct.handle({ receiptHandle: `c${i}`, event: { v: WIRE_VERSION, type: 'completed', jobId: done.job.id, at: start, resultKey: jobKeys.result(done.job.id) } });
    await api.waitFor(() => JSON.stringify(api.messages.get(done.ts)?.blocks ?? []).includes('slack_file'), 30_000);
    directFinal.push(api.callsOf('chat.update').filter((c) => c.params.ts === done.ts).at(-1)!.at - start);
  }
  direct.stop();

  console.log(`grid PNG: ${(grid.byteLength / 1024 / 1024).toFixed(2)} MiB`);
  console.log(latencySummary('direct: progress event → chat.update', directProgress, 2, 48));
  console.log(latencySummary('direct: completed → upload + final chat.update', directFinal, 2, 48));
  console.log(latencySummary('via events queue: progress → chat.update', progress, 2, 48));
  console.log(latencySummary('via events queue: completed → final update', final, 2, 48));
  await Promise.all([api.stop(), emulator.stop()]);
}

await main();
