"""Failure policy (issue 6 item 7): per-sample failures are counted apart, too many stop the run, a backend
exception is systemic; records survive for --resume; numbers carry their failure counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from oryx_eval.errors import RunFailedError, TaskConfigError
from oryx_eval.failures import FailureBound, FailureTracker
from oryx_eval.records import Generation, Request
from oryx_eval.registry import BACKENDS
from oryx_eval.results import load_run, read_samples
from oryx_eval.runner import RunOptions, run
from tests.oryx_eval.fixtures import make_task

CRASH_AFTER: list[int] = [4]


class _Crashing:
    """Answers 'A' for the first CRASH_AFTER[0] requests, then raises like a broken CUDA context."""

    name = "test-crash"

    def __init__(self) -> None:
        self.seen = 0

    def describe(self) -> dict:
        return {"name": self.name, "args": {}}

    def generate(self, requests: list[Request]) -> list[Generation]:
        out = []
        for r in requests:
            self.seen += 1
            if self.seen > CRASH_AFTER[0]:
                raise RuntimeError("CUDA error: an illegal memory access was encountered")
            out.append(Generation(text="A", compression=r.compression))
        return out


BACKENDS.register("test-crash")(_Crashing)


def _task(tmp_path: Path) -> Path:
    return make_task(tmp_path / "t", n_videos=8, questions_per_video=2, bad=False)


def _opts(task: Path, out: Path, **kw) -> RunOptions:
    base = dict(tasks=[str(task)], output_dir=out, run_id="r", cache_dir=out / "cache", progress=False)
    base.update(kw)
    return RunOptions(**base)


def test_bound_parsing_and_limits() -> None:
    assert FailureBound("5%").limit(2700) == 135 and FailureBound("5%").limit(10) == 0
    assert FailureBound("12").limit(5) == 12
    with pytest.raises(TaskConfigError, match="--max-failures 'lots'"):
        FailureBound("lots")
    t = FailureTracker(FailureBound("100%", max_consecutive=3), planned=10)
    for _ in range(3):
        t.add(True)
    with pytest.raises(RunFailedError, match="4 samples failed in a row"):
        t.add(True)


def test_all_failing_run_is_a_failure_not_a_zero(tmp_path: Path) -> None:
    task = _task(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        ["run", "--tasks", str(task), "--model", "test-fail", "--model-arg", "pattern=.", "--output",
         str(out), "--run-id", "f", "--cache-dir", str(tmp_path / "c")],
    )  # fmt: skip
    assert res.exit_code == 1, res.output
    assert "more than --max-failures 5% of 16 = 0" in res.output and "oryx-eval resume" in res.output
    rec = load_run(out / "f")
    assert rec.status == "failed" and rec.error is not None
    recs = read_samples(out / "f" / "samples.jsonl")
    assert recs and all(r.error and r.score is None for r in recs)  # recorded, never scored
    assert not (out / "f" / "avg_accuracy.txt").exists()  # no report of samples that never ran


def test_systemic_error_stops_the_run_and_resume_finishes_it(tmp_path: Path) -> None:
    task = _task(tmp_path)
    out = tmp_path / "out"
    CRASH_AFTER[0] = 5
    with pytest.raises(RunFailedError, match="systemic error.*illegal memory access"):
        run(_opts(task, out, backend="test-crash", share_media=False))
    rec = load_run(out / "r")
    assert rec.status == "failed" and "illegal memory access" in rec.error.message
    assert "RuntimeError" in (out / "r" / "error.log").read_text()  # the traceback is kept in the run folder
    kept = read_samples(out / "r" / "samples.jsonl")
    assert len(kept) == 5 and all(r.error is None for r in kept)  # no sample was blamed for the crash
    CRASH_AFTER[0] = 10**6
    res = run(_opts(task, out, backend="test-crash", share_media=False, resume=True))
    assert len(res.samples) == 16 and res.record.status == "success"
    assert [r.model_dump() for r in res.samples if r.sample_id in {k.sample_id for k in kept}] == [
        k.model_dump() for k in sorted(kept, key=lambda r: r.sample_id)
    ]


def test_metrics_carry_failure_counts(mc_task: Path, tmp_path: Path) -> None:
    res = run(_opts(mc_task, tmp_path / "out", backend="test-blind", max_failures="100%"))
    overall = [m for m in res.record.metrics if m.group is None and m.name == "accuracy"][0]
    assert (overall.n, overall.failed) == (12, 4)
    assert res.record.progress.failed == 4 and any("4 of 12" in n for n in res.record.notes)
    long = [m for m in res.record.metrics if m.group == {"duration": "long"} and m.name == "accuracy"][0]
    assert long.failed == sum(1 for r in res.samples if r.metadata["duration"] == "long" and r.error)
