"""Evaluate your own data (issue 7 item 6): the README's example task, relative paths resolved against
the task file, `validate --check-media` naming the resolved path of a missing video."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from cli import app
from oryx_eval.media.encode import encode_video
from oryx_eval.schema import load_task
from tests.oryx_eval.fixtures import make_frames

ROOT = Path(__file__).resolve().parents[1]


def _copy_example(tmp: Path) -> Path:
    shutil.copy(ROOT / "docs" / "examples" / "my_task.yaml", tmp / "my_task.yaml")
    shutil.copy(ROOT / "docs" / "examples" / "my_questions.jsonl", tmp / "my_questions.jsonl")
    (tmp / "my_videos").mkdir()
    return tmp / "my_task.yaml"


def test_example_task_resolves_relative_paths_and_runs(tmp_path: Path) -> None:
    task = _copy_example(tmp_path)
    spec = load_task(task)
    assert spec.dataset.source.path == str((tmp_path / "my_questions.jsonl").resolve())
    assert spec.dataset.source.media_dir == str((tmp_path / "my_videos").resolve())
    runner = CliRunner()
    missing = runner.invoke(app, ["validate", str(task), "--check-media"])
    want = str((tmp_path / "my_videos" / "clip1.mp4").resolve())
    assert missing.exit_code == 2 and f"2 of 2 media missing (first: q1: {want}" in missing.output
    encode_video(make_frames(20, 1), tmp_path / "my_videos" / "clip1.mp4", fps=4, gop=4)
    ok = runner.invoke(app, ["validate", str(task), "--check-media"])
    assert ok.exit_code == 0 and "(2 samples, 2 media found)" in ok.output
    out = tmp_path / "results"
    res = runner.invoke(app, ["run", "--tasks", str(task), "--model", "test-blind", "--output", str(out),
                              "--run-id", "mine", "--cache-dir", str(tmp_path / "c")])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (out / "mine" / "samples.jsonl").read_text().count("\n") == 2
