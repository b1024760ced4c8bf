#!/usr/bin/env bash
# Build the git-ignored folders that tools/export/gpu_measure.sh (and gpu_bench.sh) carry to a GPU machine without Node
# or network. The device machine takes at most 64 MiB per call, tracked files included (~39 MB here), and Node alone is
# ~27 MB compressed, so the payload is split over two calls (../shared/gpu/pack.sh's copy of all of node_modules does
# not fit at all):
#   .gpu-node/   the diffusers v0.35.2 source (from tools/export/ref/, never committed) and the first 21 MB of this
#                machine's node binary (stripped, xz -9e): call 1 (the Python steps) keeps the part for call 2;
#   .gpu-bench/  the rest of the node binary, onnxruntime-node linux x64 + onnxruntime-common, the Vulkan/GL loader
#                packages, and the benchmarks bundled with esbuild (bench/cascade-gpu-step.ts, bench/cascade-gpu.ts,
#                bin/model-buckets.ts, bench/webgpu-matmul.ts; all else they import is inside, sharp replaced by a stub
#                that throws: image inputs are not benchmarked, and its libvips would not fit).
# Prints each folder's size and the tracked files' size: each call's carry plus the tracked files must stay under 64 MiB.
set -euo pipefail
root=$(git rev-parse --show-toplevel); cd "$root"
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
for folder in /.gpu-bench/ /.gpu-node/; do grep -qx "$folder" "$exclude" 2>/dev/null || echo "$folder" >> "$exclude"; done
test -d tools/export/ref/src/diffusers || { echo "tools/export/ref/src/diffusers missing: see tools/export/README.md (reference source)"; exit 1; }
rm -rf .gpu-bench .gpu-node && mkdir -p .gpu-bench/gl .gpu-node
tmp=$(mktemp -d)
cp "$(readlink -f "$(command -v node)")" "$tmp/node" && strip "$tmp/node"
xz -T0 -9e -c "$tmp/node" > "$tmp/node.xz"
head -c 21000000 "$tmp/node.xz" > .gpu-node/node.xz.1
tail -c +21000001 "$tmp/node.xz" > .gpu-bench/node.xz.2
tar -C tools/export/ref -cJf .gpu-node/diffusers-src.tar.xz src
tar -cf - node_modules/onnxruntime-common node_modules/onnxruntime-node/package.json \
  node_modules/onnxruntime-node/dist node_modules/onnxruntime-node/bin/napi-v6/linux/x64 | xz -T0 -9e > .gpu-bench/node_modules.tar.xz
# CommonJS dependencies call require() for Node built-ins; an ESM bundle has no require of its own (as bin/bundle.ts).
banner="import { createRequire as __cascadeCreateRequire } from 'node:module'; const require = __cascadeCreateRequire(import.meta.url);"
echo "export default function sharp() { throw new Error('no sharp in this benchmark bundle: image inputs are not benchmarked'); }" > "$tmp/no-sharp.mjs"
mkdir -p "$tmp/bench"
for pair in bench/cascade-gpu-step.ts:bench.mjs bench/cascade-gpu.ts:bench-grid.mjs bin/model-buckets.ts:model-buckets.mjs \
    bench/webgpu-matmul.ts:webgpu-matmul.mjs; do
  npx esbuild "${pair%%:*}" --bundle --platform=node --format=esm --target=node24 --log-level=warning \
    --external:onnxruntime-node "--alias:sharp=$tmp/no-sharp.mjs" "--banner:js=$banner" --outfile="$tmp/bench/${pair##*:}"
done
tar -C "$tmp" -cJf .gpu-bench/bench.tar.xz bench
rm -rf "$tmp"
lists=/tmp/amd64-lists; mkdir -p "$lists/partial"
o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
apt-get $o update -qq >/dev/null 2>&1 || true
(cd .gpu-bench/gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1)
du -sh .gpu-node .gpu-bench
echo "tracked files: $(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1) bytes"
