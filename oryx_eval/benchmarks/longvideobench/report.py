"""Report ``lvb_submission``: the official test submission file ``{id: raw response}`` (lmms-eval's
``longvideobench_aggregate_results_for_submission``), one per compression setting."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from oryx_eval.records import SampleRecord
from oryx_eval.registry import REPORTS


@REPORTS.register("lvb_submission")
def lvb_submission(records: list[SampleRecord], out_dir: Path, task: str) -> list[Path]:
    """Write ``longvideobench_test_for_submission[_c<ratio>].json``; failed samples are left out and listed
    in ``longvideobench_test_failed[_c<ratio>].json``."""
    by_comp: dict[str, list[SampleRecord]] = defaultdict(list)
    for r in records:
        by_comp[r.compression].append(r)
    paths = []
    for comp, recs in by_comp.items():
        sfx = "" if len(by_comp) == 1 else f"_c{comp}"
        sub = out_dir / f"longvideobench_test_for_submission{sfx}.json"
        sub.write_text(json.dumps({r.sample_id: r.output for r in recs if r.error is None}, indent=1) + "\n")
        paths.append(sub)
        failed = {r.sample_id: r.error for r in recs if r.error is not None}
        if failed:
            fp = out_dir / f"longvideobench_test_failed{sfx}.json"
            fp.write_text(json.dumps(failed, indent=1) + "\n")
            paths.append(fp)
    return paths
