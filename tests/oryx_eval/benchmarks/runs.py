"""Run a shipped task on a generated fixture folder (test backends, 4 frames)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from oryx_eval.runner import RunOptions, RunResult, run


def run_task(
    tmp: Path, task: str, data: dict[str, Path], backend: str = "test-oracle", **kw: Any
) -> RunResult:
    kw.setdefault("frames", 4)
    kw.setdefault("cache_dir", tmp / "cache")
    kw.setdefault("max_failures", "100%")  # fixtures include broken media on purpose
    opts = RunOptions(tasks=[task], backend=backend, output_dir=tmp / "results", data_root=tmp / "none",
                      data_dirs=data, progress=False, **kw)  # fmt: skip
    return run(opts)


def metric(res: RunResult, name: str, **group: Any) -> float:
    hits = [m.value for m in res.record.metrics if m.name == name and (m.group or {}) == group]
    assert len(hits) == 1, (name, group, hits)
    return hits[0]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())
