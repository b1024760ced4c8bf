"""A real-size Stable Cascade bundle with random weights, for `npm run bench:gpu` on a GPU machine (issue #25).

Stage C (3.6 B) and Stage B (1.5 B) are diffusers' StableCascadeUNet at the big configs of bench_gpu.py, Stage A is
PaellaVQModel at diffusers' defaults (the released Stage A's shape), all exported float16 with float32 I/O by the
exporter (`cascade_export.graphs`, fp32 islands as for the real weights) on CUDA. The text encoder is a stand-in with
CLIP's block structure at the real width (1280) but only `--text-layers` layers (exported through the exporter's
float16 path): it runs once per request, a few ms of a 40 s grid. Tokenizer: the CLIP vocabulary in
test/fixtures/vectors/clip-tokenizer. Sampler: the official preset (Stage C 20 steps CFG 4, Stage B 10 steps CFG 1.1).

With `--torch`, also times PyTorch (CUDA graphs, the same fp16-with-islands computation) per step at the 2×2 grid's
shapes: Stage C at 8 rows 24×24, Stage B at 8 rows 256×256 (CFG 1.1 doubles it), Stage A at 4 rows → 1024²; written to
<bundle>/torch.json.

    PYTHONPATH=tools/export:<diffusers src> python3 tools/export/make_bench_bundle.py --out /tmp/bench-bundle --torch
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

import bench_gpu
from cascade_export import bundle, export, graphs
from check_fp16_text_encoder import StandInClip

ROOT = Path(__file__).resolve().parents[2]
TOKENIZER = ROOT / "test/fixtures/vectors/clip-tokenizer"
GRID_IMAGES = 4


def grid_inputs(name: str, rows: int) -> dict[str, torch.Tensor]:
    """Float32 inputs (the graphs' I/O dtype) at the 1024² grid's shapes, on the GPU."""
    g = torch.Generator(device="cuda").manual_seed(1)
    r = lambda *s: torch.randn(*s, generator=g, device="cuda")  # noqa: E731
    t = torch.full((rows,), 0.7, device="cuda")
    if name == "prior":
        return {"sample": r(rows, 16, 24, 24), "timestep_ratio": t, "clip_text_pooled": r(rows, 1, 1280),
                "clip_text": r(rows, 77, 1280), "clip_img": torch.zeros(rows, 1, 768, device="cuda")}
    if name == "decoder":
        return {"sample": r(rows, 4, 256, 256), "timestep_ratio": t, "clip_text_pooled": r(rows, 1, 1280),
                "effnet": r(rows, 16, 24, 24)}
    return {"latents": r(rows, 4, 256, 256)}


def torch_step_ms(wrapped: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> dict[str, Any]:
    args = tuple(inputs.values())
    with torch.no_grad(), graphs._fp32_grn():
        return {"eager": bench_gpu.cuda_ms(lambda: wrapped(*args), iters=5, warmup=2), "cudaGraph": bench_gpu.graph_ms(wrapped, args)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--torch", action="store_true", help="also time PyTorch per step at the grid's shapes")
    parser.add_argument("--text-layers", type=int, default=2)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("make_bench_bundle.py needs CUDA (real-size graphs are built and exported on the GPU)")
    torch.backends.cuda.matmul.allow_tf32 = True
    graphs.clean_dir(args.out)
    base = export.stable_cascade_manifest_base("big", "official")
    base["description"] = "RANDOM WEIGHTS at Stable Cascade's real sizes, for GPU benchmarks only (tools/export/make_bench_bundle.py)"
    manifest: dict[str, Any] = {"format": bundle.FORMAT, "version": bundle.VERSION,
                                **{k: base[k] for k in ("name", "variant", "description", "license", "resolution", "geometry")},
                                "tokenizer": bundle.copy_tokenizer(TOKENIZER, args.out)}
    timings: dict[str, Any] = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "seconds": {}}
    rows = {"prior": 2 * GRID_IMAGES, "decoder": 2 * GRID_IMAGES, "vqgan": GRID_IMAGES}

    for name, config, export_fn, file in (("prior", bench_gpu.PRIOR_BIG, graphs.export_prior, "prior.onnx"),
                                          ("decoder", bench_gpu.DECODER_BIG, graphs.export_decoder, "decoder.onnx")):
        started = time.time()
        unet = bench_gpu.build(config, seed=3)
        wrapped = export_fn(unet, args.out / file, "float16", bench_gpu.inputs_for(name, torch.float32), "float32")
        timings["seconds"][name] = round(time.time() - started, 1)
        if args.torch:
            timings[name] = torch_step_ms(wrapped, grid_inputs(name, rows[name]))
        manifest[name] = {"dtype": "float32", **bundle.IO[name], **bundle.graph_entry(args.out, file, "float32", sha=False)}
        print(name, json.dumps({"seconds": timings["seconds"][name], **timings.get(name, {})}), flush=True)
        del unet, wrapped
        torch.cuda.empty_cache()
    manifest["prior"].update(clipImageSize=768, sampler=base["prior"]["sampler"], variation=base["prior"]["variation"])
    manifest["decoder"].update(sampler=base["decoder"]["sampler"])

    started = time.time()
    from diffusers.pipelines.wuerstchen import PaellaVQModel

    torch.manual_seed(5)
    vqgan = PaellaVQModel().eval().to("cuda")
    wrapped = graphs.export_vqgan_decoder(vqgan, args.out / "vqgan_decoder.onnx", "float16",
                                          {"latents": torch.randn(1, 4, 32, 32, device="cuda")}, "float32")
    timings["seconds"]["vqgan"] = round(time.time() - started, 1)
    if args.torch:
        timings["vqgan"] = torch_step_ms(wrapped, grid_inputs("vqgan", rows["vqgan"]))
    manifest["vqgan"] = {"dtype": "float32", **bundle.IO["vqgan"], "scaleFactor": base["vqgan"]["scaleFactor"],
                         **bundle.graph_entry(args.out, "vqgan_decoder.onnx", "float32", sha=False)}
    print("vqgan", json.dumps({"seconds": timings["seconds"]["vqgan"], **timings.get("vqgan", {})}), flush=True)
    del vqgan, wrapped

    started = time.time()
    torch.manual_seed(6)
    text = StandInClip(vocab=49408, hidden=1280, layers=args.text_layers, heads=20).eval().to("cuda")
    ids = torch.full((2, 77), 49407, dtype=torch.int64, device="cuda")
    graphs.export_text_encoder(text, args.out / "text_encoder.onnx", "float16",
                               {"input_ids": ids, "attention_mask": torch.ones_like(ids)}, "float32")
    manifest["textEncoder"] = {"dtype": "float32", "hiddenSize": 1280, "pooledSize": 1280, **bundle.IO["textEncoder"],
                               **bundle.graph_entry(args.out, "text_encoder.onnx", "float32", sha=False)}
    timings["seconds"]["textEncoder"] = round(time.time() - started, 1)
    bundle.write_manifest(args.out, manifest)
    (args.out / "torch.json").write_text(json.dumps(timings, indent=1))
    print("bundle", args.out, json.dumps(timings["seconds"]), flush=True)


if __name__ == "__main__":
    main()
