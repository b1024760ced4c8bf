"""torch modules (diffusers Stable Cascade classes) → ONNX graphs with the I/O contract of spec §1.3.

Each `export_*` function wraps the module so that its forward takes exactly the bundle's inputs (names in
`bundle.IO`), exports it with the TorchScript-based exporter (`dynamo=False`, dynamic batch and spatial axes), and
re-saves it with external data when it is over 2 GB. Shape dynamism is NOT trusted: the caller verifies every graph
against the torch module at two or more shapes (`check_against_torch`), because traced shape branches get baked in
(spec §5.3).

fp16 graphs keep fp32 islands (spec §5.4): `timestep_ratio` stays a float32 input and its sinusoidal embedding is
computed in float32; GlobalResponseNorm's L2 reduction runs in float32; for Stage C the last up level and the output
head run in float32 (the known overflow region); Stage A runs in fp16 as is.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from . import bundle

OPSET = 18
TWO_GB = 2 * 1024**3 - 64 * 1024**2  # stay clear of protobuf's hard limit


def _dtype(name: str) -> torch.dtype:
    return {"float32": torch.float32, "float16": torch.float16}[name]


class Fp32Island(nn.Module):
    """Runs `inner` in float32 whatever dtype its tensor arguments have; returns float32."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner.float()

    def forward(self, *args: Any) -> Any:
        cast = [a.float() if torch.is_tensor(a) and a.is_floating_point() else a for a in args]
        return self.inner(*cast)


_ISLAND_CLASSES: dict[type, type] = {}


def _to_fp32_island(block: nn.Module) -> nn.Module:
    """Make `block` compute in float32 IN PLACE, keeping its class identity: the diffusers UNet dispatches on
    isinstance(block, SDCascadeResBlock/AttnBlock/TimestepBlock), so a wrapper module would change the call."""
    base = type(block)
    island = _ISLAND_CLASSES.get(base)
    if island is None:
        def forward(self: nn.Module, *args: Any) -> Any:
            cast = [a.float() if torch.is_tensor(a) and a.is_floating_point() else a for a in args]
            return base.forward(self, *cast)

        island = type(f"Fp32{base.__name__}", (base,), {"forward": forward})
        _ISLAND_CLASSES[base] = island
    block.float()
    block.__class__ = island
    return block


@contextlib.contextmanager
def _fp32_grn() -> Iterator[None]:
    """GlobalResponseNorm with the L2 norm over H·W computed in float32 (overflows fp16 at 1024², spec §5.4)."""
    from diffusers.models.unets.unet_stable_cascade import GlobalResponseNorm

    original = GlobalResponseNorm.forward

    def forward(self: Any, x: torch.Tensor) -> torch.Tensor:
        agg_norm = torch.norm(x.float(), p=2, dim=(1, 2), keepdim=True)
        stand_div_norm = (agg_norm / (agg_norm.mean(dim=-1, keepdim=True) + 1e-6)).to(x.dtype)
        return self.gamma * (x * stand_div_norm) + self.beta + x

    GlobalResponseNorm.forward = forward
    try:
        yield
    finally:
        GlobalResponseNorm.forward = original


def _prepare_unet(unet: nn.Module, dtype: torch.dtype, fp32_last_up_level: bool) -> nn.Module:
    unet = unet.eval().to(dtype)
    if dtype != torch.float32:
        original = unet.get_timestep_ratio_embedding

        def embedding(timestep_ratio: torch.Tensor, max_positions: int = 10000) -> torch.Tensor:
            return original(timestep_ratio.float(), max_positions).to(dtype)

        unet.get_timestep_ratio_embedding = embedding  # type: ignore[method-assign]
        if fp32_last_up_level:
            last = len(unet.up_blocks) - 1
            for block in unet.up_blocks[last]:
                _to_fp32_island(block)
            unet.up_repeat_mappers[last] = nn.ModuleList([Fp32Island(m) for m in unet.up_repeat_mappers[last]])
            unet.up_upscalers[last] = Fp32Island(unet.up_upscalers[last])
            unet.clf = Fp32Island(unet.clf)
    return unet


class PriorGraph(nn.Module):
    """`dtype`: the weights' dtype; `io_dtype`: the graph's float inputs/outputs (casts happen inside the graph)."""

    def __init__(self, unet: nn.Module, dtype: torch.dtype, io_dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.unet, self.dtype, self.io_dtype = unet, dtype, io_dtype or dtype

    def forward(self, sample, timestep_ratio, clip_text_pooled, clip_text, clip_img):  # noqa: ANN001
        d = self.dtype
        eps = self.unet(sample.to(d), timestep_ratio, clip_text_pooled.to(d), clip_text=clip_text.to(d),
                        clip_img=clip_img.to(d), return_dict=False)[0]
        return eps.to(self.io_dtype)


class DecoderGraph(nn.Module):
    def __init__(self, unet: nn.Module, dtype: torch.dtype, io_dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.unet, self.dtype, self.io_dtype = unet, dtype, io_dtype or dtype

    def forward(self, sample, timestep_ratio, clip_text_pooled, effnet):  # noqa: ANN001
        d = self.dtype
        eps = self.unet(sample.to(d), timestep_ratio, clip_text_pooled.to(d), effnet=effnet.to(d), return_dict=False)[0]
        return eps.to(self.io_dtype)


class TextEncoderGraph(nn.Module):
    """CLIPTextModelWithProjection → (text_embeds [B, P], hidden_states[-1] [B, 77, H]) (spec §2.2)."""

    def __init__(self, model: nn.Module, io_dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.model, self.io_dtype = model, io_dtype

    def forward(self, input_ids, attention_mask):  # noqa: ANN001
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        if self.io_dtype is None:
            return out.text_embeds, out.hidden_states[-1]
        return out.text_embeds.to(self.io_dtype), out.hidden_states[-1].to(self.io_dtype)


class VqganDecoderGraph(nn.Module):
    """PaellaVQModel.decode without quantisation (spec §1.6); latents arrive already multiplied by the scale."""

    def __init__(self, vqgan: nn.Module, dtype: torch.dtype = torch.float32, io_dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.vqgan, self.dtype, self.io_dtype = vqgan, dtype, io_dtype or dtype

    def forward(self, latents):  # noqa: ANN001
        return self.vqgan.decode(latents.to(self.dtype), force_not_quantize=True, return_dict=False)[0].to(self.io_dtype)


def _export(module: nn.Module, args: tuple, path: Path, inputs: Sequence[str], outputs: Sequence[str],
            dynamic_axes: Mapping[str, Mapping[int, str]], external_threshold: int | None = None) -> None:
    """Export into a scratch folder, then save as one .onnx: inline, or above 2 GB (`external_threshold`) the graph
    plus ONE `<name>.data` file, streamed tensor by tensor so a 14 GB graph never sits in one protobuf in memory."""
    import onnx
    from onnx.external_data_helper import load_external_data_for_model

    threshold = TWO_GB if external_threshold is None else external_threshold
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        scratch_file = Path(scratch) / path.name
        with torch.no_grad():
            torch.onnx.export(module, args, str(scratch_file), input_names=list(inputs), output_names=list(outputs),
                              dynamic_axes={k: dict(v) for k, v in dynamic_axes.items()}, opset_version=OPSET,
                              dynamo=False, do_constant_folding=True)
        model = onnx.load(str(scratch_file), load_external_data=False)
        data_name = path.name + ".data"
        for stale in (path, path.parent / data_name):
            if stale.exists():
                stale.unlink()
        tensors = _all_tensors(model)
        size = sum(_tensor_bytes(t, Path(scratch)) for t in tensors)
        if size <= threshold:
            load_external_data_for_model(model, scratch)
            onnx.save_model(model, str(path))
            return
        offset = 0
        with open(path.parent / data_name, "wb") as sink:
            for t in tensors:
                if t.data_location == onnx.TensorProto.EXTERNAL:
                    info = {e.key: e.value for e in t.external_data}
                    with open(Path(scratch) / info["location"], "rb") as source:
                        source.seek(int(info.get("offset", 0)))
                        blob = source.read(int(info["length"])) if "length" in info else source.read()
                elif len(t.raw_data) >= 1024:
                    blob = t.raw_data
                    t.ClearField("raw_data")
                    t.data_location = onnx.TensorProto.EXTERNAL
                else:
                    continue
                sink.write(blob)
                del t.external_data[:]
                for key, value in (("location", data_name), ("offset", str(offset)), ("length", str(len(blob)))):
                    entry = t.external_data.add()
                    entry.key, entry.value = key, value
                offset += len(blob)
        onnx.save_model(model, str(path))


def _all_tensors(model) -> list:  # noqa: ANN001
    tensors = list(model.graph.initializer)
    for node in model.graph.node:
        tensors += [a.t for a in node.attribute if a.HasField("t")]
    return tensors


def _tensor_bytes(t, folder: Path) -> int:  # noqa: ANN001
    import onnx

    if t.data_location == onnx.TensorProto.EXTERNAL:
        info = {e.key: e.value for e in t.external_data}
        if "length" in info:
            return int(info["length"])
        return (folder / info["location"]).stat().st_size - int(info.get("offset", 0))
    return len(t.raw_data)


def export_prior(unet: nn.Module, path: Path, dtype: str, example: Mapping[str, torch.Tensor],
                 io_dtype: str | None = None) -> nn.Module:
    d, io = _dtype(dtype), _dtype(io_dtype or dtype)
    with _fp32_grn():
        graph = PriorGraph(_prepare_unet(unet, d, fp32_last_up_level=True), d, io).eval()
        names = bundle.IO["prior"]["inputs"]
        order = [names[k] for k in ("sample", "timestepRatio", "clipTextPooled", "clipText", "clipImg")]
        args = tuple(example[n].to(io) if n != "timestep_ratio" else example[n].float() for n in order)
        axes = {"sample": {0: "batch", 2: "height", 3: "width"}, "timestep_ratio": {0: "batch"},
                "clip_text_pooled": {0: "batch"}, "clip_text": {0: "batch", 1: "tokens"},
                "clip_img": {0: "batch", 1: "images"}, "eps": {0: "batch", 2: "height", 3: "width"}}
        _export(graph, args, path, order, [bundle.IO["prior"]["output"]], axes)
    return graph


def export_decoder(unet: nn.Module, path: Path, dtype: str, example: Mapping[str, torch.Tensor],
                   io_dtype: str | None = None) -> nn.Module:
    d, io = _dtype(dtype), _dtype(io_dtype or dtype)
    with _fp32_grn():
        graph = DecoderGraph(_prepare_unet(unet, d, fp32_last_up_level=False), d, io).eval()
        names = bundle.IO["decoder"]["inputs"]
        order = [names[k] for k in ("sample", "timestepRatio", "clipTextPooled", "effnet")]
        args = tuple(example[n].to(io) if n != "timestep_ratio" else example[n].float() for n in order)
        axes = {"sample": {0: "batch", 2: "height", 3: "width"}, "timestep_ratio": {0: "batch"},
                "clip_text_pooled": {0: "batch"}, "effnet": {0: "batch", 2: "effnet_height", 3: "effnet_width"},
                "eps": {0: "batch", 2: "height", 3: "width"}}
        _export(graph, args, path, order, [bundle.IO["decoder"]["output"]], axes)
    return graph


def export_text_encoder(model: nn.Module, path: Path, dtype: str, example: Mapping[str, torch.Tensor],
                        io_dtype: str | None = None) -> nn.Module:
    """CLIP text encoder → `path`. float16 is NOT traced in float16: the TorchScript exporter's type promotion then
    feeds a float32 activation into LayerNormalization nodes whose scale and bias are float16 (seen at
    `layers.0/layer_norm2` when tracing on CUDA; pytorch/pytorch#190338 for BERT), which onnxruntime refuses to load
    ("Type parameter (T) of Optype (LayerNormalization) bound to different types", issue #25). The graph is exported in
    float32 and converted as a whole by onnxruntime's float16 converter, which gives every float tensor one type
    (values clipped to ±65504, so the attention masks' float32 minimum stays finite). Returns the torch module that
    the verification compares against (float32 for a float16 export)."""
    io = bundle.IO["textEncoder"]
    ins = [io["inputs"]["inputIds"], io["inputs"]["attentionMask"]]
    outs = [io["outputs"]["pooled"], io["outputs"]["hidden"]]
    axes = {ins[0]: {0: "batch"}, ins[1]: {0: "batch"}, outs[0]: {0: "batch"}, outs[1]: {0: "batch"}}
    args = (example[ins[0]], example[ins[1]])
    if dtype == "float32":
        graph = TextEncoderGraph(model.eval().float(), _dtype(io_dtype) if io_dtype else None).eval()
        _export(graph, args, path, ins, outs, axes)
        return graph
    graph = TextEncoderGraph(model.eval().float(), None).eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        fp32_path = Path(scratch) / path.name
        _export(graph, args, fp32_path, ins, outs, axes)
        convert_to_float16(fp32_path, path, keep_io_types=(io_dtype or dtype) == "float32")
    return graph


def convert_to_float16(src: Path, dst: Path, keep_io_types: bool) -> None:
    """A float32 graph file → the same graph in float16 (onnxruntime.transformers.float16), float32 inputs/outputs kept
    when `keep_io_types`. Shape inference runs on the file (works past 2 GB); the result is saved inline, or with one
    `<name>.data` file beside it above 2 GB."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    with tempfile.TemporaryDirectory(dir=dst.parent) as scratch:
        inferred = Path(scratch) / src.name
        onnx.shape_inference.infer_shapes_path(str(src), str(inferred))
        model = onnx.load(str(inferred), load_external_data=False)
        from onnx.external_data_helper import load_external_data_for_model

        load_external_data_for_model(model, str(src.parent))
    model = convert_float_to_float16(model, keep_io_types=keep_io_types, disable_shape_infer=True)
    for stale in (dst, dst.parent / (dst.name + ".data")):
        if stale.exists():
            stale.unlink()
    large = sum(len(t.raw_data) for t in _all_tensors(model)) > TWO_GB
    onnx.save_model(model, str(dst), save_as_external_data=large, all_tensors_to_one_file=True,
                    location=dst.name + ".data", size_threshold=1024)


def export_vqgan_decoder(vqgan: nn.Module, path: Path, dtype: str, example: Mapping[str, torch.Tensor],
                         io_dtype: str | None = None) -> nn.Module:
    d, io = _dtype(dtype), _dtype(io_dtype or dtype)
    graph = VqganDecoderGraph(vqgan.eval().to(d), d, io).eval()
    name_in, name_out = bundle.IO["vqgan"]["input"], bundle.IO["vqgan"]["output"]
    axes = {name_in: {0: "batch", 2: "height", 3: "width"}, name_out: {0: "batch", 2: "image_height", 3: "image_width"}}
    _export(graph, (example[name_in].to(io),), path, [name_in], [name_out], axes)
    return graph


def torch_reference(graph: nn.Module, order: Sequence[str], outputs: Sequence[str]) -> Callable[[Mapping[str, np.ndarray]], dict[str, np.ndarray]]:
    """A `reference` for bundle.verify_graph: runs the wrapped torch module on the same numpy feeds."""

    def run(feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        with torch.no_grad():
            values = graph(*(torch.from_numpy(np.ascontiguousarray(feeds[name])) for name in order))
        values = values if isinstance(values, tuple) else (values,)
        return {name: v.float().numpy() for name, v in zip(outputs, values)}

    return run


def clean_dir(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
    os.makedirs(path)
