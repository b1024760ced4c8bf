import type { RawData } from 'ws';

/** A ws message as UTF-8 text: `String(data)` would turn a fragmented message (Buffer[]) into comma-joined bytes. */
export function wsText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.from(new Uint8Array(data)).toString('utf8');
}
