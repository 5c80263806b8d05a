"""Shared multiple-choice pieces: the ``robust`` letter rule and metrics over recorded outputs.

The ``robust`` rule is stricter than the benchmarks' official parsers: a letter counts only when the text
presents it as the answer, so a verbose model cannot score by writing a capital letter ("Based on the
video..." is not B, "I think" is not I). In priority order (first rule that yields a letter wins):

1. the whole response is a letter, optionally in brackets and/or followed by ``.``, ``:`` or ``)``:
   ``B``, ``(B)``, ``B.``, ``[B]``;
2. the response starts with a letter followed by a delimiter: ``B. Candles``, ``(B) Candles``, ``B) ...``,
   ``B: ...``, ``B, because``;
3. an explicit statement: ``answer/option/choice (is|:) X`` (words case-insensitive, the letter a capital,
   the last such statement wins: models restate their final answer last);
4. exactly one distinct bracketed letter ``(X)`` anywhere.

Only letters naming an option are accepted (A-D for 4 options, A-F for 6). Anything else is a parse
failure (``None``), counted apart, never replaced by a guess.
"""

from __future__ import annotations

import re
from collections import defaultdict

from oryx_eval.records import SampleRecord
from oryx_eval.registry import EXTRACTORS, METRICS

LETTERS = "ABCDEFGHIJ"
_MARKUP = re.compile(r"[*_`#]+")
_WHOLE = re.compile(r"^[\(\[]?([A-J])[\)\]]?[.:)]?$")
_LEADING = re.compile(r"^(?:[\(\[]([A-J])[\)\]]|([A-J])(?:[.):,]|\s*-\s))")
_STATED = re.compile(
    r"(?i:answer|option|choice)\s*(?i:is|:)?\s*[:\-]?\s*(?i:option\s*)?[\(\[]?([A-J])(?![A-Za-z])"
)
_BRACKETED = re.compile(r"\(([A-J])\)")


def option_letters(n: int) -> str:
    """The letters of ``n`` options (``ABCD`` for 4)."""
    return LETTERS[: max(0, n)]


def robust_letter(text: str, letters: str) -> str | None:
    """The ``robust`` rule (module docstring): the letter a response states, or ``None``."""
    s = _MARKUP.sub("", text).strip()
    if not s:
        return None
    m = _WHOLE.match(s)
    if m and m.group(1) in letters:
        return m.group(1)
    m = _LEADING.match(s)
    if m:
        letter = m.group(1) or m.group(2)
        if letter in letters:
            return letter
    stated = [g for g in _STATED.findall(s) if g in letters]
    if stated:
        return stated[-1]
    bracketed = {g for g in _BRACKETED.findall(s) if g in letters}
    if len(bracketed) == 1:
        return bracketed.pop()
    return None


@EXTRACTORS.register("mc_robust")
def mc_robust(output: str, choices: list[str] | None, letters: str | None = None) -> str | None:
    """The ``robust`` rule as a task's answer extractor (letters default to the sample's options)."""
    return robust_letter(output, letters or option_letters(len(choices) if choices else 4))


def robust_of(rec: SampleRecord) -> str | None:
    """The robust verdict of a recorded sample (options from ``metadata['num_options']``, default 4)."""
    return robust_letter(rec.output, option_letters(int(rec.metadata.get("num_options", 4))))


def _generated(records: list[SampleRecord]) -> list[SampleRecord]:
    return [r for r in records if r.error is None]


@METRICS.register("robust_accuracy")
def robust_accuracy(records: list[SampleRecord]) -> float:
    """Accuracy under the robust rule over all questions (failed and unparsed samples count wrong)."""
    if not records:
        return float("nan")
    return sum(r.error is None and robust_of(r) == r.target for r in records) / len(records)


@METRICS.register("robust_parse_failure_rate")
def robust_parse_failure_rate(records: list[SampleRecord]) -> float:
    """Share of generated samples the robust rule cannot parse."""
    ok = _generated(records)
    return sum(robust_of(r) is None for r in ok) / len(ok) if ok else float("nan")


@METRICS.register("extraction_disagreement")
def extraction_disagreement(records: list[SampleRecord]) -> float:
    """Share of generated samples whose official and robust verdicts differ (a parse failure is a verdict)."""
    ok = _generated(records)
    return sum(r.extracted != robust_of(r) for r in ok) / len(ok) if ok else float("nan")


@METRICS.register("answered_accuracy")
def answered_accuracy(records: list[SampleRecord]) -> float:
    """Correct / answered: samples whose answer could not be extracted (or that failed) leave the
    denominator, as in the official VideoMME script (``eval_your_results``: ``if extration != ""``)."""
    ans = [r for r in _generated(records) if r.extracted is not None]
    return sum((r.score or 0.0) for r in ans) / len(ans) if ans else float("nan")


@METRICS.register("answered_rate")
def answered_rate(records: list[SampleRecord]) -> float:
    """Share of all questions that count in ``answered_accuracy``'s denominator."""
    if not records:
        return float("nan")
    return sum(r.error is None and r.extracted is not None for r in records) / len(records)


@METRICS.register("macro_accuracy")
def macro_accuracy(records: list[SampleRecord], key: str) -> float:
    """Unweighted mean over ``metadata[key]`` groups of each group's accuracy (failed samples count wrong)."""
    groups: dict[str, list[float]] = defaultdict(list)
    for r in records:
        groups[str(r.metadata.get(key))].append(0.0 if r.error else float(r.score or 0.0))
    if not groups:
        return float("nan")
    return sum(sum(v) / len(v) for v in groups.values()) / len(groups)
