"""Shared pieces of benchmark reports: a task's records per compression setting, and file-name suffixes."""

from __future__ import annotations

from collections import defaultdict

from oryx_eval.records import SampleRecord


def _comp_key(c: str) -> tuple[int, str]:
    return (int(c), c) if c.isdigit() else (10**9, c)


def by_compression(
    records: list[SampleRecord], task: str, report: str, require: bool = True
) -> dict[str, list[SampleRecord]]:
    """``task``'s records per compression setting, in natural order (1, 4, 16, then auto).

    Raises ValueError naming ``report`` when ``require`` and the task has no records.
    """
    out: dict[str, list[SampleRecord]] = defaultdict(list)
    for r in records:
        if r.task == task:
            out[r.compression].append(r)
    if require and not out:
        raise ValueError(f"{report} report: no records of task {task!r}")
    return dict(sorted(out.items(), key=lambda kv: _comp_key(kv[0])))


def suffix(comp: str, groups: dict[str, list[SampleRecord]]) -> str:
    """``_c{comp}`` when a report covers several compression settings, else nothing (LongVA's names)."""
    return "" if len(groups) == 1 else f"_c{comp}"
