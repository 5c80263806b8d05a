"""NIAH report ``niah_heatmap``: LongVA's ``all_accuracies.json``, ``avg_accuracy.txt`` and a heatmap.

Reproduces the data outputs of LongVA V-NIAH (benchmarks.md §6.1, ``vision_niah/eval_vision_niah.py`` and
``vision_niah/niah_output/*``): a JSON list of ``{"Num. Frame", "Frame Depth", "Score"}`` (cell score =
mean over the cell's needles), ``Average Accuracy: x`` = mean over cells, written once per compression
setting. ``niah_summary.json`` adds what LongVA lacks: failed samples and needles the frame sampler
skipped. The heatmap (``heatmap.png``/``.svg``, one panel per compression; see ``heatmap.py``) is
drawn from ``heatmap.json``, which holds every cell's value, n, failures and reason.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from oryx_eval.benchmarks.niah.heatmap import Cell, Panel, draw_heatmaps, frame_label
from oryx_eval.benchmarks.niah.task import covers
from oryx_eval.records import SampleRecord
from oryx_eval.registry import REPORTS
from oryx_eval.reports import by_compression, suffix

__all__ = ["cell_stats", "cell_scores", "frame_label", "longva_accuracies", "niah_report", "run_title"]


def _record_score(rec: SampleRecord) -> float:
    if rec.error is not None:
        return 0.0
    if rec.score is None:
        raise ValueError(f"niah report: sample {rec.sample_id!r} has neither a score nor an error")
    return float(rec.score)


def _cell_key(rec: SampleRecord) -> tuple[int, int]:
    try:
        return int(rec.metadata["num_frames"]), int(rec.metadata["depth"])
    except KeyError as e:
        raise ValueError(f"niah report: sample {rec.sample_id!r} lacks metadata {e.args[0]!r}") from None


def _needle_indices(rec: SampleRecord) -> list[int]:
    try:
        return list(rec.metadata["needle_indices"])
    except KeyError:
        raise ValueError(f"niah report: sample {rec.sample_id!r} lacks metadata 'needle_indices'") from None


def cell_stats(records: list[SampleRecord]) -> dict[tuple[int, int], Cell]:
    """Per ``(num_frames, depth percent)``: mean score (failed samples count 0), n, failures, reason."""
    groups: dict[tuple[int, int], list[SampleRecord]] = defaultdict(list)
    for rec in records:
        groups[_cell_key(rec)].append(rec)
    out = {}
    for k, recs in sorted(groups.items()):
        failed = [r for r in recs if r.error is not None]
        scored = [r for r in recs if r.error_kind != "overflow"]  # "does not fit" is never scored 0
        dnf = len(recs) - len(scored)
        reason = failed[0].error if failed and len(failed) == len(recs) else None
        if dnf == len(recs):
            reason = f"does not fit: {failed[0].error}"
        out[k] = Cell(
            value=float(np.mean([_record_score(r) for r in scored])) if scored else float("nan"),
            n=len(recs),
            failed=len(failed),
            reason=reason,
            fed=sorted({r.frames.count for r in recs if r.error is None}),
            does_not_fit=dnf,
        )
    return out


def cell_scores(records: list[SampleRecord]) -> dict[tuple[int, int], float]:
    """Mean score per ``(num_frames, depth percent)`` cell; failed samples count 0."""
    return {k: c.value for k, c in cell_stats(records).items()}


def longva_accuracies(cells: dict[tuple[int, int], float]) -> list[dict[str, Any]]:
    """Cells as LongVA's ``all_accuracies.json`` rows, ordered by frame count then depth.

    LongVA writes ``round(100 * depth, -1)`` as a float; our depths are whole percents, equal to that
    on LongVA's 10 %-step grids; other depths are kept exact rather than merged into tens.
    """
    return [{"Num. Frame": n, "Frame Depth": float(d), "Score": s} for (n, d), s in sorted(cells.items())]


def _summary(records: list[SampleRecord], cells: dict[tuple[int, int], float]) -> dict[str, Any]:
    errors = [r.sample_id for r in records if r.error is not None]
    no_frames = [r.sample_id for r in records if r.error is None and not r.frames.indices]
    missed = [
        r.sample_id
        for r in records
        if r.error is None and r.frames.indices and not covers(_needle_indices(r), r.frames.indices)
    ]
    by_depth: dict[int, list[float]] = defaultdict(list)
    by_frames: dict[int, list[float]] = defaultdict(list)
    for (n, d), s in cells.items():
        by_depth[d].append(s)
        by_frames[n].append(s)
    return {
        "avg_accuracy": float(np.mean(list(cells.values()))),
        "n_samples": len(records),
        "n_cells": len(cells),
        "errors": len(errors),
        "error_ids": errors,
        "needle_missed": len(missed),
        "needle_missed_ids": missed,
        "no_frame_indices": len(no_frames),
        "by_depth": {str(d): float(np.mean(v)) for d, v in sorted(by_depth.items())},
        "by_num_frames": {str(n): float(np.mean(v)) for n, v in sorted(by_frames.items())},
    }


def run_title(run_json: Path | None) -> str:
    """``backend checkpoint@sha (random weights)`` from a run.json, or ``model unknown`` without one."""
    if run_json is None or not run_json.is_file():
        return "model unknown"
    spec = json.loads(run_json.read_text()).get("spec", {})
    b = spec.get("backend") or {}
    name = b.get("name") or spec.get("options", {}).get("backend", "?")
    ck = b.get("checkpoint") or {}
    parts = [str(name)]
    if ck.get("small_files_sha256"):
        parts.append(f"checkpoint {Path(str(ck.get('path', ''))).name}@{ck['small_files_sha256'][:8]}")
    if b.get("random_weights"):
        parts.append("RANDOM WEIGHTS (pipeline check, not accuracy)")
    return ", ".join(parts)


BY = ("needle",)
"""Accepted values of the report option ``by`` (one heatmap row per value of that metadata key)."""


@REPORTS.register("niah_heatmap")
def niah_report(
    records: list[SampleRecord], out_dir: Path, task: str, by: str | None = None, **args: Any
) -> list[Path]:
    """Write LongVA-format NIAH results per compression setting and one heatmap of all settings.

    Files per setting: ``all_accuracies.json``, ``avg_accuracy.txt`` and ``niah_summary.json`` (errors
    and ``needle_missed``: samples whose recorded frame indices skip a needle frame); with several
    compression settings each name gets a ``_c{compression}`` suffix. Once: ``heatmap.png``,
    ``heatmap.svg`` (one panel per setting) and ``heatmap.json`` (the drawn cells). The title names the
    model from the run's ``run.json`` (in ``out_dir`` or its parent) when there is one.

    Args:
        records: Sample records of the run (only those of ``task`` are used).
        out_dir: Directory to write into (created).
        task: Task name.
        by: ``"needle"``: one heatmap row per needle kind (each a panel per setting) instead of one panel
            per setting over all kinds; the LongVA files stay per setting.
        **args: Other report options: none are defined (any raises ``ValueError``).

    Returns:
        The written paths.
    """
    if args:
        raise ValueError(f"niah_heatmap report ({task}): unknown options {sorted(args)}; accepted: by")
    if by is not None and by not in BY:
        raise ValueError(f"niah_heatmap report ({task}): by={by!r}; accepted values: {', '.join(BY)}")
    by_comp = by_compression(records, task, "niah_heatmap")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    panels: list[Panel] = []
    labels: dict[str, str] = {}  # per setting: "compression 4 (used 16x)"
    for comp, recs in by_comp.items():
        sfx = suffix(comp, by_comp)
        stats = cell_stats(recs)
        cells = {k: c.value for k, c in stats.items() if c.does_not_fit < c.n}  # LongVA: cells that ran
        summary = {"task": task, "compression": comp, **_summary(recs, cells)}
        acc = out / f"all_accuracies{sfx}.json"
        acc.write_text(json.dumps(longva_accuracies(cells), indent=4) + "\n")
        avg = out / f"avg_accuracy{sfx}.txt"
        failed = sum(c.failed - c.does_not_fit for c in stats.values())
        dnf = [f"{n} frames, depth {d}%" for (n, d), c in stats.items() if c.does_not_fit == c.n]
        lines = [f"Average Accuracy: {summary['avg_accuracy']}"]
        if failed:
            lines.append(f"({failed} failed samples counted as wrong; see niah_summary{sfx}.json)")
        if dnf:
            lines.append(f"(not scored, do not fit the model's context: {'; '.join(dnf)})")
        avg.write_text("\n".join(lines) + "\n")
        summ = out / f"niah_summary{sfx}.json"
        summ.write_text(json.dumps(summary, indent=2) + "\n")
        written += [acc, avg, summ]
        used = sorted({r.compression_used for r in recs if r.compression_used and r.compression_used != comp})
        labels[comp] = f"compression {comp}" + (f" (used {', '.join(used)}x)" if used else "")
        if by is None:
            panels.append(Panel(f"{labels[comp]}: average {summary['avg_accuracy']:.3f}", stats, comp))
    if by is not None:
        panels = _panels_by(by_comp, by, labels)
    run_json = next((p for p in (out / "run.json", out.parent / "run.json") if p.is_file()), None)
    title = f"{task}: {run_title(run_json)}"
    hm = out / "heatmap.json"
    hm.write_text(
        json.dumps({"task": task, "title": title, "panels": [_panel_json(p) for p in panels]}, indent=1)
    )
    written += [hm, *draw_heatmaps(panels, out / "heatmap", title, ncols=len(by_comp))]
    return written


def _panels_by(by_comp: dict[str, list[SampleRecord]], key: str, labels: dict[str, str]) -> list[Panel]:
    """Panels row by row: one row per value of metadata `key` (first-seen order), a panel per setting
    (titled with the setting's `labels` entry)."""
    values = list(dict.fromkeys(r.metadata[key] for recs in by_comp.values() for r in recs))
    panels = []
    for v in values:
        for comp, recs in by_comp.items():
            stats = cell_stats([r for r in recs if r.metadata[key] == v])
            cells = {k: c.value for k, c in stats.items() if c.does_not_fit < c.n}
            avg = sum(cells.values()) / len(cells) if cells else float("nan")
            panels.append(Panel(f"{v}, {labels[comp]}: average {avg:.3f}", stats, comp))
    return panels


def _panel_json(p: Panel) -> dict[str, Any]:
    cells = [{"num_frames": n, "depth": d, **c.as_dict()} for (n, d), c in sorted(p.cells.items())]
    return {"compression": p.compression, "label": p.label, "cells": cells}
