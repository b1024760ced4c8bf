"""PyTorch's own fp16/fp32 matmul speed at the shapes of bench/webgpu-matmul.ts (issue #25), on the same GPU.

    python3 tools/export/torch_matmul.py --out torch-matmul.json [--seconds 20]

Per case the same work as the Node benchmark's case of the same name: mlp-B{8,2} gemm = (x·W1ᵀ + b1)·W2ᵀ + b2 twice
with x [B·576, 2048], W1 [8192, 2048], W2 [2048, 8192] (F.linear: nn.Linear, which the exporter writes as Gemm
transB=1); mlp-B{8,2} matmul = torch.matmul with [K, N] weights, no bias; proj-B{8,2} gemm = four 2048→2048
F.linear; attn-B{8,2} = ((X·Kᵀ)·V) twice over [B·32, 576, 64] (torch.matmul).
Times are CUDA-event medians of 10 runs after 3 warm-ups (TF32 off for fp32, as WebGPU has none), TFLOP/s = 2·M·N·K
per matmul over that time; the GPU's own dense fp16 figure is the ceiling both runtimes share.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Callable

import torch
import torch.nn.functional as F

from bench_gpu import cuda_event_times

TOKENS, C, H, HEADS, HEAD_DIM = 24 * 24, 2048, 8192, 32, 64


def cuda_median_ms(fn: Callable[[], torch.Tensor], runs: int = 10, warmup: int = 3) -> tuple[float, list[float]]:
    times = cuda_event_times(fn, runs, warmup)
    return statistics.median(times), [round(t, 3) for t in times]


def cases(batch: int, dtype: torch.dtype) -> dict[str, tuple[Callable[[], torch.Tensor], float]]:
    g = torch.Generator(device="cuda").manual_seed(batch)
    r = lambda *s, scale=1.0: (torch.rand(*s, generator=g, device="cuda") - 0.5).mul(2 * scale).to(dtype)  # noqa: E731
    rows = batch * TOKENS
    x = r(rows, C)
    w1, b1, w2, b2 = r(H, C, scale=C ** -0.5), r(H, scale=0.1), r(C, H, scale=H ** -0.5), r(C, scale=0.1)
    w1kn, w2kn = w1.t().contiguous(), w2.t().contiguous()
    wp, bp = r(C, C, scale=C ** -0.5), r(C, scale=0.1)
    bh = batch * HEADS
    q, kt, v = r(bh, TOKENS, HEAD_DIM), r(bh, HEAD_DIM, TOKENS, scale=HEAD_DIM ** -0.5), r(bh, TOKENS, HEAD_DIM, scale=TOKENS ** -0.5)

    def mlp_linear() -> torch.Tensor:
        h = x
        for _ in range(2):
            h = F.linear(F.linear(h, w1, b1), w2, b2)
        return h

    def mlp_matmul() -> torch.Tensor:
        h = x
        for _ in range(2):
            h = torch.matmul(torch.matmul(h, w1kn), w2kn)
        return h

    def proj() -> torch.Tensor:
        h = x
        for _ in range(4):
            h = F.linear(h, wp, bp)
        return h

    def attn() -> torch.Tensor:
        h = q
        for _ in range(2):
            h = torch.matmul(torch.matmul(h, kt), v)
        return h

    mlp_flops = 2 * 2 * (2 * rows * C * H)  # two layers of two matmuls
    return {
        "mlp-B{b} gemm": (mlp_linear, mlp_flops),
        "mlp-B{b} matmul": (mlp_matmul, mlp_flops),
        "proj-B{b} gemm": (proj, 4 * 2 * rows * C * C),
        "attn-B{b}": (attn, 2 * 2 * (2 * bh * TOKENS * HEAD_DIM * TOKENS)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    started = time.time()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    result: dict = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "cuda": torch.version.cuda, "cases": []}
    with torch.no_grad():
        for batch in (8, 2):
            for dtype, label in ((torch.float16, "fp16"), (torch.float32, "fp32")):
                if time.time() - started > args.seconds:
                    result["stoppedEarly"] = True
                    break
                for name, (fn, flops) in cases(batch, dtype).items():
                    ms, all_ms = cuda_median_ms(fn)
                    row = {"name": f"{name.format(b=batch)} {label}", "ms": round(ms, 4), "msAll": all_ms,
                           "tflops": round(flops / (ms / 1e3) / 1e12, 2), "gflopPerRun": flops / 1e9}
                    result["cases"].append(row)
                    print(f"{row['name']:<28} {row['ms']:>9.3f} ms {row['tflops']:>8.1f} TFLOP/s", flush=True)
                torch.cuda.empty_cache()
    result["elapsedS"] = round(time.time() - started, 1)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
