"""``oryx-eval import-lmms``: turn an lmms-eval run into a run directory (run.json) next to ours."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from oryx_eval.errors import OryxEvalError
from oryx_eval.lmms_results import read_lmms_eval
from oryx_eval.results import save_run


def import_lmms_cmd(
    source: Annotated[Path, typer.Argument(help="An lmms-eval *_results.json or its --output_path dir.")],
    run_id: Annotated[str, typer.Option(help="Run directory name to create under --output.")],
    output: Annotated[Path, typer.Option(help="Results root.")] = Path("results"),
) -> None:
    """Write results/<run_id>/run.json from an lmms-eval run (its scores are lmms-eval's own)."""
    try:
        rec = read_lmms_eval(source)
        run_dir = output / run_id
        if (run_dir / "run.json").exists():
            raise OryxEvalError(f"{run_dir} already holds a run; pick another --run-id")
    except OryxEvalError as e:
        print(f"error: {e}", file=sys.stderr)
        raise typer.Exit(2) from None
    run_dir.mkdir(parents=True, exist_ok=True)
    save_run(run_dir, rec)
    print(f"imported {rec.spec['file']} -> {run_dir / 'run.json'}")
