"""``oryx-eval resume RUN_DIR``: the run's recorded options, turned back into RunOptions."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from oryx_eval.errors import RunStoreError
from oryx_eval.identity import REDACTED
from oryx_eval.results import RUN_FILE, load_run
from oryx_eval.runner import RunOptions

_PATHS = ("output_dir", "cache_dir", "data_root")


def options_from_record(run_dir: Path, retry_failed: bool = False, workers: int | None = None) -> RunOptions:
    """RunOptions that continue ``run_dir`` exactly as it was started (the identity is checked again)."""
    run_dir = Path(run_dir)
    if not (run_dir / RUN_FILE).exists():
        raise RunStoreError(f"resume: {run_dir} has no {RUN_FILE}; give a run folder (results/<run_id>)")
    rec = load_run(run_dir)
    recorded: dict[str, Any] = dict(rec.spec.get("options") or {})
    if not recorded:
        raise RunStoreError(f"resume: {run_dir / RUN_FILE} records no options (written by an older version?)")
    secret = [k for k, v in (recorded.get("backend_args") or {}).items() if v == REDACTED]
    if secret:
        raise RunStoreError(
            f"resume: backend argument(s) {secret} were redacted in {RUN_FILE}; continue with "
            f"`oryx-eval run ... --run-id {run_dir.name} --resume` passing them again"
        )
    known = {f.name for f in dataclasses.fields(RunOptions)}
    kw = {k: v for k, v in recorded.items() if k in known}
    for k in _PATHS:
        if kw.get(k) is not None:
            kw[k] = Path(kw[k])
    kw["data_dirs"] = {k: Path(v) for k, v in (kw.get("data_dirs") or {}).items()}
    kw.update(output_dir=run_dir.parent, run_id=run_dir.name, resume=True, retry_failed=retry_failed)
    if workers is not None:
        kw["workers"] = workers
    return RunOptions(**kw)
