"""OryxViT: the native-resolution vision encoder of Oryx (arXiv 2409.12961).

Reproduces `oryx/model/multimodal_encoder/oryx_vit.py` of the reference (a timm-style SigLIP-so400m body
with patch 16): pre-LN blocks with exact GELU, LayerNorm eps 1e-6, fused qkv with bias, no CLS token and no
final norm, a learned (1, G*G, C) position table bilinearly resized to each image's patch grid. Parameter
names equal the keys of the official `oryx_vit.pth`, so the state dict loads without renaming.

Two paths, as in the reference:
- `forward_packed`: images of any size, each zero-padded bottom/right to a multiple of the patch,
  concatenated into ONE packed sequence and attended per segment (varlen); never padded to a batch.
- `forward_frames`: same-size video frames as a batch, processed in chunks so activations stay bounded.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from model.attention import AttentionBackend, PackedSeqs, batched_attention, check_backend, varlen_attention
from model.config import VisionConfig
from model.pos_embed import resample_pos_embed


class PatchEmbed(nn.Module):
    """Conv2d patchifier: `(B, 3, H, W) -> (B, C, H/p, W/p)`."""

    def __init__(self, patch: int, width: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x)  # (B, C, h, w)


class Attention(nn.Module):
    """Multi-head self-attention with a fused qkv projection; packed (varlen) or batched input."""

    def __init__(self, width: int, heads: int, backend: AttentionBackend) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not divisible by heads {heads}")
        self.heads = heads
        self.head_dim = width // heads
        self.backend = backend
        self.qkv = nn.Linear(width, 3 * width, bias=True)
        self.proj = nn.Linear(width, width, bias=True)

    def forward(self, x: Tensor, packed: PackedSeqs | None) -> Tensor:
        """Attend within segments (`x` `(T, C)`, `packed` given) or within each sequence (`x` `(B, L, C)`)."""
        if packed is not None:
            t, c = x.shape
            q, k, v = self.qkv(x).view(t, 3, self.heads, self.head_dim).unbind(1)  # each (T, H, Dh)
            o = varlen_attention(q, k, v, packed.cu_seqlens, packed.max_seqlen, self.backend, packed.seqlens)
            return self.proj(o.reshape(t, c))  # (T, C)
        b, n, c = x.shape
        qkv = self.qkv(x).view(b, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)  # (3, B, H, L, Dh)
        o = batched_attention(qkv[0], qkv[1], qkv[2], self.backend)  # (B, H, L, Dh)
        return self.proj(o.transpose(1, 2).reshape(b, n, c))  # (B, L, C)


class Mlp(nn.Module):
    """Linear -> exact (erf) GELU -> Linear."""

    def __init__(self, width: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(width, hidden, bias=True)
        self.act = nn.GELU()  # exact erf GELU, not the tanh approximation HF SigLIP uses
        self.fc2 = nn.Linear(hidden, width, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-LN transformer block: `x + attn(norm1(x))`, then `x + mlp(norm2(x))`."""

    def __init__(self, cfg: VisionConfig, backend: AttentionBackend) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.width, eps=cfg.ln_eps)
        self.attn = Attention(cfg.width, cfg.heads, backend)
        self.norm2 = nn.LayerNorm(cfg.width, eps=cfg.ln_eps)
        self.mlp = Mlp(cfg.width, cfg.mlp_dim)

    def forward(self, x: Tensor, packed: PackedSeqs | None) -> Tensor:
        x = x + self.attn(self.norm1(x), packed)
        return x + self.mlp(self.norm2(x))


class OryxViT(nn.Module):
    """OryxViT encoder; features are the last block's output (no final norm, no pooling head).

    Args:
        cfg: ViT dimensions (defaults = the released SigLIP-so400m/16 OryxViT).
        attn_backend: "sdpa" (default), "eager" (readable reference) or "flash" (needs flash-attn);
            checked here, once, so a missing flash-attn fails at construction.
    """

    def __init__(self, cfg: VisionConfig, attn_backend: AttentionBackend = "sdpa") -> None:
        super().__init__()
        self.cfg = cfg
        self.attn_backend = check_backend(attn_backend)
        self.patch_embed = PatchEmbed(cfg.patch, cfg.width)
        self.pos_embed = nn.Parameter(torch.zeros(1, cfg.pos_grid * cfg.pos_grid, cfg.width))
        self.blocks = nn.ModuleList(Block(cfg, self.attn_backend) for _ in range(cfg.depth))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)

    @property
    def dtype(self) -> torch.dtype:
        """Parameter dtype; inputs are cast to it."""
        return self.patch_embed.proj.weight.dtype

    @property
    def device(self) -> torch.device:
        """Parameter device; inputs are moved to it."""
        return self.patch_embed.proj.weight.device

    def _embed_one(self, image: Tensor, index: int) -> tuple[Tensor, tuple[int, int]]:
        """Pad one `(3, H, W)` image to a multiple of the patch and embed it -> `(h*w, C)`, (h, w)."""
        if image.dim() != 3 or image.shape[0] != 3:
            raise ValueError(f"images[{index}]: expected a (3, H, W) tensor, got shape {tuple(image.shape)}")
        p = self.cfg.patch
        hh, ww = image.shape[1], image.shape[2]
        if hh < 1 or ww < 1:
            raise ValueError(f"images[{index}]: empty image of size {hh}x{ww}")
        pad_h, pad_w = (-hh) % p, (-ww) % p
        x = image.to(device=self.device, dtype=self.dtype)
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))  # zeros on the bottom/right (mid-grey after normalisation)
        feat = self.patch_embed(x[None])[0]  # (C, h, w)
        h, w = feat.shape[1], feat.shape[2]
        tokens = feat.flatten(1).transpose(0, 1)  # (h*w, C)
        return tokens + resample_pos_embed(self.pos_embed, (h, w)), (h, w)

    def forward_packed(self, images: list[Tensor]) -> tuple[Tensor, list[tuple[int, int]]]:
        """Encode images of arbitrary sizes as one packed variable-length sequence.

        Args:
            images: list of `(3, H, W)` normalised images (any H, W >= 1).

        Returns:
            `(N_total, C)` packed features in input order (split with `[h*w for h, w in grids]`), and the
            patch grid (h, w) of each image, where h = ceil(H / patch), w = ceil(W / patch).
        """
        if len(images) == 0:
            raise ValueError("forward_packed: images is empty")
        embedded = [self._embed_one(img, i) for i, img in enumerate(images)]
        grids = [g for _, g in embedded]
        x = torch.cat([t for t, _ in embedded], dim=0)  # (N_total, C)
        packed = PackedSeqs.from_lengths([h * w for h, w in grids], device=x.device)  # once per forward
        for blk in self.blocks:
            x = blk(x, packed)
        return x, grids

    def forward_frames(self, frames: Tensor, chunk_size: int = 64) -> tuple[Tensor, tuple[int, int]]:
        """Encode same-size frames as a batch, `chunk_size` frames at a time.

        Args:
            frames: `(T, 3, H, W)` normalised frames, H and W multiples of the patch size.
            chunk_size: frames per forward chunk (bounds activation memory; does not change the result).

        Returns:
            `(T, h*w, C)` features in the module dtype, and the grid (h, w).
        """
        if frames.dim() != 4 or frames.shape[1] != 3 or frames.shape[0] < 1:
            raise ValueError(
                f"forward_frames: expected (T>=1, 3, H, W) frames, got shape {tuple(frames.shape)}"
            )
        if chunk_size < 1:
            raise ValueError(f"forward_frames: chunk_size must be >= 1, got {chunk_size}")
        p = self.cfg.patch
        t, _, hh, ww = frames.shape
        if hh % p or ww % p:
            raise ValueError(f"forward_frames: frame size {hh}x{ww} is not a multiple of the patch size {p}")
        h, w = hh // p, ww // p
        pos = resample_pos_embed(self.pos_embed, (h, w))  # (h*w, C), once per call
        out = torch.empty(t, h * w, self.cfg.width, dtype=self.dtype, device=self.device)  # (T, h*w, C)
        for s in range(0, t, chunk_size):
            x = frames[s : s + chunk_size].to(device=self.device, dtype=self.dtype)  # (B, 3, H, W)
            x = self.patch_embed(x).flatten(2).transpose(1, 2) + pos  # (B, h*w, C)
            for blk in self.blocks:
                x = blk(x, None)
            out[s : s + x.shape[0]] = x
        return out, (h, w)
