/**
 * The `/imagine` parser: prompt text with inline options (`a lighthouse --ar 16:9 --no fog`), or
 * the same options as slash-command fields. Every problem is collected, each with a message that
 * names the option and what is allowed, and thrown together as one OptionsError.
 *
 * Phones autocorrect `--` to an em or en dash, so `—ar` and `–ar` read as `--ar`. Options are
 * case-insensitive. `--no` may repeat (the texts are joined); any other option given twice, inline
 * or once inline and once as a slash field, is an error rather than a silent pick.
 */
import { GenerationRequestSchema, type Aspect, type GenerationRequest, type SizeClass } from './job.js';
import { OptionsError, type OptionProblem } from './errors.js';
import { findStyle, STYLE_NAMES } from './styles.js';
import { MAX_ASPECT_RATIO } from './dimensions.js';

/** Slash-command fields as the platforms deliver them (numbers may arrive as strings). */
export interface SlashOptions {
  ar?: string;
  seed?: number | string;
  no?: string;
  steps?: number | string;
  cfg?: number | string;
  chaos?: number | string;
  style?: string;
  size?: string;
  lite?: boolean;
}

export interface ParseContext {
  /** Seed when none is given; uint32. Defaults to a random one. */
  randomSeed?: () => number;
}

type OptionName = keyof SlashOptions;

/** Canonical names, then aliases users type out of habit. */
const OPTION_NAMES: readonly OptionName[] = ['ar', 'seed', 'no', 'steps', 'cfg', 'chaos', 'style', 'size', 'lite'];
const ALIASES: Readonly<Record<string, OptionName>> = { aspect: 'ar', negative: 'no', guidance: 'cfg', s: 'style' };
const SIZE_NAMES: readonly SizeClass[] = ['small', 'medium', 'large'];
const UINT32_MAX = 0xffffffff;
const MAX_PROMPT = 2000;

/** An option token: start of text or whitespace, then `--`, `—` or `–`, then a name. */
const OPTION_TOKEN = /(^|\s)(?:--|—|–)([A-Za-z][A-Za-z0-9-]*)(?=\s|$)/g;

interface RawOption {
  name: string;
  value: string;
  source: 'inline' | 'slash';
}

/**
 * @example parseImagine('a red fox --ar 3:2 --seed 7').aspect // → { w: 3, h: 2 }
 * @example parseImagine('fox --ar 0:5') // throws OptionsError "--ar 0:5: both sides must be 1–21, e.g. 16:9"
 */
export function parseImagine(text: string, slashOptions: SlashOptions = {}, context: ParseContext = {}): GenerationRequest {
  const problems: OptionProblem[] = [];
  const { prompt, options } = splitPrompt(text);
  for (const [name, value] of Object.entries(slashOptions)) {
    if (value === undefined || value === null) continue;
    if (name === 'lite') {
      if (value === true) options.push({ name, value: '', source: 'slash' });
      continue;
    }
    options.push({ name, value: String(value).trim(), source: 'slash' });
  }

  const seen = new Map<OptionName, RawOption>();
  const negatives: string[] = [];
  const values: Partial<Record<OptionName, string>> = {};
  for (const option of options) {
    const canonical = canonicalName(option.name);
    if (!canonical) {
      problems.push({ option: option.name, message: `--${option.name}: unknown option; known options are ${OPTION_NAMES.map((n) => `--${n}`).join(', ')}` });
      continue;
    }
    if (canonical === 'no') {
      if (option.value === '') problems.push({ option: 'no', message: '--no: give the things to leave out, e.g. --no text, watermark' });
      else negatives.push(option.value);
      continue;
    }
    const earlier = seen.get(canonical);
    if (earlier) {
      const where = earlier.source === option.source ? 'twice' : 'both in the prompt and as a command option';
      problems.push({ option: canonical, message: `--${canonical}: given ${where}; keep one` });
      continue;
    }
    seen.set(canonical, option);
    values[canonical] = option.value;
  }

  const aspect = values.ar === undefined ? { w: 1, h: 1 } : parseAspect(values.ar, problems);
  const seed = values.seed === undefined ? (context.randomSeed ?? randomUint32)() : parseInteger('seed', values.seed, 0, UINT32_MAX, problems);
  const steps = values.steps === undefined ? undefined : parseInteger('steps', values.steps, 1, 100, problems);
  const cfg = values.cfg === undefined ? undefined : parseDecimal('cfg', values.cfg, 0, 30, problems);
  const chaos = values.chaos === undefined ? 0 : parseInteger('chaos', values.chaos, 0, 100, problems);
  const style = values.style === undefined ? undefined : parseStyle(values.style, problems);
  const size = values.size === undefined ? 'medium' : parseSize(values.size, problems);
  if (values.lite !== undefined && values.lite !== '') problems.push({ option: 'lite', message: `--lite takes no value (got "${clip(values.lite)}"); write just --lite` });

  const negativePrompt = negatives.join(', ');
  if (prompt === '') problems.push({ option: 'prompt', message: 'prompt: describe the image before any --options, e.g. "a lighthouse at dusk --ar 16:9"' });
  if (prompt.length > MAX_PROMPT) problems.push({ option: 'prompt', message: `prompt: ${prompt.length} characters is too long; at most ${MAX_PROMPT}` });
  if (negativePrompt.length > MAX_PROMPT) problems.push({ option: 'no', message: `--no: ${negativePrompt.length} characters is too long; at most ${MAX_PROMPT}` });
  if (problems.length > 0) throw new OptionsError(problems);

  return GenerationRequestSchema.parse({
    prompt,
    negativePrompt,
    aspect,
    size,
    seed,
    ...(steps === undefined ? {} : { steps }),
    ...(cfg === undefined ? {} : { cfg }),
    chaos,
    ...(style === undefined ? {} : { style }),
    lite: values.lite !== undefined,
    count: 4,
  });
}

/**
 * Canonical names of the options the user gave, inline or as slash fields, so that saved defaults
 * (per user, per channel) fill in only the rest.
 * @example givenOptionNames('fox --AR 3:2 --negative fog', { seed: 5 }) // → Set { 'ar', 'no', 'seed' }
 */
export function givenOptionNames(text: string, slashOptions: SlashOptions = {}): Set<keyof SlashOptions> {
  const names = new Set<keyof SlashOptions>();
  const slashGiven = Object.entries(slashOptions).filter(([name, value]) => value !== undefined && value !== null && (name !== 'lite' || value === true));
  for (const name of [...splitPrompt(text).options.map((option) => option.name), ...slashGiven.map(([name]) => name)]) {
    const canonical = canonicalName(name);
    if (canonical) names.add(canonical);
  }
  return names;
}

/** Prompt = text before the first option; each option's value = text up to the next option. */
function splitPrompt(text: string): { prompt: string; options: RawOption[] } {
  const matches = [...text.matchAll(OPTION_TOKEN)];
  if (matches.length === 0) return { prompt: normalizeSpace(text), options: [] };
  const optionStart = (m: RegExpMatchArray) => m.index! + m[1]!.length;
  const options = matches.map((match, i) => {
    const next = matches[i + 1];
    const valueEnd = next === undefined ? text.length : optionStart(next);
    return { name: match[2]!.toLowerCase(), value: normalizeSpace(text.slice(match.index + match[0].length, valueEnd)), source: 'inline' as const };
  });
  return { prompt: normalizeSpace(text.slice(0, optionStart(matches[0]!))), options };
}

function canonicalName(name: string): OptionName | undefined {
  const lower = name.toLowerCase();
  return (OPTION_NAMES as readonly string[]).includes(lower) ? (lower as OptionName) : ALIASES[lower];
}

function parseAspect(value: string, problems: OptionProblem[]): Aspect {
  const match = /^(\d+)\s*[:x×/]\s*(\d+)$/i.exec(value);
  if (!match) {
    problems.push({ option: 'ar', message: `--ar ${clip(value)}: expected width:height in whole numbers, e.g. 16:9` });
    return { w: 1, h: 1 };
  }
  const w = Number(match[1]);
  const h = Number(match[2]);
  if (w < 1 || w > 21 || h < 1 || h > 21) {
    problems.push({ option: 'ar', message: `--ar ${w}:${h}: both sides must be 1–21, e.g. 16:9` });
  } else if (Math.max(w / h, h / w) > MAX_ASPECT_RATIO) {
    problems.push({ option: 'ar', message: `--ar ${w}:${h}: at most ${MAX_ASPECT_RATIO}:1 either way (e.g. 4:1 or 1:4)` });
  }
  return { w, h };
}

function parseInteger(option: OptionName, value: string, min: number, max: number, problems: OptionProblem[]): number {
  const number = /^[+-]?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    problems.push({ option, message: `--${option} ${clip(value) || '(empty)'}: must be a whole number from ${min} to ${max}` });
    return min;
  }
  return number;
}

function parseDecimal(option: OptionName, value: string, min: number, max: number, problems: OptionProblem[]): number {
  const number = /^[+-]?(\d+\.?\d*|\.\d+)$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(number) || number < min || number > max) {
    problems.push({ option, message: `--${option} ${clip(value) || '(empty)'}: must be a number from ${min} to ${max}` });
    return min;
  }
  return number;
}

function parseStyle(value: string, problems: OptionProblem[]): string | undefined {
  const preset = findStyle(value);
  if (!preset) problems.push({ option: 'style', message: `--style ${clip(value) || '(empty)'}: unknown style; choose one of ${STYLE_NAMES.join(', ')}` });
  return preset?.name;
}

function parseSize(value: string, problems: OptionProblem[]): SizeClass {
  const lower = value.toLowerCase();
  if ((SIZE_NAMES as readonly string[]).includes(lower)) return lower as SizeClass;
  problems.push({ option: 'size', message: `--size ${clip(value) || '(empty)'}: choose small, medium or large` });
  return 'medium';
}

function normalizeSpace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Echo user input back without flooding the message. */
function clip(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

function randomUint32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}
