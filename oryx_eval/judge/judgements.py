"""One line of ``judge/<task>/judgements.jsonl``: the judge's verdict on one (sample, compression).

``status``: ``judged`` (both scores found), ``unparsed`` (a reply without both scores: its official
contribution, 0 when the official parser would crash, still in the denominator), ``judge_failed``
(no reply after retries: counted apart, sent again by the next ``oryx-eval judge``), ``not_judged``
(the sample failed in the run or lacks its reference: never sent, counted apart).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from oryx_eval.errors import RunStoreError
from oryx_eval.judge.mlvu import JudgeItem, JudgeRecord
from oryx_eval.judge.mlvu_prompts import JudgeTask
from oryx_eval.results import write_text_atomic

Status = Literal["judged", "unparsed", "judge_failed", "not_judged"]
REPLIED: tuple[Status, ...] = ("judged", "unparsed")
IDENTITY = ("judge_model", "prompt_sha256", "temperature")
"""Fields that change a judgement: a line judged otherwise is not reused without ``--rejudge``."""


def input_digest(item: JudgeItem) -> str:
    """sha256 (16 hex) of what the judge is shown: a changed prediction is judged again."""
    blob = json.dumps([item.task, item.question, item.reference, item.prediction])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class Judgement(BaseModel):
    sample_id: str
    compression: str
    task: JudgeTask
    status: Status
    verdict: str
    """One line: the two scores, or why there are none."""
    scores: list[float] = Field(default_factory=list)
    contribution: tuple[float, float] = (0.0, 0.0)
    reply: str | None = None
    """The judge's raw reply."""
    official_crash: bool = False
    error: str | None = None
    attempts: int = 0
    latency_s: float = 0.0
    usage: dict[str, Any] | None = None
    input_sha256: str | None = None
    judge_model: str | None = None
    prompt_sha256: str | None = None
    temperature: float | None = None
    base_url: str | None = None
    judged_at: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.sample_id, self.compression)

    def identity(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in IDENTITY}

    def to_record(self) -> JudgeRecord:
        """The ``aggregate`` input (``not_judged`` lines have none)."""
        return JudgeRecord(sample_id=self.sample_id, task=self.task, reply=self.reply, scores=self.scores,
                           contribution=self.contribution, parsed=self.status == "judged",
                           official_crash=self.official_crash, error=self.error)  # fmt: skip


def _verdict(rec: JudgeRecord) -> tuple[Status, str]:
    if rec.error is not None:
        return "judge_failed", f"judge failed: {rec.error}"
    if rec.parsed:
        a, b = rec.scores
        return "judged", f"{a:g} + {b:g} = {a + b:g}"
    why = "the official parser would crash" if rec.official_crash else f"{len(rec.scores)} of 2 scores found"
    return "unparsed", f"unparsed ({why}): counts {rec.contribution[0]:g} + {rec.contribution[1]:g}"


def from_record(rec: JudgeRecord, item: JudgeItem, compression: str, judge: dict[str, Any]) -> Judgement:
    """A line for one judge reply (or failure); ``judge`` is ``LLMJudge.describe()``."""
    status, verdict = _verdict(rec)
    return Judgement(
        sample_id=rec.sample_id, compression=compression, task=rec.task, status=status, verdict=verdict,
        scores=rec.scores, contribution=rec.contribution, reply=rec.reply, official_crash=rec.official_crash,
        error=rec.error, attempts=rec.attempts, latency_s=rec.latency_s, usage=rec.usage,
        input_sha256=input_digest(item), judge_model=judge["model"], prompt_sha256=judge["prompt_sha256"],
        temperature=judge["temperature"], base_url=judge["base_url"],
        judged_at=datetime.now(timezone.utc).isoformat(),
    )  # fmt: skip


def not_judged(sample_id: str, compression: str, task: JudgeTask, reason: str) -> Judgement:
    return Judgement(sample_id=sample_id, compression=compression, task=task, status="not_judged",
                     verdict=f"not judged: {reason}", error=reason)  # fmt: skip


def read_judgements(path: Path) -> dict[tuple[str, str], Judgement]:
    """The lines of a judgements file by key (empty when there is none)."""
    if not path.exists():
        return {}
    out = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                j = Judgement.model_validate_json(line)
            except ValueError as e:
                raise RunStoreError(f"{path}:{n}: not a judgement line ({str(e).splitlines()[0]})") from None
            out[j.key] = j
    return out


def write_judgements(path: Path, lines: list[Judgement], redact: Callable[[str], str]) -> None:
    """All lines, atomically (temp file + rename); ``redact`` removes the API key from every reply."""
    write_text_atomic(path, redact("".join(j.model_dump_json() + "\n" for j in lines)))
