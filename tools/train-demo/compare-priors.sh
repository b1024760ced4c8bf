#!/usr/bin/env bash
# Train several Stage C variants side by side on one GPU (each is small: one H100 runs two or three at once), each
# on the same frozen text encoder / Stage B / autoencoders from a checkpoint, then export and render each one's sheets.
#   bash tools/train-demo/compare-priors.sh OUT CKPT SECONDS 'plain=--prior-arch patch2 --continue-prior' \
#        'detail=--prior-arch patch2 --continue-prior --detail-weight 4'
# OUT gets at most 8 files (the GPU machine's return limit): per variant <label>-prior.tar (prior.onnx + prior.pt, its
# fp16 weights) and <label>-eval.tar, and log.txt. The other graphs are the checkpoint's (export them with train.py).
set -uo pipefail
out=$1 ckpt=$2 seconds=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pids=()
for spec in "$@"; do
  label=${spec%%=*}
  read -r -a flags <<<"${spec#*=}"
  PYTHONUNBUFFERED=1 python "$here/train.py" --out "$work/$label" --resume "$ckpt" --retrain-prior --prior-until "$seconds" \
    --no-diagnostics "${flags[@]}" >"$work/$label.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
for spec in "$@"; do
  label=${spec%%=*}
  { echo "=== $spec"; cat "$work/$label.log"; } >>"$out/log.txt"
  [[ -f $work/$label/bundle-prior.tar ]] || continue
  (cd "$work/$label" && tar xf bundle-prior.tar && python - <<PY
import torch
state = torch.load("ckpt.pt", map_location="cpu")
torch.save({"variant": "$spec", "prior": state["nets"]["prior"]}, "prior.pt")
PY
   tar cf "$out/$label-prior.tar" prior.onnx prior.pt)
  cp "$work/$label/eval.tar" "$out/$label-eval.tar"
done
ls -la "$out"
