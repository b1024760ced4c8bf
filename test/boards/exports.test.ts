/** The exports opened the way a user opens them: the PDF through poppler (pdfinfo/pdftotext), the zip with fflate, the PNGs' text chunks through sharp. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import sharp from 'sharp';
import { boardZip, contactSheetPdf, rankPins, type PinWithImage } from '../../bot/boards/exports.ts';
import type { BoardState, BoardVersion } from '../../bot/boards/model.ts';
import { tilePng } from './support.ts';

const dir = mkdtempSync(join(tmpdir(), 'board-exports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pdfText(bytes: Uint8Array): { pages: number; text: string } {
  const file = join(dir, `sheet-${Math.random()}.pdf`);
  writeFileSync(file, bytes);
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  return { pages: Number(/Pages:\s+(\d+)/.exec(info)![1]), text: execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }) };
}

async function boardOf(count: number): Promise<{ state: BoardState; pins: PinWithImage[]; version: BoardVersion }> {
  const pins = await Promise.all(
    Array.from({ length: count }, async (_, i) => ({
      v: 1 as const, jobId: `j${String(i).padStart(4, '0')}`, tile: ((i % 4) + 1) as 1 | 2 | 3 | 4, pinKey: `j${String(i).padStart(4, '0')}-${(i % 4) + 1}`,
      pinnedBy: { platform: 'slack' as const, userId: 'U2' }, at: 1000 + i, author: { platform: 'slack' as const, userId: `U${i}`, name: `Author ${i}` },
      prompt: `prompt number ${i} a misty harbour café`, negativePrompt: i === 0 ? 'blurry' : '', seed: 100 + i, optionsText: `--ar 1:1 --seed ${100 + i}`,
      imageKey: `jobs/j${i}/image-1.png`, width: 96, height: 96, kind: 'imagine' as const, votes: (i * 3) % 7,
      ...(i === 1 ? { parent: { jobId: 'j0000', index: 2 as const, label: 'Variation' } } : {}),
      image: i === count - 1 && count > 2 ? null : await tilePng(i * 10, 96, 96),
    })),
  );
  const state: BoardState = {
    board: { v: 1, id: 'b00000000001', name: 'Harbour moods', brief: 'foggy mornings, ☕ and boats', host: { platform: 'slack', userId: 'UHOST', name: 'Hana Host' }, place: { platform: 'slack', channelId: 'C1' }, createdAt: 0, deadline: 1, visibility: 'link', limits: { maxPins: 48, maxMembers: 25 }, negativePrompt: '' },
    pins, hero: { v: 1, pinKey: pins[0]!.pinKey, by: { platform: 'slack', userId: 'UHOST' }, at: 5 }, cohosts: [], members: 7, candidates: 31,
  };
  const version = { v: 1, boardId: 'b00000000001', versionId: '000000000abcd', createdAt: 0, name: 'Harbour moods', contentHash: '0'.repeat(64), negativePrompt: '', tasteLine: 'harbour, misty', pins: [] } as BoardVersion;
  return { state, pins, version };
}

describe('board exports', () => {
  it.each([[1, 2], [6, 2], [7, 3], [48, 9]])('a contact sheet of %i pins has %i pages with every prompt, seed, author, votes and lineage', async (count, pages) => {
    const { state, pins, version } = await boardOf(count);
    const sheet = pdfText(await contactSheetPdf(state, version, 'mb-b00000000001-000000000abcd', pins));
    expect(sheet.pages).toBe(pages);
    const text = sheet.text.replace(/\s+/g, ' ');
    expect(text).toContain('Harbour moods');
    expect(text).toContain('Board code: mb-b00000000001-000000000abcd');
    expect(text).toContain('Host: Hana Host');
    expect(text).toContain('Brief: foggy mornings, ? and boats'); // ☕ is outside Helvetica's WinAnsi
    for (const pin of pins) {
      expect(text).toContain(`prompt number ${Number(pin.jobId.slice(1))} a misty harbour café`);
      expect(text).toContain(`Seed: ${pin.seed} - author: ${pin.author.name}`);
    }
    if (count > 1) expect(text).toContain('Lineage: Variation of j0000 tile 2');
    expect(text).toContain('HERO');
    if (count > 2) expect(text).toContain('(image deleted)');
  });

  it('the zip holds every image at full size with its parameters as PNG text, and board.json', async () => {
    const { state, pins, version } = await boardOf(5);
    const entries = unzipSync(await boardZip(state, version, 'mb-b00000000001-000000000abcd', pins));
    const names = Object.keys(entries).sort();
    const ranked = rankPins(pins).filter((pin) => pin.image);
    expect(names).toEqual(['board.json', ...ranked.map((pin) => `pins/${String(rankPins(pins).indexOf(pin) + 1).padStart(2, '0')}-${pin.jobId}-${pin.tile}.png`)].sort());
    const first = rankPins(pins)[0]!;
    const file = names.find((name) => name.includes(first.jobId))!;
    const meta = await sharp(entries[file]).metadata();
    expect([meta.width, meta.height]).toEqual([96, 96]);
    const chunks = Object.fromEntries((meta.comments ?? []).map((c) => [c.keyword, c.text]));
    expect(chunks).toMatchObject({ prompt: first.prompt, seed: String(first.seed), options: first.optionsText, votes: String(first.votes), board: 'mb-b00000000001-000000000abcd' });
    const manifest = JSON.parse(new TextDecoder().decode(entries['board.json'])) as { pins: { file: string | null }[] };
    expect(manifest.pins).toHaveLength(5);
    expect(manifest.pins[0]).toMatchObject({ rank: 1, votes: first.votes, prompt: first.prompt });
    expect(manifest.pins.filter((p: { file: string | null }) => p.file === null)).toHaveLength(1);
    expect(manifest).toMatchObject({ code: 'mb-b00000000001-000000000abcd', participants: 7, generations: 31 });
  });
});
