/**
 * From "16:9, medium" to pixel sizes the cascade can decode.
 *
 * Sides are multiples of 64 because Stage B's skip connections only line up then (cascade-spec §1.2);
 * the pixel budget stays near base² (1024² for Stable Cascade) so every aspect ratio costs about the
 * same; sides stay within bounds around the sizes the model was trained on (1024²–1536², buckets to
 * about 1:4 at that density). Anything outside the bounds is clamped, keeping the ratio as best it can.
 */
import type { Aspect, SizeClass } from './job.ts';

export interface DimensionBounds {
  minSide: number;
  maxSide: number;
}

export interface Dimensions {
  width: number;
  height: number;
}

/** Side length relative to the base resolution, per size class (area scales with the square). */
export const SIZE_FACTORS: Readonly<Record<SizeClass, number>> = Object.freeze({ small: 0.75, medium: 1, large: 1.5 });

/** The widest ratio the parser accepts: beyond it Stable Cascade leaves its training buckets. */
export const MAX_ASPECT_RATIO = 4;

/** Named ratios for autocomplete, with what they are good for. */
export const NAMED_ASPECTS: readonly { value: string; label: string }[] = Object.freeze([
  { value: '1:1', label: 'square' },
  { value: '4:5', label: 'portrait (social)' },
  { value: '2:3', label: 'portrait (photo)' },
  { value: '9:16', label: 'portrait (phone)' },
  { value: '3:2', label: 'landscape (photo)' },
  { value: '4:3', label: 'landscape (classic)' },
  { value: '16:9', label: 'landscape (widescreen)' },
  { value: '21:9', label: 'landscape (cinema)' },
]);

/**
 * The whole-number ratio (sides 1–21, at most MAX_ASPECT_RATIO:1) closest to a picture's shape, the simplest on a tie:
 * an image-to-image job keeps its start picture's shape unless `--ar` is typed.
 * @example aspectNear(1920, 1080) // → { w: 16, h: 9 }
 */
export function aspectNear(width: number, height: number): Aspect {
  const target = Math.log(width / height);
  let best: Aspect = { w: 1, h: 1 };
  let bestDistance = Number.POSITIVE_INFINITY;
  for (let w = 1; w <= 21; w++) {
    for (let h = 1; h <= 21; h++) {
      if (Math.max(w / h, h / w) > MAX_ASPECT_RATIO) continue;
      const distance = Math.abs(Math.log(w / h) - target);
      // Strictly closer only (beyond float noise): 2:2 never replaces 1:1.
      if (distance < bestDistance - 1e-9) {
        best = { w, h };
        bestDistance = distance;
      }
    }
  }
  return best;
}

export function defaultBounds(baseResolution: number, multiple = 64): DimensionBounds {
  return {
    minSide: Math.max(multiple, roundTo(baseResolution / 4, multiple)),
    maxSide: Math.max(multiple, roundTo(baseResolution * 2, multiple)),
  };
}

/**
 * @example resolveDimensions({ w: 1, h: 1 }, 'medium', 1024)  // → { width: 1024, height: 1024 }
 * @example resolveDimensions({ w: 16, h: 9 }, 'medium', 1024) // → { width: 1344, height: 768 }
 */
export function resolveDimensions(
  aspect: Aspect,
  size: SizeClass,
  baseResolution: number,
  multiple = 64,
  bounds: DimensionBounds = defaultBounds(baseResolution, multiple),
): Dimensions {
  const ratio = aspect.w / aspect.h;
  const side = baseResolution * SIZE_FACTORS[size];
  let width = side * Math.sqrt(ratio);
  let height = side / Math.sqrt(ratio);
  // Shrink both when one side is too long, grow both when one is too short: the ratio survives.
  const over = Math.max(width, height) / bounds.maxSide;
  if (over > 1) {
    width /= over;
    height /= over;
  }
  const under = bounds.minSide / Math.min(width, height);
  if (under > 1) {
    width *= under;
    height *= under;
  }
  const clampSide = (value: number) => Math.min(bounds.maxSide, Math.max(bounds.minSide, roundTo(value, multiple)));
  return { width: clampSide(width), height: clampSide(height) };
}

function roundTo(value: number, multiple: number): number {
  return Math.max(multiple, Math.round(value / multiple) * multiple);
}
