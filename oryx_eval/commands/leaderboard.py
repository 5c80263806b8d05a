"""``oryx-eval leaderboard RESULTS_DIR...``: one table of models x settings x tasks, exported."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from oryx_eval.errors import OryxEvalError
from oryx_eval.leaderboard import LeaderboardError, build
from oryx_eval.leaderboard_export import to_markdown, write_all

FORMATS = ("md", "csv", "tex", "html")


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def leaderboard_cmd(
    results: Annotated[list[Path], typer.Argument(help="Run folders, sweep folders or results roots.")],
    output: Annotated[Path, typer.Option(help="Folder for leaderboard.{md,csv,tex,html}.")] = Path(
        "leaderboard"
    ),
    reference: Annotated[
        Path | None, typer.Option(help="YAML of paper-reported rows (marked 'reported, not measured').")
    ] = None,
    tasks: Annotated[list[str] | None, typer.Option(help="Task columns, in order (default: all).")] = None,
    columns: Annotated[
        list[str] | None,
        typer.Option(help="Extra columns: ci,n,visual_tokens,tokens,latency (default: all)."),
    ] = None,
    models: Annotated[str | None, typer.Option(help="Keep rows whose model matches this regex.")] = None,
    settings: Annotated[str | None, typer.Option(help="Keep rows whose setting matches this regex.")] = None,
    formats: Annotated[list[str], typer.Option(help="Exports: md,csv,tex,html.")] = list(FORMATS),  # noqa: B006
) -> None:
    """Collect runs into a leaderboard (headline metric + 95% CI, tokens and latency per sample)."""
    err = Console(stderr=True, soft_wrap=True)
    try:
        fmts = _split(formats) or list(FORMATS)
        bad = [f for f in fmts if f not in FORMATS]
        if bad:
            raise LeaderboardError(f"--formats {bad}: accepted {list(FORMATS)}")
        lb = build(results, reference, _split(tasks), _split(columns), models, settings)
        paths = write_all(lb, output, fmts)
    except OryxEvalError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from None
    Console(width=200).print(to_markdown(lb), markup=False, highlight=False)
    Console().print("wrote " + ", ".join(str(p) for p in paths))
