"""OCRBench scorer and metrics, stateless: every number is recomputed from the records it is given.

The official aggregation (``MultimodalOCR/OCRBench/example.py``) tallies into module-level dicts, prints the
/1000 table only when exactly 1,000 results exist and otherwise divides per source dataset (a zero count
divides by zero); lmms-eval's ``ocrbench_aggregate_accuracy`` adds into a global never reset. Here the
score is a plain count of correct items over the records passed (per type via the task's breakdowns), so a
subset, a second run in the same process or a resumed run never changes it. A failed sample (error) is
never correct.
"""

from __future__ import annotations

from oryx_eval.benchmarks.ocrbench.rules import RECOGNITION_TYPES, RULES, Rule, verdict
from oryx_eval.records import Sample, SampleRecord, Score
from oryx_eval.registry import METRICS, SCORERS


def _meta(metadata: dict, key: str, sample_id: str) -> object:
    try:
        return metadata[key]
    except KeyError:
        raise ValueError(f"ocrbench: sample {sample_id!r} lacks metadata {key!r}") from None


def record_verdict(rec: SampleRecord, rule: Rule) -> int:
    """The verdict of one record under ``rule`` (0 for a failed sample)."""
    if rec.error is not None:
        return 0
    answers = _meta(rec.metadata, "answers", rec.sample_id)
    dataset = _meta(rec.metadata, "dataset", rec.sample_id)
    return verdict(rec.output, answers, str(dataset), rule)  # type: ignore[arg-type]


@SCORERS.register("ocrbench")
def ocrbench_scorer(extracted: str | None, sample: Sample, rule: Rule = "official") -> Score:
    """Per-item verdict: 1 when any ground truth matches the output under ``rule`` (``rules.py``)."""
    if rule not in RULES:
        raise ValueError(f"ocrbench scorer: unknown rule {rule!r}; valid: {', '.join(RULES)}")
    if extracted is None:
        return Score(value=0.0, extracted=None, explanation="unparsed")
    answers = _meta(sample.metadata, "answers", sample.id)
    dataset = _meta(sample.metadata, "dataset", sample.id)
    return Score(value=float(verdict(extracted, answers, str(dataset), rule)), extracted=extracted)  # type: ignore[arg-type]


def correct(records: list[SampleRecord], rule: Rule) -> int:
    """Number of records correct under ``rule``."""
    return sum(record_verdict(r, rule) for r in records)


def recognition_correct(records: list[SampleRecord], rule: Rule) -> int:
    """Correct records among the six recognition types."""
    return correct([r for r in records if r.metadata.get("question_type") in RECOGNITION_TYPES], rule)


# Metric names carry the rule, so run.json never holds two values under one name.
@METRICS.register("ocrbench_score")
def ocrbench_score(records: list[SampleRecord]) -> float:
    """Correct items under the official rule (the official score: out of 1,000 on the full benchmark)."""
    return float(correct(records, "official"))


@METRICS.register("ocrbench_score_robust")
def ocrbench_score_robust(records: list[SampleRecord]) -> float:
    """Correct items under the robust rule (official + full-width folding, lmms-eval #1415)."""
    return float(correct(records, "robust"))


@METRICS.register("ocrbench_score_lmms_legacy")
def ocrbench_score_lmms_legacy(records: list[SampleRecord]) -> float:
    """Correct items under lmms-eval's pre-#1278 rule (HME prediction lowercased; the Oryx fork)."""
    return float(correct(records, "lmms_legacy"))


@METRICS.register("ocrbench_text_recognition")
def ocrbench_text_recognition(records: list[SampleRecord]) -> float:
    """Correct items of the six recognition types, official rule ("Text Recognition", out of 300)."""
    return float(recognition_correct(records, "official"))


@METRICS.register("ocrbench_disagreements")
def ocrbench_disagreements(records: list[SampleRecord]) -> float:
    """Items whose verdict differs between the official and the robust rule."""
    return float(sum(record_verdict(r, "official") != record_verdict(r, "robust") for r in records))
