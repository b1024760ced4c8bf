/**
 * Exact limits under concurrency, through the emulator's S3 over HTTP (which answers `If-None-Match: *` with 412 as
 * S3 does, local/conditional-puts.ts): of 25 simultaneous claims on a board of 5 pins exactly 5 hold; ten presses
 * of the same tile give one pin and one slot; an unpin frees its slot for the next pin; 25 people joining a board
 * of 10 members give exactly 9 more members (the host holds one). The old write-then-list claim could admit one over.
 * A link board's one shared page token is made once however many dispatcher copies ask at the same moment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPin, createBoard, ensureMember, loadBoardState, newBoardId, removePin, sharedLinkToken, verifyLinkToken } from '../../bot/boards/board-store.ts';
import type { BoardRecord, PinRecord } from '../../bot/boards/model.ts';
import { boardKeys } from '../../core/storage-layout.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';

function boardWith(limits: BoardRecord['limits']): BoardRecord {
  return {
    v: 1, id: newBoardId(), name: 'Limits', brief: '', host: { platform: 'slack', userId: 'host' }, place: { platform: 'slack', channelId: `C${Math.random().toString(36).slice(2, 8)}` },
    createdAt: Date.now(), deadline: Date.now() + 3_600_000, visibility: 'link', limits, negativePrompt: '',
  };
}

function pinOf(jobId: string, tile: 1 | 2 | 3 | 4, at: number): PinRecord {
  const user = { platform: 'slack' as const, userId: `u-${jobId}` };
  return { v: 1, jobId, tile, pinnedBy: user, at, author: user, prompt: 'a tile', negativePrompt: '', seed: 1, optionsText: '', imageKey: `jobs/${jobId}/image-${tile}.png`, width: 64, height: 64, kind: 'imagine' };
}

describe('GIVEN the emulator over HTTP', () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('WHEN 20 conditional creates of one key race THEN exactly one creates it, and a later one after a delete creates it again', async () => {
    const blobs = emulator.ports.blobs;
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => blobs.putIfAbsent('race/one-key', `writer ${i}`, 'text/plain')));
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    const winner = outcomes.indexOf(true);
    expect(new TextDecoder().decode((await blobs.get('race/one-key'))!)).toBe(`writer ${winner}`);
    await blobs.delete(['race/one-key']);
    expect(await blobs.putIfAbsent('race/one-key', 'again', 'text/plain')).toBe(true);
  });

  it('WHEN 25 people pin 25 different tiles at once on a board of 5 pins THEN exactly 5 hold, 20 are told it is full, and 5 slots are taken', async () => {
    const board = boardWith({ maxPins: 5, maxMembers: 50 });
    await createBoard(emulator.ports.blobs, board);
    const now = Date.now();
    const outcomes = await Promise.all(Array.from({ length: 25 }, (_, i) => addPin(emulator.ports.blobs, board, `j${i}-1`, pinOf(`j${i}`, 1, now + (i % 3)))));
    expect(outcomes.filter((o) => o === 'pinned')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'full')).toHaveLength(20);
    expect((await loadBoardState(emulator.ports.blobs, board.id))!.pins).toHaveLength(5);
    expect(await emulator.ports.blobs.list(boardKeys.pinSlots(board.id))).toHaveLength(5);
  });

  it('WHEN ten presses pin the same tile at once THEN one pin, one slot, the rest "already pinned"; an unpin frees the slot for another tile', async () => {
    const board = boardWith({ maxPins: 2, maxMembers: 50 });
    await createBoard(emulator.ports.blobs, board);
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => addPin(emulator.ports.blobs, board, 'jsame-2', pinOf('jsame', 2, Date.now()))));
    expect(outcomes.filter((o) => o === 'pinned')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'already_pinned')).toHaveLength(9);
    expect(await emulator.ports.blobs.list(boardKeys.pinSlots(board.id))).toHaveLength(1);
    expect(await addPin(emulator.ports.blobs, board, 'jother-1', pinOf('jother', 1, Date.now()))).toBe('pinned');
    expect(await addPin(emulator.ports.blobs, board, 'jthird-1', pinOf('jthird', 1, Date.now()))).toBe('full');
    await removePin(emulator.ports.blobs, board.id, 'jsame-2');
    expect(await emulator.ports.blobs.list(boardKeys.pinSlots(board.id))).toHaveLength(1);
    expect(await addPin(emulator.ports.blobs, board, 'jthird-1', pinOf('jthird', 1, Date.now()))).toBe('pinned');
    expect((await loadBoardState(emulator.ports.blobs, board.id))!.pins.map((p) => p.pinKey).sort()).toEqual(['jother-1', 'jthird-1']);
  });

  it('WHEN 25 people join a board of 10 members at once (some twice) THEN exactly 9 join beside the host and the rest are told it is full', async () => {
    const board = boardWith({ maxPins: 48, maxMembers: 10 });
    await createBoard(emulator.ports.blobs, board);
    const users = Array.from({ length: 25 }, (_, i) => ({ platform: 'slack' as const, userId: `joiner${i}` }));
    const outcomes = await Promise.all([...users, users[0]!, users[1]!].map((user) => ensureMember(emulator.ports.blobs, board, user, Date.now())));
    expect(outcomes.filter((o) => o === 'joined')).toHaveLength(9);
    expect(outcomes.filter((o) => o === 'full').length + outcomes.filter((o) => o === 'member').length).toBe(18);
    expect((await loadBoardState(emulator.ports.blobs, board.id))!.members).toBe(10);
    expect(await emulator.ports.blobs.list(boardKeys.memberSlots(board.id))).toHaveLength(10);
    expect(await ensureMember(emulator.ports.blobs, board, board.host, Date.now())).toBe('member');
  });

  it('WHEN ten dispatcher copies ask for a link board\'s page token at once THEN they all get the same one, and it opens the page; a private board gets none', async () => {
    const board = { ...boardWith({ maxPins: 48, maxMembers: 25 }), visibility: 'link' as const };
    await createBoard(emulator.ports.blobs, board);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => sharedLinkToken(emulator.ports.blobs, board, Date.now())));
    expect(new Set(tokens).size).toBe(1);
    expect(await verifyLinkToken(emulator.ports.blobs, board.id, tokens[0])).toBe(true);
    expect(await sharedLinkToken(emulator.ports.blobs, { ...board, visibility: 'private' }, Date.now())).toBeUndefined();
  });
});
