/** runtime.ts: float16 conversion and the checks run before onnxruntime sees a feed. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromFloat16, ModelSession, tensor, toFloat16 } from '../../gpu-runner/cascade/runtime.js';
import { FIXTURE_DIR } from './fixture.js';

describe('GIVEN float32 values', () => {
  it('THEN toFloat16 gives the IEEE binary16 bits, rounding to nearest even', () => {
    const cases: [number, number][] = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
      [65520, 0x7c00], // halfway to the next (non-existent) value rounds to even → infinity
      [65519, 0x7bff], [Infinity, 0x7c00], [-Infinity, 0xfc00],
      [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -25, 0x0002], // smallest subnormal; tie → even
      [6.103515625e-5, 0x0400], // smallest normal
      [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], // ties to even within the normal range
      [0.1, 0x2e66], [1e-9, 0x0000],
    ];
    const out = toFloat16(Float32Array.from(cases.map(([value]) => value)));
    expect([...out].map((bits) => bits.toString(16))).toEqual(cases.map(([, bits]) => bits.toString(16)));
    expect(toFloat16(Float32Array.of(Number.NaN))[0]! & 0x7c00).toBe(0x7c00);
  });

  it('THEN every non-NaN float16 survives fromFloat16 → toFloat16 unchanged', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = toFloat16(fromFloat16(all));
    const mismatches = [...all].filter((bits, i) => ((bits & 0x7c00) !== 0x7c00 || (bits & 0x3ff) === 0) && back[i] !== bits);
    expect(mismatches).toEqual([]);
  });
});

describe('GIVEN a session on the fixture Stage A graph', () => {
  let session: ModelSession;
  beforeAll(async () => {
    session = await ModelSession.open(`${FIXTURE_DIR}/vqgan_decoder.onnx`, { provider: 'cpu', label: 'vqgan' });
  });
  afterAll(async () => {
    await session.release();
  });

  it('THEN it reports its inputs and outputs', () => {
    expect(session.inputs.map((i) => [i.name, i.type])).toEqual([['latents', 'float32']]);
    expect(session.outputs.map((o) => [o.name, o.type])).toEqual([['image', 'float32']]);
  });

  it('WHEN an input is missing, extra or of the wrong dtype THEN the error names it and lists the feeds', async () => {
    await expect(session.run({})).rejects.toThrow(/vqgan: bad feeds: missing input latents \(float32\)/);
    await expect(session.run({ latents: tensor(new Uint16Array(64), [1, 4, 4, 4]) })).rejects.toThrow(
      /input latents must be float32, got float16.*Fed latents: float16 \[1, 4, 4, 4\]/,
    );
    await expect(session.run({ latents: tensor(new Float32Array(64), [1, 4, 4, 4]), extra: tensor(new Float32Array(1), [1]) })).rejects.toThrow(
      /unexpected input extra/,
    );
  });

  it('WHEN onnxruntime rejects a shape THEN the error gives each input name, dtype and dims', async () => {
    await expect(session.run({ latents: tensor(new Float32Array(5 * 4 * 4), [1, 5, 4, 4]) })).rejects.toThrow(
      /vqgan: onnxruntime failed .*inputs were latents: float32 \[1, 5, 4, 4\]/s,
    );
  });

  it('WHEN an output buffer is lent THEN onnxruntime writes into it', async () => {
    const image = new Float32Array(3 * 16 * 16);
    const out = await session.run({ latents: tensor(new Float32Array(64).fill(0.2), [1, 4, 4, 4]) }, { image: tensor(image, [1, 3, 16, 16]) });
    expect(out.image!.data).toBe(image);
    expect(image.some((v) => v !== 0)).toBe(true);
  });

  it('WHEN released THEN running it is an error, not a crash', async () => {
    const other = await ModelSession.open(`${FIXTURE_DIR}/vqgan_decoder.onnx`, { provider: 'cpu', label: 'vqgan-2' });
    await other.release();
    await expect(other.run({ latents: tensor(new Float32Array(64), [1, 4, 4, 4]) })).rejects.toThrow(/vqgan-2: session was released/);
  });

  it('WHEN a graph cannot be opened THEN the error names the provider and the file', async () => {
    await expect(ModelSession.open(`${FIXTURE_DIR}/missing.onnx`, { provider: 'cpu', label: 'prior' })).rejects.toThrow(/prior: cannot open .*missing\.onnx with the cpu execution provider/);
  });
});
