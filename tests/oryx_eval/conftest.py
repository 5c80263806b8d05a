"""Shared fixtures for harness tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.oryx_eval.fixtures import make_task


@pytest.fixture()
def mc_task(tmp_path: Path) -> Path:
    return make_task(tmp_path / "task")
