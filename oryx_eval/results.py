"""Run records: `results/<run_id>/run.json` (versioned) and `samples.jsonl` (one flushed line per sample)."""

from __future__ import annotations

import json
import math
import os
import statistics
import traceback
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from oryx_eval.errors import MetricNotComputed
from oryx_eval.records import SCHEMA_VERSION, MetricValue, SampleRecord
from oryx_eval.registry import METRICS

SAMPLES_FILE = "samples.jsonl"
RUN_FILE = "run.json"


class RunError(BaseModel):
    """Why a run failed."""

    message: str
    traceback: str | None = None


class RunRecord(BaseModel):
    """The contents of run.json."""

    schema_version: int = SCHEMA_VERSION
    status: Literal["started", "success", "error", "cancelled"] = "started"
    spec: dict[str, Any]
    """Resolved tasks, backend arguments and identity, run options, git revision, package versions."""
    metrics: list[MetricValue] = Field(default_factory=list)
    stats: list[dict[str, Any]] = Field(default_factory=list)
    """Per (task, compression): n, failures, accuracy, mean tokens, latency p50/p90 and stage means."""
    reports: list[str] = Field(default_factory=list)
    """Extra files written beside run.json (heatmaps, LongVA json, ...)."""
    notes: list[str] = Field(default_factory=list)
    error: RunError | None = None
    started: str
    finished: str | None = None
    wall_s: float | None = None


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON via a temp file + rename so readers never see half a file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str, allow_nan=True) + "\n")
    os.replace(tmp, path)


def save_run(run_dir: Path, rec: RunRecord) -> None:
    """Write run.json."""
    write_json_atomic(run_dir / RUN_FILE, rec.model_dump(mode="json"))


def load_run(run_dir: Path) -> RunRecord:
    """Read run.json of a run directory."""
    path = run_dir / RUN_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: no run.json (is {run_dir} a run directory?)")
    return RunRecord.model_validate_json(path.read_text())


def error_of(exc: BaseException) -> RunError:
    """A RunError with the traceback."""
    return RunError(
        message=f"{type(exc).__name__}: {exc}", traceback="".join(traceback.format_exception(exc))
    )


class Recorder:
    """Appends one JSON line per scored sample and flushes it at once (a crash loses nothing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        repair_jsonl(path)
        self._f = path.open("a", encoding="utf-8")

    def write(self, rec: SampleRecord) -> None:
        """Append and flush one record."""
        self._f.write(rec.model_dump_json() + "\n")
        self._f.flush()

    def close(self) -> None:
        """Close the file."""
        self._f.close()


def repair_jsonl(path: Path) -> None:
    """Drop a partially written last line (a run killed mid-write) so resume neither loses nor dupes."""
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    with path.open("r+b") as f:
        f.truncate(cut)


def read_samples(path: Path) -> list[SampleRecord]:
    """All complete records of a samples file (a torn last line is ignored)."""
    if not path.exists():
        return []
    out = []
    lines = path.read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            out.append(SampleRecord.model_validate_json(line))
        except ValueError:
            if i == len(lines) - 1:  # torn tail from a kill
                continue
            raise ValueError(f"{path}:{i + 1}: corrupt sample record") from None
    return out


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _mean(xs: list[float]) -> float:
    return statistics.fmean(xs) if xs else float("nan")


def compression_stats(task: str, comp: str, recs: list[SampleRecord]) -> dict[str, Any]:
    """Accuracy, mean tokens per sample and latency percentiles of one (task, compression) cell."""
    ok = [r for r in recs if r.error is None]
    tot = [r.latency_s.total for r in ok]
    return {
        "task": task,
        "compression": comp,
        "n": len(recs),
        "failed": len(recs) - len(ok),
        "unparsed": sum(r.extracted is None for r in ok),
        "accuracy": _mean([r.score or 0.0 for r in recs]),
        "tokens_mean": {
            k: _mean([float(getattr(r.tokens, k)) for r in ok])
            for k in ("visual_raw", "visual", "text", "output")
        },
        "latency_s": {
            "p50": _pct(tot, 0.5),
            "p90": _pct(tot, 0.9),
            "mean": {
                k: _mean([getattr(r.latency_s, k) for r in ok])
                for k in ("decode", "preprocess", "vision", "compress", "prefill", "generate", "total")
            },
        },
    }


def _compute(fn: Any, recs: list[SampleRecord], args: dict[str, Any]) -> tuple[float, str | None]:
    """A metric's value, or NaN and the reason when it raises ``MetricNotComputed``."""
    try:
        return fn(recs, **args), None
    except MetricNotComputed as e:
        return float("nan"), str(e)


def aggregate(specs: dict[str, Any], records: list[SampleRecord]) -> tuple[list[MetricValue], list[dict]]:
    """Metrics (overall + breakdowns) and stats per task and compression setting."""
    metrics: list[MetricValue] = []
    stats: list[dict] = []
    cells: dict[tuple[str, str], list[SampleRecord]] = defaultdict(list)
    for r in records:
        cells[(r.task, r.compression)].append(r)
    for (task, comp), recs in cells.items():
        spec = specs[task]
        stats.append(compression_stats(task, comp, recs))
        for m in spec.metrics:
            fn = METRICS.get(m.name)
            value, note = _compute(fn, recs, m.args)
            metrics.append(
                MetricValue(task=task, name=m.name, value=value, compression=comp, n=len(recs), note=note)
            )
            for keys in spec.breakdowns:
                groups: dict[tuple, list[SampleRecord]] = defaultdict(list)
                for r in recs:
                    groups[tuple(r.metadata.get(k) for k in keys)].append(r)
                for gvals, grecs in sorted(groups.items(), key=lambda kv: str(kv[0])):
                    value, note = _compute(fn, grecs, m.args)
                    metrics.append(
                        MetricValue(
                            task=task,
                            name=m.name,
                            value=value,
                            note=note,
                            compression=comp,
                            group=dict(zip(keys, gvals, strict=True)),
                            n=len(grecs),
                        )
                    )
    return metrics, stats
