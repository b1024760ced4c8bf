import { describe, expect, it } from 'vitest';
import { drawsStyle, modelNotes, unknownWords, type ModelGuide } from '../../core/model-notes.ts';
import { applyStyle } from '../../core/styles.ts';

const demo: ModelGuide = {
  vocabulary: { summary: 'the demo model draws shapes and colours', words: ['a', 'red', 'circle', 'on', 'blue', 'three', 'dots', 'the', 'left'] },
  styles: {},
};

describe('modelNotes (a small model says what it does not know)', () => {
  it('GIVEN a prompt with a word outside the vocabulary THEN the note names it politely', () => {
    expect(modelNotes({ prompt: 'a red cat on blue' }, demo)).toEqual(["the demo model draws shapes and colours; it doesn't know 'cat'"]);
  });

  it('GIVEN known words in any case and punctuation THEN no note', () => {
    expect(modelNotes({ prompt: 'A RED circle, on the left: blue!' }, demo)).toEqual([]);
  });

  it('GIVEN several unknown words, repeated THEN each is named once, at most three, the rest counted', () => {
    expect(unknownWords('cat astronaut cat sunset', new Set(demo.vocabulary!.words))).toEqual(['cat', 'astronaut', 'sunset']);
    expect(modelNotes({ prompt: 'cat astronaut' }, demo)[0]).toBe("the demo model draws shapes and colours; it doesn't know 'cat' or 'astronaut'");
    expect(modelNotes({ prompt: 'cat astronaut sunset moon ocean' }, demo)[0]).toBe("the demo model draws shapes and colours; it doesn't know 'cat', 'astronaut', 'sunset' and 2 more");
  });

  it('GIVEN a huge unknown word or bare numbers THEN the note stays short and numbers are not named', () => {
    const [note] = modelNotes({ prompt: `3 red ${'x'.repeat(5000)}` }, demo);
    expect(note!.length).toBeLessThan(120);
    expect(note).not.toContain("'3'");
  });

  it('GIVEN a model without a guide (real bundles) THEN no notes and every preset applies as written', () => {
    expect(modelNotes({ prompt: 'a cat', style: 'photo' }, undefined)).toEqual([]);
    expect(drawsStyle('photo', undefined)).toBe(true);
    expect(applyStyle({ prompt: 'fox', negativePrompt: '', style: 'photo' }).prompt).toContain('photograph');
  });

  it('GIVEN a style the model has no mapping for THEN it is said and not applied; a mapped one applies its mapping', () => {
    expect(modelNotes({ prompt: 'a red circle', style: 'photo' }, demo)).toEqual(["this model has no 'photo' style, so it was drawn without it"]);
    expect(applyStyle({ prompt: 'a red circle', negativePrompt: '', style: 'photo' }, demo.styles)).toEqual({ prompt: 'a red circle', negativePrompt: '' });
    const mapped = { watercolor: { promptSuffix: 'soft', negative: 'sharp' } };
    expect(applyStyle({ prompt: 'a red circle', negativePrompt: '', style: 'watercolor' }, mapped)).toEqual({ prompt: 'a red circle, soft', negativePrompt: 'sharp' });
    expect(modelNotes({ prompt: 'a red circle', style: 'watercolor' }, { styles: mapped })).toEqual([]);
  });
});
