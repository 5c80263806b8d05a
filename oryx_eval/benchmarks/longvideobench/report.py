"""Report ``lvb_submission``: the official test submission file ``{id: raw response}`` (lmms-eval's
``longvideobench_aggregate_results_for_submission``), one per compression setting."""

from __future__ import annotations

import json
from pathlib import Path

from oryx_eval.records import SampleRecord
from oryx_eval.registry import REPORTS
from oryx_eval.reports import by_compression, suffix


@REPORTS.register("lvb_submission")
def lvb_submission(records: list[SampleRecord], out_dir: Path, task: str) -> list[Path]:
    """Write ``longvideobench_test_for_submission[_c<ratio>].json``; failed samples are left out and listed
    in ``longvideobench_test_failed[_c<ratio>].json``."""
    by_comp = by_compression(records, task, "lvb_submission", require=False)
    paths = []
    for comp, recs in by_comp.items():
        sfx = suffix(comp, by_comp)
        sub = out_dir / f"longvideobench_test_for_submission{sfx}.json"
        sub.write_text(json.dumps({r.sample_id: r.output for r in recs if r.error is None}, indent=1) + "\n")
        paths.append(sub)
        failed = {r.sample_id: r.error for r in recs if r.error is not None}
        if failed:
            fp = out_dir / f"longvideobench_test_failed{sfx}.json"
            fp.write_text(json.dumps(failed, indent=1) + "\n")
            paths.append(fp)
    return paths
