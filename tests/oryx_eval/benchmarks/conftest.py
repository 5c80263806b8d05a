"""Shared fixtures of the benchmark tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the session, so the tiny checkpoint is written once."""
    return tmp_path_factory.mktemp("oryx-cache")
