"""Tests for model/pos_embed.py: bilinear (align_corners=False) resampling against hand-computed grids."""

from __future__ import annotations

import pytest
import torch

from model.pos_embed import resample_pos_embed

# 2x2 table with C=2: channel 0 holds a, b / c, d; channel 1 holds 10x those values.
A, B, C, D = 1.0, 2.0, 4.0, 8.0


def _table() -> torch.Tensor:
    ch0 = torch.tensor([A, B, C, D])  # row-major: (0,0)=a (0,1)=b (1,0)=c (1,1)=d
    return torch.stack([ch0, 10 * ch0], dim=-1)[None]  # (1, 4, 2)


def _grid(out: torch.Tensor, h: int, w: int) -> torch.Tensor:
    return out[:, 0].reshape(h, w)


def test_native_grid_returned_unchanged() -> None:
    t = _table()
    out = resample_pos_embed(t, (2, 2))
    assert out.shape == (4, 2)
    assert torch.equal(out, t[0])


def test_resize_to_3x3() -> None:
    # align_corners=False: src = (i + 0.5) * 2/3 - 0.5 -> -1/6 (clamped to 0), 0.5, 7/6 (clamped to 1)
    out = resample_pos_embed(_table(), (3, 3))
    top = [A, (A + B) / 2, B]
    bot = [C, (C + D) / 2, D]
    mid = [(x + y) / 2 for x, y in zip(top, bot, strict=True)]
    expected = torch.tensor([top, mid, bot])
    assert out.shape == (9, 2)
    torch.testing.assert_close(_grid(out, 3, 3), expected)
    torch.testing.assert_close(out[:, 1], 10 * expected.flatten())


def test_resize_to_1x1_is_mean() -> None:
    # src = 0.5 * 2 - 0.5 = 0.5 in both axes: equal weights on the four corners
    out = resample_pos_embed(_table(), (1, 1))
    torch.testing.assert_close(out, torch.tensor([[(A + B + C + D) / 4, 10 * (A + B + C + D) / 4]]))


def test_resize_to_4x4() -> None:
    # src = (i + 0.5) / 2 - 0.5 = -0.25 (->0), 0.25, 0.75, 1.25 (->1): weights on index 1 are 0, .25, .75, 1
    wts = [0.0, 0.25, 0.75, 1.0]
    expected = torch.tensor(
        [[(1 - r) * ((1 - s) * A + s * B) + r * ((1 - s) * C + s * D) for s in wts] for r in wts]
    )
    out = resample_pos_embed(_table(), (4, 4))
    torch.testing.assert_close(_grid(out, 4, 4), expected)


def test_non_square_grid_row_major() -> None:
    # (1, 3): one row at src row 0.5 (mean of rows), columns as in the 3-wide case
    out = resample_pos_embed(_table(), (1, 3))
    expected = torch.tensor([(A + C) / 2, (A + B + C + D) / 4, (B + D) / 2])
    torch.testing.assert_close(out[:, 0], expected)


def test_keeps_table_dtype() -> None:
    t = _table().to(torch.bfloat16)
    out = resample_pos_embed(t, (3, 5))
    assert out.dtype == torch.bfloat16
    assert out.shape == (15, 2)


@pytest.mark.parametrize("shape", [(4, 2), (1, 5, 2), (2, 4, 2)])
def test_rejects_bad_table(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="pos_embed table"):
        resample_pos_embed(torch.zeros(shape), (2, 2))
