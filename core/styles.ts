/**
 * Style presets for `--style <name>`: a few words appended to the prompt and a negative prompt,
 * applied by the runner when it builds the model request (the job keeps the user's own words).
 */

export interface StylePreset {
  name: string;
  /** One line for autocomplete menus. */
  description: string;
  promptSuffix: string;
  negative: string;
}

export const STYLE_PRESETS: readonly StylePreset[] = Object.freeze([
  { name: 'photo', description: 'photographic, natural light', promptSuffix: 'professional photograph, natural light, sharp focus, 35mm', negative: 'illustration, painting, cartoon, drawing' },
  { name: 'cinematic', description: 'film still, dramatic lighting', promptSuffix: 'cinematic film still, dramatic lighting, shallow depth of field, color graded', negative: 'cartoon, flat lighting' },
  { name: 'anime', description: 'anime key visual', promptSuffix: 'anime key visual, vibrant colors, clean line art', negative: 'photo, realistic, 3d render' },
  { name: 'watercolor', description: 'soft watercolor painting', promptSuffix: 'watercolor painting, soft washes, paper texture', negative: 'photo, 3d render, hard edges' },
  { name: 'pixel-art', description: 'retro pixel art', promptSuffix: 'pixel art, 16-bit, limited palette', negative: 'photo, blurry, smooth gradients' },
  { name: 'isometric', description: 'isometric 3D diorama', promptSuffix: 'isometric 3d render, diorama, soft shadows', negative: 'photo, flat' },
]);

export const STYLE_NAMES: readonly string[] = Object.freeze(STYLE_PRESETS.map((preset) => preset.name));

export function findStyle(name: string): StylePreset | undefined {
  const wanted = name.trim().toLowerCase();
  return STYLE_PRESETS.find((preset) => preset.name === wanted);
}

/**
 * Prompt and negative prompt with the request's style applied; unknown or absent style = unchanged. `modelStyles`
 * (a small model's manifest `styles`, core/model-notes.ts): the presets it can draw, mapped to words it knows; a
 * preset missing there is not applied.
 */
export function applyStyle(
  request: { prompt: string; negativePrompt: string; style?: string | undefined },
  modelStyles?: Readonly<Record<string, Pick<StylePreset, 'promptSuffix' | 'negative'>>>,
): { prompt: string; negativePrompt: string } {
  const wanted = request.style?.trim().toLowerCase();
  const preset = wanted === undefined ? undefined : modelStyles ? (Object.hasOwn(modelStyles, wanted) ? modelStyles[wanted] : undefined) : findStyle(wanted);
  if (!preset) return { prompt: request.prompt, negativePrompt: request.negativePrompt };
  const joinNonEmpty = (a: string, b: string) => [a, b].filter((part) => part.trim() !== '').join(', ');
  return { prompt: joinNonEmpty(request.prompt, preset.promptSuffix), negativePrompt: joinNonEmpty(request.negativePrompt, preset.negative) };
}
