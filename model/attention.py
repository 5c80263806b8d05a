"""Attention backends for OryxViT (Oryx, arXiv 2409.12961).

The reference `oryx/model/multimodal_encoder/oryx_vit.py` calls flash-attn unconditionally:
`flash_attn_varlen_func` for packed images and `flash_attn_func` for same-size frames (non-causal,
scale Dh^-0.5).
Here the backend is an explicit choice, resolved once when a module is built:

- `eager`: readable reference, explicit softmax(Q K^T * scale) V per segment.
- `sdpa`: `F.scaled_dot_product_attention` once per packed segment (fastest torch option measured on CPU;
  it never builds a dense block-diagonal mask). On CUDA with fp16/bf16 inputs it uses
  `torch.nn.attention.varlen.varlen_attn` when this torch has it.
- `flash`: flash-attn (`pip install 'oryx-eval[flash]'`), imported lazily.

All backends are mathematically identical; fp32 results agree to ~1e-6.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Literal, cast, get_args

import torch
import torch.nn.functional as F
from torch import Tensor

AttentionBackend = Literal["flash", "sdpa", "eager"]
BACKENDS: tuple[str, ...] = get_args(AttentionBackend)


class FlashAttentionUnavailable(ImportError):
    """Raised when the `flash` backend is requested but flash-attn cannot be imported."""


@dataclass(frozen=True)
class PackedSeqs:
    """Segment layout of one packed sequence, computed once per forward and shared by every layer.

    Attributes:
        cu_seqlens: `(n+1,)` int32 prefix sums `[0, L1, L1+L2, ...]` on the tensors' device.
        max_seqlen: longest segment length (host int, so no `.item()` per layer).
        seqlens: the n segment lengths (host ints).
    """

    cu_seqlens: Tensor
    max_seqlen: int
    seqlens: list[int]

    @classmethod
    def from_lengths(cls, seqlens: list[int], device: torch.device | str) -> PackedSeqs:
        """Build the layout from per-segment lengths (each >= 1)."""
        if not seqlens or min(seqlens) < 1:
            raise ValueError(f"packed segments must be non-empty, got lengths {seqlens}")
        cu = [0]
        for n in seqlens:
            cu.append(cu[-1] + n)
        cu_seqlens = torch.tensor(cu, dtype=torch.int32, device=device)  # (n+1,)
        return cls(cu_seqlens=cu_seqlens, max_seqlen=max(seqlens), seqlens=list(seqlens))


def _import_flash_attn() -> ModuleType:
    try:
        return importlib.import_module("flash_attn")
    except ImportError as exc:  # re-raised with the install hint
        raise FlashAttentionUnavailable(
            "attention backend 'flash' needs the flash-attn package (CUDA only): "
            "pip install 'oryx-eval[flash]', or use attn_backend='sdpa'"
        ) from exc


def check_backend(name: str) -> AttentionBackend:
    """Validate an attention backend name once, at module construction.

    Args:
        name: one of "flash", "sdpa", "eager".

    Returns:
        The name, typed as `AttentionBackend`.

    Raises:
        ValueError: unknown name.
        FlashAttentionUnavailable: "flash" requested but `flash_attn` is not importable.
    """
    if name not in BACKENDS:
        raise ValueError(f"unknown attention backend {name!r}; expected one of {list(BACKENDS)}")
    if name == "flash":
        _import_flash_attn()
    return cast(AttentionBackend, name)


def _check_qkv(q: Tensor, k: Tensor, v: Tensor, ndim: int, layout: str) -> None:
    if q.dim() != ndim or q.shape != k.shape or q.shape != v.shape:
        raise ValueError(
            f"q/k/v must share one {layout} shape, got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}"
        )


def _eager(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """softmax(q k^T * scale) v over the last two dims; q/k/v `(..., L, Dh)`."""
    scale = q.shape[-1] ** -0.5
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale  # (..., L, L)
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(v.dtype)
    return torch.matmul(probs, v)  # (..., L, Dh)


def _varlen_attn_fn() -> object | None:
    try:
        from torch.nn.attention.varlen import varlen_attn
    except ImportError:
        return None
    return varlen_attn


def varlen_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    cu_seqlens: Tensor,
    max_seqlen: int,
    backend: AttentionBackend,
    seqlens: list[int],
) -> Tensor:
    """Non-causal attention within each segment of a packed sequence.

    Args:
        q: `(T, H, Dh)` packed queries (T = sum of segment lengths).
        k: `(T, H, Dh)` packed keys.
        v: `(T, H, Dh)` packed values.
        cu_seqlens: `(n+1,)` int32 prefix sums of the segment lengths, on q's device.
        max_seqlen: longest segment length.
        backend: "flash", "sdpa" or "eager" (validated beforehand with `check_backend`).
        seqlens: the n segment lengths as host ints (same information as cu_seqlens, no device sync).

    Returns:
        `(T, H, Dh)` attention output; tokens attend only to tokens of their own segment, scale Dh^-0.5.
    """
    _check_qkv(q, k, v, 3, "(T, H, Dh)")
    if sum(seqlens) != q.shape[0] or cu_seqlens.numel() != len(seqlens) + 1:
        raise ValueError(
            f"segment lengths {seqlens} (cu_seqlens of {cu_seqlens.numel()}) do not cover {q.shape[0]} tokens"
        )
    if backend == "flash":
        fa = _import_flash_attn()
        return fa.flash_attn_varlen_func(
            q,
            k,
            v,
            cu_seqlens,
            cu_seqlens,
            max_seqlen,
            max_seqlen,
            softmax_scale=q.shape[-1] ** -0.5,
            causal=False,
        )
    if backend == "sdpa":
        if q.is_cuda and q.dtype in (torch.float16, torch.bfloat16):
            varlen_attn = _varlen_attn_fn()
            if varlen_attn is not None:
                return varlen_attn(q, k, v, cu_seqlens, cu_seqlens, max_seqlen, max_seqlen)  # type: ignore[operator]
        outs = []
        for qs, ks, vs in zip(q.split(seqlens), k.split(seqlens), v.split(seqlens), strict=True):
            o = F.scaled_dot_product_attention(  # (1, H, Li, Dh)
                qs.transpose(0, 1)[None], ks.transpose(0, 1)[None], vs.transpose(0, 1)[None]
            )
            outs.append(o[0].transpose(0, 1))  # (Li, H, Dh)
        return torch.cat(outs, dim=0)  # (T, H, Dh)
    if backend == "eager":
        outs = [
            _eager(qs.transpose(0, 1), ks.transpose(0, 1), vs.transpose(0, 1)).transpose(0, 1)  # (Li, H, Dh)
            for qs, ks, vs in zip(q.split(seqlens), k.split(seqlens), v.split(seqlens), strict=True)
        ]
        return torch.cat(outs, dim=0)
    raise ValueError(f"unknown attention backend {backend!r}; expected one of {list(BACKENDS)}")


def batched_attention(q: Tensor, k: Tensor, v: Tensor, backend: AttentionBackend) -> Tensor:
    """Non-causal attention over a batch of same-length sequences (video frames).

    Args:
        q: `(B, H, L, Dh)` queries.
        k: `(B, H, L, Dh)` keys.
        v: `(B, H, L, Dh)` values.
        backend: "flash", "sdpa" or "eager".

    Returns:
        `(B, H, L, Dh)` attention output, scale Dh^-0.5.
    """
    _check_qkv(q, k, v, 4, "(B, H, L, Dh)")
    if backend == "flash":
        fa = _import_flash_attn()
        out = fa.flash_attn_func(  # (B, L, H, Dh) layout in and out
            q.transpose(1, 2),
            k.transpose(1, 2),
            v.transpose(1, 2),
            softmax_scale=q.shape[-1] ** -0.5,
            causal=False,
        )
        return out.transpose(1, 2)
    if backend == "sdpa":
        return F.scaled_dot_product_attention(q, k, v)
    if backend == "eager":
        return _eager(q, k, v)
    raise ValueError(f"unknown attention backend {backend!r}; expected one of {list(BACKENDS)}")
