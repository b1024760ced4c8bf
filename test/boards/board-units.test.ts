import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../bot/boards/actions.ts';
import { parseBoardText } from '../../bot/boards/board-command.ts';
import { applyBoardStyle, boardReferences, extractBoardOption, referencePrompts, withBoardImages } from '../../bot/boards/board-style.ts';
import type { GenerationRequest } from '../../core/job.ts';
import { createBoard, newVersionId, tasteLine, voteWeights } from '../../bot/boards/board-store.ts';
import { BoardHeaderUpdater } from '../../bot/boards/header-updater.ts';
import { boardKeys } from '../../core/storage-layout.ts';
import { MemoryBlobStore } from '../bot/support/memory-ports.ts';
import { RecordingPoster } from '../bot/support/recording-poster.ts';
import { DeliveryError } from '../../bot/poster.ts';
import { boardCode, parseBoardCode, type BoardRecord, type BoardVersion } from '../../bot/boards/model.ts';
import { roleOf, mayEnd, mayUnpin } from '../../bot/boards/roles.ts';

describe('board units', () => {
  it.each([
    [undefined, 24 * 3_600_000],
    ['30m', 30 * 60_000],
    ['2h', 2 * 3_600_000],
    ['7d', 7 * 24 * 3_600_000],
    ['5m', 'outside 10m–7d'],
    ['8d', 'outside 10m–7d'],
    ['soon', 'not like 30m'],
  ])('parseDuration(%s) → %s', (input, expected) => {
    const out = parseDuration(input);
    if (typeof expected === 'number') expect(out).toBe(expected);
    else expect(out).toContain(expected);
  });

  it.each([
    ['a fox --board mb-b123456789ab-0abcdefgh1234 --ar 3:2', 'a fox --ar 3:2', 'mb-b123456789ab-0abcdefgh1234'],
    ['--board mb-x a fox', 'a fox', 'mb-x'],
    ['a fox --board', 'a fox', ''],
    ['a fox --ar 3:2', 'a fox --ar 3:2', undefined],
  ])('extractBoardOption(%j)', (text, rest, code) => {
    expect(extractBoardOption(text)).toEqual(code === undefined ? { text: rest } : { text: rest, code });
  });

  it('codes round-trip and reject anything else', () => {
    const id = newVersionId(Date.UTC(2026, 11, 7));
    expect(parseBoardCode(boardCode('b123456789ab', id))).toEqual({ boardId: 'b123456789ab', versionId: id });
    for (const bad of ['mb-', 'mb-b123-0000', 'mb-B123456789ab-0abcdefgh1234', 'mb-b123456789ab-0abcdefgh1234/../x']) expect(parseBoardCode(bad)).toBeUndefined();
    expect(newVersionId(2) > newVersionId(1)).toBe(true);
  });

  it('the taste line counts words per pin, weighted by votes, without stop words', () => {
    expect(tasteLine([{ prompt: 'a misty forest at dawn', votes: 0 }, { prompt: 'misty harbour, dawn light', votes: 2 }, { prompt: 'forest forest forest', votes: 0 }])).toBe('dawn, misty, harbour, light, forest');
    expect(tasteLine([])).toBe('');
  });

  it('vote weights sum to 1 and the hero counts double', () => {
    const pins = [{ pinKey: 'a', votes: 0 }, { pinKey: 'b', votes: 1 }] as Parameters<typeof voteWeights>[0]['pins'];
    const weights = voteWeights({ pins, hero: { v: 1, pinKey: 'a', by: { platform: 'web', userId: 'h' }, at: 0 } });
    expect(weights.get('a')).toBeCloseTo(0.5);
    expect(weights.get('b')).toBeCloseTo(0.5);
  });

  it('the board style fills style and negative prompt only where the user gave none, and appends the taste line', () => {
    const version = { style: 'watercolor', negativePrompt: 'text', tasteLine: 'misty, dawn' } as BoardVersion;
    const request = { prompt: 'a fox', negativePrompt: '', aspect: { w: 1, h: 1 }, size: 'medium' as const, seed: 1, chaos: 0, lite: false, count: 4 };
    expect(applyBoardStyle(request, version, { style: false, negativePrompt: false })).toMatchObject({ prompt: 'a fox, misty, dawn', style: 'watercolor', negativePrompt: 'text' });
    expect(applyBoardStyle({ ...request, style: 'photo' }, version, { style: true, negativePrompt: true })).toMatchObject({ style: 'photo', negativePrompt: '' });
  });

  it('image conditioning takes the top pins by weight, renormalised', () => {
    const pin = (pinKey: string, weight: number) => ({ pinKey, jobId: 'j1', tile: 1, prompt: 'p', seed: 1, imageKey: `k-${pinKey}`, votes: 0, weight });
    const refs = boardReferences({ pins: [pin('a', 0.1), pin('b', 0.6), pin('c', 0.3)] } as BoardVersion, 2);
    expect(refs.map((ref) => ref.imageKey)).toEqual(['k-b', 'k-c']);
    expect(refs[0]!.weight).toBeCloseTo(2 / 3);
    expect(refs[1]!.weight).toBeCloseTo(1 / 3);
  });

  it('roles: host, co-host, member', () => {
    const state = { board: { host: { platform: 'slack', userId: 'H' } }, cohosts: ['slack:C'] } as Parameters<typeof roleOf>[0];
    expect(roleOf(state, { platform: 'slack', userId: 'H' })).toBe('host');
    expect(roleOf(state, { platform: 'discord', userId: 'H' })).toBe('member');
    expect(roleOf(state, { platform: 'slack', userId: 'C' })).toBe('cohost');
    expect(mayEnd('cohost').allowed).toBe(true);
    expect(mayEnd('member').allowed).toBe(false);
    expect(mayUnpin('member', { pinnedBy: { platform: 'slack', userId: 'M' } }, { platform: 'slack', userId: 'M' }).allowed).toBe(true);
  });
});

describe('the /board text form (Slack, playground)', () => {
  it.each([
    ['start "Spring campaign" --brief pastel, outdoors --duration 2h', { sub: 'start', name: 'Spring campaign', brief: 'pastel, outdoors', duration: '2h' }],
    ['start Moody --visibility private --style photo --no text', { sub: 'start', name: 'Moody', visibility: 'private', style: 'photo', negativePrompt: 'text' }],
    ['generate a fox at dawn 3', { sub: 'generate', prompt: 'a fox at dawn', count: 3 }],
    ['generate', { sub: 'generate' }],
    ['END', { sub: 'end' }],
    ['status', { sub: 'status' }],
    ['cohost <@U123|ada>', { sub: 'cohost', user: { platform: 'slack', userId: 'U123' } }],
  ])('%j', (text, expected) => {
    expect(parseBoardText(text, 'slack')).toEqual(expected);
  });

  it.each([
    ['', 'Unknown /board (nothing)'],
    ['paint', 'Unknown /board paint'],
    ['start x --colour red', 'has no --colour'],
  ])('%j is refused: %s', (text, message) => {
    expect(parseBoardText(text)).toMatchObject({ kind: 'rejected', message: expect.stringContaining(message) });
  });
});

describe('header edit claims (unit: an in-memory store with conditional creates)', () => {
  const board: BoardRecord = {
    v: 1, id: 'bclaim000001', name: 'Claims', brief: '', host: { platform: 'web', userId: 'h' }, place: { platform: 'web', channelId: 'playground' },
    createdAt: 0, deadline: 10 * 3_600_000, visibility: 'link', limits: { maxPins: 48, maxMembers: 25 }, negativePrompt: '',
  };
  class FlakyPoster extends RecordingPoster {
    failuresLeft = 0;
    headers = 0;
    async deliverBoardHeader(): Promise<undefined> {
      if (this.failuresLeft-- > 0) throw new DeliveryError('rate limited', true, 1500);
      this.headers++;
      return undefined;
    }
  }
  async function setup(now: number, claim?: { at: number; by: string }, edited?: { at: number; readFrom: number }) {
    const blobs = new MemoryBlobStore();
    await createBoard(blobs, board);
    if (claim) blobs.putJson(boardKeys.headerClaim(board.id, edited?.at ?? 0, 0), { v: 1, ...claim });
    if (edited) blobs.putJson(boardKeys.headerEdited(board.id), { v: 1, ...edited });
    const poster = new FlakyPoster('web');
    const updater = new BoardHeaderUpdater({ blobs, posters: { web: poster }, now: () => now, staleClaimMs: 90_000 });
    return { blobs, updater, poster };
  }

  it('GIVEN another live instance holds the claim THEN no render: "later", to look again for its edit', async () => {
    const { updater, poster } = await setup(6_000, { at: 5_000, by: 'other' });
    expect(await updater.renderIfDue(board.id, 1_000)).toEqual({ kind: 'later', inMs: 2000 });
    expect(poster.headers).toBe(0);
  });

  it('GIVEN the claim is older than staleClaimMs and no edit followed (its instance died) THEN attempt 1 is claimed and the header rendered', async () => {
    const { blobs, updater, poster } = await setup(200_000, { at: 5_000, by: 'other' });
    expect(await updater.renderIfDue(board.id, 199_000)).toEqual({ kind: 'shown' });
    expect(await blobs.exists(boardKeys.headerClaim(board.id, 0, 1))).toBe(true);
    expect(blobs.json(boardKeys.headerEdited(board.id))).toEqual({ v: 1, at: 200_000, readFrom: 200_000 });
    expect(poster.headers).toBe(1);
  });

  it('GIVEN the last edit read the board after the change THEN "shown" at once; a later change waits out the interval', async () => {
    const { updater, poster } = await setup(40_000, undefined, { at: 35_000, readFrom: 34_000 });
    expect(await updater.renderIfDue(board.id, 30_000)).toEqual({ kind: 'shown' });
    expect(await updater.renderIfDue(board.id, 33_000)).toEqual({ kind: 'later', inMs: 25_000 });
    expect(poster.headers).toBe(0);
  });

  it('GIVEN this instance\'s render failed THEN it retries under its own claim after the back-off, and no other instance may edit meanwhile', async () => {
    const { blobs, updater, poster } = await setup(100_000);
    poster.failuresLeft = 1;
    expect(await updater.renderIfDue(board.id, 99_000)).toEqual({ kind: 'later', inMs: 2000 });
    const other = new BoardHeaderUpdater({ blobs, posters: { web: poster }, now: () => 100_500 });
    expect(await other.renderIfDue(board.id, 99_000)).toEqual({ kind: 'later', inMs: 2000 });
    expect(await updater.renderIfDue(board.id, 99_000, 2)).toEqual({ kind: 'shown' });
    expect(poster.headers).toBe(1);
  });
});

describe('board pictures as image prompts (unit)', () => {
  const version = (pins: Array<[string, number]>, hero?: string) =>
    ({ heroPinKey: hero, pins: pins.map(([pinKey, weight]) => ({ pinKey, imageKey: `jobs/j${pinKey}/image-1.png`, weight, jobId: `j${pinKey}` })) }) as unknown as BoardVersion;

  it.each([
    { name: 'no hero: the most voted is 1, the rest relative', pins: [['a', 0.5], ['b', 0.25], ['c', 0.25]] as Array<[string, number]>, hero: undefined, weights: [1, 0.5, 0.5] },
    { name: 'a hero that leads: first at 1', pins: [['a', 0.2], ['b', 0.6], ['c', 0.2]] as Array<[string, number]>, hero: 'b', weights: [1, 0.333, 0.333] },
    { name: 'a hero outvoted: still first at 1, the leader capped at 1', pins: [['a', 0.7], ['b', 0.2], ['c', 0.1]] as Array<[string, number]>, hero: 'b', weights: [1, 1, 0.143] },
  ])('$name', ({ pins, hero, weights }) => {
    const prompts = referencePrompts(version(pins, hero));
    expect(prompts.map((p) => p.weight)).toEqual(weights);
    if (hero) expect(prompts[0]!.key).toBe(`jobs/j${hero}/image-1.png`);
  });

  it('at most 5 pictures, and the board\'s fill only the slots the user\'s own uploads leave', () => {
    const many = version(Array.from({ length: 9 }, (_, i) => [`p${i}`, (9 - i) / 45] as [string, number]));
    expect(referencePrompts(many)).toHaveLength(5);
    const own = { key: 'jobs/jx/inputs/0.png', weight: 0.8 };
    const request = { prompt: 'x', imagePrompts: [own, own, own, own] } as unknown as GenerationRequest;
    expect(withBoardImages(request, referencePrompts(many)).imagePrompts).toEqual([own, own, own, own, referencePrompts(many)[0]]);
    expect(referencePrompts(version([]))).toEqual([]);
  });
});
