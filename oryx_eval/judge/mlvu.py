"""The LLM judge of MLVU's generation tasks (sub-scene captioning ``ssc``, video summary ``summary``).

``LLMJudge.judge(items)`` sends each (question, reference, prediction) with MLVU's official prompt
(``mlvu_prompts``) through an OpenAI-compatible endpoint and parses the reply with the official rule
(``parse``). ``aggregate(records, judge)`` gives the official per-task averages and G-avg:
SSC = mean accuracy + mean relevance, VS = mean completeness + mean reliability (each 2..10),
G-avg = (SSC + VS) / 2. Without a judge, ``aggregate(..., judge=None)`` says "not scored: no judge
configured". A judgement that failed (HTTP errors after retries) is counted apart, never as a score
(the official script loops until every reply exists, so it never averages a failure either).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, Field

from oryx_eval.backends.openai_chat import parse_completion
from oryx_eval.backends.openai_client import (
    MalformedResponse,
    RequestFailed,
    call_with_retries,
    chat_create,
    describe_error,
    make_client,
    make_endpoint,
    redact,
)
from oryx_eval.judge.mlvu_prompts import (
    JUDGE_MODEL,
    JUDGE_TEMPERATURE,
    SCORE_KEYS,
    SYSTEM_PROMPTS,
    JudgeTask,
    prompt_digest,
    user_message,
)
from oryx_eval.judge.parse import contribution, extract_scores

NOT_CONFIGURED = "not scored: no judge configured"


class JudgeItem(BaseModel):
    """One generation to judge; ``reference`` = scoring points (ssc) or the standard answer (summary)."""

    sample_id: str
    task: JudgeTask
    question: str
    reference: str
    prediction: str


class JudgeRecord(BaseModel):
    """The judge's verdict on one item (the raw reply is kept)."""

    sample_id: str
    task: JudgeTask
    reply: str | None = None
    scores: list[float] = Field(default_factory=list)
    """What the official extraction found, in key order (may be shorter than 2)."""
    contribution: tuple[float, float] = (0.0, 0.0)
    """Added to the task's (first, second) official sums."""
    parsed: bool = False
    """Both scores were found."""
    official_crash: bool = False
    error: str | None = None
    attempts: int = 0
    latency_s: float = 0.0
    usage: dict[str, Any] | None = None


class LLMJudge:
    """MLVU's judge behind an OpenAI-compatible endpoint (default model gpt-4-turbo, temperature 0)."""

    def __init__(
        self, model: str = JUDGE_MODEL, base_url: str | None = None, api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY", api_key_file: str | None = None, timeout_s: float = 120.0,
        max_retries: int = 4, backoff_s: float = 1.0, backoff_max_s: float = 30.0, concurrency: int = 4,
        temperature: float = JUDGE_TEMPERATURE,
    ) -> None:  # fmt: skip
        self.endpoint, self._key = make_endpoint(
            base_url, api_key, api_key_env, api_key_file, timeout_s, max_retries, backoff_s, backoff_max_s
        )
        self.client = make_client(self.endpoint, self._key)
        self.model = model
        self.temperature = temperature
        self.concurrency = max(1, concurrency)

    def describe(self) -> dict[str, Any]:
        """Judge model, endpoint (no key), temperature and the official prompts with their digest."""
        return {
            "model": self.model, "temperature": self.temperature, **self.endpoint.describe(),
            "concurrency": self.concurrency, "prompt_sha256": prompt_digest(),
            "prompt_source": "JUNJIE99/MLVU generation_evaluation/evaluate_ssc.py::annotate, "
                             "evaluation/generation_evaluation/evaluate_summary.py::annotate",
            "system_prompts": SYSTEM_PROMPTS,
        }  # fmt: skip

    def redact(self, text: str) -> str:
        """``text`` with this judge's API key replaced by ``***`` (for anything written to disk)."""
        return redact(text, self._key)

    def _one(self, item: JudgeItem) -> JudgeRecord:
        msgs = [
            {"role": "system", "content": SYSTEM_PROMPTS[item.task]},
            {
                "role": "user",
                "content": user_message(item.task, item.question, item.reference, item.prediction),
            },
        ]
        t0 = time.perf_counter()
        rec = JudgeRecord(sample_id=item.sample_id, task=item.task)
        try:
            resp, rec.attempts = call_with_retries(
                lambda: chat_create(
                    self.client, model=self.model, messages=msgs, temperature=self.temperature
                ),
                self.endpoint,
            )
            text, _, rec.usage = parse_completion(resp)
        except RequestFailed as e:
            rec.attempts, rec.error = e.attempts, describe_error(e, self._key)
        except MalformedResponse as e:
            rec.error = redact(f"malformed judge response: {e}", self._key)
        rec.latency_s = time.perf_counter() - t0
        if rec.error is not None:
            return rec
        rec.reply = text
        rec.scores, rec.official_crash = extract_scores(text, SCORE_KEYS[item.task])
        rec.contribution = contribution(rec.scores, rec.official_crash)
        rec.parsed = len(rec.scores) == 2 and not rec.official_crash
        return rec

    def judge(self, items: list[JudgeItem]) -> list[JudgeRecord]:
        """Judge every item, ``concurrency`` requests at a time, in order."""
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="oryx-judge") as pool:
            return list(pool.map(self._one, items))


def judge_from_options(model: str | None, **endpoint: Any) -> LLMJudge | None:
    """The judge a run configured (``--judge-model`` and endpoint options), or ``None`` when no judge
    model is given, which ``aggregate`` reports as "not scored: no judge configured"."""
    return None if not model else LLMJudge(model=model, **endpoint)


class TaskScore(BaseModel):
    """Official averages of one generation task."""

    task: JudgeTask
    n_judged: int
    n_failed: int
    n_unparsed: int
    first: float
    """Mean accuracy (ssc) / completeness (summary), 1..5."""
    second: float
    """Mean relevance (ssc) / reliability (summary), 1..5."""
    total: float
    """first + second (the task's score on MLVU's 10-point scale)."""


class GenerationScore(BaseModel):
    """G-avg and its parts, or why there is none."""

    verdict: str
    g_avg: float | None = None
    tasks: dict[str, TaskScore] = Field(default_factory=dict)
    judge: dict[str, Any] | None = None


def task_score(task: JudgeTask, records: list[JudgeRecord]) -> TaskScore | None:
    """The official ``calculate.py`` / ``calculate_sum.py`` averages over the judged replies."""
    mine = [r for r in records if r.task == task]
    ok = [r for r in mine if r.error is None]
    if not ok:
        return None
    first = sum(r.contribution[0] for r in ok) / len(ok)
    second = sum(r.contribution[1] for r in ok) / len(ok)
    return TaskScore(
        task=task, n_judged=len(ok), n_failed=len(mine) - len(ok), n_unparsed=sum(not r.parsed for r in ok),
        first=first, second=second, total=first + second,
    )  # fmt: skip


def aggregate(records: list[JudgeRecord], judge: LLMJudge | None) -> GenerationScore:
    """G-avg = (SSC total + VS total) / 2 over judged replies; failures counted apart."""
    if judge is None:
        return GenerationScore(verdict=NOT_CONFIGURED)
    tasks = {t: s for t in ("ssc", "summary") if (s := task_score(t, records)) is not None}
    failed = sum(r.error is not None for r in records)
    if len(tasks) < 2:
        missing = sorted({"ssc", "summary"} - set(tasks))
        verdict = f"no G-avg: no judged replies for {', '.join(missing)}"
        return GenerationScore(verdict=verdict, tasks=tasks, judge=judge.describe())
    g = (tasks["ssc"].total + tasks["summary"].total) / 2
    verdict = "scored" if failed == 0 else f"scored over judged replies; {failed} judgement(s) failed"
    return GenerationScore(verdict=verdict, g_avg=g, tasks=tasks, judge=judge.describe())
