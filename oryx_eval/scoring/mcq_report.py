"""Report ``mc_verdicts``: both extraction verdicts of every multiple-choice sample, side by side.

Writes ``verdicts.jsonl`` (one line per sample and compression: output, target, official and robust
letters and correctness) and ``extraction.json`` (per compression: accuracy under each rule, parse
failures, disagreement rate). The official verdict is the task's ``answer`` rule recorded in
samples.jsonl; the robust one is recomputed here from the recorded output (``scoring.mcq.robust_of``).
"""

from __future__ import annotations

import json
from pathlib import Path

from oryx_eval.records import SampleRecord
from oryx_eval.registry import REPORTS
from oryx_eval.reports import by_compression
from oryx_eval.scoring.mcq import robust_of


@REPORTS.register("mc_verdicts")
def mc_verdicts(records: list[SampleRecord], out_dir: Path, task: str) -> list[Path]:
    """Write ``verdicts.jsonl`` and ``extraction.json``; returns their paths."""
    by_comp = by_compression(records, task, "mc_verdicts", require=False)
    lines, summary = [], {}
    for comp, recs in by_comp.items():
        n_ok = off_ok = rob_ok = off_none = rob_none = differ = 0
        for r in recs:
            robust = robust_of(r) if r.error is None else None
            off_c = r.error is None and r.extracted is not None and r.extracted == r.target
            rob_c = r.error is None and robust == r.target
            lines.append(
                {
                    "sample_id": r.sample_id,
                    "compression": comp,
                    "output": r.output,
                    "target": r.target,
                    "official": r.extracted,
                    "robust": robust,
                    "official_correct": off_c,
                    "robust_correct": rob_c,
                    "error": r.error,
                }
            )
            if r.error is None:
                n_ok += 1
                off_none += r.extracted is None
                rob_none += robust is None
                differ += r.extracted != robust
            off_ok += off_c
            rob_ok += rob_c
        n = len(recs)
        summary[comp] = {
            "n": n,
            "failed": n - n_ok,
            "official": {"correct": off_ok, "unparsed": off_none, "accuracy_all": off_ok / n if n else None},
            "robust": {"correct": rob_ok, "unparsed": rob_none, "accuracy_all": rob_ok / n if n else None},
            "disagreement_rate": differ / n_ok if n_ok else None,
        }
    out = out_dir / "verdicts.jsonl"
    out.write_text("".join(json.dumps(x) + "\n" for x in lines))
    summ = out_dir / "extraction.json"
    summ.write_text(json.dumps({"task": task, "by_compression": summary}, indent=2) + "\n")
    return [out, summ]
