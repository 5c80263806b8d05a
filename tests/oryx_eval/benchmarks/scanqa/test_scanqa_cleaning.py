"""ScanQA answer rules, case by case.

Cleaning: LEO ``data/data_utils.py::clean_answer`` as copied into
``ZCMax/LLaVA-3D:llava/eval/scanqa_evaluator.py::clean_answer``; matching: LEO
``evaluator/scanqa_eval.py::answer_match`` (same file, ``answer_match``); raw EM and question types:
``ATR-DBI/ScanQA:scripts/score.py::evals_json`` / ``qclass1``.
"""

from __future__ import annotations

import pytest

from oryx_eval.benchmarks.scanqa.cleaning import clean_answer, leo_match, official_em, question_type
from oryx_eval.benchmarks.scanqa.scoring import em_verdict, scanqa_em_scorer
from oryx_eval.records import Sample

CLEAN = [
    ("Brown", "brown"),  # lowercased
    ("brown.", "brown"),  # punctuation outside [a-z0-9,'\s\-:] dropped
    ("brown .", "brown "),  # trailing spaces are trimmed before the "." goes: a space stays
    ("  two  chairs ", "two chairs"),  # edge spaces trimmed, runs collapsed
    ("black-and-white", "black-and-white"),  # hyphen kept
    ("left, near door", "left, near door"),  # comma kept
    ("it's here", "it's here"),  # apostrophe kept
    ("façade", "faade"),  # ç is removed by the filter before the (dead) ç -> c rule
    ("it’s", "its"),  # ’ removed before the (dead) ’ -> ' rule
    ("letf side", "left side"),  # typo table
    ("let side", "left side"),
    ("rigth of tehre", "right of there"),
    ("behine the chai", "behind chair"),  # typos, then "the" dropped
    ("tv stand", "TV stand"),  # tv -> TV after lowercasing
    ("3 o' clock", "three o'clock"),
    ("oclock", "o'clock"),
    ("0", "zero"),
    ("none", "zero"),
    ("2", "two"),
    ("10", "ten"),
    ("23", "twenty-three"),
    ("21", "21"),  # not in the table
    ("2.5", "25"),  # the "." is dropped first, then 25 is not in the table
    ("chair2", "chair"),  # word + one digit: digit dropped
    ("a chair", "chair"),
    ("an apple", "apple"),
    ("the window", "window"),
    ("the 2 chairs", "two chairs"),  # digits become words first, then the article goes
    ("the 21 chairs", "the 21 chairs"),  # an article before digits is kept
    ("backwards", "backward"),
    ("", ""),
    ("!!!", ""),
]


@pytest.mark.parametrize(("raw", "clean"), CLEAN)
def test_clean_answer(raw: str, clean: str) -> None:
    assert clean_answer(raw) == clean


MATCH = [  # (prediction, answers, EM, refined) on cleaned strings
    ("brown", ["brown", "dark brown"], 1, 1),
    ("dark", ["brown", "dark brown"], 0, 1),  # prediction inside an answer
    ("dark brown wooden", ["dark brown"], 0, 1),  # answer inside the prediction
    ("next to table", ["nexttotable"], 0, 1),  # whitespace ignored by the refined match
    ("blue", ["brown"], 0, 0),
    ("", ["brown"], 0, 0),  # empty: LEO would give refined 1 ("" is in every string); ours 0
    (" ", ["brown"], 0, 0),
]


@pytest.mark.parametrize(("pred", "answers", "em", "refined"), MATCH)
def test_leo_match(pred: str, answers: list[str], em: int, refined: int) -> None:
    assert leo_match(pred, answers) == (em, refined)


def test_official_em_is_raw_membership() -> None:
    assert official_em("brown", ["brown"]) == 1
    assert official_em(" brown\n", ["brown"]) == 1  # stripped
    assert official_em("Brown", ["brown"]) == 0  # case counts
    assert official_em("brown.", ["brown"]) == 0
    assert official_em("", ["brown"]) == 0  # the official F-value would divide by zero here


def test_em_variants_of_one_output() -> None:
    answers = ["2"]
    assert [em_verdict("two", answers, v) for v in ("leo", "leo_refined", "raw")] == [1, 1, 0]
    assert [em_verdict("", answers, v) for v in ("leo", "leo_refined", "raw")] == [0, 0, 0]


def test_scorer_without_answers_scores_zero() -> None:
    s = Sample(id="q", task="t", question="?", target="", metadata={"answers": []})
    assert scanqa_em_scorer("brown", s).value == 0.0


@pytest.mark.parametrize(
    ("question", "qtype"),
    [
        ("Where is the chair?", "Place"),
        ("How many chairs are there?", "Number"),
        ("What color is the sofa?", "Color"),
        ("What is the color of the door?", "Color"),  # tested before "What is"
        ("What shape is the table?", "Object nature"),
        ("What type of chair is it?", "Object nature"),
        ("What kind of shelf is it?", "Object nature"),
        ("What is on the desk?", "Object"),
        ("Which side is the lamp on?", "Other"),
        ("where is the chair?", "Other"),  # case-sensitive
        ("What is next to the bed? Where?", "Place"),  # "Where" anywhere wins (tested first)
    ],
)
def test_question_types(question: str, qtype: str) -> None:
    assert question_type(question) == qtype
