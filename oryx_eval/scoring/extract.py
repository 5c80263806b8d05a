"""Answer extraction rules (registered by name; the rule used is recorded with every result).

Benchmarks' official rules live with their benchmark (``oryx_eval/benchmarks/<name>/``); these are the
generic ones.
"""

from __future__ import annotations

import re

from oryx_eval.registry import EXTRACTORS

# Option letters count as capitals only; lowercase letters only in explicit forms ("(c)", "option c"),
# so the article in "The answer is a red circle" is never read as option A.
_PATTERNS = (
    r"(?i:answer|option|choice)\s*(?i:is|:)?\s*[:\-]?\s*\(?([A-Z])\b\)?",  # "The answer is (B)", "Answer: C"
    r"(?i:option|choice)\s+\(?([a-z])\b\)?",  # "option c", "choice (d)"
    r"^\s*\(?([A-Z])\)?(?=[.):,]|\s*$|\s+[A-Z(\-–:])",  # "B." / "(B)" / "B" / "C - red" at the start
    r"\(([A-Za-z])\)",  # "(B)" / "(b)" anywhere
    r"\b([A-Z])\b",  # a lone capital anywhere (last resort; "A"/"I" before a lowercase word are words)
)
_WORD_LETTERS = "AI"


@EXTRACTORS.register("mc_letter")
def mc_letter(output: str, choices: list[str] | None, letters: str | None = None) -> str | None:
    """Robust multiple-choice letter: explicit "answer is X" forms first, then leading or lone letters.

    Only letters that name an option count (A-D for 4 options, A-F for 6). Letters are capitals, except
    in the explicit forms "(c)" and "option c"; a lone "A" or "I" followed by a lowercase word is the
    article or pronoun, not an option.
    """
    valid = letters or "ABCDEFGHIJ"[: len(choices) if choices else 4]
    text = output.strip()
    for i, pat in enumerate(_PATTERNS):
        for m in re.finditer(pat, text):
            letter = m.group(1).upper()
            if letter not in valid:
                continue
            last_resort = i == len(_PATTERNS) - 1
            if last_resort and m.group(1) in _WORD_LETTERS and re.match(r"\s+[a-z]", text[m.end() :]):
                continue
            return letter
    return None


@EXTRACTORS.register("first_capital")
def first_capital(output: str, choices: list[str] | None, letters: str | None = None) -> str | None:
    """A plain first-capital rule: the first valid capital option letter anywhere in the text, even
    inside a word ("Based on" -> B) or as an article ("A red circle" -> A).

    It is *not* the official VideoMME or LongVideoBench rule (those strip answer prefixes, give up on
    long answers and differ from each other); their exact rules live with their benchmarks.
    """
    valid = letters or "ABCDEFGHIJ"[: len(choices) if choices else 4]
    m = re.search(f"[{valid}]", output)
    return m.group(0) if m else None


@EXTRACTORS.register("strip")
def strip(output: str, choices: list[str] | None) -> str | None:
    """The output itself, whitespace-stripped (free-text tasks)."""
    return output.strip()
