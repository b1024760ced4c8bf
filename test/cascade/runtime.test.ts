/** runtime.ts: float16 conversion, the checks run before onnxruntime sees a feed, execution-provider availability, and the fixture's fp16 graphs loading on the CPU provider. */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromFloat16, ModelSession, providerSupport, ProviderUnavailableError, tensor, toFloat16, type Tensor } from '../../gpu-runner/cascade/runtime.ts';
import { FIXTURE_DIR } from './fixture.ts';

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

describe('GIVEN the execution providers of this onnxruntime-node install', () => {
  const bindingDir = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  const cudaInstalled = existsSync(join(bindingDir, 'libonnxruntime_providers_cuda.so'));

  it('THEN cpu is available and cuda is available exactly when its provider library was installed beside the binding', () => {
    expect(providerSupport('cpu')).toEqual({ provider: 'cpu', available: true, detail: '' });
    const cuda = providerSupport('cuda');
    expect(cuda.available).toBe(cudaInstalled);
    if (!cudaInstalled) expect(cuda.detail).toMatch(/libonnxruntime_providers_cuda\.so is missing .* ONNXRUNTIME_NODE_INSTALL=true/);
  });

  it.skipIf(cudaInstalled)('WHEN cuda is asked for without its provider library THEN opening a graph says so before onnxruntime runs', async () => {
    const error = await ModelSession.open(`${FIXTURE_DIR}/vqgan_decoder.onnx`, { provider: 'cuda', label: 'vqgan' }).then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(String(error)).toMatch(/execution provider cuda is not available: onnxruntime-node's cuda provider is not installed/);
  });
});

describe.runIf(existsSync('/proc/self/status'))('GIVEN cpuThreads for a CPU session (Linux: threads counted in /proc)', () => {
  const threads = async () => Number(/Threads:\s+(\d+)/.exec(await readFile('/proc/self/status', 'utf8'))![1]);
  it('THEN onnxruntime starts that many intra-op threads less the calling one, whatever the machine has', async () => {
    const file = join(FIXTURE_DIR, 'vqgan_decoder.onnx');
    // A first session starts the threads every session shares (e.g. the addon's), so the counts below are only the pool's.
    const first = await ModelSession.open(file, { provider: 'cpu' });
    const added: Record<number, number> = {};
    for (const cpuThreads of [1, 3]) {
      const before = await threads();
      const session = await ModelSession.open(file, { provider: 'cpu', cpuThreads });
      added[cpuThreads] = (await threads()) - before;
      await session.release();
    }
    await first.release();
    expect(added).toEqual({ 1: 0, 3: 2 });
  });
});

describe('GIVEN the fp16 graphs of the fixture (test/fixtures/cascade-tiny/*.fp16.onnx)', () => {
  // Stage B, Stage A and the text encoder: text_encoder.fp16.onnx is the fixture's text_encoder.onnx through the
  // exporter's float16 conversion (make_fixture.py --text-encoder-fp16-only; issue #25: a float16 text encoder traced by
  // the TorchScript exporter did not load).
  it('THEN each loads on the CPU provider with float16 I/O and runs to finite outputs close to its float32 graph', async () => {
    const files = (await readdir(FIXTURE_DIR)).filter((f) => f.endsWith('.fp16.onnx')).sort();
    expect(files).toEqual(['decoder.fp16.onnx', 'text_encoder.fp16.onnx', 'vqgan_decoder.fp16.onnx']);
    for (const file of files) {
      const fp16 = await ModelSession.open(join(FIXTURE_DIR, file), { provider: 'cpu', label: file });
      const fp32 = await ModelSession.open(join(FIXTURE_DIR, file.replace('.fp16.onnx', '.onnx')), { provider: 'cpu', label: file });
      const feeds16: Record<string, Tensor> = {};
      const feeds32: Record<string, Tensor> = {};
      for (const input of fp32.inputs) {
        const dims = input.shape.map((d, axis) => (typeof d === 'number' ? d : axis === 0 ? 1 : 16));
        if (input.type === 'int64') {
          // Text encoder: token ids below the fixture's vocabulary size (2514), attention mask all ones.
          const ids = BigInt64Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => BigInt(input.name === 'attention_mask' ? 1 : (i * 37) % 2500));
          feeds32[input.name] = feeds16[input.name] = tensor(ids, dims);
          continue;
        }
        const values = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => (input.name === 'timestep_ratio' ? 0.5 : Math.sin(i * 0.37) * 0.8));
        feeds32[input.name] = tensor(values, dims);
        const type = fp16.inputs.find((i) => i.name === input.name)?.type;
        feeds16[input.name] = type === 'float16' ? tensor(toFloat16(values), dims) : tensor(values, dims);
      }
      expect([...fp16.inputs, ...fp16.outputs].some((i) => i.type === 'float16'), file).toBe(true);
      const want = await fp32.run(feeds32);
      const got = await fp16.run(feeds16);
      for (const [name, value] of Object.entries(want)) {
        const out = got[name]!;
        const floats = out.data instanceof Uint16Array ? fromFloat16(out.data) : (out.data as Float32Array);
        expect(floats.every(Number.isFinite), `${file} ${name}`).toBe(true);
        const scale = (value.data as Float32Array).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        let worst = 0;
        (value.data as Float32Array).forEach((v, i) => (worst = Math.max(worst, Math.abs(v - floats[i]!))));
        expect(worst / (1 + scale), `${file} ${name}`).toBeLessThan(2e-2);
      }
      await Promise.all([fp16.release(), fp32.release()]);
    }
  });
});
