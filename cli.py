"""`oryx-eval` command line: a thin typer app over oryx_eval's typed functions."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from oryx_eval.benchmarks.data import DEFAULT_DATA_ROOT, parse_data_dirs
from oryx_eval.commands.data import app as data_app
from oryx_eval.commands.judge import judge_cmd
from oryx_eval.commands.leaderboard import leaderboard_cmd
from oryx_eval.commands.lmms_import import import_lmms_cmd
from oryx_eval.commands.serve import serve_cmd
from oryx_eval.commands.sweep import sweep_cmd
from oryx_eval.commands.train_tiny import train_tiny_cmd
from oryx_eval.commands.view import view_cmd
from oryx_eval.errors import OryxEvalError, RunFailedError
from oryx_eval.failures import DEFAULT_MAX_CONSECUTIVE, DEFAULT_MAX_FAILURES
from oryx_eval.results import RunRecord, load_run
from oryx_eval.resume import options_from_record
from oryx_eval.runner import DEFAULT_CACHE, RunOptions, run
from oryx_eval.schema import TASKS_DIR, list_tasks, load_task, validate_all
from oryx_eval.store import LOG_FILE, read_run_records
from oryx_eval.summary import compression_pivots, coverage_line, failure_lines, resume_command

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Evaluate Oryx (and other backends) on video/image tasks.",
)
# piped output (CI logs, files) gets a width that fits the tables instead of rich's 80-column default
console = Console() if sys.stdout.isatty() else Console(width=132)
err = Console(stderr=True, soft_wrap=True)  # one error, one line (never wrapped)
app.add_typer(data_app, name="data")  # `oryx-eval data check|fetch`

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


def _fmt(x: float, nd: int = 3) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def render_summary(rec: RunRecord, run_dir: Path) -> None:
    """Accuracy (with its failed/unparsed counts), mean tokens per sample and latency per (task, compression);
    then what the numbers do not cover: incomplete coverage, failures by reason, how to continue."""
    t = Table(title=f"run {run_dir.name} ({rec.status}): means per sample, latency in seconds")
    # visual = embeddings spliced into the LLM; tokens = visual + text + output (what the LLM processed)
    cols = (
        "task",
        "comp",
        "n",
        "failed",
        "no fit",
        "unparsed",
        "accuracy",
        "visual",
        "tokens",
        "p50 s",
        "p90 s",
    )
    for col in cols:
        t.add_column(col, justify="left" if col == "task" else "right")
    for s in rec.stats:
        tok, lat = s["tokens_mean"], s["latency_s"]
        # NaN means (unknown, or no successful sample) come back from run.json as null
        tok = {k: math.nan if v is None else v for k, v in tok.items()}
        total = tok["visual"] + tok["text"] + tok["output"]
        row = [s["task"], s["compression"], str(s["n"]), str(s["failed"]), str(s.get("does_not_fit", 0))]
        row += [str(s.get("unparsed", "-")), _fmt(s["accuracy"]), _fmt(tok["visual"], 1), _fmt(total, 1)]
        row += [_fmt(lat["p50"]), _fmt(lat["p90"])]
        t.add_row(*row)
    if rec.stats:
        console.print(t)
    for pv in compression_pivots(rec):
        pt = Table(title=f"{pv.task}: {pv.metric} by {pv.key} (n)")
        pt.add_column(pv.key)
        for c in pv.compressions:
            pt.add_column(f"{c}x" if c.isdigit() else c, justify="right")
        for group, cells in pv.rows:
            pt.add_row(group, *(f"{_fmt(v, 2)} ({n})" for v, n in cells))
        console.print(pt)
    records = read_run_records(run_dir)
    line = coverage_line(rec, len(records))
    if line:
        console.print(
            f"[yellow]incomplete:[/] {line}; continue with: {resume_command(run_dir)}", soft_wrap=True
        )
    for fl in failure_lines(records)[:8]:
        console.print(f"[red]failed:[/] {escape(fl)}", soft_wrap=True)
    for note in rec.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    for p in rec.reports:
        console.print(f"report: {run_dir / p}")
    from oryx_eval.judge.run_folder import g_avg_lines  # G-avg written by `oryx-eval judge`

    for line in g_avg_lines(run_dir):
        console.print(escape(line), soft_wrap=True)
    console.print(f"records: {run_dir / 'run.json'}, {run_dir / 'samples.jsonl'}")


def _execute(opts: RunOptions) -> None:
    """Run with a progress bar drawn only once the work starts; map failures to one line and an exit code."""
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("eta"), TimeRemainingColumn(), console=err, transient=False,
    )  # fmt: skip
    bar = None

    def on_progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            progress.start()
            bar = progress.add_task("samples", total=total)
        progress.update(bar, completed=done, total=total)

    try:
        try:
            result = run(opts, on_progress=on_progress, log=_note)
        finally:
            progress.stop()
    except KeyboardInterrupt as e:
        _stopped(e, "interrupted")
        raise typer.Exit(130) from None
    except RunFailedError as e:
        err.print(f"[red]error:[/] {escape(str(e))}")
        _stopped(e, "stopped")
        raise typer.Exit(EXIT_FAILED_RUN) from None
    except OryxEvalError as e:
        err.print(f"[red]error:[/] {escape(str(e))}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except Exception as e:  # a bug: one line here, the traceback in a log file
        log = _crash_log(opts.output_dir, e)
        err.print(f"[red]internal error:[/] {escape(f'{type(e).__name__}: {e}')} (traceback: {log})")
        raise typer.Exit(EXIT_FAILED_RUN) from None
    render_summary(result.record, result.run_dir)


def _note(msg: str) -> None:
    err.print(f"[cyan]note:[/] {escape(msg)}")


def _stopped(e: BaseException, how: str) -> None:
    run_dir = getattr(e, "run_dir", None)
    if run_dir is None or not (run_dir / "run.json").exists():
        return
    rec = load_run(run_dir)
    line = coverage_line(rec, len(read_run_records(run_dir)))
    if line:
        err.print(f"[yellow]{how}:[/] {line}")
    if (run_dir / LOG_FILE).exists():
        err.print(f"traceback: {run_dir / LOG_FILE}")
    err.print(f"continue with: {resume_command(run_dir)}", soft_wrap=True)


def _crash_log(output: Path, e: BaseException) -> Path:
    import traceback
    from datetime import datetime

    run_dir = getattr(e, "run_dir", None)
    if run_dir is not None and Path(run_dir).is_dir():
        path = Path(run_dir) / LOG_FILE
    else:
        output.mkdir(parents=True, exist_ok=True)
        path = output / f"crash-{datetime.now().strftime('%Y%m%d-%H%M%S')}.log"
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(traceback.format_exception(e)) + "\n")
    return path


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
    resume: Annotated[
        bool,
        typer.Option(help="Continue --run-id, or the latest run under --output with the same settings."),
    ] = False,
    retry_failed: Annotated[bool, typer.Option(help="With --resume: run failed samples again.")] = False,
    max_failures: Annotated[
        str, typer.Option(help="Stop the run (exit 1) above this many failed samples: a count or a share.")
    ] = DEFAULT_MAX_FAILURES,
    max_consecutive_failures: Annotated[
        int, typer.Option(help="Stop the run above this many failures in a row (0: no limit).")
    ] = DEFAULT_MAX_CONSECUTIVE,
    workers: Annotated[int, typer.Option(help="Media decode workers.")] = 2,
    prefetch: Annotated[
        int, typer.Option(help="Groups decoded ahead of the model (caps the workers in use; 0: no overlap).")
    ] = 4,
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
    frame_cache_identity: Annotated[
        str,
        typer.Option(help="How cached frames know their file: stat (path+size+mtime) or content (hash)."),
    ] = "stat",
    skip_missing: Annotated[
        bool, typer.Option(help="Leave samples with missing media out of the run (listed in run.json).")
    ] = False,
) -> None:
    """Run tasks with a backend; writes results/<run_id>/{run.json,samples.jsonl}."""
    try:
        opts = RunOptions(
            tasks=_split(tasks), backend=model,
            backend_args=_model_args(model_path, dtype, device, attn, model_arg),
            compressions=_split(compression), output_dir=output, run_id=run_id, resume=resume,
            retry_failed=retry_failed, limit=limit, seed=seed, frames=frames, max_failures=max_failures,
            max_consecutive_failures=max_consecutive_failures, workers=workers, prefetch=prefetch,
            share_media=share_media,
            cache_dir=cache_dir, data_root=data_root, data_dirs=parse_data_dirs(data),
            disk_frame_cache=disk_frame_cache, frame_cache_gb=frame_cache_gb,
            frame_cache_identity=frame_cache_identity, skip_missing=skip_missing,
        )  # fmt: skip
    except OryxEvalError as e:
        err.print(f"[red]error:[/] {escape(str(e))}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    _execute(opts)


@app.command("resume")
def resume_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run folder (results/<run_id>) to continue.")],
    retry_failed: Annotated[bool, typer.Option(help="Run the failed samples again.")] = False,
    workers: Annotated[int | None, typer.Option(help="Media decode workers (default: as recorded).")] = None,
) -> None:
    """Continue a run folder with exactly its recorded settings (identity checked)."""
    try:
        opts = options_from_record(run_dir, retry_failed=retry_failed, workers=workers)
    except OryxEvalError as e:
        err.print(f"[red]error:[/] {escape(str(e))}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    _execute(opts)


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
    check_media: Annotated[
        bool, typer.Option(help="Also read each task's samples and check that every media file exists.")
    ] = False,
    data_root: Annotated[
        Path, typer.Option(help="Root of the benchmarks' data folders.")
    ] = DEFAULT_DATA_ROOT,
    data: Annotated[list[str], typer.Option("--data", help="Override one data folder: NAME=DIR.")] = [],  # noqa: B006
    cache_dir: Annotated[Path, typer.Option(help="Cache for generated data.")] = DEFAULT_CACHE,
) -> None:
    """Check task files without a model; exits 2 if any is invalid (or, with --check-media, misses media)."""
    paths = list(files) if files else [p for p, _ in validate_all()]
    bad = 0
    for path in paths:
        try:
            spec = load_task(path)
            detail = ""
            if check_media:
                detail = _media_check(spec, path, data_root, parse_data_dirs(data), cache_dir)
            console.print(f"[green]ok[/]    {path}{detail}")
        except OryxEvalError as e:
            bad += 1
            err.print(f"[red]error:[/] {escape(str(e))}")
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


def _media_check(spec: Any, path: Path, data_root: Path, data_dirs: dict, cache_dir: Path) -> str:
    """Read the task's samples and preflight their media; raises DatasetError naming the first missing."""
    from oryx_eval.benchmarks.data import resolve_data_dir
    from oryx_eval.errors import DatasetError
    from oryx_eval.media.loader import preflight
    from oryx_eval.runner import read_task_samples

    data_dir = resolve_data_dir(spec.dataset.data, data_root, data_dirs)
    samples = read_task_samples(spec, path, cache_dir, None, data_dir)
    report = preflight(samples)
    if report.missing:
        first = ", ".join(f"{sid}: {p}" for sid, p in report.missing[:3])
        raise DatasetError(
            f"{path}: {len(report.missing)} of {report.checked} media missing (first: {first})"
        )
    return f" ({len(samples)} samples, {report.checked} media found)"


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
        err.print(f"[red]error:[/] {escape(str(e))}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    render_summary(rec, path)
    if breakdowns:
        t = Table(title="metrics")
        for col in ("task", "compression", "metric", "group", "value", "n"):
            t.add_column(col)
        for m in rec.metrics:
            group = ", ".join(f"{k}={v}" for k, v in (m.group or {}).items()) or "overall"
            t.add_row(m.task, m.compression, m.name, group, m.note or _fmt(m.value), str(m.n))
        console.print(t)


app.command("serve")(serve_cmd)
app.command("import-lmms")(import_lmms_cmd)
app.command("sweep")(sweep_cmd)
app.command("leaderboard")(leaderboard_cmd)
app.command("view")(view_cmd)
app.command("train-tiny")(train_tiny_cmd)
app.command("judge")(judge_cmd)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
