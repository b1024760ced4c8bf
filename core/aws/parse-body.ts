/** Message bodies on a queue: written so every queue takes them, parsed strictly when read. */
import type { z } from 'zod';

/**
 * JSON for a message body. SQS takes #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD | #x10000–#x10FFFF,
 * but the local emulator (fauxqs 1.9.2, and 2.4.1 still) checks UTF-16 code units and refuses the
 * surrogate pairs of every astral character — every emoji. JSON may write any character as `\uXXXX`
 * escapes and every reader gets the identical string back, so surrogates (and U+FFFE/U+FFFF, which
 * SQS refuses too) go on the wire escaped: the same JSON to any parser, accepted by SQS and the emulator.
 * (JSON.stringify already escapes lone surrogates and control characters.)
 * @example queueBody({ prompt: 'fox 🦊' }) // → '{"prompt":"fox \\ud83e\\udd8a"}'
 */
export function queueBody(value: unknown): string {
  return JSON.stringify(value).replace(/[\uD800-\uDFFF\uFFFE\uFFFF]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The value, or a sentence naming what was wrong. */
export function parseBody<T>(schema: z.ZodType<T>, body: string): { value: T } | { parseError: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return { parseError: `body is not JSON: ${(error as Error).message}` };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { value: parsed.data };
  return { parseError: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ') };
}
