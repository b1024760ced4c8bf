/**
 * A whole board through the real emulator (S3 + SQS over HTTP on 127.0.0.1): start → capture → pins and a
 * 25-user vote storm with exact counts → limits under concurrent claims → hero/unpin/end permissions →
 * board codes (frozen, old ones keep working) → --board in another channel → refusals after the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imagine, pressButton } from '../../bot/commands/index.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { boardStatus, endBoard, startBoard, type BoardStarted } from '../../bot/boards/actions.ts';
import { loadBoardState, loadVersion, verifyLinkToken } from '../../bot/boards/board-store.ts';
import { boardKeys } from '../../core/storage-layout.ts';
import { parseBoardCode } from '../../bot/boards/model.ts';
import { loadJob } from '../../bot/job-records.ts';
import { takeJobs } from '../support/drain-jobs.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { finishJob, slackUser } from './support.ts';

describe('GIVEN a board in Slack channel C1 on the emulator', () => {
  let emulator: TestEmulator;
  let deps: BotDeps;
  let started: BoardStarted;
  const jobIds: string[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator();
    deps = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: ['gore'] }), maxPendingPerUser: 100 };
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('WHEN the host starts it THEN it is stored with a hashed link token, and a second board here is refused', async () => {
    const reply = await startBoard(deps, slackUser('host'), { name: 'Spring  campaign', brief: 'pastel, outdoors', duration: '2h', style: 'watercolor' });
    expect(reply.kind).toBe('board_started');
    started = reply as BoardStarted;
    expect(started.board.name).toBe('Spring campaign');
    expect(started.board.deadline - started.board.createdAt).toBe(2 * 3_600_000);
    const stored = await emulator.ports.blobs.get(boardKeys.board(started.board.id));
    expect(new TextDecoder().decode(stored!)).not.toContain(started.linkToken);
    expect(await verifyLinkToken(emulator.ports.blobs, started.board.id, started.linkToken)).toBe(true);
    expect(await verifyLinkToken(emulator.ports.blobs, started.board.id, `${started.linkToken.slice(0, -2)}xx`)).toBe(false);
    const again = await startBoard(deps, slackUser('other'), { name: 'Second' });
    expect(again).toMatchObject({ kind: 'rejected', code: 'board_exists' });
    expect((again as { message: string }).message).toContain('Spring campaign');
  });

  it('WHEN a board name or option is bad THEN the refusal says which', async () => {
    expect(await startBoard(deps, slackUser('x', 'C9'), { name: 'gore fest' })).toMatchObject({ kind: 'rejected', code: 'blocked_prompt' });
    expect(await startBoard(deps, slackUser('x', 'C9'), { name: 'ok', duration: '9d' })).toMatchObject({ kind: 'rejected', message: expect.stringContaining('outside 10m–7d') });
    expect(await startBoard(deps, slackUser('x', 'C9'), { name: 'ok', visibility: 'public' })).toMatchObject({ kind: 'rejected', message: expect.stringContaining('private or link') });
    expect(await startBoard(deps, slackUser('x', 'C9'), { name: '   ' })).toMatchObject({ kind: 'rejected', code: 'invalid_board' });
  });

  it('WHEN jobs are made in C1 THEN they carry the board and are candidates in its style; a job in C2 is not', async () => {
    for (const user of ['host', 'u1', 'u2']) {
      const reply = await imagine(deps, slackUser(user), `a ${user} meadow with kites --seed 7`);
      expect(reply.kind).toBe('accepted');
      jobIds.push((reply as { jobId: string }).jobId);
    }
    const outside = await imagine(deps, slackUser('u1', 'C2'), 'a harbour');
    const outsideJob = await loadJob(emulator.ports.blobs, (outside as { jobId: string }).jobId);
    expect(outsideJob?.boardId).toBeUndefined();
    for (const id of jobIds) {
      const job = await loadJob(emulator.ports.blobs, id);
      expect(job?.boardId).toBe(started.board.id);
      expect(job?.request.style).toBe('watercolor');
      expect(await emulator.ports.blobs.exists(boardKeys.candidate(started.board.id, id))).toBe(true);
    }
    await takeJobs(emulator.ports.queue);
    for (const id of jobIds) await finishJob(emulator.ports.blobs, id);
  });

  it('WHEN 25 members (the limit) pin 12 tiles and then all vote on every pin at the same time THEN the counts are exact', async () => {
    // host, u1 and u2 joined by making images; 22 more join by pinning.
    const users = ['host', 'u1', 'u2', ...Array.from({ length: 22 }, (_, i) => `m${i}`)];
    const tiles = jobIds.flatMap((jobId) => [1, 2, 3, 4].map((tile) => ({ jobId, tile })));
    const pinReplies = await Promise.all(users.map((user, i) => pressButton(deps, slackUser(user), `pin:${tiles[i % 12]!.jobId}:${tiles[i % 12]!.tile}`)));
    expect(pinReplies.filter((reply) => !(reply.kind === 'done' || (reply.kind === 'rejected' && reply.code === 'already_pinned')))).toEqual([]);
    // 25 people at once, each pressing 👍 on every pin as fast as their answers come back.
    const voteReplies = (
      await Promise.all(users.map(async (user) => {
        const replies = [];
        for (const { jobId, tile } of tiles) replies.push(await pressButton(deps, slackUser(user), `vote:${jobId}:${tile}`));
        return replies;
      }))
    ).flat();
    expect(voteReplies.filter((reply) => reply.kind === 'done' && reply.action === 'voted')).toHaveLength(25 * 12);
    let state = await loadBoardState(emulator.ports.blobs, started.board.id);
    expect(state!.pins).toHaveLength(12);
    expect(state!.pins.map((pin) => pin.votes)).toEqual(Array(12).fill(25));
    expect(state!.members).toBe(25);
    // Ten of them take back their vote on the first pin, at once: a toggle is one object per user.
    const first = tiles[0]!;
    await Promise.all(users.slice(0, 10).map((user) => pressButton(deps, slackUser(user), `vote:${first.jobId}:${first.tile}`)));
    state = await loadBoardState(emulator.ports.blobs, started.board.id);
    expect(state!.pins.find((pin) => pin.pinKey === `${first.jobId}-${first.tile}`)!.votes).toBe(15);
    // A 26th person cannot join a board of 25 members.
    expect(await pressButton(deps, slackUser('late'), `vote:${first.jobId}:${first.tile}`)).toMatchObject({ kind: 'rejected', code: 'board_full' });
  });

  it('WHEN a member picks the hero or unpins another’s pin THEN it is refused; the host may', async () => {
    const [jobId] = jobIds;
    expect(await pressButton(deps, slackUser('m3'), `hero:${jobId}:2`)).toMatchObject({ kind: 'rejected', message: 'Only the host can choose the ⭐ hero image.' });
    expect(await pressButton(deps, slackUser('host'), `hero:${jobId}:2`)).toMatchObject({ kind: 'done', action: 'hero' });
    // m1 pinned tile 2 of the first job (user index 2 → tile index 2 → job 0 tile 3): find who pinned tile 3.
    const state = await loadBoardState(emulator.ports.blobs, started.board.id);
    const pin = state!.pins.find((p) => p.pinKey === `${jobId}-3`)!;
    const stranger = pin.pinnedBy.userId === 'm5' ? 'm6' : 'm5';
    expect(await pressButton(deps, slackUser(stranger), `unpin:${jobId}:3`)).toMatchObject({ kind: 'rejected', message: expect.stringContaining('Only whoever pinned') });
    expect(await pressButton(deps, slackUser(pin.pinnedBy.userId), `unpin:${jobId}:3`)).toMatchObject({ kind: 'done', action: 'unpinned' });
    expect(await pressButton(deps, slackUser('m3'), `vote:${jobId}:3`)).toMatchObject({ kind: 'rejected', code: 'not_pinned' });
    expect(await pressButton(deps, slackUser('host'), `pin:${jobId}:3`)).toMatchObject({ kind: 'done', action: 'pinned' });
  });

  it('WHEN a code is asked for THEN it is a frozen version; after a change a new code exists and the old one still resolves', async () => {
    const status = await boardStatus(deps, slackUser('m1'));
    expect(status.kind).toBe('info');
    const code = (status as { copyable: Array<{ value: string }> }).copyable[0]!.value;
    const parsed = parseBoardCode(code)!;
    const first = await loadVersion(emulator.ports.blobs, parsed.boardId, parsed.versionId);
    expect(first!.pins).toHaveLength(12);
    expect(first!.tasteLine).toContain('meadow');
    // Unchanged board → same code.
    const same = await boardStatus(deps, slackUser('m1'));
    expect((same as { copyable: Array<{ value: string }> }).copyable[0]!.value).toBe(code);
    await pressButton(deps, slackUser('m9'), `vote:${jobIds[1]}:1`);
    const next = (await boardStatus(deps, slackUser('m1'))) as { copyable: Array<{ value: string }> };
    expect(next.copyable[0]!.value).not.toBe(code);
    expect(await loadVersion(emulator.ports.blobs, parsed.boardId, parsed.versionId)).toEqual(first);

    const styled = await imagine(deps, slackUser('u1', 'C3'), `a lantern --board ${code}`);
    expect(styled.kind).toBe('accepted');
    const job = await loadJob(emulator.ports.blobs, (styled as { jobId: string }).jobId);
    expect(job!.request.prompt).toBe(`a lantern, ${first!.tasteLine}`);
    expect(job!.request.style).toBe('watercolor');
    expect(job!.boardCode).toBe(code);
    expect(job!.boardId).toBeUndefined();
    expect(await imagine(deps, slackUser('u1', 'C3'), 'a lantern --board mb-bzzzzzzzzzzz-000000000zzzz')).toMatchObject({ kind: 'rejected', message: expect.stringContaining('no such board code') });
    await takeJobs(emulator.ports.queue);
  });

  it('WHEN a pinned job was deleted by its owner THEN pinning says so', async () => {
    const reply = await imagine(deps, slackUser('u2'), 'a fading photo');
    const jobId = (reply as { jobId: string }).jobId;
    await finishJob(emulator.ports.blobs, jobId);
    expect(await pressButton(deps, slackUser('u2'), `delete:${jobId}:0`)).toMatchObject({ kind: 'done', action: 'deleted' });
    expect(await pressButton(deps, slackUser('u2'), `pin:${jobId}:1`)).toMatchObject({ kind: 'rejected', message: expect.stringContaining('deleted by its owner') });
    await takeJobs(emulator.ports.queue);
  });

  it('WHEN a member ends it THEN it is refused; the host ends it once; a second end, a vote and a pin after it get clear answers', async () => {
    expect(await endBoard(deps, slackUser('m2'))).toMatchObject({ kind: 'rejected', message: 'Only the host or a co-host can end this board.' });
    expect(await endBoard(deps, slackUser('host'))).toMatchObject({ kind: 'done', action: 'board_ended' });
    expect(await endBoard(deps, slackUser('host'), started.board.id)).toMatchObject({ kind: 'rejected', code: 'already_ended', message: expect.stringContaining('was ended at') });
    expect(await pressButton(deps, slackUser('m2'), `vote:${jobIds[0]}:1`)).toMatchObject({ kind: 'rejected', code: 'board_closed', message: expect.stringContaining('pins and votes are final') });
    // The place is free again, and a new job there belongs to no board.
    const after = await imagine(deps, slackUser('u1'), 'after the end');
    expect((await loadJob(emulator.ports.blobs, (after as { jobId: string }).jobId))!.boardId).toBeUndefined();
    await takeJobs(emulator.ports.queue);
  });

  it('WHEN 8 people pin at once on a board of 5 pins THEN exactly 5 pins hold and 3 are told it is full', async () => {
    const small = { ...deps, boardLimits: { maxPins: 5, maxMembers: 25 } };
    const board = (await startBoard(small, slackUser('host', 'C5'), { name: 'Small' })) as BoardStarted;
    const ids: string[] = [];
    for (const user of ['host', 'u1']) {
      const reply = await imagine(small, slackUser(user, 'C5'), `tiny ${user}`);
      ids.push((reply as { jobId: string }).jobId);
    }
    await takeJobs(emulator.ports.queue);
    for (const id of ids) await finishJob(emulator.ports.blobs, id);
    const tiles = ids.flatMap((id) => [1, 2, 3, 4].map((t) => `${id}:${t}`));
    const replies = await Promise.all(tiles.map((tile, i) => pressButton(small, slackUser(`p${i}`, 'C5'), `pin:${tile}`)));
    expect(replies.filter((r) => r.kind === 'done')).toHaveLength(5);
    expect(replies.filter((r) => r.kind === 'rejected' && r.code === 'board_full')).toHaveLength(3);
    expect((await loadBoardState(emulator.ports.blobs, board.board.id))!.pins).toHaveLength(5);
  });
});
