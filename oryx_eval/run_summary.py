"""Per-(task, compression) summaries of a finished run folder (``run.json`` + ``samples.jsonl``).

Reads only the on-disk run format, so sweeps and leaderboards never depend on runner internals. Each
row carries the task's headline metric (its first ``metrics`` entry, the official rule) with a 95%
cluster-bootstrap CI, token means, latency p50/p90 per stage and the efficiency per correct answer.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from oryx_eval.plugins import load_builtin
from oryx_eval.rebuild import media_keys
from oryx_eval.records import SampleRecord
from oryx_eval.registry import METRICS
from oryx_eval.results import RUN_FILE, SAMPLES_FILE, RunRecord, load_run, read_samples
from oryx_eval.stats import CI, bootstrap_ci, bootstrap_metric, cluster_key, correct

STAGES = ("decode", "preprocess", "vision", "compress", "prefill", "generate", "total")
MEAN_METRICS = ("accuracy",)
"""Metrics that are the mean of per-sample scores (failures as 0): bootstrapped vectorised."""


@dataclass
class TaskRow:
    """One (run, task, compression) summary."""

    task: str
    compression: str
    metric: str
    ci: CI
    n: int
    failed: int
    unparsed: int
    correct: int
    visual_tokens_mean: float
    total_tokens_mean: float
    latency_mean_s: float
    latency_s: dict[str, dict[str, float]] = field(default_factory=dict)
    """``{stage: {"p50": s, "p90": s}}`` over samples that ran."""
    visual_tokens_per_correct: float | None = None
    latency_per_correct_s: float | None = None
    frames_seen_mean: float = 0.0

    def flat(self) -> dict[str, Any]:
        """A flat dict for CSV/tables."""
        out: dict[str, Any] = {
            "task": self.task,
            "compression": self.compression,
            "metric": self.metric,
            "value": self.ci.value,
            "ci_low": self.ci.low,
            "ci_high": self.ci.high,
            "n": self.n,
            "failed": self.failed,
            "unparsed": self.unparsed,
            "correct": self.correct,
            "visual_tokens_mean": self.visual_tokens_mean,
            "total_tokens_mean": self.total_tokens_mean,
            "latency_mean_s": self.latency_mean_s,
        }
        for stage in STAGES:
            for q in ("p50", "p90"):
                out[f"latency_{stage}_{q}_s"] = self.latency_s.get(stage, {}).get(q, float("nan"))
        out["visual_tokens_per_correct"] = self.visual_tokens_per_correct
        out["latency_per_correct_s"] = self.latency_per_correct_s
        out["frames_seen_mean"] = self.frames_seen_mean
        out["ci_clusters"] = self.ci.n_clusters
        out["ci_cluster_by"] = self.ci.cluster
        out["ci_seed"] = self.ci.seed
        out["ci_n_boot"] = self.ci.n_boot
        return out


def _mean(xs: list[float]) -> float:
    return float(np.mean(xs)) if xs else float("nan")


def _pcts(xs: list[float]) -> dict[str, float]:
    if not xs:
        return {"p50": float("nan"), "p90": float("nan")}
    p50, p90 = np.percentile(xs, [50, 90])  # linear interpolation, as results.compression_stats
    return {"p50": float(p50), "p90": float(p90)}


def headline_metric(rec: RunRecord, task: str) -> tuple[str, dict[str, Any]]:
    """The task's first metric (name, args) as recorded in run.json (``accuracy`` if none)."""
    metrics = rec.spec.get("tasks", {}).get(task, {}).get("metrics") or [{"name": "accuracy"}]
    return metrics[0]["name"], metrics[0].get("args") or {}


def summarise_cell(
    task: str,
    comp: str,
    recs: list[SampleRecord],
    metric: str = "accuracy",
    metric_args: dict[str, Any] | None = None,
    media_keys: dict[tuple[str, str], str] | None = None,
    seed: int = 0,
    n_boot: int = 2000,
) -> TaskRow:
    """Summarise the records of one (task, compression) cell."""
    load_builtin()
    args = metric_args or {}
    keys = [cluster_key(r, media_keys) for r in recs]
    kinds = sorted({k for k, _ in keys})
    cname = "+".join(kinds) if kinds else "sample"
    clusters = [f"{k}:{v}" for k, v in keys]
    if metric in MEAN_METRICS and not args:
        ci = bootstrap_ci(
            [r.score or 0.0 for r in recs], clusters, n_boot=n_boot, seed=seed, cluster_name=cname
        )
        fn_value = METRICS.get(metric)(recs)
        if recs and not math.isclose(ci.value, fn_value, abs_tol=1e-12):
            raise ValueError(f"{task}: bootstrap mean {ci.value} differs from metric {metric} {fn_value}")
    else:
        fn = METRICS.get(metric)
        ci = bootstrap_metric(
            recs, lambda rs: fn(rs, **args), clusters, n_boot=min(n_boot, 500), seed=seed, cluster_name=cname
        )
    ok = [r for r in recs if r.error is None]
    n_correct = sum(correct(r) for r in recs)
    vis = [float(r.tokens.visual) for r in ok]
    tot = [float(r.tokens.visual + r.tokens.text + r.tokens.output) for r in ok]
    lat = [r.latency_s.total for r in ok]
    return TaskRow(
        task=task,
        compression=comp,
        metric=metric,
        ci=ci,
        n=len(recs),
        failed=len(recs) - len(ok),
        unparsed=sum(r.extracted is None for r in ok),
        correct=n_correct,
        visual_tokens_mean=_mean(vis),
        total_tokens_mean=_mean(tot),
        latency_mean_s=_mean(lat),
        latency_s={s: _pcts([getattr(r.latency_s, s) for r in ok]) for s in STAGES},
        visual_tokens_per_correct=sum(vis) / n_correct if n_correct else None,
        latency_per_correct_s=sum(lat) / n_correct if n_correct else None,
        frames_seen_mean=_mean([float(r.frames.count) for r in ok]),
    )


@dataclass
class RunSummary:
    """A run folder read back: its record, samples and one row per (task, compression)."""

    run_dir: Path
    record: RunRecord
    samples: list[SampleRecord]
    rows: list[TaskRow]

    @property
    def options(self) -> dict[str, Any]:
        """The recorded run options."""
        return self.record.spec.get("options", {})

    def backend_label(self) -> str:
        """Backend name plus a short checkpoint identity when recorded."""
        b = self.record.spec.get("backend") or {}
        name = b.get("name") or self.options.get("backend", "?")
        ident = b.get("checkpoint") or b.get("identity") or {}
        sha = ident.get("small_files_sha256") if isinstance(ident, dict) else None
        label = f"{name}@{sha[:8]}" if sha else str(name)
        return label + (" (random weights: pipeline check, not accuracy)" if b.get("random_weights") else "")


def summarise_run(run_dir: Path, seed: int = 0, n_boot: int = 2000, by_media: bool = True) -> RunSummary:
    """Read a run folder and summarise every (task, compression) cell in record order.

    ``by_media``: cluster the CI bootstrap by each sample's media (rebuilt by the task's reader, so the
    questions of one video resample together); where that fails, by a video metadata field or sample.
    """
    rec = load_run(run_dir)
    samples = read_samples(run_dir / SAMPLES_FILE)
    keys: dict[tuple[str, str], str] | None = None
    if by_media:
        keys, _ = media_keys(json.loads((run_dir / RUN_FILE).read_text()))
    cells: dict[tuple[str, str], list[SampleRecord]] = defaultdict(list)
    for r in samples:
        cells[(r.task, r.compression)].append(r)
    rows = []
    for (task, comp), recs in cells.items():
        name, args = headline_metric(rec, task)
        rows.append(summarise_cell(task, comp, recs, name, args, keys, seed=seed, n_boot=n_boot))
    return RunSummary(run_dir, rec, samples, rows)


NOT_RUNS = ("cache", "plots", "view")
"""Folder names inside a results tree that never hold runs (a sweep's frame cache, plots, viewer pages)."""


def find_runs(paths: list[Path], depth: int = 3) -> list[Path]:
    """Run folders under ``paths``: a folder with run.json, else its subfolders (a sweep), ``depth`` deep."""
    out: list[Path] = []
    for p in paths:
        if (p / "run.json").is_file():
            out.append(p)
        elif p.is_dir() and depth > 0:
            subs = sorted(q for q in p.iterdir() if q.is_dir() and q.name not in NOT_RUNS)
            out += find_runs(subs, depth - 1)
    return out
