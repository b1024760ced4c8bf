"""Render scenes of dataset.py into RGB tensors on the GPU (anti-aliased signed distances, no PIL).

The discrete attributes come from the caption pool; the continuous ones (exact centre, size, colour jitter) are
drawn here per render, so one caption covers many images. `sample_params` then `render(params, side)` lets the same
scene be drawn at 256 and at 512 pixels (Stage B learns to decode a Stage C latent onto a 2× canvas), and
`render(params, height, width)` on any canvas: centres are fractions of each side, sizes fractions of the shorter
side, so a circle stays round at every aspect ratio (issue 21: `--ar 16:9` drew ellipses).
"""
from __future__ import annotations

import math

import torch

import dataset

MAX_SHAPES = 4
SHAPE_ID = {k: i for i, k in enumerate(dataset.SHAPES)}
COLOUR_ID = {k: i for i, k in enumerate(dataset.COLOUR_NAMES)}
POSITION_ID = {k: i for i, k in enumerate(dataset.POSITIONS)}
SIZE_ID = {k: i for i, k in enumerate(dataset.SIZES)}
PALETTE = torch.tensor([dataset.COLOURS[c] for c in dataset.COLOUR_NAMES], dtype=torch.float32) / 255.0
ANCHORS = torch.tensor([dataset.POSITION_XY[p] for p in dataset.POSITIONS], dtype=torch.float32)
SIZE_VALUES = torch.tensor(list(dataset.SIZES.values()), dtype=torch.float32)


def encode_scenes(scenes: list[dataset.Scene]) -> dict[str, torch.Tensor]:
    """Integer attribute tables: kind/colour/position/size [N, MAX_SHAPES] (kind -1 = empty slot), background [N]."""
    n = len(scenes)
    kind = torch.full((n, MAX_SHAPES), -1, dtype=torch.long)
    colour, position, size = (torch.zeros((n, MAX_SHAPES), dtype=torch.long) for _ in range(3))
    for i, sc in enumerate(scenes):
        for k, s in enumerate(sc.shapes):
            kind[i, k], colour[i, k] = SHAPE_ID[s.kind], COLOUR_ID[s.colour]
            position[i, k], size[i, k] = POSITION_ID[s.position], SIZE_ID[s.size]
    background = torch.tensor([COLOUR_ID[sc.background] for sc in scenes], dtype=torch.long)
    return {"kind": kind, "colour": colour, "position": position, "size": size, "background": background}


_ON_DEVICE: dict[torch.device, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}


def _constants(dev: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """ANCHORS, SIZE_VALUES, PALETTE on `dev`, copied once (a host copy per batch cannot run inside a CUDA graph)."""
    if dev not in _ON_DEVICE:
        _ON_DEVICE[dev] = (ANCHORS.to(dev), SIZE_VALUES.to(dev), PALETTE.to(dev))
    return _ON_DEVICE[dev]


def sample_params(table: dict[str, torch.Tensor], gen: torch.Generator | None) -> dict[str, torch.Tensor]:
    """Continuous parameters for a batch of encoded scenes (on the table's device; gen None: the default generator)."""
    dev = table["kind"].device
    n = table["kind"].shape[0]

    def u(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=gen, device=dev) * 2 - 1

    anchors, sizes, palette = _constants(dev)
    centre = anchors[table["position"]] + dataset.POSITION_JITTER * u(n, MAX_SHAPES, 2)
    size = sizes[table["size"]] * (1 + 0.08 * u(n, MAX_SHAPES))
    colour = (palette[table["colour"]] + 10 / 255 * u(n, MAX_SHAPES, 3)).clamp(0, 1)
    background = (palette[table["background"]] + 10 / 255 * u(n, 3)).clamp(0, 1)
    return {"kind": table["kind"], "centre": centre, "size": size, "colour": colour, "background": background}


def signed_distance(kind: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Distance to the shape outline in canvas units (negative inside); kind, s: [N,1,1]; dx, dy: [N,H,W]."""
    ax, ay = dx.abs(), dy.abs()
    circle = torch.sqrt(dx * dx + dy * dy) - s
    square = torch.maximum(ax, ay) - 0.9 * s
    diamond = (ax + ay - 1.1 * s) / math.sqrt(2)
    a = 1.1 * s  # triangle: apex (0, -a), base corners (±a, a/2); its centroid is the centre
    slope = math.sqrt(1.5**2 + 1)
    triangle = torch.maximum(dy - a / 2, (1.5 * ax - (dy + a)) / slope)
    out = torch.where(kind == 0, circle, square)
    out = torch.where(kind == 2, triangle, out)
    return torch.where(kind == 3, diamond, out)


def _coverage(params: dict[str, torch.Tensor], slot: int, kind: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Anti-aliased coverage [N, height, width] of slot `slot`'s shape drawn as `kind` ([N,1,1]), in units of the
    shorter side (isotropic: the same shape at every aspect ratio)."""
    n = params["centre"].shape[0]
    dev = params["centre"].device
    unit = min(height, width)
    ys = ((torch.arange(height, device=dev, dtype=torch.float32) + 0.5) / unit).view(1, height, 1)
    xs = ((torch.arange(width, device=dev, dtype=torch.float32) + 0.5) / unit).view(1, 1, width)
    cx = params["centre"][:, slot, 0].view(n, 1, 1) * (width / unit)
    cy = params["centre"][:, slot, 1].view(n, 1, 1) * (height / unit)
    d = signed_distance(kind, xs - cx, ys - cy, params["size"][:, slot].view(n, 1, 1))
    return (0.5 - d * unit).clamp(0, 1)


def shape_contrast(params: dict[str, torch.Tensor], side: int) -> torch.Tensor:
    """[N, 1, side, side]: where each shape differs from the other kinds drawn at the same centre and size (mean of
    |coverage − coverage as another kind| over the other kinds, summed over the slots). These are the few pixels that
    tell a square from a circle (its corners, the circle's bulge at mid-edge) or a triangle from a diamond."""
    n = params["centre"].shape[0]
    out = torch.zeros(n, side, side, device=params["centre"].device)
    for k in range(MAX_SHAPES):
        kind = params["kind"][:, k].view(n, 1, 1)
        present = (kind >= 0).float()
        own = _coverage(params, k, kind, side, side)
        others = [(kind + j) % len(dataset.SHAPES) for j in range(1, len(dataset.SHAPES))]
        out += present * sum((own - _coverage(params, k, o, side, side)).abs() for o in others) / len(others)
    return out.unsqueeze(1)


def render(params: dict[str, torch.Tensor], height: int, width: int | None = None) -> torch.Tensor:
    """[N, 3, height, width] in [0, 1] (width defaults to height); shapes drawn in slot order over the background."""
    width = height if width is None else width
    n = params["centre"].shape[0]
    img = params["background"].view(n, 3, 1, 1).expand(n, 3, height, width).clone()
    for k in range(MAX_SHAPES):
        kind = params["kind"][:, k].view(n, 1, 1)
        cover = (_coverage(params, k, kind, height, width) * (kind >= 0)).unsqueeze(1)
        img = img * (1 - cover) + params["colour"][:, k].view(n, 3, 1, 1) * cover
    return img
