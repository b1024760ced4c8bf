/**
 * Mood boards: pin/vote → updated collage shown (p50/p99), collage render time for 12/24/48 pins, export time for a
 * 48-pin board. Over the emulator (S3/SQS on 127.0.0.1) with the real Dispatcher and BoardHeaderUpdater; the
 * header pacing is set to 0 here so each measurement is the work itself (production waits ≤ 30 s between edits).
 * `npm run bench -- boards [presses]`
 */
import { performance } from 'node:perf_hooks';
import { imagine, pressButton } from '../bot/commands/index.ts';
import type { BotDeps } from '../bot/commands/context.ts';
import { createModerationPolicy } from '../bot/moderation.ts';
import { Dispatcher } from '../bot/dispatcher.ts';
import type { Attachment } from '../bot/poster.ts';
import { startBoard, type BoardStarted } from '../bot/boards/actions.ts';
import { BoardHeaderUpdater } from '../bot/boards/header-updater.ts';
import { loadBoardState } from '../bot/boards/board-store.ts';
import { boardCollage, loadPinImages, writeExports } from '../bot/boards/board-media.ts';
import type { BoardHeader } from '../bot/boards/board-message.ts';
import type { BoardRecord, HeaderRecord } from '../bot/boards/model.ts';
import { takeJobs } from '../test/support/drain-jobs.ts';
import { startTestEmulator } from '../test/support/emulator.ts';
import { finishJob, slackUser } from '../test/boards/support.ts';
import { RecordingPoster } from '../test/bot/support/recording-poster.ts';
import { latencySummary } from './percentiles.ts';

const presses = Number(process.argv[2] ?? 20);
const emulator = await startTestEmulator();
const deps: BotDeps = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 100, boardLimits: { maxPins: 48, maxMembers: 100 } };

class TimedPoster extends RecordingPoster {
  waiting: { want: string; resolve: () => void } | undefined;
  async deliverBoardHeader(board: BoardRecord, header: BoardHeader, _collage: Attachment, existing: HeaderRecord | null): Promise<HeaderRecord> {
    if (this.waiting && header.statusLine.includes(this.waiting.want)) this.waiting.resolve();
    return existing ?? { v: 1, platform: 'slack', channelId: board.place.channelId, messageId: 'ts' };
  }
}
const poster = new TimedPoster('slack');
const updater = new BoardHeaderUpdater({ blobs: emulator.ports.blobs, posters: { slack: poster }, minIntervalMs: 0 });
const dispatcher = new Dispatcher({ events: emulator.ports.events, blobs: emulator.ports.blobs, posters: { slack: poster }, boards: updater, receiveWaitSeconds: 1 });
const stop = new AbortController();
const running = dispatcher.run(stop.signal);

const board = (await startBoard(deps, slackUser('host', 'CB'), { name: 'Bench board' })) as BoardStarted;
const jobIds: string[] = [];
for (let i = 0; i < 12; i++) {
  const reply = await imagine(deps, slackUser(`u${i}`, 'CB'), `a bench image number ${i} --seed ${i}`);
  jobIds.push((reply as { jobId: string }).jobId);
}
await takeJobs(emulator.ports.queue);
for (const id of jobIds) await finishJob(emulator.ports.blobs, id, 4, 256);
const tiles = jobIds.flatMap((id) => [1, 2, 3, 4].map((t) => `${id}:${t}`));

// Pin/vote → the header (with its collage) shows the change.
const samples: number[] = [];
let pinned = 0;
for (let i = 0; i < Math.min(presses, 48); i++) {
  pinned++;
  const want = `${pinned}/48 pins`;
  const shown = new Promise<void>((resolve) => (poster.waiting = { want, resolve }));
  const started = performance.now();
  await pressButton(deps, slackUser('host', 'CB'), `pin:${tiles[i]}`);
  await shown;
  samples.push(performance.now() - started);
}
console.log(latencySummary('pin → header with collage shown', samples));

// Collage render time by pin count (state and images loaded once; the render alone).
for (let i = pinned; i < 48; i++) await pressButton(deps, slackUser('host', 'CB'), `pin:${tiles[i]}`);
const full = (await loadBoardState(emulator.ports.blobs, board.board.id))!;
const images = await loadPinImages(emulator.ports.blobs, full);
for (const count of [12, 24, 48]) {
  const subset = { ...full, pins: full.pins.slice(0, count) };
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    await boardCollage(subset, images.slice(0, count));
    times.push(performance.now() - t0);
  }
  console.log(latencySummary(`collage render, ${count} pins (256² tiles, 1600×900)`, times));
}

// Exports of the 48-pin board: collage PNG, PDF contact sheet, zip with PNG text chunks, stored in S3.
const exportTimes: number[] = [];
let sizes = { collage: 0, sheet: 0, zip: 0 };
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  sizes = (await writeExports(emulator.ports.blobs, full, Date.now())).bytes;
  exportTimes.push(performance.now() - t0);
}
console.log(latencySummary('exports of a 48-pin board (render + S3 put)', exportTimes));
console.log(`export sizes: collage ${(sizes.collage / 1024).toFixed(0)} KiB, sheet ${(sizes.sheet / 1024).toFixed(0)} KiB, zip ${(sizes.zip / 1024).toFixed(0)} KiB`);

stop.abort();
await running;
dispatcher.stop();
await emulator.stop();
