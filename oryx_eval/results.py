"""Run records: `results/<run_id>/run.json` (versioned) and `samples.jsonl` (one flushed line per sample)."""

from __future__ import annotations

import json
import math
import os
import statistics
import tempfile
import traceback
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from oryx_eval.errors import CorruptRecordsError
from oryx_eval.records import SCHEMA_VERSION, MetricValue, SampleRecord
from oryx_eval.registry import METRICS

SAMPLES_FILE = "samples.jsonl"
RUN_FILE = "run.json"


class RunError(BaseModel):
    """Why a run failed."""

    message: str
    traceback: str | None = None


RunStatus = Literal["started", "success", "failed", "cancelled", "error"]
"""``started``: running or killed; ``success``: every planned sample recorded within the failure bound;
``failed``: a systemic error or too many failed samples (records kept for ``--resume``); ``cancelled``:
interrupted (Ctrl-C); ``error``: written by schema version 1 for what is now ``failed``."""


class Progress(BaseModel):
    """How much of the planned work is recorded (per run, over every rank)."""

    planned: int = 0
    """(sample, compression) pairs the run covers."""
    recorded: int = 0
    failed: int = 0
    """Recorded pairs that could not run (counted apart, never scored)."""
    does_not_fit: int = 0
    """Failed pairs whose prompt is longer than the model's context."""


class RunRecord(BaseModel):
    """The contents of run.json."""

    schema_version: int = SCHEMA_VERSION
    status: RunStatus = "started"
    spec: dict[str, Any]
    """Resolved tasks, backend arguments and identity, run options, git revision, package versions.
    Written when the run is created and never changed by a resume."""
    sessions: list[dict[str, Any]] = Field(default_factory=list)
    """One entry per invocation (the first run and each resume): start time, argv, git, world size,
    device per rank, failure bound."""
    progress: Progress = Field(default_factory=Progress)
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


def write_text_atomic(path: Path, text: str) -> None:
    """Write via a uniquely named temp file in the same folder + rename: readers never see half a file,
    and concurrent writers never share a temporary name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON atomically (see ``write_text_atomic``)."""
    write_text_atomic(path, json.dumps(data, indent=2, default=str, allow_nan=True) + "\n")


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


def _is_record(line: bytes) -> bool:
    try:
        SampleRecord.model_validate_json(line)
        return True
    except ValueError:
        return False


def repair_jsonl(path: Path) -> None:
    """Make a samples file end at a record boundary after a kill, agreeing with ``read_samples``.

    A last line without its newline is kept (the newline is added) when it is a complete record, and cut
    otherwise: so a record ``read_samples`` counted as done is never truncated away, and a torn one is
    never counted.
    """
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    if _is_record(data[cut:]):
        with path.open("ab") as f:
            f.write(b"\n")
        return
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
            if i == len(lines) - 1:  # torn tail from a kill (no newline after it): not a record
                continue
            raise CorruptRecordsError(f"{path}:{i + 1}: corrupt sample record") from None
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


def failure_counts(recs: list[SampleRecord]) -> tuple[int, int]:
    """(failed, does not fit) among ``recs``; a record that does not fit is also counted as failed."""
    failed = sum(r.error is not None for r in recs)
    return failed, sum(r.error_kind == "overflow" for r in recs)


def compression_stats(task: str, comp: str, recs: list[SampleRecord]) -> dict[str, Any]:
    """Accuracy, mean tokens per sample and latency percentiles of one (task, compression) cell.

    Latency is given with the media decode (``p50``/``p90``: what a sample cost end to end) and without
    it (``model_p50``/``model_p90``: backend stages only), since decode depends on cache state and on how
    many samples and settings shared the media.
    """
    ok = [r for r in recs if r.error is None]
    tot = [r.latency_s.total for r in ok]
    model = [r.latency_s.total - r.latency_s.decode for r in ok]
    failed, dnf = failure_counts(recs)
    scored = [r for r in recs if r.error_kind != "overflow"]
    return {
        "task": task,
        "compression": comp,
        "n": len(recs),
        "failed": failed,
        "does_not_fit": dnf,
        "unparsed": sum(r.extracted is None for r in ok),
        # items recorded without a score (no judge / no ground truth) leave the mean; failures count wrong
        "accuracy": _mean([r.score or 0.0 for r in scored if r.score is not None or r.error is not None]),
        "tokens_mean": {
            k: _mean([float(getattr(r.tokens, k)) for r in ok])
            for k in ("visual_raw", "visual", "text", "output")
        },
        "latency_s": {
            "p50": _pct(tot, 0.5),
            "p90": _pct(tot, 0.9),
            "model_p50": _pct(model, 0.5),
            "model_p90": _pct(model, 0.9),
            "mean": {
                k: _mean([getattr(r.latency_s, k) for r in ok])
                for k in ("decode", "preprocess", "vision", "compress", "prefill", "generate", "total")
            },
        },
        "media_from_cache": sum((r.frames.source or "decoded") in ("memory", "disk") for r in ok),
    }


def _metric(task: str, name: str, fn: Any, args: dict, comp: str, recs: list[SampleRecord],
            group: dict[str, Any] | None = None) -> MetricValue:  # fmt: skip
    failed, dnf = failure_counts(recs)
    return MetricValue(
        task=task, name=name, value=fn(recs, **args), compression=comp, group=group, n=len(recs),
        failed=failed, does_not_fit=dnf,
    )  # fmt: skip


def _sort_key(vals: tuple) -> tuple:
    """Breakdown cells in natural order: numbers as numbers (8 < 16 < 128), then strings, None last."""
    return tuple((0, v, "") if isinstance(v, int | float) and not isinstance(v, bool)
                 else (2, 0, "") if v is None else (1, 0, str(v)) for v in vals)  # fmt: skip


def aggregate(specs: dict[str, Any], records: list[SampleRecord]) -> tuple[list[MetricValue], list[dict]]:
    """Metrics (overall + breakdowns, each with its failure counts) and stats per task and compression."""
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
            metrics.append(_metric(task, m.name, fn, m.args, comp, recs))
            for keys in spec.breakdowns:
                groups: dict[tuple, list[SampleRecord]] = defaultdict(list)
                for r in recs:
                    groups[tuple(r.metadata.get(k) for k in keys)].append(r)
                for gvals, grecs in sorted(groups.items(), key=lambda kv: _sort_key(kv[0])):
                    group = dict(zip(keys, gvals, strict=True))
                    metrics.append(_metric(task, m.name, fn, m.args, comp, grecs, group))
    return metrics, stats
