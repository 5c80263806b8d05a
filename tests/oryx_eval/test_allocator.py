"""`tune_malloc`: applied once per process on glibc, recorded in every run session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from oryx_eval.allocator import TOP_PAD, TRIM_THRESHOLD, tune_malloc
from oryx_eval.results import load_run
from oryx_eval.runner import RunOptions, run


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt is Linux-only")
def test_glibc_accepts_the_settings() -> None:
    assert tune_malloc() == {"allocator": "glibc", "trim_threshold": TRIM_THRESHOLD, "top_pad": TOP_PAD}


def test_every_session_records_the_allocator_settings(tmp_path: Path) -> None:
    opts = RunOptions(
        tasks=["niah"], backend="test-oracle", output_dir=tmp_path, run_id="r", limit=2,
        cache_dir=tmp_path / "cache", progress=False,
    )  # fmt: skip
    run(opts)
    assert load_run(tmp_path / "r").sessions[-1]["malloc"] == tune_malloc()
