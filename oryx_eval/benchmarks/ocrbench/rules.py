"""OCRBench matching rules: one verdict (0/1) per (prediction, ground-truth answers, source dataset).

``official`` reproduces ``Yuliang-Liu/MultimodalOCR:OCRBench/example.py`` (the scoring loop of its
``__main__``, identical in ``OCRBench/scripts/*.py``), quirks included:

- the HME100k branch is chosen by the *source dataset* ``HME100k`` (not the question type); it is
  case-sensitive and removes ``" "`` and ``"\\n"`` only (after ``strip()``), so tabs/CR inside stay;
- every other item: ``gt.lower().strip().replace("\\n", " ")`` is a substring of the prediction treated the
  same way; any ground truth of the list suffices, and an empty ground truth matches everything.

``robust`` is ``official`` plus lmms-eval PR #1415: full-width ASCII (U+FF01-U+FF5E) and the ideographic
space U+3000 folded to ASCII on both sides, non-HME items only (HME stays width-sensitive).

``lmms_legacy`` is lmms-eval's scorer before PR #1278, still in the Oryx fork: the prediction is lowercased
*before* the HME branch, so an HME ground truth with an uppercase letter can never match.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

Rule = Literal["official", "robust", "lmms_legacy"]
RULES: tuple[str, ...] = ("official", "robust", "lmms_legacy")
HME_DATASET = "HME100k"

QUESTION_TYPES: dict[str, int] = {
    "Regular Text Recognition": 50,
    "Irregular Text Recognition": 50,
    "Artistic Text Recognition": 50,
    "Handwriting Recognition": 50,
    "Digit String Recognition": 50,
    "Non-Semantic Text Recognition": 50,
    "Scene Text-centric VQA": 200,
    "Doc-oriented VQA": 200,
    "Key Information Extraction": 200,
    "Handwritten Mathematical Expression Recognition": 100,
}
"""The 10 question types and their full-benchmark item counts (sum 1,000), in the official print order."""
RECOGNITION_TYPES: tuple[str, ...] = tuple(list(QUESTION_TYPES)[:6])
"""The six types the official report sums as "Text Recognition" (300 items)."""
FULL_SIZE = sum(QUESTION_TYPES.values())

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def fold_fullwidth(text: str) -> str:
    """Full-width ASCII U+FF01-U+FF5E -> U+0021-U+007E and U+3000 -> space (lmms-eval #1415); nothing else."""
    return text.translate(_FULLWIDTH)


def _hme_norm(text: str) -> str:
    return text.strip().replace("\n", " ").replace(" ", "")


def _plain_norm(text: str) -> str:
    return text.lower().strip().replace("\n", " ")


def verdict(prediction: str, answers: Sequence[str], dataset: str, rule: Rule = "official") -> int:
    """1 if any ground truth matches ``prediction`` under ``rule``, else 0.

    Args:
        prediction: The model's raw output.
        answers: Ground-truth strings (the JSON's ``answers`` as a list; a plain string counts as one).
        dataset: Source dataset name (``dataset`` / ``dataset_name``); ``HME100k`` selects the HME branch.
        rule: ``official``, ``robust`` or ``lmms_legacy`` (module docstring).

    Raises:
        ValueError: an unknown rule.
    """
    if rule not in RULES:
        raise ValueError(f"unknown OCRBench rule {rule!r}; valid: {', '.join(RULES)}")
    gts = [answers] if isinstance(answers, str) else list(answers)
    pred = prediction.lower().strip() if rule == "lmms_legacy" else prediction
    if dataset == HME_DATASET:
        p = _hme_norm(pred)
        return int(any(_hme_norm(str(gt)) in p for gt in gts))
    if rule == "robust":
        pred = fold_fullwidth(pred)
        gts = [fold_fullwidth(str(gt)) for gt in gts]
    p = _plain_norm(pred)
    return int(any(_plain_norm(str(gt)) in p for gt in gts))
