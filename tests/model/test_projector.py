"""Tests for model/projector.py: MLP keys, layout lengths, exact marker positions, reference sanity counts."""

from __future__ import annotations

import pytest
import torch

from model.config import ProjectorConfig
from model.projector import Projector

D = 8


def _proj(in_dim: int = 6) -> Projector:
    torch.manual_seed(0)
    return Projector(ProjectorConfig(in_dim=in_dim, out_dim=D))


def test_keys_and_param_count() -> None:
    p = Projector(ProjectorConfig(in_dim=32, out_dim=64))
    assert set(p.state_dict()) == {
        "proj.0.weight",
        "proj.0.bias",
        "proj.2.weight",
        "proj.2.bias",
        "image_newline",
        "image_begin",
        "image_end",
        "image_sep",
    }
    n, d = 32, 64
    assert sum(t.numel() for t in p.parameters()) == n * d + d + d * d + d + 4 * d


def test_forward_is_linear_exact_gelu_linear() -> None:
    p = _proj()
    x = torch.randn(2, 5, 6)
    with torch.no_grad():
        out = p(x)
        l0, l2 = p.proj[0], p.proj[2]
        ref = l2(torch.nn.functional.gelu(l0(x), approximate="none"))
    assert out.shape == (2, 5, D)
    torch.testing.assert_close(out, ref)
    with pytest.raises(ValueError, match="must end in 6"):
        p(torch.zeros(3, 5))


def _rows(n: int) -> torch.Tensor:
    """Distinct content rows: row i is filled with 100 + i (never equal to a marker)."""
    return (100.0 + torch.arange(n, dtype=torch.float32))[:, None].expand(n, D).clone()


def test_layout_image_positions() -> None:
    p = _proj()
    low, high = _rows(6), _rows(2) + 50  # low grid 2x3, high grid 1x2
    with torch.no_grad():
        seq = p.layout_image(low, (2, 3), high, (1, 2))
    assert seq.shape == (3 + 2 * 4 + 1 * 3, D)
    nl, b, e, s = (t.detach() for t in (p.image_newline, p.image_begin, p.image_end, p.image_sep))
    expected = [b, low[0], low[1], low[2], nl, low[3], low[4], low[5], nl, s, high[0], high[1], nl, e]
    assert torch.equal(seq, torch.stack(expected))


def test_layout_video_positions() -> None:
    p = _proj()
    frames = _rows(8).reshape(2, 4, D)  # T=2, grid 2x2
    with torch.no_grad():
        seq = p.layout_video(frames, (2, 2))
    assert seq.shape == (2 + 2 * (2 * 3 + 1), D)
    nl, b, e, s = (t.detach() for t in (p.image_newline, p.image_begin, p.image_end, p.image_sep))
    f0, f1 = frames[0], frames[1]
    expected = [b, f0[0], f0[1], nl, f0[2], f0[3], nl, s, f1[0], f1[1], nl, f1[2], f1[3], nl, s, e]
    assert torch.equal(seq, torch.stack(expected))


def test_markers_follow_feature_dtype() -> None:
    p = _proj()
    seq = p.layout_video(torch.zeros(1, 4, D, dtype=torch.bfloat16), (2, 2))
    assert seq.dtype == torch.bfloat16


def test_reference_sanity_counts() -> None:
    p = _proj()
    with torch.no_grad():
        # 1024x768 image: low view 416x320 -> grid 20x26, high view 1024x768 -> grid 48x64
        img = p.layout_image(torch.zeros(20 * 26, D), (20, 26), torch.zeros(48 * 64, D), (48, 64))
        # 64 frames of 1280x720 -> 640x320 -> grid 20x40, pooled 2x2 -> 10x20
        vid = p.layout_video(torch.zeros(64, 10 * 20, D), (10, 20))
    assert img.shape[0] == 3663
    assert vid.shape[0] == 13_506


def test_layout_errors_name_the_grid() -> None:
    p = _proj()
    with pytest.raises(ValueError, match=r"layout_image high: expected \(\.\., 2\*2, 8\) for grid \(2, 2\)"):
        p.layout_image(torch.zeros(6, D), (2, 3), torch.zeros(5, D), (2, 2))
    with pytest.raises(ValueError, match="layout_video"):
        p.layout_video(torch.zeros(4, D), (2, 2))
