"""``oryx-eval data check`` on generated fixtures: complete, files removed, no data."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli import app
from oryx_eval.commands.data import check_task
from tests.oryx_eval.benchmarks import video_fixtures as F

runner = CliRunner()


def test_check_reports_missing_files(tmp_path: Path) -> None:
    root = F.videomme(tmp_path / "videomme")
    (root / "data" / "vidCCCCCCC3.mkv").unlink()
    (root / "subtitle" / "vidAAAAAAA1.srt").unlink()
    res = check_task("videomme_subtitles", tmp_path, {}, tmp_path / "cache")
    assert res.rows == 12 and res.expected_rows == 2700
    assert {s for s, _ in res.media_missing} == {"003-1", "003-2", "003-3"}
    assert res.media_missing[0][1].endswith("data/vidCCCCCCC3.mp4")  # the first candidate is named
    subs = res.extras[0]
    assert subs.found == 6 and len(subs.missing) == 6  # video 2 has none, video 1's was removed
    assert res.runnable and not res.complete
    out = runner.invoke(app, ["data", "check", "videomme_subtitles", "--data-root", str(tmp_path)])
    assert out.exit_code == 1, out.output
    assert "vidCCCCCCC3.mp4" in out.output and "differs from the full release" in out.output


def test_check_exit_2_when_the_task_cannot_run(tmp_path: Path) -> None:
    out = runner.invoke(app, ["data", "check", "longvideobench_val", "--data-root", str(tmp_path)])
    assert out.exit_code == 2 and "does not exist" in out.output
    root = F.longvideobench(tmp_path / "lvb")
    for v in (root / "videos").iterdir():
        v.unlink()
    out = runner.invoke(app, ["data", "check", "longvideobench_val", "--data", f"longvideobench={root}"])
    assert out.exit_code == 2, out.output  # every sample's video is missing


def test_check_open_finds_truncated_video(tmp_path: Path) -> None:
    F.videomme(tmp_path / "videomme")
    res = check_task("videomme", tmp_path, {}, tmp_path / "cache", open_files=True)
    assert {s for s, _, _ in res.media_unreadable} == {"004-1", "004-2", "004-3"}


def test_check_mlvu_counts_generation_apart(tmp_path: Path) -> None:
    F.mlvu_dev(tmp_path / "mlvu")
    assert check_task("mlvu_dev", tmp_path, {}, tmp_path / "c").expected_rows == 2174
    gen = check_task("mlvu_dev_generation", tmp_path, {}, tmp_path / "c")
    assert gen.rows == 1 and gen.expected_rows == 418 and not gen.media_missing


def test_fetch_needs_a_hub_source() -> None:
    out = runner.invoke(app, ["data", "fetch", "niah"])
    assert out.exit_code == 2 and "dataset.source.hf" in out.output
