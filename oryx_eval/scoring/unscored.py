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
JUDGE_COMMAND = "oryx-eval judge {run_dir} --judge-model NAME [--judge-base-url URL]"
"""How a run whose items wait for a judge gets scored (MLVU's G-avg: ``oryx_eval.judge.run_folder``)."""


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
    """Write ``not_scored.json``: the reason, counts per compression and type, where the outputs are, and
    (no judge configured) the ``oryx-eval judge`` command that scores them."""
    by: dict[str, dict[str, int]] = {}
    for r in records:
        cell = by.setdefault(r.compression, {"recorded": 0, "failed": 0})
        cell["failed" if r.error else "recorded"] += 1
    path = out_dir / "not_scored.json"
    doc = {"task": task, "status": reason, "by_compression": by, "outputs": "samples.jsonl (field 'output')"}
    if reason == NO_JUDGE:
        # the report folder is the run folder, or <run>/<task> when the run has several tasks
        run_dir = next((d for d in (out_dir, out_dir.parent) if (d / "run.json").exists()), "RUN_DIR")
        doc["to_score"] = JUDGE_COMMAND.format(run_dir=run_dir)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return [path]
