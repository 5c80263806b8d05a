"""Sweeps: a 2x2 (compression x frames) NIAH grid on oryx-tiny-random, SIGKILLed mid-point and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from oryx_eval.results import load_run, read_samples
from oryx_eval.sweep import POINT_FILE, SweepError, SweepSpec, load_sweep, points, run_sweep, sweep_from_cli
from oryx_eval.sweep_report import pareto_front, write_outputs

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 4


def small_niah(tmp: Path, name: str = "niah_sweep") -> Path:
    raw = yaml.safe_load((ROOT / "tasks" / "niah.yaml").read_text())
    raw["name"] = name
    raw["dataset"]["args"].update(
        frame_counts=[4, 8], depths=[0.0, 0.5, 1.0], frame_size=[64, 64], mode="video", marker=True
    )  # video mode: --frames samples from each MP4 (frames mode fixes its own counts)
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _lines(p: Path) -> int:
    return p.read_bytes().count(b"\n") if p.exists() else 0


def test_points_grid_and_names() -> None:
    spec = SweepSpec(
        tasks=["niah"], compression=["4", "16"], frames=[8, 16], grid_args={"video_max_side": [320, 480]}
    )
    names = [p.name for p in points(spec)]
    assert len(names) == 8 and len(set(names)) == 8
    assert names[0] == "c4-f8-video_max_side=320" and names[-1] == "c16-f16-video_max_side=480"
    assert points(spec)[1].args == {"video_max_side": 480}


def test_sweep_file_validation(tmp_path: Path) -> None:
    f = tmp_path / "s.yaml"
    f.write_text("tasks: [niah]\ncompression: ['4', '16']\nframez: [8]\n")
    with pytest.raises(SweepError, match="field 'framez'"):
        load_sweep(f)
    f.write_text("tasks: [niah]\ncompression: ['4', '8']\n")
    with pytest.raises(SweepError, match="compression"):
        load_sweep(f)
    f.write_text("tasks: [niah]\ncompression: ['4', '4']\n")
    with pytest.raises(SweepError, match="repeated"):
        load_sweep(f)
    f.write_text("tasks: [niah]\ntasks: [mlvu_dev]\n")  # PyYAML alone would keep the second silently
    with pytest.raises(SweepError, match=r"invalid YAML: line 2, column 1: key 'tasks' appears twice"):
        load_sweep(f)
    f.write_text("tasks: [niah]\nmodel: oryx-tiny-random\ngrid_args: {video_max_side: [320, 480]}\n")
    assert load_sweep(f).grid_args == {"video_max_side": [320, 480]}
    with pytest.raises(SweepError, match="frames"):
        sweep_from_cli(["niah"], "oryx-tiny-random", {}, ["4"], [0], {})


def test_pareto_front() -> None:
    xs = [100, 200, 300, 150, 400]
    ys = [0.5, 0.7, 0.7, 0.4, 0.9]
    assert pareto_front(xs, ys) == [0, 1, 4]  # 2 ties 1 on y at more cost; 3 is beaten by 0


def test_sweep_2x2_resumes_after_sigkill_and_reuses_points(tmp_path: Path) -> None:
    task = small_niah(tmp_path)
    out = tmp_path / "sweep"
    args = ["--tasks", str(task), "--model", "oryx-tiny-random", "--compression", "4,16", "--frames", "4,8"]
    args += ["--model-arg", "video_min_side=128", "--model-arg", "video_max_side=128"]  # small frames: fast
    cmd = [sys.executable, str(ROOT / "cli.py"), "sweep", "--output", str(out), *args, "--limit", str(LIMIT)]
    log = (tmp_path / "log").open("w")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    second = out / "c4-f8" / "samples.jsonl"
    deadline = time.monotonic() + 300
    while _lines(second) < 1:
        assert proc.poll() is None, (tmp_path / "log").read_text()
        assert time.monotonic() < deadline, "the sweep never reached its second point"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    first = out / "c4-f4" / "samples.jsonl"
    first_bytes = first.read_bytes()
    partial = second.read_bytes()
    n_partial = partial.count(b"\n")
    assert load_run(out / "c4-f4").status == "success" and first_bytes.count(b"\n") == LIMIT
    assert 1 <= n_partial < LIMIT, f"kill landed after the point finished ({n_partial} lines)"
    assert load_run(out / "c4-f8").status == "started"  # killed: no chance to record anything else
    assert not (out / "c16-f4").exists()

    small = {"video_min_side": 128, "video_max_side": 128}
    spec = sweep_from_cli([str(task)], "oryx-tiny-random", small, ["4", "16"], [4, 8], {}, limit=LIMIT)
    seen: list[tuple[int, str]] = []
    results = run_sweep(spec, out, lambda i, n, p, d, t: seen.append((i, p.name)))
    assert [r.status for r in results] == ["reused", "resumed", "ran", "ran"]
    assert first.read_bytes() == first_bytes  # the finished point was not touched
    resumed = second.read_bytes()
    assert resumed.startswith(partial[: partial.rfind(b"\n") + 1])  # recorded samples kept, not redone
    recs = read_samples(second)
    assert len(recs) == LIMIT and len({r.sample_id for r in recs}) == LIMIT
    assert {i for i, _ in seen} == {0, 1, 2, 3} and seen[-1] == (3, "c16-f8")
    assert json.loads((out / "c4-f8" / POINT_FILE).read_text())["frames"] == 8

    data = write_outputs(spec, results, out)
    df = pd.read_csv(out / "sweep.csv")
    assert len(df) == 4 and list(df["point"]) == ["c4-f4", "c4-f8", "c16-f4", "c16-f8"]
    assert (df["ci_low"] <= df["value"]).all() and (df["value"] <= df["ci_high"]).all()
    assert (df["n"] == LIMIT).all() and (df["ci_seed"] == 0).all()
    for _, row in df.iterrows():
        recs = read_samples(out / row["point"] / "samples.jsonl")
        assert row["value"] == pytest.approx(sum(r.score or 0 for r in recs) / len(recs))
        ok = [r for r in recs if r.error is None]
        assert row["visual_tokens_mean"] == pytest.approx(sum(r.tokens.visual for r in ok) / len(ok))
    c4, c16 = df[df["compression"] == 4], df[df["compression"] == 16]
    assert (c16["visual_tokens_mean"].to_numpy() < c4["visual_tokens_mean"].to_numpy()).all()
    assert pd.isna(df.loc[0, "mcnemar_p_vs_ref"]) and df.loc[1:, "mcnemar_p_vs_ref"].between(0, 1).all()
    assert "latency_prefill_p90_s" in df.columns and "visual_tokens_per_correct" in df.columns
    assert set(data["plots"]) == {
        f"plots/{stem}.{ext}"
        for stem in ("pareto_niah_sweep", "niah_niah_sweep_f4", "niah_niah_sweep_f8")
        for ext in ("png", "svg")
    }
    assert all((out / p).stat().st_size > 1000 for p in data["plots"])
    assert not any("no effect" in n for n in data["notes"])  # video mode: --frames is what the model saw
    saved = json.loads((out / "sweep.json").read_text())
    assert [p["status"] for p in saved["points"]] == ["reused", "resumed", "ran", "ran"]

    again = run_sweep(spec, out)  # everything finished: every point reused, nothing rerun
    assert [r.status for r in again] == ["reused"] * 4
    other = sweep_from_cli([str(task)], "oryx-tiny-random", small, ["4"], [4], {}, limit=LIMIT - 1)
    with pytest.raises(SweepError, match="other settings"):
        run_sweep(other, out)


def test_points_share_the_disk_frame_cache(tmp_path: Path) -> None:
    """Video-mode NIAH: frames decoded for the first point are served from the sweep's cache to the next."""
    raw = yaml.safe_load(small_niah(tmp_path).read_text())
    raw["name"] = "niah_sweep_video"
    raw["dataset"]["args"].update(
        mode="video", frame_counts=[4], depths=[0.0], needles=["shape", "code_word"]
    )
    task = tmp_path / "niah_sweep_video.yaml"
    task.write_text(yaml.safe_dump(raw))
    out = tmp_path / "sweep"
    one = sweep_from_cli([str(task)], "test-oracle", {}, ["4"], None, {})
    run_sweep(one, out)
    frames = out / "cache" / "frames"
    before = {p.name: p.stat().st_mtime_ns for p in frames.iterdir()}
    assert sorted(p.rsplit(".", 1)[1] for p in before) == ["json", "json", "npy", "npy"]  # 2 videos decoded
    two = sweep_from_cli([str(task)], "test-oracle", {}, ["4", "16"], None, {})
    res = run_sweep(two, out)
    assert [r.status for r in res] == ["reused", "ran"]
    after = {p.name: p.stat().st_mtime_ns for p in frames.iterdir()}
    assert after == before  # the second point decoded nothing new: every video came from the cache
    recs = read_samples(out / "c16" / "samples.jsonl")
    assert len(recs) == 2 and all(r.score == 1.0 for r in recs)
