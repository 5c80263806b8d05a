"""What a run's summary says besides its numbers: how much is done, why samples failed, how to continue."""

from __future__ import annotations

import re
import shlex
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from oryx_eval.records import SampleRecord
from oryx_eval.results import RunRecord

_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\w.~-]*/)+[\w.-]+")


@dataclass
class FailureGroup:
    """Failed records sharing one reason (paths folded) at one compression setting."""

    reason: str
    kind: str
    compression: str
    count: int = 0
    sample_ids: list[str] = field(default_factory=list)


def failure_groups(records: list[SampleRecord], first: int = 3) -> list[FailureGroup]:
    """Failures grouped by reason, largest group first; each keeps its first ``first`` sample ids."""
    groups: dict[tuple[str, str, str], FailureGroup] = {}
    for r in records:
        if r.error is None:
            continue
        reason = _PATH.sub("<file>", r.error.strip().splitlines()[0])[:160]
        kind = r.error_kind or "sample"
        key = (reason, kind, r.compression)
        g = groups.setdefault(key, FailureGroup(reason=reason, kind=kind, compression=r.compression))
        g.count += 1
        if len(g.sample_ids) < first:
            g.sample_ids.append(r.sample_id)
    return sorted(groups.values(), key=lambda g: (-g.count, g.reason))


def failure_lines(records: list[SampleRecord]) -> list[str]:
    """One line per failure group, e.g. ``20 failed (does not fit) at 1x: prompt longer ... (ids: a, b)``."""
    out = []
    by_total: dict[str, int] = defaultdict(int)
    for g in failure_groups(records):
        by_total[g.kind] += g.count
        label = "does not fit" if g.kind == "overflow" else g.kind
        more = ", ..." if g.count > len(g.sample_ids) else ""
        ratio = g.compression if g.compression == "auto" else f"{g.compression}x"
        out.append(
            f"{g.count} failed ({label}) at {ratio}: {g.reason} (ids: {', '.join(g.sample_ids)}{more})"
        )
    return out


def resume_command(run_dir: Path, retry_failed: bool = False) -> str:
    """The exact command that continues ``run_dir``."""
    cmd = f"oryx-eval resume {shlex.quote(str(run_dir))}"
    return cmd + (" --retry-failed" if retry_failed else "")


def coverage_line(rec: RunRecord, recorded: int | None = None) -> str | None:
    """``82 of 100 samples done`` for a run that did not finish (None when complete).

    ``recorded``: records found on disk (a killed run's run.json predates its last records).
    """
    p = rec.progress
    done = p.recorded if recorded is None else recorded
    if rec.status == "success" and done >= p.planned:
        return None
    if not p.planned:
        return f"run {rec.status}: no samples planned"
    return f"run {rec.status}: {done} of {p.planned} samples done"


@dataclass
class Pivot:
    """One task's headline metric (its first ``metrics`` entry, as in the run summary) by the groups of one
    breakdown key (rows) and compression (columns): how the compression settings trade it per group."""

    task: str
    metric: str
    key: str
    compressions: list[str]
    rows: list[tuple[str, list[tuple[float | None, int]]]]  # (group value, [(value, n) per compression])


def compression_pivots(rec: RunRecord) -> list[Pivot]:
    """One `Pivot` per task that ran at two or more compressions, by the task's first single-key
    breakdown (e.g. ``[needle]``); tasks without such a breakdown or metric are skipped."""
    out = []
    tasks = rec.spec.get("tasks")
    if not isinstance(tasks, dict):  # e.g. an imported lmms-eval run: task names only, no breakdowns
        return out
    for task, spec in tasks.items():
        comps = [s["compression"] for s in rec.stats if s["task"] == task]
        keys = [b[0] for b in spec.get("breakdowns") or [] if len(b) == 1]
        if len(comps) < 2 or not keys or not spec.get("metrics"):
            continue
        metric, key = spec["metrics"][0]["name"], keys[0]
        cells: dict[str, dict[str, tuple[float | None, int]]] = defaultdict(dict)
        for m in rec.metrics:
            if m.task == task and m.name == metric and m.group is not None and list(m.group) == [key]:
                cells[str(m.group[key])][m.compression] = (m.value, m.n)
        if cells:
            rows = [(g, [cells[g].get(c, (None, 0)) for c in comps]) for g in cells]
            out.append(Pivot(task, metric, key, comps, rows))
    return out
