"""``judge_run``: batches written atomically as they finish (a kill loses at most one batch), one score
per compression setting, MLVU's official judge inputs from the recorded samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oryx_eval.benchmarks.mlvu.judging import judge_item, judge_task
from oryx_eval.judge.mlvu import LLMJudge
from oryx_eval.judge.run_folder import judge_run
from oryx_eval.records import SampleRecord
from tests.oryx_eval.benchmarks import video_fixtures as F
from tests.oryx_eval.benchmarks.runs import run_task
from tests.oryx_eval.fake_openai import Action, FakeOpenAI

FAST = {"timeout_s": 5.0, "max_retries": 0, "backoff_s": 0.01}
REPLY = {"ssc": "{'score_accuracy': 3, 'score_relevance': 4, 'total_score': 7}",
         "summary": "{'score_completeness': 2, 'score_reliability': 5, 'total_score': 7}"}  # fmt: skip


def _rule(text: str, attempt: int) -> Action:
    return Action(text=REPLY["ssc" if "Scoring Points:" in text else "summary"])


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    answers = tmp_path / "answers.json"
    ids = [f"8_sub_scene_{i}" for i in range(3)] + [f"9_summary_{i}" for i in range(4)]
    answers.write_text(json.dumps({i: f"prediction of {i}" for i in ids}))
    res = run_task(tmp_path, "mlvu_dev_generation", {"mlvu": F.mlvu_generation(tmp_path / "mlvu")},
                   backend="test-script", backend_args={"answers_file": str(answers)},
                   compressions=["1", "16"])  # fmt: skip
    return res.run_dir


def test_one_score_per_compression(run_dir: Path) -> None:
    with FakeOpenAI(_rule) as fake:
        (out,) = judge_run(run_dir, LLMJudge(base_url=fake.base_url, **FAST))
    assert out.sent == 14 and len(fake.requests) == 14
    by = out.summary["by_compression"]
    assert list(by) == ["1", "16"]
    for s in by.values():
        assert (s["ssc"], s["vs"], s["g_avg"], s["n_judged"]) == (7.0, 7.0, 7.0, 7)


def test_a_kill_loses_at_most_one_batch(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = LLMJudge.judge

    def dies_on_second_batch(self: LLMJudge, items: list) -> list:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, items)

    with FakeOpenAI(_rule) as fake:
        judge = LLMJudge(base_url=fake.base_url, **FAST)
        monkeypatch.setattr(LLMJudge, "judge", dies_on_second_batch)
        with pytest.raises(KeyboardInterrupt):
            judge_run(run_dir, judge, batch=4)
        folder = run_dir / "judge" / "mlvu_dev_generation"
        kept = folder.joinpath("judgements.jsonl").read_text().splitlines()
        assert len(kept) == 4 and not (folder / "g_avg.json").exists()
        assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]  # written by rename
        monkeypatch.setattr(LLMJudge, "judge", real)
        (out,) = judge_run(run_dir, judge, batch=4)
    assert (out.sent, out.reused) == (10, 4) and len(fake.requests) == 14
    assert out.summary["by_compression"]["16"]["g_avg"] == 7.0


def _rec(**kw: object) -> SampleRecord:
    base = {"sample_id": "s", "task": "t", "compression": "4", "prompt": "Q?", "output": "pred",
            "target": "The standard answer."}  # fmt: skip
    return SampleRecord(**{**base, **kw})


def test_official_judge_inputs_from_a_record() -> None:
    ssc = _rec(metadata={"question_type": "subPlot", "question": "Q\nmore", "scoring_points": ["a", "b"]})
    assert judge_task(ssc) == "ssc"
    item = judge_item(ssc, "ssc")
    assert (item.question, item.reference, item.prediction) == ("Q\nmore", "['a', 'b']", "pred")
    vs = _rec(metadata={"question_type": "summary"})  # an older run: no recorded question, the prompt
    item = judge_item(vs, "summary")
    assert (judge_task(vs), item.question, item.reference) == ("summary", "Q?", "The standard answer.")
    assert judge_task(_rec(metadata={"question_type": "plotQA"})) is None  # multiple choice: not judged
    assert "sample failed" in judge_item(_rec(error="boom", metadata={"question_type": "summary"}), "summary")
    assert "no scoring_points" in judge_item(_rec(metadata={"question_type": "subPlot"}), "ssc")
