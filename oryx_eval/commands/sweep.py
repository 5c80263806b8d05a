"""``oryx-eval sweep``: an ablation grid of ordinary runs in one folder, then its table and plots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from oryx_eval.benchmarks.data import DEFAULT_DATA_ROOT
from oryx_eval.errors import OryxEvalError, RunFailedError
from oryx_eval.sweep import Point, SweepError, load_sweep, run_sweep, sweep_from_cli
from oryx_eval.sweep_report import write_outputs

EXIT_BAD_INPUT = 2


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _model_args(items: list[str]) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """``KEY=V`` -> fixed argument; ``KEY=V1,V2`` -> a grid axis (values parsed as YAML scalars)."""
    fixed: dict[str, Any] = {}
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, val = item.partition("=")
        if not sep or not key.strip():
            raise SweepError(f"--model-arg {item!r}: expected KEY=VALUE or KEY=V1,V2")
        vals = [yaml.safe_load(v) for v in val.split(",")]
        if len(vals) > 1:
            grid[key.strip()] = vals
        else:
            fixed[key.strip()] = vals[0]
    return fixed, grid


def _data(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise SweepError(f"--data {item!r}: expected NAME=DIR (e.g. videomme=/data/Video-MME)")
        out[name.strip()] = path.strip()
    return out


def _frames(values: list[str]) -> list[int] | None:
    out = []
    for v in _split(values):
        try:
            out.append(int(v))
        except ValueError:
            raise SweepError(f"--frames {v!r}: expected integers, e.g. --frames 16,32,64") from None
    return out or None


def sweep_cmd(
    output: Annotated[Path, typer.Option(help="Sweep folder (one run folder per point inside).")],
    config: Annotated[Path | None, typer.Option(help="Sweep YAML (instead of the grid options).")] = None,
    tasks: Annotated[list[str], typer.Option("--tasks", "-t", help="Task names (comma-separated).")] = [],  # noqa: B006
    model: Annotated[str, typer.Option("--model", "-m", help="Backend: oryx, oryx-tiny, ...")] = "oryx",
    model_path: Annotated[str | None, typer.Option(help="Local checkpoint directory (oryx).")] = None,
    compression: Annotated[list[str], typer.Option(help="Compression axis: 1,4,16,auto.")] = ["4"],  # noqa: B006
    frames: Annotated[list[str], typer.Option(help="Frame-count axis, e.g. 16,32,64.")] = [],  # noqa: B006
    model_arg: Annotated[
        list[str], typer.Option(help="KEY=VALUE (fixed) or KEY=V1,V2 (an axis), e.g. video_max_side=320,480.")
    ] = [],  # noqa: B006
    limit: Annotated[int | None, typer.Option(help="First N samples per task.")] = None,
    seed: Annotated[int | None, typer.Option(help="Generation seed (recorded).")] = None,
    bootstrap_seed: Annotated[int, typer.Option(help="Seed of the 95% CI bootstrap (recorded).")] = 0,
    data_root: Annotated[
        Path, typer.Option(help="Root of the benchmarks' data folders (one subfolder per benchmark).")
    ] = DEFAULT_DATA_ROOT,
    data: Annotated[
        list[str], typer.Option("--data", help="Override one benchmark's data folder: NAME=DIR.")
    ] = [],  # noqa: B006
    workers: Annotated[int, typer.Option(help="Media decode workers per point.")] = 2,
    max_failures: Annotated[
        str, typer.Option(help="Stop a point (exit 1) above this many failed samples: a count or a share.")
    ] = "5%",
) -> None:
    """Run a grid of settings as resumable runs in one folder; writes sweep.json, sweep.csv and plots."""
    err = Console(stderr=True, soft_wrap=True)
    try:
        if config is not None:
            if tasks or frames or model_arg or model_path or data:
                raise SweepError("--config: give the grid in the sweep file, not also on the command line")
            spec = load_sweep(config)
        else:
            if not tasks:
                raise SweepError("--tasks is required without --config (e.g. --tasks niah)")
            fixed, grid = _model_args(model_arg)
            if model_path is not None:
                fixed["model_path"] = model_path
            spec = sweep_from_cli(
                _split(tasks), model, fixed, _split(compression), _frames(frames), grid,
                limit=limit, seed=seed, bootstrap_seed=bootstrap_seed, data_root=str(data_root),
                data=_data(data), workers=workers, max_failures=max_failures,
            )  # fmt: skip
        with Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err,
        ) as progress:  # fmt: skip
            bar = progress.add_task("points", total=None)

            def on_progress(i: int, n: int, p: Point, done: int, total: int) -> None:
                desc = f"points {i}/{n} done; now {p.name}, samples"
                progress.update(bar, description=desc, completed=done, total=total)

            results = run_sweep(spec, output, on_progress)
        data = write_outputs(spec, results, output)
    except RunFailedError as e:
        err.print(f"[red]error:[/] {escape(str(e))}")
        raise typer.Exit(1) from None
    except OryxEvalError as e:
        err.print(f"[red]error:[/] {escape(str(e))}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    _print(data, output)


def _print(data: dict[str, Any], output: Path) -> None:
    console = Console(width=160)
    t = Table(title=f"sweep {output} ({len(data['points'])} points)")
    for col in (
        "point",
        "task",
        "status",
        "score [95% CI]",
        "vis tok",
        "tok",
        "p50 s",
        "vis tok/correct",
        "Δ vs ref",
        "p",
    ):
        t.add_column(col, justify="left" if col in ("point", "task", "status") else "right")
    for r in data["rows"]:
        delta = "-" if r["delta_vs_ref"] is None else f"{r['delta_vs_ref']:+.3f}"
        p = "-" if r["mcnemar_p_vs_ref"] is None else f"{r['mcnemar_p_vs_ref']:.3g}"
        per = "-" if r["visual_tokens_per_correct"] is None else f"{r['visual_tokens_per_correct']:.0f}"
        t.add_row(
            r["point"], r["task"], r["status"], f"{r['value']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]",
            f"{r['visual_tokens_mean']:.0f}", f"{r['total_tokens_mean']:.0f}",
            f"{r['latency_total_p50_s']:.3f}",
            per, delta, p,
        )  # fmt: skip
    console.print(t)
    for n in data["notes"]:
        console.print(f"[yellow]note:[/] {n}")
    console.print(f"wrote {output / 'sweep.json'}, {output / 'sweep.csv'}; plots: {', '.join(data['plots'])}")
