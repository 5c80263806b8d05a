"""ScanQA corpus metrics against values computed once with pycocoevalcap 1.2 and frozen here.

The frozen values were computed with the official calls of ``ATR-DBI/ScanQA:scripts/score.py::eval_pycoco``
(``PTBTokenizer().tokenize`` on answers and on predictions separately, then ``Bleu(4)``, ``Meteor()``,
``Rouge()``, ``Cider()``, x100) on the fixture's 12 questions and scripted outputs, for raw texts
(``none``) and LEO-cleaned texts (``leo``); OpenJDK 17.
"""

from __future__ import annotations

import math
import shutil

import pytest

from oryx_eval.benchmarks.scanqa import coco
from oryx_eval.benchmarks.scanqa.cleaning import clean_answer
from oryx_eval.benchmarks.scanqa.coco import JAVA_MISSING, CocoScorer
from oryx_eval.errors import MetricNotComputed
from oryx_eval.records import MetricValue
from oryx_eval.results import _compute
from tests.oryx_eval.benchmarks.scanqa.fixtures import QUESTIONS, SCRIPTED

FROZEN = {
    "none": {"bleu1": 80.9523809446712, "bleu2": 80.47478160652372, "bleu3": 72.97211848104682,
             "bleu4": 66.3911539127531, "meteor": 46.219749386602786, "rouge_l": 69.48473587469032,
             "cider": 251.40760392996572},
    "leo": {"bleu1": 84.085286115703, "bleu2": 82.57011180865898, "bleu3": 68.57451732325632,
            "bleu4": 2.3501208836882235, "meteor": 48.05719758382867, "rouge_l": 78.82331626808799,
            "cider": 272.96999142021065},
}  # fmt: skip

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="java missing (.ci/run installs it)")


def corpus(cleaning: str) -> tuple[list[list[str]], list[str]]:
    f = clean_answer if cleaning == "leo" else (lambda s: s)
    return [[f(a) for a in q[2]] for q in QUESTIONS], [f(h) for h in SCRIPTED]


@needs_java
def test_frozen_values_with_few_jvm_starts() -> None:
    scorer = coco.SCORER
    start = scorer.jvm_starts
    for cleaning in ("none", "leo"):
        refs, hyps = corpus(cleaning)
        got = scorer.scores(refs, hyps)
        assert got == pytest.approx(FROZEN[cleaning], rel=1e-9, abs=1e-9)
    assert scorer.jvm_starts - start <= 3  # <= 2 tokenizer calls + 1 METEOR process, not one per metric
    before = scorer.jvm_starts
    refs, hyps = corpus("none")
    scorer.scores(refs[:6], hyps[:6])  # a subset: new corpus, texts already tokenised, METEOR reused
    assert scorer.jvm_starts == before


def test_java_missing_is_not_computed_never_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coco, "java_available", lambda: False)
    scorer = CocoScorer()
    refs, hyps = corpus("none")
    with pytest.raises(MetricNotComputed, match=JAVA_MISSING):
        scorer.scores(refs, hyps)
    value, note = _compute(lambda recs: scorer.scores(refs, hyps)["cider"], [], {})
    assert value != value and note == JAVA_MISSING  # NaN with the reason
    assert MetricValue(task="t", name="scanqa_cider", value=value, compression="4", n=12, note=note).note


def test_empty_corpus_and_missing_references() -> None:
    scorer = CocoScorer()
    with pytest.raises(MetricNotComputed, match="no samples"):
        scorer.scores([], [])
    with pytest.raises(MetricNotComputed, match="no reference answers"):
        scorer.scores([[]], ["brown"])


class _DeadMeteor:
    def compute_score(self, gts, res):  # noqa: ANN001, ANN201 - stand-in for a METEOR whose JVM died
        raise BrokenPipeError("[Errno 32] Broken pipe")


def test_meteor_failure_leaves_the_other_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coco, "java_available", lambda: True)
    scorer = CocoScorer()
    refs, hyps = [["brown"], ["two chairs"]], ["brown", "two"]
    scorer._tokens = {t: t for t in ("brown", "two chairs", "two")}  # pre-tokenised: no JVM needed
    scorer._meteor = _DeadMeteor()
    out = scorer.scores(refs, hyps)
    assert out["meteor"].startswith("not computed: METEOR failed: BrokenPipeError")
    # unigram precision 2/2, brevity penalty exp(1 - 3/2) (closest ref lengths 1 + 2 vs 2 hypothesis words)
    assert out["bleu1"] == pytest.approx(100 * math.exp(-0.5), rel=1e-6)
    f = (1 + 1.2**2) * 1.0 * 0.5 / (0.5 + 1.2**2 * 1.0)  # ROUGE-L of "two" vs "two chairs" (beta 1.2)
    assert out["rouge_l"] == pytest.approx(100 * (1.0 + f) / 2, rel=1e-9)
    assert isinstance(out["cider"], float)
    assert scorer._meteor is None  # closed; the next call starts a fresh one
