"""Metrics: list[SampleRecord] -> float. Grouping (breakdowns, compression) is done by the caller."""

from __future__ import annotations

from typing import Literal

from oryx_eval.records import SampleRecord
from oryx_eval.registry import METRICS


@METRICS.register("accuracy")
def accuracy(records: list[SampleRecord], failed: Literal["wrong", "exclude"] = "wrong") -> float:
    """Mean score. ``failed``: a sample that errored counts as wrong (default) or leaves the denominator.

    A sample whose prompt does not fit the model's context (``error_kind == "overflow"``) is never in the
    denominator: it is reported as "does not fit" (``MetricValue.does_not_fit``), not as a wrong answer.
    """
    kept = [
        r for r in records if r.error_kind != "overflow" and not (failed == "exclude" and r.error is not None)
    ]
    if not kept:
        return float("nan")
    return sum((r.score or 0.0) for r in kept) / len(kept)


@METRICS.register("parse_failure_rate")
def parse_failure_rate(records: list[SampleRecord]) -> float:
    """Share of generated (non-failed) samples whose answer could not be extracted."""
    ok = [r for r in records if r.error is None]
    if not ok:
        return float("nan")
    return sum(r.extracted is None for r in ok) / len(ok)


@METRICS.register("failure_rate")
def failure_rate(records: list[SampleRecord]) -> float:
    """Share of samples that failed (missing/corrupt media, generation error)."""
    return sum(r.error is not None for r in records) / len(records) if records else float("nan")
