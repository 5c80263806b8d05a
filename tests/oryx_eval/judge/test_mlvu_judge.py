"""MLVU's generation-task judge: official prompt text, official score parsing, G-avg over loopback.

Rules pinned from JUNJIE99/MLVU: ``generation_evaluation/evaluate_ssc.py::annotate`` and
``evaluation/generation_evaluation/evaluate_summary.py::annotate`` (prompts, temperature 0),
``generation_evaluation/calculate.py::extract_scores`` / ``calculate_sum.py`` (parsing, averaging).
"""

from __future__ import annotations

import pytest

from oryx_eval.judge import NOT_CONFIGURED, JudgeItem, LLMJudge, aggregate, judge_from_options
from oryx_eval.judge.mlvu_prompts import SCORE_KEYS, SYSTEM_PROMPTS, prompt_digest, user_message
from oryx_eval.judge.parse import contribution, extract_scores
from tests.oryx_eval.fake_openai import Action, FakeOpenAI

FAST = {"timeout_s": 2.0, "max_retries": 1, "backoff_s": 0.01, "backoff_max_s": 0.02}
SSC, VS = SCORE_KEYS["ssc"], SCORE_KEYS["summary"]


def test_prompts_are_the_official_indented_strings() -> None:
    ssc = SYSTEM_PROMPTS["ssc"]
    assert ssc.startswith("\n" + " " * 28 + "##TASK DESCRIPTION: \n" + " " * 28 + "You are required")
    assert ssc.endswith("'total_score': score_acc + score_rele}\n" + " " * 24)
    assert "respondent\u2019s answer to the question" in ssc  # the official curly apostrophe
    assert SYSTEM_PROMPTS["summary"].count("\n" + " " * 28 + "Score ") == 10
    u = user_message("ssc", "What\nhappens?", "1. a man runs", "He runs.")
    assert u == (
        "\n" + " " * 28 + "Please score the respondent's answer according to the steps in the Instructions. "
        "You must end with a JSON dict to store the scores.\n"
        + " " * 28
        + "Question: Whathappens?\n"
        + " " * 28
        + "Scoring Points: 1. a man runs\n"
        + " " * 28
        + "Respondent's Answer: He runs.\n"
        + " " * 24
    )
    assert "Question" not in user_message("summary", "q", "ref", "pred")  # the question is not shown
    assert len(prompt_digest()) == 16


@pytest.mark.parametrize(
    ("text", "keys", "scores", "crash"),
    [
        ("... {'score_accuracy': 4, 'score_relevance': 5, 'total_score': 9}", SSC, [4.0, 5.0], False),
        ("{'score_accuracy': 3.5, 'score_relevance': 2, 'total_score': 5.5}", SSC, [3.5, 2.0], False),
        # first occurrence wins, even inside the rationale
        (
            "score_accuracy: 2, because ... {'score_accuracy': 4, 'score_relevance': 5, }",
            SSC,
            [2.0, 5.0],
            False,
        ),
        # a missing key just shortens the list: the relevance score lands in the first slot
        ("{'score_relevance': 5, 'total_score': 5}", SSC, [5.0], False),
        # no comma after the last number: slice to the last character ("3}" -> "3")
        ("{'score_completeness': 4, 'score_reliability': 3}", VS, [4.0, 3.0], False),
        # the official float() would raise here (no space after the colon; text after the brace)
        ('{"score_accuracy":4, "score_relevance":5}', SSC, [], True),
        ("{'score_completeness': 4, 'score_reliability': 3}\n", VS, [4.0], True),
        ("no scores at all", SSC, [], False),
    ],
)
def test_official_extract_scores(text: str, keys: tuple[str, str], scores: list[float], crash: bool) -> None:
    assert extract_scores(text, keys) == (scores, crash)


def test_contribution_follows_the_official_try_block() -> None:
    assert contribution([4.0, 5.0], False) == (4.0, 5.0)
    assert contribution([5.0], False) == (5.0, 0.0)  # accu += scores[0] ran before scores[1] raised
    assert contribution([], False) == (0.0, 0.0)
    assert contribution([4.0], True) == (0.0, 0.0)


def _reply(text: str) -> str:
    return f"Rationale ... {text}"


REPLIES = {
    "pred-ssc-1": _reply("{'score_accuracy': 4, 'score_relevance': 5, 'total_score': 9}"),
    "pred-ssc-2": _reply("{'score_accuracy': 2, 'score_relevance': 3, 'total_score': 5}"),
    "pred-ssc-3": "I cannot score this.",  # unparsed: 0 + 0, still in the denominator
    "pred-vs-1": _reply("{'score_completeness': 3, 'score_reliability': 4, 'total_score': 7}"),
    "pred-vs-2": _reply("{'score_completeness': 5, 'score_reliability': 5, 'total_score': 10}"),
}


def _rule(text: str, attempt: int) -> Action:
    pred = text.rsplit("Respondent's Answer: ", 1)[1].strip()
    if pred == "pred-vs-fail":
        return Action(status=500)
    return Action(text=REPLIES[pred])


def _items() -> list[JudgeItem]:
    ssc = [JudgeItem(sample_id=f"s{i}", task="ssc", question="Describe the scene.",
                     reference="1. point", prediction=f"pred-ssc-{i}") for i in (1, 2, 3)]  # fmt: skip
    vs = [JudgeItem(sample_id=f"v{i}", task="summary", question="Summarise.", reference="ref",
                    prediction=f"pred-vs-{i}") for i in ("1", "2", "fail")]  # fmt: skip
    return ssc + vs


def test_judge_over_loopback_gives_official_g_avg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUDGE_KEY", "sk-judge-secret")
    with FakeOpenAI(_rule, key="sk-judge-secret") as fake:
        judge = LLMJudge(model="gpt-4-turbo", base_url=fake.base_url, api_key_env="JUDGE_KEY", **FAST)
        recs = judge.judge(_items())
    body = fake.requests[0]["body"]
    assert body["model"] == "gpt-4-turbo" and body["temperature"] == 0.0
    assert body["messages"][0]["content"] in (SYSTEM_PROMPTS["ssc"], SYSTEM_PROMPTS["summary"])
    by = {r.sample_id: r for r in recs}
    assert by["s1"].scores == [4.0, 5.0] and by["s1"].parsed
    assert not by["s3"].parsed and by["s3"].error is None and by["s3"].contribution == (0.0, 0.0)
    assert by["vfail"].error.startswith("HTTP 500 after 2 attempt(s)")
    score = aggregate(recs, judge)
    ssc, vs = score.tasks["ssc"], score.tasks["summary"]
    assert (ssc.n_judged, ssc.n_unparsed, ssc.first, ssc.second) == (3, 1, 2.0, 8 / 3)
    assert (vs.n_judged, vs.n_failed, vs.total) == (2, 1, 8.5)
    assert score.g_avg == pytest.approx((2.0 + 8 / 3 + 8.5) / 2)
    assert score.verdict == "scored over judged replies; 1 judgement(s) failed"
    rec = score.judge
    assert rec["model"] == "gpt-4-turbo" and rec["prompt_sha256"] == prompt_digest()
    assert rec["bearer_from"] == "env JUDGE_KEY" and "sk-judge-secret" not in score.model_dump_json()


def test_without_a_judge_nothing_is_scored() -> None:
    assert judge_from_options(None, base_url="http://127.0.0.1:9/v1") is None
    score = aggregate([], judge_from_options(""))
    assert score.verdict == NOT_CONFIGURED == "not scored: no judge configured" and score.g_avg is None


def test_one_task_missing_gives_no_g_avg() -> None:
    with FakeOpenAI(_rule) as fake:
        judge = LLMJudge(base_url=fake.base_url, **FAST)
        recs = judge.judge(_items()[:2])
    score = aggregate(recs, judge)
    assert score.g_avg is None and score.verdict == "no G-avg: no judged replies for summary"
