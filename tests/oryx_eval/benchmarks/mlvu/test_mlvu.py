"""MLVU readers (original JSON, per-task and flattened folders, lmms-eval parquet) and tasks end to end."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from oryx_eval.benchmarks.mlvu.reader import read_mlvu, split_embedded
from oryx_eval.records import ReaderContext
from tests.oryx_eval.benchmarks import video_fixtures as F
from tests.oryx_eval.benchmarks.runs import metric, read_json, run_task


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return F.mlvu_dev(tmp_path_factory.mktemp("mlvu"))


def test_dev_reader_layouts(dev: Path) -> None:
    s = {x.id: x for x in read_mlvu(ReaderContext(task="m", data_dir=dev))}
    assert set(s) == {"1_plotQA_0", "1_plotQA_1", "2_needle_0"}  # generation items are a separate kind
    assert s["1_plotQA_0"].media[0].path.endswith("video/1_plotQA/plot1.mp4")  # per-task folder
    assert s["1_plotQA_1"].media[0].path.endswith("video/plot2.mp4")  # flattened
    assert s["1_plotQA_1"].target == "B" and s["2_needle_0"].target == "C"  # answer text -> letter
    assert s["2_needle_0"].metadata["task_type"] == "needle"  # findNeedle -> lmms-eval's name
    gen = read_mlvu(ReaderContext(task="m", data_dir=dev), kind="generation")
    assert [g.metadata["scoring_points"] for g in gen] == [["grey", "room"]]


def test_test_split_six_options_answer_e(tmp_path: Path) -> None:
    s = {x.id: x for x in read_mlvu(ReaderContext(task="m", data_dir=F.mlvu_test(tmp_path)), split="test")}
    assert s["SQA_0"].target == "E" and len(s["SQA_0"].choices) == 6


def test_lmms_eval_parquet_packaging(tmp_path: Path) -> None:
    (s,) = read_mlvu(ReaderContext(task="m", data_dir=F.mlvu_parquet(tmp_path)))
    assert s.question == "What colour?" and s.choices == ["red", "blue", "green", "grey"]
    assert s.target == "B" and s.media[0].path.endswith("/p1.mp4")
    assert split_embedded("Question: q?\nOptions:\n(A) x\n(B) y") == ("q?", ["x", "y"])


def test_mlvu_dev_oracle_official_vs_robust(dev: Path, tmp_path: Path) -> None:
    res = run_task(tmp_path, "mlvu_dev", {"mlvu": dev})
    # test-oracle answers "The answer is X." (no ")"): check_ans compares the whole text -> all wrong,
    # while the robust rule reads every letter; the disagreement is reported, not hidden
    assert metric(res, "macro_accuracy") == 0.0
    assert metric(res, "robust_accuracy") == 1.0
    assert metric(res, "extraction_disagreement") == 1.0
    assert "Options:\n(A) red\n(B) blue" in res.samples[0].prompt and res.samples[0].prompt.endswith("(")


def test_m_avg_is_the_macro_mean(dev: Path, tmp_path: Path) -> None:
    res = run_task(tmp_path, "mlvu_dev", {"mlvu": dev}, backend="test-blind")
    per_type = {t: metric(res, "accuracy", task_type=t) for t in ("plotQA", "needle")}
    assert math.isclose(metric(res, "macro_accuracy"), sum(per_type.values()) / 2)
    assert math.isclose(metric(res, "accuracy"), sum(r.score or 0 for r in res.samples) / 3)


def test_generation_recorded_not_scored(dev: Path, tmp_path: Path) -> None:
    res = run_task(tmp_path, "mlvu_dev_generation", {"mlvu": dev}, backend="test-blind")
    (r,) = res.samples
    assert r.output and r.score is None and r.error is None
    report = read_json(res.run_dir / "not_scored.json")
    assert report["status"] == "not scored: no judge configured"
    assert report["to_score"].startswith(f"oryx-eval judge {res.run_dir} --judge-model ")  # how to score it
    assert r.metadata["question"] == "Describe the scene."  # what the judge is shown
    assert math.isnan(res.record.stats[0]["accuracy"])  # no score is never averaged as a zero


def test_mlvu_test_oryx_tiny(tmp_path: Path, shared_cache: Path) -> None:
    res = run_task(
        tmp_path,
        "mlvu_test",
        {"mlvu_test": F.mlvu_test(tmp_path / "d")},
        backend="oryx-tiny-random",
        cache_dir=shared_cache,
        limit=2,
    )
    assert res.record.status == "success" and all(r.error is None for r in res.samples)
