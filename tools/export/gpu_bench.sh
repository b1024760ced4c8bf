#!/usr/bin/env bash
# GPU baseline (run on the GPU machine from the project root, carrying .gpu-bench/ made by tools/export/pack_gpu_bench.sh,
# after a call of tools/export/gpu_measure.sh that carried .gpu-node/ on the same machine and left the first part of Node
# and diffusers' source in .cache/gpu-measure/: both folders together exceed the device machine's 64 MiB per call):
# real-size Stage C / Stage B, random weights → PyTorch eager + CUDA graphs (bench_gpu.py), fp16 ONNX export,
# then one step through onnxruntime-node's WebGPU provider (bench/cascade-gpu-step.ts), profile summary.
# Results go to $OUT (torch.json, webgpu.json, profile.json, logs).
set -uo pipefail
OUT=${OUT:-/tmp/gpu-bench-out}
WORK=${WORK:-/tmp/gpubench}
G=.gpu-bench
mkdir -p "$OUT" "$WORK"
if [ -d "$G" ]; then  # a bare GPU machine: bring Node, onnxruntime-node, the GL/Vulkan loaders and diffusers' source
  mkdir -p /tmp/node/bin /tmp/ref
  state=.cache/gpu-measure
  cat "$state/node.xz.1" $G/node.xz.2 | xz -dc > /tmp/node/bin/node && chmod +x /tmp/node/bin/node
  export PATH=/tmp/node/bin:$PATH
  for f in $G/gl/*.deb; do dpkg -x "$f" /; done; ldconfig
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  tar -xJf $G/node_modules.tar.xz
  cp -r "$state/ref/src" /tmp/ref/
  tar -xJf $G/bench.tar.xz -C "$state"  # under the project root: the bundles find node_modules/ from there
  export PYTHONPATH=tools/export:/tmp/ref/src
  BENCH=(node "$state/bench/bench.mjs")
else  # an operator's GPU host: node, npm install and diffusers 0.35.2 already there
  export PYTHONPATH=tools/export${PYTHONPATH:+:$PYTHONPATH}
  BENCH=(node bench/cascade-gpu-step.ts)
fi
export PYTHONUNBUFFERED=1
{ node --version; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; python3 -c 'import torch, onnx, onnxruntime; print(torch.__version__, onnx.__version__, onnxruntime.__version__)'; } > "$OUT/env.txt" 2>&1
timeout "${PY_SECONDS:-330}" python3 tools/export/bench_gpu.py --out "$WORK" --results "$OUT/torch.json" 2>&1 | grep -v -i "warn\|_C._jit" > "$OUT/python.log"
echo "python exit ${PIPESTATUS[0]}" >> "$OUT/python.log"
timeout "${NODE_SECONDS:-200}" "${BENCH[@]}" "$WORK" "$OUT/webgpu.json" "${PROVIDER:-webgpu}" "${RUNS:-5}" > "$OUT/node.log" 2>&1
echo "node exit $?" >> "$OUT/node.log"
ls "$WORK"/profile-*.json >/dev/null 2>&1 && python3 tools/export/profile_summary.py "$WORK"/profile-*.json > "$OUT/profile.json"
ls -la "$WORK" >> "$OUT/python.log"
cat "$OUT/env.txt" "$OUT/python.log" "$OUT/node.log"
