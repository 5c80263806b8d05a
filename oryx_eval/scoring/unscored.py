"""Items recorded but not scored (generation items without a judge, test splits without ground truth).

Scorer ``not_scored`` gives no score (NaN, stored as null) and the reason; report ``not_scored`` writes
``not_scored.json`` saying so, so a reader of the results sees the items instead of a silent gap.
"""

from __future__ import annotations

import json
from pathlib import Path

from oryx_eval.records import Sample, SampleRecord, Score
from oryx_eval.registry import METRICS, REPORTS, SCORERS

NO_JUDGE = "not scored: no judge configured"


@SCORERS.register("not_scored")
def not_scored(extracted: str | None, sample: Sample, reason: str = NO_JUDGE) -> Score:
    """No score; the reason is the explanation."""
    return Score(value=float("nan"), extracted=extracted, explanation=reason)


@METRICS.register("count")
def count(records: list[SampleRecord]) -> float:
    """Number of records (generated or failed)."""
    return float(len(records))


@REPORTS.register("not_scored")
def not_scored_report(
    records: list[SampleRecord], out_dir: Path, task: str, reason: str = NO_JUDGE
) -> list[Path]:
    """Write ``not_scored.json``: the reason, counts per compression and type, and where the outputs are."""
    by: dict[str, dict[str, int]] = {}
    for r in records:
        cell = by.setdefault(r.compression, {"recorded": 0, "failed": 0})
        cell["failed" if r.error else "recorded"] += 1
    path = out_dir / "not_scored.json"
    doc = {"task": task, "status": reason, "by_compression": by, "outputs": "samples.jsonl (field 'output')"}
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return [path]
