import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { attentionChain, linearChain, parseShaderDumps, quantize8, randomValues, type CaseGraph, type Form } from '../../bench/webgpu-matmul.ts';
import { buildModel } from '../../bench/support/onnx-graph.ts';
import { graphInputShapes } from '../../gpu-runner/cascade/onnx-dims.ts';
import { fromFloat16, toFloat16 } from '../../gpu-runner/cascade/runtime.ts';

/** Runs a built graph on onnxruntime's CPU provider and returns output y as float32. */
async function runCpu(g: CaseGraph): Promise<{ y: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(buildModel(g.spec), { executionProviders: ['cpu'], logSeverityLevel: 3 });
  try {
    const feeds = Object.fromEntries(Object.entries(g.feeds).map(([k, v]) => [k, new ort.Tensor(v.type, v.data, v.dims)]));
    const y = (await session.run(feeds)).y!;
    const data = y.data as Float32Array | Uint16Array;
    return { y: data instanceof Uint16Array ? fromFloat16(data) : data, dims: y.dims };
  } finally {
    await session.release();
  }
}

/** a [m,k] · b [k,n] (or bᵀ when b is [n,k] and transB) in float64. */
function matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transB: boolean): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * (transB ? b[j * k + p]! : b[p * n + j]!);
      out[i * n + j] = s;
    }
  return out;
}

const half = (v: Float32Array) => fromFloat16(toFloat16(v));

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('bench/support/onnx-graph.ts: ONNX graphs built in memory', () => {
  it('writes a Gemm (transB=1, bias) that onnxruntime opens and computes as x·Wᵀ + b', async () => {
    const [m, k, n] = [3, 5, 4];
    const x = randomValues(m * k, 1, 1);
    const w = randomValues(n * k, 2, 1);
    const b = randomValues(n, 3, 1);
    const bytes = buildModel({
      name: 'gemm',
      inputs: [{ name: 'x', type: 'float32', dims: [m, k] }],
      outputs: [{ name: 'y', type: 'float32', dims: [m, n] }],
      initializers: [
        { name: 'w', type: 'float32', dims: [n, k], data: w },
        { name: 'b', type: 'float32', dims: [n], data: b },
      ],
      nodes: [{ op: 'Gemm', inputs: ['x', 'w', 'b'], outputs: ['y'], ints: { transB: 1 }, floats: { alpha: 2 } }],
    });
    expect(graphInputShapes(bytes)).toEqual(new Map([['x', [m, k]]]));
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], logSeverityLevel: 3 });
    const y = (await session.run({ x: new ort.Tensor('float32', x, [m, k]) })).y!;
    await session.release();
    const ref = matmul(x, w, m, k, n, true).map((v, i) => 2 * v + b[i % n]!);
    expect(y.dims).toEqual([m, n]);
    expect(maxDiff(y.data as Float32Array, ref)).toBeLessThan(1e-5);
  });

  it('builds the benchmark MLP chain in every form with the same result as a JS reference (fp16 weights)', async () => {
    const [batch, tokens, widths] = [2, 3, [8, 16, 8]] as const;
    const rows = batch * tokens;
    // The builder's draws: x seed 7, layer i weight seed 1000·(i+1) scaled 1/√k, bias seed + 1 scaled 0.1; fp16-rounded.
    let h = half(randomValues(rows * widths[0], 7, 1));
    for (let layer = 0; layer < 2; layer++) {
      for (let i = 0; i + 1 < widths.length; i++) {
        const [k, n] = [widths[i]!, widths[i + 1]!];
        const w = half(randomValues(n * k, 1000 * (i + 1), 1 / Math.sqrt(k)));
        const b = half(randomValues(n, 1000 * (i + 1) + 1, 0.1));
        h = half(matmul(h, w, rows, k, n, true).map((v, j) => v + b[j % n]!));
      }
    }
    for (const form of ['gemm', 'gemm-kn', 'matmul-add', 'matmul-3d'] satisfies Form[]) {
      const g = linearChain(`t ${form}`, 'mlp', form, 'float16', batch, tokens, widths, 2);
      expect(g.flops).toBe(2 * 2 * rows * (8 * 16 + 16 * 8));
      const { y, dims } = await runCpu(g);
      expect(dims).toEqual(form === 'matmul-3d' ? [batch, tokens, 8] : [rows, 8]);
      expect(maxDiff(y, h), form).toBeLessThan(0.02);
    }
  });

  it('builds MatMulNBits (com.microsoft, 8-bit, blocks of 32) that onnxruntime computes as x · dequantized Wᵀ', async () => {
    const [batch, tokens, widths] = [1, 4, [64, 96, 64]] as const;
    const rows = batch * tokens;
    let h = half(randomValues(rows * widths[0], 7, 1));
    for (let layer = 0; layer < 2; layer++) {
      for (let i = 0; i + 1 < widths.length; i++) {
        const [k, n] = [widths[i]!, widths[i + 1]!];
        const w = randomValues(n * k, 1000 * (i + 1), 1 / Math.sqrt(k));
        const q = quantize8(w, n, k);
        const dequantized = Float32Array.from(q.data, (v, j) => (v - 128) * half(q.scales)[Math.floor(j / 32)]!);
        expect(maxDiff(dequantized, w)).toBeLessThan(Math.max(...q.scales)); // half a step, plus the fp16 scale's rounding
        h = half(matmul(h, dequantized, rows, k, n, true));
      }
    }
    const g = linearChain('t nbits8', 'mlp', 'nbits8', 'float16', batch, tokens, widths, 2);
    expect(g.spec.nodes.map((n) => `${n.domain}:${n.op}`)).toEqual(Array(4).fill('com.microsoft:MatMulNBits'));
    const { y } = await runCpu(g);
    expect(maxDiff(y, h)).toBeLessThan(0.02);
  });

  it('builds the batched attention chain ((X·Kᵀ)·V per layer) matching a JS reference', async () => {
    const dims = { tokens: 4, channels: 8, hidden: 16, heads: 2, headDim: 3, batches: [1] };
    const g = attentionChain('attn', 'float32', 1, dims, 2);
    const [bh, t, d] = [2, 4, 3];
    let x = randomValues(bh * t * d, 7, 1);
    const kt = randomValues(bh * d * t, 8, 1 / Math.sqrt(d));
    const v = randomValues(bh * t * d, 9, 1 / Math.sqrt(t));
    for (let layer = 0; layer < 2; layer++) {
      const next = new Float32Array(bh * t * d);
      for (let h = 0; h < bh; h++) {
        const s = matmul(x.subarray(h * t * d, (h + 1) * t * d), kt.subarray(h * d * t, (h + 1) * d * t), t, d, t, false);
        next.set(matmul(s, v.subarray(h * t * d, (h + 1) * t * d), t, t, d, false), h * t * d);
      }
      x = next;
    }
    const { y } = await runCpu(g);
    expect(maxDiff(y, x)).toBeLessThan(1e-5);
    expect(g.flops).toBe(2 * 2 * (2 * bh * t * d * t));
  });

  it("summarizes onnxruntime's verbose WGSL dumps: program, enables, workgroup, subgroup-matrix use, tile constants", () => {
    const log = [
      '2026-12-08 00:00:00.0 [V:onnxruntime:, program_manager.cc:190 Build] ',
      '=== WebGPU Shader code [MatMul, Key="MatMul[1;4-4-1;1;4;0;1]"] Start ===',
      '',
      'enable f16;',
      'const workgroup_size_x: u32 = 8;',
      'const workgroup_size_y: u32 = 8;',
      'const workgroup_size_z: u32 = 1;',
      'const rowPerThread = 4;',
      'const tileInner = 32;',
      '=== WebGPU Shader code [MatMul, Key="MatMul[1;4-4-1;1;4;0;1]"] End ===',
      'noise',
      '=== WebGPU Shader code [SubgroupMatrixGemm, Key="k"] Start ===',
      'enable f16;',
      'enable chromium_experimental_subgroup_matrix;',
      'c00 = subgroupMatrixMultiplyAccumulate(a0, b0, c00);',
      '=== WebGPU Shader code [SubgroupMatrixGemm, Key="k"] End ===',
    ].join('\n');
    const { shaders, texts } = parseShaderDumps(log);
    expect(shaders.map((s) => [s.program, s.enables, s.workgroupSize, s.usesSubgroupMatrix])).toEqual([
      ['MatMul', ['f16'], '8x8x1', false],
      ['SubgroupMatrixGemm', ['f16', 'chromium_experimental_subgroup_matrix'], '', true],
    ]);
    expect(shaders[0]!.constants).toEqual(['const rowPerThread = 4', 'const tileInner = 32']);
    expect(texts.map((t) => t.program)).toEqual(['MatMul', 'SubgroupMatrixGemm']);
  });
});
