"""A sweep's outputs: ``sweep.json``, ``sweep.csv`` and plots (Pareto fronts, NIAH heatmaps per compression).

Rows are one per (point, task), read back from each point's run folder (``summary.summarise_run``). Each
row is also compared with the sweep's first point on the same samples (McNemar, ``stats.paired_mcnemar``).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from oryx_eval.results import write_json_atomic
from oryx_eval.run_summary import RunSummary, summarise_run
from oryx_eval.stats import paired_mcnemar
from oryx_eval.sweep import PointResult, SweepSpec


def pareto_front(xs: list[float], ys: list[float]) -> list[int]:
    """Indices of the points no other point beats (x no larger and y no smaller, one strictly), by x."""
    idx = [i for i in range(len(xs)) if not (math.isnan(xs[i]) or math.isnan(ys[i]))]
    front = [
        i
        for i in idx
        if not any(
            xs[j] <= xs[i] and ys[j] >= ys[i] and (xs[j] < xs[i] or ys[j] > ys[i]) for j in idx if j != i
        )
    ]
    return sorted(front, key=lambda i: (xs[i], -ys[i]))


def _rows(spec: SweepSpec, results: list[PointResult], sums: list[RunSummary]) -> list[dict[str, Any]]:
    ref = sums[0]
    rows = []
    for res, s in zip(results, sums, strict=True):
        for row in s.rows:
            flat = {"point": res.point.name, **res.point.axes, "status": res.status, **row.flat()}
            a = [r for r in ref.samples if r.task == row.task]
            b = [r for r in s.samples if r.task == row.task]
            m = paired_mcnemar(a, b) if s is not ref else None
            flat["ref_point"] = results[0].point.name
            flat["delta_vs_ref"] = m.delta if m else None
            flat["mcnemar_p_vs_ref"] = m.p_value if m else None
            flat["mcnemar_method"] = m.method if m else None
            flat["run_dir"] = str(res.run_dir)
            rows.append(flat)
    return rows


def _plot_pareto(rows: list[dict[str, Any]], task: str, stem: Path, title: str) -> list[Path]:
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    mine = [r for r in rows if r["task"] == task]
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    for ax, key, xlabel in (
        (axes[0], "visual_tokens_mean", "mean visual tokens per sample"),
        (axes[1], "latency_mean_s", "mean latency per sample (s, all stages)"),
    ):
        xs = [float(r[key]) for r in mine]
        ys = [float(r["value"]) for r in mine]
        lo = [y - float(r["ci_low"]) for y, r in zip(ys, mine, strict=True)]
        hi = [float(r["ci_high"]) - y for y, r in zip(ys, mine, strict=True)]
        ax.errorbar(
            xs,
            ys,
            yerr=[lo, hi],
            fmt="o",
            color="#4477aa",
            ecolor="#99aacc",
            capsize=3,
            label="point (95% CI)",
        )
        front = pareto_front(xs, ys)
        ax.plot([xs[i] for i in front], [ys[i] for i in front], "-", color="#cc3311", lw=1.5, zorder=3)
        fx, fy = [xs[i] for i in front], [ys[i] for i in front]
        ax.scatter(fx, fy, s=90, facecolors="none", edgecolors="#cc3311",
                   zorder=4, label="Pareto front")  # fmt: skip
        labels: dict[tuple[float, float], list[str]] = {}
        for x, y, r in zip(xs, ys, mine, strict=True):  # points at the same place share one label
            labels.setdefault((round(x, 6), round(y, 6)), []).append(r["point"])
        for (x, y), names in labels.items():
            ax.annotate(", ".join(names), (x, y), textcoords="offset points", xytext=(5, 5), fontsize=7)
        if xs and min(xs) > 0 and max(xs) / min(xs) > 20:
            ax.set_xscale("log")
        lo_all = [float(r["ci_low"]) for r in mine] + ys
        hi_all = [float(r["ci_high"]) for r in mine] + ys
        if all(0.0 <= v <= 1.0 for v in lo_all + hi_all):  # a rate: show the whole [0, 1] scale
            ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"{mine[0]['metric'] if mine else 'score'} (95% CI)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=10)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    fig.savefig(png, dpi=130)
    with rc_context({"svg.fonttype": "none"}):
        fig.savefig(svg)
    return [png, svg]


def _niah_heatmaps(results: list[PointResult], sums: list[RunSummary], plots: Path, model: str) -> list[Path]:
    """One figure per (NIAH task, non-compression setting) with a panel per compression, side by side."""
    from oryx_eval.benchmarks.niah.heatmap import Panel, draw_heatmaps
    from oryx_eval.benchmarks.niah.report import cell_stats

    groups: dict[tuple[str, str], list[tuple[str, list]]] = defaultdict(list)
    for res, s in zip(results, sums, strict=True):
        for task, tspec in s.record.spec.get("tasks", {}).items():
            if not any(r.get("name") == "niah_heatmap" for r in tspec.get("reports", [])):
                continue
            rest = (
                res.point.name.split("-", 1)[1] if "-" in res.point.name else "default"
            )  # name = c{comp}-...
            groups[(task, rest)].append((res.point.compression, [r for r in s.samples if r.task == task]))
    out = []
    for (task, rest), items in groups.items():
        panels = [Panel(f"compression {c}", cell_stats(recs), c) for c, recs in items if recs]
        if panels:
            title = f"{task} ({rest}): {model}"
            out += draw_heatmaps(panels, plots / f"niah_{task}_{rest}", title)
    return out


def write_outputs(spec: SweepSpec, results: list[PointResult], sweep_dir: Path) -> dict[str, Any]:
    """Summarise every point, write sweep.json / sweep.csv / plots; returns the sweep.json content."""
    import pandas as pd

    sums = [summarise_run(r.run_dir, seed=spec.bootstrap_seed, n_boot=spec.bootstrap_reps) for r in results]
    rows = _rows(spec, results, sums)
    plots = sweep_dir / "plots"
    plots.mkdir(exist_ok=True)
    model = sums[0].backend_label()  # says "(random weights)" for the tiny model
    written: list[Path] = []
    for task in dict.fromkeys(r["task"] for r in rows):
        written += _plot_pareto(rows, task, plots / f"pareto_{task}", f"{task}: {model}")
    written += _niah_heatmaps(results, sums, plots, model)
    notes = [
        f"frames={r['frames']} had no effect on {r['task']} at point {r['point']}: the model saw "
        f"{r['frames_seen_mean']:.1f} frames on average"
        for r in rows
        if r["frames"] is not None and r["n"] > r["failed"] and abs(r["frames_seen_mean"] - r["frames"]) > 0.5
    ]
    data = {
        "spec": spec.model_dump(mode="json"),
        "points": [
            {"name": r.point.name, "axes": r.point.axes, "run_dir": str(r.run_dir), "status": r.status}
            for r in results
        ],
        "ci": {
            "level": 0.95,
            "method": "percentile cluster bootstrap",
            "seed": spec.bootstrap_seed,
            "reps": spec.bootstrap_reps,
        },  # fmt: skip
        "paired_test": "McNemar vs the first point (exact binomial below 25 discordant pairs)",
        "rows": rows,
        "notes": notes,
        "plots": [str(p.relative_to(sweep_dir)) for p in written],
    }
    write_json_atomic(sweep_dir / "sweep.json", json.loads(json.dumps(data, default=str)))
    pd.DataFrame(rows).to_csv(sweep_dir / "sweep.csv", index=False)
    return data
