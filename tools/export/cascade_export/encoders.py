"""The optional bundle encoders (image prompts, image-to-image): architecture, loading, export, verification.

- `image_encoder.onnx`: transformers' CLIPVisionModelWithProjection (`image_encoder/` of the prior repo) →
  `image_embeds` [B, D] (spec §1.3, §4.3).
- `effnet_encoder.onnx`: the official EfficientNetEncoder (spec §4.1): torchvision EfficientNetV2-S `.features` (eval BN)
  → Conv1×1(1280→16, no bias) → BatchNorm2d(16, affine=False). Built WITHOUT asking torchvision for ImageNet weights
  (`weights=None`), then `effnet_encoder.safetensors` is loaded (keys `backbone.*`, `mapper.0.weight`,
  `mapper.1.running_mean/var`).

Each graph is verified with onnxruntime against the torch module at ≥ 2 shapes × batches (as the other graphs), and the
manifest section (`bundle.image_encoder_section` / `effnet_encoder_section`) carries preprocessing and output sizes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from . import bundle, graphs


class EfficientNetEncoder(nn.Module):
    """The official module's shape (StableCascade modules/effnet.py): `backbone` = an EfficientNet's `.features`,
    `mapper` = Conv1×1(last → c_latent, no bias) + BatchNorm2d(c_latent, affine=False)."""

    def __init__(self, backbone: nn.Module, last_channels: int, c_latent: int = 16) -> None:
        super().__init__()
        self.backbone = backbone
        self.mapper = nn.Sequential(nn.Conv2d(last_channels, c_latent, kernel_size=1, bias=False),
                                    nn.BatchNorm2d(c_latent, affine=False))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.mapper(self.backbone(image))


def official_effnet_encoder() -> EfficientNetEncoder:
    """EfficientNetV2-S features, no pretrained weights requested (nothing is downloaded)."""
    from torchvision.models import efficientnet_v2_s

    return EfficientNetEncoder(efficientnet_v2_s(weights=None).features, 1280, 16)


def load_official_effnet(path: Path) -> EfficientNetEncoder:
    from safetensors.torch import load_file

    model = official_effnet_encoder()
    state = load_file(str(path))
    missing, unexpected = model.load_state_dict(state, strict=False)
    # BatchNorm's num_batches_tracked is not in the checkpoint and unused in eval mode.
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit(f"{path}: keys do not match the EfficientNet encoder: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model.eval()


def load_image_encoder(prior_repo: Path) -> nn.Module:
    from transformers import CLIPVisionModelWithProjection

    return CLIPVisionModelWithProjection.from_pretrained(prior_repo / "image_encoder", torch_dtype=torch.float32,
                                                         attn_implementation="eager").eval()


class ImageEncoderGraph(nn.Module):
    def __init__(self, model: nn.Module, dtype: torch.dtype, io_dtype: torch.dtype) -> None:
        super().__init__()
        self.model, self.dtype, self.io_dtype = model.to(dtype), dtype, io_dtype

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values=pixel_values.to(self.dtype)).image_embeds.to(self.io_dtype)


class EffnetGraph(nn.Module):
    def __init__(self, model: nn.Module, dtype: torch.dtype, io_dtype: torch.dtype) -> None:
        super().__init__()
        self.model, self.dtype, self.io_dtype = model.to(dtype), dtype, io_dtype

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.model(image.to(self.dtype)).to(self.io_dtype)


def export_image_encoder(model: nn.Module, out: Path, dtype: str, io_dtype: str, size: int,
                         batches: Sequence[int] = (1, 3), log=print) -> dict[str, Any]:  # noqa: ANN001
    """Export, verify at every batch against torch, return the manifest's imageEncoder section."""
    io = bundle.IO["imageEncoder"]
    graph = ImageEncoderGraph(model.eval(), graphs._dtype(dtype), graphs._dtype(io_dtype)).eval()
    file = "image_encoder.onnx"
    example = torch.randn(1, 3, size, size).to(graphs._dtype(io_dtype))
    log(f"export imageEncoder → {file} (weights {dtype}, I/O {io_dtype})")
    graphs._export(graph, (example,), out / file, [io["input"]], [io["output"]],
                   {io["input"]: {0: "batch"}, io["output"]: {0: "batch"}})
    embed = int(model.config.projection_dim)
    np_dtype = "float16" if io_dtype == "float16" else "float32"
    gen = torch.Generator().manual_seed(11)
    feeds = [{io["input"]: torch.randn(b, 3, size, size, generator=gen).numpy().astype(np_dtype)} for b in batches]
    bundle.verify_graph(out / file, feeds, {io["input"]: io_dtype}, {io["output"]: io_dtype},
                        expect_shapes=[{io["output"]: [b, embed]} for b in batches],
                        reference=graphs.torch_reference(graph, [io["input"]], [io["output"]]),
                        atol=1e-4 if dtype == "float32" else 2e-2)
    log(f"  verified at batches {list(batches)}")
    return bundle.image_encoder_section(out, file, io_dtype, size=size, embed_size=embed)


def export_effnet_encoder(model: EfficientNetEncoder, out: Path, dtype: str, io_dtype: str, cell: int,
                          latent_sizes: Sequence[tuple[int, int]] = ((3, 3), (3, 6)), batches: Sequence[int] = (1, 2),
                          log=print) -> dict[str, Any]:  # noqa: ANN001
    """Export, verify at ≥ 2 latent sizes × batches against torch, return the manifest's effnetEncoder section."""
    io = bundle.IO["effnetEncoder"]
    graph = EffnetGraph(model.eval(), graphs._dtype(dtype), graphs._dtype(io_dtype)).eval()
    file = "effnet_encoder.onnx"
    h0, w0 = latent_sizes[0]
    example = torch.randn(1, 3, cell * h0, cell * w0).to(graphs._dtype(io_dtype))
    log(f"export effnetEncoder → {file} (weights {dtype}, I/O {io_dtype})")
    graphs._export(graph, (example,), out / file, [io["input"]], [io["output"]],
                   {io["input"]: {0: "batch", 2: "height", 3: "width"},
                    io["output"]: {0: "batch", 2: "latent_height", 3: "latent_width"}})
    channels = int(model.mapper[0].out_channels)
    np_dtype = "float16" if io_dtype == "float16" else "float32"
    gen = torch.Generator().manual_seed(12)
    cases = [(b, h, w) for (h, w) in latent_sizes for b in batches]
    feeds = [{io["input"]: torch.randn(b, 3, cell * h, cell * w, generator=gen).numpy().astype(np_dtype)} for b, h, w in cases]
    bundle.verify_graph(out / file, feeds, {io["input"]: io_dtype}, {io["output"]: io_dtype},
                        expect_shapes=[{io["output"]: [b, channels, h, w]} for b, h, w in cases],
                        reference=graphs.torch_reference(graph, [io["input"]], [io["output"]]),
                        atol=1e-4 if dtype == "float32" else 2e-2)
    log(f"  verified at (batch, hC, wC) {cases}")
    return bundle.effnet_encoder_section(out, file, io_dtype, cell=cell, channels=channels)
