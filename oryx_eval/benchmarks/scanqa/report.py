"""ScanQA reports: ``scanqa_table`` (val scores, overall and per question type) and ``scanqa_submission``
(the EvalAI file for the test split).

``scanqa_table`` writes ``scanqa_scores.json`` and ``scanqa_results.txt`` per compression setting
(``_c{ratio}`` suffix when several): EM (LEO), refined EM, raw EM, BLEU-1..4, METEOR, ROUGE-L, CIDEr,
empty outputs and failures for all questions and for each official question type (corpus metrics per type
are computed on that type's questions, as ``score.py --detailed`` does). Metrics that cannot be computed
say why (``not computed: java missing``); a set smaller than the question file is flagged
``subset: CIDEr/BLEU not comparable to full-split numbers``.

``scanqa_submission`` writes ``pred.<split>.json`` as ``ATR-DBI/ScanQA:scripts/predict.py`` does: a list of
``{scene_id, question_id, answer_top10}`` with the model's answer as the single candidate (the model
predicts no box, so ``bbox`` is left out).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from oryx_eval.benchmarks.scanqa.cleaning import QUESTION_TYPES, clean_answer
from oryx_eval.benchmarks.scanqa.scoring import (
    Cleaning,
    corpus_scores,
    scanqa_em,
    scanqa_em_raw,
    scanqa_em_refined,
)
from oryx_eval.errors import MetricNotComputed
from oryx_eval.records import SampleRecord
from oryx_eval.registry import REPORTS
from oryx_eval.reports import by_compression, suffix

NOT_COMPARABLE = "subset: CIDEr/BLEU not comparable to full-split numbers"


def _try(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except MetricNotComputed as e:
        return str(e)


def score_row(records: list[SampleRecord], cleaning: Cleaning, split_size: int | None) -> dict[str, Any]:
    """Every ScanQA number for one set of records (a ``not computed: ...`` string where one is missing)."""
    row: dict[str, Any] = {
        "n": len(records),
        "failed": sum(r.error is not None for r in records),
        "empty_outputs": sum(1 for r in records if r.error is None and not clean_answer(r.output).strip()),
        "em": _try(scanqa_em, records),
        "em_refined": _try(scanqa_em_refined, records),
        "em_raw": _try(scanqa_em_raw, records),
    }
    corpus = _try(corpus_scores, records, cleaning)
    row.update(corpus if isinstance(corpus, dict) else {"corpus_metrics": corpus})
    row["comparable"] = split_size is not None and len(records) == split_size
    if not row["comparable"]:
        row["flag"] = NOT_COMPARABLE
    return row


def _fmt(v: Any) -> str:
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def _text_table(rows: dict[str, dict[str, Any]]) -> str:
    cols = (
        "n",
        "em",
        "em_refined",
        "em_raw",
        "bleu1",
        "bleu2",
        "bleu3",
        "bleu4",
        "meteor",
        "rouge_l",
        "cider",
    )
    lines = ["\t".join(("set", *cols, "empty", "failed"))]
    notes = []
    for name, row in rows.items():
        lines.append("\t".join((name, *[_fmt(row.get(c, "-")) for c in cols], str(row["empty_outputs"]),
                                str(row["failed"]))))  # fmt: skip
        for key in ("corpus_metrics", "flag"):
            if key in row:
                notes.append(f"{name}: {row[key]}")
    return "\n".join(lines + [""] + notes) + "\n"


@REPORTS.register("scanqa_table")
def scanqa_table(
    records: list[SampleRecord], out_dir: Path, task: str, cleaning: Cleaning = "none"
) -> list[Path]:
    """Write ``scanqa_scores.json`` and ``scanqa_results.txt`` (module docstring)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_comp = by_compression(records, task, "scanqa_table")
    written: list[Path] = []
    for comp, recs in by_comp.items():
        sfx = suffix(comp, by_comp)
        split_size = recs[0].metadata.get("split_size")
        rows = {"all": score_row(recs, cleaning, split_size)}
        for qt in QUESTION_TYPES:
            sub = [r for r in recs if r.metadata.get("question_type") == qt]
            if sub:
                rows[qt] = score_row(sub, cleaning, None)
        meta = recs[0].metadata
        info = {"task": task, "compression": comp, "cleaning": cleaning, "split_size": split_size,
                "view_rule": meta.get("view_rule"), "num_views": meta.get("num_views"),
                "scores": rows}  # fmt: skip
        js = out / f"scanqa_scores{sfx}.json"
        js.write_text(json.dumps(info, indent=2) + "\n")
        txt = out / f"scanqa_results{sfx}.txt"
        txt.write_text(
            f"ScanQA {task} (compression {comp}, views {meta.get('view_rule')})\n" + _text_table(rows)
        )
        written += [js, txt]
    return written


@REPORTS.register("scanqa_submission")
def scanqa_submission(
    records: list[SampleRecord],
    out_dir: Path,
    task: str,
    split: str = "test_w_obj",
    cleaning: Literal["none", "leo"] = "none",
) -> list[Path]:
    """Write ``pred.<split>.json`` for EvalAI (failed samples get an empty answer and are listed apart)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_comp = by_compression(records, task, "scanqa_submission")
    written: list[Path] = []
    for comp, recs in by_comp.items():
        sfx = suffix(comp, by_comp)
        preds = []
        for r in recs:
            text = "" if r.error is not None else r.output.strip()
            preds.append({"scene_id": r.metadata.get("scene_id"), "question_id": r.sample_id,
                          "answer_top10": [clean_answer(text) if cleaning == "leo" else text]})  # fmt: skip
        path = out / f"pred.{split}{sfx}.json"
        path.write_text(json.dumps(preds, indent=4) + "\n")
        failed = out / f"pred.{split}{sfx}.failed.json"
        failed.write_text(json.dumps([r.sample_id for r in recs if r.error is not None]) + "\n")
        written += [path, failed]
    return written
