"""Rebuild a finished run's ``Sample``s (media references included) from the task specs in its run.json.

samples.jsonl records what was asked and answered but not where the media came from; the task's registered
reader, given the recorded (effective) spec, returns the same samples. Used for thumbnails and for
clustering the CI bootstrap by media. A task whose reader fails (data moved) is reported, not raised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oryx_eval.plugins import load_builtin
from oryx_eval.records import ReaderContext, Sample
from oryx_eval.registry import DATASETS
from oryx_eval.schema import TaskSpec

__all__ = ["media_keys", "rebuild_samples"]


def rebuild_samples(run_json: dict[str, Any]) -> tuple[dict[tuple[str, str], Sample], dict[str, str]]:
    """Samples of each task recorded in run.json (``{(task, id): Sample}``) and per-task reader errors."""
    load_builtin()
    spec = run_json.get("spec", {})
    opts = spec.get("options", {})
    out: dict[tuple[str, str], Sample] = {}
    errors: dict[str, str] = {}
    for name, raw in spec.get("tasks", {}).items():
        try:
            ts = TaskSpec.model_validate(raw)
            data_dir = (spec.get("data_dirs") or {}).get(name)
            ctx = ReaderContext(
                task=ts.name, source=ts.dataset.source,
                cache_dir=Path(opts.get("cache_dir", ".")) / "data" / ts.name,
                data_dir=Path(data_dir) if data_dir else None,
            )  # fmt: skip
            Path(ctx.cache_dir).mkdir(parents=True, exist_ok=True)
            for s in DATASETS.get(ts.dataset.reader)(ctx, **ts.dataset.args):
                out[(name, s.id)] = s
        except Exception as e:  # noqa: BLE001 - the page shows the reason instead of thumbnails
            errors[name] = f"{type(e).__name__}: {e}"
    return out, errors


def media_keys(run_json: dict[str, Any]) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """``{(task, sample id): first media key}`` of a run, and the per-task reader errors."""
    samples, errors = rebuild_samples(run_json)
    return {k: s.media[0].key for k, s in samples.items() if s.media}, errors
