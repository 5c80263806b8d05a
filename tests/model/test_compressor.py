"""Tests for model/compressor.py: hand-computed 2x2 window, 1x doubling, 16x shapes, errors."""

from __future__ import annotations

import math

import pytest
import torch

from model.compressor import DynamicCompressor
from model.config import CompressorConfig


def _hand_compressor() -> DynamicCompressor:
    """C=2, mid=4; q and K read only feature channel 0 (plus biases 0.25 and 0.5 on projection row 0)."""
    comp = DynamicCompressor(CompressorConfig(dim=2, mid=4))
    with torch.no_grad():
        for lin, b0 in ((comp.vlm_query_projector, 0.25), (comp.vlm_key_projector, 0.5)):
            lin.weight.zero_()
            lin.weight[0, 0] = 1.0
            lin.bias.zero_()
            lin.bias[0] = b0
    return comp


def test_hand_computed_2x2_window() -> None:
    # grid 2x2, tokens row-major: (0,0)=[1,0] (0,1)=[0,1] (1,0)=[2,0] (1,1)=[0,2]
    tokens = [[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [0.0, 2.0]]
    x = torch.tensor([tokens])  # (1, 4, 2)
    out, grid = _hand_compressor()(x, (2, 2), ratio=4)
    assert grid == (1, 1) and out.shape == (1, 1, 2)
    pooled = [0.75, 0.75]  # window mean
    q0 = pooled[0] + 0.25  # = 1.0; the other 3 query dims are 0
    logits = [q0 * (tok[0] + 0.5) / math.sqrt(4) for tok in tokens]  # = [0.75, 0.25, 1.25, 0.25]
    exps = [math.exp(v) for v in logits]
    attn = [e / sum(exps) for e in exps]
    expected = [pooled[c] + sum(a * tok[c] for a, tok in zip(attn, tokens, strict=True)) for c in range(2)]
    torch.testing.assert_close(out[0, 0], torch.tensor(expected), atol=1e-6, rtol=1e-6)


def _loop_reference(comp: DynamicCompressor, x: torch.Tensor, h: int, w: int, k: int) -> torch.Tensor:
    """Cell-by-cell implementation of oryx-model.md section 4, independent of the vectorised module."""
    t, _, c = x.shape
    grid = x.view(t, h, w, c)
    wq, bq = comp.vlm_query_projector.weight, comp.vlm_query_projector.bias
    wk, bk = comp.vlm_key_projector.weight, comp.vlm_key_projector.bias
    out = torch.empty(t, (h // k) * (w // k), c)
    for f in range(t):
        for i in range(h // k):
            for j in range(w // k):
                win = grid[f, i * k : (i + 1) * k, j * k : (j + 1) * k].reshape(
                    k * k, c
                )  # row-major in window
                p = win.mean(0)
                q = wq @ p + bq
                keys = win @ wk.T + bk
                a = torch.softmax(keys @ q / math.sqrt(wq.shape[0]), dim=0)
                out[f, i * (w // k) + j] = p + a @ win
    return out


@pytest.mark.parametrize(("ratio", "k"), [(4, 2), (16, 4)])
def test_matches_loop_reference(ratio: int, k: int) -> None:
    torch.manual_seed(0)
    comp = DynamicCompressor(CompressorConfig(dim=6, mid=5))
    h, w = 4, 8
    x = torch.randn(2, h * w, 6)
    with torch.no_grad():
        out, grid = comp(x, (h, w), ratio)
        ref = _loop_reference(comp, x, h, w, k)
    assert grid == (h // k, w // k)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_ratio_1_returns_exactly_twice_x() -> None:
    torch.manual_seed(1)
    comp = DynamicCompressor(CompressorConfig(dim=8, mid=4))
    x = torch.randn(3, 6 * 5, 8)
    with torch.no_grad():
        out, grid = comp(x, (6, 5), ratio=1)
    assert grid == (6, 5)
    assert torch.equal(out, 2 * x)


def test_ratio_16_shapes() -> None:
    comp = DynamicCompressor(CompressorConfig(dim=8, mid=4))
    with torch.no_grad():
        out, grid = comp(torch.randn(5, 16 * 40, 8), (16, 40), ratio=16)
    assert grid == (4, 10)
    assert out.shape == (5, 40, 8)


def test_param_count_of_released_size() -> None:
    comp = DynamicCompressor(CompressorConfig())
    assert sum(p.numel() for p in comp.parameters()) == 590_336
    assert set(comp.state_dict()) == {
        "vlm_query_projector.weight",
        "vlm_query_projector.bias",
        "vlm_key_projector.weight",
        "vlm_key_projector.bias",
    }


def test_errors() -> None:
    comp = DynamicCompressor(CompressorConfig(dim=4, mid=2))
    with pytest.raises(
        ValueError, match=r"grid 6x5 is not divisible by the 2x2 window of compression ratio 4"
    ):
        comp(torch.zeros(1, 30, 4), (6, 5), ratio=4)
    with pytest.raises(
        ValueError, match=r"grid 8x6 is not divisible by the 4x4 window of compression ratio 16"
    ):
        comp(torch.zeros(1, 48, 4), (8, 6), ratio=16)
    with pytest.raises(ValueError, match="ratio must be one of"):
        comp(torch.zeros(1, 16, 4), (4, 4), ratio=2)
    with pytest.raises(ValueError, match="for grid"):
        comp(torch.zeros(1, 15, 4), (4, 4), ratio=1)
