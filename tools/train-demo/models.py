"""The demo model's networks: small stand-ins with Stable Cascade's I/O contract (cascade-spec §1.3).

StageA (f = 4 autoencoder), SemanticEncoder (plays EfficientNet: image → 16-ch latent at H/16), Previewer,
TextEncoder (CLIP-like outputs: pooled projection of the EOS token + last hidden state before the final LN),
StageC (text-conditional ε-prediction on the 16-ch latent), StageB (ε-prediction on Stage A latents,
conditioned on the Stage C latent at both U-Net levels, bilinearly resized inside like the real decoder).
Every graph takes any batch and any latent size whose sides are multiples of 4 (images multiples of 64).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

EXPORTING = False  # plain MatMul/Softmax attention for ONNX export; fused SDPA for training


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    if not EXPORTING and hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    logits = q @ k.transpose(-1, -2) * (1.0 / math.sqrt(q.shape[-1]))
    if bias is not None and bias.dtype == torch.bool:
        logits = logits.masked_fill(~bias, float("-inf"))
    elif bias is not None:
        logits = logits + bias
    return logits.softmax(-1) @ v


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ConvBlock(nn.Module):
    """ConvNeXt-style block: depthwise 3×3 → LN → 1×1 expand → GELU → 1×1 → residual; optional FiLM."""

    def __init__(self, c: int, mult: int = 2, c_film: int = 0):
        super().__init__()
        self.depthwise = nn.Conv2d(c, c, 3, padding=1, groups=c)
        self.norm = LayerNorm2d(c, elementwise_affine=False, eps=1e-6)
        self.mlp = nn.Sequential(nn.Conv2d(c, c * mult, 1), nn.GELU(), nn.Conv2d(c * mult, c, 1))
        self.film = nn.Linear(c_film, 2 * c) if c_film else None

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = self.norm(self.depthwise(x))
        if self.film is not None:
            a, b = self.film(cond)[:, :, None, None].chunk(2, dim=1)
            h = h * (1 + a) + b
        return x + self.mlp(h)


SCHEDULE_S = 0.008
SCHEDULE_M = math.cos(math.pi / 2 * SCHEDULE_S / (1 + SCHEDULE_S)) ** 2


def eps_from_v(sample: torch.Tensor, timestep_ratio: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The graphs speak ε (spec §3.1) but the networks predict v = a·ε − b·x0, which stays well conditioned at
    t ≈ 1 where x0 = (x − b·ε)/a divides by a ≈ 0.01. ᾱ is recovered from r (inverse of gdf's CosineTNoiseCond)."""
    r = timestep_ratio.float()
    ab = (torch.cos(math.pi / 2 * (r + SCHEDULE_S) / (1 + SCHEDULE_S)) ** 2 / SCHEDULE_M).clamp(1e-4, 0.9999)
    ab = ab.view(-1, 1, 1, 1)
    return (1 - ab).sqrt() * sample.float() + ab.sqrt() * v.float()


def timestep_embedding(r: torch.Tensor, dim: int = 64) -> torch.Tensor:
    """Sinusoidal embedding of r·10000 as in Stable Cascade's `gen_r_embedding` (sin half, then cos half)."""
    half = dim // 2
    freqs = torch.exp(torch.arange(half, device=r.device, dtype=torch.float32) * (-math.log(10000.0) / (half - 1)))
    args = (r.float() * 10000.0)[:, None] * freqs[None]
    return torch.cat([args.sin(), args.cos()], dim=1)


class StageA(nn.Module):
    def __init__(self, c: int = 64, latent: int = 4):
        super().__init__()
        self.encoder = nn.Sequential(nn.PixelUnshuffle(4), nn.Conv2d(48, c, 3, padding=1), nn.GELU(),
                                     nn.Conv2d(c, c, 3, padding=1), nn.GELU(), nn.Conv2d(c, latent, 1),
                                     nn.BatchNorm2d(latent, affine=False))
        self.decoder_in = nn.Conv2d(latent, c, 3, padding=1)
        self.decoder_blocks = nn.Sequential(ConvBlock(c), ConvBlock(c), ConvBlock(c))
        self.decoder_out = nn.Sequential(nn.Conv2d(c, 48, 1), nn.PixelShuffle(4))

    def encode(self, img: torch.Tensor) -> torch.Tensor:
        return self.encoder(img)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return self.decoder_out(self.decoder_blocks(self.decoder_in(latents)))


class VqganDecoderGraph(nn.Module):
    """Exported Stage A decoder: latents (already × scale factor) → image clamped to [0, 1]."""

    def __init__(self, stage_a: StageA):
        super().__init__()
        self.stage_a = stage_a

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        return self.stage_a.decode(latents).clamp(0, 1)


class SemanticEncoder(nn.Module):
    """Image [B,3,H,W] in [0,1] → [B,16,H/16,W/16], normalised per channel (non-affine BatchNorm, like effnet)."""

    def __init__(self, channels: int = 16):
        super().__init__()
        self.net = nn.Sequential(nn.PixelUnshuffle(4), nn.Conv2d(48, 64, 3, padding=1), nn.GELU(),
                                 nn.Conv2d(64, 96, 4, stride=2, padding=1), nn.GELU(), ConvBlock(96),
                                 nn.Conv2d(96, 128, 4, stride=2, padding=1), nn.GELU(), ConvBlock(128),
                                 nn.Conv2d(128, channels, 1), nn.BatchNorm2d(channels, affine=False))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net(image)


class Previewer(nn.Module):
    """Stage C latent [B,16,h,w] → RGB [B,3,8h,8w] (half the image size); trains the semantic encoder too."""

    def __init__(self, channels: int = 16, c: int = 96):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(channels, c, 3, padding=1), ConvBlock(c), ConvBlock(c),
                                 nn.Conv2d(c, 3 * 64, 1), nn.PixelShuffle(8))

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        out = self.net(latents)
        return out.clamp(0, 1) if EXPORTING else out


class Attention(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x: torch.Tensor, kv: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        """`bias`: additive float bias or a boolean key mask (True = attend), broadcast to [B, heads, N, keys]."""
        b, n, d = x.shape
        h = self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(b, -1, h, d // h).transpose(1, 2)

        out = attention(split(self.q(x)), split(self.k(kv)), split(self.v(kv)), bias)
        return self.o(out.transpose(1, 2).reshape(b, n, d))


class TextBlock(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = Attention(d, heads)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        h = self.ln1(x)
        x = x + self.attn(h, h, bias)
        return x + self.mlp(self.ln2(x))


class TextEncoder(nn.Module):
    """(input_ids, attention_mask) int64 [B,L] → text_embeds [B,P], hidden_state_last [B,L,H] (pre final LN)."""

    def __init__(self, vocab: int, length: int, d: int = 128, depth: int = 3, heads: int = 4, pooled: int = 128):
        super().__init__()
        self.token = nn.Embedding(vocab, d)
        self.position = nn.Parameter(torch.randn(length, d) * 0.02)
        self.blocks = nn.ModuleList(TextBlock(d, heads) for _ in range(depth))
        self.final_norm = nn.LayerNorm(d)
        self.projection = nn.Linear(d, pooled, bias=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.token(input_ids) + self.position
        bias = ((1.0 - attention_mask.to(x.dtype)) * -1e4)[:, None, None, :]
        for block in self.blocks:
            x = block(x, bias)
        eos = (attention_mask.sum(1) - 1).clamp(min=0)  # mask covers bos..eos, so its length - 1 is the EOS position
        picked = torch.gather(self.final_norm(x), 1, eos[:, None, None].expand(-1, 1, x.shape[-1])).squeeze(1)
        return self.projection(picked), x


class PriorBlock(nn.Module):
    """adaLN-zero transformer block; keys/values are [image tokens ; conditioning tokens] as in Stable Cascade."""

    def __init__(self, d: int, heads: int, c_t: int, mult: int = 3):
        super().__init__()
        self.norm = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.kv_mapper = nn.Sequential(nn.SiLU(), nn.Linear(d, d))
        self.attn = Attention(d, heads)
        self.mlp = nn.Sequential(nn.Linear(d, mult * d), nn.GELU(), nn.Linear(mult * d, d))
        self.modulation = nn.Linear(c_t, 6 * d)
        nn.init.zeros_(self.modulation.weight)
        nn.init.zeros_(self.modulation.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, t: torch.Tensor, keys: torch.Tensor | None = None) -> torch.Tensor:
        """`keys`: boolean [B,1,1,N+L] mask of the keys to attend (padded image tokens off), None = all."""
        s1, b1, g1, s2, b2, g2 = self.modulation(t)[:, None].chunk(6, dim=-1)
        h = self.norm(x) * (1 + s1) + b1
        x = x + g1 * self.attn(h, torch.cat([h, self.kv_mapper(cond)], dim=1), keys)
        return x + g2 * self.mlp(self.norm(x) * (1 + s2) + b2)


COORD_FEATURES = 32


def coordinate_features(h: int, w: int, device: torch.device) -> torch.Tensor:
    """[h·w, 32] Fourier features of token centres: in canvas coordinates ([-1, 1] on both axes, so "top left" is the
    same place at every aspect ratio) and in isotropic ones (the longer side spans [-1, 1], the shorter less), which
    tell the network the canvas's aspect ratio so that a circle stays round on a 16:9 canvas. The first bundles had
    only the canvas coordinates and were trained on square canvases alone: their shapes stretched with the canvas."""
    ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) / w * 2 - 1
    grid = torch.stack([ys[:, None].expand(h, w), xs[None, :].expand(h, w)], dim=-1).reshape(-1, 2)
    sides = torch.stack([torch.ones_like(ys).sum(), torch.ones_like(xs).sum()])  # (h, w) as tensors: traceable sizes
    iso = grid * sides / sides.max()
    freqs = 2.0 ** torch.arange(4, device=device, dtype=torch.float32) * math.pi / 2  # 1, 2, 4, 8 (no host copy: CUDA graphs)
    both = torch.cat([grid, iso], dim=1)
    angles = (both[:, :, None] * freqs).reshape(both.shape[0], 16)
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class StageC(nn.Module):
    """Text- and image-conditional v-prediction on the 16-ch latent. `patch` 2 groups 2×2 latent cells per
    transformer token (64 tokens at 256², each covering 32×32 px); `patch` 1 gives every latent cell its own token.
    Everything between patchify and unpatchify is per token or attention, so a canvas is just a sequence of tokens
    with coordinates: training packs canvases of every aspect ratio into one padded sequence length with a key mask
    (predict_tokens), which computes exactly what the exported graph computes on the canvas alone (predict_v)."""

    def __init__(self, channels=16, d=160, depth=6, heads=5, hidden=128, pooled=128, clip_img=32, c_t=64,
                 patch=2):
        super().__init__()
        self.c_t, self.patch, self.channels = c_t, patch, channels
        self.patch_in = nn.Linear(channels * patch * patch, d)
        self.coords = nn.Linear(COORD_FEATURES, d)
        self.clip_txt_mapper = nn.Linear(hidden, d)
        self.clip_txt_pooled_mapper = nn.Linear(pooled, 4 * d)
        self.clip_img_mapper = nn.Linear(clip_img, 4 * d)
        self.clip_norm = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.t_mlp = nn.Sequential(nn.Linear(c_t, c_t), nn.SiLU(), nn.Linear(c_t, c_t), nn.SiLU())
        self.blocks = nn.ModuleList(PriorBlock(d, heads, c_t) for _ in range(depth))
        self.out_norm = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.out_mod = nn.Linear(c_t, 2 * d)
        self.patch_out = nn.Linear(d, channels * patch * patch)
        for layer in (self.out_mod, self.patch_out):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, sample, timestep_ratio, clip_text_pooled, clip_text, clip_img):
        return eps_from_v(sample, timestep_ratio, self.predict_v(sample, timestep_ratio, clip_text_pooled, clip_text, clip_img))

    def predict_v(self, sample, timestep_ratio, clip_text_pooled, clip_text, clip_img):
        b, c, h, w = sample.shape
        p = self.patch
        tokens = to_tokens(sample, p)
        out = self.predict_tokens(tokens, coordinate_features(h // p, w // p, sample.device)[None], timestep_ratio,
                                  clip_text_pooled, clip_text, clip_img)
        return from_tokens(out, p, h, w)

    def predict_tokens(self, tokens, coords, timestep_ratio, clip_text_pooled, clip_text, clip_img, keys=None):
        """tokens [B,N,C·p²], coords [B or 1,N,32]; `keys` boolean [B,1,1,N+L]: which keys are real (None = all)."""
        b = tokens.shape[0]
        t = self.t_mlp(timestep_embedding(timestep_ratio, self.c_t))
        x = self.patch_in(tokens) + self.coords(coords)
        d = x.shape[-1]
        cond = self.clip_norm(torch.cat([self.clip_txt_mapper(clip_text),
                                         self.clip_txt_pooled_mapper(clip_text_pooled).reshape(b, -1, d),
                                         self.clip_img_mapper(clip_img).reshape(b, -1, d)], dim=1))
        for block in self.blocks:
            x = block(x, cond, t, keys)
        s, sh = self.out_mod(t)[:, None].chunk(2, dim=-1)
        return self.patch_out(self.out_norm(x) * (1 + s) + sh)


def to_tokens(latent: torch.Tensor, p: int) -> torch.Tensor:
    """[B,C,h,w] → [B,(h/p)(w/p),C·p²] in row-major token order (pixel-unshuffle channel order)."""
    x = F.pixel_unshuffle(latent, p) if p > 1 else latent
    return x.flatten(2).transpose(1, 2)


def from_tokens(tokens: torch.Tensor, p: int, h: int, w: int) -> torch.Tensor:
    b = tokens.shape[0]
    x = tokens.transpose(1, 2).reshape(b, tokens.shape[2], h // p, w // p)
    return F.pixel_shuffle(x, p) if p > 1 else x


class ImageHead(nn.Module):
    """The image prompt's encoder after the (frozen) semantic encoder: its 16 × 16 latent of a 256² image →
    clip_img [B,1,clip_img] for Stage C. Trained with Stage C (through its loss); exported with the semantic
    encoder in front as image_encoder.onnx."""

    def __init__(self, channels: int = 16, clip_img: int = 32, c: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(channels, c, 3, padding=1), nn.GELU(), nn.Conv2d(c, c, 4, stride=2, padding=1),
                                 nn.GELU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(c * 16, 256), nn.GELU(),
                                 nn.Linear(256, clip_img))

    def forward(self, sem: torch.Tensor) -> torch.Tensor:
        return self.net(sem)[:, None]


IMAGE_SIDE = 256  # image_encoder.onnx's input: the image resized to 256 × 256, RGB in [0, 1]


class ImageEncoderGraph(nn.Module):
    """Exported image_encoder.onnx: pixel_values [B,3,256,256] in [0, 1] → image_embeds [B,clip_img] (the engine
    shortest-side-resizes and centre-crops the picture to 256², gpu-runner/cascade/manifest.ts imageEncoder)."""

    def __init__(self, encoder: SemanticEncoder, head: ImageHead):
        super().__init__()
        self.encoder, self.head = encoder, head

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(pixel_values))[:, 0]


PRIOR_ARCHS = {  # --prior-arch: Stage C variants (the shipped bundle up to issue 7's retrain is "patch2")
    "patch2": dict(patch=2),
    "patch1": dict(patch=1),
}


class StageB(nn.Module):
    """Stage B: v-prediction on Stage A latents (pixel-unshuffled 2×, so level 0 is H/8 and level 1 is H/16),
    conditioned on the Stage C latent at BOTH levels. The effnet latent is first mapped at its own resolution by a
    3×3 conv and a ConvBlock (features that know their neighbours, so sub-cell edge geometry survives), then resized
    bilinearly to each level like the real decoder resizes it: any canvas / latent ratio works (2× upscale).
    `stage_b_small()` builds the first bundle's Stage B (1×1 effnet mapper, level 0 only) to load its checkpoints."""

    def __init__(self, latent=4, effnet=16, pooled=128, c0=96, c1=192, c_t=64, depth0=3, depth1=4,
                 effnet_both_levels=True):
        super().__init__()
        self.c_t = c_t
        self.embedding = nn.Conv2d(latent * 4, c0, 1)
        if effnet_both_levels:
            self.effnet_mapper = nn.Sequential(nn.Conv2d(effnet, c1, 3, padding=1), nn.GELU(), ConvBlock(c1),
                                               nn.Conv2d(c1, c1, 1))
            self.effnet_to0, self.effnet_to1 = nn.Conv2d(c1, c0, 1), nn.Conv2d(c1, c1, 1)
        else:
            self.effnet_mapper = nn.Sequential(nn.Conv2d(effnet, c0 * 2, 1), nn.GELU(), nn.Conv2d(c0 * 2, c0, 1))
            self.effnet_to0, self.effnet_to1 = nn.Identity(), None
        self.clip_mapper = nn.Linear(pooled, c_t)
        c_f = 2 * c_t
        self.down0 = nn.ModuleList([ConvBlock(c0, c_film=c_f) for _ in range(depth0)])
        self.downscale = nn.Sequential(LayerNorm2d(c0, elementwise_affine=False, eps=1e-6), nn.Conv2d(c0, c1, 2, stride=2))
        self.mid = nn.ModuleList([ConvBlock(c1, c_film=c_f) for _ in range(depth1)])
        self.upscale = nn.Sequential(LayerNorm2d(c1, elementwise_affine=False, eps=1e-6), nn.ConvTranspose2d(c1, c0, 2, stride=2))
        self.up0 = nn.ModuleList([ConvBlock(c0, c_film=c_f) for _ in range(depth0)])
        self.clf = nn.Sequential(LayerNorm2d(c0, elementwise_affine=False, eps=1e-6), nn.Conv2d(c0, latent * 4, 1),
                                 nn.PixelShuffle(2))

    def forward(self, sample, timestep_ratio, clip_text_pooled, effnet):
        return eps_from_v(sample, timestep_ratio, self.predict_v(sample, timestep_ratio, clip_text_pooled, effnet))

    def predict_v(self, sample, timestep_ratio, clip_text_pooled, effnet):
        x = self.embedding(F.pixel_unshuffle(sample, 2))
        e = self.effnet_mapper(effnet)
        x = x + F.interpolate(self.effnet_to0(e), size=(x.shape[-2], x.shape[-1]), mode="bilinear", align_corners=False)
        cond = torch.cat([timestep_embedding(timestep_ratio, self.c_t), self.clip_mapper(clip_text_pooled[:, 0])], dim=1)
        for block in self.down0:
            x = block(x, cond)
        skip = x
        x = self.downscale(x)
        if self.effnet_to1 is not None:
            x = x + F.interpolate(self.effnet_to1(e), size=(x.shape[-2], x.shape[-1]), mode="bilinear", align_corners=False)
        for block in self.mid:
            x = block(x, cond)
        x = self.upscale(x) + skip
        for block in self.up0:
            x = block(x, cond)
        return self.clf(x)



def stage_b_small() -> StageB:
    """The first demo bundle's Stage B (0.52 M params): it decodes even exact semantic latents into rounded blobs."""
    return StageB(c0=64, c1=128, depth0=2, depth1=3, effnet_both_levels=False)
