#!/usr/bin/env bash
# Train several Stage C variants side by side, each on the same frozen text encoder / Stage B / autoencoders from a
# checkpoint, then export and render each one's sheets. Variants are spread over the machine's GPUs in turn (variant i
# on GPU i mod N); one H100 runs two or three at once (each is small), at 65-80 ms/step instead of 52 alone.
#   bash tools/train-demo/compare-priors.sh OUT CKPT SECONDS 'plain=--prior-arch patch2 --continue-prior' \
#        'detail=--prior-arch patch2 --continue-prior --detail-weight 4'
# OUT gets at most 8 files (the GPU machine's return limit) and log.txt: per variant, with up to 3 variants,
# <label>-prior.tar (prior.onnx + prior.pt, its fp16 weights) and <label>-eval.tar; with 4-7, <label>.tar (prior.pt and
# the default sampler's sheet). The other graphs are the checkpoint's (export them with train.py).
set -uo pipefail
out=$1 ckpt=$2 seconds=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
(( gpus > 0 )) || gpus=1
pids=() i=0
for spec in "$@"; do
  label=${spec%%=*}
  read -r -a flags <<<"${spec#*=}"
  CUDA_VISIBLE_DEVICES=$((i % gpus)) PYTHONUNBUFFERED=1 python "$here/train.py" --out "$work/$label" --resume "$ckpt" --retrain-prior --prior-until "$seconds" \
    --no-diagnostics "${flags[@]}" >"$work/$label.log" 2>&1 &
  pids+=($!) i=$((i + 1))
done
for p in "${pids[@]}"; do wait "$p"; done
# What comes back must fit 8 files of <= 16 MiB, 64 MiB in all: with up to 3 variants each brings its prior.onnx, with
# more only its fp16 weights (export one later: fold prior.pt into a checkpoint, then train.py --resume it --out $OUT).
(( $# <= 3 )) && with_onnx=1 || with_onnx=0
for spec in "$@"; do
  label=${spec%%=*}
  { echo "=== $spec"; cat "$work/$label.log"; } >>"$out/log.txt"
  [[ -f $work/$label/ckpt.pt && -f $work/$label/eval.tar ]] || continue
  (cd "$work/$label" && python - <<PY
import torch
state = torch.load("ckpt.pt", map_location="cpu")
torch.save({"variant": "$spec", "prior": state["nets"]["prior"]}, "prior.pt")
PY
   if (( with_onnx )); then
     tar xf bundle-prior.tar && tar cf "$out/$label-prior.tar" prior.onnx prior.pt
     cp eval.tar "$out/$label-eval.tar"
   else  # the weights and the default sampler's sheet (index.json then lists only that sheet)
     mkdir -p lean && tar xf eval.tar -C lean && cp prior.pt lean/ && python - <<'PY'
import json
index = json.load(open("lean/index.json"))
index["sheets"] = {k: v for k, v in index["sheets"].items() if k == "c12-cfg4.png"}
json.dump(index, open("lean/index.json", "w"), indent=1)
PY
     tar cf "$out/$label.tar" -C lean prior.pt index.json c12-cfg4.png
   fi)
done
ls -la "$out"
