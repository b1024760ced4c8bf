"""Build the parity fixture: a tiny random-weight Stable Cascade in diffusers format → our exporter → bundle, then
run the reference diffusers 0.35.2 prior + decoder pipelines on it and record the exact noise they drew and every
stage's output (test/fixtures/cascade-tiny/ + goldens.{json,bin}).

    PYTHONPATH=tools/export:tools/export/ref/src tools/export/.venv/bin/python tools/export/make_fixture.py \
        --out test/fixtures/cascade-tiny

Needs torch, transformers, onnx, onnxruntime and diffusers 0.35.2 (source checkout on PYTHONPATH is fine); CPU only.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cascade_export import bundle, export, graphs

SHARED_TOKENIZER = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "clip-tokenizer"
MERGES_KEPT = 2000  # a prefix of the CLIP merges keeps ids 0..511+MERGES_KEPT identical to the real vocabulary
PRIOR_STEPS, DECODER_STEPS = 6, 4

CASES = [
    {"name": "square", "prompt": "a photo of a red fox in the snow, high detail", "negative": "",
     "images": 4, "height": 128, "width": 128, "seed": 1234},
    {"name": "wide", "prompt": "an oil painting of a lighthouse at dusk", "negative": "blurry, low quality",
     "images": 2, "height": 128, "width": 256, "seed": 99},
]


def write_tokenizer(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    merges = (SHARED_TOKENIZER / "merges.txt").read_text(encoding="utf-8").splitlines()[1 : 1 + MERGES_KEPT]
    full: dict[str, int] = json.loads((SHARED_TOKENIZER / "vocab.json").read_text(encoding="utf-8"))
    vocab = {token: i for token, i in full.items() if i < 512 + MERGES_KEPT}
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    special = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
               "unk_token": "<|endoftext|>"}
    (folder / "special_tokens_map.json").write_text(json.dumps(special), encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(
        json.dumps({**special, "model_max_length": 77, "do_lower_case": True, "tokenizer_class": "CLIPTokenizer"}),
        encoding="utf-8")


def randomize(module: torch.nn.Module, seed: int) -> None:
    """diffusers zero-initialises output heads, GRN and time mappers; give every parameter a non-trivial value."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in module.parameters():
            if param.dim() >= 2:
                fan_in = param[0].numel()
                param.copy_(torch.randn(param.shape, generator=gen) / fan_in**0.5)
            else:
                param.copy_(torch.randn(param.shape, generator=gen) * 0.1)


def calibrate_head(conv: torch.nn.Conv2d, run, target_std: float, target_mean: float = 0.0) -> None:
    """Rescale an output conv so the module's output has about `target_std` / `target_mean` on random inputs:
    random weights otherwise give ε-predictions in the hundreds, which saturate every image and hide differences."""
    with torch.no_grad():
        out = run()
        conv.weight.mul_(target_std / float(out.std()))
        if conv.bias is not None:
            conv.bias.mul_(target_std / float(out.std()))
            conv.bias.add_(target_mean - float(run().mean()))


def build_diffusers_folders(root: Path) -> tuple[Path, Path]:
    from diffusers import StableCascadeUNet
    from diffusers.pipelines.wuerstchen import PaellaVQModel
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    prior_repo, decoder_repo = root / "prior-repo", root / "decoder-repo"
    for repo in (prior_repo, decoder_repo):
        write_tokenizer(repo / "tokenizer")
    vocab = json.loads((prior_repo / "tokenizer" / "vocab.json").read_text(encoding="utf-8"))
    torch.manual_seed(0)
    text_encoder = CLIPTextModelWithProjection(CLIPTextConfig(
        vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        max_position_embeddings=77, projection_dim=32, hidden_act="gelu",
        bos_token_id=vocab["<|startoftext|>"], eos_token_id=vocab["<|endoftext|>"], pad_token_id=vocab["<|endoftext|>"]))
    prior = StableCascadeUNet(
        in_channels=16, out_channels=16, timestep_ratio_embedding_dim=64, patch_size=1, conditioning_dim=64,
        block_out_channels=(64, 64), num_attention_heads=(2, 2), down_num_layers_per_block=(1, 1),
        up_num_layers_per_block=(1, 1), down_blocks_repeat_mappers=(1, 1), up_blocks_repeat_mappers=(1, 1),
        block_types_per_layer=(("SDCascadeResBlock", "SDCascadeTimestepBlock", "SDCascadeAttnBlock"),) * 2,
        clip_text_in_channels=32, clip_text_pooled_in_channels=32, clip_image_in_channels=24, clip_seq=4,
        kernel_size=3, dropout=(0.0, 0.0), self_attn=True, timestep_conditioning_type=("sca", "crp"),
        switch_level=(False,))
    decoder = StableCascadeUNet(
        in_channels=4, out_channels=4, timestep_ratio_embedding_dim=64, patch_size=2, conditioning_dim=32,
        block_out_channels=(16, 32, 64, 64), num_attention_heads=(0, 0, 2, 2), down_num_layers_per_block=(1, 1, 1, 1),
        up_num_layers_per_block=(1, 1, 1, 1), down_blocks_repeat_mappers=(1, 1, 1, 1),
        up_blocks_repeat_mappers=(2, 2, 1, 1),
        block_types_per_layer=(("SDCascadeResBlock", "SDCascadeTimestepBlock"),) * 2
        + (("SDCascadeResBlock", "SDCascadeTimestepBlock", "SDCascadeAttnBlock"),) * 2,
        clip_text_pooled_in_channels=32, clip_seq=4, effnet_in_channels=16, pixel_mapper_in_channels=3,
        kernel_size=3, dropout=(0.0,) * 4, self_attn=True, timestep_conditioning_type=("sca",))
    vqgan = PaellaVQModel(in_channels=3, out_channels=3, up_down_scale_factor=2, levels=2, bottleneck_blocks=2,
                          embed_dim=32, latent_channels=4, num_vq_embeddings=64, scale_factor=0.3764)
    for i, module in enumerate((text_encoder, prior, decoder, vqgan)):
        randomize(module, 100 + i)
    gen = torch.Generator().manual_seed(7)
    r = torch.tensor([0.9, 0.5, 0.1])
    calibrate_head(prior.clf[1], lambda: prior(torch.randn(3, 16, 3, 4, generator=gen), r,
                                                torch.randn(3, 1, 32, generator=gen), torch.randn(3, 77, 32, generator=gen),
                                                torch.zeros(3, 1, 24)).sample, 1.0)
    calibrate_head(decoder.clf[1], lambda: decoder(torch.randn(3, 4, 32, 32, generator=gen), r,
                                                    torch.randn(3, 1, 32, generator=gen),
                                                    effnet=torch.randn(3, 16, 3, 3, generator=gen)).sample, 1.0)
    # A random model does not predict the noise it is given, so the loop's latents end with std ≈ 140, not ≈ 1;
    # calibrate Stage A on inputs of that size so the images are not all clamped to 0 or 1.
    calibrate_head(vqgan.out_block[0],
                   lambda: vqgan.decode(0.3764 * 140 * torch.randn(2, 4, 32, 32, generator=gen)).sample, 0.25, 0.5)
    text_encoder.save_pretrained(prior_repo / "text_encoder")
    text_encoder.save_pretrained(decoder_repo / "text_encoder")
    prior.save_pretrained(prior_repo / "prior")
    decoder.save_pretrained(decoder_repo / "decoder")
    vqgan.save_pretrained(decoder_repo / "vqgan")
    return prior_repo, decoder_repo


def fixture_manifest_base() -> dict[str, Any]:
    """Sampler settings = diffusers semantics (spec §3.2): shift 1, raw r, rho 0, final mu, decoder cfg 0, scale 0.3764."""
    return {
        "name": "cascade-tiny", "variant": "fixture",
        "description": "Random-weight tiny Stable Cascade (diffusers classes) for parity tests; not a real model",
        "license": "test fixture",
        "resolution": {"base": 128, "multiple": 64, "min": 64, "max": 256},
        "geometry": {"priorCompression": 42.67, "decoderCompression": 4, "priorChannels": 16, "decoderChannels": 4},
        "prior": {"sampler": bundle.sampler(PRIOR_STEPS, 4.0), "variation": {"subtle": 0.5, "strong": 0.8}},
        "decoder": {"sampler": bundle.sampler(DECODER_STEPS, 0.0)},
        "vqgan": {"scaleFactor": 0.3764},
    }


class Goldens:
    """Float32 tensors back to back in goldens.bin, indexed by goldens.json {name: {offset, dims}} (offset in floats)."""

    def __init__(self) -> None:
        self.index: dict[str, Any] = {}
        self.chunks: list[np.ndarray] = []
        self.offset = 0

    def add(self, name: str, value: torch.Tensor | np.ndarray) -> None:
        array = (value.detach().float().cpu().numpy() if torch.is_tensor(value) else np.asarray(value)).astype("<f4")
        self.index[name] = {"offset": self.offset, "dims": list(array.shape)}
        self.chunks.append(array.ravel())
        self.offset += array.size

    def save(self, folder: Path, meta: dict[str, Any]) -> None:
        (folder / "goldens.bin").write_bytes(np.concatenate(self.chunks).tobytes())
        (folder / "goldens.json").write_text(json.dumps({**meta, "tensors": self.index}, indent=1) + "\n", encoding="utf-8")


def run_reference(prior_repo: Path, decoder_repo: Path, goldens: Goldens) -> list[dict[str, Any]]:
    import diffusers.schedulers.scheduling_ddpm_wuerstchen as sched_module
    from diffusers import DDPMWuerstchenScheduler, StableCascadeDecoderPipeline, StableCascadePriorPipeline
    from transformers import CLIPTokenizer

    prior, decoder, text_encoder, vqgan = export.load_diffusers(prior_repo, decoder_repo, "big", "fp32")
    tokenizer = CLIPTokenizer.from_pretrained(prior_repo / "tokenizer")
    prior_pipe = StableCascadePriorPipeline(tokenizer=tokenizer, text_encoder=text_encoder, prior=prior,
                                            scheduler=DDPMWuerstchenScheduler())
    decoder_pipe = StableCascadeDecoderPipeline(decoder=decoder, tokenizer=tokenizer, text_encoder=text_encoder,
                                                scheduler=DDPMWuerstchenScheduler(), vqgan=vqgan)
    drawn: list[torch.Tensor] = []
    original = sched_module.randn_tensor

    def recording_randn(*args: Any, **kwargs: Any) -> torch.Tensor:
        value = original(*args, **kwargs)
        drawn.append(value.clone())
        return value

    sched_module.randn_tensor = recording_randn
    cases = []
    try:
        for case in CASES:
            n, tag = case["images"], case["name"]
            gen = torch.Generator().manual_seed(case["seed"])
            for label, text in (("cond", case["prompt"]), ("uncond", case["negative"])):
                tokens = tokenizer(text, padding="max_length", max_length=77, truncation=True, return_tensors="pt")
                out = text_encoder(tokens.input_ids, attention_mask=tokens.attention_mask, output_hidden_states=True)
                goldens.add(f"{tag}/text/{label}/hidden", out.hidden_states[-1][0])
                goldens.add(f"{tag}/text/{label}/pooled", out.text_embeds[0])
                case[f"{label}_ids"] = tokens.input_ids[0].tolist()
                case[f"{label}_mask"] = tokens.attention_mask[0].tolist()
            h_c, w_c = int(np.ceil(case["height"] / 42.67)), int(np.ceil(case["width"] / 42.67))
            prior_init = torch.randn((n, 16, h_c, w_c), generator=gen)
            prior_steps: list[torch.Tensor] = []
            drawn.clear()
            with torch.no_grad():
                embeddings = prior_pipe(prompt=case["prompt"], negative_prompt=case["negative"],
                                        height=case["height"], width=case["width"], num_inference_steps=PRIOR_STEPS,
                                        guidance_scale=4.0, num_images_per_prompt=n, generator=gen,
                                        latents=prior_init, output_type="pt",
                                        callback_on_step_end=lambda p, i, t, kw: prior_steps.append(kw["latents"].clone()) or {},
                                        ).image_embeddings
            goldens.add(f"{tag}/prior/init", prior_init)
            for i, z in enumerate(drawn):
                goldens.add(f"{tag}/prior/noise/{i}", z)
            for i, x in enumerate(prior_steps):
                goldens.add(f"{tag}/prior/step/{i}", x)
            goldens.add(f"{tag}/prior/out", embeddings)
            goldens.add(f"{tag}/prior/timesteps", prior_pipe.scheduler.timesteps)
            case["prior_noise"] = len(drawn)
            h_b, w_b = int(h_c * 10.67), int(w_c * 10.67)
            decoder_init = torch.randn((n, 4, h_b, w_b), generator=gen)
            decoder_steps: list[torch.Tensor] = []
            drawn.clear()
            with torch.no_grad():
                images = decoder_pipe(image_embeddings=embeddings, prompt=case["prompt"],
                                      negative_prompt=case["negative"], num_inference_steps=DECODER_STEPS,
                                      guidance_scale=0.0, generator=gen, latents=decoder_init, output_type="pt",
                                      callback_on_step_end=lambda p, i, t, kw: decoder_steps.append(kw["latents"].clone()) or {},
                                      ).images
            goldens.add(f"{tag}/decoder/init", decoder_init)
            for i, z in enumerate(drawn):
                goldens.add(f"{tag}/decoder/noise/{i}", z)
            goldens.add(f"{tag}/decoder/out", decoder_steps[-1])
            goldens.add(f"{tag}/decoder/timesteps", decoder_pipe.scheduler.timesteps)
            goldens.add(f"{tag}/image", images)
            case["decoder_noise"] = len(drawn)
            cases.append(case)
    finally:
        sched_module.randn_tensor = original
    return cases


class TinyPreviewer(torch.nn.Module):
    """Stand-in for the official Previewer (16-ch latent → RGB, spec §1.1): conv, GELU, 4× transposed conv, sigmoid."""

    def __init__(self) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Conv2d(16, 32, 1), torch.nn.GELU(),
                                        torch.nn.ConvTranspose2d(32, 3, kernel_size=4, stride=4), torch.nn.Sigmoid())

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        return self.body(latents / 100.0)  # the fixture's latents are ~1e2 (see calibrate_head)


def add_previewer(out: Path) -> None:
    torch.manual_seed(5)
    io = bundle.IO["previewer"]
    graphs._export(TinyPreviewer().eval(), (torch.randn(1, 16, 3, 3),), out / "previewer.onnx", [io["input"]],
                   [io["output"]], {io["input"]: {0: "batch", 2: "height", 3: "width"},
                                    io["output"]: {0: "batch", 2: "image_height", 3: "image_width"}})
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["previewer"] = {**bundle.graph_entry(out, "previewer.onnx", "float32"), **io}
    bundle.write_manifest(out, manifest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dtype", choices=bundle.FLOAT_DTYPES, default="float32")
    args = parser.parse_args()
    import diffusers
    import transformers

    with tempfile.TemporaryDirectory() as tmp:
        prior_repo, decoder_repo = build_diffusers_folders(Path(tmp))
        prior, decoder, text_encoder, vqgan = export.load_diffusers(prior_repo, decoder_repo, "big", "fp32")
        export.export_components(text_encoder=text_encoder, prior=prior, decoder=decoder, vqgan=vqgan,
                                 tokenizer_dir=prior_repo / "tokenizer", out=args.out, dtype=args.dtype,
                                 manifest_base=fixture_manifest_base(),
                                 verify_sizes=[(128, 128), (128, 256), (192, 64)], verify_batches=(1, 3))
        goldens = Goldens()
        cases = run_reference(prior_repo, decoder_repo, goldens)
        meta = {"reference": {"diffusers": diffusers.__version__, "torch": torch.__version__,
                              "transformers": transformers.__version__, "device": "cpu", "dtype": "float32"},
                "priorSteps": PRIOR_STEPS, "decoderSteps": DECODER_STEPS, "priorCfg": 4.0, "decoderCfg": 0.0,
                "cases": cases}
        goldens.save(args.out, meta)
        # Stage A and Stage B again with fp16 weights and fp16 I/O (not in the manifest): tests swap them in to
        # exercise the engine's float16 feed/fetch paths.
        example = {"latents": torch.randn(1, 4, 32, 32)}
        graphs.export_vqgan_decoder(vqgan, args.out / "vqgan_decoder.fp16.onnx", "float16", example, "float16")
        # Stage B with fp16 weights and fp16 I/O: exercises the denoising loop's float16 feed/fetch buffers.
        example = {"sample": torch.randn(1, 4, 32, 32), "timestep_ratio": torch.tensor([0.5]),
                   "clip_text_pooled": torch.randn(1, 1, 32), "effnet": torch.randn(1, 16, 3, 3)}
        graphs.export_decoder(decoder, args.out / "decoder.fp16.onnx", "float16", example, "float16")
        add_previewer(args.out)
    print(f"fixture written to {args.out}")


if __name__ == "__main__":
    main()
