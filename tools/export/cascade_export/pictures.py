"""Deterministic test pictures for the preprocessing references (make_preprocess_refs.py) and the parity fixture's
image inputs (make_fixture.py): gradients in red and green, a noisy checker in blue, an optional alpha ramp. One
generator per output folder, so each folder's pictures depend only on the order they are drawn in."""
from __future__ import annotations

from typing import Callable

import numpy as np
from PIL import Image


def picture_maker(seed: int = 20) -> Callable[..., Image.Image]:
    rng = np.random.default_rng(seed)

    def picture(width: int, height: int, mode: str = "RGB") -> Image.Image:
        y, x = np.mgrid[0:height, 0:width]
        r = (x * 255 // max(1, width - 1)).astype(np.uint8)
        g = (y * 255 // max(1, height - 1)).astype(np.uint8)
        b = (((x // 7 + y // 5) % 2) * 200 + rng.integers(0, 40, size=(height, width))).astype(np.uint8)
        channels = [r, g, b] + ([((x * 3 + y) % 256).astype(np.uint8)] if mode == "RGBA" else [])
        return Image.fromarray(np.stack(channels, axis=-1))  # RGB or RGBA from the channel count

    return picture
