"""The summary says what it covers (issue 7 items 3-4): failures by reason with their first ids, an
interrupted run's coverage and exact resume command, breakdowns sorted as numbers."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli import app
from oryx_eval.records import SampleRecord
from oryx_eval.results import aggregate, load_run, read_samples, save_run
from oryx_eval.runner import RunOptions, run
from oryx_eval.schema import load_task
from tests.oryx_eval.fixtures import make_task

ROOT = Path(__file__).resolve().parents[1]


def _lines(output: str, prefix: str) -> list[str]:
    return [ln.strip() for ln in output.splitlines() if ln.strip().startswith(prefix)]


def _run(task: Path, out: Path, **kw):
    opts = dict(tasks=[str(task)], backend="test-blind", output_dir=out, run_id="s", cache_dir=out / "c",
                max_failures="100%", progress=False)  # fmt: skip
    opts.update(kw)
    return run(RunOptions(**opts))


def test_partly_failed_run_lists_failures_by_reason(tmp_path: Path) -> None:
    task = make_task(tmp_path / "t", n_videos=4, questions_per_video=2)
    res = _run(task, tmp_path / "out", compressions=["4", "16"])
    shown = CliRunner().invoke(app, ["show", str(res.run_dir)])
    assert shown.exit_code == 0
    failed = _lines(shown.output, "failed:")
    assert len(failed) == 4 and all(ln.startswith("failed: 2 failed (media) at ") for ln in failed)
    assert any("missing media file: <file> (ids: v2q0, v2q1)" in ln for ln in failed)
    assert any(" at 16x: " in ln and "(ids: v1q0, v1q1)" in ln for ln in failed)
    assert _lines(shown.output, "note: failures:") == [
        "note: failures: 8 of 16 samples could not run (0 do not fit)"
    ]
    assert not _lines(shown.output, "incomplete:")


def test_interrupted_run_says_how_much_is_done_and_how_to_continue(tmp_path: Path) -> None:
    task = make_task(tmp_path / "t", n_videos=5, questions_per_video=2, bad=False)
    res = _run(task, tmp_path / "out")
    samples = res.run_dir / "samples.jsonl"
    kept = read_samples(samples)[:7]
    samples.write_text("".join(r.model_dump_json() + "\n" for r in kept))
    save_run(res.run_dir, load_run(res.run_dir).model_copy(update={"status": "started"}))
    shown = CliRunner().invoke(app, ["show", str(res.run_dir)])
    assert _lines(shown.output, "incomplete:") == [
        f"incomplete: run started: 7 of 10 samples done; continue with: oryx-eval resume {res.run_dir}"
    ]
    resumed = CliRunner().invoke(app, ["resume", str(res.run_dir)])
    assert resumed.exit_code == 0 and not _lines(resumed.output, "incomplete:")
    assert len(read_samples(samples)) == 10


def test_breakdowns_sort_numbers_as_numbers() -> None:
    spec = load_task(ROOT / "tasks" / "niah.yaml")
    recs = [
        SampleRecord(
            sample_id=f"s{n}-{d}",
            task="niah",
            compression="4",
            score=1.0,
            extracted="A",
            metadata={"num_frames": n, "depth": d, "needle": "shape"},
        )  # fmt: skip
        for n in (128, 8, 64, 16, 32)
        for d in (1.0, 0.25, 0.0, 0.75, 0.5)
    ]
    metrics, _ = aggregate({"niah": spec}, recs)
    frames = [m.group["num_frames"] for m in metrics if m.name == "accuracy" and m.group and len(m.group) == 1
              and "num_frames" in m.group]  # fmt: skip
    depths = [
        m.group["depth"] for m in metrics if m.name == "accuracy" and m.group and list(m.group) == ["depth"]
    ]
    assert frames == [8, 16, 32, 64, 128] and depths == [0.0, 0.25, 0.5, 0.75, 1.0]
