"""Haystack frames: deterministic per (seed, index), seed-sensitive, video-like and free of markers."""

from __future__ import annotations

import numpy as np
import pytest

from oryx_eval.benchmarks.niah.haystack import SCENE_LEN, haystack_frame
from oryx_eval.benchmarks.niah.needles import read_marker


def test_same_seed_same_frames() -> None:
    a = [haystack_frame(3, i, (96, 64)) for i in range(5)]
    b = [haystack_frame(3, i, (96, 64)) for i in range(5)]
    for x, y in zip(a, b, strict=True):
        assert x.dtype == np.uint8 and x.shape == (64, 96, 3)
        np.testing.assert_array_equal(x, y)


def test_order_independent() -> None:
    # A pure function of (seed, index): drawing frame 40 first gives the same pixels.
    late = haystack_frame(1, 40, (64, 64))
    _ = [haystack_frame(1, i, (64, 64)) for i in range(40)]
    np.testing.assert_array_equal(late, haystack_frame(1, 40, (64, 64)))


def test_different_seeds_and_indices_differ() -> None:
    assert not np.array_equal(haystack_frame(0, 0, (64, 64)), haystack_frame(1, 0, (64, 64)))
    assert not np.array_equal(haystack_frame(0, 0, (64, 64)), haystack_frame(0, 5, (64, 64)))


def test_consecutive_frames_related() -> None:
    # Inside a scene shapes drift slowly: neighbours differ far less than frames of different scenes.
    f = [haystack_frame(7, i, (64, 64)).astype(np.int16) for i in range(SCENE_LEN + 1)]
    within = np.mean([np.abs(f[i + 1] - f[i]).mean() for i in range(SCENE_LEN - 1)])
    across = np.abs(f[SCENE_LEN] - f[0]).mean()
    assert within < 3.0
    assert across > 3 * within


def test_low_contrast_mid_tone_and_no_marker() -> None:
    frames = np.stack([haystack_frame(s, i, (64, 64)) for s in range(4) for i in range(0, 300, 7)])
    assert 20 <= frames.min() and frames.max() <= 235  # mid-tone: no near-black or near-white pixels
    spread = frames.max(axis=-1).astype(int) - frames.min(axis=-1)  # (F, H, W) chroma proxy
    assert spread.max() < 140  # far from the saturated marker colours (spread ~200)
    assert all(read_marker(fr) is None for fr in frames)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="index"):
        haystack_frame(0, -1, (64, 64))
    with pytest.raises(ValueError, match="size_wh"):
        haystack_frame(0, 0, (4, 64))
