#!/usr/bin/env bash
# Train several variants of one stage side by side, each on the same frozen other networks from a checkpoint, then
# export and render each one's sheets: Stage C (train.py --retrain-prior, the default) or Stage B (a spec holding
# --retrain-decoder). CKPT `scratch`: whole from-scratch runs instead (train.py's phases 1 and 2, e.g. with
# --diffusion-until), each bringing back <label>-ckpt.pt and <label>.tar with the c12-cfg3 and exact-latent sheets
# (two files of ≈ 10.5 and ≈ 9 MB: three such variants fit the return limit; a sheet export.py's size cap dropped is
# left out of the tar and its index.json). Variants are spread over the machine's GPUs in turn (variant i on GPU i mod N); one H100 runs two
# or three at once (each is small), at 65-80 ms/step instead of 52 alone (four at once: 150 ms/step).
#   bash tools/train-demo/compare-variants.sh OUT CKPT SECONDS 'plain=--continue-prior' 'detail=--continue-prior --detail-weight 4'
#   bash tools/train-demo/compare-variants.sh OUT CKPT SECONDS 'mix=--retrain-decoder --continue-decoder --effnet-mix 0.5'
# OUT gets at most 8 files (the GPU machine's return limit) and log.txt: per variant, with up to 2 variants,
# <label>-graph.tar (its .onnx and <net>.pt, the fp16 weights) and <label>-eval.tar; with 3-7, <label>.tar with the
# weights, the default sampler's sheet and, for Stage B (6.7 MB), its .onnx. The other graphs are the checkpoint's.
set -uo pipefail
out=$1 ckpt=$2 seconds=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
(( gpus > 0 )) || gpus=1
stage_of() { [[ $ckpt == scratch ]] && echo all || { [[ $1 == *--retrain-decoder* ]] && echo decoder || echo prior; }; }
pids=() i=0
for spec in "$@"; do
  label=${spec%%=*}
  read -r -a flags <<<"${spec#*=}"
  case $(stage_of "$spec") in
    prior) flags+=(--retrain-prior --resume "$ckpt" --no-diagnostics) ;;
    decoder) flags+=(--resume "$ckpt" --no-diagnostics) ;;
    all) flags+=(--diffusion-until "$seconds") ;;
  esac
  CUDA_VISIBLE_DEVICES=$((i % gpus)) PYTHONUNBUFFERED=1 python "$here/train.py" --out "$work/$label" \
    --prior-until "$seconds" --decoder-until "$seconds" "${flags[@]}" >"$work/$label.log" 2>&1 &
  pids+=($!) i=$((i + 1))
done
for p in "${pids[@]}"; do wait "$p"; done
# What comes back must fit 8 files of <= 16 MiB, 64 MiB in all (prior.onnx 9.4 MB, decoder.onnx 6.7 MB, a sheet
# ~4.3 MB, fp16 weights 3-4.5 MB). A prior variant without its .onnx: fold <net>.pt into a checkpoint
# (state["nets"][net] = torch.load(...)[net]), then `train.py --resume it --out $OUT` exports it.
(( $# <= 2 )) && lean=0 || lean=1
# In a variant's folder: unpack index.json and those of the named sheets that eval.tar holds into pack/, list only
# them in index.json, and print their names (export.py's size cap may have dropped one).
keep_sheets() {
  mkdir -p pack && tar xf eval.tar -C pack index.json || return 1
  for sheet in "$@"; do tar xf eval.tar -C pack "$sheet" 2>/dev/null; done
  python - "$@" <<'PY'
import json, os, sys
index = json.load(open("pack/index.json"))
index["sheets"] = {k: v for k, v in index["sheets"].items() if k in sys.argv[1:] and os.path.exists(f"pack/{k}")}
json.dump(index, open("pack/index.json", "w"), indent=1)
print("\n".join(index["sheets"]))
PY
}
for spec in "$@"; do
  label=${spec%%=*} net=$(stage_of "$spec")
  { echo "=== $spec"; cat "$work/$label.log"; } >>"$out/log.txt"
  [[ -f $work/$label/ckpt.pt && -f $work/$label/eval.tar ]] || continue
  if [[ $net == all ]]; then
    cp "$work/$label/ckpt.pt" "$out/$label-ckpt.pt"
    (cd "$work/$label" && mapfile -t sheets < <(keep_sheets c12-cfg3.png exact-latent.png) \
     && tar cf "$out/$label.tar" -C pack index.json "${sheets[@]}")
    continue
  fi
  (cd "$work/$label" && python - <<PY
import torch
state = torch.load("ckpt.pt", map_location="cpu")
torch.save({"variant": "$spec", "$net": state["nets"]["$net"]}, "$net.pt")
PY
   mkdir -p pack && for t in bundle-prior.tar bundle-rest.tar; do [[ -f $t ]] && tar xf "$t" -C pack "$net.onnx" 2>/dev/null; done
   if (( ! lean )); then
     tar cf "$out/$label-graph.tar" "$net.pt" -C pack "$net.onnx"
     cp eval.tar "$out/$label-eval.tar"
   else  # the weights and the default sampler's sheet (index.json then lists only that sheet)
     mapfile -t sheets < <(keep_sheets c12-cfg3.png) && cp "$net.pt" pack/
     files=("$net.pt" index.json "${sheets[@]}")
     [[ $net == decoder && -f pack/decoder.onnx ]] && files+=(decoder.onnx)
     tar cf "$out/$label.tar" -C pack "${files[@]}"
   fi)
done
ls -la "$out"
