"""Table-driven checks of the generic extractors on real-looking responses (4 options A-D unless noted).

Each row: response, what ``mc_letter`` extracts, what ``first_capital`` extracts. ``first_capital`` is a
plain rule (first valid capital anywhere); the rows document where it and ``mc_letter`` disagree.
"""

from __future__ import annotations

import pytest

from oryx_eval.scoring.extract import first_capital, mc_letter, strip

CH4 = ["red", "green", "blue", "grey"]

ROWS = [
    # bare and decorated letters
    ("A", "A", "A"),
    ("B", "B", "B"),
    ("C.", "C", "C"),
    ("D)", "D", "D"),
    ("(C)", "C", "C"),
    ("(c)", "C", None),
    (" B ", "B", "B"),
    ("B\n", "B", "B"),
    ("C: blue", "C", "C"),
    ("D - grey", "D", "D"),
    ("A. red", "A", "A"),
    ("(B) green", "B", "B"),
    ("[C]", "C", "C"),
    # explicit answer forms
    ("Answer: C", "C", "A"),
    ("answer: C", "C", "C"),
    ("Answer: (D)", "D", "A"),
    ("The answer is B.", "B", "B"),
    ("The answer is (C).", "C", "C"),
    ("The correct answer is D", "D", "D"),
    ("The correct option is C.", "C", "C"),
    ("Option B", "B", "B"),
    ("option c", "C", None),
    ("I choose option D.", "D", "D"),
    ("My choice: A", "A", "A"),
    ("Best choice is (b)", "B", "B"),
    # the article / pronoun must not become an option
    ("The answer is a red circle, option C.", "C", "C"),
    ("a red circle", None, None),
    ("A red circle appears in the middle of the video.", None, "A"),
    ("A red circle appears, so the answer is C.", "C", "A"),
    ("I think it is B.", "B", "B"),
    ("I am not sure.", None, None),
    ("It shows a cat.", None, None),
    # verbose answers
    ("Based on the video, the answer is C.", "C", "B"),
    ("Based on the frames shown, B is correct.", "B", "B"),
    ("Considering the scene, D.", "D", "C"),
    ("The video shows a blue square, which corresponds to C.", "C", "C"),
    ("After watching carefully: (D) grey.", "D", "A"),
    ("Sure! The answer is A.", "A", "A"),
    ("Correct answer: B) green", "B", "C"),
    ("C is the answer", "C", "C"),
    # letters outside the options, or none at all
    ("E", None, None),
    ("The answer is E.", None, None),
    ("", None, None),
    ("no idea", None, None),
    ("The needle is red.", None, None),
    ("blue", None, None),
    ("Xylophone", None, None),
    ("I pick C over B.", "C", "C"),
]


@pytest.mark.parametrize(("text", "want_mc", "want_first"), ROWS)
def test_generic_extractors(text: str, want_mc: str | None, want_first: str | None) -> None:
    assert mc_letter(text, CH4) == want_mc
    assert first_capital(text, CH4) == want_first


def test_table_is_large_enough() -> None:
    assert len(ROWS) >= 40


@pytest.mark.parametrize(
    ("text", "want"),
    [("E", "E"), ("The answer is F.", "F"), ("(e)", "E"), ("G", None), ("option f", "F")],
)
def test_six_options(text: str, want: str | None) -> None:
    assert mc_letter(text, list("123456")) == want


@pytest.mark.parametrize(("text", "want"), [("  a cat \n", "a cat"), ("", ""), ("B", "B")])
def test_strip(text: str, want: str) -> None:
    assert strip(text, None) == want
