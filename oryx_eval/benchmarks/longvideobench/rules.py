"""LongVideoBench's answer parser without its random fallback (``parse_multi_choice_response`` of
``EvolvingLMMs-Lab/lmms-eval:lmms_eval/tasks/longvideobench/utils.py``, "same as the original
LongVideoBench paper").

Kept: its prefix list (no "The best answer is"), the >10-words rule and the first A-E anywhere, even for a
question with fewer options (an "E" on a 4-option item is simply wrong). Changed: where the original picks
``random.choice(all_choices)`` we return ``None``: a parse failure is counted and reported, never a guess.
"""

from __future__ import annotations

import re

from oryx_eval.registry import EXTRACTORS

ANSWER_PREFIXES = (
    "The correct answer is",
    "The answer is",
    "The answer",
    "The best option is",
    "The correct option is",
    "Best answer:",
    "Best option:",
)


def official_lvb(text: str) -> str | None:
    """The official verdict (a letter A-E), or ``None`` where the original would guess at random."""
    s = text.strip()
    for prefix in ANSWER_PREFIXES:
        s = s.replace(prefix, "")
    if len(s.split()) > 10 and not re.search("[ABCDE]", s):
        return None
    m = re.search(r"[ABCDE]", s)
    return None if m is None else m[0]


@EXTRACTORS.register("lvb_official")
def lvb_official(output: str, choices: list[str] | None) -> str | None:
    """``official_lvb`` as the task's answer rule."""
    return official_lvb(output)
