"""Answer extraction, scoring and metrics on hand-written cases."""

from __future__ import annotations

import math

import pytest

from oryx_eval.records import Sample, SampleRecord
from oryx_eval.scoring.extract import first_capital, mc_letter
from oryx_eval.scoring.metrics import accuracy, failure_rate, parse_failure_rate
from oryx_eval.scoring.scorers import exact_match

CH4 = ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("B", "B"),
        ("(C) because", "C"),
        ("The answer is D.", "D"),
        ("answer: (a)", "A"),
        ("Based on the video, B.", "B"),
        ("I think it is E", None),  # E is not an option of a 4-choice question; 'I' is not either
        ("", None),
        ("no idea", None),
    ],
)
def test_mc_letter(text: str, want: str | None) -> None:
    assert mc_letter(text, CH4) == want


def test_first_capital_is_a_plain_first_capital_rule() -> None:
    # the first capital option letter anywhere, even inside a word (documented; not an official rule)
    assert first_capital("Based on the video, C.", CH4) == "B"
    assert mc_letter("Based on the video, C.", CH4) == "C"
    assert first_capital("E and F", ["1", "2", "3", "4", "5", "6"]) == "E"


def test_exact_match_and_unparsed() -> None:
    s = Sample(id="x", task="t", question="q", choices=CH4, target="B")
    assert exact_match("B", s).value == 1.0
    assert exact_match("C", s).value == 0.0
    un = exact_match(None, s)
    assert un.value == 0.0 and un.explanation == "unparsed"


def _rec(score: float | None, err: str | None = None, extracted: str | None = "A") -> SampleRecord:
    return SampleRecord(sample_id="s", task="t", compression="4", score=score, error=err, extracted=extracted)


def test_metrics() -> None:
    recs = [_rec(1.0), _rec(0.0), _rec(0.0, err="boom", extracted=None), _rec(0.0, extracted=None)]
    assert accuracy(recs) == pytest.approx(0.25)
    assert accuracy(recs, failed="exclude") == pytest.approx(1 / 3)
    assert failure_rate(recs) == pytest.approx(0.25)
    assert parse_failure_rate(recs) == pytest.approx(1 / 3)
    assert math.isnan(accuracy([]))
