"""Per-rank device placement under a launcher (torchrun sets WORLD_SIZE and LOCAL_RANK)."""

from __future__ import annotations

import pytest

from oryx_eval.distributed import local_device


def test_local_device_pins_bare_cuda_to_the_local_rank(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "8")
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert local_device("cuda") == "cuda:3"  # not cuda:0 on every rank
    assert local_device("cuda:1") == "cuda:1"  # an explicit index is the user's choice
    assert local_device("cpu") == "cpu"
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert local_device("cuda") == "cuda"
    monkeypatch.setenv("WORLD_SIZE", "8")
    monkeypatch.delenv("LOCAL_RANK")
    assert local_device("cuda") == "cuda"
