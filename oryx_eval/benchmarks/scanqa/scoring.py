"""ScanQA scorer and metrics (all x100, as ``ATR-DBI/ScanQA:scripts/score.py`` prints them).

- ``scanqa_em``: EM@1 after LEO cleaning of prediction and answers (LLaVA-3D's "EM1"); the per-sample
  score. ``scanqa_em_refined``: LEO's refined EM (substring either way). ``scanqa_em_raw``: the official
  ScanQA EM@1 (stripped output is one of the raw answers).
- ``scanqa_empty``: outputs that are empty after cleaning (they score 0 everywhere; the official script's
  F-value divides by the answer's token count and crashes on them, LEO's refined EM gives them 1).
- ``scanqa_bleu1..4``, ``scanqa_meteor``, ``scanqa_rouge_l``, ``scanqa_cider``: pycocoevalcap corpus
  metrics (``coco.py``); ``cleaning: none`` (official: raw texts into the PTB tokenizer) or ``leo``
  (LLaVA-3D: cleaned texts). CIDEr's IDF comes from the evaluated set's answers, so a subset or a
  per-type breakdown is not comparable to a full-val number (the report flags it).

A failed sample counts as an empty prediction: wrong, never dropped from the denominator.
"""

from __future__ import annotations

from typing import Literal

from oryx_eval.benchmarks.scanqa.cleaning import clean_answer, leo_match, official_em
from oryx_eval.benchmarks.scanqa.coco import SCORER
from oryx_eval.errors import MetricNotComputed
from oryx_eval.records import Sample, SampleRecord, Score
from oryx_eval.registry import METRICS, SCORERS

Cleaning = Literal["none", "leo"]
EmVariant = Literal["leo", "leo_refined", "raw"]


def _answers(metadata: dict, sid: str) -> list[str]:
    try:
        return list(metadata["answers"])
    except KeyError:
        raise ValueError(f"scanqa: sample {sid!r} lacks metadata 'answers'") from None


def em_verdict(output: str, answers: list[str], variant: EmVariant) -> int:
    """EM of one output under ``variant`` (``leo``, ``leo_refined`` or ``raw``)."""
    if variant == "raw":
        return official_em(output, answers)
    em, refined = leo_match(clean_answer(output), [clean_answer(a) for a in answers])
    return em if variant == "leo" else refined


def _text(rec: SampleRecord) -> str:
    return "" if rec.error is not None else rec.output


def _em_mean(records: list[SampleRecord], variant: EmVariant) -> float:
    if not records:
        raise MetricNotComputed("not computed: no samples")
    scored = [(r, _answers(r.metadata, r.sample_id)) for r in records]
    if any(not a for _, a in scored):
        raise MetricNotComputed("not computed: no ground-truth answers (test split: submit to EvalAI)")
    return 100.0 * sum(em_verdict(_text(r), a, variant) for r, a in scored) / len(scored)


@SCORERS.register("scanqa_em")
def scanqa_em_scorer(extracted: str | None, sample: Sample, variant: EmVariant = "leo") -> Score:
    """Per-sample EM (0/1) under ``variant``; a sample without answers (test split) scores 0."""
    answers = _answers(sample.metadata, sample.id)
    if extracted is None or not answers:
        return Score(value=0.0, extracted=extracted, explanation="no answers" if not answers else "unparsed")
    return Score(value=float(em_verdict(extracted, answers, variant)), extracted=extracted)


@METRICS.register("scanqa_em")
def scanqa_em(records: list[SampleRecord]) -> float:
    """EM@1 after LEO cleaning (x100)."""
    return _em_mean(records, "leo")


@METRICS.register("scanqa_em_refined")
def scanqa_em_refined(records: list[SampleRecord]) -> float:
    """LEO refined EM (x100); empty outputs score 0."""
    return _em_mean(records, "leo_refined")


@METRICS.register("scanqa_em_raw")
def scanqa_em_raw(records: list[SampleRecord]) -> float:
    """The official ScanQA EM@1 on the stripped raw output (x100)."""
    return _em_mean(records, "raw")


@METRICS.register("scanqa_empty")
def scanqa_empty(records: list[SampleRecord]) -> float:
    """Number of generated outputs that are empty after LEO cleaning (failed samples are not counted)."""
    return float(sum(1 for r in records if r.error is None and not clean_answer(r.output).strip()))


def corpus_scores(records: list[SampleRecord], cleaning: Cleaning = "none") -> dict[str, float | str]:
    """All pycocoevalcap metrics of ``records`` (x100), cached per corpus."""
    if cleaning not in ("none", "leo"):
        raise ValueError(f"scanqa: cleaning must be 'none' or 'leo', got {cleaning!r}")
    prep = clean_answer if cleaning == "leo" else (lambda s: s)
    refs = [[prep(a) for a in _answers(r.metadata, r.sample_id)] for r in records]
    hyps = [prep(_text(r)) for r in records]
    return SCORER.scores(refs, hyps)


def _corpus_metric(name: str):  # noqa: ANN202 - registered metric factory
    def metric(records: list[SampleRecord], cleaning: Cleaning = "none") -> float:
        value = corpus_scores(records, cleaning)[name]
        if isinstance(value, str):
            raise MetricNotComputed(value)
        return value

    metric.__name__ = f"scanqa_{name}"
    metric.__doc__ = f"pycocoevalcap {name} (x100) of the records, PTB-tokenised (``cleaning``: none or leo)."
    return metric


for _name in ("bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rouge_l", "cider"):
    METRICS.register(f"scanqa_{_name}")(_corpus_metric(_name))
