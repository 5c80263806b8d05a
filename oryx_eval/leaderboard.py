"""Leaderboard: models x settings x tasks from run folders, plus paper-reported reference rows.

Each measured cell is a task's headline metric (its first ``metrics`` entry) with its 95% cluster-bootstrap
CI, read back from the run folders by ``summary.summarise_run``; rows also carry the visual tokens, total
tokens and latency per sample (means over the row's samples). Reference rows come from a YAML of reported
numbers and are marked "reported, not measured". A task missing from a row is an empty cell. Exports:
``leaderboard_export`` (Markdown, CSV, LaTeX booktabs, self-contained HTML).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from oryx_eval.errors import OryxEvalError
from oryx_eval.run_summary import RunSummary, find_runs, summarise_run
from oryx_eval.yaml_files import load_yaml, yaml_problem

SETTING_SKIP = ("model_path", "device", "cache_dir", "attn_backend")
"""Backend arguments that do not change a number (where/how it ran): left out of the setting label."""
EXTRA_COLUMNS = ("ci", "n", "visual_tokens", "tokens", "latency")
REPORTED = "reported, not measured"


class LeaderboardError(OryxEvalError):
    """Bad leaderboard input (a folder without runs, a bad reference file, an unknown column)."""


class ReferenceRow(BaseModel):
    """Numbers a paper reports for one model and setting."""

    model_config = ConfigDict(extra="forbid")
    model: str
    setting: str = "reported"
    source: str
    """Where the numbers come from, e.g. ``arXiv 2409.12961 Table 2``."""
    unit: Literal["percent", "fraction"] = "percent"
    scores: dict[str, float] = Field(min_length=1)
    """Task name -> reported headline metric."""


class ReferenceFile(BaseModel):
    """A YAML of reported rows: ``reported: [{model, setting, source, unit, scores}]``."""

    model_config = ConfigDict(extra="forbid")
    reported: list[ReferenceRow]


def load_reference(path: Path) -> list[ReferenceRow]:
    """Read a reference YAML; raises LeaderboardError naming the file and field."""
    try:
        raw = load_yaml(Path(path).read_text())
        return ReferenceFile.model_validate(raw).reported
    except FileNotFoundError:
        raise LeaderboardError(f"{path}: no such reference file") from None
    except yaml.YAMLError as e:
        raise LeaderboardError(f"{path}: invalid YAML: {yaml_problem(e)}") from None
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise LeaderboardError(f"{path}: field '{loc}': {err['msg']}") from None


@dataclass
class Cell:
    """One task's headline value in one row."""

    metric: str
    value: float
    low: float | None = None
    high: float | None = None
    n: int | None = None


@dataclass
class Row:
    """One model x setting."""

    model: str
    setting: str
    cells: dict[str, Cell] = field(default_factory=dict)
    visual_tokens: float | None = None
    tokens: float | None = None
    latency_s: float | None = None
    reported: bool = False
    source: str = ""
    """Run folder(s) or the reference's source."""

    @property
    def label(self) -> str:
        """``model`` plus the reported marker."""
        return f"{self.model} ({REPORTED})" if self.reported else self.model


def setting_label(opts: dict[str, Any], compression: str) -> str:
    """``c4 f32 video_max_side=320``: what changes a number, from the recorded run options."""
    parts = [f"c{compression}"]
    if opts.get("frames") is not None:
        parts.append(f"f{opts['frames']}")
    if opts.get("limit") is not None:
        parts.append(f"limit={opts['limit']}")
    args = opts.get("backend_args") or {}
    parts += [f"{k}={v}" for k, v in sorted(args.items()) if k not in SETTING_SKIP]
    return " ".join(parts)


def _weighted(pairs: list[tuple[float, int]]) -> float | None:
    pairs = [(v, n) for v, n in pairs if n and v == v]  # drop NaN
    tot = sum(n for _, n in pairs)
    return sum(v * n for v, n in pairs) / tot if tot else None


def measured_rows(summaries: list[RunSummary]) -> list[Row]:
    """One row per (model, setting); runs with the same model and setting are merged by task."""
    rows: dict[tuple[str, str], Row] = {}
    acc: dict[tuple[str, str], dict[str, list[tuple[float, int]]]] = {}
    for s in summaries:
        for tr in s.rows:
            key = (s.backend_label(), setting_label(s.options, tr.compression))
            row = rows.setdefault(key, Row(model=key[0], setting=key[1]))
            if tr.task in row.cells:
                raise LeaderboardError(
                    f"task {tr.task!r} of {key[0]} [{key[1]}] is in two runs ({row.source} and {s.run_dir}); "
                    "pass one of them"
                )
            row.cells[tr.task] = Cell(tr.metric, tr.ci.value, tr.ci.low, tr.ci.high, tr.n)
            row.source = ", ".join(filter(None, [row.source, str(s.run_dir)]))
            ok = tr.n - tr.failed
            a = acc.setdefault(key, {"v": [], "t": [], "l": []})
            a["v"].append((tr.visual_tokens_mean, ok))
            a["t"].append((tr.total_tokens_mean, ok))
            a["l"].append((tr.latency_mean_s, ok))
    for key, row in rows.items():
        row.visual_tokens = _weighted(acc[key]["v"])
        row.tokens = _weighted(acc[key]["t"])
        row.latency_s = _weighted(acc[key]["l"])
    return list(rows.values())


def reference_rows(refs: list[ReferenceRow]) -> list[Row]:
    """Reported rows (values converted to fractions)."""
    out = []
    for r in refs:
        scale = 0.01 if r.unit == "percent" else 1.0
        cells = {t: Cell("reported", v * scale) for t, v in r.scores.items()}
        out.append(Row(model=r.model, setting=r.setting, cells=cells, reported=True, source=r.source))
    return out


@dataclass
class Leaderboard:
    """Rows plus the selected task columns and extra columns."""

    rows: list[Row]
    tasks: list[str]
    columns: list[str]


def build(
    paths: list[Path],
    reference: Path | None = None,
    tasks: list[str] | None = None,
    columns: list[str] | None = None,
    models: str | None = None,
    settings: str | None = None,
    seed: int = 0,
) -> Leaderboard:
    """Read every run under ``paths`` and build the table (selection by task list and row regexes)."""
    for p in paths:
        if not p.exists():
            raise LeaderboardError(f"{p}: no such results folder")
    run_dirs = find_runs(paths)
    if not run_dirs:
        raise LeaderboardError(f"no run folders (with run.json) under {', '.join(map(str, paths))}")
    rows = measured_rows([summarise_run(d, seed=seed) for d in run_dirs])
    if reference is not None:
        rows += reference_rows(load_reference(reference))
    cols = list(EXTRA_COLUMNS) if columns is None else columns
    bad = [c for c in cols if c not in EXTRA_COLUMNS]
    if bad:
        raise LeaderboardError(f"--columns {bad}: accepted {list(EXTRA_COLUMNS)}")
    for name, rx in (("--models", models), ("--settings", settings)):
        if rx is not None:
            try:
                pat = re.compile(rx)
            except re.error as e:
                raise LeaderboardError(f"{name} {rx!r}: invalid regular expression: {e}") from None
            rows = [r for r in rows if pat.search(r.model if name == "--models" else r.setting)]
    all_tasks = list(dict.fromkeys(t for r in rows for t in r.cells))
    if tasks is not None:
        unknown = [t for t in tasks if t not in all_tasks]
        if unknown:
            raise LeaderboardError(f"--tasks {unknown}: not in any row; tasks present: {all_tasks}")
    return Leaderboard(rows=rows, tasks=tasks if tasks is not None else all_tasks, columns=cols)
