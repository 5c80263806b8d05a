"""Procedural haystack frames for the synthetic video needle-in-a-haystack task.

Reproduces the role of LongVA V-NIAH's haystack (benchmarks.md §6.1: the first N frames of a long
video at 1 fps) without any external video, following the synthetic design of benchmarks.md §6.4 (1):
a mid-tone background with 4-8 low-contrast shapes that drift slowly, so consecutive frames are related
like video, and no text. Every frame is a pure function of ``(seed, index, size_wh)``.

Frames are grouped into "scenes" of ``SCENE_LEN`` frames; the scene layout (background, shapes, their
velocities) is drawn from ``default_rng((seed, scene))`` and each frame moves the shapes linearly by its
offset inside the scene, so drawing frame ``i`` never needs frames ``< i``.
"""

from __future__ import annotations

import numpy as np

SCENE_LEN = 30
"""Frames per scene (a cut every 30 s at 1 fps)."""

_MIN_SHAPES, _MAX_SHAPES = 4, 8
_CONTRAST = 36
"""Largest per-channel offset of a shape from the background (low contrast)."""


def _check_size(size_wh: tuple[int, int] | list[int]) -> tuple[int, int]:
    if len(size_wh) != 2:
        raise ValueError(f"size_wh must be (width, height), got {size_wh!r}")
    w, h = int(size_wh[0]), int(size_wh[1])
    if w < 8 or h < 8:
        raise ValueError(f"size_wh must be at least 8x8, got {w}x{h}")
    return w, h


def haystack_frame(seed: int, index: int, size_wh: tuple[int, int] | list[int]) -> np.ndarray:
    """Draw haystack frame ``index`` of the video seeded by ``seed``.

    Args:
        seed: Haystack seed (same seed -> identical frames).
        index: Frame index (>= 0) in the haystack video.
        size_wh: Frame ``(width, height)`` in pixels.

    Returns:
        uint8 array ``(H, W, 3)``.
    """
    if index < 0:
        raise ValueError(f"haystack frame index must be >= 0, got {index}")
    w, h = _check_size(size_wh)
    scene, t = divmod(index, SCENE_LEN)
    rng = np.random.default_rng((seed, scene))

    # Mid-tone, low-saturation background (grey plus a small tint) with a gentle vertical gradient;
    # kept far from the saturated needle-marker colours (needles.MARKER_COLOURS).
    grey = int(rng.integers(85, 170))
    bg = (grey + rng.integers(-20, 21, size=3)).astype(np.int16)  # (3,)
    tilt = rng.integers(-12, 13, size=3).astype(np.float32)  # (3,)
    ramp = np.linspace(-0.5, 0.5, h, dtype=np.float32)[:, None] * tilt  # (H, 3)
    frame = np.empty((h, w, 3), dtype=np.int16)
    frame[:] = (bg + ramp.astype(np.int16))[:, None, :]  # (H, W, 3)

    n_shapes = int(rng.integers(_MIN_SHAPES, _MAX_SHAPES + 1))
    # Per-shape layout, all drawn up front so the stream of random numbers is fixed per scene.
    kinds = rng.integers(0, 2, size=n_shapes)  # 0 = ellipse, 1 = rectangle
    centres = rng.uniform(0.0, 1.0, size=(n_shapes, 2)) * (w, h)  # (S, 2) x, y
    radii = rng.uniform(0.06, 0.22, size=(n_shapes, 2)) * (w, h)  # (S, 2) half-width, half-height
    speed = rng.uniform(-0.004, 0.004, size=(n_shapes, 2)) * (w, h)  # (S, 2) pixels per frame
    offsets = rng.integers(-_CONTRAST, _CONTRAST + 1, size=(n_shapes, 3))  # (S, 3)

    ys = np.arange(h, dtype=np.float32)[:, None]  # (H, 1)
    xs = np.arange(w, dtype=np.float32)[None, :]  # (1, W)
    for s in range(n_shapes):
        cx, cy = centres[s] + speed[s] * t
        rx, ry = radii[s]
        x0, x1 = max(0, int(cx - rx)), min(w, int(cx + rx) + 1)
        y0, y1 = max(0, int(cy - ry)), min(h, int(cy + ry) + 1)
        if x0 >= x1 or y0 >= y1:
            continue  # drifted out of the frame
        colour = (bg + offsets[s]).astype(np.int16)  # (3,)
        if kinds[s] == 1:
            frame[y0:y1, x0:x1] = colour
        else:
            inside = ((xs[:, x0:x1] - cx) / rx) ** 2 + ((ys[y0:y1] - cy) / ry) ** 2 <= 1.0  # (h', w')
            frame[y0:y1, x0:x1][inside] = colour
    return np.clip(frame, 0, 255).astype(np.uint8)
