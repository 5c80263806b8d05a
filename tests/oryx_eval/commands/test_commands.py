"""The sweep / leaderboard / view subcommands: outputs on success, one line and exit 2 on bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from cli import app
from tests.oryx_eval.runs import niah_task

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_sweep_leaderboard_view_end_to_end(tmp_path: Path) -> None:
    task = niah_task(tmp_path)
    sweep = tmp_path / "sweep"
    cfg = tmp_path / "sweep.yaml"
    cfg.write_text(f"tasks: ['{task}']\nmodel: test-oracle\ncompression: ['4', '16']\nlimit: 6\n")
    res = _run("sweep", "--output", sweep, "--config", cfg)
    assert res.exit_code == 0, res.output
    assert "c4" in res.output and "c16" in res.output and "sweep.csv" in res.output
    df = pd.read_csv(sweep / "sweep.csv")
    assert list(df["point"]) == ["c4", "c16"] and (df["value"] == 1.0).all()
    assert pd.isna(df.loc[0, "mcnemar_p_vs_ref"]) and df.loc[1, "mcnemar_p_vs_ref"] == 1.0  # same answers

    out = tmp_path / "lb"
    res = _run("leaderboard", sweep, "--output", out, "--formats", "md,csv")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["leaderboard.csv", "leaderboard.md"]
    assert "| test-oracle | c4 limit=6 | 100.0 [100.0, 100.0]" in (out / "leaderboard.md").read_text()

    res = _run("view", sweep / "c4")
    assert res.exit_code == 0 and (sweep / "c4" / "view" / "index.html").is_file()
    assert len(list((sweep / "c4" / "view" / "thumbs").glob("*.jpg"))) > 6


def test_bad_inputs_exit_2_with_one_line(tmp_path: Path) -> None:
    cases = [
        (["sweep", "--output", tmp_path / "s"], "--tasks is required"),
        (["sweep", "--output", tmp_path / "s", "--tasks", "niah", "--compression", "3"], "compression"),
        (["sweep", "--output", tmp_path / "s", "--tasks", "niah", "--frames", "x"], "--frames 'x'"),
        (["sweep", "--output", tmp_path / "s", "--tasks", "nope"], "unknown task 'nope'"),
        (["sweep", "--output", tmp_path / "s", "--config", tmp_path / "none.yaml"], "no such sweep file"),
        (["sweep", "--output", tmp_path / "s", "--tasks", "niah", "--data", "x"], "expected NAME=DIR"),
        (["leaderboard", tmp_path / "missing"], "no such results folder"),
        (["leaderboard", tmp_path], "no run folders"),
        (["leaderboard", tmp_path, "--formats", "xlsx"], "--formats"),
        (["view", tmp_path], "no run.json"),
    ]
    for args, msg in cases:
        res = _run(*args)
        assert res.exit_code == 2, (args, res.output)
        assert msg in res.output and "Traceback" not in res.output, (args, res.output)
    assert not (tmp_path / "s").exists()  # nothing was written for a bad sweep
