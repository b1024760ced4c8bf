/**
 * The `/imagine` parser: prompt text with inline options (`a lighthouse --ar 16:9 --no fog`), or
 * the same options as slash-command fields. Every problem is collected, each with a message that
 * names the option and what is allowed, and thrown together as one OptionsError.
 *
 * Phones autocorrect `--` to an em or en dash, so `—ar` and `–ar` read as `--ar`; so do the other
 * forms autocorrect and input methods make of it: `—-ar` and `——ar` (three hyphens typed), `−−ar`
 * (minus signs), `－－ar` (full-width, CJK input methods), `―ar`. Options are
 * case-insensitive. `--no` may repeat (the texts are joined); any other option given twice, inline
 * or once inline and once as a slash field, is an error rather than a silent pick.
 *
 * The text is hostile input parsed on the event loop, so the parser's work is linear in it by
 * construction: the whole text and every option value are length-checked before anything looks
 * inside them, and the lexing (options, spaces, numbers, ratios) is single-pass scanning rather than
 * backtracking patterns (`\d+\.?\d*` took 29.9 s on `--cfg` + 100 000 digits + a letter). A
 * `ParseMeter` counts the characters examined; test/adversarial/options-fuzz.test.ts bounds it.
 */
import { GenerationRequestSchema, MAX_IMAGE_WEIGHT, type Aspect, type GenerationRequest, type SizeClass } from './job.ts';
import { OptionsError, type OptionProblem } from './errors.ts';
import { findStyle, STYLE_NAMES } from './styles.ts';
import { MAX_ASPECT_RATIO } from './dimensions.ts';

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
  /** Image weight of the request's image prompts (0–3). */
  iw?: number | string;
  /** Image-to-image: the first picture is the start image, re-noised to this level (0 < strength ≤ 1). */
  strength?: number | string;
}

export interface ParseContext {
  /** Seed when none is given; uint32. Defaults to a random one. */
  randomSeed?: () => number;
  /** Counts the characters the parser examines (tests prove the work is linear in the input). */
  meter?: ParseMeter;
  /** Pictures given with the command (attachments, uploads): the prompt may then be empty, and --iw and --strength apply. */
  imageCount?: number;
}

export interface ParseMeter {
  steps: number;
}

type OptionName = keyof SlashOptions;

/** Canonical names, then aliases users type out of habit. */
const OPTION_NAMES: readonly OptionName[] = ['ar', 'seed', 'no', 'steps', 'cfg', 'chaos', 'style', 'size', 'lite', 'iw', 'strength'];
const ALIASES: Readonly<Record<string, OptionName>> = { aspect: 'ar', negative: 'no', guidance: 'cfg', s: 'style' };
const SIZE_NAMES: readonly SizeClass[] = ['small', 'medium', 'large'];
const UINT32_MAX = 0xffffffff;
const MAX_PROMPT = 2000;
/**
 * The longest text any platform delivers to the parser (a Slack slash command's text, 4000; Discord's
 * prompt field is 2000), options included; longer text is refused before it is looked at.
 */
export const MAX_IMAGINE_TEXT = 4000;
/** Every value but --no's is a number, ratio or name of a few characters; longer ones are refused unread. */
export const MAX_OPTION_VALUE = 64;

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
  const meter = context.meter ?? { steps: 0 };
  const problems: OptionProblem[] = [];
  if (text.length > MAX_IMAGINE_TEXT) {
    throw new OptionsError([{ option: 'prompt', message: `prompt: ${text.length} characters is too long; at most ${MAX_IMAGINE_TEXT} including --options` }]);
  }
  const { prompt, options } = splitPrompt(text, meter);
  for (const [name, value] of Object.entries(slashOptions)) {
    if (value === undefined || value === null) continue;
    if (name === 'lite') {
      if (value === true) options.push({ name, value: '', source: 'slash' });
      continue;
    }
    const raw = String(value);
    if (raw.length > MAX_IMAGINE_TEXT) {
      problems.push({ option: name, message: `--${clip(name)}: ${raw.length} characters is too long` });
      continue;
    }
    options.push({ name, value: raw.trim(), source: 'slash' });
  }

  const seen = new Map<OptionName, RawOption>();
  const negatives: string[] = [];
  const values: Partial<Record<OptionName, string>> = {};
  for (const option of options) {
    const canonical = canonicalName(option.name);
    if (!canonical) {
      problems.push({ option: clip(option.name), message: `--${clip(option.name)}: unknown option; known options are ${OPTION_NAMES.map((n) => `--${n}`).join(', ')}` });
      continue;
    }
    if (canonical === 'no') {
      if (option.value === '') problems.push({ option: 'no', message: '--no: give the things to leave out, e.g. --no text, watermark' });
      else negatives.push(option.value);
      continue;
    }
    if (option.value.length > MAX_OPTION_VALUE) {
      problems.push({ option: canonical, message: `--${canonical} ${clip(option.value)}: ${option.value.length} characters is too long for this option; at most ${MAX_OPTION_VALUE}` });
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

  const aspect = values.ar === undefined ? { w: 1, h: 1 } : parseAspect(values.ar, problems, meter);
  const seed = values.seed === undefined ? (context.randomSeed ?? randomUint32)() : parseInteger('seed', values.seed, 0, UINT32_MAX, problems, meter);
  const steps = values.steps === undefined ? undefined : parseInteger('steps', values.steps, 1, 100, problems, meter);
  const cfg = values.cfg === undefined ? undefined : parseDecimal('cfg', values.cfg, 0, 30, problems, meter);
  const chaos = values.chaos === undefined ? 0 : parseInteger('chaos', values.chaos, 0, 100, problems, meter);
  const style = values.style === undefined ? undefined : parseStyle(values.style, problems);
  const size = values.size === undefined ? 'medium' : parseSize(values.size, problems);
  const images = context.imageCount ?? 0;
  const imageWeight = values.iw === undefined ? undefined : parseDecimal('iw', values.iw, 0, MAX_IMAGE_WEIGHT, problems, meter);
  const imageStrength = values.strength === undefined ? undefined : parseStrength(values.strength, problems, meter);
  if (values.strength !== undefined && images === 0) problems.push({ option: 'strength', message: '--strength starts from a picture (image-to-image): attach one to the command' });
  // With --strength the first picture is the start image; only the others are image prompts.
  const imagePrompts = imageStrength === undefined ? images : images - 1;
  if (values.iw !== undefined && images > 0 && imagePrompts === 0) problems.push({ option: 'iw', message: '--iw weighs image prompts, and with --strength the only picture is the start image: attach a second picture as the image prompt, or leave out --iw' });
  if (values.iw !== undefined && images === 0) problems.push({ option: 'iw', message: '--iw weighs image prompts: attach an image to the command for it to apply' });
  if (values.lite !== undefined && values.lite !== '') problems.push({ option: 'lite', message: `--lite takes no value (got "${clip(values.lite)}"); write just --lite` });

  const negativePrompt = negatives.join(', ');
  if (prompt === '' && images === 0) problems.push({ option: 'prompt', message: 'prompt: describe the image before any --options, e.g. "a lighthouse at dusk --ar 16:9"' });
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
    ...(imageWeight === undefined ? {} : { imageWeight }),
    ...(imageStrength === undefined ? {} : { imageStrength }),
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
  // Text over the limit is refused by parseImagine; it is not read here either.
  const inline = text.length > MAX_IMAGINE_TEXT ? [] : splitPrompt(text, { steps: 0 }).options;
  for (const name of [...inline.map((option) => option.name), ...slashGiven.map(([name]) => name)]) {
    const canonical = canonicalName(name);
    if (canonical) names.add(canonical);
  }
  return names;
}

interface OptionToken {
  /** Where its dash starts (the previous option's value ends here). */
  start: number;
  nameStart: number;
  /** Where its name ends (its value starts here). */
  nameEnd: number;
}

/**
 * Prompt = text before the first option; each option's value = text up to the next option. An option
 * is a dash (`--`, `—` or `–`) at the start of the text or after whitespace, then a name (a letter,
 * then letters, digits or hyphens) followed by whitespace or the end. One pass: every character is
 * examined at most twice (once more when a name turns out not to end in whitespace).
 */
function splitPrompt(text: string, meter: ParseMeter): { prompt: string; options: RawOption[] } {
  const tokens: OptionToken[] = [];
  let i = 0;
  while (i < text.length) {
    meter.steps += 1;
    const dashes = i === 0 || isSpace(text.charCodeAt(i - 1)) ? dashLength(text, i, meter) : 0;
    if (dashes > 0 && isAsciiLetter(text.charCodeAt(i + dashes))) {
      meter.steps += dashes;
      const end = skipWhile(text, i + dashes + 1, isNameChar, meter);
      if (end === text.length || isSpace(text.charCodeAt(end))) {
        tokens.push({ start: i, nameStart: i + dashes, nameEnd: end });
        i = end;
        continue;
      }
    }
    i += 1;
  }
  if (tokens.length === 0) return { prompt: normalizeSpace(text, meter), options: [] };
  const options = tokens.map((token, index) => {
    const valueEnd = tokens[index + 1]?.start ?? text.length;
    return { name: text.slice(token.nameStart, token.nameEnd).toLowerCase(), value: normalizeSpace(text.slice(token.nameEnd, valueEnd), meter), source: 'inline' as const };
  });
  return { prompt: normalizeSpace(text.slice(0, tokens[0]!.start), meter), options };
}

/**
 * Length of the option marker at `at`: a run of two or more dash-like characters (`--`, `—-`, `−−`, `－－`…),
 * or one long dash (`—`, `–`, `―`); 0 when there is none (a single hyphen is prompt text).
 */
function dashLength(text: string, at: number, meter: ParseMeter): number {
  const end = skipWhile(text, at, isDashLike, meter);
  const run = end - at;
  if (run >= 2) return run;
  return run === 1 && isLongDash(text.charCodeAt(at)) ? 1 : 0;
}

/** Hyphen-minus, the Unicode hyphens and dashes (U+2010–U+2015), minus sign, small and full-width hyphen-minus. */
const isDashLike = (code: number) => code === 0x2d || (code >= 0x2010 && code <= 0x2015) || code === 0x2212 || code === 0xfe58 || code === 0xfe63 || code === 0xff0d;
const isLongDash = (code: number) => code >= 0x2013 && code <= 0x2015;

const isAsciiLetter = (code: number) => (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
const isDigit = (code: number) => code >= 0x30 && code <= 0x39;
const isNameChar = (code: number) => isAsciiLetter(code) || isDigit(code) || code === 0x2d;
/** The characters JavaScript's `\s` matches. */
const isSpace = (code: number) =>
  code === 0x20 || (code >= 0x09 && code <= 0x0d) || code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) ||
  code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;

/** Index just past the run of characters from `from` on that `accept` takes. */
function skipWhile(value: string, from: number, accept: (code: number) => boolean, meter: ParseMeter): number {
  let i = from;
  while (i < value.length && accept(value.charCodeAt(i))) {
    meter.steps += 1;
    i += 1;
  }
  return i;
}

const skipDigits = (value: string, from: number, meter: ParseMeter) => skipWhile(value, from, isDigit, meter);
const skipSpaces = (value: string, from: number, meter: ParseMeter) => skipWhile(value, from, isSpace, meter);

/** `[+-]?\d+` */
function isIntegerText(value: string, meter: ParseMeter): boolean {
  const start = value[0] === '+' || value[0] === '-' ? 1 : 0;
  const end = skipDigits(value, start, meter);
  return end > start && end === value.length;
}

/** `[+-]?(\d+\.?\d*|\.\d+)` */
function isDecimalText(value: string, meter: ParseMeter): boolean {
  const start = value[0] === '+' || value[0] === '-' ? 1 : 0;
  const integerEnd = skipDigits(value, start, meter);
  if (value[integerEnd] !== '.') return integerEnd > start && integerEnd === value.length;
  const fractionEnd = skipDigits(value, integerEnd + 1, meter);
  const digits = integerEnd - start + (fractionEnd - integerEnd - 1);
  return digits > 0 && fractionEnd === value.length;
}

function canonicalName(name: string): OptionName | undefined {
  const lower = name.toLowerCase();
  return (OPTION_NAMES as readonly string[]).includes(lower) ? (lower as OptionName) : ALIASES[lower];
}

const ASPECT_SEPARATORS = new Set([':', 'x', 'X', '×', '/']);

function parseAspect(value: string, problems: OptionProblem[], meter: ParseMeter): Aspect {
  // `\d+ \s* [:x×/] \s* \d+`, scanned once.
  const widthEnd = skipDigits(value, 0, meter);
  const separatorAt = skipSpaces(value, widthEnd, meter);
  const heightStart = skipSpaces(value, separatorAt + 1, meter);
  const heightEnd = skipDigits(value, heightStart, meter);
  const match = widthEnd > 0 && ASPECT_SEPARATORS.has(value[separatorAt] ?? '') && heightEnd > heightStart && heightEnd === value.length
    ? [value, value.slice(0, widthEnd), value.slice(heightStart, heightEnd)]
    : undefined;
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

function parseInteger(option: OptionName, value: string, min: number, max: number, problems: OptionProblem[], meter: ParseMeter): number {
  const number = isIntegerText(value, meter) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    problems.push({ option, message: `--${option} ${clip(value) || '(empty)'}: must be a whole number from ${min} to ${max}` });
    return min;
  }
  return number;
}

function parseDecimal(option: OptionName, value: string, min: number, max: number, problems: OptionProblem[], meter: ParseMeter): number {
  const number = isDecimalText(value, meter) ? Number(value) : Number.NaN;
  if (!Number.isFinite(number) || number < min || number > max) {
    problems.push({ option, message: `--${option} ${clip(value) || '(empty)'}: must be a number from ${min} to ${max}` });
    return min;
  }
  return number;
}

/** Image-to-image strength: above 0 (0 would change nothing) and at most 1 (1 = from pure noise). */
function parseStrength(value: string, problems: OptionProblem[], meter: ParseMeter): number | undefined {
  const number = isDecimalText(value, meter) ? Number(value) : Number.NaN;
  if (!(number > 0 && number <= 1)) {
    problems.push({ option: 'strength', message: `--strength ${clip(value) || '(empty)'}: must be a number above 0 and at most 1, e.g. 0.6 (lower stays closer to the picture)` });
    return undefined;
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

/** Runs of whitespace → one space, none at either end. */
function normalizeSpace(text: string, meter: ParseMeter): string {
  let out = '';
  let pendingSpace = false;
  for (let i = 0; i < text.length; i += 1) {
    meter.steps += 1;
    if (isSpace(text.charCodeAt(i))) {
      pendingSpace = out !== '';
      continue;
    }
    if (pendingSpace) out += ' ';
    pendingSpace = false;
    out += text[i];
  }
  return out;
}

/** Echo user input back without flooding the message. */
function clip(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

function randomUint32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}
