"""The viewer's HTML: summary table, then samples rendered by a small script, one page of rows at a time.

Sample data are embedded as JSON; the script filters (status, compression, metadata values, text) and
renders only the current page (``PAGE`` rows), so a run of thousands of samples opens at once. The initial
state can be set in the URL: ``?status=wrong&compression=4&meta.depth=50&q=text&page=2&per_page=100``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

PAGE = 50

_HERE = Path(__file__).resolve().parent
CSS = (_HERE / "viewer.css").read_text()
JS = (_HERE / "viewer.js").read_text()


def summary_table(stats: list[dict[str, Any]]) -> str:
    """The run's per (task, compression) stats as an HTML table."""
    e = html.escape
    hs = (
        "task",
        "compression",
        "n",
        "failed",
        "unparsed",
        "accuracy",
        "visual tok",
        "latency p50 s",
        "p90 s",
    )
    rows = []
    for s in stats:
        tok, lat = s.get("tokens_mean", {}), s.get("latency_s", {})
        vals = [s.get("task"), s.get("compression"), s.get("n"), s.get("failed"), s.get("unparsed")]
        vals += [f"{s.get('accuracy', float('nan')):.3f}", f"{tok.get('visual', float('nan')):.1f}"]
        vals += [f"{lat.get('p50', float('nan')):.3f}", f"{lat.get('p90', float('nan')):.3f}"]
        rows.append("<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in vals) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in hs)
    return f'<table class="summary"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def render_page(
    title: str, header_lines: list[str], stats: list[dict[str, Any]], data: dict[str, Any]
) -> str:
    """The full self-contained page."""
    e = html.escape
    blob = json.dumps({**data, "page": PAGE}, default=str).replace("</", "<\\/")
    status = "".join(
        f'<option value="{v}">{t}</option>'
        for v, t in (("", "all"), ("not_correct", "not correct"), ("wrong", "wrong (answered)"),
                     ("unparsed", "unparsed"), ("failed", "failed"), ("correct", "correct"))
    )  # fmt: skip
    notes = "".join(f"<p>{e(n)}</p>" for n in header_lines)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{e(title)}</title>'
        f"<style>{CSS}</style></head>"
        f"<body><h1>{e(title)}</h1>{notes}{summary_table(stats)}"
        f'<div id="controls"><label>status <select id="status">{status}</select></label>'
        f'<label>compression <select id="compression"><option value=""></option></select></label>'
        f'<label>search <input id="q" type="search"></label><button id="prev">prev</button>'
        f'<button id="next">next</button><span id="count"></span></div><div id="samples"></div>'
        f'<script type="application/json" id="data">{blob}</script><script>{JS}</script></body></html>\n'
    )
