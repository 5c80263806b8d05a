"""Tiny random-weight checkpoints of the comparison families, written once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from oryx_eval.backends.hf_tiny import write_tiny

# small resolution knobs so the tiny models see few tokens (the defaults are the processors' defaults)
SMALL = {
    "qwen2-vl": {
        "min_pixels": 28 * 28,
        "max_pixels": 112 * 112,
        "video_min_pixels": 28 * 28,
        "video_max_pixels": 56 * 56,
    },
    "llava-onevision": {},
    "internvl": {"max_tiles": 4},
}
BACKEND = {
    "qwen2-vl": "qwen2-vl",
    "qwen2.5-vl": "qwen2-vl",
    "llava-onevision": "llava-onevision",
    "internvl": "internvl",
}


@pytest.fixture(scope="session")
def tiny_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hf_tiny")
    return {f: write_tiny(f, root / f, seed=0) for f in BACKEND}


def small_args(family: str) -> dict:
    return dict(SMALL["qwen2-vl" if family.startswith("qwen") else family])
