/**
 * CLIP byte-level BPE tokenizer, reading a bundle's `vocab.json` + `merges.txt`.
 *
 * It reproduces Hugging Face's `CLIPTokenizerFast` (tokenizers 0.23) as pinned down by
 * `shared/vectors/clip-tokenizer/README.md`, not OpenAI's original Python tokenizer (no ftfy, no HTML unescaping):
 * 1. literal special tokens (`<|startoftext|>`, `<|endoftext|>`, i.e. the vocab entries of bosId/eosId) are split out of
 *    the raw text first and map to their ids, as HF's added-token matching does;
 * 2. each remaining segment: Unicode NFC, every run of White_Space (incl. NBSP, U+0085, U+2028, U+3000; not U+200B or
 *    U+FEFF) → one space, per-code-point lower-casing (`Σ` always → `σ`; JavaScript's `toLowerCase()` on a whole string
 *    would apply the final-sigma rule instead);
 * 3. pre-tokenisation by PRETOKEN_PATTERN (contractions, letter runs, single digits, runs of other non-space
 *    characters; spaces dropped);
 * 4. each piece → UTF-8 bytes → `bytes_to_unicode()` characters, `</w>` appended to the last one, merges applied by rank;
 * 5. `[bos, …at most maxLength − 2 tokens…, eos]`, padded with padId to maxLength; the mask is 1 up to and including eos.
 *
 * Port of https://github.com/huggingface/tokenizers/blob/v0.23.2/tokenizers/src/models/bpe/model.rs (merge loop) and
 * https://github.com/openai/CLIP/blob/a1d0717/clip/simple_tokenizer.py (`bytes_to_unicode`).
 * BPE results are cached per piece (bounded, cleared when full), so repeated words cost one map lookup.
 *
 * @example
 *   const tok = await ClipTokenizer.fromFiles('bundle/vocab.json', 'bundle/merges.txt',
 *     { maxLength: 77, bosId: 49406, eosId: 49407, padId: 49407 });
 *   tok.encode('a photo').inputIds; // [49406, 320, 1125, 49407, 49407, …] (77 ids)
 */
import { readFile } from 'node:fs/promises';

export interface ClipTokenizerOptions {
  /** Total length including bos and eos (77 for CLIP). */
  maxLength: number;
  bosId: number;
  eosId: number;
  padId: number;
  /** Id for a symbol missing from the vocabulary (HF's unk); defaults to eosId as in CLIP. */
  unkId?: number;
}

export interface EncodedText {
  inputIds: number[];
  attentionMask: number[];
}

export interface EncodedBatch {
  /** [texts.length, maxLength], row-major, ready for the text encoder's int64 `input_ids`. */
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  dims: [number, number];
}

/** HF CLIP's split pattern; `\s` is Unicode White_Space as in Oniguruma (JavaScript's `\s` differs on U+0085/U+FEFF). */
const PRETOKEN_PATTERN =
  /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\p{White_Space}\p{L}\p{N}]+/gu;
const WHITESPACE_RUN = /\p{White_Space}+/gu;
const END_OF_WORD = '</w>';
const MAX_CACHED_PIECES = 20_000;

/** GPT-2/CLIP `bytes_to_unicode()`: printable bytes map to themselves, the others to U+0100 upwards. */
function byteToUnicodeTable(): string[] {
  const table: string[] = new Array<string>(256);
  const isPrintable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(isPrintable(b) ? b : 256 + next++);
  return table;
}
const BYTE_TO_UNICODE = byteToUnicodeTable();
const utf8 = new TextEncoder();

/** Normalisation of step 2 above. */
export function normalizeClipText(text: string): string {
  // Σ is the only letter whose JavaScript lower-casing depends on context (Final_Sigma); map it first so every code
  // point is lowered on its own, as Rust's char::to_lowercase does (İ → i + U+0307 is context-free in both).
  return text.normalize('NFC').replace(WHITESPACE_RUN, ' ').replaceAll('\u03a3', '\u03c3').toLowerCase();
}

/** Pieces of step 3 above (before byte mapping). */
export function pretokenize(normalized: string): string[] {
  return normalized.match(PRETOKEN_PATTERN) ?? [];
}

export class ClipTokenizer {
  private readonly pieceCache = new Map<string, readonly number[]>();
  private readonly specialTokens: ReadonlyMap<string, number>;
  private readonly specialSplitter: RegExp | undefined;
  private readonly unkId: number;
  private readonly vocab: ReadonlyMap<string, number>;
  /** "left right" → rank. */
  private readonly mergeRanks: ReadonlyMap<string, number>;
  readonly options: Readonly<ClipTokenizerOptions>;

  private constructor(
    vocab: ReadonlyMap<string, number>,
    mergeRanks: ReadonlyMap<string, number>,
    options: Readonly<ClipTokenizerOptions>,
  ) {
    this.vocab = vocab;
    this.mergeRanks = mergeRanks;
    this.options = options;
    if (!Number.isInteger(options.maxLength) || options.maxLength < 2) {
      throw new Error(`ClipTokenizer: maxLength must be an integer ≥ 2 (room for bos and eos), got ${options.maxLength}`);
    }
    this.unkId = options.unkId ?? options.eosId;
    const special = new Map<string, number>();
    for (const [token, id] of vocab) {
      if (id === options.bosId || id === options.eosId) special.set(token, id);
    }
    this.specialTokens = special;
    this.specialSplitter = special.size
      ? new RegExp(`(${[...special.keys()].map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`, 'u')
      : undefined;
  }

  static async fromFiles(vocabPath: string, mergesPath: string, opts: ClipTokenizerOptions): Promise<ClipTokenizer> {
    const [vocabText, mergesText] = await Promise.all([
      readFile(vocabPath, 'utf8').catch((err: unknown) => {
        throw new Error(`ClipTokenizer: cannot read vocabulary ${vocabPath}: ${String(err)}`);
      }),
      readFile(mergesPath, 'utf8').catch((err: unknown) => {
        throw new Error(`ClipTokenizer: cannot read merges ${mergesPath}: ${String(err)}`);
      }),
    ]);
    let vocab: unknown;
    try {
      vocab = JSON.parse(vocabText);
    } catch (err) {
      throw new Error(`ClipTokenizer: ${vocabPath} is not valid JSON: ${String(err)}`, { cause: err });
    }
    if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) {
      throw new Error(`ClipTokenizer: ${vocabPath} must hold a JSON object of token → id`);
    }
    return ClipTokenizer.fromData(vocab as Record<string, number>, mergesText.split(/\r?\n/), opts);
  }

  /**
   * @param merges lines of `merges.txt` in rank order; a `#version` header and blank lines are skipped.
   */
  static fromData(vocab: Record<string, number>, merges: readonly string[], opts: ClipTokenizerOptions): ClipTokenizer {
    const vocabMap = new Map<string, number>();
    for (const [token, id] of Object.entries(vocab)) {
      if (!Number.isInteger(id) || id < 0) throw new Error(`ClipTokenizer: vocabulary id of ${JSON.stringify(token)} must be a non-negative integer, got ${String(id)}`);
      vocabMap.set(token, id);
    }
    const ids = new Set(vocabMap.values());
    for (const key of ['bosId', 'eosId', 'padId'] as const) {
      if (!ids.has(opts[key])) throw new Error(`ClipTokenizer: ${key} ${opts[key]} is not an id of the vocabulary (${vocabMap.size} entries)`);
    }
    const ranks = new Map<string, number>();
    merges.forEach((line, lineIndex) => {
      if (line === '' || (lineIndex === 0 && line.startsWith('#version'))) return;
      const parts = line.split(' ');
      if (parts.length !== 2 || !parts[0] || !parts[1]) {
        throw new Error(`ClipTokenizer: merges line ${lineIndex + 1} must be "left right", got ${JSON.stringify(line)}`);
      }
      const pair = `${parts[0]} ${parts[1]}`;
      if (!ranks.has(pair)) ranks.set(pair, ranks.size);
    });
    return new ClipTokenizer(vocabMap, ranks, { ...opts });
  }

  /** Ids (padded/truncated to maxLength) and attention mask of one prompt. */
  encode(text: string): EncodedText {
    const { maxLength, bosId, eosId, padId } = this.options;
    const content = this.tokenize(text, maxLength - 2);
    const inputIds = [bosId, ...content, eosId];
    const attentionMask = new Array<number>(inputIds.length).fill(1);
    while (inputIds.length < maxLength) {
      inputIds.push(padId);
      attentionMask.push(0);
    }
    return { inputIds, attentionMask };
  }

  /** Several prompts as one int64 batch, row i = encode(texts[i]). */
  encodeBatch(texts: readonly string[]): EncodedBatch {
    const length = this.options.maxLength;
    const inputIds = new BigInt64Array(texts.length * length);
    const attentionMask = new BigInt64Array(texts.length * length);
    texts.forEach((text, row) => {
      const encoded = this.encode(text);
      for (let j = 0; j < length; j++) {
        inputIds[row * length + j] = BigInt(encoded.inputIds[j] ?? 0);
        attentionMask[row * length + j] = BigInt(encoded.attentionMask[j] ?? 0);
      }
    });
    return { inputIds, attentionMask, dims: [texts.length, length] };
  }

  /** Content token ids (no bos/eos), at most `limit` of them. */
  tokenize(text: string, limit = Number.POSITIVE_INFINITY): number[] {
    const out: number[] = [];
    const segments = this.specialSplitter ? text.split(this.specialSplitter) : [text];
    for (let s = 0; s < segments.length && out.length < limit; s++) {
      const segment = segments[s] ?? '';
      // split() with a capture group puts the separators at odd indices.
      const specialId = s % 2 === 1 ? this.specialTokens.get(segment) : undefined;
      if (specialId !== undefined) {
        out.push(specialId);
        continue;
      }
      for (const piece of pretokenize(normalizeClipText(segment))) {
        for (const id of this.encodePiece(piece)) {
          if (out.length >= limit) return out;
          out.push(id);
        }
      }
    }
    return out;
  }

  private encodePiece(piece: string): readonly number[] {
    const cached = this.pieceCache.get(piece);
    if (cached) return cached;
    const symbols: string[] = [];
    for (const byte of utf8.encode(piece)) symbols.push(BYTE_TO_UNICODE[byte] ?? '');
    symbols[symbols.length - 1] += END_OF_WORD;
    const ids = this.mergeByRank(symbols).map((symbol) => this.vocab.get(symbol) ?? this.unkId);
    if (this.pieceCache.size >= MAX_CACHED_PIECES) this.pieceCache.clear();
    this.pieceCache.set(piece, ids);
    return ids;
  }

  /** Repeatedly merges the adjacent pair of lowest rank (all its occurrences, left to right) until none is mergeable. */
  private mergeByRank(symbols: string[]): string[] {
    let word = symbols;
    while (word.length > 1) {
      let bestRank = Number.POSITIVE_INFINITY;
      let bestLeft = '';
      let bestRight = '';
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = this.mergeRanks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          bestLeft = word[i] ?? '';
          bestRight = word[i + 1] ?? '';
        }
      }
      if (bestRank === Number.POSITIVE_INFINITY) break;
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i + 1 < word.length && word[i] === bestLeft && word[i + 1] === bestRight) {
          merged.push(bestLeft + bestRight);
          i++;
        } else {
          merged.push(word[i] ?? '');
        }
      }
      word = merged;
    }
    return word;
  }
}
