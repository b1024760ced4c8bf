/**
 * The /imagine parser under hostile text (issue #18, item 3). Its work is measured in characters
 * examined (ParseContext.meter), never in time: for any text up to the platform limit it stays within
 * a small constant times the text's length, and text over the limit is refused before it is read.
 * The digit strings that made the old number pattern backtrack quadratically (`--cfg` + 100 000
 * digits + a letter: 29.9 s on the event loop) are explicit cases.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_IMAGINE_TEXT, parseImagine, type ParseMeter, type SlashOptions } from '../../core/options.ts';
import { OptionsError } from '../../core/errors.ts';

/** Characters examined per character of input, at most (each is visited by the lexer, one normaliser and at most one value scanner). */
const STEPS_PER_CHAR = 5;

function parseMetered(text: string, slash: SlashOptions = {}): { steps: number; outcome: 'request' | string[] } {
  const meter: ParseMeter = { steps: 0 };
  try {
    parseImagine(text, slash, { randomSeed: () => 1, meter });
    return { steps: meter.steps, outcome: 'request' };
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    return { steps: meter.steps, outcome: error.problems.map((problem) => problem.message) };
  }
}

const inputLength = (text: string, slash: SlashOptions) => text.length + (Object.values(slash) as (string | number | boolean | undefined)[]).reduce<number>((sum, value) => sum + String(value ?? '').length, 0);

describe('pathological digit strings', () => {
  it('GIVEN --cfg + 100 000 digits + a letter THEN it is refused by its length without a single character examined', () => {
    const { steps, outcome } = parseMetered(`--cfg ${'1'.repeat(100_000)}a`);
    expect(steps).toBe(0);
    expect(outcome).toEqual([`prompt: ${100_007} characters is too long; at most ${MAX_IMAGINE_TEXT} including --options`]);
  });

  it.each([
    ['--cfg + digits + a letter', (n: number) => `fox --cfg ${'1'.repeat(n)}a`],
    ['--cfg + digits, a dot, digits + a letter', (n: number) => `fox --cfg ${'1'.repeat(n / 2)}.${'1'.repeat(n / 2)}a`],
    ['--seed + digits + a letter', (n: number) => `fox --seed ${'9'.repeat(n)}x`],
    ['--ar + digits + spaces + no separator', (n: number) => `fox --ar ${'1'.repeat(n / 2)}${' '.repeat(n / 2)}z`],
    ['--ar + digits + separator + digits + a letter', (n: number) => `fox --ar ${'1'.repeat(n / 2)}:${'1'.repeat(n / 2)}z`],
    ['the prompt alone, digits + a letter', (n: number) => `${'1'.repeat(n)}a`],
    ['a dash run', (n: number) => `fox ${'-'.repeat(n)}`],
    ['one long option name not ending in a space', (n: number) => `fox --${'a-'.repeat(n / 2)}!`],
    ['many option names', (n: number) => `fox${' --a'.repeat(n / 4)}`],
    ['alternating spaces', (n: number) => ` \t`.repeat(n / 2)],
  ])('GIVEN %s up to the limit THEN the work stays linear and the answer is specific', (_label, make) => {
    for (const n of [100, 1000, MAX_IMAGINE_TEXT - 20]) {
      const text = make(n);
      expect(text.length).toBeLessThanOrEqual(MAX_IMAGINE_TEXT);
      const { steps, outcome } = parseMetered(text);
      expect(steps, `steps for ${text.length} characters`).toBeLessThanOrEqual(STEPS_PER_CHAR * text.length);
      expect(steps).toBeGreaterThanOrEqual(text.length);
      if (outcome !== 'request') expect(outcome.every((message) => message.length < 300), outcome.join(' | ')).toBe(true);
    }
  });

  it('GIVEN a slash-field cfg of 100 000 digits + a letter THEN it is refused by its length, unread', () => {
    const { steps, outcome } = parseMetered('fox', { cfg: `${'1'.repeat(100_000)}a` });
    expect(outcome).toEqual(['--cfg: 100001 characters is too long']);
    expect(steps).toBeLessThanOrEqual(STEPS_PER_CHAR * 3);
  });

  it('GIVEN a cfg of 60 digits + a letter (under the value cap) THEN the usual specific answer', () => {
    expect(parseMetered(`fox --cfg ${'1'.repeat(60)}a`).outcome).toEqual([`--cfg ${'1'.repeat(40)}…: must be a number from 0 to 30`]);
  });
});

/** Text built from the pieces the lexer and scanners care about, so the fuzzer reaches their corners. */
const lexerPieces = fc.constantFrom('--cfg', '--ar', '--seed', '—steps', '–chaos', '--no', '--style', '--size', '--lite', '--x-y', '--', '—', '-', ' ', '  ', '\t', '\n', '\u3000', '1', '99', '.', ':', 'x', '×', '/', '+', 'a', 'fox', '🦊', 'é', '\u0301');
const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: MAX_IMAGINE_TEXT }),
  fc.array(lexerPieces, { maxLength: 1500 }).map((pieces) => pieces.join('').slice(0, MAX_IMAGINE_TEXT)),
  fc.tuple(fc.constantFrom('--cfg ', '--seed ', '--ar ', ''), fc.nat({ max: MAX_IMAGINE_TEXT - 10 }), fc.constantFrom('a', '.', ':', ' ', '')).map(([prefix, n, tail]) => `${prefix}${'7'.repeat(n)}${tail}`),
);
const hostileSlash: fc.Arbitrary<SlashOptions> = fc.record(
  { ar: fc.string({ maxLength: 100 }), seed: fc.oneof(fc.integer(), fc.string({ maxLength: 100 })), cfg: fc.string({ maxLength: 100 }), no: fc.string({ maxLength: 2100 }), style: fc.string({ maxLength: 40 }), lite: fc.boolean() },
  { requiredKeys: [] },
);

describe('property: any text up to the limit', () => {
  it('GIVEN any text and slash fields THEN a request or an OptionsError, after at most 5 steps per input character', () => {
    fc.assert(
      fc.property(hostileText, hostileSlash, (text, slash) => {
        const { steps } = parseMetered(text, slash);
        expect(steps).toBeLessThanOrEqual(STEPS_PER_CHAR * inputLength(text, slash) + 16);
        // The meter really counts: every character of the text is examined at least once.
        expect(steps).toBeGreaterThanOrEqual(text.length);
      }),
      { numRuns: 300 },
    );
  });

  it('GIVEN any text over the limit THEN it is refused before a character is examined', () => {
    fc.assert(
      fc.property(fc.string({ minLength: MAX_IMAGINE_TEXT + 1, maxLength: MAX_IMAGINE_TEXT + 5000 }), (text) => {
        const { steps, outcome } = parseMetered(text);
        expect(steps).toBe(0);
        expect(outcome).not.toBe('request');
      }),
      { numRuns: 30 },
    );
  });
});
