"""Small real run folders for leaderboard/viewer tests (fast deterministic backends through the runner)."""

from __future__ import annotations

from pathlib import Path

import yaml

from oryx_eval.runner import RunOptions, run

ROOT = Path(__file__).resolve().parents[2]


def niah_task(tmp: Path, name: str = "niah_small") -> Path:
    """A 2 x 3 x 4 = 24-sample NIAH grid of 64x64 frames (frames mode)."""
    raw = yaml.safe_load((ROOT / "tasks" / "niah.yaml").read_text())
    raw["name"] = name
    raw["dataset"]["args"].update(
        frame_counts=[4, 8], depths=[0.0, 0.5, 1.0], frame_size=[64, 64], marker=True
    )
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def make_run(tmp: Path, tasks: list[Path], backend: str, run_id: str, **kw) -> Path:
    """Run ``tasks`` with ``backend`` into ``tmp/results/run_id``; returns the run folder."""
    opts = RunOptions(
        tasks=[str(t) for t in tasks], backend=backend, output_dir=tmp / "results", run_id=run_id,
        cache_dir=tmp / "cache", progress=False, **{"max_failures": "100%", **kw},
    )  # fmt: skip
    return run(opts).run_dir
