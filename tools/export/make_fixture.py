"""Build the parity fixture: a tiny random-weight Stable Cascade in diffusers format → our exporter → bundle, then
run the reference diffusers 0.35.2 prior + decoder pipelines on it and record the exact noise they drew and every
stage's output (test/fixtures/cascade-tiny/ + goldens.{json,bin}).

    PYTHONPATH=tools/export:tools/export/ref/src tools/export/.venv/bin/python tools/export/make_fixture.py \
        --out test/fixtures/cascade-tiny

`--images-only` adds the image encoders to an existing fixture without touching its other graphs or goldens: the
diffusers model is rebuilt from the same seeds, checked against the committed prior.onnx (it must be the same model),
then a tiny random CLIP vision tower and a tiny EfficientNet-shaped encoder are exported (image_encoder.onnx,
effnet_encoder.onnx), the input pictures written (inputs/*.png), and image-goldens.{json,bin} recorded:
- preprocess/*: CLIPImageProcessor's pixel_values (size 32 and the real 224) and the EfficientNet recipe's
  (torchvision antialiased bilinear cover-resize, centre crop, ImageNet normalisation) for odd-sized pictures;
- CLIP cases: diffusers' StableCascadePriorPipeline with `images=` (and with weighted `image_embeds=`), every noise draw;
- img2img: the spec §4.2 recipe (EfficientNet latent, forward-noised to t_start, Stage C from t_start with diffusers'
  DDPMWuerstchenScheduler), every noise draw.

Needs torch, transformers, onnx, onnxruntime and diffusers 0.35.2 (source checkout on PYTHONPATH is fine); CPU only.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from cascade_export import bundle, export, graphs
from cascade_export.pictures import picture_maker

CLIP_TOKENIZER = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "vectors" / "clip-tokenizer"
MERGES_KEPT = 2000  # a prefix of the CLIP merges keeps ids 0..511+MERGES_KEPT identical to the real vocabulary
PRIOR_STEPS, DECODER_STEPS = 6, 4

CASES = [
    {"name": "square", "prompt": "a photo of a red fox in the snow, high detail", "negative": "",
     "images": 4, "height": 128, "width": 128, "seed": 1234},
    {"name": "wide", "prompt": "an oil painting of a lighthouse at dusk", "negative": "blurry, low quality",
     "images": 2, "height": 128, "width": 256, "seed": 99},
]


@contextmanager
def recording_scheduler_noise(sched_module: Any) -> Iterator[list[torch.Tensor]]:
    """Every noise draw of diffusers' Würstchen scheduler, recorded (in order) while the block runs, then restored."""
    drawn: list[torch.Tensor] = []
    original = sched_module.randn_tensor

    def recording_randn(*args: Any, **kwargs: Any) -> torch.Tensor:
        value = original(*args, **kwargs)
        drawn.append(value.clone())
        return value

    sched_module.randn_tensor = recording_randn
    try:
        yield drawn
    finally:
        sched_module.randn_tensor = original


def write_tokenizer(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    merges = (CLIP_TOKENIZER / "merges.txt").read_text(encoding="utf-8").splitlines()[1 : 1 + MERGES_KEPT]
    full: dict[str, int] = json.loads((CLIP_TOKENIZER / "vocab.json").read_text(encoding="utf-8"))
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
    cases = []
    with recording_scheduler_noise(sched_module) as drawn:
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


# --- image encoders (issue #20) ---------------------------------------------------------------------------------
CLIP_SIZE, EFFNET_CELL = 32, 32
IMG2IMG_STRENGTH = 0.5


def tiny_image_encoder() -> torch.nn.Module:
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(1)
    model = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, image_size=CLIP_SIZE,
        patch_size=8, projection_dim=24, hidden_act="quick_gelu"))
    randomize(model, 104)
    # randomize() gives every LayerNorm γ ~ N(0, 0.1), which all but hides the picture from the class token (two
    # unrelated pictures gave embeddings 4 % apart); γ = 1 + 0.1·N(0, 1) keeps the tokens at unit scale, as trained.
    gen = torch.Generator().manual_seed(9)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.copy_(1 + 0.1 * torch.randn(module.weight.shape, generator=gen))
    try:  # the eager attention exports as plain ops (as the text encoder, loaded with attn_implementation="eager")
        model.set_attn_implementation("eager")
    except (AttributeError, ValueError):
        model.config._attn_implementation = "eager"
    return model.eval()


def tiny_effnet_encoder() -> torch.nn.Module:
    """torchvision's EfficientNet classes with a tiny stage list; total stride 32 like EfficientNetV2-S (stem /2, four
    stride-2 stages), then the official mapper (1×1 conv, BatchNorm2d affine=False) with calibrated running stats.

    randomize() alone gives every BatchNorm γ ~ N(0, 0.1) with running stats (0, 1): the backbone's eleven BatchNorms
    in a row scale the picture's signal by ~1e-11, below float32 rounding of the biases, so the encoder ignored its
    input (the first --images-only fixture had that defect). Like a trained network's, each backbone BatchNorm here
    keeps activations near unit scale: γ = 1 + 0.1·N(0, 1), running statistics measured on random pictures, layer by
    layer in order (each with the earlier ones already calibrated)."""
    from torchvision.models.efficientnet import EfficientNet, FusedMBConvConfig, MBConvConfig

    from cascade_export.encoders import EfficientNetEncoder

    torch.manual_seed(2)
    setting = [FusedMBConvConfig(1, 3, 2, 8, 8, 1), FusedMBConvConfig(4, 3, 2, 8, 16, 1),
               MBConvConfig(4, 3, 2, 16, 24, 1), MBConvConfig(4, 3, 2, 24, 32, 1)]
    net = EfficientNet(setting, dropout=0.0, last_channel=64)
    model = EfficientNetEncoder(net.features, 64, 16)
    randomize(model, 105)
    model.eval()
    gen = torch.Generator().manual_seed(8)
    batch = torch.randn(8, 3, 96, 96, generator=gen)
    norms = [m for m in model.backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in norms:
            bn.weight.copy_(1 + 0.1 * torch.randn(bn.weight.shape, generator=gen))
        for bn in norms:  # one pass per layer in training mode, cumulative average = that batch's statistics
            bn.reset_running_stats()
            bn.momentum = None
            bn.train()
            model.backbone(batch)
            bn.eval()
        features = model.mapper[0](model.backbone(batch))
        model.mapper[1].running_mean.copy_(features.mean(dim=(0, 2, 3)))
        model.mapper[1].running_var.copy_(features.var(dim=(0, 2, 3)))
    return model


def check_responds(name: str, encode, first: torch.Tensor, second: torch.Tensor) -> None:  # noqa: ANN001
    """An encoder whose output barely depends on its input makes its parity goldens meaningless: refuse to write them."""
    with torch.no_grad():
        a, b = encode(first), encode(second)
    change = float((a - b).abs().max() / a.abs().max().clamp_min(1e-12))
    print(f"{name}: two pictures differ by {change:.3g} of the largest output")
    if change < 0.05:
        raise SystemExit(f"{name} hardly depends on its input (relative change {change:.3g}); fix its initialisation")


def write_inputs(folder: Path) -> dict[str, Any]:
    """Deterministic pictures: odd sizes for the preprocessing references, exact encoder sizes for parity."""

    folder.mkdir(parents=True, exist_ok=True)
    picture = picture_maker()
    pictures = {"wide": picture(97, 61), "tall": picture(50, 120), "alpha": picture(64, 64, "RGBA"),
                "clip-a": picture(CLIP_SIZE, CLIP_SIZE), "clip-b": picture(CLIP_SIZE, CLIP_SIZE).rotate(90),
                "effnet-square": picture(EFFNET_CELL * 3, EFFNET_CELL * 3)}
    for name, image in pictures.items():
        image.save(folder / f"{name}.png")
    return pictures


def clip_processor(size: int):
    from transformers import CLIPImageProcessor
    from PIL import Image

    return CLIPImageProcessor(do_resize=True, size={"shortest_edge": size}, resample=Image.BICUBIC, do_center_crop=True,
                              crop_size={"height": size, "width": size}, do_rescale=True, rescale_factor=1 / 255,
                              do_normalize=True, image_mean=list(bundle.CLIP_MEAN), image_std=list(bundle.CLIP_STD),
                              do_convert_rgb=True)


def effnet_reference_pixels(image, height: int, width: int) -> torch.Tensor:
    """The recipe's preprocessing: [0,1] RGB, antialiased bilinear resize to cover (height, width), centre crop
    (offsets rounded down), ImageNet normalisation. [1, 3, height, width]."""
    from torchvision.transforms import functional as TF

    x = TF.to_tensor(image.convert("RGB")).unsqueeze(0)
    h, w = x.shape[-2:]
    scale = max(width / w, height / h)
    new_h, new_w = max(height, round(h * scale)), max(width, round(w * scale))
    if (new_h, new_w) != (h, w):
        x = TF.resize(x, [new_h, new_w], interpolation=TF.InterpolationMode.BILINEAR, antialias=True)
    top, left = (new_h - height) // 2, (new_w - width) // 2
    x = x[:, :, top:top + height, left:left + width]
    mean = torch.tensor(bundle.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(bundle.IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def check_same_model(prior: torch.nn.Module, out: Path) -> None:
    """The rebuilt diffusers prior must be the committed prior.onnx's model (same seeds, same torch RNG)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(out / "prior.onnx"), providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(3)
    feeds = {"sample": torch.randn(2, 16, 3, 3, generator=gen), "timestep_ratio": torch.tensor([0.7, 0.2]),
             "clip_text_pooled": torch.randn(2, 1, 32, generator=gen), "clip_text": torch.randn(2, 77, 32, generator=gen),
             "clip_img": torch.randn(2, 2, 24, generator=gen)}
    (onnx_out,) = session.run(None, {k: v.numpy() for k, v in feeds.items()})
    with torch.no_grad():
        torch_out = prior(feeds["sample"], feeds["timestep_ratio"], clip_text_pooled=feeds["clip_text_pooled"],
                          clip_text=feeds["clip_text"], clip_img=feeds["clip_img"]).sample.numpy()
    diff = float(np.max(np.abs(onnx_out - torch_out)))
    print(f"rebuilt prior vs committed prior.onnx: max |diff| {diff:.3g}")
    if diff > 1e-4 * (1 + float(np.max(np.abs(torch_out)))):
        raise SystemExit("the rebuilt diffusers prior is not the committed fixture's model; regenerate the whole fixture")


def add_image_encoders(out: Path, prior_repo: Path, decoder_repo: Path) -> None:
    from cascade_export import encoders

    image_encoder, effnet = tiny_image_encoder(), tiny_effnet_encoder()
    image_encoder.save_pretrained(prior_repo / "image_encoder")
    clip_processor(CLIP_SIZE).save_pretrained(prior_repo / "feature_extractor")
    prior, _, text_encoder, _ = export.load_diffusers(prior_repo, decoder_repo, "big", "fp32")
    check_same_model(prior, out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["imageEncoder"] = encoders.export_image_encoder(image_encoder, out, "float32", "float32", CLIP_SIZE)
    manifest["effnetEncoder"] = encoders.export_effnet_encoder(effnet, out, "float32", "float32", EFFNET_CELL,
                                                               ((3, 3), (3, 6)))
    bundle.write_manifest(out, manifest)
    goldens = Goldens()
    cases = run_image_reference(out, prior_repo, prior, text_encoder, image_encoder, effnet, goldens)
    import diffusers
    import torchvision
    import transformers
    meta = {"reference": {"diffusers": diffusers.__version__, "torch": torch.__version__,
                          "torchvision": torchvision.__version__, "transformers": transformers.__version__,
                          "device": "cpu", "dtype": "float32"},
            "priorSteps": PRIOR_STEPS, "priorCfg": 4.0, "clipSize": CLIP_SIZE, "effnetCell": EFFNET_CELL, "cases": cases}
    (out / "image-goldens.bin").write_bytes(np.concatenate(goldens.chunks).tobytes())
    (out / "image-goldens.json").write_text(json.dumps({**meta, "tensors": goldens.index}, indent=1) + "\n", encoding="utf-8")


def run_image_reference(out: Path, prior_repo: Path, prior, text_encoder, image_encoder, effnet,  # noqa: ANN001
                        goldens: Goldens) -> list[dict[str, Any]]:
    import diffusers.schedulers.scheduling_ddpm_wuerstchen as sched_module
    from diffusers import DDPMWuerstchenScheduler, StableCascadePriorPipeline
    from transformers import CLIPTokenizer

    pictures = write_inputs(out / "inputs")
    # Preprocessing references: CLIP at the fixture's size and at the real 224; EfficientNet at two latent grids.
    for name in ("wide", "tall", "alpha"):
        for size in (CLIP_SIZE, 224):
            goldens.add(f"preprocess/clip{size}/{name}", clip_processor(size)(pictures[name], return_tensors="pt").pixel_values)
        for h_c, w_c in ((3, 3), (3, 6)):
            goldens.add(f"preprocess/effnet{h_c}x{w_c}/{name}", effnet_reference_pixels(pictures[name], EFFNET_CELL * h_c, EFFNET_CELL * w_c))
    tokenizer = CLIPTokenizer.from_pretrained(prior_repo / "tokenizer")
    pipe = StableCascadePriorPipeline(tokenizer=tokenizer, text_encoder=text_encoder, prior=prior,
                                      scheduler=DDPMWuerstchenScheduler(), image_encoder=image_encoder,
                                      feature_extractor=clip_processor(CLIP_SIZE))
    clip_pixels = [pipe.feature_extractor(pictures[p], return_tensors="pt").pixel_values for p in ("clip-a", "clip-b")]
    check_responds("CLIP image encoder", lambda x: image_encoder(pixel_values=x).image_embeds, *clip_pixels)
    cases: list[dict[str, Any]] = []
    with recording_scheduler_noise(sched_module) as drawn:
        # CLIP path: diffusers' prior with images= (weights 1), with weighted image_embeds=, and a pure variation.
        clip_cases = [
            {"name": "clip", "prompt": "a photo of a red fox", "pictures": ["clip-a", "clip-b"], "weights": [1.0, 1.0], "seed": 5},
            {"name": "clip-weighted", "prompt": "a photo of a red fox", "pictures": ["clip-a", "clip-b"], "weights": [0.5, 2.0], "seed": 6},
            {"name": "variation", "prompt": "", "pictures": ["clip-b"], "weights": [1.0], "seed": 7},
        ]
        for case in clip_cases:
            n, tag = 2, case["name"]
            gen = torch.Generator().manual_seed(case["seed"])
            images = [pictures[p] for p in case["pictures"]]
            with torch.no_grad():
                pixel_values = torch.cat([pipe.feature_extractor(im, return_tensors="pt").pixel_values for im in images])
                embeds = image_encoder(pixel_values=pixel_values).image_embeds
            goldens.add(f"{tag}/pixel_values", pixel_values)
            goldens.add(f"{tag}/image_embeds", embeds)
            prior_init = torch.randn((n, 16, 3, 3), generator=gen)
            drawn.clear()
            kwargs: dict[str, Any] = {}
            if case["weights"] == [1.0] * len(images):
                kwargs["images"] = images
            else:  # weights scale each embedding (gpu-runner/cascade/stages/encoders.ts)
                weights = torch.tensor(case["weights"]).view(-1, 1)
                kwargs["image_embeds"] = (embeds * weights).unsqueeze(0)
            with torch.no_grad():
                result = pipe(prompt=case["prompt"], negative_prompt="", height=128, width=128,
                              num_inference_steps=PRIOR_STEPS, guidance_scale=4.0, num_images_per_prompt=n,
                              generator=gen, latents=prior_init, output_type="pt", **kwargs).image_embeddings
            goldens.add(f"{tag}/prior/init", prior_init)
            for i, z in enumerate(drawn):
                goldens.add(f"{tag}/prior/noise/{i}", z)
            goldens.add(f"{tag}/prior/out", result)
            goldens.add(f"{tag}/prior/timesteps", pipe.scheduler.timesteps)
            cases.append({**case, "kind": "clip", "images": n, "height": 128, "width": 128, "priorNoise": len(drawn)})
        # EfficientNet path: the spec §4.2 recipe with diffusers' scheduler (fixture sampler: shift 1, raw r).
        tag, n, seed = "img2img", 2, 9
        gen = torch.Generator().manual_seed(seed)
        pixels = effnet_reference_pixels(pictures["effnet-square"], EFFNET_CELL * 3, EFFNET_CELL * 3)
        check_responds("EfficientNet encoder", effnet, pixels,
                       effnet_reference_pixels(pictures["wide"], EFFNET_CELL * 3, EFFNET_CELL * 3))
        with torch.no_grad():
            x0 = effnet(pixels)
        goldens.add(f"{tag}/pixels", pixels)
        goldens.add(f"{tag}/latent", x0)
        scheduler = DDPMWuerstchenScheduler()
        steps = max(1, round(PRIOR_STEPS * IMG2IMG_STRENGTH))
        scheduler.timesteps = torch.linspace(IMG2IMG_STRENGTH, 0.0, steps + 1)
        t_start = scheduler.timesteps[:1]
        abar = scheduler._alpha_cumprod(t_start, "cpu").view(1, 1, 1, 1)
        epsilon = torch.randn((n, 16, 3, 3), generator=gen)
        x = abar.sqrt() * x0.repeat(n, 1, 1, 1) + (1 - abar).sqrt() * epsilon
        prompt, negative = "a lighthouse at dusk", ""
        embeds = {}
        for label, text in (("cond", prompt), ("uncond", negative)):
            tokens = tokenizer(text, padding="max_length", max_length=77, truncation=True, return_tensors="pt")
            te = text_encoder(tokens.input_ids, attention_mask=tokens.attention_mask, output_hidden_states=True)
            embeds[label] = (te.hidden_states[-1], te.text_embeds.unsqueeze(1))
        clip_text = torch.cat([embeds["cond"][0].repeat(n, 1, 1), embeds["uncond"][0].repeat(n, 1, 1)])
        pooled = torch.cat([embeds["cond"][1].repeat(n, 1, 1), embeds["uncond"][1].repeat(n, 1, 1)])
        clip_img = torch.zeros(2 * n, 1, 24)
        drawn.clear()
        with torch.no_grad():
            for t in scheduler.timesteps[:-1]:
                r = t.expand(2 * n)
                eps = prior(torch.cat([x, x]), r, clip_text_pooled=pooled, clip_text=clip_text, clip_img=clip_img).sample
                cond, uncond = eps.chunk(2)
                x = scheduler.step(torch.lerp(uncond, cond, 4.0), timestep=t.expand(n), sample=x, generator=gen).prev_sample
        goldens.add(f"{tag}/prior/variation", epsilon)
        for i, z in enumerate(drawn):
            goldens.add(f"{tag}/prior/noise/{i}", z)
        goldens.add(f"{tag}/prior/out", x)
        goldens.add(f"{tag}/prior/timesteps", scheduler.timesteps)
        cases.append({"name": tag, "kind": "img2img", "prompt": prompt, "negative": negative, "picture": "effnet-square",
                      "strength": IMG2IMG_STRENGTH, "images": n, "height": 128, "width": 128, "seed": seed,
                      "priorNoise": len(drawn)})
    return cases


def add_text_encoder_fp16(out: Path) -> None:
    """text_encoder.fp16.onnx (float16 outputs, not in the manifest) from the fixture's float32 text encoder, through the
    same float16 conversion `export_text_encoder` applies after its float32 trace (issue #25: a text encoder traced in
    float16 had float32/float16 LayerNormalization inputs and did not load); loaded and checked with onnxruntime."""
    target = out / "text_encoder.fp16.onnx"
    graphs.convert_to_float16(out / "text_encoder.onnx", target, keep_io_types=False)
    io = bundle.IO["textEncoder"]
    ids = np.tile((np.arange(77, dtype=np.int64) * 37) % 2500, (2, 1))
    feeds = [{io["inputs"]["inputIds"]: ids, io["inputs"]["attentionMask"]: np.ones_like(ids)}]
    outputs = {io["outputs"]["pooled"]: "float16", io["outputs"]["hidden"]: "float16"}
    reference = bundle.verify_graph(out / "text_encoder.onnx", feeds, {k: "int64" for k in feeds[0]},
                                    {k: "float32" for k in outputs})[0]
    bundle.verify_graph(target, feeds, {k: "int64" for k in feeds[0]}, outputs, reference=lambda _: reference, atol=2e-2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dtype", choices=bundle.FLOAT_DTYPES, default="float32")
    parser.add_argument("--images-only", action="store_true", help="add the image encoders to an existing fixture")
    parser.add_argument("--text-encoder-fp16-only", action="store_true",
                        help="add text_encoder.fp16.onnx (the committed text_encoder.onnx through the exporter's float16 "
                             "conversion; needs onnx and onnxruntime, not diffusers)")
    args = parser.parse_args()
    if args.text_encoder_fp16_only:
        add_text_encoder_fp16(args.out)
        return
    import diffusers
    import transformers

    if args.images_only:
        with tempfile.TemporaryDirectory() as tmp:
            prior_repo, decoder_repo = build_diffusers_folders(Path(tmp))
            add_image_encoders(args.out, prior_repo, decoder_repo)
        print(f"image encoders added to {args.out}")
        return

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
        add_text_encoder_fp16(args.out)
        add_previewer(args.out)
        add_image_encoders(args.out, prior_repo, decoder_repo)
    print(f"fixture written to {args.out}")


if __name__ == "__main__":
    main()
