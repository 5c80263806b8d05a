"""NIAH report ``niah_heatmap``: LongVA's ``all_accuracies.json``, ``avg_accuracy.txt`` and heatmap.

Reproduces the outputs of LongVA V-NIAH (benchmarks.md §6.1, ``vision_niah/eval_vision_niah.py`` and
``vision_niah/niah_output/*``): a JSON list of ``{"Num. Frame", "Frame Depth", "Score"}`` (cell score =
mean over the cell's needles), ``Average Accuracy: x`` = mean over cells, and a depth x frame-count
heatmap with LongVA's red-yellow-green colormap. Written once per compression setting in the records.
``niah_summary.json`` adds what LongVA lacks: failed samples and needles the frame sampler skipped.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from oryx_eval.benchmarks.niah.task import covers
from oryx_eval.records import SampleRecord
from oryx_eval.registry import REPORTS

CMAP_COLOURS = ("#F0496E", "#EBB839", "#9ad5b3")


def frame_label(n: int) -> str:
    """LongVA's column label: ``1.2K`` for counts >= 1000, else the number."""
    return f"{n / 1000:.1f}K" if n >= 1000 else str(n)


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


def cell_scores(records: list[SampleRecord]) -> dict[tuple[int, int], float]:
    """Mean score per ``(num_frames, depth percent)`` cell; failed samples count 0."""
    cells: dict[tuple[int, int], list[float]] = defaultdict(list)
    for rec in records:
        cells[_cell_key(rec)].append(_record_score(rec))
    return {k: float(np.mean(v)) for k, v in sorted(cells.items())}


def longva_accuracies(cells: dict[tuple[int, int], float]) -> list[dict[str, Any]]:
    """Cells as LongVA's ``all_accuracies.json`` rows, ordered by frame count then depth.

    LongVA writes ``round(100 * depth, -1)`` as a float; our depths are whole percents, equal to that
    on LongVA's 10 %-step grids; other depths are kept exact rather than merged into tens.
    """
    return [{"Num. Frame": n, "Frame Depth": float(d), "Score": s} for (n, d), s in sorted(cells.items())]


def _heatmap(cells: dict[tuple[int, int], float], path: Path, title: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.figure import Figure

    ns = sorted({n for n, _ in cells})
    ds = sorted({d for _, d in cells})
    grid = np.full((len(ds), len(ns)), np.nan)  # (depths, frame counts); NaN = cell not run
    for (n, d), s in cells.items():
        grid[ds.index(d), ns.index(n)] = s
    fig = Figure(figsize=(17.5, 8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    cmap = LinearSegmentedColormap.from_list("longva_niah", list(CMAP_COLOURS))
    mesh = ax.pcolormesh(grid, cmap=cmap, vmin=0.0, vmax=1.0, edgecolors="white", linewidth=1.5)
    ax.invert_yaxis()  # depth 0 at the top, as in LongVA's seaborn heatmap
    ax.set_xticks(np.arange(len(ns)) + 0.5, [frame_label(n) for n in ns], rotation=45)
    ax.set_yticks(np.arange(len(ds)) + 0.5, [str(d) for d in ds], rotation=0)
    ax.set_xlabel("Num. of Frames")
    ax.set_ylabel("Depth Percent")
    ax.set_title(title)
    fig.colorbar(mesh, ax=ax, label="Score")
    fig.tight_layout()
    fig.savefig(path)


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


@REPORTS.register("niah_heatmap")
def niah_report(records: list[SampleRecord], out_dir: Path, task: str, **args: Any) -> list[Path]:
    """Write LongVA-format NIAH results per compression setting.

    Files per setting: ``all_accuracies.json``, ``avg_accuracy.txt``, ``heatmap.png`` and
    ``niah_summary.json`` (errors and ``needle_missed``: samples whose recorded frame indices skip a
    needle frame). With several compression settings each name gets a ``_c{compression}`` suffix.

    Args:
        records: Sample records of the run (only those of ``task`` are used).
        out_dir: Directory to write into (created).
        task: Task name.
        **args: Report options from the task file; none are defined (any raises ``ValueError``).

    Returns:
        The written paths.
    """
    if args:
        raise ValueError(f"niah_heatmap report ({task}): unknown options {sorted(args)}")
    mine = [r for r in records if r.task == task]
    if not mine:
        raise ValueError(f"niah_heatmap report: no records of task {task!r}")
    by_comp: dict[str, list[SampleRecord]] = defaultdict(list)
    for rec in mine:
        by_comp[rec.compression].append(rec)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for comp, recs in sorted(by_comp.items()):
        sfx = "" if len(by_comp) == 1 else f"_c{comp}"
        cells = cell_scores(recs)
        summary = {"task": task, "compression": comp, **_summary(recs, cells)}
        acc = out / f"all_accuracies{sfx}.json"
        acc.write_text(json.dumps(longva_accuracies(cells), indent=4) + "\n")
        avg = out / f"avg_accuracy{sfx}.txt"
        avg.write_text(f"Average Accuracy: {summary['avg_accuracy']}\n")
        png = out / f"heatmap{sfx}.png"
        _heatmap(cells, png, f"{task} (compression {comp}): average {summary['avg_accuracy']:.3f}")
        summ = out / f"niah_summary{sfx}.json"
        summ.write_text(json.dumps(summary, indent=2) + "\n")
        written += [acc, avg, png, summ]
    return written
