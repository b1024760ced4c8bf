#!/usr/bin/env bash
# Build the git-ignored folders that tools/export/gpu_bench.sh and gpu_measure.sh carry to a GPU machine without Node or
# network. Two folders, because the device machine takes at most 64 MiB per call and this repository's tracked files
# are ~36 MB of it (../shared/gpu/pack.sh's copy of all of node_modules does not fit at all):
#   .gpu-node/   this machine's node binary, stripped, xz -9e (~27 MB), and the diffusers v0.35.2 source (from
#                tools/export/ref/, never committed): what the Python steps and a later call's Node need;
#   .gpu-bench/  only the native packages the benchmarks load (onnxruntime-node linux x64 + onnxruntime-common, sharp +
#                its linux-x64 libvips), the Vulkan/GL loader packages, and the benchmarks bundled with esbuild
#                (bench/cascade-gpu-step.ts, bench/cascade-gpu.ts, bin/model-buckets.ts; all else they import is inside).
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
xz -T0 -9e -c "$tmp/node" > .gpu-node/node.xz
rm -rf "$tmp"
tar -C tools/export/ref -cJf .gpu-node/diffusers-src.tar.xz src
tar -cf - node_modules/onnxruntime-common node_modules/onnxruntime-node/package.json \
  node_modules/onnxruntime-node/dist node_modules/onnxruntime-node/bin/napi-v6/linux/x64 \
  node_modules/sharp node_modules/@img/colour node_modules/@img/sharp-linux-x64 node_modules/@img/sharp-libvips-linux-x64 \
  node_modules/detect-libc node_modules/semver | xz -T0 -9e > .gpu-bench/node_modules.tar.xz
# CommonJS dependencies call require() for Node built-ins; an ESM bundle has no require of its own (as bin/bundle.ts).
banner="import { createRequire as __cascadeCreateRequire } from 'node:module'; const require = __cascadeCreateRequire(import.meta.url);"
for pair in bench/cascade-gpu-step.ts:bench.mjs bench/cascade-gpu.ts:bench-grid.mjs bin/model-buckets.ts:model-buckets.mjs; do
  npx esbuild "${pair%%:*}" --bundle --platform=node --format=esm --target=node24 --log-level=warning \
    --external:onnxruntime-node --external:sharp "--banner:js=$banner" --outfile=".gpu-bench/${pair##*:}"
done
lists=/tmp/amd64-lists; mkdir -p "$lists/partial"
o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
apt-get $o update -qq >/dev/null 2>&1 || true
(cd .gpu-bench/gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1)
du -sh .gpu-node .gpu-bench
echo "tracked files: $(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1) bytes"
