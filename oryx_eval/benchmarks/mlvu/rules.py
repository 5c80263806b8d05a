"""MLVU's official answer check (``check_ans`` of ``JUNJIE99/MLVU:evaluation/multiple_choice_evaluation/
choice_bench.py``).

The authors prompt with the assistant prefix "Best option: (" and compare the ground-truth letter with
the character just before the first ")" of the stripped response; a response without ")" is compared
whole (so "B" is right but "B." is wrong), and a ")" at position 0 gives the empty string. We return what
the official code compares (``None`` for the empty string), and the scorer compares it with the letter.
"""

from __future__ import annotations

from oryx_eval.registry import EXTRACTORS


def official_mlvu(text: str) -> str:
    """What ``check_ans`` compares with the ground-truth letter (the response is stripped first)."""
    pred = text.strip()
    if ")" in pred:
        i = pred.index(")")
        pred = pred[i - 1 : i]  # pred[-1:0] == "" when ")" is first, as in the original
    return pred


@EXTRACTORS.register("mlvu_official")
def mlvu_official(output: str, choices: list[str] | None) -> str | None:
    """``official_mlvu`` as the task's answer rule (``None`` when it is empty)."""
    return official_mlvu(output) or None
