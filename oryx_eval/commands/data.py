"""``oryx-eval data check TASK`` (no model) and ``oryx-eval data fetch TASK`` (hub download, untested here).

``check`` reads the task's samples with its registered reader from the resolved data folder, compares the
row count with the full release (the benchmark's ``DATA_CHECKS`` hook), preflights every video
(``media.loader.preflight``) and the benchmark's extra files (subtitles), and prints a table of what is
missing with the first paths. Exit status: 0 complete, 1 runnable but incomplete (missing files or a row
count that differs from the release), 2 the task cannot run (unknown task, no data, reader failure, no
sample with its media).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from oryx_eval.benchmarks.checks import ExtraFiles
from oryx_eval.benchmarks.data import DEFAULT_DATA_ROOT, parse_data_dirs, resolve_data_dir
from oryx_eval.errors import DatasetError, OryxEvalError, PrerequisiteError
from oryx_eval.media.loader import preflight
from oryx_eval.plugins import load_builtin
from oryx_eval.registry import DATA_CHECKS
from oryx_eval.schema import load_task, task_path

app = typer.Typer(no_args_is_help=True, help="Check or fetch benchmark data (no model).")
console = Console(width=132)
err = Console(stderr=True)
SHOW = 5


@dataclass
class CheckResult:
    """What ``check_task`` found for one task."""

    task: str
    data_dir: Path | None
    rows: int = 0
    expected_rows: int | None = None
    media_checked: int = 0
    media_missing: list[tuple[str, str]] = field(default_factory=list)
    media_unreadable: list[tuple[str, str, str]] = field(default_factory=list)
    extras: list[ExtraFiles] = field(default_factory=list)
    error: str | None = None

    @property
    def runnable(self) -> bool:
        """At least one sample has its media (missing media fail only their samples)."""
        bad = {s for s, _ in self.media_missing} | {s for s, _, _ in self.media_unreadable}
        return self.error is None and self.rows > 0 and len(bad) < self.rows

    @property
    def complete(self) -> bool:
        """Runnable, nothing missing, and the full release's row count."""
        extras_ok = all(not x.missing for x in self.extras if x.required)
        rows_ok = self.expected_rows is None or self.rows == self.expected_rows
        return (
            self.runnable and not self.media_missing and not self.media_unreadable and extras_ok and rows_ok
        )


def check_task(
    task: str, data_root: Path, data_dirs: dict[str, Path], cache_dir: Path, open_files: bool = False
) -> CheckResult:
    """Read, count and preflight one task's data (never raises for data problems: they are in the result)."""
    from oryx_eval.runner import read_task_samples

    load_builtin()
    f = task_path(task)
    spec = load_task(f)
    data_dir = resolve_data_dir(spec.dataset.data, data_root, data_dirs)
    res = CheckResult(task=spec.name, data_dir=data_dir)
    try:
        samples = read_task_samples(spec, f, cache_dir, None, data_dir)
    except OryxEvalError as e:
        res.error = str(e)
        return res
    res.rows = len(samples)
    rep = preflight(samples, open_files=open_files)
    res.media_checked, res.media_missing, res.media_unreadable = rep.checked, rep.missing, rep.unreadable
    if spec.dataset.reader in DATA_CHECKS:
        exp = DATA_CHECKS.get(spec.dataset.reader)(samples, **spec.dataset.args)
        res.expected_rows, res.extras = exp.expected_rows, exp.extras
    return res


def render(res: CheckResult) -> None:
    """Print the summary and the missing-file table."""
    t = Table(title=f"data check {res.task}: {res.data_dir}")
    for col in ("item", "found", "expected / missing", "status"):
        t.add_column(col)
    if res.error:
        t.add_row("rows", "-", "-", f"[red]cannot read: {res.error}")
        console.print(t)
        return
    exp = "-" if res.expected_rows is None else str(res.expected_rows)
    ok_rows = res.expected_rows is None or res.rows == res.expected_rows
    t.add_row("rows", str(res.rows), exp, "ok" if ok_rows else "[yellow]differs from the full release")
    miss = len(res.media_missing) + len(res.media_unreadable)
    t.add_row(
        "videos (per sample)",
        str(res.media_checked - miss),
        f"{miss} missing/unreadable",
        "ok" if not miss else "[yellow]their samples will fail",
    )
    for x in res.extras:
        status = "ok" if not x.missing else ("[red]required" if x.required else "optional")
        t.add_row(x.kind, str(x.found), f"{len(x.missing)} missing", status)
    console.print(t)
    rows = [("video", s, p) for s, p in res.media_missing] + [
        ("video", s, f"{p} ({r})") for s, p, r in res.media_unreadable
    ]
    for x in res.extras:
        rows += [(x.kind, s, p) for s, p in x.missing]
    if rows:
        m = Table(title=f"missing (first {SHOW} of each kind)")
        for col in ("kind", "sample", "path"):
            m.add_column(col)
        shown: dict[str, int] = {}
        for kind, sid, path in rows:
            shown[kind] = shown.get(kind, 0) + 1
            if shown[kind] <= SHOW:
                m.add_row(kind, sid, path)
        console.print(m)


@app.command("check")
def check_cmd(
    tasks: Annotated[list[str], typer.Argument(help="Task names.")],
    data_root: Annotated[
        Path, typer.Option(help="Root of the benchmarks' data folders.")
    ] = DEFAULT_DATA_ROOT,
    data: Annotated[list[str], typer.Option("--data", help="Override one data folder: NAME=DIR.")] = [],  # noqa: B006
    open_files: Annotated[bool, typer.Option("--open", help="Also open every video container.")] = False,
    cache_dir: Annotated[Path, typer.Option(help="Cache folder.")] = Path.home() / ".cache" / "oryx-eval",
) -> None:
    """Row counts, every video and subtitle resolved; exit 0 complete, 1 incomplete, 2 cannot run."""
    worst = 0
    try:
        for task in tasks:
            res = check_task(task, data_root, parse_data_dirs(data), cache_dir, open_files)
            render(res)
            worst = max(worst, 0 if res.complete else (1 if res.runnable else 2))
    except OryxEvalError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from None
    raise typer.Exit(worst)


@app.command("fetch")
def fetch_cmd(
    task: Annotated[str, typer.Argument(help="Task name (its dataset.source.hf names the hub repo).")],
    data_root: Annotated[
        Path, typer.Option(help="Root of the benchmarks' data folders.")
    ] = DEFAULT_DATA_ROOT,
    revision: Annotated[
        str | None, typer.Option(help="Hub revision (default: the task's pinned one).")
    ] = None,
) -> None:
    """Download the task's official files with huggingface_hub into its data folder (untested: no hub here).

    Archives (VideoMME ``videos_chunked_*.zip``/``subtitle.zip``, LongVideoBench ``videos.tar.part.*``) are
    downloaded as they are; unpack them as README says. ``FETCHED.json`` records repo and resolved commit.
    """
    try:
        spec = load_task(task_path(task))
        src = spec.dataset.source
        if src is None or src.hf is None or spec.dataset.data is None:
            raise DatasetError(f"task {spec.name!r}: dataset.source.hf and dataset.data are needed to fetch")
        try:
            from huggingface_hub import HfApi, snapshot_download
        except ImportError:
            raise PrerequisiteError("data fetch needs huggingface_hub: pip install huggingface_hub") from None
        dest = resolve_data_dir(spec.dataset.data, data_root, {})
        rev = revision or src.revision
        commit = HfApi().dataset_info(src.hf, revision=rev).sha
        snapshot_download(repo_id=src.hf, repo_type="dataset", revision=commit, local_dir=dest)
        (dest / "FETCHED.json").write_text(
            json.dumps({"repo": src.hf, "requested": rev, "commit": commit}) + "\n"
        )
        console.print(f"fetched {src.hf}@{commit} into {dest}")
    except OryxEvalError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from None
