"""Leaderboard exports: Markdown, CSV, LaTeX (booktabs) and a self-contained sortable HTML page.

Scores are shown in percent with one decimal (``62.3 [60.1, 64.5]``); CSV keeps the raw fractions. A task
missing from a row is an empty cell. The HTML page has no external resource: CSS, the sorting script and
the plots (PNG data URIs) are inline.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

from oryx_eval.leaderboard import REPORTED, Leaderboard, Row

EXTRA_HEADERS = {"visual_tokens": "visual tok/sample", "tokens": "tok/sample", "latency": "latency s/sample"}


def _pct(v: float | None) -> str:
    return "" if v is None or v != v else f"{100 * v:.1f}"


def _num(v: float | None, nd: int) -> str:
    return "" if v is None or v != v else f"{v:.{nd}f}"


def _cell_text(row: Row, task: str, ci: bool) -> str:
    c = row.cells.get(task)
    if c is None:
        return ""
    if ci and c.low is not None and c.high is not None:
        return f"{_pct(c.value)} [{_pct(c.low)}, {_pct(c.high)}]"
    return _pct(c.value)


def headers(lb: Leaderboard) -> list[str]:
    """Display headers: model, setting, one per task, then the selected extra columns."""
    out = ["model", "setting"] + list(lb.tasks)
    if "n" in lb.columns:
        out += [f"{t} n" for t in lb.tasks]
    return out + [EXTRA_HEADERS[c] for c in ("visual_tokens", "tokens", "latency") if c in lb.columns]


def display_rows(lb: Leaderboard) -> list[list[str]]:
    """Rows as display strings, in header order."""
    out = []
    for r in lb.rows:
        cells = [r.label, r.setting] + [_cell_text(r, t, "ci" in lb.columns) for t in lb.tasks]
        if "n" in lb.columns:
            cells += ["" if t not in r.cells or r.cells[t].n is None else str(r.cells[t].n) for t in lb.tasks]
        for c, v, nd in (
            ("visual_tokens", r.visual_tokens, 0),
            ("tokens", r.tokens, 0),
            ("latency", r.latency_s, 3),
        ):
            if c in lb.columns:
                cells.append(_num(v, nd))
        out.append(cells)
    return out


def to_markdown(lb: Leaderboard) -> str:
    """A pipe table (GitHub Markdown) with a note on units and reported rows."""
    hs = headers(lb)
    lines = ["| " + " | ".join(hs) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(hs) - 2)) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in display_rows(lb)]
    note = "Scores in percent with 95% cluster-bootstrap CI; empty cell: task not run."
    if any(r.reported for r in lb.rows):
        note += f" Rows marked ({REPORTED}) are copied from their source."
    return "\n".join(lines) + "\n\n" + note + "\n"


def to_frame(lb: Leaderboard) -> Any:
    """A pandas DataFrame with raw fractions: ``<task>``, ``<task>_ci_low/_ci_high/_n`` per task."""
    import pandas as pd

    recs = []
    for r in lb.rows:
        d: dict[str, Any] = {
            "model": r.model,
            "setting": r.setting,
            "reported": r.reported,
            "source": r.source,
        }
        for t in lb.tasks:
            c = r.cells.get(t)
            d[t] = c.value if c else None
            d[f"{t}_ci_low"] = c.low if c else None
            d[f"{t}_ci_high"] = c.high if c else None
            d[f"{t}_n"] = c.n if c else None
        d["visual_tokens_per_sample"] = r.visual_tokens
        d["tokens_per_sample"] = r.tokens
        d["latency_s_per_sample"] = r.latency_s
        recs.append(d)
    return pd.DataFrame(recs)


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}  # fmt: skip


def tex_escape(s: str) -> str:
    """Escape LaTeX special characters."""
    return "".join(_TEX.get(ch, ch) for ch in s)


def to_latex(lb: Leaderboard) -> str:
    """A booktabs ``tabular`` (needs ``\\usepackage{booktabs}``); reported rows in italics with a dagger."""
    hs = headers(lb)
    spec = "ll" + "r" * (len(hs) - 2)
    out = [
        r"\begin{tabular}{" + spec + "}",
        r"\toprule",
        " & ".join(tex_escape(h) for h in hs) + r" \\",
        r"\midrule",
    ]
    for r, cells in zip(lb.rows, display_rows(lb), strict=True):
        if r.reported:
            cells = [tex_escape(r.model) + r"$^\dagger$"] + [tex_escape(c) for c in cells[1:]]
            out.append(" & ".join(r"\textit{" + c + "}" if c else "" for c in cells) + r" \\")
        else:
            out.append(" & ".join(tex_escape(c) for c in cells) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}"]
    if any(r.reported for r in lb.rows):
        out.append(r"% $^\dagger$ " + REPORTED + ".")
    return "\n".join(out) + "\n"


def task_plot_png(lb: Leaderboard, task: str) -> bytes:
    """Score (95% CI) vs visual tokens per sample of one task, as PNG bytes: one coloured line per model
    through its settings (sorted by tokens), each point labelled with what differs between them."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    by_model: dict[str, list[Row]] = {}
    for r in lb.rows:
        c = r.cells.get(task)
        if c is None:
            continue
        if r.reported or r.visual_tokens is None:
            ax.axhline(100 * c.value, ls="--", lw=1, color="#888888", label=f"{r.model} ({REPORTED})")
            continue
        by_model.setdefault(r.model, []).append(r)
    for model, rows in by_model.items():
        rows = sorted(rows, key=lambda r: r.visual_tokens or 0.0)
        common = set.intersection(*(set(r.setting.split()) for r in rows))
        xs = [r.visual_tokens for r in rows]
        ys = [100 * r.cells[task].value for r in rows]
        lo = [100 * (r.cells[task].value - (r.cells[task].low or r.cells[task].value)) for r in rows]
        hi = [100 * ((r.cells[task].high or r.cells[task].value) - r.cells[task].value) for r in rows]
        line = ax.errorbar(xs, ys, yerr=[lo, hi], fmt="o-", capsize=3, lw=1, label=model)
        for r, x, y in zip(rows, xs, ys, strict=True):
            text = " ".join(w for w in r.setting.split() if w not in common)
            if text:
                ax.annotate(text, (x, y), fontsize=6, xytext=(3, 5), textcoords="offset points",
                            color=line.lines[0].get_color())  # fmt: skip
    ax.set_ylim(-2, 102)
    ax.set_xlabel("visual tokens per sample (mean)")
    ax.set_ylabel(f"{task} (%, 95% CI)")
    ax.grid(alpha=0.3)
    if by_model or lb.rows:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


_JS = """
function sortBy(th) {
  const t = th.closest('table'), i = [...th.parentNode.children].indexOf(th);
  const asc = th.dataset.dir !== 'asc';
  [...th.parentNode.children].forEach(h => delete h.dataset.dir);
  th.dataset.dir = asc ? 'asc' : 'desc';
  const key = r => {
    const v = r.cells[i].dataset.sort;
    return v === undefined || v === '' ? null : (isNaN(+v) ? v : +v);
  };
  const rows = [...t.tBodies[0].rows];
  rows.sort((a, b) => {  // rows without a value sort last in both directions
    const x = key(a), y = key(b);
    if (x === null || y === null) return (x === null) - (y === null);
    return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
  });
  rows.forEach(r => t.tBodies[0].appendChild(r));
}
document.querySelectorAll('th').forEach(th => th.addEventListener('click', () => sortBy(th)));
const q = new URLSearchParams(location.search);  // ?sort=HEADER&dir=desc presorts
if (q.has('sort')) {
  const th = [...document.querySelectorAll('th')].find(h => h.textContent === q.get('sort'));
  if (th) { sortBy(th); if (q.get('dir') === 'desc') sortBy(th); }
}
"""

_CSS = """body{font-family:system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:13px}
th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:right}th{cursor:pointer;background:#f4f4f4}
th[data-dir=asc]::after{content:' \\25B2'}th[data-dir=desc]::after{content:' \\25BC'}
td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}tr.reported{font-style:italic;color:#555}
img{max-width:48%;margin:6px}"""


def _sort_values(lb: Leaderboard, r: Row) -> list[str]:
    vals: list[Any] = [r.label, r.setting] + [r.cells[t].value if t in r.cells else "" for t in lb.tasks]
    if "n" in lb.columns:
        vals += [r.cells[t].n if t in r.cells and r.cells[t].n is not None else "" for t in lb.tasks]
    for c, v in (("visual_tokens", r.visual_tokens), ("tokens", r.tokens), ("latency", r.latency_s)):
        if c in lb.columns:
            vals.append("" if v is None else v)
    return [str(v) for v in vals]


def to_html(lb: Leaderboard, title: str = "oryx-eval leaderboard", plots: bool = True) -> str:
    """A self-contained page: sortable table (click a header; ``?sort=HEADER&dir=desc``), plots inline."""
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in headers(lb))
    body = []
    for r, cells in zip(lb.rows, display_rows(lb), strict=True):
        tds = "".join(
            f'<td data-sort="{e(s)}">{e(c)}</td>' for c, s in zip(cells, _sort_values(lb, r), strict=True)
        )
        cls = ' class="reported"' if r.reported else ""
        body.append(f'<tr{cls} title="{e(r.source)}">{tds}</tr>')
    imgs = ""
    if plots:
        for t in lb.tasks:
            data = base64.b64encode(task_plot_png(lb, t)).decode()
            imgs += f'<img alt="{e(t)} score vs visual tokens" src="data:image/png;base64,{data}">'
    note = (
        "Scores in percent with 95% cluster-bootstrap CI. Click a header to sort. Empty cell: task not run."
    )
    if any(r.reported for r in lb.rows):
        note += f" Italic rows: {REPORTED}."
    meta = e(json.dumps({"tasks": lb.tasks, "columns": lb.columns}))
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{e(title)}</title>'
        f"<style>{_CSS}</style></head>"
        f'<body data-leaderboard="{meta}"><h1>{e(title)}</h1><p>{e(note)}</p>'
        f'<table id="leaderboard"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
        f"<div>{imgs}</div><script>{_JS}</script></body></html>\n"
    )


def write_all(lb: Leaderboard, out_dir: Path, formats: list[str]) -> list[Path]:
    """Write ``leaderboard.{md,csv,tex,html}`` for the given formats; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in formats:
        p = out_dir / f"leaderboard.{f}"
        if f == "md":
            p.write_text(to_markdown(lb))
        elif f == "csv":
            to_frame(lb).to_csv(p, index=False)
        elif f == "tex":
            p.write_text(to_latex(lb))
        elif f == "html":
            p.write_text(to_html(lb))
        else:
            raise ValueError(f"unknown format {f!r}")
        paths.append(p)
    return paths
