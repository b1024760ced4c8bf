/** Message bodies from a queue, parsed strictly: the value, or a sentence naming what was wrong. */
import type { z } from 'zod';

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
