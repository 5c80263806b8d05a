"""OCRBench report ``ocrbench_table``: the official score table, per rule, plus a JSON with every count.

``ocrbench_results.txt`` follows the layout printed by ``MultimodalOCR/OCRBench/example.py`` (Text
Recognition (Total 300), the six recognition types, the four other types, Final Score (Total 1000)) for
the ``official`` rule, then the same table for ``robust`` and the number of items on which they disagree.
On a subset each line says how many items of the type were run (``Total 50``, ``12 of 50 run``), and the
file says the final score is not comparable to a /1000 score. ``ocrbench_scores.json`` has the same numbers
per rule, per type and per source dataset, the disagreeing sample ids and the failed ones. One pair of
files per compression setting (``_c{ratio}`` suffix when the run has several).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from oryx_eval.benchmarks.ocrbench.rules import FULL_SIZE, QUESTION_TYPES, RECOGNITION_TYPES, RULES
from oryx_eval.benchmarks.ocrbench.scoring import record_verdict
from oryx_eval.records import SampleRecord
from oryx_eval.registry import REPORTS
from oryx_eval.reports import by_compression, suffix

SHOWN_RULES = ("official", "robust")


def rule_scores(records: list[SampleRecord], rule: str) -> dict[str, Any]:
    """Correct counts per type / source dataset, Text Recognition and the final score under ``rule``."""
    per_type: dict[str, int] = {t: 0 for t in QUESTION_TYPES}
    per_dataset: dict[str, int] = defaultdict(int)
    for r in records:
        v = record_verdict(r, rule)  # type: ignore[arg-type]
        per_type[str(r.metadata["question_type"])] += v
        per_dataset[str(r.metadata["dataset"])] += v
    recognition = sum(per_type[t] for t in RECOGNITION_TYPES)
    return {
        "final": sum(per_type.values()),
        "text_recognition": recognition,
        "per_type": per_type,
        "per_dataset": dict(sorted(per_dataset.items())),
    }


def _total(run: int, full: int) -> str:
    return f"Total {full}" if run == full else f"{run} of {full} run"


def official_table(scores: dict[str, Any], counts: dict[str, int], title: str) -> str:
    """The official text table for one rule's ``rule_scores`` and the item count per type."""
    pt = scores["per_type"]
    rec_run = sum(counts[t] for t in RECOGNITION_TYPES)
    lines = [f"######################### {title} #############################"]
    lines.append(f"Text Recognition({_total(rec_run, 300)}): {scores['text_recognition']}")
    lines.append("---------------- Details of Recognition Score ------------------")
    lines += [f"{t}({_total(counts[t], QUESTION_TYPES[t])}): {pt[t]}" for t in RECOGNITION_TYPES]
    for t in list(QUESTION_TYPES)[6:]:
        lines.append("----------------------------------------------------------------")
        lines.append(f"{t}({_total(counts[t], QUESTION_TYPES[t])}): {pt[t]}")
    lines.append("--------------------- Final Score ------------------------------")
    n = sum(counts.values())
    lines.append(f"Final Score({_total(n, FULL_SIZE)}): {scores['final']}")
    return "\n".join(lines)


def summarise(records: list[SampleRecord]) -> dict[str, Any]:
    """Everything the report writes for one compression setting."""
    counts = {t: 0 for t in QUESTION_TYPES}
    for r in records:
        counts[str(r.metadata["question_type"])] += 1
    by_rule = {rule: rule_scores(records, rule) for rule in RULES}
    differ = [r.sample_id for r in records if record_verdict(r, "official") != record_verdict(r, "robust")]
    complete = all(counts[t] == QUESTION_TYPES[t] for t in QUESTION_TYPES)
    return {
        "n": len(records),
        "complete": complete,
        "items_per_type": counts,
        "failed": [r.sample_id for r in records if r.error is not None],
        "empty_outputs": sum(1 for r in records if r.error is None and not r.output.strip()),
        "rules": by_rule,
        "official_vs_robust_disagreements": len(differ),
        "disagreeing_ids": differ,
    }


@REPORTS.register("ocrbench_table")
def ocrbench_report(records: list[SampleRecord], out_dir: Path, task: str, **args: Any) -> list[Path]:
    """Write ``ocrbench_results.txt`` and ``ocrbench_scores.json`` per compression setting.

    Args:
        records: Sample records of the run (only those of ``task`` are used).
        out_dir: Directory to write into (created).
        task: Task name.
        **args: None are defined (any raises ``ValueError``).

    Returns:
        The written paths.
    """
    if args:
        raise ValueError(f"ocrbench_table report ({task}): unknown options {sorted(args)}")
    by_comp = by_compression(records, task, "ocrbench_table")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for comp, recs in by_comp.items():
        sfx = suffix(comp, by_comp)
        s = summarise(recs)
        counts = s["items_per_type"]
        parts = [official_table(s["rules"][r], counts, f"OCRBench ({r})") for r in SHOWN_RULES]
        differ = s["official_vs_robust_disagreements"]
        notes = [f"official vs robust (full-width folding, lmms-eval #1415): {differ} items differ"]
        notes.append(f"lmms_legacy (HME lowercased, Oryx fork): {s['rules']['lmms_legacy']['final']}")
        notes.append(f"failed (counted wrong): {len(s['failed'])}; empty outputs: {s['empty_outputs']}")
        if not s["complete"]:
            notes.append(f"SUBSET: {s['n']} of {FULL_SIZE} items run; the final score is not a /1000 score")
        txt = out / f"ocrbench_results{sfx}.txt"
        txt.write_text("\n\n".join(parts) + "\n\n" + "\n".join(notes) + "\n")
        js = out / f"ocrbench_scores{sfx}.json"
        js.write_text(json.dumps({"task": task, "compression": comp, **s}, indent=2) + "\n")
        written += [txt, js]
    return written
