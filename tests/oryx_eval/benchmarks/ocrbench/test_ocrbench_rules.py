"""OCRBench verdicts pinned to the official rule.

Official: ``Yuliang-Liu/MultimodalOCR:OCRBench/example.py``, scoring loop of ``__main__`` (for each item:
``dataset_name == "HME100k"`` -> ``answer.strip().replace("\\n", " ").replace(" ", "")`` in the prediction
treated the same way; otherwise ``answer.lower().strip().replace("\\n", " ")`` in the prediction treated the
same way; any answer of a list). Robust: lmms-eval PR #1415 (fold U+FF01-U+FF5E and U+3000, non-HME only).
lmms_legacy: lmms-eval ``tasks/ocrbench/utils.py::ocrbench_process_results`` before PR #1278
(``pred = results[0].lower().strip()`` ahead of the HME branch).
"""

from __future__ import annotations

import pytest

from oryx_eval.benchmarks.ocrbench.rules import fold_fullwidth, verdict

HME = "HME100k"
HME_GT = ["V = \\frac { 4 } { 3 } \\pi R ^ { 3 }", "V=\\frac{4}{3}\\pi R^3"]

# (prediction, answers, dataset, official, robust, lmms_legacy)
CASES = [
    # --- non-HME: case-insensitive substring of the stripped, newline-spaced prediction
    ("CENTRE", ["CENTRE"], "IIIT5K", 1, 1, 1),
    ("centre", ["CENTRE"], "IIIT5K", 1, 1, 1),
    ("The word is Centre.", ["CENTRE"], "IIIT5K", 1, 1, 1),  # verbose answers score (substring)
    ("CENTER", ["CENTRE"], "IIIT5K", 0, 0, 0),
    ("CENT", ["CENTRE"], "IIIT5K", 0, 0, 0),  # the GT must be inside the prediction, not the reverse
    ("  exit  ", ["Exit"], "IC15_1811", 1, 1, 1),
    ("ex it", ["Exit"], "IC15_1811", 0, 0, 0),  # spaces are kept outside HME
    ("sun\nrise", ["sun rise"], "WordArt", 1, 1, 1),  # newline -> space on the prediction
    ("sun rise", ["sun\nrise"], "WordArt", 1, 1, 1),  # ... and on the ground truth
    ("sunrise", ["sun rise"], "WordArt", 0, 0, 0),
    ("sun\trise", ["sun rise"], "WordArt", 0, 0, 0),  # a tab is not turned into a space
    ("sun\r\nrise", ["sun rise"], "WordArt", 0, 0, 0),  # "\r\n" -> "\r " : no match
    ("10234", ["10234"], "ORAND", 1, 1, 1),
    ("1O234", ["10234"], "ORAND", 0, 0, 0),
    ("The number is 102345", ["10234"], "ORAND", 1, 1, 1),  # substring quirk: extra digit still scores
    ("", ["10234"], "ORAND", 0, 0, 0),  # empty output
    ("", [""], "ORAND", 1, 1, 1),  # an empty ground truth matches everything (quirk kept)
    ("anything", [" "], "ORAND", 1, 1, 1),  # " ".strip() == "" : matches everything
    ("12.50", ["$12.50", "12.50"], "docVQA", 1, 1, 1),  # any answer of the list
    ("$12.50", ["$12.50", "12.50"], "docVQA", 1, 1, 1),
    ("12,50", ["$12.50", "12.50"], "docVQA", 0, 0, 0),
    ("tan woon yann", ["TAN WOON YANN"], "SROIE", 1, 1, 1),
    ("TAN  WOON YANN", ["TAN WOON YANN"], "SROIE", 0, 0, 0),  # double space breaks the substring
    ("ÉCOLE", ["école"], "cocotext", 1, 1, 1),  # str.lower is Unicode-aware
    ("STRASSE", ["straße"], "svt", 0, 0, 0),  # lower(), not casefold()
    # --- full-width (lmms-eval #1415): official misses, robust folds both sides
    ("ＳＴＯＰ", ["STOP"], "STVQA", 0, 1, 0),
    ("STOP", ["ＳＴＯＰ"], "STVQA", 0, 1, 0),
    ("ｓｔｏｐ", ["STOP"], "STVQA", 0, 1, 0),
    ("１００％", ["100%"], "textVQA", 0, 1, 0),
    ("STOP　100%", ["STOP 100%"], "STVQA", 0, 1, 0),  # ideographic space U+3000
    ("（Ａ）", ["(a)"], "ChartQA", 0, 1, 0),
    ("①", ["1"], "ChartQA", 0, 0, 0),  # circled digits are not folded (no NFKC)
    ("x²", ["x2"], "infographicVQA", 0, 0, 0),  # superscripts are not folded
    ("ｋｍ", ["km"], "POIE", 0, 1, 0),
    # --- HME100k: case-sensitive, " " and "\n" removed from both sides
    ("V = \\frac { 4 } { 3 } \\pi R ^ { 3 }", HME_GT, HME, 1, 1, 0),
    ("V=\\frac{4}{3}\\piR^{3}", HME_GT, HME, 1, 1, 0),
    ("V = \\frac{4}{3} \\pi R^3", HME_GT, HME, 1, 1, 0),  # matches the second variant
    ("The answer is $V=\\frac{4}{3}\\pi R^{3}$", HME_GT, HME, 1, 1, 0),  # substring
    ("v = \\frac { 4 } { 3 } \\pi r ^ { 3 }", HME_GT, HME, 0, 0, 0),  # wrong case never matches
    ("V=\\frac{4}{3}\\pi\nR^{3}", HME_GT, HME, 1, 1, 0),  # newline removed too
    ("V=\\frac{4}{3}\\pi\tR^{3}", HME_GT, HME, 0, 0, 0),  # a tab is not removed
    ("Ｖ=\\frac{4}{3}\\piR^{3}", HME_GT, HME, 0, 0, 0),  # HME stays width-sensitive under robust
    ("x ^ { 2 } + 1", ["x ^ { 2 } + 1"], HME, 1, 1, 1),  # all-lowercase GT: legacy matches too
    ("X^{2}+1", ["x ^ { 2 } + 1"], HME, 0, 0, 1),  # legacy lowercases only the prediction
    ("", HME_GT, HME, 0, 0, 0),
    # the HME branch follows the source dataset, not the question type
    ("V=\\frac{4}{3}\\piR^{3}", ["V = \\frac { 4 } { 3 } \\pi R ^ { 3 }"], "IAM", 0, 0, 0),
    ("v = \\frac { 4 } { 3 } \\pi r ^ { 3 }", ["V = \\frac { 4 } { 3 } \\pi R ^ { 3 }"], "IAM", 1, 1, 1),
    # a plain-string answer (851 of the JSON's items) behaves as a one-item list
    ("Exit now", "Exit", "IC15_1811", 1, 1, 1),
]


@pytest.mark.parametrize(("pred", "answers", "dataset", "official", "robust", "legacy"), CASES)
def test_verdicts(pred, answers, dataset, official, robust, legacy) -> None:
    assert verdict(pred, answers, dataset, "official") == official
    assert verdict(pred, answers, dataset, "robust") == robust
    assert verdict(pred, answers, dataset, "lmms_legacy") == legacy


def test_at_least_forty_cases() -> None:
    assert len(CASES) >= 40


def test_fold_fullwidth_range_only() -> None:
    assert fold_fullwidth("！～　") == "!~ "
    assert fold_fullwidth("ｦ①²㎏漢") == "ｦ①²㎏漢"  # half-width katakana, compatibility chars, CJK untouched


def test_unknown_rule_raises() -> None:
    with pytest.raises(ValueError, match="valid: official, robust, lmms_legacy"):
        verdict("a", ["a"], "IIIT5K", "nfkc")  # type: ignore[arg-type]
