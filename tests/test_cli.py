"""CLI exit codes and output: 0 on success, 1 when the failure bound is exceeded, 2 on bad input."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli import app
from tests.oryx_eval.fixtures import make_task

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_validate_shipped_and_bad(tmp_path: Path) -> None:
    ok = _run("validate")
    assert ok.exit_code == 0 and "niah.yaml" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nversion: 1\ndataset: {reader: niah}\nmedia: {kind: video}\nscorr: {name: x}\n")
    res = _run("validate", str(bad))
    assert res.exit_code == 2 and "scorr" in res.output and str(bad) in res.output


def test_tasks_lists_niah() -> None:
    res = _run("tasks")
    assert res.exit_code == 0 and "niah" in res.output


def test_run_exit_codes(tmp_path: Path) -> None:
    task = make_task(tmp_path / "t", n_videos=3, questions_per_video=1)
    base = [
        "run",
        "--tasks",
        str(task),
        "--output",
        str(tmp_path / "out"),
        "--cache-dir",
        str(tmp_path / "c"),
    ]
    ok = _run(*base, "--model", "test-blind", "--run-id", "a", "--max-failures", "2")
    assert ok.exit_code == 0, ok.output
    assert "fixture_mc" in ok.output and "accuracy" in ok.output and "failures: 2 of 3" in ok.output
    assert "1 failed (media) at 4x" in ok.output  # failures listed by reason
    over = _run(*base, "--model", "test-blind", "--run-id", "b", "--max-failures", "1")
    assert over.exit_code == 1 and "--max-failures" in over.output
    assert _run("run", "--tasks", "no_such_task", "--model", "test-blind").exit_code == 2
    unknown = _run(*base, "--model", "nope", "--run-id", "c")
    assert unknown.exit_code == 2 and "valid:" in unknown.output and "test-blind" in unknown.output
    assert _run(*base, "--model", "test-blind", "--model-arg", "seed").exit_code == 2
    bad_arg = _run(*base, "--model", "test-blind", "--model-arg", "sed=1", "--run-id", "d")
    assert bad_arg.exit_code == 2 and "sed" in bad_arg.output
    assert _run(*base, "--model", "test-blind", "--compression", "8", "--run-id", "e").exit_code == 2
    assert _run(*base, "--model", "oryx", "--run-id", "f").exit_code == 2  # needs --model-path


def test_show(tmp_path: Path) -> None:
    task = make_task(tmp_path / "t", n_videos=1, questions_per_video=2)
    out = tmp_path / "out"
    assert (
        _run(
            "run",
            "--tasks",
            str(task),
            "--model",
            "test-blind",
            "--output",
            str(out),
            "--run-id",
            "s",
            "--cache-dir",
            str(tmp_path / "c"),
            "--max-failures",
            "100%",
        ).exit_code
        == 0
    )
    res = _run("show", str(out / "s"), "--breakdowns")
    assert res.exit_code == 0 and "duration=long" in res.output
    assert _run("show", str(tmp_path / "none")).exit_code == 2
