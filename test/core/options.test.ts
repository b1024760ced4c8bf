import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { givenOptionNames, parseImagine } from '../../core/options.ts';
import { OptionsError } from '../../core/errors.ts';
import { STYLE_NAMES } from '../../core/styles.ts';

function problemsOf(text: string, slash = {}): string[] {
  try {
    parseImagine(text, slash);
  } catch (error) {
    if (error instanceof OptionsError) return error.problems.map((p) => p.message);
    throw error;
  }
  throw new Error(`expected "${text}" to be rejected`);
}

describe('parseImagine: accepted input', () => {
  it('GIVEN only a prompt THEN defaults apply (1:1, medium, chaos 0, four images) and the seed comes from the context', () => {
    const request = parseImagine('  a lighthouse   at dusk ', {}, { randomSeed: () => 99 });
    expect(request).toEqual({ prompt: 'a lighthouse at dusk', negativePrompt: '', aspect: { w: 1, h: 1 }, size: 'medium', seed: 99, chaos: 0, lite: false, count: 4 });
  });

  it('GIVEN every inline option THEN each lands in its field', () => {
    const request = parseImagine('fox in snow --ar 16:9 --seed 4294967295 --no text, watermark --steps 30 --cfg 4.5 --chaos 40 --style Photo --size large --lite');
    expect(request).toMatchObject({ prompt: 'fox in snow', negativePrompt: 'text, watermark', aspect: { w: 16, h: 9 }, seed: 4294967295, steps: 30, cfg: 4.5, chaos: 40, style: 'photo', size: 'large', lite: true });
  });

  it('GIVEN phone-autocorrected dashes (— and –) and upper case THEN they read as --options', () => {
    const request = parseImagine('fox —AR 2:3 –seed 5');
    expect(request.aspect).toEqual({ w: 2, h: 3 });
    expect(request.seed).toBe(5);
  });

  it.each([
    ['three hyphens autocorrected to em dash + hyphen', 'fox —-ar 16:9'],
    ['two em dashes', 'fox ——ar 16:9'],
    ['three hyphens', 'fox ---ar 16:9'],
    ['minus signs', 'fox −−ar 16:9'],
    ['full-width hyphens (CJK input)', 'fox －－ar 16:9'],
    ['a horizontal bar', 'fox ―ar 16:9'],
  ])('GIVEN %s THEN it reads as --ar, and saved defaults know it was given', (_, text) => {
    expect(parseImagine(text)).toMatchObject({ prompt: 'fox', aspect: { w: 16, h: 9 } });
    expect(givenOptionNames(text).has('ar')).toBe(true);
  });

  it('GIVEN a single hyphen or a dash inside a word THEN it stays prompt text', () => {
    expect(parseImagine('fox -ar 16:9').prompt).toBe('fox -ar 16:9');
    expect(parseImagine('well—known fox').prompt).toBe('well—known fox');
  });

  it('GIVEN --no twice THEN both texts are kept', () => {
    expect(parseImagine('fox --no fog --no rain --seed 1').negativePrompt).toBe('fog, rain');
  });

  it('GIVEN slash-command options (numbers as numbers or strings) THEN they apply like inline ones', () => {
    const request = parseImagine('fox', { ar: '3:2', seed: 12, steps: '8', cfg: 2, chaos: '10', style: 'anime', size: 'small', lite: true, no: 'blur' });
    expect(request).toMatchObject({ aspect: { w: 3, h: 2 }, seed: 12, steps: 8, cfg: 2, chaos: 10, style: 'anime', size: 'small', lite: true, negativePrompt: 'blur' });
  });

  it('GIVEN dashes inside words THEN they stay in the prompt', () => {
    expect(parseImagine('rock--n--roll poster — retro --seed 1').prompt).toBe('rock--n--roll poster — retro');
  });

  it('GIVEN the alias --aspect THEN it means --ar', () => {
    expect(parseImagine('fox --aspect 4:5 --seed 1').aspect).toEqual({ w: 4, h: 5 });
  });
});

describe('parseImagine: every error path names the option and what is allowed', () => {
  it.each([
    ['fox --ar 0:5', '--ar 0:5: both sides must be 1–21, e.g. 16:9'],
    ['fox --ar 22:1', '--ar 22:1: both sides must be 1–21, e.g. 16:9'],
    ['fox --ar 21:2', '--ar 21:2: at most 4:1 either way (e.g. 4:1 or 1:4)'],
    ['fox --ar wide', '--ar wide: expected width:height in whole numbers, e.g. 16:9'],
    ['fox --ar', '--ar : expected width:height in whole numbers, e.g. 16:9'],
    ['fox --seed -1', '--seed -1: must be a whole number from 0 to 4294967295'],
    ['fox --seed 4294967296', '--seed 4294967296: must be a whole number from 0 to 4294967295'],
    ['fox --seed 1.5', '--seed 1.5: must be a whole number from 0 to 4294967295'],
    ['fox --steps 0', '--steps 0: must be a whole number from 1 to 100'],
    ['fox --steps', '--steps (empty): must be a whole number from 1 to 100'],
    ['fox --cfg 31', '--cfg 31: must be a number from 0 to 30'],
    ['fox --cfg x', '--cfg x: must be a number from 0 to 30'],
    ['fox --chaos 101', '--chaos 101: must be a whole number from 0 to 100'],
    ['fox --style nope', `--style nope: unknown style; choose one of ${STYLE_NAMES.join(', ')}`],
    ['fox --size huge', '--size huge: choose small, medium or large'],
    ['fox --lite please', '--lite takes no value (got "please"); write just --lite'],
    ['fox --no', '--no: give the things to leave out, e.g. --no text, watermark'],
    ['fox --foo 1', '--foo: unknown option; known options are --ar, --seed, --no, --steps, --cfg, --chaos, --style, --size, --lite, --iw, --strength'],
    ['fox --ar 1:1 --ar 2:3', '--ar: given twice; keep one'],
    ['--ar 1:1', 'prompt: describe the image before any --options, e.g. "a lighthouse at dusk --ar 16:9"'],
    ['   ', 'prompt: describe the image before any --options, e.g. "a lighthouse at dusk --ar 16:9"'],
  ])('GIVEN %j THEN the message is %j', (text, message) => {
    expect(problemsOf(text)).toContain(message);
  });

  it('GIVEN the same option inline and as a slash option THEN it says so', () => {
    expect(problemsOf('fox --seed 1', { seed: 2 })).toEqual(['--seed: given both in the prompt and as a command option; keep one']);
  });

  it('GIVEN a prompt over 2000 characters THEN the length is reported', () => {
    expect(problemsOf('a'.repeat(2001))).toEqual(['prompt: 2001 characters is too long; at most 2000']);
  });

  it('GIVEN a --no over 2000 characters THEN the length is reported', () => {
    expect(problemsOf(`fox --no ${'b'.repeat(2001)}`)).toEqual(['--no: 2001 characters is too long; at most 2000']);
  });

  it('GIVEN a long bad value THEN it is clipped in the message', () => {
    expect(problemsOf(`fox --size ${'x'.repeat(60)}`)[0]).toBe(`--size ${'x'.repeat(40)}…: choose small, medium or large`);
  });

  it('GIVEN a value longer than any option takes THEN it is refused by its length, clipped, before it is read', () => {
    expect(problemsOf(`fox --size ${'x'.repeat(100)}`)[0]).toBe(`--size ${'x'.repeat(40)}…: 100 characters is too long for this option; at most 64`);
  });

  it('GIVEN several problems THEN all are reported together, in one error', () => {
    const error = (() => { try { parseImagine('fox --ar 0:1 --seed x --chaos 500'); } catch (e) { return e; } })();
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as OptionsError).code).toBe('invalid_options');
    expect((error as OptionsError).problems.map((p) => p.option)).toEqual(['ar', 'seed', 'chaos']);
  });

  it('GIVEN pictures with the command THEN the prompt may be empty and --iw sets their weight (0–3)', () => {
    expect(parseImagine('--iw 0.5 --ar 3:2', {}, { imageCount: 2 })).toMatchObject({ prompt: '', imageWeight: 0.5, aspect: { w: 3, h: 2 } });
    expect(parseImagine('a fox', { iw: '2' }, { imageCount: 1 }).imageWeight).toBe(2);
    expect(parseImagine('a fox', {}, { imageCount: 1 }).imageWeight).toBeUndefined();
  });

  it('GIVEN --iw without a picture, out of range, or an empty prompt without pictures THEN each is refused by name', () => {
    expect(problemsOf('fox --iw 1')).toEqual(['--iw weighs image prompts: attach an image to the command for it to apply']);
    expect(() => parseImagine('fox --iw 4', {}, { imageCount: 1 })).toThrow(/--iw/);
    expect(() => parseImagine('fox --iw -1', {}, { imageCount: 1 })).toThrow(/--iw/);
    expect(problemsOf('--ar 3:2')[0]).toMatch(/^prompt: describe the image/);
  });
});

describe('parseImagine: properties', () => {
  const word = fc.stringMatching(/^[a-z]{1,10}$/);
  const promptArb = fc.array(word, { minLength: 1, maxLength: 8 }).map((words) => words.join(' '));

  it('GIVEN any valid option values THEN inline and slash forms give the same request', () => {
    fc.assert(
      fc.property(
        promptArb,
        fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 100 }),
        fc.constantFrom('small', 'medium', 'large'), fc.boolean(),
        (prompt, w, h, seed, steps, chaos, size, lite) => {
          const inline = parseImagine(`${prompt} --ar ${w}:${h} --seed ${seed} --steps ${steps} --chaos ${chaos} --size ${size}${lite ? ' --lite' : ''}`);
          const slash = parseImagine(prompt, { ar: `${w}:${h}`, seed, steps, chaos, size, lite });
          expect(inline).toEqual(slash);
          expect(inline).toMatchObject({ prompt, aspect: { w, h }, seed, steps, chaos, size, lite });
        },
      ),
    );
  });

  it('GIVEN any text at all THEN the parser returns a valid request or throws OptionsError, nothing else', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          const request = parseImagine(text, {}, { randomSeed: () => 1 });
          expect(request.prompt.length).toBeGreaterThan(0);
        } catch (error) {
          expect(error).toBeInstanceOf(OptionsError);
          expect((error as OptionsError).problems.length).toBeGreaterThan(0);
        }
      }),
    );
  });

  it('GIVEN text built from option tokens and words THEN the prompt never contains an option token', () => {
    const token = fc.oneof(word, fc.constantFrom('--ar 2:3', '--seed 5', '--lite', '—chaos 3', '--no fog'));
    fc.assert(
      fc.property(word, fc.array(token, { maxLength: 8 }), (first, rest) => {
        try {
          const request = parseImagine([first, ...rest].join(' '));
          expect(request.prompt).not.toMatch(/(^|\s)(--|—)[a-z]/);
        } catch (error) {
          expect(error).toBeInstanceOf(OptionsError);
        }
      }),
    );
  });
});
