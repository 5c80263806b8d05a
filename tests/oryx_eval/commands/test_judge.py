"""``oryx-eval judge RUN_DIR``: an MLVU generation run judged end to end over a loopback judge server.

The run: ``mlvu_dev_generation`` on the generated MLVU fixture (3 sub-scene + 4 summary items) with the
``test-script`` backend (one scripted prediction per item, one item unscripted so its sample fails).
The judge: ``FakeOpenAI`` answering canned replies per prediction. Averages as in JUNJIE99/MLVU
``generation_evaluation/calculate.py`` (main loop: sums / number of judged files) and ``calculate_sum.py``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from oryx_eval.judge.mlvu_prompts import SYSTEM_PROMPTS, prompt_digest
from tests.oryx_eval.benchmarks import video_fixtures as F
from tests.oryx_eval.benchmarks.runs import run_task
from tests.oryx_eval.fake_openai import Action, FakeOpenAI

SECRET = "sk-judge-secret-4242"
PREDICTIONS = {
    "8_sub_scene_0": "pred-ssc-0",
    "8_sub_scene_1": "pred-ssc-1",
    "8_sub_scene_2": "pred-ssc-2",
    "9_summary_0": "pred-vs-0",
    "9_summary_1": "pred-vs-1",
    "9_summary_2": "pred-vs-500",
}  # 9_summary_3 is not scripted: that sample fails in the run
REPLIES = {
    "pred-ssc-0": "Rationale ... {'score_accuracy': 4, 'score_relevance': 5, 'total_score': 9}",
    "pred-ssc-1": "Rationale ... {'score_accuracy': 2, 'score_relevance': 3, 'total_score': 5}",
    "pred-ssc-2": "I cannot score this.",  # unparsed
    "pred-vs-0": "Rationale ... {'score_completeness': 3, 'score_reliability': 4, 'total_score': 7}",
    "pred-vs-1": "Rationale ... {'score_completeness': 5, 'score_reliability': 5, 'total_score': 10}",
    "pred-vs-500": "Fine now. {'score_completeness': 1, 'score_reliability': 2, 'total_score': 3}",
}
# SSC = (4 + 2 + 0) / 3 + (5 + 3 + 0) / 3 (the unparsed reply stays in the denominator at 0)
# VS = (3 + 5) / 2 + (4 + 5) / 2 (the judgement that failed after retries is left out, counted apart)
SSC, VS = 6 / 3 + 8 / 3, 8 / 2 + 9 / 2
FAST = ["--max-retries", "1", "--backoff-s", "0.01", "--timeout-s", "5"]


def _pred(text: str) -> str:
    return text.rsplit("Respondent's Answer: ", 1)[1].strip()


def _rule(fail_500: bool):
    def rule(text: str, attempt: int) -> Action:
        pred = _pred(text)
        if pred == "pred-vs-500" and fail_500:
            return Action(status=500)
        return Action(text=REPLIES[pred])

    return rule


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("judge-run")
    answers = tmp / "answers.json"
    answers.write_text(json.dumps(PREDICTIONS))
    res = run_task(tmp, "mlvu_dev_generation", {"mlvu": F.mlvu_generation(tmp / "mlvu")},
                   backend="test-script", backend_args={"answers_file": str(answers)})  # fmt: skip
    assert len(res.samples) == 7 and [r.sample_id for r in res.samples if r.error] == ["9_summary_3"]
    return res.run_dir


@pytest.fixture
def run_dir(finished_run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(finished_run, tmp_path / "run"))


def _judge(run_dir: Path, fake: FakeOpenAI, *extra: str, model: str = "gpt-4-turbo"):
    args = ["judge", str(run_dir), "--judge-model", model, "--judge-base-url", fake.base_url,
            "--judge-api-key-env", "JUDGE_KEY", *FAST, *extra]  # fmt: skip
    return CliRunner().invoke(app, args, env={"JUDGE_KEY": SECRET}, catch_exceptions=False)


def _g(run_dir: Path) -> dict:
    return json.loads((run_dir / "judge" / "mlvu_dev_generation" / "g_avg.json").read_text())


def _lines(run_dir: Path) -> dict[str, dict]:
    text = (run_dir / "judge" / "mlvu_dev_generation" / "judgements.jsonl").read_text()
    return {(d := json.loads(line))["sample_id"]: d for line in text.splitlines()}


def test_g_avg_is_the_hand_computed_value(run_dir: Path) -> None:
    with FakeOpenAI(_rule(fail_500=True), key=SECRET) as fake:
        res = _judge(run_dir, fake)
    assert res.exit_code == 1, res.output  # one judgement failed after retries: incomplete
    assert "1 judgement(s) failed after retries" in res.output
    s = _g(run_dir)["by_compression"]["4"]
    assert s["ssc"] == pytest.approx(SSC) and s["vs"] == pytest.approx(VS)
    assert s["g_avg"] == pytest.approx((SSC + VS) / 2)
    assert (s["n_judged"], s["n_unparsed"], s["n_judge_failed"], s["n_sample_failed"]) == (5, 1, 1, 1)
    assert s["verdict"] == (
        "scored over judged replies; 1 judgement(s) failed; 1 sample(s) failed in the run, not judged"
    )
    assert s["g_avg_parsed_only"] == pytest.approx(((9 + 5) / 2 + (7 + 10) / 2) / 2)  # unparsed left out
    doc = _g(run_dir)
    assert (doc["judge_model"], doc["temperature"], doc["base_url"]) == ("gpt-4-turbo", 0.0, fake.base_url)
    assert doc["prompt_sha256"] == prompt_digest()
    lines = _lines(run_dir)
    assert len(lines) == 7  # one line per sample, the failed ones included
    assert lines["8_sub_scene_0"]["status"] == "judged" and lines["8_sub_scene_0"]["scores"] == [4.0, 5.0]
    assert lines["8_sub_scene_0"]["reply"] == REPLIES["pred-ssc-0"]
    assert lines["8_sub_scene_2"]["status"] == "unparsed" and lines["8_sub_scene_2"]["contribution"] == [0, 0]
    assert lines["9_summary_2"]["status"] == "judge_failed"
    assert lines["9_summary_2"]["error"].startswith("HTTP 500 after 2 attempt(s)")
    assert lines["9_summary_3"]["status"] == "not_judged"
    assert "sample failed" in lines["9_summary_3"]["verdict"]
    # the failed sample is never sent; the 500 is tried twice: 5 + 2 requests
    assert len(fake.requests) == 7
    sent = {_pred(r["body"]["messages"][1]["content"]) for r in fake.requests}
    assert sent == set(REPLIES)
    # the official inputs: the question without newlines and the scoring points as the official f-string
    ssc0 = next(r["body"] for r in fake.requests if "pred-ssc-0" in r["body"]["messages"][1]["content"])
    assert ssc0["messages"][0]["content"] == SYSTEM_PROMPTS["ssc"] and ssc0["temperature"] == 0.0
    assert "Question: Describescene 0.\n" in ssc0["messages"][1]["content"]
    assert "Scoring Points: ['point 0a', 'point 0b']\n" in ssc0["messages"][1]["content"]
    vs0 = next(r["body"] for r in fake.requests if "pred-vs-0" in r["body"]["messages"][1]["content"])
    assert "Standard Answer: Standard summary 0.\n" in vs0["messages"][1]["content"]
    # show prints the G-avg line
    shown = CliRunner().invoke(app, ["show", str(run_dir)], catch_exceptions=False)
    assert shown.exit_code == 0 and f"G-avg mlvu_dev_generation comp 4: {(SSC + VS) / 2:.3f}" in shown.output


def test_the_key_is_written_nowhere(run_dir: Path) -> None:
    with FakeOpenAI(_rule(fail_500=True), key=SECRET) as fake:
        _judge(run_dir, fake)
    assert all(r["headers"]["authorization"] == f"Bearer {SECRET}" for r in fake.requests)  # it was used
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert any(p.name == "judgements.jsonl" for p in files)
    assert not [p for p in files if SECRET.encode() in p.read_bytes()]
    assert _g(run_dir)["judge"]["bearer_from"] == "env JUDGE_KEY"


def test_resume_sends_only_what_has_no_reply(run_dir: Path) -> None:
    with FakeOpenAI(_rule(fail_500=True), key=SECRET) as fake:
        assert _judge(run_dir, fake).exit_code == 1
    with FakeOpenAI(_rule(fail_500=False), key=SECRET) as fake:
        res = _judge(run_dir, fake)
        assert res.exit_code == 0, res.output
        assert [_pred(r["body"]["messages"][1]["content"]) for r in fake.requests] == ["pred-vs-500"]
        assert "sent 1, reused 5" in res.output
    s = _g(run_dir)["by_compression"]["4"]
    assert s["vs"] == pytest.approx((3 + 5 + 1) / 3 + (4 + 5 + 2) / 3) and s["n_judge_failed"] == 0
    assert s["verdict"] == "scored; 1 sample(s) failed in the run, not judged"
    with FakeOpenAI(_rule(fail_500=False), key=SECRET) as fake:
        assert _judge(run_dir, fake).exit_code == 0
        assert fake.requests == []  # everything judged: nothing sent again


def test_changed_prediction_is_judged_again(run_dir: Path) -> None:
    with FakeOpenAI(_rule(fail_500=False), key=SECRET) as fake:
        assert _judge(run_dir, fake).exit_code == 0
    samples = run_dir / "samples.jsonl"
    recs = [json.loads(line) for line in samples.read_text().splitlines()]
    for r in recs:
        if r["sample_id"] == "8_sub_scene_1":
            r["output"] = "pred-ssc-0"  # e.g. the run resumed with --retry-failed changed it
    samples.write_text("".join(json.dumps(r) + "\n" for r in recs))
    with FakeOpenAI(_rule(fail_500=False), key=SECRET) as fake:
        assert _judge(run_dir, fake).exit_code == 0
        assert len(fake.requests) == 1
    assert _lines(run_dir)["8_sub_scene_1"]["scores"] == [4.0, 5.0]


def test_another_judge_refuses_unless_rejudge(run_dir: Path) -> None:
    with FakeOpenAI(_rule(fail_500=False), key=SECRET) as fake:
        assert _judge(run_dir, fake).exit_code == 0
        res = _judge(run_dir, fake, model="qwen2.5-72b")
        assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
        assert "judge_model=gpt-4-turbo" in res.output and "--rejudge" in res.output
        before = len(fake.requests)
        res = _judge(run_dir, fake, "--rejudge", model="qwen2.5-72b")
        assert res.exit_code == 0, res.output
        assert len(fake.requests) - before == 6  # every judgeable sample again
    assert {d["judge_model"] for d in _lines(run_dir).values() if d["status"] == "judged"} == {"qwen2.5-72b"}
    assert _g(run_dir)["judge_model"] == "qwen2.5-72b"


def test_run_without_generation_records_exits_2(tmp_path: Path) -> None:
    res = run_task(tmp_path, "mlvu_dev", {"mlvu": F.mlvu_dev(tmp_path / "mlvu")}, backend="test-blind")
    with FakeOpenAI(_rule(fail_500=False)) as fake:
        out = _judge(res.run_dir, fake)
        assert fake.requests == []
    assert out.exit_code == 2 and len(out.output.strip().splitlines()) == 1
    assert "no MLVU generation records" in out.output
    assert not (res.run_dir / "judge").exists()
    bad = CliRunner().invoke(app, ["judge", str(tmp_path), "--judge-model", "m"], catch_exceptions=False)
    assert bad.exit_code == 2 and "no run.json" in bad.output
