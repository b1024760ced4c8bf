"""Diffusers-format Stable Cascade (prior, decoder, text_encoder, tokenizer, vqgan; big or lite) → cascade bundle.

    python -m cascade_export.export --prior-repo stable-cascade-prior --decoder-repo stable-cascade \
        --variant big --dtype float16 --out bundles/stable-cascade-big-fp16

Every graph is run with onnxruntime at two or more shapes and compared with the torch module before
manifest.json is written (a bundle without manifest.json is incomplete by construction). See tools/export/README.md.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from torch import nn

from . import bundle, encoders, graphs

# Sampler presets (spec §3.4): the official notebooks vs diffusers' pipelines.
PRESETS: dict[str, dict[str, Any]] = {
    "official": {
        "prior": bundle.sampler(20, 4.0, shift=2.0, rho=0.7, r_mode="gdf", final="x0"),
        "decoder": bundle.sampler(10, 1.1, shift=1.0, rho=0.7, r_mode="gdf", final="x0"),
        "scaleFactor": 0.43,
    },
    "diffusers": {
        "prior": bundle.sampler(20, 4.0),
        "decoder": bundle.sampler(10, 0.0),
        "scaleFactor": 0.3764,
    },
}


def _sizes_ok(manifest: Mapping[str, Any], sizes: Sequence[tuple[int, int]]) -> None:
    multiple = manifest["resolution"]["multiple"]
    for h, w in sizes:
        if h % multiple or w % multiple:
            raise SystemExit(f"verification size {h}x{w} is not a multiple of {multiple} (Stage B needs 16-aligned latents)")


def export_components(
    *,
    text_encoder: nn.Module,
    prior: nn.Module,
    decoder: nn.Module,
    vqgan: nn.Module,
    tokenizer_dir: Path,
    out: Path,
    dtype: str,
    manifest_base: Mapping[str, Any],
    io_dtype: str | None = None,
    verify_sizes: Sequence[tuple[int, int]],
    verify_batches: Sequence[int] = (1, 2),
    atol: float = 1e-4,
    log=print,  # noqa: ANN001
    image_encoder: nn.Module | None = None,
    image_size: int = 224,
    effnet: nn.Module | None = None,
    effnet_cell: int = 32,
) -> Path:
    """Export the four graphs into `out`, verify each against torch at every size × batch, then write manifest.json.

    `dtype` is the weights' precision; `io_dtype` (default: dtype) the graphs' float inputs/outputs and so the
    manifest's dtype. fp16 weights with float32 I/O keep the fp32↔fp16 conversion on the device, off the JS thread.
    `manifest_base` holds name, variant, description, license, resolution, geometry, prior.{sampler, variation},
    decoder.sampler, vqgan.scaleFactor; the rest (files, dtypes, sizes, I/O names, tokenizer) is filled in here.
    `image_encoder` (CLIPVisionModelWithProjection) and `effnet` (encoders.EfficientNetEncoder) are optional graphs.
    """
    io_dtype = io_dtype or dtype
    graphs.clean_dir(out)
    _sizes_ok(manifest_base, verify_sizes)
    tok = bundle.copy_tokenizer(tokenizer_dir, out)
    te_cfg = text_encoder.config
    manifest: dict[str, Any] = {
        "format": bundle.FORMAT,
        "version": bundle.VERSION,
        **{k: manifest_base[k] for k in ("name", "variant", "description", "license", "resolution", "geometry")},
        "tokenizer": tok,
    }
    cases = [(b, h, w) for (h, w) in verify_sizes for b in verify_batches]
    draft = {**manifest, "textEncoder": {"dtype": io_dtype, "hiddenSize": te_cfg.hidden_size,
                                         "pooledSize": te_cfg.projection_dim, **bundle.IO["textEncoder"]},
             "prior": {"dtype": io_dtype, "clipImageSize": prior.config.clip_image_in_channels, **bundle.IO["prior"]},
             "decoder": {"dtype": io_dtype, **bundle.IO["decoder"]},
             "vqgan": {"dtype": io_dtype, **bundle.IO["vqgan"]}}
    files = {"textEncoder": "text_encoder.onnx", "prior": "prior.onnx", "decoder": "decoder.onnx",
             "vqgan": "vqgan_decoder.onnx"}
    exporters = {"textEncoder": (graphs.export_text_encoder, text_encoder), "prior": (graphs.export_prior, prior),
                 "decoder": (graphs.export_decoder, decoder), "vqgan": (graphs.export_vqgan_decoder, vqgan)}
    for stage, file in files.items():
        export_fn, module = exporters[stage]
        b0, h0, w0 = cases[0]
        example = {k: torch.from_numpy(v) for k, v in bundle.stage_feeds(draft, stage, b0, h0, w0).items()}
        log(f"export {stage} → {file} (weights {dtype}, I/O {io_dtype})")
        wrapped = export_fn(module, out / file, dtype, example, io_dtype)
        inputs, outputs = bundle._expected_io(draft, stage)
        order = list(inputs)
        feeds = [bundle.stage_feeds(draft, stage, b, h, w, seed=i + 1) for i, (b, h, w) in enumerate(cases)]
        shapes = [bundle._expected_shapes(draft, stage, b, h, w) for (b, h, w) in cases]
        bundle.verify_graph(out / file, feeds, inputs, outputs, expect_shapes=shapes,
                            reference=graphs.torch_reference(wrapped, order, list(outputs)),
                            atol=atol if dtype == "float32" else 2e-2)
        log(f"  verified at {[(b, h, w) for (b, h, w) in cases]}")
        draft[stage] = {**draft[stage], **bundle.graph_entry(out, file, io_dtype)}
    if image_encoder is not None:
        manifest["imageEncoder"] = encoders.export_image_encoder(image_encoder, out, dtype, io_dtype, image_size,
                                                                 batches=tuple(verify_batches), log=log)
    if effnet is not None:
        sizes_c = [bundle.latent_sizes(manifest_base, h, w)[:2] for (h, w) in verify_sizes]
        manifest["effnetEncoder"] = encoders.export_effnet_encoder(effnet, out, dtype, io_dtype, effnet_cell, sizes_c,
                                                                   batches=tuple(verify_batches), log=log)
    manifest.update({
        "textEncoder": draft["textEncoder"],
        "prior": {**draft["prior"], "sampler": manifest_base["prior"]["sampler"],
                  "variation": manifest_base["prior"]["variation"]},
        "decoder": {**draft["decoder"], "sampler": manifest_base["decoder"]["sampler"]},
        "vqgan": {**draft["vqgan"], "scaleFactor": manifest_base["vqgan"]["scaleFactor"]},
    })
    return bundle.write_manifest(out, manifest)


def stable_cascade_manifest_base(variant: str, preset: str) -> dict[str, Any]:
    p = PRESETS[preset]
    return {
        "name": "stable-cascade",
        "variant": variant,
        "description": f"Stable Cascade ({variant}) exported from diffusers format; sampler preset {preset}",
        "license": "Stability AI Non-Commercial Research Community License",
        "resolution": {"base": 1024, "multiple": 64, "min": 512, "max": 2048},
        "geometry": {"priorCompression": 42.67, "decoderCompression": 4, "priorChannels": 16, "decoderChannels": 4},
        "prior": {"sampler": p["prior"], "variation": {"subtle": 0.5, "strong": 0.8}},
        "decoder": {"sampler": p["decoder"]},
        "vqgan": {"scaleFactor": p["scaleFactor"]},
    }


def load_diffusers(prior_repo: Path, decoder_repo: Path, variant: str, weights: str) -> tuple[nn.Module, ...]:
    """(prior, decoder, text_encoder, vqgan) from the two diffusers-format folders, in float32 on the CPU."""
    from diffusers import StableCascadeUNet
    from diffusers.pipelines.wuerstchen import PaellaVQModel
    from transformers import CLIPTextModelWithProjection

    suffix = "_lite" if variant == "lite" else ""
    load: dict[str, Any] = {"torch_dtype": torch.float32}
    if weights == "bf16":
        load["variant"] = "bf16"
    prior = StableCascadeUNet.from_pretrained(prior_repo / f"prior{suffix}", **load)
    decoder = StableCascadeUNet.from_pretrained(decoder_repo / f"decoder{suffix}", **load)
    text_encoder = CLIPTextModelWithProjection.from_pretrained(prior_repo / "text_encoder", torch_dtype=torch.float32,
                                                               attn_implementation="eager")
    vqgan = PaellaVQModel.from_pretrained(decoder_repo / "vqgan", torch_dtype=torch.float32)
    return prior.eval(), decoder.eval(), text_encoder.eval(), vqgan.eval()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prior-repo", type=Path, required=True, help="folder of stabilityai/stable-cascade-prior")
    parser.add_argument("--decoder-repo", type=Path, required=True, help="folder of stabilityai/stable-cascade")
    parser.add_argument("--variant", choices=("big", "lite"), default="big")
    parser.add_argument("--dtype", choices=bundle.FLOAT_DTYPES, default="float16", help="weights (fp32 islands kept, spec §5.4)")
    parser.add_argument("--io-dtype", choices=bundle.FLOAT_DTYPES, default="float32",
                        help="graph inputs/outputs; float32 moves the fp16 conversion onto the device (default)")
    parser.add_argument("--preset", choices=tuple(PRESETS), default="official", help="sampler defaults (spec §3.4)")
    parser.add_argument("--weights", choices=("bf16", "fp32"), default="bf16",
                        help="which safetensors variant to read (bf16 files are half the download)")
    parser.add_argument("--verify-size", action="append", default=None, metavar="HxW",
                        help="image sizes for the onnxruntime check (≥ 2; default 512x512 and 512x768)")
    parser.add_argument("--effnet", type=Path, default=None, metavar="effnet_encoder.safetensors",
                        help="the official EfficientNet encoder (stabilityai/stable-cascade); adds effnet_encoder.onnx")
    parser.add_argument("--no-image-encoder", action="store_true",
                        help="leave out image_encoder.onnx even when the prior repo has image_encoder/")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    prior, decoder, text_encoder, vqgan = load_diffusers(args.prior_repo, args.decoder_repo, args.variant, args.weights)
    sizes = [tuple(int(v) for v in s.lower().split("x")) for s in (args.verify_size or ["512x512", "512x768"])]
    if len(set(sizes)) < 2:
        parser.error("give at least two different --verify-size values")
    path = export_components(text_encoder=text_encoder, prior=prior, decoder=decoder, vqgan=vqgan,
                             tokenizer_dir=args.prior_repo / "tokenizer", out=args.out, dtype=args.dtype, io_dtype=args.io_dtype,
                             manifest_base=stable_cascade_manifest_base(args.variant, args.preset),
                             verify_sizes=sizes,  # type: ignore[arg-type]
                             image_encoder=None if args.no_image_encoder or not (args.prior_repo / "image_encoder").is_dir()
                             else encoders.load_image_encoder(args.prior_repo),
                             effnet=encoders.load_official_effnet(args.effnet) if args.effnet else None)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
