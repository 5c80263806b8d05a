"""Runner: records, per-sample failures, media sharing, resume after a kill, failure bound, 2 ranks."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from oryx_eval.errors import RunFailedError
from oryx_eval.records import Generation, Request
from oryx_eval.registry import BACKENDS
from oryx_eval.results import load_run, read_samples
from oryx_eval.runner import RunOptions, run
from tests.oryx_eval.fixtures import make_task

ROOT = Path(__file__).resolve().parents[2]
CALLS: list[list[str]] = []


class _Recording:
    """Answers 'A' and remembers how requests were grouped per call."""

    name = "recording"

    def describe(self) -> dict:
        return {"name": self.name}

    def generate(self, requests: list[Request]) -> list[Generation]:
        CALLS.append([r.sample_id for r in requests])
        return [Generation(text="A", compression=r.compression) for r in requests]


BACKENDS.register("test-recording")(lambda: _Recording())


def _opts(task: Path, out: Path, **kw) -> RunOptions:
    base = dict(
        tasks=[str(task)],
        backend="test-blind",
        output_dir=out,
        run_id="r",
        progress=False,
        cache_dir=out / "cache",
        max_failures="100%",  # the fixture's corrupt and missing videos fail a third of the samples
    )
    base.update(kw)
    return RunOptions(**base)


def _key(r) -> tuple:
    return (r.task, r.sample_id, r.compression)


def _comparable(recs) -> list[tuple]:
    return sorted((_key(r), r.output, r.extracted, r.score, r.error is None, r.frames.indices) for r in recs)


def test_run_records_every_sample(mc_task: Path, tmp_path: Path) -> None:
    res = run(_opts(mc_task, tmp_path / "out", compressions=["4", "16"]))
    recs = read_samples(res.run_dir / "samples.jsonl")
    assert len(recs) == 12 * 2 and len({_key(r) for r in recs}) == 24
    by_id = {(r.sample_id, r.compression): r for r in recs}
    corrupt = by_id[("v1q0", "4")]
    assert corrupt.error and "v1.mp4" in corrupt.error and corrupt.score is None
    assert corrupt.error_kind == "media"
    missing = by_id[("v2q1", "16")]
    assert missing.error and "missing" in missing.error and "v2.mp4" in missing.error
    ok = by_id[("v0q0", "4")]
    assert ok.error is None and ok.frames.count == 4
    assert ok.frames.indices == np.linspace(0, 11, 4).astype(int).tolist()
    assert ok.prompt.endswith("Answer with A, B, C, or D.") and "A. red\nB. green" in ok.prompt
    assert ok.extracted in "ABCD" and ok.score in (0.0, 1.0)
    rec = load_run(res.run_dir)
    assert rec.status == "success" and rec.spec["tasks"]["fixture_mc"]["media"]["sampling"]["num_frames"] == 4
    assert {s["compression"] for s in rec.stats} == {"4", "16"}
    overall = [m for m in rec.metrics if m.name == "accuracy" and m.group is None and m.compression == "4"]
    assert len(overall) == 1 and overall[0].n == 12
    want = sum(r.score or 0.0 for r in recs if r.compression == "4") / 12  # failures count as wrong
    assert overall[0].failed == 4
    assert overall[0].value == pytest.approx(want)
    groups = {m.group["duration"] for m in rec.metrics if m.group}
    assert groups == {"short", "long"}
    fail = [m for m in rec.metrics if m.name == "failure_rate" and m.group is None and m.compression == "4"]
    assert fail[0].value == pytest.approx(4 / 12)


def test_samples_sharing_media_reach_the_backend_together(mc_task: Path, tmp_path: Path) -> None:
    CALLS.clear()
    run(_opts(mc_task, tmp_path / "out", backend="test-recording"))
    assert sorted(CALLS) == sorted([[f"v{v}q0", f"v{v}q1"] for v in (0, 3, 4, 5)])
    CALLS.clear()
    run(_opts(mc_task, tmp_path / "out2", backend="test-recording", share_media=False))
    assert all(len(c) == 1 for c in CALLS) and len(CALLS) == 8


def test_max_failures_stops_the_run_and_keeps_its_records(mc_task: Path, tmp_path: Path) -> None:
    with pytest.raises(RunFailedError, match=r"4 of 12 samples failed \(more than --max-failures 3\)"):
        run(_opts(mc_task, tmp_path / "out", max_failures="3"))
    rec = load_run(tmp_path / "out" / "r")
    kept = read_samples(tmp_path / "out" / "r" / "samples.jsonl")
    assert rec.status == "failed" and 4 <= len(kept) < 12  # stopped at the 4th failure, records kept
    assert rec.progress.planned == 12 and rec.progress.recorded == len(kept)
    run(_opts(mc_task, tmp_path / "out2", max_failures="4"))  # at the bound: fine


def test_existing_run_needs_resume(mc_task: Path, tmp_path: Path) -> None:
    run(_opts(mc_task, tmp_path / "out"))
    with pytest.raises(Exception, match="--resume"):
        run(_opts(mc_task, tmp_path / "out"))
    with pytest.raises(Exception, match=r"run identity differs.*limit: recorded null, now 3"):
        run(_opts(mc_task, tmp_path / "out", resume=True, limit=3))


def _cli(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, **kw)


def test_resume_after_kill_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    task = make_task(tmp_path / "task", n_videos=12, questions_per_video=3)
    out = tmp_path / "out"
    common = [
        "run",
        "--tasks",
        str(task),
        "--model",
        "test-fixed-cost",
        "--model-arg",
        "cost_s=0.05",
        "--output",
        str(out),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--compression",
        "4,16",
        "--max-failures",
        "100%",
    ]
    proc = _cli(*common, "--run-id", "killed", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples = out / "killed" / "samples.jsonl"
    stop_at = random.Random(os.getpid()).randint(3, 40)
    deadline = time.time() + 120
    while time.time() < deadline:
        if samples.exists() and samples.read_bytes().count(b"\n") >= stop_at:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = read_samples(samples)
    assert 0 < len(partial) < 72, "the kill must land mid-run"
    res = _cli(
        *common, "--run-id", "killed", "--resume", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _, stderr = res.communicate(timeout=300)
    assert res.returncode == 0, stderr[-2000:]
    resumed = read_samples(samples)
    assert len(resumed) == len({_key(r) for r in resumed}) == 72
    full = run(
        _opts(
            task,
            out,
            backend="test-fixed-cost",
            backend_args={"cost_s": 0.0},
            run_id="full",
            compressions=["4", "16"],
        )
    )
    assert _comparable(resumed) == _comparable(full.samples)
    assert load_run(out / "killed").status == "success"


def test_two_ranks_equal_one_rank(mc_task: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    one = run(_opts(mc_task, out, run_id="one"))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_port=29533",
        str(ROOT / "cli.py"),
        "run",
        "--tasks",
        str(mc_task),
        "--model",
        "test-blind",
        "--output",
        str(out),
        "--run-id",
        "two",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--max-failures",
        "100%",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    two = read_samples(out / "two" / "samples.jsonl")
    assert _comparable(two) == _comparable(one.samples)
    assert {r.rank for r in two} == {0, 1}
    m1 = {(m.name, m.compression, json.dumps(m.group, sort_keys=True)): m.value for m in one.record.metrics}
    m2 = {
        (m.name, m.compression, json.dumps(m.group, sort_keys=True)): m.value
        for m in load_run(out / "two").metrics
    }
    assert m1 == pytest.approx(m2)


def test_resume_retry_failed_reruns_only_failures(mc_task: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run(_opts(mc_task, out))
    assert sum(r.error is not None for r in first.samples) == 4
    from oryx_eval.media.encode import encode_video
    from tests.oryx_eval.fixtures import make_frames

    encode_video(
        make_frames(12, 2), mc_task.parent / "videos" / "v2.mp4", fps=4, gop=4
    )  # the missing video appears
    again = run(_opts(mc_task, out, resume=True))
    assert _comparable(again.samples) == _comparable(first.samples)  # plain resume: nothing to do
    fixed = run(_opts(mc_task, out, resume=True, retry_failed=True))
    by_id = {r.sample_id: r for r in fixed.samples}
    assert len(fixed.samples) == 12 and by_id["v2q0"].error is None and by_id["v1q0"].error is not None
    assert all(
        by_id[k].output == r.output
        for k, r in {r.sample_id: r for r in first.samples}.items()
        if r.error is None
    )


def test_unknown_template_field_fails_before_the_backend(mc_task: Path, tmp_path: Path) -> None:
    from oryx_eval.errors import TaskConfigError

    mc_task.write_text(mc_task.read_text().replace("{question}", "{question} {colour}"))
    CALLS.clear()
    with pytest.raises(TaskConfigError, match=r"prompt.template.*colour"):
        run(_opts(mc_task, tmp_path / "out", backend="test-recording"))
    assert CALLS == []


def test_skip_missing_leaves_missing_media_out_and_records_it(mc_task: Path, tmp_path: Path) -> None:
    """--skip-missing (the official VideoMME script's option): samples whose video is missing are not
    run, not failures, and are listed in run.json; the setting is part of the run's identity."""
    res = run(_opts(mc_task, tmp_path / "out", skip_missing=True))
    ids = {r.sample_id for r in res.samples}
    assert len(res.samples) == 10 and not ids & {"v2q0", "v2q1"}  # v2.mp4 is missing
    assert res.record.spec["skipped_missing"] == {"fixture_mc": ["v2q0", "v2q1"]}
    assert res.record.progress.planned == 10 and any("--skip-missing: 2" in n for n in res.record.notes)
    assert sum(r.error is not None for r in res.samples) == 2  # the corrupt v1 still fails (it exists)
    with pytest.raises(Exception, match="skip_missing"):
        run(_opts(mc_task, tmp_path / "out", resume=True))  # resuming without the flag: another identity
