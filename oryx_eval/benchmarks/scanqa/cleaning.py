"""ScanQA answer rules: LEO's answer cleaning and EM / refined EM, the official question types.

``clean_answer`` applies the rules of LEO's ``data/data_utils.py::clean_answer``
(``embodied-generalist/embodied-generalist``), as copied into
``ZCMax/LLaVA-3D:llava/eval/scanqa_evaluator.py``, in the same order, quirks kept: spaces are trimmed
*before* punctuation is dropped (so ``"brown ."`` keeps a trailing space), ``ç -> c`` and ``’ -> '``
come after the character filter has already removed those characters (dead rules), and ``tv`` becomes
``TV`` after lowercasing.

``leo_match`` is LEO's ``evaluator/scanqa_eval.py::answer_match`` (EM: the cleaned prediction is one of
the cleaned answers; refined: whitespace-free substring in either direction) with one deliberate change:
an empty (cleaned) prediction scores 0 on both instead of refined 1 (``"" in s`` is true for any ``s``),
and callers count it as empty.

``question_type`` is ``ATR-DBI/ScanQA:scripts/score.py::qclass1`` (case-sensitive prefix tests in order).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

QUESTION_TYPES = ("Place", "Number", "Color", "Object nature", "Object", "Other")

_NUMBERS = {
    "0": "zero", "none": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six",
    "7": "seven", "8": "eight", "9": "nine", "10": "ten", "11": "eleven", "12": "twelve", "13": "thirteen",
    "14": "fourteen", "15": "fifteen", "16": "sixteen", "17": "seventeen", "18": "eighteen",
    "19": "nineteen", "20": "twenty", "23": "twenty-three",
}  # fmt: skip
_TYPOS = {
    "letf": "left", "let": "left", "tehre": "there", "rigth": "right", "rght": "right", "behine": "behind",
    "tv": "TV", "chai": "chair", "wasing": "washing", "waslked": "walked", "oclock": "o'clock",
}  # fmt: skip

# (pattern, replacement) in LEO's order
_STEPS: list[tuple[str, str]] = [
    (r"[ ]+$", ""),
    (r"^[ ]+", ""),
    (r" {2,}", " "),
    (r"\.[ ]{2,}", ". "),
    (r"[^a-zA-Z0-9,'\s\-:]+", ""),
    (r"ç", "c"),
    (r"’", "'"),
    *[(rf"\b{w}\b", r) for w, r in _TYPOS.items()],
    (r"\bo'[ ]+clock\b", "o'clock"),
    *[(rf"\b{d}\b", w) for d, w in _NUMBERS.items()],
    (r"\b([a-zA-Z]+)([0-9])\b", r"\g<1>"),  # no1, mat2 -> no, mat
    (r"\ba\b ([a-zA-Z]+)", r"\g<1>"),
    (r"\ban\b ([a-zA-Z]+)", r"\g<1>"),
    (r"\bthe\b ([a-zA-Z]+)", r"\g<1>"),
    (r"\bbackwards\b", "backward"),
]
_COMPILED = [(re.compile(p), r) for p, r in _STEPS]


def clean_answer(text: str) -> str:
    """LEO's answer normalisation (module docstring)."""
    out = text.lower()
    for pat, rep in _COMPILED:
        out = pat.sub(rep, out)
    return out


def _squash(text: str) -> str:
    return "".join(text.split())


def leo_match(pred: str, answers: Sequence[str]) -> tuple[int, int]:
    """``(EM, refined EM)`` of an already cleaned prediction against cleaned answers (module docstring)."""
    if not pred.strip():
        return 0, 0
    if pred in answers:
        return 1, 1
    p = _squash(pred)
    for gt in answers:
        g = _squash(gt)
        if p in g or g in p:
            return 0, 1
    return 0, 0


def official_em(pred: str, answers: Sequence[str]) -> int:
    """``ATR-DBI/ScanQA:scripts/score.py::evals_json`` top-1 EM: the answer string is one of the answers.

    The model's output is stripped first (the official answer is a vocabulary string); no other
    normalisation, so case and punctuation count.
    """
    p = pred.strip()
    return int(bool(p) and p in answers)


def question_type(question: str) -> str:
    """The official ScanQA question class (``Place``, ``Number``, ``Color``, ``Object nature``, ``Object``,
    ``Other``)."""
    if "Where" in question:
        return "Place"
    if "How many" in question:
        return "Number"
    if "What color" in question or "What is the color" in question:
        return "Color"
    if "What shape" in question or "What type" in question or "What kind" in question:
        return "Object nature"
    if "What is" in question:
        return "Object"
    return "Other"
