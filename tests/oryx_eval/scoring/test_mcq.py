"""The robust rule (``oryx_eval/scoring/mcq.py`` docstring) and the metrics computed from records."""

from __future__ import annotations

import math

import pytest

from oryx_eval.records import SampleRecord
from oryx_eval.scoring.mcq import (
    answered_accuracy,
    extraction_disagreement,
    macro_accuracy,
    mc_robust,
    robust_accuracy,
    robust_letter,
)

# (response, letters, robust verdict)
CASES = [
    ("A", "ABCD", "A"),
    ("(B)", "ABCD", "B"),
    ("B.", "ABCD", "B"),
    ("[C]", "ABCD", "C"),
    ("D)", "ABCD", "D"),
    ("C:", "ABCD", "C"),
    ("B. Candles", "ABCD", "B"),
    ("(B) Candles", "ABCD", "B"),
    ("B) candles", "ABCD", "B"),
    ("B: candles", "ABCD", "B"),
    ("B, because the video shows it", "ABCD", "B"),
    ("Based on the video, the man is cooking.", "ABCD", None),
    ("I think so.", "ABCD", None),
    ("The answer is C.", "ABCD", "C"),
    ("the answer is (D)", "ABCD", "D"),
    ("Answer: A", "ABCD", "A"),
    ("The correct option is B", "ABCD", "B"),
    ("My choice: C", "ABCD", "C"),
    ("The best option is (A).", "ABCD", "A"),
    ("answer: b", "ABCD", None),  # the letter must be a capital
    ("The answer is A. Wait, the answer is C.", "ABCD", "C"),  # the last statement wins
    ("The man holds a cup (B).", "ABCD", "B"),
    ("Either (A) or (B).", "ABCD", None),  # two distinct: ambiguous
    ("(A) and again (A)", "ABCD", "A"),
    ("E", "ABCD", None),
    ("E", "ABCDE", "E"),
    ("F", "ABCDEF", "F"),
    ("(E) sixth", "ABCDEF", "E"),
    ("The answer is E", "ABCD", None),
    ("The answer is E", "ABCDE", "E"),
    ("", "ABCD", None),
    ("   ", "ABCD", None),
    ("**B**", "ABCD", "B"),
    ("**Answer: C**", "ABCD", "C"),
    ("A man is walking.", "ABCD", None),
    ("A dog", "ABCD", None),
    ("I", "ABCD", None),
    ("Definitely A", "ABCD", None),
    ("Correct: C", "ABCD", None),
    ("none", "ABCD", None),
    ("Option D", "ABCD", "D"),
    ("option D", "ABCD", "D"),
    ("Choice (B)", "ABCD", "B"),
    ("The answer is: D", "ABCD", "D"),
    ("Answer - A", "ABCD", "A"),
    ("answer is option C", "ABCD", "C"),
    ("Best option: (B", "ABCD", "B"),
    ("B\n", "ABCD", "B"),
    ("\n(C)\n", "ABCD", "C"),
    ("D - date", "ABCD", "D"),
    ("Dates are shown.", "ABCD", None),
    ("Candles.", "ABCD", None),
    ("BC", "ABCD", None),
    ("The answer is B) banana", "ABCD", "B"),
    ("The answerB", "ABCD", "B"),
    ("Answer: Apples", "ABCD", None),
    ("It could be (C), I am not sure", "ABCD", "C"),
    ("The option A seems right", "ABCD", "A"),
    ("C) cherry (B) banana", "ABCD", "C"),
    ("`A`", "ABCD", "A"),
    ("# B", "ABCD", "B"),
    ("answer is A, definitely", "ABCD", "A"),
]


@pytest.mark.parametrize(("response", "letters", "verdict"), CASES)
def test_robust_verdict(response: str, letters: str, verdict: str | None) -> None:
    assert robust_letter(response, letters) == verdict


def test_case_count() -> None:
    assert len(CASES) >= 60


def test_mc_robust_letters_follow_options() -> None:
    assert mc_robust("E", ["a", "b", "c", "d", "e", "f"]) == "E"
    assert mc_robust("E", ["a", "b", "c", "d"]) is None


def _rec(sid: str, out: str, extracted: str | None, target: str, score: float, **kw) -> SampleRecord:
    return SampleRecord(
        sample_id=sid,
        task="t",
        compression="4",
        output=out,
        extracted=extracted,
        target=target,
        score=score,
        **kw,
    )


def test_metrics_from_records() -> None:
    recs = [
        _rec("1", "The answer is B.", "B", "B", 1.0, metadata={"t": "x", "num_options": 4}),
        _rec("2", "Based on it, C", "B", "B", 1.0, metadata={"t": "x", "num_options": 4}),  # official lucky
        _rec(
            "3",
            "I do not know at all what this video is about, sorry friend ok",
            None,
            "A",
            0.0,
            metadata={"t": "y", "num_options": 4},
        ),
        _rec(
            "4", "", None, "A", 0.0, error="missing media file: x.mp4", metadata={"t": "y", "num_options": 4}
        ),
    ]
    assert answered_accuracy(recs) == 1.0  # 2 correct of 2 answered
    assert robust_accuracy(recs) == 0.25  # only sample 1 is right under the robust rule
    assert math.isclose(extraction_disagreement(recs), 1 / 3)  # sample 2 differs (B vs None); 3 both None
    assert macro_accuracy(recs, key="t") == 0.5  # x: 1.0, y: 0.0
