#!/usr/bin/env bash
# Issue #25 measurements on the GPU machine, from the project root. The device machine takes 64 MiB per call, tracked
# files included (~39 MB), so what the script needs comes in two folders made by tools/export/pack_gpu_bench.sh, carried
# in two calls of the same command on the same (still warm) machine; what a call unpacks or builds stays in
# .cache/gpu-measure/ (git-ignored, kept between calls) and is not done again:
#   call 1, carry .gpu-node  (diffusers' source, the first part of Node): the Python steps
#     1. fp16 text encoder: the old float16 trace vs the exporter's path now (check_fp16_text_encoder.py), and the
#        fixture's text_encoder.fp16.onnx (committed; else through make_fixture.py --text-encoder-fp16-only);
#        then PyTorch's own fp16/fp32 matmul TFLOP/s at Stage C's shapes (torch_matmul.py, ≤ 20 s; torch-matmul.json);
#     2. a real-size random-weight bundle (make_bench_bundle.py: Stage C 3.6 B, Stage B 1.5 B, Stage A, fp16 with float32
#        I/O, official sampler) with PyTorch's per-step times (CUDA graphs) at the 2×2 grid's shapes;
#   call 2, carry .gpu-bench (the rest of Node, onnxruntime-node, GL loaders, the bundled benchmarks): the Node steps
#     3. text_encoder.fp16.onnx opened and run by onnxruntime-node on cpu and webgpu;
#     3b. MatMul/Gemm at Stage C's shapes on onnxruntime-node webgpu, per graph form and provider option, with the
#        adapter's log lines and a profiled run (bench/webgpu-matmul.ts, --budget 60 inside `timeout 75`;
#        webgpu-matmul.json, to read beside torch-matmul.json);
#     4. the grid's buckets (bin/model-buckets.ts), then the 2×2 grid at 1024² through the engine on webgpu, buckets vs
#        dynamic graphs (bench/cascade-gpu.ts; all 20 + 10 steps unless STEPS=C,B), then Stage B under CFG as one
#        8-row call vs two 4-row calls (mode halves; last, so the budget cuts it first).
# Each step has its own time limit inside BUDGET (default 320 s; step 3b's 75 s come out of the grid's share), so what
# is done always comes back. $OUT (≤ 8 files): env.txt, measure.log, fp16-text-encoder.json, text_encoder.fp16.onnx,
# torch-matmul.json, torch.json, webgpu-matmul.json, bench-gpu.json.
set -uo pipefail
OUT=${OUT:-/tmp/gpu-measure-out}
STATE=${STATE:-.cache/gpu-measure}
BUNDLE=${BUNDLE:-$STATE/bench-bundle}
BUDGET=${BUDGET:-320}
MODES=${MODES:-bucket,dynamic,halves}
PROVIDER=${PROVIDER:-webgpu}
started=$(date +%s)
left() { echo $((BUDGET - ($(date +%s) - started))); }
# Seconds for a step that must leave `$1` seconds for the steps after it (20 at least).
allow() { local s=$(( $(left) - $1 )); [ "$s" -lt 20 ] && s=20; echo "$s"; }
mkdir -p "$OUT" "$STATE"
LOG="$OUT/measure.log"
say() { echo "[$(($(date +%s) - started)) s] $*" | tee -a "$LOG"; }

# ---- what this call carried, unpacked once ----
[ -f .gpu-node/node.xz.1 ] && cp .gpu-node/node.xz.1 "$STATE/"
if [ -f .gpu-bench/node.xz.2 ] && [ -f "$STATE/node.xz.1" ] && [ ! -x "$STATE/node/bin/node" ]; then
  mkdir -p "$STATE/node/bin" && cat "$STATE/node.xz.1" .gpu-bench/node.xz.2 | xz -dc > "$STATE/node/bin/node" && chmod +x "$STATE/node/bin/node"
fi
[ -f .gpu-node/diffusers-src.tar.xz ] && [ ! -d "$STATE/ref/src/diffusers" ] && mkdir -p "$STATE/ref" && tar -xJf .gpu-node/diffusers-src.tar.xz -C "$STATE/ref"
[ -f .gpu-bench/node_modules.tar.xz ] && [ ! -d node_modules/onnxruntime-node ] && tar -xJf .gpu-bench/node_modules.tar.xz
[ -f .gpu-bench/bench.tar.xz ] && tar -xJf .gpu-bench/bench.tar.xz -C "$STATE"
if [ -d .gpu-bench/gl ]; then for f in .gpu-bench/gl/*.deb; do dpkg -x "$f" /; done; ldconfig; fi
export PATH=$(cd "$STATE" && pwd)/node/bin:$PATH
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
export PYTHONPATH=tools/export:$STATE/ref/src PYTHONUNBUFFERED=1
{ command -v node >/dev/null && node --version || echo "node: not yet (its second part comes with .gpu-bench in call 2)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c 'import torch, onnx, onnxruntime, transformers; print("torch", torch.__version__, "onnx", onnx.__version__, "onnxruntime", onnxruntime.__version__, "transformers", transformers.__version__)'
  echo "budget ${BUDGET}s steps ${STEPS:-manifest} modes ${MODES} provider ${PROVIDER}; carried: $(ls -d .gpu-node .gpu-bench 2>/dev/null | tr '\n' ' ')"; } > "$OUT/env.txt" 2>&1
say "setup: $(tr '\n' ' ' < "$OUT/env.txt")"

# ---- 1. fp16 text encoder (Python) ----
if [ ! -f "$STATE/fp16-text-encoder.json" ]; then
  timeout 100 python3 tools/export/check_fp16_text_encoder.py --out "$STATE/fp16-text-encoder.json" 2>&1 | grep -v -i "warn" >> "$LOG"
  say "fp16 text encoder check: exit ${PIPESTATUS[0]}"
fi
if [ ! -f "$STATE/fixture/text_encoder.fp16.onnx" ] && [ -f test/fixtures/cascade-tiny/text_encoder.fp16.onnx ]; then
  # Committed since session 12 (made on a CPU by the same conversion): step 3 runs it, nothing to convert here.
  mkdir -p "$STATE/fixture" && cp test/fixtures/cascade-tiny/text_encoder.fp16.onnx "$STATE/fixture/"
  say "fixture text_encoder.fp16.onnx: the committed one"
elif [ ! -f "$STATE/fixture/text_encoder.fp16.onnx" ]; then
  mkdir -p "$STATE/fixture" && cp test/fixtures/cascade-tiny/text_encoder.onnx "$STATE/fixture/"
  timeout 60 python3 tools/export/make_fixture.py --text-encoder-fp16-only --out "$STATE/fixture" >> "$LOG" 2>&1
  say "fixture text_encoder.fp16.onnx (exporter conversion, checked against float32 by onnxruntime): exit $?"
fi
if [ ! -f "$STATE/torch-matmul.json" ]; then
  timeout 45 python3 tools/export/torch_matmul.py --out "$STATE/torch-matmul.json" --seconds 20 >> "$LOG" 2>&1
  say "PyTorch matmul TFLOP/s at Stage C's shapes (torch_matmul.py): exit $?"
fi
for f in "$STATE/fp16-text-encoder.json" "$STATE/fixture/text_encoder.fp16.onnx" "$STATE/torch-matmul.json"; do [ -f "$f" ] && cp "$f" "$OUT/"; done

# ---- 2. real-size random-weight bundle (+ PyTorch per-step times) ----
if [ ! -f "$BUNDLE/manifest.json" ]; then
  if [ -d "$STATE/ref/src/diffusers" ]; then
    timeout "$(allow 10)" python3 tools/export/make_bench_bundle.py --out "$BUNDLE" --torch 2>&1 | grep -v -i "warn\|_C._jit" >> "$LOG"
    say "bench bundle: exit ${PIPESTATUS[0]}"
  else
    say "bench bundle: missing and no diffusers source here (carry .gpu-node)"
  fi
fi
[ -f "$BUNDLE/torch.json" ] && cp "$BUNDLE/torch.json" "$OUT/"

# ---- 3, 4. Node: fp16 load on onnxruntime-node, buckets, the grid ----
if command -v node >/dev/null && [ -d node_modules/onnxruntime-node ] && [ -f "$STATE/bench/bench-grid.mjs" ] && [ -d .gpu-bench ]; then
  for provider in cpu webgpu; do
    [ -f "$STATE/fixture/text_encoder.fp16.onnx" ] || break
    timeout 60 node -e '
      delete globalThis.Float16Array; // float16 outputs as Uint16Array (gpu-runner/cascade/runtime.ts, keepFloat16AsUint16)
      const ort = require("onnxruntime-node");
      const [file, provider] = process.argv.slice(1);
      ort.InferenceSession.create(file, { executionProviders: [provider] }).then(async (s) => {
        const ids = new ort.Tensor("int64", BigInt64Array.from({ length: 77 }, (_, i) => BigInt((i * 37) % 2500)), [1, 77]);
        const mask = new ort.Tensor("int64", new BigInt64Array(77).fill(1n), [1, 77]);
        const h = (await s.run({ input_ids: ids, attention_mask: mask })).hidden_state_last;
        console.log(`onnxruntime-node ${provider}: text_encoder.fp16.onnx loaded and ran, hidden ${h.type} [${h.dims}]`);
      }).catch((e) => { console.log(`onnxruntime-node ${provider}: FAILED ${e.message}`); process.exit(1); });' \
      "$STATE/fixture/text_encoder.fp16.onnx" "$provider" >> "$LOG" 2>&1
    say "onnxruntime-node $provider, fp16 text encoder: exit $?"
  done
  if [ -f "$STATE/bench/webgpu-matmul.mjs" ]; then
    timeout 75 node "$STATE/bench/webgpu-matmul.mjs" --provider webgpu --budget 60 --json "$OUT/webgpu-matmul.json" >> "$LOG" 2>&1
    say "3b. webgpu matmul/gemm benchmark: exit $? ($OUT/webgpu-matmul.json)"
  fi
  if [ -f "$BUNDLE/manifest.json" ]; then
    timeout 60 node "$STATE/bench/model-buckets.mjs" "$BUNDLE" --grid 1024x1024:4 --warm >> "$LOG" 2>&1
    say "buckets: exit $?"
    timeout "$(allow 3)" node "$STATE/bench/bench-grid.mjs" "$BUNDLE" --provider "$PROVIDER" --modes "$MODES" ${STEPS:+--steps "$STEPS"} \
      --out "$OUT/bench-gpu.json" >> "$LOG" 2>&1
    say "grid benchmark: exit $? ($(left) s of the budget left)"
  fi
else
  say "Node steps skipped: they need .gpu-bench carried in this call, after a call that carried .gpu-node"
fi
tail -30 "$LOG"
