"""`oryx-eval` command line: a thin typer app over oryx_eval's typed functions."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from oryx_eval.benchmarks.data import DEFAULT_DATA_ROOT
from oryx_eval.commands.train_tiny import train_tiny_cmd
from oryx_eval.errors import OryxEvalError, RunFailedError
from oryx_eval.results import RunRecord, load_run
from oryx_eval.runner import DEFAULT_CACHE, RunOptions, run
from oryx_eval.schema import TASKS_DIR, list_tasks, load_task, validate_all

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Evaluate Oryx (and other backends) on video/image tasks.",
)
# piped output (CI logs, files) gets a width that fits the tables instead of rich's 80-column default
console = Console() if sys.stdout.isatty() else Console(width=132)
err = Console(stderr=True)

EXIT_FAILED_RUN = 1
EXIT_BAD_INPUT = 2


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _model_args(model_path: str | None, dtype: str | None, device: str | None, attn: str | None,
                extra: list[str]) -> dict[str, Any]:  # fmt: skip
    args: dict[str, Any] = {}
    for key, val in (
        ("model_path", model_path),
        ("dtype", dtype),
        ("device", device),
        ("attn_backend", attn),
    ):
        if val is not None:
            args[key] = val
    for item in extra:
        if "=" not in item:
            raise OryxEvalError(f"--model-arg {item!r}: expected KEY=VALUE")
        k, v = item.split("=", 1)
        args[k.strip()] = yaml.safe_load(v)
    return args


def _data_dirs(items: list[str]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise OryxEvalError(f"--data {item!r}: expected NAME=DIR (e.g. videomme=/data/Video-MME)")
        out[name.strip()] = Path(path.strip())
    return out


def _fmt(x: float, nd: int = 3) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def render_summary(rec: RunRecord, run_dir: Path) -> None:
    """Accuracy, mean tokens per sample and latency per (task, compression)."""
    t = Table(title=f"run {run_dir.name} ({rec.status}): means per sample, latency in seconds")
    # visual = embeddings spliced into the LLM; tokens = visual + text + output (what the LLM processed)
    for col in ("task", "comp", "n", "failed", "unparsed", "accuracy", "visual", "tokens", "p50 s", "p90 s"):
        t.add_column(col, justify="left" if col == "task" else "right")
    for s in rec.stats:
        tok, lat = s["tokens_mean"], s["latency_s"]
        total = tok["visual"] + tok["text"] + tok["output"]
        row = [s["task"], s["compression"], str(s["n"]), str(s["failed"]), str(s.get("unparsed", "-"))]
        row += [_fmt(s["accuracy"]), _fmt(tok["visual"], 1), _fmt(total, 1)]
        row += [_fmt(lat["p50"]), _fmt(lat["p90"])]
        t.add_row(*row)
    console.print(t)
    for note in rec.notes:
        console.print(f"[yellow]note:[/] {note}")
    for p in rec.reports:
        console.print(f"report: {run_dir / p}")
    console.print(f"records: {run_dir / 'run.json'}, {run_dir / 'samples.jsonl'}")


@app.command("run")
def run_cmd(
    tasks: Annotated[
        list[str], typer.Option("--tasks", "-t", help="Task names (comma-separated or repeated).")
    ],
    model: Annotated[str, typer.Option("--model", "-m", help="Backend: oryx, oryx-tiny, ...")] = "oryx",
    model_path: Annotated[str | None, typer.Option(help="Local checkpoint directory (oryx).")] = None,
    compression: Annotated[list[str], typer.Option(help="Compression settings: 1,4,16,auto.")] = ["4"],  # noqa: B006
    frames: Annotated[int | None, typer.Option(help="Override every task's frame count.")] = None,
    limit: Annotated[int | None, typer.Option(help="First N samples per task.")] = None,
    seed: Annotated[int | None, typer.Option(help="Generation seed (recorded).")] = None,
    dtype: Annotated[str | None, typer.Option(help="float32, bfloat16, float16.")] = None,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, cuda:1 ...")] = None,
    attn: Annotated[str | None, typer.Option(help="ViT attention: sdpa, flash, eager.")] = None,
    model_arg: Annotated[list[str], typer.Option(help="Extra backend argument KEY=VALUE.")] = [],  # noqa: B006
    output: Annotated[Path, typer.Option(help="Results root.")] = Path("results"),
    run_id: Annotated[str | None, typer.Option(help="Run directory name (default: timestamped).")] = None,
    resume: Annotated[bool, typer.Option(help="Continue the run --run-id without redoing samples.")] = False,
    retry_failed: Annotated[bool, typer.Option(help="With --resume: run failed samples again.")] = False,
    max_failures: Annotated[
        int | None, typer.Option(help="Fail the run (exit 1) above this many failed samples.")
    ] = None,
    workers: Annotated[int, typer.Option(help="Media decode workers.")] = 2,
    share_media: Annotated[
        bool, typer.Option(help="Reuse decoded media/encoding/prefix across samples.")
    ] = True,
    cache_dir: Annotated[
        Path, typer.Option(help="Cache for tiny checkpoints, generated data, frames.")
    ] = DEFAULT_CACHE,
    data_root: Annotated[
        Path, typer.Option(help="Root of the benchmarks' data folders (one subfolder per benchmark).")
    ] = DEFAULT_DATA_ROOT,
    data: Annotated[
        list[str], typer.Option("--data", help="Override one benchmark's data folder: NAME=DIR.")
    ] = [],  # noqa: B006
    disk_frame_cache: Annotated[
        bool, typer.Option(help="Keep decoded frames on disk for later runs.")
    ] = False,
    frame_cache_gb: Annotated[
        float, typer.Option(help="Memory budget of the decoded-frame cache (GiB).")
    ] = 1.0,
) -> None:
    """Run tasks with a backend; writes results/<run_id>/{run.json,samples.jsonl}."""
    try:
        if resume and run_id is None:
            raise OryxEvalError("--resume needs --run-id (the directory name under --output)")
        opts = RunOptions(
            tasks=_split(tasks), backend=model,
            backend_args=_model_args(model_path, dtype, device, attn, model_arg),
            compressions=_split(compression), output_dir=output, run_id=run_id, resume=resume,
            retry_failed=retry_failed, limit=limit, seed=seed, frames=frames, max_failures=max_failures,
            workers=workers, share_media=share_media, cache_dir=cache_dir, data_root=data_root,
            data_dirs=_data_dirs(data), disk_frame_cache=disk_frame_cache,
            frame_cache_gb=frame_cache_gb,
        )  # fmt: skip
        with Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("eta"), TimeRemainingColumn(), console=err, transient=False,
        ) as progress:  # fmt: skip
            bar = progress.add_task("samples", total=None)

            def on_progress(done: int, total: int) -> None:
                progress.update(bar, completed=done, total=total)

            result = run(opts, on_progress=on_progress)
        render_summary(result.record, result.run_dir)
    except RunFailedError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(EXIT_FAILED_RUN) from None
    except OryxEvalError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(EXIT_BAD_INPUT) from None


@app.command("tasks")
def tasks_cmd() -> None:
    """List the shipped tasks."""
    t = Table(title=f"tasks in {TASKS_DIR}")
    for col in ("name", "version", "media", "reader", "description"):
        t.add_column(col)
    for name in list_tasks():
        try:
            s = load_task(TASKS_DIR / f"{name}.yaml")
            t.add_row(name, str(s.version), s.media.kind, s.dataset.reader, s.description)
        except OryxEvalError as e:
            t.add_row(name, "-", "-", "-", f"[red]invalid: {e}")
    console.print(t)


@app.command("validate")
def validate_cmd(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Task files (default: every tasks/*.yaml).")
    ] = None,
) -> None:
    """Check task files without a model; exits 2 if any is invalid."""
    results = []
    if files:
        for f in files:
            try:
                load_task(f)
                results.append((f, None))
            except OryxEvalError as e:
                results.append((f, str(e)))
    else:
        results = validate_all()
    bad = 0
    for path, error in results:
        if error is None:
            console.print(f"[green]ok[/]    {path}")
        else:
            bad += 1
            err.print(f"[red]error:[/] {error}")
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command("show")
def show_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (results/<run_id>) or run id.")],
    output: Annotated[Path, typer.Option(help="Results root for a bare run id.")] = Path("results"),
    breakdowns: Annotated[bool, typer.Option(help="Also print metric breakdowns.")] = False,
) -> None:
    """Print a run's metrics table."""
    path = run_dir if (run_dir / "run.json").exists() else output / run_dir
    try:
        rec = load_run(path)
    except (FileNotFoundError, ValueError) as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    render_summary(rec, path)
    if breakdowns:
        t = Table(title="metrics")
        for col in ("task", "compression", "metric", "group", "value", "n"):
            t.add_column(col)
        for m in rec.metrics:
            group = ", ".join(f"{k}={v}" for k, v in (m.group or {}).items()) or "overall"
            t.add_row(m.task, m.compression, m.name, group, _fmt(m.value), str(m.n))
        console.print(t)


app.command("train-tiny")(train_tiny_cmd)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
