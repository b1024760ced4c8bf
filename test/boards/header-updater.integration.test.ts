/**
 * Board changes → events queue → the real Dispatcher → BoardHeaderUpdater → a recording poster, all over the
 * emulator: paced header edits with the collage, one new frozen version per render, the deadline ending a board
 * nobody touches, the summary and the exports (presigned links that download) exactly once however often the
 * board is ended, and a deleted thread ending the board without losing anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { imagine, pressButton } from '../../bot/commands/index.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { Dispatcher } from '../../bot/dispatcher.ts';
import { endBoard, startBoard, type BoardStarted } from '../../bot/boards/actions.ts';
import { BoardHeaderUpdater } from '../../bot/boards/header-updater.ts';
import { sweepDeadlines } from '../../bot/boards/deadline.ts';
import { loadEnded } from '../../bot/boards/board-store.ts';
import { boardKeys } from '../../core/storage-layout.ts';
import { takeJobs } from '../support/drain-jobs.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { BoardRecordingPoster, finishJob, slackUser } from './support.ts';

async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const INTERVAL_MS = 1500;

describe('GIVEN the emulator, the dispatcher and a board header updater (interval 1.5 s for the test; 30 s in production)', () => {
  let emulator: TestEmulator;
  let deps: BotDeps;
  const poster = new BoardRecordingPoster('slack');
  const stop = new AbortController();
  let running: Promise<void>;
  let updater: BoardHeaderUpdater;
  let board: BoardStarted;
  let jobId = '';

  beforeAll(async () => {
    emulator = await startTestEmulator();
    deps = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 100 };
    updater = new BoardHeaderUpdater({ blobs: emulator.ports.blobs, posters: { slack: poster }, minIntervalMs: INTERVAL_MS, pageBaseUrl: 'http://127.0.0.1:9/' });
    const dispatcher = new Dispatcher({ ...emulator.ports, posters: { slack: poster }, boards: updater, receiveWaitSeconds: 1 });
    running = dispatcher.run(stop.signal);
  });
  afterAll(async () => {
    stop.abort();
    await running;
    updater?.stop();
    await emulator?.stop();
  });

  it('WHEN a board starts THEN its header is posted with an empty collage, the code and the page link', async () => {
    board = (await startBoard(deps, slackUser('host', 'H1'), { name: 'Header test', brief: 'lanterns at dusk' })) as BoardStarted;
    await until('the first header', () => poster.headers.length === 1);
    const first = poster.headers[0]!;
    expect(first.header.title).toBe('📋 Header test');
    expect(first.header.code).toMatch(/^mb-b[a-z0-9]{11}-[a-z0-9]{13}$/);
    expect(first.header.pageUrl).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:9/boards/${board.board.id}\\?t=`));
    expect((await sharp(first.collage.bytes).metadata()).width).toBe(1600);
    expect(await emulator.ports.blobs.exists(boardKeys.header(board.board.id))).toBe(true);
  });

  it('WHEN ten changes arrive within one interval THEN they are coalesced: the header is edited at most once per interval and shows the last state', async () => {
    const reply = await imagine(deps, slackUser('host', 'H1'), 'a paper lantern');
    jobId = (reply as { jobId: string }).jobId;
    await takeJobs(emulator.ports.queue);
    await finishJob(emulator.ports.blobs, jobId);
    const before = poster.headers.length;
    for (const tile of [1, 2, 3, 4]) await pressButton(deps, slackUser(`u${tile}`, 'H1'), `pin:${jobId}:${tile}`);
    for (const user of ['a', 'b', 'c', 'd', 'e', 'f']) await pressButton(deps, slackUser(user, 'H1'), `vote:${jobId}:2`);
    await until('the header to show 4 pins and 6 votes', () => poster.headers.at(-1)!.header.statusLine.includes('4/48 pins'), 15_000);
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 2));
    const edits = poster.headers.slice(before);
    expect(edits.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < poster.headers.length; i++) expect(poster.headers[i]!.at - poster.headers[i - 1]!.at).toBeGreaterThanOrEqual(INTERVAL_MS - 50);
    expect(edits.at(-1)!.existing?.messageId).toBe(`ts-${board.board.id}`);
    expect(edits.at(-1)!.header.tasteLine).toContain('lantern');
  });

  it('WHEN the host ends the board twice THEN one summary with the top pins and working export links is posted', async () => {
    expect(await endBoard(deps, slackUser('host', 'H1'))).toMatchObject({ kind: 'done', action: 'board_ended' });
    expect(await endBoard(deps, slackUser('host', 'H1'), board.board.id)).toMatchObject({ kind: 'rejected', code: 'already_ended' });
    await until('the summary', () => poster.summaries.length === 1, 20_000);
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 2));
    expect(poster.summaries).toHaveLength(1);
    const { summary } = poster.summaries[0]!;
    expect(summary.top[0]).toMatchObject({ rank: 1, votes: 6, tile: 2, jobId });
    expect(summary.text).toContain('4 pins');
    const sheet = await fetch(summary.exports.sheet);
    expect(sheet.status).toBe(200);
    expect(new TextDecoder().decode((await sheet.arrayBuffer()).slice(0, 5))).toBe('%PDF-');
    const zip = new Uint8Array(await (await fetch(summary.exports.zip)).arrayBuffer());
    expect([...zip.slice(0, 2)]).toEqual([0x50, 0x4b]);
    expect(poster.headers.at(-1)!.header.final).toBe(true);
  });

  it('WHEN a board passes its deadline untouched THEN the sweep ends it and its summary goes out', async () => {
    const open = (await startBoard(deps, slackUser('host', 'H4'), { name: 'Still open', duration: '2h' })) as BoardStarted;
    // Started three hours ago for two hours: its deadline passed an hour ago, and nobody has touched it since.
    const late = (await startBoard({ ...deps, now: () => Date.now() - 3 * 3_600_000 }, slackUser('host', 'H2'), { name: 'Short one', duration: '2h' })) as BoardStarted;
    const due = await sweepDeadlines(emulator.ports.blobs, emulator.ports.events, Date.now());
    expect(due).toContain(late.board.id);
    expect(due).not.toContain(open.board.id);
    await until('the deadline summary', () => poster.summaries.some((s) => s.boardId === late.board.id), 20_000);
    expect(await loadEnded(emulator.ports.blobs, late.board.id)).toMatchObject({ reason: 'deadline', at: late.board.deadline });
    expect(await sweepDeadlines(emulator.ports.blobs, emulator.ports.events, Date.now())).not.toContain(late.board.id);
  });

  it('WHEN the thread was deleted THEN the next header edit ends the board (place_gone) and nothing is lost', async () => {
    const doomed = (await startBoard(deps, slackUser('host', 'H3'), { name: 'Doomed' })) as BoardStarted;
    await until('its first header', () => poster.headers.some((h) => h.boardId === doomed.board.id));
    poster.gone.add(doomed.board.id);
    const reply = await imagine(deps, slackUser('host', 'H3'), 'a lost thread');
    await takeJobs(emulator.ports.queue);
    await finishJob(emulator.ports.blobs, (reply as { jobId: string }).jobId);
    await pressButton(deps, slackUser('host', 'H3'), `pin:${(reply as { jobId: string }).jobId}:1`);
    await until('the board to end', async () => (await loadEnded(emulator.ports.blobs, doomed.board.id))?.reason === 'place_gone', 20_000);
    expect(await pressButton(deps, slackUser('host', 'H3'), `vote:${(reply as { jobId: string }).jobId}:1`)).toMatchObject({ kind: 'rejected', message: expect.stringContaining('lost its thread') });
    await until('the exports', () => emulator.ports.blobs.exists(boardKeys.export(doomed.board.id, 'board.zip')));
    expect(poster.summaries.some((s) => s.boardId === doomed.board.id)).toBe(false);
  });
});
