/**
 * The fixed slice of the held-out prompts that the suite judges (test/demo-model/quality.test.ts); the full 200 stay
 * in bench/demo-quality.ts, which may import this to report the same slice beside the whole set.
 */
import type { HeldoutPrompt } from './shape-checker.ts';

/** Prompts the suite draws: 48 ≈ a quarter of the held-out set, about 8 s of CPU on 2 cores. */
export const SUITE_PROMPT_COUNT = 48;

/**
 * `size` prompts with each shape class in its share of the whole document (largest-remainder rounding), the first ones
 * of each class in file order, with their own seeds: deterministic, and unlike the first `size` of the file it does not
 * change the class mix (the first 24 held 9 squares, the hardest class, 41 of all 200).
 */
export function suitePrompts<P extends Pick<HeldoutPrompt, 'shape'>>(prompts: readonly P[], size = SUITE_PROMPT_COUNT): P[] {
  if (size >= prompts.length) return [...prompts];
  const byShape = new Map<string, P[]>();
  for (const prompt of prompts) byShape.set(prompt.shape, [...(byShape.get(prompt.shape) ?? []), prompt]);
  const quotas = [...byShape].map(([shape, members]) => {
    const exact = (size * members.length) / prompts.length;
    return { shape, take: Math.floor(exact), remainder: exact - Math.floor(exact) };
  });
  let left = size - quotas.reduce((sum, q) => sum + q.take, 0);
  for (const q of [...quotas].sort((a, b) => b.remainder - a.remainder || a.shape.localeCompare(b.shape))) {
    if (left === 0) break;
    q.take++;
    left--;
  }
  const chosen = new Set(quotas.flatMap((q) => byShape.get(q.shape)!.slice(0, q.take)));
  return prompts.filter((prompt) => chosen.has(prompt));
}
