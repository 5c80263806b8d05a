"""Answer extraction rules (registered by name; the rule used is recorded with every result)."""

from __future__ import annotations

import re

from oryx_eval.registry import EXTRACTORS

_PATTERNS = (
    r"(?:answer|option|choice)\s*(?:is|:)?\s*[:\-]?\s*\(?([A-Z])\b\)?",  # "The answer is (B)"
    r"^\s*\(?([A-Z])\)?(?:[.):,\s]|$)",  # "B." / "(B)" / "B" at the start
    r"\(([A-Z])\)",  # "(B)" anywhere
    r"\b([A-Z])\b",  # a lone capital anywhere (last resort)
)


@EXTRACTORS.register("mc_letter")
def mc_letter(output: str, choices: list[str] | None, letters: str | None = None) -> str | None:
    """Robust multiple-choice letter: explicit "answer is X" forms first, then leading or lone letters.

    Only letters that name an option count (A-D for 4 options, A-F for 6), so "I" or "A" used as words
    after a valid pattern failed are not mistaken for answers beyond the option range.
    """
    valid = letters or "ABCDEFGHIJ"[: len(choices) if choices else 4]
    text = output.strip()
    for pat in _PATTERNS:
        for m in re.finditer(pat, text, flags=re.IGNORECASE if pat.startswith("(?:") else 0):
            letter = m.group(1).upper()
            if letter in valid:
                return letter
    return None


@EXTRACTORS.register("first_capital")
def first_capital(output: str, choices: list[str] | None, letters: str | None = None) -> str | None:
    """The official VideoMME/LongVideoBench rule: the first capital option letter anywhere in the text."""
    valid = letters or "ABCDEFGHIJ"[: len(choices) if choices else 4]
    m = re.search(f"[{valid}]", output)
    return m.group(0) if m else None


@EXTRACTORS.register("strip")
def strip(output: str, choices: list[str] | None) -> str | None:
    """The output itself, whitespace-stripped (free-text tasks)."""
    return output.strip()
