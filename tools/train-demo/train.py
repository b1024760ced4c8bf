"""Train the demo model on one GPU, export the bundle and judge sampler settings.

    python tools/train-demo/train.py --out $OUT            # phases 1 + 2 and export (~8 min on one H100)
    python tools/train-demo/train.py --out $OUT --smoke    # tiny steps, same code path (~1 min)
    python tools/train-demo/train.py --out $OUT --resume ckpt.pt --retrain-decoder --steps-a 1000 --decoder-until 350
                                                           # keep text encoder + Stage C, fresh Stage B (~7 min)
    python tools/train-demo/train.py --out $OUT --resume ckpt.pt --retrain-prior --continue-prior --detail-weight 10 \
        --train-shift 2 --prior-until 470                  # Stage C alone on everything else frozen (~9 min)

Phases: (1) Stage A autoencoder + semantic encoder + previewer; (2) text encoder + Stage C + Stage B jointly
(Stage B sees the text encoder's pooled output detached); then export.py writes and verifies the bundle and
renders the held-out prompts. After each phase a checkpoint goes to OUT/ckpt.pt (fp16) so that a later call can
resume with --resume.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import dataset  # noqa: E402
import models  # noqa: E402
import render  # noqa: E402
import sampling  # noqa: E402

MAX_LENGTH = 32
CFG_DROPOUT = 0.1
IMAGE_SHARE = 0.4  # Stage C steps that see the scene as an image prompt (clip_img); the rest get zeros
IMAGE_ONLY = 0.35  # of those, the share whose caption is dropped too (image variation without text)
STARTED = time.time()


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Corpus:
    """A fixed pool of scenes with tokenized captions; images are rendered per batch with fresh jitter."""

    def __init__(self, size: int, device: torch.device, seed: int = 0):
        rng = random.Random(seed)
        excluded = dataset.all_excluded()
        self.scenes = [dataset.random_scene(rng, excluded) for _ in range(size)]
        self.tokenizer = bpe.Tokenizer(bpe.learn([s.caption for s in self.scenes[:30000]]), MAX_LENGTH)
        enc = [self.tokenizer.encode(s.caption) for s in self.scenes]
        self.ids = torch.tensor([e[0] for e in enc], device=device)
        self.mask = torch.tensor([e[1] for e in enc], device=device)
        empty = self.tokenizer.encode("")
        self.empty_ids, self.empty_mask = torch.tensor(empty[0], device=device), torch.tensor(empty[1], device=device)
        self.table = {k: v.to(device) for k, v in render.encode_scenes(self.scenes).items()}
        single = self.table["kind"][:, 1] < 0
        ignore = torch.full_like(self.table["background"], -100)
        self.targets = {"background": self.table["background"]}
        for name in ("kind", "colour", "position", "size"):
            self.targets[name] = torch.where(single, self.table[name][:, 0], ignore)
        self.device = device
        self.weights: torch.Tensor | None = None

    def boost(self, factors: dict[str, float]) -> None:
        """Draw scenes holding the named shapes `factor` times as often (the largest factor of a scene's shapes)."""
        unknown = sorted(set(factors) - set(render.SHAPE_ID))
        if unknown:
            raise SystemExit(f"--boost: unknown shape(s) {', '.join(unknown)}; known: {', '.join(render.SHAPE_ID)}")
        kind = self.table["kind"]
        w = torch.ones(kind.shape[0], device=self.device)
        for name, f in factors.items():
            w = torch.maximum(w, torch.where((kind == render.SHAPE_ID[name]).any(1), f, 1.0))
        self.weights = w

    def batch(self, n: int, gen: torch.Generator | None, dropout: float = CFG_DROPOUT):
        """n scenes drawn at random with their captions (captions()) and fresh continuous parameters to render."""
        idx = draw_indices(n, len(self.scenes), self.weights, gen, self.device)
        params = render.sample_params({k: v[idx] for k, v in self.table.items()}, gen)
        return (*self.captions(idx, gen, dropout), params)

    def captions(self, idx: torch.Tensor, gen: torch.Generator | None, dropout: float = CFG_DROPOUT,
                 also_drop: torch.Tensor | None = None):
        """Token ids, masks and attribute-head targets of scenes `idx`, `dropout` of them (and those `also_drop`
        marks) replaced by the empty caption (the CFG null; their targets ignored)."""
        drop = torch.rand(idx.shape[0], generator=gen, device=self.device) < dropout
        if also_drop is not None:
            drop = drop | also_drop
        ids = torch.where(drop[:, None], self.empty_ids[None], self.ids[idx])
        mask = torch.where(drop[:, None], self.empty_mask[None], self.mask[idx])
        targets = {k: torch.where(drop, torch.full_like(v[idx], -100), v[idx]) for k, v in self.targets.items()}
        return ids, mask, targets


def draw_indices(n: int, high: int, weights: torch.Tensor | None, gen: torch.Generator | None,
                 device: torch.device) -> torch.Tensor:
    """n indices in [0, high): uniform, or in proportion to `weights` (--boost), with replacement. n may be 0 (Stage
    B's draw when --from-prior fills all but the 512-px share), which torch.multinomial refuses."""
    if weights is not None and n > 0:
        return torch.multinomial(weights, n, replacement=True, generator=gen)
    return torch.randint(0, high, (n,), generator=gen, device=device)


# Every canvas the bot asks the demo model for (core/dimensions.ts resolveDimensions at base 256: each --ar from 1:4 to
# 4:1 with sides 1–21, each --size), as (width, height) in pixels. Stage C trains on all of them (issue 21: shapes
# stretched with --ar and broke up at --size large when it had seen 256² only).
CANVASES = ((128, 256), (128, 320), (128, 384), (128, 448), (128, 512), (192, 192), (192, 256), (192, 320), (192, 384),
            (192, 512), (256, 128), (256, 192), (256, 256), (256, 320), (256, 512), (320, 128), (320, 192), (320, 256),
            (320, 448), (320, 512), (384, 128), (384, 192), (384, 384), (384, 448), (448, 128), (448, 320), (448, 384),
            (512, 128), (512, 192), (512, 256), (512, 320))
SQUARE = CANVASES.index((256, 256))
PATCH = 2
MAX_TOKENS = max((w // 16 // PATCH) * (h // 16 // PATCH) for w, h in CANVASES)  # 168 (384 × 448)


def canvas_tables(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Per canvas: coordinate features of its tokens padded to MAX_TOKENS [C, MAX_TOKENS, 32], and which are real
    [C, MAX_TOKENS] (bool)."""
    coords = torch.zeros(len(CANVASES), MAX_TOKENS, models.COORD_FEATURES, device=device)
    real = torch.zeros(len(CANVASES), MAX_TOKENS, dtype=torch.bool, device=device)
    for i, (w, h) in enumerate(CANVASES):
        th, tw = h // 16 // PATCH, w // 16 // PATCH
        coords[i, : th * tw] = models.coordinate_features(th, tw, device)
        real[i, : th * tw] = True
    return coords, real


@dataclasses.dataclass
class PoolBatch:
    """Stage B's draw: square 256² entries."""
    ids: torch.Tensor
    mask: torch.Tensor
    targets: dict[str, torch.Tensor]
    params: dict[str, torch.Tensor]  # render.sample_params of each image (loss_weights' contrast)
    sem: torch.Tensor  # semantic latent [B,16,16,16]: Stage B's effnet
    lat: torch.Tensor  # Stage A latent of the 256-px image [B,4,64,64]: Stage B's x0
    big_lat: torch.Tensor  # Stage A latent of the first `big` images drawn at 512 px: Stage B's 2× canvas


@dataclasses.dataclass
class TokenBatch:
    """Stage C's draw: canvases of every shape as token sequences padded to MAX_TOKENS."""
    ids: torch.Tensor
    mask: torch.Tensor
    targets: dict[str, torch.Tensor]
    tokens: torch.Tensor  # [B, MAX_TOKENS, 64] the semantic latent, patchified (x0)
    coords: torch.Tensor  # [B, MAX_TOKENS, 32]
    real: torch.Tensor  # [B, MAX_TOKENS] bool
    detail: torch.Tensor  # [B, MAX_TOKENS, 4] outline map (loss_weights' detail), 0 on padding
    image: torch.Tensor  # [B, 16, 16, 16] semantic latent of the canvas resized to 256²: the image prompt's input
    image_kept: torch.Tensor  # [B] bool: the image prompt is given (else clip_img is zeros, as in the engine)


class LatentPool:
    """The corpus's scenes rendered (fresh jitter per entry, scene i % len(scenes)) and encoded once the autoencoders
    are frozen, i.e. after phase 1. The first `square_share` of the entries are 256² canvases with Stage A's latents
    (at 256 px and, for the first `big_share` of all entries, at 512 px) for Stage B; the rest are spread over CANVASES
    for Stage C. Every entry holds its semantic latent as padded tokens and, as the image prompt's input, the semantic
    latent of its canvas resized to 256². Rendering and encoding a batch costs the GPU more than a Stage C step on it,
    so the diffusion phases draw from here (float16; 200 000 entries ≈ 12 GB)."""

    def __init__(self, corpus: Corpus, stage_a, encoder, entries: int, big_share: float = 0.0625,
                 square_share: float = 0.5, chunk: int = 1024):
        self.corpus, dev = corpus, corpus.device
        self.scene = torch.arange(entries, device=dev) % len(corpus.scenes)
        self.squares = max(1, int(entries * square_share))
        self.big = max(1, min(self.squares, int(entries * big_share)))
        gen = torch.Generator(device=dev).manual_seed(2024)
        canvas = torch.full((entries,), SQUARE, dtype=torch.long, device=dev)
        canvas[self.squares:] = torch.randint(0, len(CANVASES), (entries - self.squares,), generator=gen, device=dev)
        self.canvas = canvas
        self.coords_table, self.real_table = canvas_tables(dev)
        half = torch.float16
        self.tokens = torch.zeros((entries, MAX_TOKENS, 16 * PATCH * PATCH), dtype=half, device=dev)
        self.detail = torch.zeros((entries, MAX_TOKENS, PATCH * PATCH), dtype=half, device=dev)
        self.image = torch.empty((entries, 16, 16, 16), dtype=half, device=dev)
        self.lat = torch.empty((self.squares, 4, 64, 64), dtype=half, device=dev)
        self.big_lat = torch.empty((self.big, 4, 128, 128), dtype=half, device=dev)
        self.params: dict[str, torch.Tensor] = {}
        with torch.no_grad(), torch.autocast(dev.type, dtype=torch.bfloat16):
            for c, (w, h) in enumerate(CANVASES):
                members = (canvas == c).nonzero().squeeze(1)
                for start in range(0, members.shape[0], chunk):
                    idx = members[start:start + chunk]
                    p = render.sample_params({k: v[self.scene[idx]] for k, v in corpus.table.items()}, gen)
                    img = render.render(p, h, w)
                    sem = encoder(img).float()
                    n = (h // 16 // PATCH) * (w // 16 // PATCH)
                    self.tokens[idx, :n] = models.to_tokens(sem, PATCH).half()
                    self.detail[idx, :n] = models.to_tokens(outline_map(sem), PATCH).half()
                    square = img if (w, h) == (256, 256) else image_prompt_input(img)
                    self.image[idx] = sem.half() if (w, h) == (256, 256) else encoder(square).half()
                    if c != SQUARE:
                        continue
                    own = idx[idx < self.squares]  # the square entries of Stage B (in order: they come first)
                    if own.numel() == 0:
                        continue
                    keep = idx < self.squares
                    if not self.params:
                        self.params = {k: torch.empty((self.squares, *v.shape[1:]), dtype=v.dtype, device=dev)
                                       for k, v in p.items()}
                    for k, v in p.items():
                        self.params[k][own] = v[keep]
                    self.lat[own] = stage_a.encode(img[keep]).half()
                    bigs = own < self.big
                    if bigs.any():
                        self.big_lat[own[bigs]] = stage_a.encode(
                            render.render({k: v[keep][bigs] for k, v in p.items()}, 512)).half()
        self.weights = None if corpus.weights is None else corpus.weights[self.scene]
        self.redrawn_idx = self.redrawn_sem = None

    def make_redraws(self, nets, entries: int, t_range: tuple[float, float], chunk: int = 2048) -> None:
        """Stage C's redraws (prior_redraw) of `entries` random square entries' latents, each chunk from its own noise
        level in `t_range`, for draw(redrawn=...). Made in large batches before Stage B's steps, which then stay
        graphable."""
        dev = self.image.device
        gen = torch.Generator(device=dev).manual_seed(77)
        self.redrawn_idx = torch.randint(0, self.squares, (entries,), generator=gen, device=dev)
        out = []
        for start in range(0, entries, chunk):
            idx = self.redrawn_idx[start:start + chunk]
            ids, mask, _ = self.corpus.captions(self.scene[idx], gen, dropout=0.0)
            t_start = t_range[0] + (t_range[1] - t_range[0]) * torch.rand((), generator=gen, device=dev).item()
            out.append(prior_redraw(nets, self.corpus, self.image[idx].float(), ids, mask, t_start, gen).half())
        self.redrawn_sem = torch.cat(out)

    def __len__(self) -> int:
        return self.scene.shape[0]

    def draw(self, n: int, gen: torch.Generator | None, big: int = 0, redrawn: int = 0,
             dropout: float = CFG_DROPOUT) -> PoolBatch:
        """Stage B: n square entries at random: the first `big` from those with a 512-px latent, the next `redrawn`
        from those make_redraws() redrew, their `sem` Stage C's redraw instead of the exact latent."""
        dev = self.image.device
        weights = None if self.weights is None else self.weights[: self.squares]
        rest = draw_indices(n - big - redrawn, self.squares, weights, gen, dev)
        picked = (torch.randint(0, self.redrawn_idx.shape[0], (redrawn,), generator=gen, device=dev)
                  if redrawn else None)
        idx = torch.cat([torch.randint(0, self.big, (big,), generator=gen, device=dev),
                         *([self.redrawn_idx[picked]] if redrawn else []), rest])
        ids, mask, targets = self.corpus.captions(self.scene[idx], gen, dropout)
        sem = self.image[idx]
        if redrawn:
            sem = torch.cat([sem[:big], self.redrawn_sem[picked], sem[big + redrawn:]])
        return PoolBatch(ids, mask, targets, {k: v[idx] for k, v in self.params.items()}, sem.float(),
                         self.lat[idx].float(), self.big_lat[idx[:big]].float())

    def draw_tokens(self, n: int, gen: torch.Generator | None, image_share: float = IMAGE_SHARE,
                    image_only: float = IMAGE_ONLY) -> TokenBatch:
        """Stage C: n entries of any canvas. The image prompt is kept for `image_share` of them (else dropped: the
        engine's text-only case), and of those `image_only` also lose the caption (the engine's image variation
        without text); besides, CFG_DROPOUT of all captions are dropped as before."""
        dev = self.image.device
        idx = draw_indices(n, len(self), self.weights, gen, dev)
        kept = torch.rand(n, generator=gen, device=dev) < image_share
        silent = kept & (torch.rand(n, generator=gen, device=dev) < image_only)
        ids, mask, targets = self.corpus.captions(self.scene[idx], gen, CFG_DROPOUT, also_drop=silent)
        canvas = self.canvas[idx]
        return TokenBatch(ids, mask, targets, self.tokens[idx].float(), self.coords_table[canvas],
                          self.real_table[canvas], self.detail[idx].float(), self.image[idx].float(), kept)


def image_prompt_input(img: torch.Tensor) -> torch.Tensor:
    """What the engine feeds image_encoder.onnx for a picture: centre crop to a square, resized to 256² (antialiased
    bilinear here; the engine resizes the shortest side with sharp, then crops)."""
    h, w = img.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = img[..., top:top + side, left:left + side].float()
    return F.interpolate(crop, size=(256, 256), mode="bilinear", antialias=True, align_corners=False)


def outline_map(sem: torch.Tensor) -> torch.Tensor:
    """[B,1,h,w]: where the latent departs from its 3×3 neighbourhood (a shape's outline), mean 1 per image. Flat
    background fills most cells of these scenes and dominates a plain MSE (loss_weights, --detail-weight)."""
    local = F.avg_pool2d(sem, 3, stride=1, padding=1, count_include_pad=False)
    return _unit_mean((sem - local).abs().mean(1, keepdim=True))


def lr_at(step: int, total: int, peak: float, warmup: int = 200) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup))))


def stage_a_loss(stage_a, img: torch.Tensor) -> torch.Tensor:
    """Reconstruction MSE with a little latent noise (Stage B's samples are not exact either)."""
    with torch.autocast(img.device.type, dtype=torch.bfloat16):
        lat = stage_a.encode(img)
        rec = stage_a.decode(lat + 0.05 * torch.randn_like(lat))
    return F.mse_loss(rec.float(), img)


def train_autoencoders(nets, corpus: Corpus, steps: int, batch: int, gen: torch.Generator | None) -> None:
    stage_a, encoder, previewer = nets["stage_a"], nets["encoder"], nets["previewer"]
    params = [p for m in (stage_a, encoder, previewer) for p in m.parameters()]
    opt = torch.optim.AdamW(params, lr=2e-3, weight_decay=0.0)
    t0 = time.time()
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, 2e-3, warmup=100)
        _, _, _, p = corpus.batch(batch, gen, dropout=0.0)
        img = render.render(p, 256)
        loss_a = stage_a_loss(stage_a, img)
        with torch.autocast(corpus.device.type, dtype=torch.bfloat16):
            sem = encoder(img)
            prev = previewer(sem + 0.1 * torch.randn_like(sem))
        loss_p = F.mse_loss(prev.float(), F.avg_pool2d(img, 2))
        opt.zero_grad(set_to_none=True)
        (loss_a + loss_p).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 200 == 0 or step == steps - 1:
            log(f"phase1 step {step}/{steps} stageA {loss_a.item():.5f} previewer {loss_p.item():.5f} "
                f"({(time.time() - t0) / (step + 1) * 1000:.1f} ms/step)")


def ema_update(ema: torch.nn.Module, live: torch.nn.Module, weight: torch.Tensor) -> None:
    """ema += weight · (live − ema); `weight` is a 0-dim tensor on the parameters' device (CUDA graphs replay it)."""
    with torch.no_grad():
        e, p = list(ema.parameters()), list(live.parameters())
        step = torch._foreach_sub(p, e)
        torch._foreach_mul_(step, weight)
        torch._foreach_add_(e, step)


@dataclasses.dataclass(frozen=True)
class PriorRecipe:
    """How Stage C's loss is drawn and weighted (prior_loss); the same in phase 2 and --retrain-prior."""
    detail: float = 0.0  # --detail-weight
    shift: float = 1.0  # --train-shift

    def loss(self, prior, image_head, c: TokenBatch, pooled, hidden, gen: torch.Generator | None) -> torch.Tensor:
        clip_img = image_head(c.image) * c.image_kept[:, None, None]
        return prior_loss(prior, c, pooled, hidden, clip_img, gen, self.detail, self.shift)


def train_diffusion(nets, emas, pool: LatentPool, batch: int, gen: torch.Generator | None, recipe: PriorRecipe = PriorRecipe(),
                    steps: int | None = None, seconds: float | None = None) -> None:
    """Phase 2: text encoder (+ its attribute heads) + Stage C (+ the image prompt's head) + Stage B jointly, for
    `steps` or a wall-clock budget (train_loop). Stage C sees canvases of every shape, Stage B square ones."""
    te, prior, decoder = nets["text_encoder"], nets["prior"], nets["decoder"]
    heads, image_head = nets["heads"], nets["image_head"]
    groups = [{"params": [*te.parameters(), *heads.parameters(), *prior.parameters(), *image_head.parameters()],
               "peak": 6e-4},
              {"params": list(decoder.parameters()), "peak": 1e-3}]
    half, big = batch // 2, max(4, batch // 16)

    def step_loss():
        c = pool.draw_tokens(batch, gen)
        b = pool.draw(half, gen, big)
        with torch.autocast(c.tokens.device.type, dtype=torch.bfloat16):
            pooled, hidden = te(torch.cat([c.ids, b.ids]), torch.cat([c.mask, b.mask]))
            # mean over the captioned (not ignored) items, 0 when there are none; no host sync (CUDA graphs)
            aux = sum(F.cross_entropy(heads[k](pooled[:batch].float()), c.targets[k], ignore_index=-100, reduction="sum")
                      / (c.targets[k] >= 0).sum().clamp(min=1) for k in c.targets)
            loss_c = recipe.loss(prior, image_head, c, pooled[:batch], hidden[:batch], gen)
            eff = effnet_condition(b.sem, torch.rand(half, 1, 1, 1, device=b.sem.device, generator=gen) * 0.2, gen)
            loss_b = stage_b_loss(decoder, ((b.lat, eff, None), (b.big_lat, eff[:big], None)), pooled[batch:].detach(), gen)
        return loss_c + loss_b + 0.05 * aux, {"C": loss_c, "B": loss_b, "aux": aux}

    train_loop("phase2", groups, [(emas[k], nets[k]) for k in ("text_encoder", "prior", "decoder", "image_head")],
               step_loss, steps=steps, seconds=seconds)


def effnet_condition(sem: torch.Tensor, jitter: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
    """Stage B's effnet input in training: the semantic latent plus Gaussian noise of per-image std `jitter` [B,1,1,1]
    (Stage C's samples are not exact), zeroed for 5 % of the batch (the CFG null)."""
    eff = sem + jitter * torch.randn(sem.shape, generator=gen, device=sem.device)
    return eff * (torch.rand(sem.shape[0], 1, 1, 1, generator=gen, device=sem.device) > 0.05)


def stage_b_loss(decoder, canvases, pooled: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
    """Stage B's v-prediction MSE at random noise levels, summed over `canvases`: (Stage A latents x0, effnet,
    per-cell weights or None) — the 256-px canvas, then the 2× canvas decoded from the same effnet."""
    loss = torch.zeros((), device=pooled.device)
    for x0, eff, weights in canvases:
        t = torch.rand(x0.shape[0], generator=gen, device=x0.device)
        noise = torch.randn(x0.shape, generator=gen, device=x0.device)
        xt, r = sampling.noisy(x0, t, noise)
        error = (decoder.predict_v(xt, r, pooled[: x0.shape[0], None], eff).float() - sampling.v_target(x0, t, noise)) ** 2
        loss = loss + (error.mean() if weights is None else (error * weights).mean())
    return loss


@torch.no_grad()
def stage_a_error(stage_a, corpus: Corpus, n: int = 256) -> float:
    """Reconstruction MSE (eval mode, no latent noise) on a fixed batch of training scenes."""
    stage_a.eval()
    gen = torch.Generator(device=corpus.device).manual_seed(99)  # the same batch before and after, whatever was drawn
    img = render.render(corpus.batch(n, gen, dropout=0.0)[3], 256)
    return F.mse_loss(stage_a.decode(stage_a.encode(img)).float(), img).item()


def finetune_stage_a(stage_a, corpus: Corpus, steps: int, batch: int, gen: torch.Generator | None) -> None:
    """Stage A alone (the semantic encoder and previewer stay as Stage C learned them); Stage B is retrained after.
    Kept only if the reconstruction error on a fixed batch goes down."""
    before, kept = stage_a_error(stage_a, corpus), copy.deepcopy(stage_a.state_dict())
    stage_a.train()
    params = list(stage_a.parameters())
    opt = torch.optim.AdamW(params, lr=3e-4, weight_decay=0.0)
    t0 = time.time()
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, 3e-4, warmup=100)
        _, _, _, p = corpus.batch(batch, gen, dropout=0.0)
        loss = stage_a_loss(stage_a, render.render(p, 256))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 250 == 0 or step == steps - 1:
            log(f"stageA fine-tune step {step}/{steps} mse {loss.item():.5f} "
                f"({(time.time() - t0) / (step + 1) * 1000:.1f} ms/step)")
    after = stage_a_error(stage_a, corpus)
    if after >= before:
        stage_a.load_state_dict(kept)
    log(f"stageA reconstruction mse {before:.5f} -> {after:.5f}: {'kept' if after < before else 'reverted'}")
    stage_a.eval()


def train_loop(label: str, groups: list[dict], ema_pairs: list[tuple[torch.nn.Module, torch.nn.Module]], step_loss,
               steps: int | None = None, seconds: float | None = None) -> None:
    """AdamW over parameter groups (each with its peak learning rate, warm-up then cosine), gradient clipping and EMA
    (ema, live) pairs, for `steps` or for a wall-clock budget of `seconds`: then the schedule's length is fitted to the
    step time measured over steps 100-300 (processes started beside this one are still warming up before that).
    step_loss() draws a batch and returns the loss and the named parts to log. On CUDA the whole step (loss, backward,
    clipping, AdamW, EMA) is captured once into a CUDA graph and replayed (GraphedStep): these networks are small, and
    eager steps spend much of their time launching kernels from Python. So step_loss must draw from the default
    generator (gen_for) and never wait on the device (no .item(), no branch on a tensor's value)."""
    if (steps is None) == (seconds is None):
        raise ValueError("train_loop: give steps or seconds")
    for _, live in ema_pairs:
        live.train()
    runner = GraphedStep(groups, ema_pairs, step_loss)
    deadline = math.inf if seconds is None else time.time() + seconds
    total = steps if steps is not None else 10**9
    step, t0, t100 = 0, time.time(), time.time()
    while step < total and time.time() < deadline:
        if step % 50 == 0:
            runner.wait()  # replays are asynchronous: keep the clock honest
        if step == 100:
            t100 = time.time()
        if step == 300 and seconds is not None:
            total = 300 + max(1, int((deadline - time.time()) / ((time.time() - t100) / 200)))
            log(f"{label}: {(time.time() - t100) / 200 * 1000:.1f} ms/step, {total} steps fit the budget")
        parts = runner.step([lr_at(step, total, g["peak"]) for g in groups], min(0.999, (1 + step) / (10 + step)))
        if step % 250 == 0 or step == total - 1:
            shown = " ".join(f"{k} {float(v):.4f}" for k, v in parts.items())
            log(f"{label} step {step}/{total if total < 10**9 else '?'} {shown} "
                f"({(time.time() - t0) / (step + 1) * 1000:.1f} ms/step)")
        step += 1
    runner.wait()
    log(f"{label}: {step} steps in {time.time() - t0:.0f} s{' (CUDA graph)' if runner.graph else ''}")


class GraphedStep:
    """One optimisation step: step_loss(), backward, gradient clipping, AdamW, EMA. On CUDA it runs eagerly for
    WARMUP steps on a side stream (cuDNN picks its kernels — ≈ 20 s for Stage B's first step —, AdamW makes its
    state), is then captured into a CUDA graph and replayed; learning rates and the EMA weight live in device tensors
    the graph reads. Elsewhere it stays eager. Measured on one H100: Stage C alone at batch 512, 45 ms/step eager
    (rendering each batch) → 15.7 with the LatentPool and this graph; the joint phase 76 → 55 ms/step."""

    WARMUP = 3

    def __init__(self, groups: list[dict], ema_pairs, step_loss):
        self.params = [p for g in groups for p in g["params"]]
        device = self.params[0].device
        self.cuda = device.type == "cuda"
        # a tensor learning rate needs capturable AdamW; eager steps take plain floats
        lrs = [torch.tensor(g["peak"], device=device) if self.cuda else g["peak"] for g in groups]
        self.ema_weight = torch.zeros((), device=device)
        self.opt = torch.optim.AdamW([{"params": g["params"], "lr": lr} for g, lr in zip(groups, lrs)],
                                     weight_decay=0.01, betas=(0.9, 0.99), **({"capturable": True} if self.cuda else {}))
        self.ema_pairs, self.step_loss = ema_pairs, step_loss
        self.graph: torch.cuda.CUDAGraph | None = None
        self.parts: dict[str, torch.Tensor] = {}
        self.done = 0

    def _run(self) -> dict[str, torch.Tensor]:
        loss, parts = self.step_loss()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.opt.step()
        for ema, live in self.ema_pairs:
            ema_update(ema, live, self.ema_weight)
        return {k: v.detach() for k, v in parts.items()}

    def step(self, lrs: list[float], ema_decay: float) -> dict[str, torch.Tensor]:
        for group, lr in zip(self.opt.param_groups, lrs):
            if self.cuda:
                group["lr"].fill_(lr)
            else:
                group["lr"] = lr
        self.ema_weight.fill_(1 - ema_decay)
        self.done += 1
        if self.graph is not None:
            self.graph.replay()
            return self.parts
        if not self.cuda or self.done <= self.WARMUP:
            self.opt.zero_grad(set_to_none=True)
            if not self.cuda:
                return self._run()
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                parts = self._run()
            torch.cuda.current_stream().wait_stream(side)
            return parts
        # Gradients are None when capture starts, so the captured backward writes them afresh on every replay.
        self.opt.zero_grad(set_to_none=True)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.parts = self._run()
        self.graph.replay()
        return self.parts

    def wait(self) -> None:
        if self.cuda:
            torch.cuda.synchronize()


def train_alone(label: str, module: torch.nn.Module, ema: torch.nn.Module, step_loss, seconds: float,
                peak_lr: float) -> None:
    """One network alone for a wall-clock budget (train_loop); step_loss() returns the loss."""
    def with_parts():
        loss = step_loss()
        return loss, {"loss": loss}

    train_loop(label, [{"params": list(module.parameters()), "peak": peak_lr}], [(ema, module)], with_parts,
               seconds=seconds)


@torch.no_grad()
def prior_redraw(nets, corpus: Corpus, sem: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor, t_start: float,
                 gen: torch.Generator | None) -> torch.Tensor:
    """Stage C's own version of exact semantic latents: each noised to `t_start` and sampled back with
    sampling.REDRAW_PRIOR (CFG 4, the steps of the remaining schedule) on its caption. The result keeps the scene's
    layout (where, how big, which colours) but carries Stage C's errors — e.g. a square's corners half rounded — so
    Stage B can learn to settle them from the caption (train_decoder's `from_prior`)."""
    n, dev = sem.shape[0], sem.device
    te, prior = nets["text_encoder"], nets["prior"]
    with torch.autocast(dev.type, dtype=torch.bfloat16):
        pooled, hidden = te(torch.cat([ids, corpus.empty_ids[None].expand(n, -1)]),
                            torch.cat([mask, corpus.empty_mask[None].expand(n, -1)]))
    pooled, hidden = pooled.float()[:, None], hidden.float()
    clip_img = torch.zeros(2 * n, 1, prior.clip_img_mapper.in_features, device=dev)

    def prior_fn(x, r, doubled):
        with torch.autocast(dev.type, dtype=torch.bfloat16):
            return prior(x, r, pooled if doubled else pooled[:n], hidden if doubled else hidden[:n],
                         clip_img if doubled else clip_img[:n]).float()

    redraw = sampling.REDRAW_PRIOR
    settings = dataclasses.replace(redraw, steps=max(2, round(redraw.steps * t_start)), t_start=t_start)
    x, _ = sampling.noisy(sem, torch.full((n,), t_start, device=dev), torch.randn(sem.shape, generator=gen, device=dev))
    return sampling.sample(prior_fn, x, settings, gen)


def train_decoder(nets, emas, pool: LatentPool, seconds: float, batch: int, gen: torch.Generator | None,
                  peak_lr: float = 1e-3, mix: float = 0.0, mix_max: float = 0.5, contrast: float = 0.0,
                  from_prior: float = 0.0, from_prior_t: tuple[float, float] = (0.15, 0.5),
                  redraws: int = 65536) -> None:
    """Stage B alone for a wall-clock budget (train_alone). Conditioning as in the joint phase (frozen text encoder's
    pooled output, 10 % empty captions, effnet jittered and dropped 5 %); 256-px canvases plus a few 512-px ones
    decoded from the same latent. `mix`: that share of the batch gets an effnet moved up to `mix_max` of the way
    towards the same scene drawn with other shape kinds, while the target stays the true scene — Stage C's samples sit
    between kinds (e.g. square and circle), and an exact latent leaves the text nothing to decide, so without this
    Stage B ignores the caption's shape word. `contrast`: the 256-px canvas's loss weighted towards the cells that tell
    a shape's kind (loss_weights; from the exact latent Stage B drew 8 of 40 squares with rounded corners).
    `from_prior`: that share of the batch gets Stage C's redraw of its latent (prior_redraw, from a noise level drawn
    per chunk in `from_prior_t`; `redraws` of them made before the first step, LatentPool.make_redraws) instead of the
    jittered exact one — what Stage B decodes in the engine. Keep the range low (the default, the shipped Stage B's):
    from t ≈ 0.8 up the redraw's colours and places differ from the target's and Stage B learns to distrust the latent."""
    decoder, te = nets["decoder"], nets["text_encoder"].eval()
    nets["prior"].eval()
    encoder = nets["encoder"].eval()
    big = max(4, batch // 8)
    redrawn = min(round(batch * from_prior), batch - big)
    if redrawn:
        t0 = time.time()
        pool.make_redraws(nets, redraws, from_prior_t)
        log(f"stageB: {redraws} redraws by Stage C from t in {from_prior_t} in {time.time() - t0:.1f} s")

    def step_loss() -> torch.Tensor:
        b = pool.draw(batch, gen, big, redrawn)
        sem = b.sem
        with torch.no_grad(), torch.autocast(sem.device.type, dtype=torch.bfloat16):
            if mix > 0:
                p = b.params
                step = torch.randint(1, len(dataset.SHAPES), p["kind"].shape, generator=gen, device=sem.device)
                other = dict(p, kind=torch.where(p["kind"] >= 0, (p["kind"] + step) % len(dataset.SHAPES), p["kind"]))
                towards = encoder(render.render(other, 256)).float()
                u = torch.rand(batch, 1, 1, 1, generator=gen, device=sem.device) * mix_max
                u = u * (torch.rand(batch, 1, 1, 1, generator=gen, device=sem.device) < mix)
                sem = sem + u * (towards - sem)
            pooled = te(b.ids, b.mask)[0].float()
        jitter = torch.rand(batch, 1, 1, 1, device=sem.device, generator=gen) * 0.2
        jitter[big:big + redrawn] = 0  # Stage C's own error instead
        eff = effnet_condition(sem, jitter, gen)
        with torch.autocast(sem.device.type, dtype=torch.bfloat16):
            weights = loss_weights(b.lat, b.params, 0.0, contrast)
            return stage_b_loss(decoder, ((b.lat, eff, weights), (b.big_lat, eff[:big], None)), pooled, gen)

    train_alone("stageB", decoder, emas["decoder"], step_loss, seconds, peak_lr)


def loss_weights(x0: torch.Tensor, params: dict[str, torch.Tensor], detail: float, contrast: float) -> torch.Tensor | None:
    """Per-cell loss weights [B,1,h,w] for a latent x0 (Stage C's, or Stage A's for Stage B), mean 1 per image (None
    when both strengths are 0). Flat background fills most cells of these scenes and dominates a plain MSE, so the few
    cells that decide circle vs square would otherwise barely count. `detail`: cells where the latent departs from its 3×3 neighbourhood (any outline);
    `contrast`: cells where the scene's shapes differ from the other kinds drawn at the same place and size
    (render.shape_contrast at 4 px per cell: a square's corners and mid-edges, a triangle's apex)."""
    if detail <= 0 and contrast <= 0:
        return None
    weights = torch.ones_like(x0[:, :1])
    if detail > 0:
        local = F.avg_pool2d(x0, 3, stride=1, padding=1, count_include_pad=False)
        weights = weights + detail * _unit_mean((x0 - local).abs().mean(1, keepdim=True))
    if contrast > 0:
        side = x0.shape[-1]
        if x0.shape[-2] != side:
            raise ValueError(f"loss_weights: contrast needs square latents, got {tuple(x0.shape[-2:])}")
        weights = weights + contrast * _unit_mean(F.avg_pool2d(render.shape_contrast(params, 4 * side), 4))
    return weights / weights.mean((2, 3), keepdim=True)


def _unit_mean(m: torch.Tensor) -> torch.Tensor:
    return m / m.mean((2, 3), keepdim=True).clamp(min=1e-6)


def prior_loss(prior, c: TokenBatch, pooled: torch.Tensor, hidden: torch.Tensor, clip_img: torch.Tensor,
               gen: torch.Generator | None, detail: float = 0.0, shift: float = 1.0) -> torch.Tensor:
    """Stage C's v-prediction MSE at random noise levels on padded token sequences (padding masked out of the keys and
    the loss): uniform t, or t from the schedule shifted like the sampler's `shift` (log-SNR − 2·ln shift: more of the
    training at the high-noise end where a shape is chosen); cells weighted 1 + detail × outline map, mean 1 per
    image."""
    x0 = c.tokens
    n = x0.shape[0]
    t = torch.rand(n, generator=gen, device=x0.device)
    if shift != 1.0:
        t = sampling.shifted_t(t, shift)
    noise = torch.randn(x0.shape, generator=gen, device=x0.device)
    xt, r = sampling.noisy(x0, t, noise)
    keys = torch.cat([c.real, torch.ones(n, hidden.shape[1] + 8, dtype=torch.bool, device=x0.device)], dim=1)
    pred = prior.predict_tokens(xt, c.coords, r, pooled[:, None], hidden, clip_img, keys[:, None, None, :])
    error = (pred.float() - sampling.v_target(x0, t, noise)) ** 2  # [B, N, 16·4]
    cells = (1 + detail * c.detail) * c.real[:, :, None]  # [B, N, 4]
    cells = cells / cells.sum((1, 2), keepdim=True)
    return (error.view(n, x0.shape[1], -1, PATCH * PATCH) * cells[:, :, None, :]).sum((1, 2, 3)).mean() / 16


def train_prior(nets, emas, pool: LatentPool, seconds: float, batch: int, gen: torch.Generator | None,
                peak_lr: float = 6e-4, recipe: PriorRecipe = PriorRecipe(), compiled: bool = False) -> None:
    """Stage C (+ the image prompt's head) alone for a wall-clock budget (train_loop), on a frozen text encoder: Stage
    B was trained on that encoder's pooled output, so the text features must not move under it. Same loss as the
    joint phase (prior_loss; empty captions for CFG, image prompts dropped at random)."""
    prior, te, image_head = nets["prior"], nets["text_encoder"].eval(), nets["image_head"]

    def step_loss():
        c = pool.draw_tokens(batch, gen)
        with torch.no_grad(), torch.autocast(c.tokens.device.type, dtype=torch.bfloat16):
            pooled, hidden = te(c.ids, c.mask)
        with torch.autocast(c.tokens.device.type, dtype=torch.bfloat16):
            loss = recipe.loss(prior, image_head, c, pooled.float(), hidden.float(), gen)
        return loss, {"loss": loss}

    deadline = time.time() + seconds

    def run() -> None:
        train_loop("stageC", [{"params": [*prior.parameters(), *image_head.parameters()], "peak": peak_lr}],
                   [(emas["prior"], prior), (emas["image_head"], image_head)], step_loss,
                   seconds=deadline - time.time())

    if not compiled:
        return run()
    # measured on one H100 at batch 512 (64 tokens): 15.6 → 7.7 ms/step, after ≈ 25 s of compiling
    prior.predict_tokens = torch.compile(prior.predict_tokens)
    try:
        run()
    except Exception as error:  # a compiler failure must not lose the run: go on uncompiled for what is left
        log(f"stageC compiled failed ({type(error).__name__}: {str(error)[:300]}); going on uncompiled")
        prior.__dict__.pop("predict_tokens", None)
        if next(prior.parameters()).is_cuda:  # torch.cuda.synchronize() raises on a CUDA-less build (--device cpu)
            torch.cuda.synchronize()
        run()
    finally:
        prior.__dict__.pop("predict_tokens", None)


EMA_NETS = ("text_encoder", "prior", "decoder", "image_head")  # exported from their EMA weights


def build(vocab: int, device: torch.device, decoder: str = "wide", prior: str = "patch2"):
    nets = {
        "stage_a": models.StageA(), "encoder": models.SemanticEncoder(), "previewer": models.Previewer(),
        "text_encoder": models.TextEncoder(vocab, MAX_LENGTH), "prior": models.StageC(**models.PRIOR_ARCHS[prior]),
        "decoder": models.StageB() if decoder == "wide" else models.stage_b_small(),
        "image_head": models.ImageHead(),
        "heads": torch.nn.ModuleDict({"kind": torch.nn.Linear(128, len(dataset.SHAPES)),
                                      "colour": torch.nn.Linear(128, len(dataset.COLOURS)),
                                      "background": torch.nn.Linear(128, len(dataset.COLOURS)),
                                      "position": torch.nn.Linear(128, len(dataset.POSITIONS)),
                                      "size": torch.nn.Linear(128, len(dataset.SIZES))}),
    }
    return {k: v.to(device) for k, v in nets.items()}


def save_checkpoint(path: str, nets, emas, phases_done: list[str]) -> None:
    """fp16 weights; once diffusion is trained, its EMA weights stand in for the live ones (keeps the file small)."""
    final = "diffusion" in phases_done
    state = {"phases": phases_done, "nets": {}}
    for k, v in nets.items():
        src = emas[k] if final and k in emas else v
        state["nets"][k] = {n: t.half() if t.is_floating_point() else t for n, t in src.state_dict().items()}
    torch.save(state, path)


def load_checkpoint(path: str, nets, emas, skip: tuple[str, ...] = ()) -> list[str]:
    state = torch.load(path, map_location="cpu")
    for k, v in state["nets"].items():
        if k in skip:
            continue
        nets[k].load_state_dict({n: t.float() if t.is_floating_point() else t for n, t in v.items()})
    for k in emas:
        emas[k].load_state_dict(nets[k].state_dict())
    return list(state["phases"])


def gen_for(device: torch.device, seed: int = 1234) -> torch.Generator | None:
    """What a training phase draws its random numbers from: on CUDA the default generator, reseeded, returned as None
    (a captured CUDA graph replays only the default generator's draws; GraphedStep); elsewhere a private generator."""
    if device.type == "cuda":
        torch.cuda.manual_seed(seed)
        return None
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return gen


def parse_boost(text: str) -> dict[str, float]:
    """`--boost 'square=2,circle=1.5'` → {"square": 2.0, "circle": 1.5}; shape names are checked by Corpus.boost."""
    factors = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        try:
            factor = float(value)
        except ValueError:
            factor = float("nan")
        if not name.strip() or not factor >= 1:
            raise SystemExit(f"--boost: expected shape=factor with factor >= 1 (e.g. 'square=2,circle=1.5'), got {item!r}")
        factors[name.strip()] = factor
    return factors


def parse_range(text: str) -> tuple[float, float]:
    """`--from-prior-t '0.15,0.5'` → (0.15, 0.5), with 0 < lo <= hi <= 1."""
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        lo = hi = float("nan")
    if not 0 < lo <= hi <= 1:
        raise SystemExit(f"--from-prior-t: expected lo,hi with 0 < lo <= hi <= 1 (e.g. '0.15,0.5'), got {text!r}")
    return lo, hi


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--resume", help="checkpoint written by an earlier run")
    ap.add_argument("--steps1", type=int, default=1500)
    ap.add_argument("--steps2", type=int, default=4500)
    ap.add_argument("--diffusion-until", type=float, default=0.0,
                    help="phase 2 stops this many seconds after the process start, its schedule fitted to that "
                         "budget (train_loop), instead of running --steps2 steps")
    ap.add_argument("--pool-entries", type=int, default=200000,
                    help="rendered and encoded images the diffusion phases draw from (LatentPool; ≈ 55 KB each on the GPU)")
    ap.add_argument("--then-prior", type=float, default=0.0,
                    help="after phase 2: Stage C alone on the frozen text encoder for this many seconds (train_prior; "
                         "--prior-lr, --prior-batch, the phase-2 loss options)")
    ap.add_argument("--then-decoder", type=float, default=0.0,
                    help="then Stage B alone for this many seconds (train_decoder; --decoder-lr, --decoder-contrast, "
                         "--from-prior, --from-prior-t)")
    ap.add_argument("--stop-after", choices=("autoencoders", "diffusion", "prior", "decoder"),
                    help="save the checkpoint after this phase and stop; --resume it to go on (a recipe split over "
                         "several calls)")
    ap.add_argument("--prior-batch", type=int, default=0, help="Stage C alone: batch size (default --batch2)")
    ap.add_argument("--compile-prior", action="store_true",
                    help="Stage C alone: torch.compile its forward (CUDA; about twice the steps per second once compiled)")
    ap.add_argument("--batch1", type=int, default=64)
    ap.add_argument("--batch2", type=int, default=256)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--retrain-diffusion", action="store_true", help="with --resume: keep the autoencoders only")
    ap.add_argument("--continue-diffusion", action="store_true",
                    help="with --resume: train the diffusion phase again, starting from the checkpoint's weights")
    ap.add_argument("--retrain-decoder", action="store_true",
                    help="with --resume: keep text encoder, Stage C and the semantic encoder; train a fresh Stage B")
    ap.add_argument("--steps-a", type=int, default=0, help="with --retrain-decoder: fine-tune Stage A first")
    ap.add_argument("--decoder-until", type=float, default=350.0,
                    help="with --retrain-decoder: seconds after start at which Stage B training stops")
    ap.add_argument("--continue-decoder", action="store_true",
                    help="with --retrain-decoder: start from the checkpoint's Stage B instead of a fresh one")
    ap.add_argument("--decoder-lr", type=float, default=1e-3, help="with --retrain-decoder: peak learning rate")
    ap.add_argument("--effnet-mix", type=float, default=0.0,
                    help="with --retrain-decoder: share of the batch whose effnet leans towards other shape kinds "
                         "(train_decoder)")
    ap.add_argument("--effnet-mix-max", type=float, default=0.5, help="with --effnet-mix: the largest lean")
    ap.add_argument("--decoder-contrast", type=float, default=0.0,
                    help="with --retrain-decoder: extra loss weight on the cells that tell a shape's kind (loss_weights)")
    ap.add_argument("--from-prior", type=float, default=0.0,
                    help="with --retrain-decoder: share of the batch whose effnet is Stage C's redraw of the scene's "
                         "latent (train.prior_redraw) instead of the jittered exact latent")
    ap.add_argument("--from-prior-t", default="0.15,0.5",
                    help="with --from-prior: the range of noise levels (lo,hi) the redraws start from")
    ap.add_argument("--redraws", type=int, default=65536,
                    help="with --from-prior: how many of the pool's latents Stage C redraws before Stage B's steps")
    ap.add_argument("--decoder", choices=("wide", "small"), default="wide",
                    help="Stage B architecture: wide (current) or small (the first bundle's, to load its checkpoints)")
    ap.add_argument("--prior-arch", choices=tuple(models.PRIOR_ARCHS), default="patch2",
                    help="Stage C variant (models.PRIOR_ARCHS); checkpoints load only into the arch they were trained as")
    ap.add_argument("--retrain-prior", action="store_true",
                    help="with --resume: keep text encoder, Stage B and the autoencoders; train Stage C alone "
                         "(fresh unless --prior-arch matches the checkpoint's and --continue-prior is given)")
    ap.add_argument("--continue-prior", action="store_true", help="with --retrain-prior: start from the checkpoint's Stage C")
    ap.add_argument("--prior-until", type=float, default=480.0,
                    help="with --retrain-prior: seconds after start at which Stage C training stops")
    ap.add_argument("--prior-lr", type=float, default=6e-4, help="with --retrain-prior: peak learning rate")
    ap.add_argument("--detail-weight", type=float, default=0.0,
                    help="Stage C (phase 2 or --retrain-prior): extra loss weight on outline cells (train.loss_weights)")
    ap.add_argument("--train-shift", type=float, default=1.0,
                    help="Stage C (phase 2 or --retrain-prior): training noise levels from the schedule shifted by this factor")
    ap.add_argument("--boost", default="",
                    help="draw scenes with these shapes more often, e.g. 'square=2,circle=1.5' (Corpus.boost)")
    ap.add_argument("--no-diagnostics", action="store_true",
                    help="skip the truth / stage-a / exact-latent sheets (they do not depend on Stage C)")
    ap.add_argument("--no-export", action="store_true", help="train and render only (local checks without onnx)")
    args = ap.parse_args()
    if not 0 <= args.from_prior <= 1:
        raise SystemExit(f"--from-prior: expected a share of the batch between 0 and 1, got {args.from_prior}")
    if args.smoke:
        args.steps1, args.steps2 = min(args.steps1, 60), min(args.steps2, 60)
    torch.manual_seed(0)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    corpus = Corpus(20000 if args.smoke else 100000, device)
    if args.boost:
        corpus.boost(parse_boost(args.boost))
    recipe = PriorRecipe(args.detail_weight, args.train_shift)
    vocab = len(corpus.tokenizer.vocab)
    log(f"corpus ready: {len(corpus.scenes)} scenes, vocab {vocab}, merges {len(corpus.tokenizer.ranks)}")
    nets = build(vocab, device, args.decoder, args.prior_arch)
    emas = {k: build(vocab, device, args.decoder, args.prior_arch)[k] for k in EMA_NETS}
    for k in emas:
        emas[k].load_state_dict(nets[k].state_dict())
        emas[k].requires_grad_(False)
    for k, v in nets.items():
        log(f"{k}: {sum(p.numel() for p in v.parameters()) / 1e6:.3f} M params")
    fresh_decoder = args.retrain_decoder and not args.continue_decoder
    fresh_prior = args.retrain_prior and not args.continue_prior
    skip = ("decoder",) if fresh_decoder else ("prior",) if fresh_prior else ()
    done = load_checkpoint(args.resume, nets, emas, skip) if args.resume else []
    pools: list[LatentPool] = []

    def latent_pool() -> LatentPool:
        """Made on first use, from the autoencoders as they are then (trained or fine-tuned, and frozen from here)."""
        if not pools:
            t0 = time.time()
            pools.append(LatentPool(corpus, nets["stage_a"].eval(), nets["encoder"].eval(),
                                    512 if args.smoke else args.pool_entries))
            log(f"latent pool: {len(pools[0])} entries in {time.time() - t0:.1f} s")
        return pools[0]

    def budget(seconds: float) -> float:
        return min(seconds, 20.0) if args.smoke else seconds

    def stage_c_alone(seconds: float) -> None:
        """--retrain-prior and --then-prior: Stage C alone (train_prior) with the command line's options."""
        # the loss options are not in the checkpoint: a resumed call must repeat them (--detail-weight, --train-shift)
        log(f"stageC alone: detail weight {recipe.detail:g}, train shift {recipe.shift:g}, batch "
            f"{args.prior_batch or args.batch2}, lr {args.prior_lr:g}, boost {args.boost or 'none'}, "
            f"{'compiled' if args.compile_prior else 'eager'}, {budget(seconds):.0f} s")
        train_prior(nets, emas, latent_pool(), budget(seconds), args.prior_batch or args.batch2, gen_for(device, 5678),
                    args.prior_lr, recipe, args.compile_prior)

    def stage_b_alone(seconds: float) -> None:
        """--retrain-decoder and --then-decoder: Stage B alone (train_decoder) with the command line's options."""
        train_decoder(nets, emas, latent_pool(), budget(seconds), args.batch2 // 2, gen_for(device, 4321),
                      args.decoder_lr, args.effnet_mix, args.effnet_mix_max, args.decoder_contrast, args.from_prior,
                      parse_range(args.from_prior_t), 64 if args.smoke else args.redraws)

    if args.retrain_prior:
        if "diffusion" not in done:
            raise SystemExit("--retrain-prior needs a checkpoint with trained diffusion weights")
        stage_c_alone(args.prior_until - (time.time() - STARTED))
        save_checkpoint(os.path.join(args.out, "ckpt.pt"), nets, emas, done)
    if args.retrain_decoder:
        if "diffusion" not in done:
            raise SystemExit("--retrain-decoder needs a checkpoint with trained diffusion weights")
        if args.steps_a:
            finetune_stage_a(nets["stage_a"], corpus, 60 if args.smoke else args.steps_a, args.batch1, gen_for(device))
        stage_b_alone(args.decoder_until - (time.time() - STARTED))
        save_checkpoint(os.path.join(args.out, "ckpt.pt"), nets, emas, done)
    if args.retrain_diffusion and "diffusion" in done:
        fresh = build(vocab, device, args.decoder, args.prior_arch)
        for k in (*EMA_NETS, "heads"):
            nets[k] = fresh[k]
            if k in emas:
                emas[k].load_state_dict(fresh[k].state_dict())
        done.remove("diffusion")
    if args.continue_diffusion and "diffusion" in done:
        done.remove("diffusion")
    ckpt = os.path.join(args.out, "ckpt.pt")
    gen = gen_for(device, 1234)

    def finish(phase: str) -> None:
        """Checkpoint after a phase; the next phase goes on from the saved (EMA) weights, as a --resume would."""
        done.append(phase)
        save_checkpoint(ckpt, nets, emas, done)
        if "diffusion" in done:
            for k in emas:
                nets[k].load_state_dict(emas[k].state_dict())
        if args.stop_after == phase:
            log(f"stopped after {phase}: {ckpt}")
            sys.exit(0)

    if "autoencoders" not in done:
        train_autoencoders(nets, corpus, args.steps1, args.batch1, gen)
        finish("autoencoders")
    if "diffusion" not in done:
        if args.diffusion_until and not args.smoke:
            train_diffusion(nets, emas, latent_pool(), args.batch2, gen, recipe,
                            seconds=args.diffusion_until - (time.time() - STARTED))
        else:
            train_diffusion(nets, emas, latent_pool(), args.batch2, gen, recipe, steps=args.steps2)
        finish("diffusion")
    if args.then_prior and "prior" not in done:
        stage_c_alone(args.then_prior)
        finish("prior")
    if args.then_decoder and "decoder" not in done:
        stage_b_alone(args.then_decoder)
        finish("decoder")
    import export  # noqa: E402  (onnx / onnxruntime only needed from here on)

    export.export_all(args.out, nets, emas, corpus, smoke=args.smoke, write=not args.no_export,
                      diagnostics=not args.no_diagnostics)
    log("bundle written")


if __name__ == "__main__":
    main()
