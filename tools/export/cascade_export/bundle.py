"""Write and verify a cascade bundle (manifest.json + ONNX graphs + tokenizer files).

Shared by the Stable Cascade exporter (`cascade_export.export`) and the demo-model trainer (`tools/train-demo/`).
The bundle layout and every key follow `gpu-runner/cascade/manifest.ts`; the graph I/O names follow diffusers'
forward arguments, as listed in IO below and documented in `models/README.md`. Only numpy, onnx and onnxruntime are needed here (no torch).

Stable API (keep these signatures; add, don't change):
    IO                                    graph input/output names per stage (what the TypeScript engine feeds)
    sha256_file(path) -> str
    graph_entry(bundle_dir, file, dtype, sha=True) -> dict      {"file", "externalData", "dtype", "sha256"?}
    copy_tokenizer(src_dir, bundle_dir, max_length=77, subdir="tokenizer") -> dict   the manifest's "tokenizer" section
    sampler(steps, cfg, shift=1.0, rho=0.0, r_mode="raw", final="mu") -> dict
    check_manifest(manifest, bundle_dir) -> None                 raises BundleError listing every problem
    write_manifest(bundle_dir, manifest) -> Path                 check_manifest, then write manifest.json
    verify_graph(path, feeds_list, expect_inputs, expect_outputs, expect_shapes=None, reference=None, atol=1e-4) -> list
    stage_feeds(manifest, stage, batch, height, width, seed=0) -> dict   random feeds of the right names/dtypes/shapes
    verify_bundle(bundle_dir, sizes=((H, W), ...), batches=(1, 2)) -> dict   every graph at every size, shapes checked
    image_encoder_section(bundle_dir, file, dtype, size, embed_size, mean=CLIP_MEAN, std=CLIP_STD) -> dict
    effnet_encoder_section(bundle_dir, file, dtype, cell, channels, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> dict

Example (demo trainer):
    from cascade_export import bundle as cb
    tok = cb.copy_tokenizer("path/to/tokenizer", out)          # vocab.json + merges.txt (+ special ids)
    manifest = {
        "format": "cascade-bundle", "version": 1, "name": "demo", "variant": "demo",
        "tokenizer": tok,
        "resolution": {"base": 256, "multiple": 64, "min": 128, "max": 512},
        "geometry": {"priorCompression": 42.67, "decoderCompression": 4, "priorChannels": 16, "decoderChannels": 4},
        "textEncoder": {**cb.graph_entry(out, "text_encoder.onnx", "float32"), "hiddenSize": 64, "pooledSize": 64,
                        "inputs": cb.IO["textEncoder"]["inputs"], "outputs": cb.IO["textEncoder"]["outputs"]},
        "prior": {**cb.graph_entry(out, "prior.onnx", "float32"), "clipImageSize": 16,
                  "sampler": cb.sampler(20, 4.0), "variation": {"subtle": 0.5, "strong": 0.8},
                  "inputs": cb.IO["prior"]["inputs"], "output": cb.IO["prior"]["output"]},
        "decoder": {**cb.graph_entry(out, "decoder.onnx", "float32"), "sampler": cb.sampler(10, 0.0),
                    "inputs": cb.IO["decoder"]["inputs"], "output": cb.IO["decoder"]["output"]},
        "vqgan": {**cb.graph_entry(out, "vqgan_decoder.onnx", "float32"), "scaleFactor": 0.3764,
                  "input": cb.IO["vqgan"]["input"], "output": cb.IO["vqgan"]["output"]},
    }
    # optional encoders (image prompts, img2img): the sections carry preprocessing and output sizes
    manifest["imageEncoder"] = cb.image_encoder_section(out, "image_encoder.onnx", "float32", size=64, embed_size=16)
    manifest["effnetEncoder"] = cb.effnet_encoder_section(out, "effnet_encoder.onnx", "float32", cell=32, channels=16)
    cb.write_manifest(out, manifest)
    cb.verify_bundle(out, sizes=((256, 256), (192, 320)), batches=(1, 2))
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

FORMAT = "cascade-bundle"
VERSION = 1
FLOAT_DTYPES = ("float32", "float16")

# Graph I/O names (spec §1.3). Stage outputs are not called `sample`: an ONNX graph cannot reuse an input's name
# for an output, so the ε-prediction is `eps`. The manifest names them, so the engine reads them from there.
IO: dict[str, dict[str, Any]] = {
    "textEncoder": {
        "inputs": {"inputIds": "input_ids", "attentionMask": "attention_mask"},
        "outputs": {"pooled": "text_embeds", "hidden": "hidden_state_last"},
    },
    "prior": {
        "inputs": {
            "sample": "sample",
            "timestepRatio": "timestep_ratio",
            "clipTextPooled": "clip_text_pooled",
            "clipText": "clip_text",
            "clipImg": "clip_img",
        },
        "output": "eps",
    },
    "decoder": {
        "inputs": {
            "sample": "sample",
            "timestepRatio": "timestep_ratio",
            "clipTextPooled": "clip_text_pooled",
            "effnet": "effnet",
        },
        "output": "eps",
    },
    "vqgan": {"input": "latents", "output": "image"},
    "previewer": {"input": "latents", "output": "image"},
    # Optional encoders (image prompts / img2img); their sections also carry preprocessing and output sizes, see
    # image_encoder_section / effnet_encoder_section below and models/README.md.
    "imageEncoder": {"input": "pixel_values", "output": "image_embeds"},
    "effnetEncoder": {"input": "image", "output": "latent"},
}

GRAPH_STAGES = ("textEncoder", "prior", "decoder", "vqgan", "previewer", "imageEncoder", "effnetEncoder")
OPTIONAL_STAGES = ("previewer", "imageEncoder", "effnetEncoder")

# Normalisation constants (spec §1.3): OpenAI CLIP for the image encoder, ImageNet for EfficientNet.
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def image_encoder_section(bundle_dir: str | os.PathLike[str], file: str, dtype: str, size: int, embed_size: int,
                          mean: Sequence[float] = CLIP_MEAN, std: Sequence[float] = CLIP_STD) -> dict[str, Any]:
    """The manifest's `imageEncoder` section: [B,3,size,size] (shortest side → size bicubic, centre crop,
    (x-mean)/std) → image_embeds [B, embed_size]; embed_size must equal prior.clipImageSize."""
    return {**graph_entry(bundle_dir, file, dtype), **IO["imageEncoder"], "size": int(size),
            "mean": [float(v) for v in mean], "std": [float(v) for v in std], "embedSize": int(embed_size)}


def effnet_encoder_section(bundle_dir: str | os.PathLike[str], file: str, dtype: str, cell: int, channels: int,
                           mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD) -> dict[str, Any]:
    """The manifest's `effnetEncoder` section: [B,3,cell*h,cell*w] ((x-mean)/std) → latent [B, channels, h, w];
    channels must equal geometry.priorChannels; cell is 32 for EfficientNetV2-S."""
    return {**graph_entry(bundle_dir, file, dtype), **IO["effnetEncoder"], "cell": int(cell),
            "mean": [float(v) for v in mean], "std": [float(v) for v in std], "channels": int(channels)}


class BundleError(ValueError):
    """A bundle that the TypeScript loader would reject; the message lists every problem found."""


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _external_data_files(onnx_path: Path) -> list[str]:
    """Locations of external tensors named by the graph (relative to the graph's folder)."""
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    found: list[str] = []
    tensors = list(model.graph.initializer)
    for node in model.graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                tensors.append(attribute.t)
    for tensor in tensors:
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            for entry in tensor.external_data:
                if entry.key == "location" and entry.value not in found:
                    found.append(entry.value)
    return found


def graph_entry(bundle_dir: str | os.PathLike[str], file: str, dtype: str, sha: bool = True) -> dict[str, Any]:
    """The GraphFile part of a manifest section: file, externalData (found in the graph), dtype, sha256."""
    if dtype not in FLOAT_DTYPES:
        raise BundleError(f"graph {file}: dtype must be one of {FLOAT_DTYPES}, got {dtype!r}")
    root = Path(bundle_dir)
    path = root / file
    if not path.is_file():
        raise BundleError(f"graph {file}: no such file under {root}")
    folder = Path(file).parent
    external = [str(folder / name) if str(folder) != "." else name for name in _external_data_files(path)]
    entry: dict[str, Any] = {"file": file, "externalData": external, "dtype": dtype}
    if sha:
        entry["sha256"] = sha256_file(path)
    return entry


def copy_tokenizer(
    src_dir: str | os.PathLike[str],
    bundle_dir: str | os.PathLike[str],
    max_length: int = 77,
    subdir: str = "tokenizer",
) -> dict[str, Any]:
    """Copy vocab.json + merges.txt into bundle_dir/subdir and return the manifest's tokenizer section.

    bos/eos come from the vocabulary's `<|startoftext|>` / `<|endoftext|>`; pad is read from
    special_tokens_map.json or tokenizer_config.json when present (Stable Cascade pads with `<|endoftext|>`, spec §2.1),
    else eos.
    """
    src, dst = Path(src_dir), Path(bundle_dir) / subdir
    for name in ("vocab.json", "merges.txt"):
        if not (src / name).is_file():
            raise BundleError(f"tokenizer: {src / name} is missing")
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("vocab.json", "merges.txt"):
        shutil.copyfile(src / name, dst / name)
    vocab: dict[str, int] = json.loads((src / "vocab.json").read_text(encoding="utf-8"))
    try:
        bos, eos = vocab["<|startoftext|>"], vocab["<|endoftext|>"]
    except KeyError as missing:
        raise BundleError(f"tokenizer: vocab.json has no {missing} entry") from None
    pad_token = _pad_token(src) or "<|endoftext|>"
    if pad_token not in vocab:
        raise BundleError(f"tokenizer: pad token {pad_token!r} is not in vocab.json")
    return {
        "vocab": f"{subdir}/vocab.json",
        "merges": f"{subdir}/merges.txt",
        "maxLength": max_length,
        "bosId": bos,
        "eosId": eos,
        "padId": vocab[pad_token],
    }


def _pad_token(src: Path) -> str | None:
    for name in ("special_tokens_map.json", "tokenizer_config.json"):
        path = src / name
        if path.is_file():
            value = json.loads(path.read_text(encoding="utf-8")).get("pad_token")
            if isinstance(value, dict):
                value = value.get("content")
            if isinstance(value, str):
                return value
    return None


def sampler(
    steps: int, cfg: float, shift: float = 1.0, rho: float = 0.0, r_mode: str = "raw", final: str = "mu"
) -> dict[str, Any]:
    """A stage's sampler section (spec §3.5). Defaults = diffusers semantics; official Stage C: shift 2, rho 0.7, gdf, x0."""
    return {"steps": steps, "cfg": cfg, "shift": shift, "rho": rho, "rMode": r_mode, "final": final}


_REQUIRED: dict[str, tuple[str, ...]] = {
    "": ("format", "version", "name", "variant", "tokenizer", "resolution", "geometry", "textEncoder", "prior",
         "decoder", "vqgan"),
    "tokenizer": ("vocab", "merges", "maxLength", "bosId", "eosId", "padId"),
    "resolution": ("base", "multiple", "min", "max"),
    "geometry": ("priorCompression", "decoderCompression", "priorChannels", "decoderChannels"),
    "textEncoder": ("file", "dtype", "hiddenSize", "pooledSize"),
    "prior": ("file", "dtype", "clipImageSize", "sampler", "variation"),
    "decoder": ("file", "dtype", "sampler"),
    "vqgan": ("file", "dtype", "scaleFactor"),
}
# Sections that may be absent; when present, these keys are required.
_OPTIONAL_REQUIRED: dict[str, tuple[str, ...]] = {
    "previewer": ("file", "dtype"),
    "imageEncoder": ("file", "dtype", "size", "mean", "std", "embedSize"),
    "effnetEncoder": ("file", "dtype", "cell", "mean", "std", "channels"),
}


def check_manifest(manifest: Mapping[str, Any], bundle_dir: str | os.PathLike[str]) -> None:
    """Structural check mirroring manifest.ts (the TypeScript zod schema stays the authority) + files present."""
    problems: list[str] = []
    root = Path(bundle_dir)
    for section, keys in _REQUIRED.items():
        node = manifest if section == "" else manifest.get(section)
        if not isinstance(node, Mapping):
            problems.append(f"{section}: missing section")
            continue
        problems += [f"{section or 'manifest'}.{key}: missing" for key in keys if key not in node]
    for section, keys in _OPTIONAL_REQUIRED.items():
        node = manifest.get(section)
        if isinstance(node, Mapping):
            problems += [f"{section}.{key}: missing" for key in keys if key not in node]
            for key in ("mean", "std"):
                value = node.get(key)
                if key in node and not (isinstance(value, (list, tuple)) and len(value) == 3):
                    problems.append(f"{section}.{key}: expected 3 numbers (R, G, B), got {value!r}")
    image_enc, prior = manifest.get("imageEncoder"), manifest.get("prior")
    if isinstance(image_enc, Mapping) and isinstance(prior, Mapping) and image_enc.get("embedSize") != prior.get("clipImageSize"):
        problems.append(f"imageEncoder.embedSize {image_enc.get('embedSize')} differs from prior.clipImageSize {prior.get('clipImageSize')}")
    effnet, geometry = manifest.get("effnetEncoder"), manifest.get("geometry")
    if isinstance(effnet, Mapping) and isinstance(geometry, Mapping) and effnet.get("channels") != geometry.get("priorChannels"):
        problems.append(f"effnetEncoder.channels {effnet.get('channels')} differs from geometry.priorChannels {geometry.get('priorChannels')}")
    if manifest.get("format") != FORMAT:
        problems.append(f"format: expected {FORMAT!r}, got {manifest.get('format')!r}")
    if manifest.get("version") != VERSION:
        problems.append(f"version: expected {VERSION}, got {manifest.get('version')!r}")
    for stage in GRAPH_STAGES:
        node = manifest.get(stage)
        if not isinstance(node, Mapping):
            continue
        if node.get("dtype") not in FLOAT_DTYPES:
            problems.append(f"{stage}.dtype: expected one of {FLOAT_DTYPES}, got {node.get('dtype')!r}")
        for rel in [node.get("file"), *node.get("externalData", [])]:
            if isinstance(rel, str) and not (root / rel).is_file():
                problems.append(f"{stage}: file {rel} is missing under {root}")
    for stage in ("prior", "decoder"):
        node = manifest.get(stage)
        if isinstance(node, Mapping) and isinstance(node.get("sampler"), Mapping):
            s = node["sampler"]
            if s.get("rMode") not in ("gdf", "raw") or s.get("final") not in ("x0", "mu"):
                problems.append(f"{stage}.sampler: rMode must be gdf|raw and final x0|mu, got {s}")
    tok = manifest.get("tokenizer")
    if isinstance(tok, Mapping):
        for key in ("vocab", "merges"):
            if isinstance(tok.get(key), str) and not (root / tok[key]).is_file():
                problems.append(f"tokenizer.{key}: file {tok[key]} is missing under {root}")
    if problems:
        raise BundleError("invalid bundle manifest:\n  " + "\n  ".join(problems))


def write_manifest(bundle_dir: str | os.PathLike[str], manifest: Mapping[str, Any]) -> Path:
    """Fill the manifest's I/O-name defaults, check it, and write bundle_dir/manifest.json."""
    full = copy.deepcopy(dict(manifest))
    full.setdefault("description", "")
    full.setdefault("license", "")
    for stage in GRAPH_STAGES:
        if isinstance(full.get(stage), dict):
            for key, value in IO[stage].items():
                full[stage].setdefault(key, copy.deepcopy(value))
            full[stage].setdefault("externalData", [])
    check_manifest(full, bundle_dir)
    path = Path(bundle_dir) / "manifest.json"
    path.write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
    return path


_ORT_TYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(int64)": "int64"}


def _session(path: str | os.PathLike[str]):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def verify_graph(
    path: str | os.PathLike[str],
    feeds_list: Sequence[Mapping[str, np.ndarray]],
    expect_inputs: Mapping[str, str],
    expect_outputs: Mapping[str, str],
    expect_shapes: Sequence[Mapping[str, Sequence[int]]] | None = None,
    reference: Callable[[Mapping[str, np.ndarray]], Mapping[str, np.ndarray]] | None = None,
    atol: float = 1e-4,
) -> list[dict[str, np.ndarray]]:
    """Run the graph with onnxruntime (CPU) on each feed set; check names, dtypes, output shapes, finiteness and,
    when `reference` is given (e.g. the PyTorch module), max |ort - reference| <= atol (scaled by the reference's
    magnitude). Returns the outputs. Raises BundleError naming the graph, the feed shapes and what differed; a graph
    that onnxruntime refuses to load (e.g. mixed float/float16 types at one node) is a BundleError too."""
    try:
        session = _session(path)
    except Exception as error:  # onnxruntime raises its own exception types
        raise BundleError(f"{path}: onnxruntime cannot load this graph: {error}") from error
    got_in = {i.name: _ORT_TYPES.get(i.type, i.type) for i in session.get_inputs()}
    got_out = {o.name: _ORT_TYPES.get(o.type, o.type) for o in session.get_outputs()}
    if got_in != dict(expect_inputs) or got_out != dict(expect_outputs):
        raise BundleError(
            f"{path}: I/O mismatch\n  inputs expected {dict(expect_inputs)}\n  inputs actual   {got_in}\n"
            f"  outputs expected {dict(expect_outputs)}\n  outputs actual   {got_out}"
        )
    results: list[dict[str, np.ndarray]] = []
    for index, feeds in enumerate(feeds_list):
        shapes = {name: list(array.shape) for name, array in feeds.items()}
        try:
            values = session.run(list(got_out), dict(feeds))
        except Exception as error:  # onnxruntime raises its own exception types
            raise BundleError(f"{path}: onnxruntime failed at feed shapes {shapes}: {error}") from error
        outputs = dict(zip(got_out, values))
        for name, value in outputs.items():
            if not np.all(np.isfinite(value)):
                raise BundleError(f"{path}: output {name} has non-finite values at feed shapes {shapes}")
            if expect_shapes is not None and list(value.shape) != list(expect_shapes[index][name]):
                raise BundleError(
                    f"{path}: output {name} at feed shapes {shapes}: expected shape "
                    f"{list(expect_shapes[index][name])}, got {list(value.shape)}"
                )
        if reference is not None:
            wanted = reference(feeds)
            for name, value in wanted.items():
                ref = np.asarray(value, dtype=np.float32)
                diff = float(np.max(np.abs(outputs[name].astype(np.float32) - ref)))
                bound = atol * (1.0 + float(np.max(np.abs(ref))))
                if not diff <= bound:
                    raise BundleError(
                        f"{path}: output {name} differs from the reference at feed shapes {shapes}: "
                        f"max abs diff {diff:.3g} > {bound:.3g}"
                    )
        results.append(outputs)
    return results


def latent_sizes(manifest: Mapping[str, Any], height: int, width: int) -> tuple[int, int, int, int]:
    """(h_c, w_c, h_b, w_b) by the official rule (spec §1.2), as the TypeScript engine computes them."""
    g = manifest["geometry"]
    return (
        math.ceil(height / g["priorCompression"]),
        math.ceil(width / g["priorCompression"]),
        math.ceil(height / g["decoderCompression"]),
        math.ceil(width / g["decoderCompression"]),
    )


def stage_feeds(
    manifest: Mapping[str, Any], stage: str, batch: int, height: int, width: int, seed: int = 0
) -> dict[str, np.ndarray]:
    """Random feeds for one graph of the bundle at an image size, with the manifest's names and dtypes."""
    rng = np.random.default_rng(seed)
    node = manifest[stage]
    dtype = np.float16 if node["dtype"] == "float16" else np.float32
    h_c, w_c, h_b, w_b = latent_sizes(manifest, height, width)
    g = manifest["geometry"]
    te = manifest["textEncoder"]
    length = manifest["tokenizer"]["maxLength"]

    def normal(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(dtype)

    if stage == "textEncoder":
        ids = rng.integers(0, manifest["tokenizer"]["bosId"], size=(batch, length)).astype(np.int64)
        ids[:, 0] = manifest["tokenizer"]["bosId"]
        mask = np.zeros((batch, length), np.int64)
        for row in range(batch):
            end = 2 + (row * 5) % (length - 2)
            ids[row, end] = manifest["tokenizer"]["eosId"]
            ids[row, end + 1 :] = manifest["tokenizer"]["padId"]
            mask[row, : end + 1] = 1
        return {node["inputs"]["inputIds"]: ids, node["inputs"]["attentionMask"]: mask}
    if stage == "prior":
        names = node["inputs"]
        return {
            names["sample"]: normal(batch, g["priorChannels"], h_c, w_c),
            names["timestepRatio"]: rng.uniform(0.05, 1.0, size=(batch,)).astype(np.float32),
            names["clipTextPooled"]: normal(batch, 1, te["pooledSize"]),
            names["clipText"]: normal(batch, length, te["hiddenSize"]),
            names["clipImg"]: np.zeros((batch, 1, node["clipImageSize"]), dtype),
        }
    if stage == "decoder":
        names = node["inputs"]
        return {
            names["sample"]: normal(batch, g["decoderChannels"], h_b, w_b),
            names["timestepRatio"]: rng.uniform(0.05, 1.0, size=(batch,)).astype(np.float32),
            names["clipTextPooled"]: normal(batch, 1, te["pooledSize"]),
            names["effnet"]: normal(batch, g["priorChannels"], h_c, w_c),
        }
    if stage == "vqgan":
        return {node["input"]: normal(batch, g["decoderChannels"], h_b, w_b)}
    if stage == "previewer":
        return {node["input"]: normal(batch, g["priorChannels"], h_c, w_c)}
    if stage == "imageEncoder":
        return {node["input"]: normal(batch, 3, node["size"], node["size"])}
    if stage == "effnetEncoder":
        return {node["input"]: normal(batch, 3, node["cell"] * h_c, node["cell"] * w_c)}
    raise BundleError(f"unknown stage {stage!r}; expected one of {GRAPH_STAGES}")


def _expected_io(manifest: Mapping[str, Any], stage: str) -> tuple[dict[str, str], dict[str, str]]:
    node = manifest[stage]
    f = node["dtype"]
    if stage == "textEncoder":
        return (
            {node["inputs"]["inputIds"]: "int64", node["inputs"]["attentionMask"]: "int64"},
            {node["outputs"]["pooled"]: f, node["outputs"]["hidden"]: f},
        )
    if stage in ("prior", "decoder"):
        inputs = {name: f for name in node["inputs"].values()}
        inputs[node["inputs"]["timestepRatio"]] = "float32"
        return inputs, {node["output"]: f}
    return {node["input"]: f}, {node["output"]: f}


def _expected_shapes(manifest: Mapping[str, Any], stage: str, batch: int, height: int, width: int) -> dict[str, list[int]]:
    node = manifest[stage]
    g = manifest["geometry"]
    h_c, w_c, h_b, w_b = latent_sizes(manifest, height, width)
    if stage == "textEncoder":
        te = manifest["textEncoder"]
        length = manifest["tokenizer"]["maxLength"]
        return {node["outputs"]["pooled"]: [batch, te["pooledSize"]], node["outputs"]["hidden"]: [batch, length, te["hiddenSize"]]}
    if stage == "prior":
        return {node["output"]: [batch, g["priorChannels"], h_c, w_c]}
    if stage == "decoder":
        return {node["output"]: [batch, g["decoderChannels"], h_b, w_b]}
    if stage == "vqgan":
        scale = round(g["decoderCompression"])
        return {node["output"]: [batch, 3, h_b * scale, w_b * scale]}
    if stage == "imageEncoder":
        return {node["output"]: [batch, node["embedSize"]]}
    if stage == "effnetEncoder":
        return {node["output"]: [batch, node["channels"], h_c, w_c]}
    return {}  # previewer: output size is the previewer's own


def verify_bundle(
    bundle_dir: str | os.PathLike[str],
    sizes: Iterable[tuple[int, int]] = ((1024, 1024), (1024, 1536)),
    batches: Iterable[int] = (1, 2),
) -> dict[str, list[dict[str, np.ndarray]]]:
    """Load manifest.json, check it, and run every graph at every (height, width) × batch with onnxruntime,
    checking I/O names, dtypes and output shapes. Use at least two sizes (spec §5.3: shape branches get baked in)."""
    root = Path(bundle_dir)
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    check_manifest(manifest, root)
    cases = [(b, h, w) for (h, w) in sizes for b in batches]
    if len({(h, w) for _, h, w in cases}) < 2:
        raise BundleError("verify_bundle: give at least two image sizes")
    results: dict[str, list[dict[str, np.ndarray]]] = {}
    for stage in GRAPH_STAGES:
        if stage not in manifest:
            continue
        inputs, outputs = _expected_io(manifest, stage)
        feeds = [stage_feeds(manifest, stage, b, h, w, seed=i) for i, (b, h, w) in enumerate(cases)]
        shapes = [_expected_shapes(manifest, stage, b, h, w) for (b, h, w) in cases]
        results[stage] = verify_graph(
            root / manifest[stage]["file"], feeds, inputs, outputs, expect_shapes=None if stage == "previewer" else shapes
        )
    return results
