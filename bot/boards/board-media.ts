/**
 * The board's images in and out of the store: the pinned tiles' bytes, the collage for the header, and the
 * exports at `boards/{id}/exports/` (collage.png, sheet.pdf, board.zip) that the summary links to.
 */
import type { BlobStore } from '../../core/ports.ts';
import { boardKeys } from '../../core/storage-layout.ts';
import { currentVersion } from './board-store.ts';
import { initialsOf, renderCollage, type CollageShape } from './collage.ts';
import { boardZip, contactSheetPdf, type PinWithImage } from './exports.ts';
import { boardCode, type BoardState } from './model.ts';

export async function loadPinImages(blobs: BlobStore, state: BoardState): Promise<PinWithImage[]> {
  return Promise.all(state.pins.map(async (pin) => ({ ...pin, image: await blobs.get(pin.imageKey) })));
}

/** The collage of the board as it is now; pins whose image was deleted are left out. */
export async function boardCollage(state: BoardState, pins: readonly PinWithImage[], shape: CollageShape = 'landscape', limitBytes?: number): Promise<Buffer> {
  const shown = pins.filter((pin) => pin.image !== null);
  const { png } = await renderCollage(
    shown.map((pin) => ({ key: pin.pinKey, votes: pin.votes, image: pin.image!, initials: initialsOf(pin.author) })),
    shape,
    { heroKey: state.hero?.pinKey, title: state.board.name, ...(limitBytes === undefined ? {} : { limitBytes }) },
  );
  return png;
}

export interface BoardExports {
  code: string;
  keys: { collage: string; sheet: string; zip: string };
  bytes: { collage: number; sheet: number; zip: number };
}

/** Renders and stores the three exports of the board's current version. */
export async function writeExports(blobs: BlobStore, state: BoardState, now: number): Promise<BoardExports> {
  const version = await currentVersion(blobs, state, now);
  const code = boardCode(state.board.id, version.versionId);
  const pins = await loadPinImages(blobs, state);
  const [collage, sheet, zip] = await Promise.all([boardCollage(state, pins), contactSheetPdf(state, version, code, pins), boardZip(state, version, code, pins)]);
  const keys = { collage: boardKeys.export(state.board.id, 'collage.png'), sheet: boardKeys.export(state.board.id, 'sheet.pdf'), zip: boardKeys.export(state.board.id, 'board.zip') };
  await Promise.all([blobs.put(keys.collage, collage, 'image/png'), blobs.put(keys.sheet, sheet, 'application/pdf'), blobs.put(keys.zip, zip, 'application/zip')]);
  return { code, keys, bytes: { collage: collage.byteLength, sheet: sheet.byteLength, zip: zip.byteLength } };
}
