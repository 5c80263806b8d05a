"""Shared fixtures for the Oryx model tests: one tiny checkpoint per session, seeded media."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model import OryxModel, load_oryx, write_tiny_checkpoint


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Oryx-Qwen checkpoint (official layout), written once per session; treat as read-only."""
    return write_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "oryx-tiny", seed=0)


@pytest.fixture(scope="session")
def tiny_model(tiny_dir: Path) -> OryxModel:
    """The tiny checkpoint loaded in fp32 on CPU; shared, so tests must not modify it."""
    return load_oryx(tiny_dir)


@pytest.fixture
def fresh_model(tiny_dir: Path) -> OryxModel:
    """A private copy of the tiny model for tests that change its config or stop ids."""
    return load_oryx(tiny_dir)


def random_frames(t: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    """Seeded uint8 `(T, H, W, 3)` frames with some spatial structure (smooth gradient + noise)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = (yy[None, :, :, None] + xx[None, :, :, None] * 2 + np.arange(t)[:, None, None, None] * 17) % 256
    noise = rng.integers(0, 64, size=(t, h, w, 3))
    return ((base + noise) % 256).astype(np.uint8)


def random_image(w: int, h: int, seed: int = 0) -> Image.Image:
    """Seeded RGB PIL image of size `w` x `h`."""
    return Image.fromarray(random_frames(1, h, w, seed)[0])


@pytest.fixture(scope="session")
def make_frames():  # noqa: ANN201 - returns the helper
    """`make_frames(t, h, w, seed=0)` -> seeded uint8 `(T, H, W, 3)` frames."""
    return random_frames


@pytest.fixture(scope="session")
def make_image():  # noqa: ANN201 - returns the helper
    """`make_image(w, h, seed=0)` -> seeded RGB PIL image."""
    return random_image
