"""VideoMME's official answer extraction (``extract_characters_regex`` of
``thanku-all/parse_answer:eval_your_results.py``, the script the Video-MME README points to).

Quirks kept on purpose: the prefix list has two missing commas, so "The best option is" and "Best answer:"
are never stripped on their own (only the concatenations "The best option isThe correct option is" and
"Best answer:Best option:" are); a response of more than 10 words without any of A-D is unanswered;
otherwise the answer is the first A/B/C/D anywhere (so "Based on the video" answers B). An empty result
("") means "not answered" and leaves the official denominator; we return ``None`` for it.
"""

from __future__ import annotations

import re

from oryx_eval.registry import EXTRACTORS

# the official list, concatenations included (missing commas in the original)
ANSWER_PREFIXES = (
    "The best answer is",
    "The correct answer is",
    "The answer is",
    "The answer",
    "The best option isThe correct option is",  # noqa: ISC001 - the official missing comma
    "Best answer:Best option:",  # noqa: ISC001 - the official missing comma
)


def official_videomme(text: str) -> str:
    """The official verdict: a letter A-D, or "" (not answered)."""
    s = text.strip()
    for prefix in ANSWER_PREFIXES:
        s = s.replace(prefix, "")
    if len(s.split()) > 10 and not re.search("[ABCD]", s):
        return ""
    m = re.search(r"[ABCD]", s)
    return "" if m is None else m[0]


@EXTRACTORS.register("videomme_official")
def videomme_official(output: str, choices: list[str] | None) -> str | None:
    """``official_videomme`` as the task's answer rule (``None`` = not answered)."""
    return official_videomme(output) or None
