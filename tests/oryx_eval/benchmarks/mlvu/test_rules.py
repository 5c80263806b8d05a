"""MLVU official rule, verdicts derived by reading ``JUNJIE99/MLVU:evaluation/multiple_choice_evaluation/
choice_bench.py`` ``check_ans`` (the response is ``.strip()``-ed by the caller): if ")" is in the response,
compare the one character before the first ")" (``pred[i-1:i]``, "" when ")" is first), else the whole
response, with ``==`` against the ground-truth letter."""

from __future__ import annotations

import pytest

from oryx_eval.benchmarks.mlvu.rules import mlvu_official, official_mlvu

# (response, what check_ans compares, correct for ground truth "B")
CASES = [
    ("A) red", "A", False), ("B) blue", "B", True), ("(B) blue", "B", True), ("B", "B", True),
    ("B.", "B.", False), (" C) green ", "C", False), (")", "", False), ("The answer is (B)", "B", True),
    ("The answer is B", "The answer is B", False), ("E) sixth", "E", False), ("F)", "F", False),
    ("blue", "blue", False), ("B) blue (the sky)", "B", True), ("Option (B) blue", "B", True),
    (":)", ":", False), ("A)B)", "A", False), ("b) blue", "b", False), ("", "", False), ("AB", "AB", False),
    ("D)", "D", False), ("(D)", "D", False), ("[B]", "[B]", False), ("B)\nblue", "B", True),
    ("Best option: (B)", "B", True), ("Best option: B", "Best option: B", False),
    ("C) the answer (B) is wrong", "C", False), ("  B  ", "B", True), ("1) first", "1", False),
    ("B ) blue", " ", False), ("(B)(C)", "B", True), ("B)", "B", True), ("\nB) blue\n", "B", True),
    ("(A) red", "A", False), ("(C) green", "C", False), ("(E) five", "E", False), ("(F) six", "F", False),
    ("A", "A", False), ("C", "C", False), ("D", "D", False), ("E", "E", False), ("F", "F", False),
    ("b", "b", False), ("(b)", "b", False), ("B:", "B:", False), ("B. blue", "B. blue", False),
    ("I choose B)", "B", True), ("Answer: B)", "B", True), ("x) y B) z", "x", False),
    ("The best option is B) blue", "B", True), ("(B", "(B", False), ("B (blue)", "e", False),
    ("blue)", "e", False), ("))", "", False), ("B))", "B", True), ("A) B) C)", "A", False),
    ("B)blue", "B", True), ("Option B) blue", "B", True), ("(B) (C)", "B", True), ("BB)", "B", True),
    ("Best Option: (B) blue", "B", True), ("B\n", "B", True),
]  # fmt: skip


@pytest.mark.parametrize(("response", "compared", "correct"), CASES)
def test_official_verdict(response: str, compared: str, correct: bool) -> None:
    assert official_mlvu(response) == compared
    extracted = mlvu_official(response, None)
    assert extracted == (compared or None)
    # the task scores with exact_match (strip + ==); the official compares without strip: same verdicts
    assert ((extracted or "").strip() == "B") == correct == (compared == "B")


def test_case_count() -> None:
    assert len(CASES) >= 60
