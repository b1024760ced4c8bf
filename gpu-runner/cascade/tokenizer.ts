/**
 * CLIP byte-level BPE tokenizer (stub: API only, implementation follows).
 */
export interface ClipTokenizerOptions {
  maxLength: number;
  bosId: number;
  eosId: number;
  padId: number;
}

export interface EncodedText {
  inputIds: number[];
  attentionMask: number[];
}

export interface EncodedBatch {
  /** [texts.length, maxLength], row-major, as the text encoder's int64 `input_ids`. */
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  dims: [number, number];
}

export class ClipTokenizer {
  private constructor(
    private readonly vocab: Map<string, number>,
    private readonly merges: string[],
    readonly options: ClipTokenizerOptions,
  ) {}

  static async fromFiles(vocabPath: string, mergesPath: string, opts: ClipTokenizerOptions): Promise<ClipTokenizer> {
    void vocabPath;
    void mergesPath;
    return ClipTokenizer.fromData({}, [], opts);
  }

  static fromData(vocab: Record<string, number>, merges: string[], opts: ClipTokenizerOptions): ClipTokenizer {
    return new ClipTokenizer(new Map(Object.entries(vocab)), merges, opts);
  }

  encode(text: string): EncodedText {
    void text;
    void this.vocab;
    void this.merges;
    throw new Error('ClipTokenizer.encode: not implemented yet');
  }

  encodeBatch(texts: readonly string[]): EncodedBatch {
    void texts;
    throw new Error('ClipTokenizer.encodeBatch: not implemented yet');
  }
}
