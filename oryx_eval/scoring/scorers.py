"""Scorers: (extracted answer, sample) -> Score. Pure functions registered by name."""

from __future__ import annotations

from oryx_eval.records import Sample, Score
from oryx_eval.registry import SCORERS


@SCORERS.register("exact_match")
def exact_match(extracted: str | None, sample: Sample, case_sensitive: bool = True) -> Score:
    """1.0 when the extracted answer equals the target; an unparsable answer scores 0 and says so."""
    if extracted is None:
        return Score(value=0.0, extracted=None, explanation="unparsed")
    a, b = (extracted, sample.target) if case_sensitive else (extracted.lower(), sample.target.lower())
    return Score(value=float(a.strip() == b.strip()), extracted=extracted)
