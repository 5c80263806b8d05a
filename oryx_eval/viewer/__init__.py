"""``oryx-eval view RUN_DIR``: a self-contained HTML page of one run, sample by sample.

``write_view`` reads run.json and samples.jsonl, writes thumbnails of the frames each sample's model saw
(``thumbs.py``) beside the page, and the page itself (``page.py``). Nothing is fetched from a network.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from oryx_eval.errors import OryxEvalError
from oryx_eval.rebuild import rebuild_samples
from oryx_eval.records import SampleRecord
from oryx_eval.results import RUN_FILE, SAMPLES_FILE, read_samples
from oryx_eval.schema import TaskSpec
from oryx_eval.viewer.page import render_page
from oryx_eval.viewer.thumbs import MediaThumbs, write_thumbs

MAX_META_VALUES = 60
"""Metadata keys with more distinct scalar values than this get no filter menu."""


def status_of(r: SampleRecord) -> str:
    """``failed`` (did not run), ``unparsed`` (no answer extracted), ``correct`` (score >= 0.5), ``wrong``."""
    if r.error is not None:
        return "failed"
    if r.extracted is None:
        return "unparsed"
    return "correct" if (r.score or 0.0) >= 0.5 else "wrong"


def _meta_filters(records: list[SampleRecord]) -> dict[str, list[str]]:
    vals: dict[str, set[str]] = {}
    for r in records:
        for k, v in r.metadata.items():
            if isinstance(v, str | int | float | bool):
                vals.setdefault(k, set()).add(str(v))

    def order(v: str) -> tuple[int, float, str]:
        try:
            return (0, float(v), v)
        except ValueError:
            return (1, 0.0, v)

    return {k: sorted(v, key=order) for k, v in vals.items() if 1 < len(v) <= MAX_META_VALUES}


def write_view(run_dir: Path, out_dir: Path | None = None, max_thumbs: int = 8, thumb_px: int = 112) -> Path:
    """Write ``<out_dir>/index.html`` (default ``<run_dir>/view``), thumbnails in ``thumbs/``; returns it."""
    run_json_path = run_dir / RUN_FILE
    if not run_json_path.is_file():
        raise OryxEvalError(f"{run_dir}: no run.json (is it a run directory?)")
    run_json = json.loads(run_json_path.read_text())
    records = read_samples(run_dir / SAMPLES_FILE)
    out = out_dir or (run_dir / "view")
    out.mkdir(parents=True, exist_ok=True)
    samples, reader_errors = rebuild_samples(run_json)
    tasks = {n: TaskSpec.model_validate(raw) for n, raw in run_json.get("spec", {}).get("tasks", {}).items()}
    done: dict[str, MediaThumbs] = {}
    rows: list[dict[str, Any]] = []
    for r in records:
        sample = samples.get((r.task, r.sample_id))
        th = write_thumbs(r, sample, tasks.get(r.task), out / "thumbs", max_thumbs,
                          thumb_px, done)  # fmt: skip
        if th.error is None and not th.thumbs:
            th = MediaThumbs(error="no frames")
        d = r.model_dump(mode="json", exclude={"rank"})
        d["status"] = status_of(r)
        d["thumbs"] = [t.__dict__ for t in th.thumbs]
        d["thumb_error"] = reader_errors.get(r.task) or th.error
        rows.append(d)
    spec = run_json.get("spec", {})
    backend = spec.get("backend") or {}
    lines = [
        f"status {run_json.get('status')}, {len(records)} sample records, backend {backend.get('name', '?')}"
    ]
    lines += list(run_json.get("notes", []))
    lines += [f"thumbnails unavailable for task {t}: {e}" for t, e in reader_errors.items()]
    data = {
        "samples": rows,
        "compressions": list(dict.fromkeys(r.compression for r in records)),
        "meta": _meta_filters(records),
    }
    page = out / "index.html"
    page.write_text(render_page(f"run {run_dir.name}", lines, run_json.get("stats", []), data))
    return page
