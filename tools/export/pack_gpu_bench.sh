#!/usr/bin/env bash
# Build the git-ignored .gpu-bench/ that tools/export/gpu_bench.sh needs on a GPU machine without Node or network:
# this machine's node binary, onnxruntime-node (linux x64 only) + onnxruntime-common, the Vulkan/GL loader packages,
# the bundled benchmark script, and the diffusers v0.35.2 source (from tools/export/ref/, never committed).
# A lean alternative to ../shared/gpu/pack.sh (which packs all of node_modules).
set -euo pipefail
root=$(git rev-parse --show-toplevel); cd "$root"
grep -qx '/.gpu-bench/' .git/info/exclude 2>/dev/null || echo '/.gpu-bench/' >> .git/info/exclude
test -d tools/export/ref/src/diffusers || { echo "tools/export/ref/src/diffusers missing: see tools/export/README.md (reference source)"; exit 1; }
rm -rf .gpu-bench && mkdir -p .gpu-bench/gl
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > .gpu-bench/node.xz
tar -cJf .gpu-bench/node_modules.tar.xz node_modules/onnxruntime-common node_modules/onnxruntime-node/package.json \
  node_modules/onnxruntime-node/dist node_modules/onnxruntime-node/bin/napi-v6/linux/x64
tar -C tools/export/ref -cJf .gpu-bench/diffusers-src.tar.xz src
npx esbuild bench/cascade-gpu-step.ts --bundle --platform=node --format=esm --target=node20 \
  --external:onnxruntime-node --outfile=.gpu-bench/bench.mjs
lists=/tmp/amd64-lists; mkdir -p "$lists/partial"
o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
apt-get $o update -qq >/dev/null 2>&1 || true
(cd .gpu-bench/gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1)
du -sh .gpu-bench
