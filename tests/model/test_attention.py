"""Tests for model/attention.py: backend agreement, segment isolation, flash error, GPU paths."""

from __future__ import annotations

import sys

import pytest
import torch

from model.attention import (
    FlashAttentionUnavailable,
    PackedSeqs,
    batched_attention,
    check_backend,
    varlen_attention,
)

SEQLENS = [5, 17, 1, 9]
H, DH = 3, 8


def _packed(seed: int = 0, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    t = sum(SEQLENS)
    return tuple(torch.randn(t, H, DH, generator=g, dtype=dtype) for _ in range(3))


def _reference(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, seqlens: list[int]) -> torch.Tensor:
    """float64 per-segment softmax(q k^T / sqrt(d)) v written out independently of the module."""
    outs = []
    start = 0
    for n in seqlens:
        qs, ks, vs = (x[start : start + n].double().permute(1, 0, 2) for x in (q, k, v))  # (H, n, Dh)
        w = torch.softmax(qs @ ks.transpose(1, 2) / DH**0.5, dim=-1)
        outs.append((w @ vs).permute(1, 0, 2))
        start += n
    return torch.cat(outs).float()


@pytest.mark.parametrize("backend", ["sdpa", "eager"])
def test_varlen_matches_float64_reference(backend: str) -> None:
    q, k, v = _packed()
    p = PackedSeqs.from_lengths(SEQLENS, "cpu")
    out = varlen_attention(q, k, v, p.cu_seqlens, p.max_seqlen, check_backend(backend), p.seqlens)
    assert out.shape == q.shape
    torch.testing.assert_close(out, _reference(q, k, v, SEQLENS), atol=1e-5, rtol=1e-5)


def test_eager_and_sdpa_agree() -> None:
    q, k, v = _packed(seed=1)
    p = PackedSeqs.from_lengths(SEQLENS, "cpu")
    a = varlen_attention(q, k, v, p.cu_seqlens, p.max_seqlen, "eager", p.seqlens)
    b = varlen_attention(q, k, v, p.cu_seqlens, p.max_seqlen, "sdpa", p.seqlens)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("backend", ["sdpa", "eager"])
def test_packed_equals_each_segment_alone(backend: str) -> None:
    q, k, v = _packed(seed=2)
    p = PackedSeqs.from_lengths(SEQLENS, "cpu")
    packed = varlen_attention(q, k, v, p.cu_seqlens, p.max_seqlen, backend, p.seqlens)  # type: ignore[arg-type]
    start = 0
    for n in SEQLENS:
        one = PackedSeqs.from_lengths([n], "cpu")
        sl = slice(start, start + n)
        alone = varlen_attention(q[sl], k[sl], v[sl], one.cu_seqlens, n, backend, [n])  # type: ignore[arg-type]
        torch.testing.assert_close(packed[sl], alone, atol=1e-6, rtol=1e-6)
        start += n


def test_segments_do_not_leak() -> None:
    q, k, v = _packed(seed=3)
    p = PackedSeqs.from_lengths(SEQLENS, "cpu")
    base = varlen_attention(q, k, v, p.cu_seqlens, p.max_seqlen, "sdpa", p.seqlens)
    k2, v2 = k.clone(), v.clone()
    k2[5:22] += 3.0  # perturb only the second segment
    v2[5:22] -= 2.0
    out = varlen_attention(q, k2, v2, p.cu_seqlens, p.max_seqlen, "sdpa", p.seqlens)
    assert torch.equal(out[:5], base[:5]) and torch.equal(out[22:], base[22:])
    assert not torch.allclose(out[5:22], base[5:22])


def test_cu_seqlens_layout() -> None:
    p = PackedSeqs.from_lengths(SEQLENS, "cpu")
    assert p.cu_seqlens.dtype == torch.int32
    assert p.cu_seqlens.tolist() == [0, 5, 22, 23, 32]
    assert p.max_seqlen == 17
    with pytest.raises(ValueError, match="non-empty"):
        PackedSeqs.from_lengths([3, 0], "cpu")


def test_varlen_rejects_inconsistent_lengths() -> None:
    q, k, v = _packed()
    p = PackedSeqs.from_lengths([5, 17], "cpu")
    with pytest.raises(ValueError, match="do not cover"):
        varlen_attention(q, k, v, p.cu_seqlens, p.max_seqlen, "sdpa", p.seqlens)
    with pytest.raises(ValueError, match="share one"):
        varlen_attention(q, k[:-1], v, p.cu_seqlens, p.max_seqlen, "sdpa", p.seqlens)


def test_batched_eager_sdpa_agree_and_match_varlen() -> None:
    g = torch.Generator().manual_seed(4)
    q, k, v = (torch.randn(4, H, 7, DH, generator=g) for _ in range(3))  # (B, H, L, Dh)
    a = batched_attention(q, k, v, "eager")
    b = batched_attention(q, k, v, "sdpa")
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    # the same frames as a packed sequence of four length-7 segments
    qp, kp, vp = (x.permute(0, 2, 1, 3).reshape(28, H, DH) for x in (q, k, v))
    p = PackedSeqs.from_lengths([7] * 4, "cpu")
    packed = varlen_attention(qp, kp, vp, p.cu_seqlens, p.max_seqlen, "sdpa", p.seqlens)
    torch.testing.assert_close(packed, b.permute(0, 2, 1, 3).reshape(28, H, DH), atol=1e-5, rtol=1e-5)


def test_check_backend() -> None:
    assert check_backend("sdpa") == "sdpa"
    assert check_backend("eager") == "eager"
    with pytest.raises(ValueError, match="unknown attention backend 'xformers'"):
        check_backend("xformers")


def test_flash_without_flash_attn_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "flash_attn", None)  # makes `import flash_attn` raise ImportError
    with pytest.raises(FlashAttentionUnavailable, match=r"pip install 'oryx-eval\[flash\]'") as info:
        check_backend("flash")
    assert isinstance(info.value, ImportError)


def _cuda_packed(dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    return tuple(x.to("cuda", dtype) for x in _packed(seed=5))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_sdpa_varlen_matches_reference() -> None:
    q, k, v = _cuda_packed(torch.bfloat16)
    p = PackedSeqs.from_lengths(SEQLENS, "cuda")
    out = varlen_attention(q, k, v, p.cu_seqlens, p.max_seqlen, "sdpa", p.seqlens)  # varlen_attn if available
    ref = _reference(q.float().cpu(), k.float().cpu(), v.float().cpu(), SEQLENS)
    torch.testing.assert_close(out.float().cpu(), ref, atol=2e-2, rtol=2e-2)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_flash_matches_sdpa() -> None:
    pytest.importorskip("flash_attn")
    q, k, v = _cuda_packed(torch.bfloat16)
    p = PackedSeqs.from_lengths(SEQLENS, "cuda")
    flash = varlen_attention(q, k, v, p.cu_seqlens, p.max_seqlen, check_backend("flash"), p.seqlens)
    ref = _reference(q.float().cpu(), k.float().cpu(), v.float().cpu(), SEQLENS)
    torch.testing.assert_close(flash.float().cpu(), ref, atol=2e-2, rtol=2e-2)
    qb, kb, vb = (x[:5].permute(1, 0, 2)[None] for x in (q, k, v))  # first segment as a batch of one
    torch.testing.assert_close(
        batched_attention(qb, kb, vb, "flash"), batched_attention(qb, kb, vb, "sdpa"), atol=2e-2, rtol=2e-2
    )
