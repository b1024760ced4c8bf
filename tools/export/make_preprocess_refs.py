"""Reference tensors for the engine's picture preprocessing (gpu-runner/cascade/stages/image-input.ts), written to
test/fixtures/image-preprocess/: deterministic pictures (odd sizes, portrait, landscape, RGBA) and what the reference
implementations make of them:

- CLIP (spec §1.3): transformers' CLIPImageProcessor with the PIL backend (`CLIPImageProcessorPil`: shortest side →
  size with PIL BICUBIC, centre crop, rescale 1/255, OpenAI CLIP mean/std), at 224 (ViT-L/14) and 32 (parity fixture);
- EfficientNet (spec §4.1): [0, 1] RGB resized to cover the target with an antialiased bilinear filter (PIL BILINEAR on
  float planes, the filter torchvision's `resize(antialias=True)` reproduces), centre crop (offsets rounded down),
  ImageNet mean/std.

Needs numpy, Pillow and transformers only (no torch):

    python tools/export/make_preprocess_refs.py --out test/fixtures/image-preprocess
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from cascade_export.bundle import CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD
from cascade_export.pictures import picture_maker


def pictures() -> dict[str, Image.Image]:
    picture = picture_maker()
    return {"wide": picture(397, 261), "tall": picture(150, 320), "alpha": picture(64, 64, "RGBA"), "small": picture(20, 28)}


def clip_reference(image: Image.Image, size: int) -> np.ndarray:
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    processor = CLIPImageProcessorPil(size={"shortest_edge": size}, crop_size={"height": size, "width": size},
                                      image_mean=list(CLIP_MEAN), image_std=list(CLIP_STD))
    return processor(image, return_tensors="np").pixel_values[0].astype("<f4")


def effnet_reference(image: Image.Image, height: int, width: int) -> np.ndarray:
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    h, w = rgb.shape[:2]
    scale = max(width / w, height / h)
    new_h, new_w = max(height, round(h * scale)), max(width, round(w * scale))
    planes = []
    for c in range(3):
        plane = Image.fromarray(rgb[:, :, c], mode="F")
        if (new_h, new_w) != (h, w):
            plane = plane.resize((new_w, new_h), Image.BILINEAR)
        planes.append(np.asarray(plane, dtype=np.float32))
    x = np.stack(planes)
    top, left = (new_h - height) // 2, (new_w - width) // 2
    x = x[:, top:top + height, left:left + width]
    mean = np.array(IMAGENET_MEAN, np.float32).reshape(3, 1, 1)
    std = np.array(IMAGENET_STD, np.float32).reshape(3, 1, 1)
    return ((x - mean) / std).astype("<f4")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    index: dict[str, dict] = {}
    chunks: list[np.ndarray] = []
    offset = 0

    def add(name: str, array: np.ndarray) -> None:
        nonlocal offset
        index[name] = {"offset": offset, "dims": list(array.shape)}
        chunks.append(array.ravel())
        offset += array.size

    for name, image in pictures().items():
        image.save(args.out / f"{name}.png")
        for size in (224, 32) if name in ("wide", "tall") else (32,):
            add(f"clip{size}/{name}", clip_reference(image, size))
        for cell, h_c, w_c in ((32, 4, 4), (32, 3, 6), (8, 5, 3)):
            add(f"effnet{cell}x{h_c}x{w_c}/{name}", effnet_reference(image, cell * h_c, cell * w_c))
    import transformers
    import PIL

    (args.out / "refs.bin").write_bytes(np.concatenate(chunks).tobytes())
    meta = {"reference": {"transformers": transformers.__version__, "pillow": PIL.__version__, "numpy": np.__version__},
            "clipMean": CLIP_MEAN, "clipStd": CLIP_STD, "imagenetMean": IMAGENET_MEAN, "imagenetStd": IMAGENET_STD}
    (args.out / "refs.json").write_text(json.dumps({**meta, "tensors": index}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(index)} reference tensors to {args.out}")


if __name__ == "__main__":
    main()
