/**
 * CLIP tokenizer: the 40 reference encodings of test/fixtures/vectors/clip-tokenizer (HF CLIPTokenizerFast, see its
 * README), plus vector-independent cases on a tiny hand-made vocabulary in the same format. The vectors live in the
 * tree: a missing file fails the suite (readFileSync throws) instead of skipping it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer, normalizeClipText, pretokenize } from '../../gpu-runner/cascade/tokenizer.ts';

const VECTORS = path.resolve(import.meta.dirname, '../fixtures/vectors/clip-tokenizer');
const CLIP = { maxLength: 77, bosId: 49406, eosId: 49407, padId: 49407 };

interface TokenizerCase {
  text: string;
  input_ids: number[];
  attention_mask: number[];
}

describe('ClipTokenizer on the reference CLIP vectors', async () => {
  const cases = (JSON.parse(readFileSync(path.join(VECTORS, 'cases.json'), 'utf8')) as { cases: TokenizerCase[] }).cases;
  const tokenizer = await ClipTokenizer.fromFiles(path.join(VECTORS, 'vocab.json'), path.join(VECTORS, 'merges.txt'), CLIP);

  it('GIVEN the vector file THEN it holds the 40 documented cases', () => {
    expect(cases).toHaveLength(40);
  });

  it.each(cases.map((c, i) => [i, JSON.stringify(c.text).slice(0, 60), c] as const))(
    'GIVEN case %i %s THEN ids and mask equal the reference',
    (_i, _label, c) => {
      const encoded = tokenizer.encode(c.text);
      expect(encoded.inputIds).toEqual(c.input_ids);
      expect(encoded.attentionMask).toEqual(c.attention_mask);
    },
  );

  it('GIVEN the same prompts twice (cached pieces) THEN the encodings are unchanged', () => {
    for (const c of cases) expect(tokenizer.encode(c.text).inputIds).toEqual(c.input_ids);
  });

  it('GIVEN a batch THEN encodeBatch rows equal encode() as int64', () => {
    const texts = cases.slice(0, 4).map((c) => c.text);
    const batch = tokenizer.encodeBatch(texts);
    expect(batch.dims).toEqual([4, 77]);
    texts.forEach((_text, row) => {
      expect(Array.from(batch.inputIds.subarray(row * 77, row * 77 + 77), Number)).toEqual(cases[row]!.input_ids);
      expect(Array.from(batch.attentionMask.subarray(row * 77, row * 77 + 77), Number)).toEqual(cases[row]!.attention_mask);
    });
  });
});

describe('normalizeClipText', () => {
  it('GIVEN upper-case sigma anywhere THEN it always becomes σ (no final ς, unlike toLowerCase)', () => {
    expect('ΟΔΟΣ'.toLowerCase()).toBe('οδος');
    expect(normalizeClipText('ΟΔΟΣ')).toBe('οδοσ');
  });
  it('GIVEN dotted capital I THEN it becomes i + U+0307', () => {
    expect(normalizeClipText('İ')).toBe('i\u0307');
  });
  it('GIVEN decomposed text THEN it is composed (NFC) before lower-casing', () => {
    expect(normalizeClipText('Cafe\u0301')).toBe('caf\u00e9');
  });
  it('GIVEN whitespace runs incl. NBSP, U+3000, U+2028, U+0085 THEN each run is one space, U+200B/U+FEFF stay', () => {
    expect(normalizeClipText('a\u00a0\u00a0b\u3000c\u2028d\u0085e\t\r\nf')).toBe('a b c d e f');
    expect(normalizeClipText('a\u200bb\ufeffc')).toBe('a\u200bb\ufeffc');
  });
});

describe('pretokenize', () => {
  it('GIVEN contractions, digits and punctuation THEN pieces follow the CLIP pattern', () => {
    expect(pretokenize("it's 2024, y'all'd!")).toEqual(['it', "'s", '2', '0', '2', '4', ',', 'y', "'", 'all', "'d", '!']);
  });
  it('GIVEN combining marks THEN they are not letters and split off', () => {
    expect(pretokenize('e\u0301t\u00e9')).toEqual(['e', '\u0301', 't\u00e9']);
  });
});

describe('ClipTokenizer with a tiny custom vocabulary', () => {
  // Byte-level symbols only for the letters used, plus two merges: "a b" and "ab c</w>".
  const vocab: Record<string, number> = { a: 0, b: 1, c: 2, 'a</w>': 3, 'c</w>': 4, ab: 5, 'abc</w>': 6, '<|startoftext|>': 7, '<|endoftext|>': 8, '!</w>': 9 };
  const merges = ['#version: 0.2', 'a b', 'ab c</w>'];
  const tok = ClipTokenizer.fromData(vocab, merges, { maxLength: 6, bosId: 7, eosId: 8, padId: 8 });

  it('GIVEN a mergeable word THEN merges apply by rank and </w> marks the word end', () => {
    expect(tok.encode('ABC a').inputIds).toEqual([7, 6, 3, 8, 8, 8]);
    expect(tok.encode('ABC a').attentionMask).toEqual([1, 1, 1, 1, 0, 0]);
  });
  it('GIVEN more tokens than fit THEN content is cut to maxLength − 2 and eos ends the row without padding', () => {
    expect(tok.encode('a a a a a').inputIds).toEqual([7, 3, 3, 3, 3, 8]);
    expect(tok.encode('a a a a a').attentionMask).toEqual([1, 1, 1, 1, 1, 1]);
  });
  it('GIVEN empty or whitespace-only text THEN [bos, eos, pad…] with mask [1, 1, 0…]', () => {
    for (const text of ['', ' ', '\n\t\u3000']) {
      expect(tok.encode(text)).toEqual({ inputIds: [7, 8, 8, 8, 8, 8], attentionMask: [1, 1, 0, 0, 0, 0] });
    }
  });
  it('GIVEN a symbol missing from the vocabulary THEN it maps to unk (eos by default)', () => {
    expect(tok.encode('z').inputIds.slice(0, 3)).toEqual([7, 8, 8]);
    expect(tok.encode('z').attentionMask.slice(0, 3)).toEqual([1, 1, 1]);
  });
  it('GIVEN literal special-token text THEN it maps to the special id, unnormalised (HF added-token matching)', () => {
    expect(tok.encode('a<|endoftext|>c').inputIds).toEqual([7, 3, 8, 4, 8, 8]);
    expect(tok.encode('a<|endoftext|>c').attentionMask).toEqual([1, 1, 1, 1, 1, 0]);
    expect(tok.tokenize('<|endoftext|>')).toEqual([8]);
    expect(tok.tokenize('<|ENDOFTEXT|>').length).toBeGreaterThan(1); // matched before lower-casing, so not special
  });
  it('GIVEN a pad id different from eos THEN padding uses it while the first eos stays in the mask', () => {
    const padded = ClipTokenizer.fromData(vocab, merges, { maxLength: 5, bosId: 7, eosId: 8, padId: 0 });
    expect(padded.encode('c!')).toEqual({ inputIds: [7, 4, 9, 8, 0], attentionMask: [1, 1, 1, 1, 0] });
  });
  it('GIVEN bad data THEN construction fails with a specific message', () => {
    expect(() => ClipTokenizer.fromData(vocab, ['a b c'], { maxLength: 6, bosId: 7, eosId: 8, padId: 8 })).toThrow(/merges line 1/);
    expect(() => ClipTokenizer.fromData(vocab, merges, { maxLength: 6, bosId: 70, eosId: 8, padId: 8 })).toThrow(/bosId 70/);
    expect(() => ClipTokenizer.fromData(vocab, merges, { maxLength: 1, bosId: 7, eosId: 8, padId: 8 })).toThrow(/maxLength/);
  });
  it('GIVEN missing files THEN fromFiles names the path', async () => {
    await expect(ClipTokenizer.fromFiles('/nonexistent/vocab.json', '/nonexistent/merges.txt', { maxLength: 6, bosId: 7, eosId: 8, padId: 8 })).rejects.toThrow(/\/nonexistent\//);
  });
});
