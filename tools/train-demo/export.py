"""Export the trained demo model to a cascade bundle through the project's bundle writer, verify every graph with
onnxruntime against PyTorch at two shapes, and render the held-out prompts with candidate sampler settings.

Writes into OUT: bundle-prior.tar (prior.onnx), bundle-rest.tar (the other graphs, tokenizer, manifest.json),
eval.tar (PNG contact sheets + index.json for bench/demo-quality.ts).
"""
from __future__ import annotations

import copy
import dataclasses
import io
import json
import os
import random
import sys
import tarfile
import tempfile
import time

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "export"))
from cascade_export import bundle as cb  # noqa: E402

import dataset  # noqa: E402
import models  # noqa: E402
import sampling  # noqa: E402

PRIOR_COMPRESSION = 16
CLIP_IMG = 32  # width of the one clip_img token (models.ImageHead)
SCALE_FACTOR = 1.0  # Stage A's encoder ends in a non-affine BatchNorm: its latents are already unit-variance
DEFAULT_PRIOR, DEFAULT_DECODER = sampling.DEFAULT_PRIOR, sampling.DEFAULT_DECODER
CANDIDATES = [  # in order of interest; evaluation stops adding sheets after EVAL_SECONDS
    ("c12-cfg3", DEFAULT_PRIOR, DEFAULT_DECODER),
    ("c12-cfg4", sampling.Settings(12, 4.0), DEFAULT_DECODER),
]
EVAL_PROMPTS = 200  # all held-out prompts (GPU sampler; bench/demo-quality.ts judges the sheets or runs the TS engine)
EVAL_SECONDS = 60


def _export(module: torch.nn.Module, args: tuple, path: str, inputs: list[str], outputs: list[str],
            dynamic: dict[str, dict[int, str]]) -> None:
    from torch.export import Dim

    shapes = {name: {axis: Dim.AUTO for axis in dynamic.get(name, {})} for name in inputs}
    try:
        torch.onnx.export(module, args, path, dynamo=True, opset_version=18, input_names=inputs, output_names=outputs,
                          dynamic_shapes=shapes, external_data=False)
    except Exception as error:  # fall back to the TorchScript exporter; verify_graph below checks it at 2 shapes
        print(f"dynamo export of {os.path.basename(path)} failed ({type(error).__name__}: {error}); using legacy")
        torch.onnx.export(module, args, path, dynamo=False, opset_version=18, input_names=inputs,
                          output_names=outputs, dynamic_axes=dynamic)


def _ref(module: torch.nn.Module, names: list[str]):
    def run(feeds):
        with torch.no_grad():
            out = module(*[torch.from_numpy(np.asarray(feeds[n])) for n in names])
        out = out if isinstance(out, tuple) else (out,)
        return out
    return run


def export_graphs(bundle: str, graphs: dict[str, torch.nn.Module], length: int, vocab: int) -> None:
    models.EXPORTING = True
    b, L = 2, length
    specs = {
        "text_encoder.onnx": (graphs["text_encoder"], (torch.randint(0, vocab, (b, L)), torch.ones(b, L, dtype=torch.long)),
                              ["input_ids", "attention_mask"], ["text_embeds", "hidden_state_last"],
                              {"input_ids": {0: "batch"}, "attention_mask": {0: "batch"}}),
        "prior.onnx": (graphs["prior"], (torch.randn(b, 16, 16, 16), torch.rand(b), torch.randn(b, 1, 128),
                                         torch.randn(b, L, 128), torch.randn(b, 1, CLIP_IMG)),
                       ["sample", "timestep_ratio", "clip_text_pooled", "clip_text", "clip_img"], ["eps"],
                       {"sample": {0: "batch", 2: "h", 3: "w"}, "timestep_ratio": {0: "batch"},
                        "clip_text_pooled": {0: "batch"}, "clip_text": {0: "batch"}, "clip_img": {0: "batch"}}),
        "decoder.onnx": (graphs["decoder"], (torch.randn(b, 4, 64, 64), torch.rand(b), torch.randn(b, 1, 128),
                                             torch.randn(b, 16, 16, 16)),
                         ["sample", "timestep_ratio", "clip_text_pooled", "effnet"], ["eps"],
                         {"sample": {0: "batch", 2: "hb", 3: "wb"}, "timestep_ratio": {0: "batch"},
                          "clip_text_pooled": {0: "batch"}, "effnet": {0: "batch", 2: "hc", 3: "wc"}}),
        "vqgan_decoder.onnx": (graphs["vqgan"], (torch.randn(b, 4, 64, 64),), ["latents"], ["image"],
                               {"latents": {0: "batch", 2: "h", 3: "w"}}),
        "previewer.onnx": (graphs["previewer"], (torch.randn(b, 16, 16, 16),), ["latents"], ["image"],
                           {"latents": {0: "batch", 2: "h", 3: "w"}}),
        # images as prompts (issue 20/21): the image prompt's encoder into clip_img, and the EfficientNet-role encoder
        # (image → Stage C latent) for img2img; both take RGB in [0, 1], NCHW float32
        "image_encoder.onnx": (graphs["image_encoder"], (torch.rand(b, 3, models.IMAGE_SIDE, models.IMAGE_SIDE),),
                               ["pixel_values"], ["image_embeds"], {"pixel_values": {0: "batch"}}),
        "effnet_encoder.onnx": (graphs["effnet_encoder"], (torch.rand(b, 3, 256, 256),), ["image"], ["latent"],
                                {"image": {0: "batch", 2: "h", 3: "w"}}),
    }
    for file, (module, args, inputs, outputs, dynamic) in specs.items():
        module.eval().float().cpu()
        _export(module, args, os.path.join(bundle, file), inputs, outputs, dynamic)
        # Parity with PyTorch at the traced shape and at a different batch / aspect ratio.
        other = tuple(torch.cat([a, a[:1]]) for a in args)
        if file not in ("text_encoder.onnx", "image_encoder.onnx"):  # those two have a fixed sequence / image size
            other = tuple(_resize(a, n) for a, n in zip(other, inputs))
        feeds = [dict(zip(inputs, (a.numpy() for a in args))), dict(zip(inputs, (a.numpy() for a in other)))]
        expect_in = {n: ("int64" if n in ("input_ids", "attention_mask") else "float32") for n in inputs}
        cb.verify_graph(os.path.join(bundle, file), feeds, expect_in, {o: "float32" for o in outputs},
                        reference=lambda f, m=module, n=inputs, o=outputs: dict(zip(o, (t.numpy() for t in _ref(m, n)(f)))),
                        atol=2e-3)
        print(f"exported {file}: {os.path.getsize(os.path.join(bundle, file)) / 1e6:.2f} MB, ORT == torch at 2 shapes")
    models.EXPORTING = False


def _resize(a: torch.Tensor, name: str) -> torch.Tensor:
    """A second shape for the spatial inputs: 1.5× wider (landscape), like a 256×384 canvas."""
    if a.dim() == 4:
        return torch.randn(a.shape[0], a.shape[1], a.shape[2], a.shape[3] * 3 // 2)
    return a


def write_bundle(out: str, graphs, tokenizer, priors: sampling.Settings, decoder: sampling.Settings,
                 vocabulary: list[str]) -> str:
    bundle = os.path.join(out, "bundle")
    os.makedirs(bundle, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer.save(os.path.join(tmp, "vocab.json"), os.path.join(tmp, "merges.txt"))
        tok = cb.copy_tokenizer(tmp, bundle, max_length=tokenizer.max_length)
    export_graphs(bundle, graphs, tokenizer.max_length, len(tokenizer.vocab))
    manifest = {
        "format": "cascade-bundle", "version": 1, "name": "demo-shapes", "variant": "demo",
        "description": "Small Stable-Cascade-shaped demo model trained by the project on procedural shapes "
                       "(tools/train-demo). Knows circles, squares, triangles, diamonds; 11 colours; 9 positions.",
        "license": "MIT",
        "tokenizer": tok,
        "resolution": {"base": 256, "multiple": 64, "min": 128, "max": 512},
        "geometry": {"priorCompression": PRIOR_COMPRESSION, "decoderCompression": 4, "priorChannels": 16,
                     "decoderChannels": 4},
        "textEncoder": {**cb.graph_entry(bundle, "text_encoder.onnx", "float32"), "hiddenSize": 128, "pooledSize": 128},
        # clipImageGroups: prior.onnx's clip_img has one token group (only its batch axis is dynamic, above); the engine
        # sums a blend's weighted embeddings into it and refuses to load a one-group prior that does not declare it
        "prior": {**cb.graph_entry(bundle, "prior.onnx", "float32"), "clipImageSize": CLIP_IMG, "clipImageGroups": 1,
                  "sampler": priors.manifest(), "variation": {"subtle": 0.45, "strong": 0.7}},
        "decoder": {**cb.graph_entry(bundle, "decoder.onnx", "float32"), "sampler": decoder.manifest()},
        "vqgan": {**cb.graph_entry(bundle, "vqgan_decoder.onnx", "float32"), "scaleFactor": SCALE_FACTOR},
        "previewer": cb.graph_entry(bundle, "previewer.onnx", "float32"),
        # images as prompts (issue 20's manifest sections): RGB in [0, 1], no normalisation
        "imageEncoder": cb.image_encoder_section(bundle, "image_encoder.onnx", "float32", size=models.IMAGE_SIDE,
                                                 embed_size=CLIP_IMG, mean=(0, 0, 0), std=(1, 1, 1)),
        "effnetEncoder": cb.effnet_encoder_section(bundle, "effnet_encoder.onnx", "float32", cell=PRIOR_COMPRESSION,
                                                   channels=16, mean=(0, 0, 0), std=(1, 1, 1)),
        "vocabulary": {"summary": "the demo model draws shapes and colours", "words": vocabulary},
        "styles": {},  # no --style preset is drawable by this model: the bot says so and draws without it
    }
    cb.write_manifest(bundle, manifest)
    cb.verify_bundle(bundle, sizes=((256, 256), (256, 384), (512, 512)), batches=(1, 2))
    print("verify_bundle: every graph at 256², 256×384, 512² × batch 1, 2 — ok")
    return bundle


@torch.no_grad()
def generate(nets, tokenizer, prompts: list[str], seed: int, prior_s: sampling.Settings,
             decoder_s: sampling.Settings, side: int = 256, latents: torch.Tensor | None = None,
             clip_img: torch.Tensor | None = None, start: torch.Tensor | None = None):
    """The engine's recipe in torch: text (+ image prompt) → Stage C (CFG against the empty prompt and zero clip_img)
    → Stage B (zero effnet as null) → Stage A. `clip_img` [n,1,C]: image prompts; `start`: a Stage C latent to
    re-noise to prior_s.t_start and sample back (img2img / variation); `latents`: skip Stage C."""
    dev = next(nets["prior"].parameters()).device
    gen = torch.Generator(device=dev).manual_seed(seed)
    enc = [tokenizer.encode(p) for p in prompts] + [tokenizer.encode("")]
    ids = torch.tensor([e[0] for e in enc], device=dev)
    mask = torch.tensor([e[1] for e in enc], device=dev)
    pooled, hidden = nets["text_encoder"](ids, mask)
    n = len(prompts)
    cond_p, cond_h = pooled[:n, None], hidden[:n]
    both_p = torch.cat([cond_p, pooled[n:].expand(n, -1)[:, None]])
    both_h = torch.cat([cond_h, hidden[n:].expand(n, -1, -1)])
    width = nets["prior"].clip_img_mapper.in_features
    img = torch.zeros(n, 1, width, device=dev) if clip_img is None else clip_img
    both_img = torch.cat([img, torch.zeros_like(img)])
    if latents is None:
        def prior_fn(x, r, doubled):
            p, h = (both_p, both_h) if doubled else (cond_p, cond_h)
            return nets["prior"](x, r, p, h, both_img if doubled else img)
        hc = side // PRIOR_COMPRESSION
        noise = torch.randn(n, 16, hc, hc, generator=gen, device=dev)
        if start is not None:
            noise, _ = sampling.noisy(start, torch.full((n,), prior_s.t_start, device=dev), noise)
        latents = sampling.sample(prior_fn, noise, prior_s, gen)

    def decoder_fn(x, r, doubled):
        eff = torch.cat([latents, torch.zeros_like(latents)]) if doubled else latents
        return nets["decoder"](x, r, both_p if doubled else cond_p, eff)
    lat_b = sampling.sample(decoder_fn, torch.randn(n, 4, side // 4, side // 4, generator=gen, device=dev), decoder_s, gen)
    return nets["vqgan"](lat_b * SCALE_FACTOR), latents


def sheet(images: torch.Tensor, cols: int) -> bytes:
    arr = (images.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    n, h, w, _ = arr.shape
    rows = (n + cols - 1) // cols
    canvas = np.zeros((rows * h, cols * w, 3), np.uint8)
    for i in range(n):
        canvas[(i // cols) * h:(i // cols + 1) * h, (i % cols) * w:(i % cols + 1) * w] = arr[i]
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def heldout_truth(held: list[dict], dev: torch.device, seed: int = 5) -> torch.Tensor:
    """The held-out single-shape scenes drawn exactly at 256² (their size when unsaid: medium)."""
    import render  # noqa: E402  (GPU renderer of the training data)

    scenes = [dataset.Scene(h["background"], (dataset.Shape(h["shape"], h["colour"], h["position"], h["size"] or "medium"),),
                            h["prompt"]) for h in held]
    table = {k: v.to(dev) for k, v in render.encode_scenes(scenes).items()}
    return render.render(render.sample_params(table, torch.Generator(device=dev).manual_seed(seed)), 256)


@torch.no_grad()
def diagnostic_sheets(nets, encoder, tokenizer, held: list[dict]) -> dict[str, torch.Tensor]:
    """Where do corners get lost? The held-out scenes drawn exactly (truth), through Stage A alone (stage-a), and
    decoded by Stage B + A from their exact semantic latent (exact-latent: Stage B's share, no Stage C)."""
    dev = next(nets["decoder"].parameters()).device
    truth = heldout_truth(held, dev)
    stage_a = nets["vqgan"].stage_a
    recon = nets["vqgan"](stage_a.encode(truth))
    exact = torch.cat([generate(nets, tokenizer, [h["prompt"] for h in held[i:i + 50]], 2000 + i, DEFAULT_PRIOR,
                                DEFAULT_DECODER, latents=encoder(truth[i:i + 50]))[0] for i in range(0, len(held), 50)])
    return {"exact-latent": exact, "stage-a": recon, "truth": truth}  # most telling first


IMG2IMG_STRENGTH = 0.5


@torch.no_grad()
def image_prompt_sheets(nets, tokenizer, held: list[dict]) -> dict[str, tuple[torch.Tensor, list[dict]]]:
    """The issue's image families on the GPU (the TypeScript engine's image path is issue 20's): each held-out scene
    drawn exactly is (a) the only prompt of an image variation (empty text, its clip_img from image_encoder, CFG
    against zero clip_img) — expected: the same colour, background, shape, position; (b) the source of img2img at
    strength 0.5 (its effnet_encoder latent re-noised to t = 0.5, sampled back) with the prompt naming another
    colour — expected: that colour at the same position. Returns per sheet the images and per-tile expectations."""
    dev = next(nets["prior"].parameters()).device
    truth = heldout_truth(held, dev, seed=6)
    clip = nets["image_encoder"](truth)[:, None]
    rng = random.Random(31)
    variation, recoloured, expected = [], [], []
    for i in range(0, len(held), 50):
        part = held[i:i + 50]
        variation.append(generate(nets, tokenizer, [""] * len(part), 3000 + i, DEFAULT_PRIOR, DEFAULT_DECODER,
                                  clip_img=clip[i:i + 50])[0])
        prompts = []
        for h in part:
            colour = rng.choice([c for c in dataset.COLOUR_NAMES if c not in (h["colour"], h["background"])])
            shape = dataset.Shape(h["shape"], colour, h["position"], h["size"] or "medium")
            prompts.append(dataset.single_caption(rng, shape, h["background"], say_size=False))
            expected.append({"colour": colour, "prompt": prompts[-1]})
        img2img = dataclasses.replace(DEFAULT_PRIOR, t_start=IMG2IMG_STRENGTH)
        recoloured.append(generate(nets, tokenizer, prompts, 4000 + i, img2img, DEFAULT_DECODER,
                                   start=nets["effnet_encoder"](truth[i:i + 50]))[0])
    return {"image-variation.png": (torch.cat(variation), [{} for _ in held]),
            "img2img-recolour.png": (torch.cat(recoloured), expected)}


def evaluate(out: str, nets, tokenizer, smoke: bool, encoder: torch.nn.Module | None = None) -> None:
    held = dataset.heldout_set()
    prompts = [h["prompt"] for h in held][: 20 if smoke else EVAL_PROMPTS]
    files: dict[str, bytes] = {}
    index = {"tile": 128, "cols": 10, "prompts": prompts, "sheets": {}}
    diagnostics = {}
    if encoder is not None:
        for name, imgs in diagnostic_sheets(nets, encoder.eval(), tokenizer, held[: len(prompts)]).items():
            files[f"{name}.png"] = sheet(torch.nn.functional.avg_pool2d(imgs, 2), 10)
            diagnostics[f"{name}.png"] = {"prior": name, "decoder": DEFAULT_DECODER.manifest(), "count": len(prompts)}
    started = time.time()
    for name, ps, ds in (CANDIDATES[:2] if smoke else CANDIDATES):
        if time.time() - started > EVAL_SECONDS:
            break
        imgs = torch.cat([generate(nets, tokenizer, prompts[i:i + 50], 1000 + i, ps, ds)[0]
                          for i in range(0, len(prompts), 50)])
        files[f"{name}.png"] = sheet(torch.nn.functional.avg_pool2d(imgs, 2), 10)
        print(f"[{time.strftime('%H:%M:%S')}] sheet {name}: {len(files[f'{name}.png']) / 1e6:.1f} MB", flush=True)
        index["sheets"][f"{name}.png"] = {"prior": ps.manifest(), "decoder": ds.manifest(), "count": len(prompts)}
    demo = ["a red circle at the top left on a blue background"] * 4 + prompts[: 4 if smoke else 12]
    imgs, lat = generate(nets, tokenizer, demo, 7, DEFAULT_PRIOR, DEFAULT_DECODER)
    files["demo.png"] = sheet(imgs, 4)
    var = sampling.Settings(DEFAULT_PRIOR.steps, DEFAULT_PRIOR.cfg, t_start=0.45)
    files["demo-variation.png"] = sheet(generate(nets, tokenizer, demo, 9, var, DEFAULT_DECODER, start=lat)[0], 4)
    if "image_encoder" in nets:
        for name, (imgs, expected) in image_prompt_sheets(nets, tokenizer, held[: len(prompts)]).items():
            files[name] = sheet(torch.nn.functional.avg_pool2d(imgs, 2), 10)
            index["sheets"][name] = {"prior": name, "decoder": DEFAULT_DECODER.manifest(), "count": len(prompts),
                                     "expected": expected}
        print(f"[{time.strftime('%H:%M:%S')}] image-prompt sheets written", flush=True)
    # Most telling first, as the size cap below drops from the end: the default sampler's sheet, then Stage B's share
    # (exact-latent), then the other samplers, then the Stage A round trip and the truth.
    samplers = list(index["sheets"].items())
    index["sheets"] = dict(samplers[:1] + [(k, v) for k, v in diagnostics.items() if k == "exact-latent.png"]
                           + samplers[1:] + [(k, v) for k, v in diagnostics.items() if k != "exact-latent.png"])
    files["index.json"] = json.dumps(index, indent=1).encode()
    while sum(len(v) for v in files.values()) > 15 * 2**20 and index["sheets"]:  # $OUT files are ≤ 16 MiB
        dropped = list(index["sheets"])[-1]
        del index["sheets"][dropped], files[dropped]
        files["index.json"] = json.dumps(index, indent=1).encode()
    with tarfile.open(os.path.join(out, "eval.tar"), "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def export_all(out: str, nets, emas, corpus, smoke: bool, write: bool = True, diagnostics: bool = True) -> None:
    final = {"text_encoder": emas["text_encoder"], "prior": emas["prior"], "decoder": emas["decoder"],
             "vqgan": models.VqganDecoderGraph(nets["stage_a"]), "previewer": nets["previewer"],
             "image_encoder": models.ImageEncoderGraph(nets["encoder"], emas["image_head"]),
             "effnet_encoder": nets["encoder"]}
    for m in final.values():
        m.eval()
    cpu = {k: copy.deepcopy(v).cpu().float().eval() for k, v in final.items()}
    if write:
        vocabulary = dataset.vocabulary([s.caption for s in corpus.scenes])
        bundle = write_bundle(out, cpu, corpus.tokenizer, DEFAULT_PRIOR, DEFAULT_DECODER, vocabulary)
        with tarfile.open(os.path.join(out, "bundle-prior.tar"), "w") as tar:
            tar.add(os.path.join(bundle, "prior.onnx"), arcname="prior.onnx")
        with tarfile.open(os.path.join(out, "bundle-rest.tar"), "w") as tar:
            for name in sorted(os.listdir(bundle)):
                if name != "prior.onnx":
                    tar.add(os.path.join(bundle, name), arcname=name)
        import shutil
        shutil.rmtree(bundle)
        print(f"[{time.strftime('%H:%M:%S')}] bundle tars written", flush=True)
    evaluate(out, final, corpus.tokenizer, smoke, encoder=nets["encoder"] if diagnostics else None)
    print(f"[{time.strftime('%H:%M:%S')}] evaluation sheets written", flush=True)
