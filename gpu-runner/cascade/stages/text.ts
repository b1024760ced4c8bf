/**
 * Prompts → CLIP conditioning (spec §2.2): `hidden_state_last` (hidden_states[-1], pre-final-LN) [n, 77, H] and the
 * pooled, projected EOS embedding [n, P], from one text-encoder call over all prompts, attention mask included.
 */
import type { Manifest } from '../manifest.ts';
import { tensor } from '../runtime.ts';
import type { SessionPool } from '../sessions.ts';
import type { ClipTokenizer } from '../tokenizer.ts';
import { asFloat32 } from './io.ts';

export interface TextEmbeddings {
  count: number;
  tokens: number;
  hiddenSize: number;
  pooledSize: number;
  /** [count, tokens, hiddenSize] */
  hidden: Float32Array;
  /** [count, pooledSize] */
  pooled: Float32Array;
}

export async function encodeText(pool: SessionPool, m: Manifest, tokenizer: ClipTokenizer, texts: readonly string[]): Promise<TextEmbeddings> {
  const te = m.textEncoder;
  const batch = tokenizer.encodeBatch(texts);
  const session = await pool.get('textEncoder');
  const out = await session.run({
    [te.inputs.inputIds]: tensor(batch.inputIds, batch.dims),
    [te.inputs.attentionMask]: tensor(batch.attentionMask, batch.dims),
  });
  await pool.done('textEncoder');
  const hidden = out[te.outputs.hidden];
  const pooled = out[te.outputs.pooled];
  if (!hidden || !pooled) throw new Error('text encoder returned no hidden or pooled output');
  const [count, tokens, hiddenSize] = hidden.dims;
  if (count !== texts.length || tokens !== batch.dims[1] || hiddenSize !== te.hiddenSize || pooled.dims.at(-1) !== te.pooledSize) {
    throw new Error(
      `text encoder output shapes hidden [${hidden.dims.join(', ')}] pooled [${pooled.dims.join(', ')}] do not match ` +
        `${texts.length} prompts × ${batch.dims[1]} tokens, hiddenSize ${te.hiddenSize}, pooledSize ${te.pooledSize}`,
    );
  }
  return { count, tokens, hiddenSize, pooledSize: te.pooledSize, hidden: Float32Array.from(asFloat32(hidden)), pooled: Float32Array.from(asFloat32(pooled)) };
}

/** Row `index` of an embedding batch as its own TextEmbeddings (no copy). */
export function embeddingRow(e: TextEmbeddings, index: number): TextEmbeddings {
  const h = e.tokens * e.hiddenSize;
  return {
    ...e,
    count: 1,
    hidden: e.hidden.subarray(index * h, (index + 1) * h),
    pooled: e.pooled.subarray(index * e.pooledSize, (index + 1) * e.pooledSize),
  };
}
