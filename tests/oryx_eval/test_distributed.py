"""Rank -> device (issue 6 item 9) and concurrent cold-cache writers (item 10)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from oryx_eval.distributed import Dist, resolve_device
from oryx_eval.results import load_run, read_samples

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("device", "dist", "cuda", "want"),
    [
        ("cuda", Dist(rank=5, world=8, local_rank=1), True, "cuda:1"),
        (None, Dist(rank=3, world=4, local_rank=3), True, "cuda:3"),
        (None, Dist(rank=3, world=4, local_rank=3), False, None),
        ("cpu", Dist(rank=1, world=2, local_rank=1), True, "cpu"),
        ("cuda:2", Dist(rank=1, world=2, local_rank=1), True, "cuda:2"),  # explicit: kept
        ("cuda", Dist(), True, "cuda"),  # not under a launcher
    ],
)
def test_resolve_device(device: str | None, dist: Dist, cuda: bool, want: str | None) -> None:
    assert resolve_device(device, dist, cuda) == want


def test_three_ranks_encode_niah_video_into_an_empty_cache(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "tasks" / "niah_video.yaml").read_text())
    raw["name"] = "niah_video_small"
    raw["dataset"]["args"].update(frame_counts=[4, 6], depths=[0.0, 1.0], frame_size=[32, 32], marker=True)
    task = tmp_path / "niah_video_small.yaml"
    task.write_text(yaml.safe_dump(raw))
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=3", "--master_port=29547",
        str(ROOT / "cli.py"), "run", "--tasks", str(task), "--model", "test-oracle", "--output",
        str(tmp_path / "out"), "--run-id", "v", "--cache-dir", str(tmp_path / "cache"), "--no-share-media",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    recs = read_samples(tmp_path / "out" / "v" / "samples.jsonl")
    assert len(recs) == 2 * 2 * 4 and all(r.error is None and r.score == 1.0 for r in recs)
    assert {r.rank for r in recs} == {0, 1, 2}
    leftovers = [p.name for p in (tmp_path / "cache").rglob("*") if "partial" in p.name or p.suffix == ".tmp"]
    assert leftovers == []
    assert load_run(tmp_path / "out" / "v").sessions[0]["devices"] == [None, None, None]
