"""The NIAH heatmap figure: one depth x haystack-length panel per compression setting, side by side.

Every cell shows its score and n; the colour scale is diverging, fixed to [0, 1] and centred on chance
(marked on the colour bar); cells whose samples all failed (a prompt that does not fit, a decode error)
are hatched, with the reason in the legend; cells not run are left blank. Written as PNG and SVG.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from oryx_eval.benchmarks.niah.needles import LETTERS

CHANCE = 1.0 / len(LETTERS)
"""Chance accuracy of NIAH's 4-option questions."""
HATCHES = ("//", "xx", "\\\\", "..", "++", "--")


@dataclass
class Cell:
    """One (haystack length, depth) cell of one panel."""

    value: float
    """Mean score, failed samples counted 0 (LongVA's cell score)."""
    n: int
    failed: int = 0
    reason: str | None = None
    """First failure reason when every sample of the cell failed."""
    fed: list[int] = field(default_factory=list)
    """Frame counts the model was fed (needle frames included), from the records."""
    does_not_fit: int = 0
    """Samples whose prompt is longer than the model's context (not scored)."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "value": self.value,
            "n": self.n,
            "failed": self.failed,
            "reason": self.reason,
            "fed": self.fed,
            "does_not_fit": self.does_not_fit,
        }


@dataclass
class Panel:
    """One compression setting's grid."""

    label: str
    """e.g. ``compression 4``."""
    cells: dict[tuple[int, int], Cell]
    """``(num_frames, depth percent) -> Cell``."""
    compression: str = ""


def frame_label(n: int) -> str:
    """LongVA's column label: ``1.2K`` for counts >= 1000, else the number."""
    return f"{n / 1000:.1f}K" if n >= 1000 else str(n)


def _short(reason: str, width: int = 70) -> str:
    return reason if len(reason) <= width else reason[: width - 1] + "…"


def _fed_label(n: int, cells: dict[tuple[int, int], Cell]) -> str:
    fed = sorted({f for (m, _), c in cells.items() if m == n for f in c.fed})
    if not fed:
        return frame_label(n)
    span = str(fed[0]) if len(fed) == 1 else f"{fed[0]}-{fed[-1]}"
    return f"{frame_label(n)}\n(fed {span})"


def draw_heatmaps(
    panels: list[Panel], stem: Path, title: str, chance: float = CHANCE, ncols: int | None = None
) -> list[Path]:
    """Draw ``panels`` into ``stem.png`` and ``stem.svg``, row by row, ``ncols`` per row (default: all in
    one row); returns both paths."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    if not panels:
        raise ValueError("draw_heatmaps: no panels")
    ncols = min(ncols or len(panels), len(panels))
    nrows = -(-len(panels) // ncols)
    ns_all = [sorted({n for n, _ in p.cells}) for p in panels]
    ds_all = [sorted({d for _, d in p.cells}) for p in panels]
    width = sum(max(3.9, 0.9 * len(ns) + 1.6) for ns in ns_all[:ncols]) + 1.6
    height = nrows * max(3.6, 0.55 * max(len(ds) for ds in ds_all) + 2.6)
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    grid_axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in grid_axes.flat[len(panels) :]:
        ax.set_visible(False)
    axes = list(grid_axes.flat[: len(panels)])
    norm = TwoSlopeNorm(vmin=0.0, vcenter=chance, vmax=1.0)
    cmap = "RdBu"
    reasons: dict[str, str] = {}
    mesh = None
    for i, (ax, panel, ns, ds) in enumerate(zip(axes, panels, ns_all, ds_all, strict=True)):
        grid = np.full((len(ds), len(ns)), np.nan)  # (depths, frame counts); NaN = not run / all failed
        for (n, d), c in panel.cells.items():
            if c.failed < c.n and c.does_not_fit < c.n:
                grid[ds.index(d), ns.index(n)] = c.value
        mesh = ax.pcolormesh(grid, cmap=cmap, norm=norm, edgecolors="white", linewidth=1.0)
        ax.set_facecolor("#f2f2f2")  # cells not run
        for (n, d), c in panel.cells.items():
            x, y = ns.index(n), ds.index(d)
            if c.failed == c.n:
                reason = _short(c.reason or "failed")
                hatch = reasons.setdefault(reason, HATCHES[len(reasons) % len(HATCHES)])
                ax.add_patch(
                    Rectangle((x, y), 1, 1, facecolor="#d9d9d9", edgecolor="#555555", hatch=hatch, lw=0)
                )
                what = "does not fit" if c.does_not_fit == c.n else "failed"
                ax.text(x + 0.5, y + 0.5, f"{what}\nn={c.n}", ha="center", va="center", fontsize=7)
                continue
            rgba = mesh.cmap(norm(c.value))
            dark = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] < 0.5
            extra = f", {c.failed} failed" if c.failed else ""
            ax.text(
                x + 0.5, y + 0.5, f"{c.value:.2f}\nn={c.n}{extra}", ha="center", va="center",
                fontsize=7, color="white" if dark else "black",
            )  # fmt: skip
        ax.set_xlim(0, len(ns))
        ax.set_ylim(len(ds), 0)  # depth 0 at the top, as LongVA's seaborn heatmap
        ax.set_xticks(np.arange(len(ns)) + 0.5, [_fed_label(n, panel.cells) for n in ns], fontsize=7)
        ax.set_yticks(np.arange(len(ds)) + 0.5, [f"{d}%" for d in ds], fontsize=8)
        for x, n in enumerate(ns):
            for y, d in enumerate(ds):
                if (n, d) not in panel.cells:
                    ax.text(
                        x + 0.5, y + 0.5, "not run", ha="center", va="center", fontsize=7, color="#888888"
                    )
        ax.set_xlabel("haystack frames N\n(fed: frames given to the model, needles included)", fontsize=8)
        if i % ncols == 0:  # first panel of its row
            ax.set_ylabel("needle depth (% of haystack)", fontsize=8)
        ax.set_title(panel.label, fontsize=10)
    bar = fig.colorbar(mesh, ax=list(axes), label="score (mean over the cell's needles)", shrink=0.9)
    bar.ax.set_yscale("linear")  # evenly spaced values; the colours stay centred on chance
    bar.set_ticks([0.0, chance, 0.5, 0.75, 1.0])
    bar.set_ticklabels(["0", f"chance {chance:.2f}", "0.5", "0.75", "1"])
    bar.ax.axhline(chance, color="black", lw=1.5)
    if reasons:
        handles = [
            Patch(
                facecolor="#d9d9d9",
                edgecolor="#555555",
                hatch=h,
                label=r if r.startswith("does not fit") else f"all failed: {r}",
            )
            for r, h in reasons.items()
        ]
        fig.legend(handles=handles, loc="outside lower center", fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10)
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, svg = stem.with_suffix(".png"), stem.with_suffix(".svg")
    fig.savefig(png, dpi=150)
    with rc_context({"svg.fonttype": "none"}):  # text stays text (editable, searchable)
        fig.savefig(svg)
    return [png, svg]
