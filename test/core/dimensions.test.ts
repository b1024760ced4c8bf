import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { aspectNear, defaultBounds, MAX_ASPECT_RATIO, NAMED_ASPECTS, resolveDimensions } from '../../core/dimensions.ts';
import { parseImagine } from '../../core/options.ts';

describe('resolveDimensions', () => {
  it.each([
    [1, 1, 'medium', 1024, 1024, 1024],
    [16, 9, 'medium', 1024, 1344, 768],
    [9, 16, 'medium', 1024, 768, 1344],
    [3, 2, 'medium', 1024, 1280, 832],
    [1, 1, 'large', 1024, 1536, 1536],
    [1, 1, 'small', 1024, 768, 768],
    [4, 1, 'medium', 1024, 2048, 512],
  ] as const)('GIVEN %i:%i %s at base %i THEN %i×%i', (w, h, size, base, width, height) => {
    expect(resolveDimensions({ w, h }, size, base)).toEqual({ width, height });
  });

  it('GIVEN every named aspect THEN the parser accepts it', () => {
    for (const { value } of NAMED_ASPECTS) expect(parseImagine(`fox --ar ${value} --seed 1`).aspect).toBeDefined();
  });

  it('GIVEN any accepted aspect, size and base THEN sides are multiples of 64 within bounds and the ratio holds', () => {
    const aspect = fc.tuple(fc.integer({ min: 1, max: 21 }), fc.integer({ min: 1, max: 21 })).filter(([w, h]) => Math.max(w / h, h / w) <= MAX_ASPECT_RATIO);
    fc.assert(
      fc.property(aspect, fc.constantFrom('small', 'medium', 'large'), fc.constantFrom(256, 512, 768, 1024), ([w, h], size, base) => {
        const { width, height } = resolveDimensions({ w, h }, size, base);
        const bounds = defaultBounds(base);
        for (const side of [width, height]) {
          expect(side % 64).toBe(0);
          expect(side).toBeGreaterThanOrEqual(bounds.minSide);
          expect(side).toBeLessThanOrEqual(bounds.maxSide);
        }
        if (base >= 1024) {
          // Rounding each side to 64 moves the ratio a little; never by more than one step's worth.
          const ratioError = Math.abs(Math.log(width / height) - Math.log(w / h));
          expect(ratioError).toBeLessThan(Math.log((512 + 64) / 512));
        }
      }),
    );
  });

  it('GIVEN medium at base 1024 and ratios up to 2:1 THEN the pixel budget stays within 10 % of 1024²', () => {
    const aspect = fc.tuple(fc.integer({ min: 1, max: 21 }), fc.integer({ min: 1, max: 21 })).filter(([w, h]) => Math.max(w / h, h / w) <= 2);
    fc.assert(
      fc.property(aspect, ([w, h]) => {
        const { width, height } = resolveDimensions({ w, h }, 'medium', 1024);
        expect(Math.abs((width * height) / 1024 ** 2 - 1)).toBeLessThan(0.1);
      }),
    );
  });
});

describe('aspectNear: the shape an image-to-image job keeps from its start picture', () => {
  it.each([
    [1920, 1080, { w: 16, h: 9 }],
    [1080, 1920, { w: 9, h: 16 }],
    [500, 500, { w: 1, h: 1 }],
    [120, 80, { w: 3, h: 2 }],
    [1000, 100, { w: 4, h: 1 }],
    [1000, 333, { w: 3, h: 1 }],
  ])('GIVEN %i×%i THEN %o (whole sides 1–21, at most 4:1, simplest on a tie)', (width, height, expected) => {
    expect(aspectNear(width, height)).toEqual(expected);
  });
});
