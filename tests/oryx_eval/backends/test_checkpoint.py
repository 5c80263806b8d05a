"""Checkpoint identity (issue 6 item 1): weight bytes are covered, hashes are cached by path+size+mtime,
and resuming after the weights were swapped is refused."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import oryx_eval.backends.checkpoint as ck
from model.tiny import write_tiny_checkpoint
from oryx_eval.errors import RunStoreError
from oryx_eval.runner import RunOptions, run

ROOT = Path(__file__).resolve().parents[3]


def test_seeds_differ_only_in_weight_bytes_and_the_identity_tells(tmp_path: Path) -> None:
    a = write_tiny_checkpoint(tmp_path / "a", seed=0)
    b = write_tiny_checkpoint(tmp_path / "b", seed=1)
    sizes = lambda d: {p.name: p.stat().st_size for p in d.iterdir()}  # noqa: E731
    assert sizes(a) == sizes(b)  # what the old identity looked at
    ia, ib = ck.checkpoint_identity(a), ck.checkpoint_identity(b)
    assert ia["digest"] != ib["digest"]
    assert ia["files"]["config.json"] == ib["files"]["config.json"]
    weights = [n for n in ia["files"] if n.endswith((".safetensors", ".pth"))]
    assert weights and all(ia["files"][n]["xxh3_128"] != ib["files"][n]["xxh3_128"] for n in weights)


def test_hashes_are_cached_by_path_size_and_mtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ckpt = write_tiny_checkpoint(tmp_path / "c", seed=0)
    calls: list[str] = []
    real = ck.file_hash
    monkeypatch.setattr(ck, "file_hash", lambda p: (calls.append(p.name), real(p))[1])
    first = ck.checkpoint_identity(ckpt, cache_dir=tmp_path / "cache")
    n = len(calls)
    assert n == len(first["files"])
    assert ck.checkpoint_identity(ckpt, cache_dir=tmp_path / "cache") == first and len(calls) == n  # cached
    shard = next(p for p in ckpt.iterdir() if p.suffix == ".safetensors")
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0xFF  # same size, new content, new mtime
    shard.write_bytes(bytes(data))
    st = shard.stat()
    os.utime(shard, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    third = ck.checkpoint_identity(ckpt, cache_dir=tmp_path / "cache")
    assert calls[n:] == [shard.name] and third["digest"] != first["digest"]


def test_resume_after_swapping_the_weights_is_refused(tmp_path: Path) -> None:
    ckpt = write_tiny_checkpoint(tmp_path / "ckpt", seed=0)
    opts = RunOptions(
        tasks=[str(ROOT / "tasks" / "niah.yaml")], backend="oryx", backend_args={"model_path": str(ckpt)},
        output_dir=tmp_path / "out", run_id="r", cache_dir=tmp_path / "cache", limit=2, progress=False,
        max_failures="100%",
    )  # fmt: skip
    run(opts)
    shutil.rmtree(ckpt)
    write_tiny_checkpoint(ckpt, seed=1)  # same path, same sizes, other weights
    with pytest.raises(RunStoreError, match=r"backend differs.*checkpoint\.digest"):
        run(RunOptions(**{**vars(opts), "resume": True}))
