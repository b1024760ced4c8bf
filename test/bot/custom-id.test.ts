import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BUTTON_ACTIONS, ButtonIdError, JOB_ACTIONS, MAX_CUSTOM_ID_LENGTH, TILE_ACTIONS, decodeButtonId, encodeButtonId, type ButtonId } from '../../bot/custom-id.ts';

const jobIdArb = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,63}$/);
const buttonIdArb: fc.Arbitrary<ButtonId> = fc.oneof(
  fc.record({ action: fc.constantFrom(...TILE_ACTIONS), jobId: jobIdArb, index: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const) }),
  fc.record({ action: fc.constantFrom(...JOB_ACTIONS), jobId: jobIdArb, index: fc.constant(0 as const) }),
);

function problemOf(raw: string): string | undefined {
  try {
    decodeButtonId(raw);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ButtonIdError);
    return (error as ButtonIdError).problem;
  }
}

describe('button custom ids', () => {
  it('GIVEN any valid button THEN encode → decode round-trips and stays within 100 chars', () => {
    fc.assert(
      fc.property(buttonIdArb, (id) => {
        const raw = encodeButtonId(id);
        expect(raw.length).toBeLessThanOrEqual(MAX_CUSTOM_ID_LENGTH);
        expect(decodeButtonId(raw)).toEqual(id);
      }),
    );
  });

  it('GIVEN arbitrary strings THEN decoding either yields a valid button or a ButtonIdError, never anything else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 150 }), (raw) => {
        try {
          const id = decodeButtonId(raw);
          expect(encodeButtonId(id)).toBe(raw);
        } catch (error) {
          expect(error).toBeInstanceOf(ButtonIdError);
        }
      }),
    );
  });

  it('GIVEN a valid id with one character replaced THEN it is rejected, or it is itself a well-formed id that re-encodes identically', () => {
    fc.assert(
      fc.property(buttonIdArb, fc.nat(), fc.string({ minLength: 1, maxLength: 1 }), (id, at, ch) => {
        const raw = encodeButtonId(id);
        const pos = at % raw.length;
        const tampered = raw.slice(0, pos) + ch + raw.slice(pos + 1);
        try {
          const decoded = decodeButtonId(tampered);
          expect(encodeButtonId(decoded)).toBe(tampered);
        } catch (error) {
          expect(error).toBeInstanceOf(ButtonIdError);
        }
      }),
    );
  });

  it.each([
    ['', 'empty'],
    [`upscale:${'a'.repeat(95)}:1`, 'too_long'],
    ['upscale:j1', 'wrong_shape'],
    ['upscale:j1:1:extra', 'wrong_shape'],
    ['explode:j1:1', 'unknown_action'],
    ['UPSCALE:j1:1', 'unknown_action'],
    ['upscale:../etc:1', 'bad_job_id'],
    ['upscale:J1:1', 'bad_job_id'],
    ['upscale::1', 'bad_job_id'],
    ['upscale:j1:5', 'bad_index'],
    ['upscale:j1:0', 'bad_index'],
    ['upscale:j1:01', 'bad_index'],
    ['upscale:j1:-1', 'bad_index'],
    ['reroll:j1:2', 'bad_index'],
    ['delete:j1:', 'bad_index'],
  ])('GIVEN the tampered id %j THEN the error names the problem %s', (raw, problem) => {
    expect(problemOf(raw)).toBe(problem);
  });

  it('GIVEN a tampered id THEN the message is safe to show and does not echo the input', () => {
    const raw = `upscale:<script>${'x'.repeat(50)}:1`;
    expect(() => decodeButtonId(raw)).toThrow(/not valid/);
    try {
      decodeButtonId(raw);
    } catch (error) {
      expect((error as Error).message).not.toContain('<script>');
    }
  });

  it('GIVEN every action THEN the list of actions is what the message model and platforms rely on', () => {
    expect([...BUTTON_ACTIONS].sort()).toEqual(['cancel', 'delete', 'hero', 'info', 'more', 'pin', 'remix', 'reroll', 'unpin', 'upscale', 'vary_strong', 'vary_subtle', 'vote']);
  });

  it('GIVEN an encode of an invalid value THEN encode refuses it too', () => {
    expect(() => encodeButtonId({ action: 'upscale', jobId: 'Bad Id', index: 1 })).toThrow(ButtonIdError);
  });
});
