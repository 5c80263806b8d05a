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


def coverage_line(rec: RunRecord) -> str | None:
    """``82 of 100 samples done`` for a run that did not finish (None when complete)."""
    p = rec.progress
    if rec.status == "success" and p.recorded >= p.planned:
        return None
    if not p.planned:
        return f"run {rec.status}: no samples recorded"
    return f"run {rec.status}: {p.recorded} of {p.planned} samples done"
