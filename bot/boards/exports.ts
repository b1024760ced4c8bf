/**
 * A board's exports, pure functions of its facts and its pinned images:
 * - `contactSheetPdf`: a cover page (name, brief, host, code, taste line) and the pins six per page, each with
 *   its image, prompt, seed, author, votes and lineage (pdf-lib; standard Helvetica, so text is limited to
 *   WinAnsi and anything else is shown as "?").
 * - `boardZip`: every pinned image at full resolution, each PNG carrying prompt, seed and options as text
 *   chunks (withPngText, bot/png-text.ts), plus `board.json` (the frozen version and the board's facts) (fflate).
 */
import { zipSync, type Zippable } from 'fflate';
import { PDFDocument, StandardFonts, rgb, type PDFFont } from 'pdf-lib';
import sharp from 'sharp';
import { withPngText } from '../png-text.ts';
import type { BoardState, BoardVersion } from './model.ts';

export type PinWithImage = BoardState['pins'][number] & { image: Uint8Array | null };

function authorName(pin: BoardState['pins'][number]): string {
  return pin.author.name ?? `${pin.author.platform}:${pin.author.userId}`;
}

function lineageOf(pin: BoardState['pins'][number]): string {
  return pin.parent ? `${pin.parent.label} of ${pin.parent.jobId} tile ${pin.parent.index}` : 'original';
}

/** Pins by votes (most first), then pin time: the order of the exports and the summary's top five. */
export function rankPins<T extends { votes: number; at: number; pinKey: string }>(pins: readonly T[]): T[] {
  return [...pins].sort((a, b) => b.votes - a.votes || a.at - b.at || (a.pinKey < b.pinKey ? -1 : 1));
}

export async function boardZip(state: BoardState, version: BoardVersion, code: string, pins: readonly PinWithImage[]): Promise<Uint8Array> {
  const files: Zippable = {};
  const ranked = rankPins(pins);
  ranked.forEach((pin, rank) => {
    if (!pin.image) return;
    const png = withPngText(pin.image, {
      prompt: pin.prompt,
      seed: String(pin.seed),
      options: pin.optionsText,
      ...(pin.negativePrompt ? { negative_prompt: pin.negativePrompt } : {}),
      author: authorName(pin),
      votes: String(pin.votes),
      lineage: lineageOf(pin),
      job: `${pin.jobId} tile ${pin.tile}`,
      board: code,
    });
    // PNGs are compressed already: stored, not deflated again.
    files[`pins/${String(rank + 1).padStart(2, '0')}-${pin.jobId}-${pin.tile}.png`] = [png, { level: 0 }];
  });
  const manifest = {
    board: { id: state.board.id, name: state.board.name, brief: state.board.brief, host: state.board.host, createdAt: new Date(state.board.createdAt).toISOString(), deadline: new Date(state.board.deadline).toISOString(), ...(state.ended ? { endedAt: new Date(state.ended.at).toISOString() } : {}) },
    code,
    version,
    pins: ranked.map((pin, rank) => ({ rank: rank + 1, file: pin.image ? `pins/${String(rank + 1).padStart(2, '0')}-${pin.jobId}-${pin.tile}.png` : null, jobId: pin.jobId, tile: pin.tile, prompt: pin.prompt, negativePrompt: pin.negativePrompt, seed: pin.seed, options: pin.optionsText, author: pin.author, pinnedBy: pin.pinnedBy, votes: pin.votes, hero: state.hero?.pinKey === pin.pinKey, lineage: pin.parent ?? null })),
    participants: state.members,
    generations: state.candidates,
  };
  files['board.json'] = new TextEncoder().encode(JSON.stringify(manifest, null, 2));
  // Zip timestamps start in 1980.
  return zipSync(files, { level: 6, mtime: new Date(Math.max(Date.UTC(1980, 0, 2), state.ended?.at ?? state.board.createdAt)) });
}

/** Helvetica speaks WinAnsi only: anything else becomes "?" rather than failing the export. */
function winAnsi(text: string): string {
  return text.replace(/[^\u0020-\u007e\u00a0-\u00ff]/g, '?');
}

function wrap(text: string, font: PDFFont, size: number, width: number, maxLines: number): string[] {
  const words = winAnsi(text).split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const next = line ? `${line} ${word}` : word;
    if (font.widthOfTextAtSize(next, size) <= width) line = next;
    else {
      if (line) lines.push(line);
      line = word;
      while (font.widthOfTextAtSize(line, size) > width && line.length > 1) line = line.slice(0, -1);
    }
    if (lines.length === maxLines) break;
  }
  if (line && lines.length < maxLines) lines.push(line);
  return lines;
}

export const PINS_PER_PAGE = 6;

export async function contactSheetPdf(state: BoardState, version: BoardVersion, code: string, pins: readonly PinWithImage[]): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  pdf.setTitle(winAnsi(`${state.board.name} - mood board`));
  pdf.setCreator('cascade-bot');
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const bold = await pdf.embedFont(StandardFonts.HelveticaBold);
  const [pageWidth, pageHeight] = [595, 842]; // A4 in points
  const margin = 40;
  const cover = pdf.addPage([pageWidth, pageHeight]);
  let y = pageHeight - margin - 24;
  cover.drawText(winAnsi(state.board.name), { x: margin, y, size: 24, font: bold });
  y -= 30;
  const coverLines = [
    ...wrap(state.board.brief ? `Brief: ${state.board.brief}` : 'No brief', font, 12, pageWidth - 2 * margin, 8),
    `Host: ${state.board.host.name ?? `${state.board.host.platform}:${state.board.host.userId}`}`,
    `Pins: ${pins.length} - participants: ${state.members} - generations: ${state.candidates}`,
    `Board code: ${code}`,
    ...wrap(`Taste: ${version.tasteLine || '(no pins yet)'}`, font, 12, pageWidth - 2 * margin, 3),
  ];
  for (const line of coverLines) {
    cover.drawText(winAnsi(line), { x: margin, y, size: 12, font });
    y -= 18;
  }
  const ranked = rankPins(pins);
  const columns = 2;
  const cellWidth = (pageWidth - 2 * margin - 20) / columns;
  const cellHeight = (pageHeight - 2 * margin) / (PINS_PER_PAGE / columns);
  for (let start = 0; start < ranked.length; start += PINS_PER_PAGE) {
    const page = pdf.addPage([pageWidth, pageHeight]);
    for (const [offset, pin] of ranked.slice(start, start + PINS_PER_PAGE).entries()) {
      const column = offset % columns;
      const row = Math.floor(offset / columns);
      const x = margin + column * (cellWidth + 20);
      const top = pageHeight - margin - row * cellHeight;
      const imageBox = cellHeight - 86;
      if (pin.image) {
        // Downscaled for the sheet (the zip has the full resolution).
        const thumb = await sharp(pin.image).resize(480, 480, { fit: 'inside', withoutEnlargement: true }).png().toBuffer();
        const embedded = await pdf.embedPng(thumb);
        const scale = Math.min(cellWidth / embedded.width, imageBox / embedded.height);
        page.drawImage(embedded, { x, y: top - embedded.height * scale, width: embedded.width * scale, height: embedded.height * scale });
      } else {
        page.drawText('(image deleted)', { x, y: top - 20, size: 10, font });
      }
      let textY = top - imageBox - 14;
      const hero = state.hero?.pinKey === pin.pinKey ? ' - HERO' : '';
      page.drawText(winAnsi(`#${start + offset + 1} - ${pin.votes} vote${pin.votes === 1 ? '' : 's'}${hero}`), { x, y: textY, size: 10, font: bold });
      for (const line of [...wrap(`Prompt: ${pin.prompt}`, font, 8, cellWidth, 3), `Seed: ${pin.seed} - author: ${authorName(pin)}`, `Lineage: ${lineageOf(pin)} - job ${pin.jobId} tile ${pin.tile}`]) {
        textY -= 11;
        page.drawText(winAnsi(line), { x, y: textY, size: 8, font, color: rgb(0.15, 0.15, 0.15) });
      }
    }
  }
  return pdf.save();
}
