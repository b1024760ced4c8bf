"""Checks of the demo model 2 recipe that need no GPU (any torch ≥ 1.13; exits non-zero on a failure):
- Stage C on a canvas padded into train.py's token sequence (key mask, noise in the padding) computes what the
  exported per-canvas graph computes (StageC.predict_v), for canvases of several shapes;
- the renderer keeps a circle round on a 16:9 canvas.

    python3 tools/train-demo/check_tokens.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dataset  # noqa: E402
import models  # noqa: E402
import render  # noqa: E402
import train  # noqa: E402


def main() -> None:
    torch.manual_seed(0)
    prior = models.StageC().eval()
    for p in prior.parameters():  # the zero-initialised output layers would make every comparison trivially 0
        torch.nn.init.normal_(p, std=0.05)
    coords, real = train.canvas_tables(torch.device("cpu"))
    length, worst = 32, 0.0
    for c in (0, 5, 12, 18, 23, 30):
        w, h = train.CANVASES[c]
        lat = torch.randn(2, 16, h // 16, w // 16)
        r, pooled, text, img = torch.rand(2), torch.randn(2, 1, 128), torch.randn(2, length, 128), torch.randn(2, 1, 32)
        n = (h // 32) * (w // 32)
        tokens = torch.randn(2, train.MAX_TOKENS, 64) * 5  # padding must not matter
        tokens[:, :n] = models.to_tokens(lat, 2)
        keys = torch.cat([real[c].expand(2, -1), torch.ones(2, length + 8, dtype=torch.bool)], 1)[:, None, None]
        with torch.no_grad():
            direct = prior.predict_v(lat, r, pooled, text, img)
            out = prior.predict_tokens(tokens, coords[c].expand(2, -1, -1), r, pooled, text, img, keys)
        error = (direct - models.from_tokens(out[:, :n], 2, h // 16, w // 16)).abs().max().item()
        worst = max(worst, error)
        print(f"canvas {w}×{h}: max |predict_v − padded predict_tokens| = {error:.1e} (mean |v| {direct.abs().mean():.2f})")
    scene = dataset.Scene("white", (dataset.Shape("circle", "red", "left", "large"),), "")
    params = render.sample_params(render.encode_scenes([scene]), torch.Generator().manual_seed(1))
    ys, xs = (render.render(params, 192, 320)[0, 1] < 0.5).nonzero(as_tuple=True)
    aspect = ((xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1)).item()
    print(f"a circle on a 320×192 canvas: bounding box w/h {aspect:.2f}")
    if worst > 1e-4 or not 0.95 <= aspect <= 1.05:
        raise SystemExit("check failed")
    print("ok")


if __name__ == "__main__":
    main()
