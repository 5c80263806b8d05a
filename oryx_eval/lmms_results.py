"""Read an lmms-eval run (``*_results.json`` + optional ``*_samples_<task>.jsonl``) as a ``RunRecord``.

So lmms-eval runs (ours through the plugin, or any other model's) can sit in a leaderboard next to
oryx-eval runs. Layout read (lmms-eval 0.7.x, verified with 0.7.3): ``results`` per task with
``"<metric>,<filter>"`` values (dict-valued aggregations become breakdown cells), ``n-samples``,
``config`` (model, model_args, ...), ``lmms_eval_version``, ``date``; samples files carry ``doc_id``,
``token_counts`` and the task's per-doc fields. The oryx-eval plugin's per-sample tokens and stage
latencies (``oryx_samples.jsonl``, written next to lmms-eval's logs) are summarised when present.
``stats`` follow ``results.compression_stats``'s shape so leaderboards and ``oryx-eval show`` read both
kinds of run alike; ``accuracy`` there is the task's first scalar metric (named in ``accuracy_metric``).
"""

from __future__ import annotations

import json
import math
import re
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from oryx_eval.errors import DatasetError
from oryx_eval.records import MetricValue
from oryx_eval.results import RunRecord

SOURCE = "lmms-eval"


def find_results_file(path: Path) -> Path:
    """``path`` itself, or the single newest ``*_results.json`` under the directory ``path``."""
    if path.is_file():
        return path
    found = sorted(path.rglob("*_results.json"))
    if not found:
        raise DatasetError(f"{path}: no lmms-eval *_results.json file under it")
    return max(found, key=lambda p: (p.name, str(p)))


def _model_args(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    out: dict[str, Any] = {}
    for item in re.split(r",(?![^{]*\})", str(raw or "")):
        k, sep, v = item.partition("=")
        if sep:
            out[k.strip()] = v.strip()
    return out


def _metric_values(task: str, key: str, val: Any, comp: str, n: int) -> list[MetricValue]:
    metric, _, filt = key.partition(",")
    name = metric if filt in ("", "none") else f"{metric},{filt}"
    if isinstance(val, bool) or not isinstance(val, (int, float, dict)):
        return []
    if isinstance(val, dict):  # a dict aggregation: one breakdown cell per numeric entry
        return [
            MetricValue(task=task, name=name, value=float(v), compression=comp, group={"cell": str(k)}, n=n)
            for k, v in val.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)
        ]
    return [MetricValue(task=task, name=name, value=float(val), compression=comp, n=n)]


def _mean(xs: list[float]) -> float:
    return statistics.fmean(xs) if xs else math.nan


def _pct(xs: list[float], q: float) -> float:
    return float(np.percentile(xs, q * 100)) if xs else math.nan


def _lmms_samples(results_file: Path, task: str) -> list[dict[str, Any]] | None:
    stem = results_file.name[: -len("_results.json")]
    f = results_file.with_name(f"{stem}_samples_{task}.jsonl")
    if not f.exists():
        return None
    return [json.loads(line) for line in f.read_text().splitlines() if line.strip()]


def _token_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []  # token_counts: one dict per repeat (a list), or a dict
    for r in rows:
        tc = r.get("token_counts") or []
        out.extend(t for t in (tc if isinstance(tc, list) else [tc]) if isinstance(t, dict))
    return out


def _oryx_rows(results_file: Path, task: str) -> list[dict[str, Any]] | None:
    found = [d / "oryx_samples.jsonl" for d in (results_file.parent, results_file.parent.parent)]
    found = [p for p in found if p.exists()]
    if not found:
        return None
    rows = [json.loads(x) for x in found[0].read_text().splitlines() if x.strip()]
    return [r for r in rows if r.get("task") == task] or None


def task_stats(results_file: Path, task: str, comp: str, n: int, accuracy: float) -> dict[str, Any]:
    """Stats in the shape of ``results.compression_stats`` (tokens and latency from our per-sample log
    when the run used the plugin, else token means from lmms-eval's samples file; unknown = NaN)."""
    ours = _oryx_rows(results_file, task)
    lm = _lmms_samples(results_file, task)
    keys = ("visual_raw", "visual", "text", "output")
    stages = ("decode", "preprocess", "vision", "compress", "prefill", "generate", "total")
    st: dict[str, Any] = {"task": task, "compression": comp, "n": n, "failed": 0, "unparsed": "-",
                          "accuracy": accuracy}  # fmt: skip
    if ours is not None:
        ok = [r for r in ours if r.get("error") is None]
        st["failed"] = len(ours) - len(ok)
        st["tokens_mean"] = {k: _mean([float(r["tokens"][k]) for r in ok if k in r["tokens"]]) for k in keys}
        tot = [float(r["latency_s"]["total"]) for r in ok if "total" in r["latency_s"]]
        means = {k: _mean([float(r["latency_s"][k]) for r in ok if k in r["latency_s"]]) for k in stages}
        st["latency_s"] = {"p50": _pct(tot, 0.5), "p90": _pct(tot, 0.9), "mean": means}
        st["source"] = "oryx_samples.jsonl"
        return st
    toks = _token_rows(lm or [])
    st["tokens_mean"] = {  # lmms-eval counts the whole input (visual included) as input_tokens
        "visual_raw": math.nan, "visual": math.nan,
        "text": _mean([float(t["input_tokens"]) for t in toks if isinstance(t.get("input_tokens"), int)]),
        "output": _mean([float(t["output_tokens"]) for t in toks if isinstance(t.get("output_tokens"), int)]),
    }  # fmt: skip
    st["latency_s"] = {"p50": math.nan, "p90": math.nan, "mean": dict.fromkeys(stages, math.nan)}
    st["source"] = "lmms-eval samples" if lm is not None else "results only"
    return st


def read_lmms_eval(path: Path) -> RunRecord:
    """An lmms-eval results file (or a directory holding one) as a RunRecord (``spec.source``)."""
    f = find_results_file(Path(path))
    try:
        data = json.loads(f.read_text())
        results: dict[str, dict[str, Any]] = data["results"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DatasetError(f"{f}: not an lmms-eval results file ({type(e).__name__}: {e})") from None
    cfg = data.get("config") or {}
    margs = _model_args(cfg.get("model_args"))
    comp = str(margs.get("compression", "-"))
    nsamp = data.get("n-samples") or {}
    metrics: list[MetricValue] = []
    stats: list[dict[str, Any]] = []
    for task, vals in results.items():
        n = int((nsamp.get(task) or {}).get("effective", 0))
        for key, val in vals.items():
            if key == "alias" or "_stderr" in key:
                continue
            metrics.extend(_metric_values(task, key, val, comp, n))
        scalars = [m for m in metrics if m.task == task and m.group is None]
        acc = scalars[0].value if scalars else math.nan
        st = task_stats(f, task, comp, n, acc)
        st["accuracy_metric"] = scalars[0].name if scalars else None
        stats.append(st)
    spec = {
        "source": SOURCE, "file": str(f), "lmms_eval_version": data.get("lmms_eval_version"),
        "tasks": list(results), "backend": {"name": cfg.get("model"), "args": margs,
                                            "model_backend": cfg.get("model_backend")},
        "limit": cfg.get("limit"), "gen_kwargs": cfg.get("gen_kwargs"), "git_hash": data.get("git_hash"),
    }  # fmt: skip
    started = str(data.get("date") or data.get("start_time") or "")
    wall = data.get("total_evaluation_time_seconds")
    return RunRecord(
        status="success", spec=spec, metrics=metrics, stats=stats, started=started,
        wall_s=float(wall) if wall is not None else None,
        notes=[f"imported from lmms-eval results {f.name}; scores are lmms-eval's own"],
    )  # fmt: skip
