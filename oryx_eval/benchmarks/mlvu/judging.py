"""What MLVU's judge is shown for one recorded generation (``oryx-eval judge``).

Official inputs (JUNJIE99/MLVU ``generation_evaluation/evaluate_ssc.py::annotate``,
``evaluation/generation_evaluation/evaluate_summary.py::annotate``, fed by ``open_bench.py``):
- sub-scene captioning (``question_type`` ``subPlot``): the question, the item's ``scoring_points``
  (a JSON list put in an f-string, so the judge sees its Python ``repr``: ``['a', 'b']``) and the prediction;
- summary (``summary``): the standard answer (the item's ``answer``) and the prediction.
The question is the dataset's (recorded in ``metadata['question']`` by the reader; older runs: the prompt,
which the shipped task renders as ``{question}``).
"""

from __future__ import annotations

from oryx_eval.judge.mlvu import JudgeItem
from oryx_eval.judge.mlvu_prompts import JudgeTask
from oryx_eval.records import SampleRecord

JUDGE_TASKS: dict[str, JudgeTask] = {"subPlot": "ssc", "sub_scene": "ssc", "SSC": "ssc",
                                     "summary": "summary", "VS": "summary"}  # fmt: skip
"""MLVU generation ``question_type`` -> judge task (the reader's ``GENERATION_TYPES``)."""


def judge_task(rec: SampleRecord) -> JudgeTask | None:
    """The judge task of a record, or ``None`` for a record that is not an MLVU generation item."""
    return JUDGE_TASKS.get(str(rec.metadata.get("question_type", rec.metadata.get("task_type"))))


def judge_item(rec: SampleRecord, task: JudgeTask) -> JudgeItem | str:
    """The item to send, or why the record cannot be judged (a failed sample, no scoring points)."""
    if rec.error is not None:
        return f"sample failed in the run ({rec.error_kind or 'error'}): {rec.error}"
    question = str(rec.metadata.get("question", rec.prompt))
    if task == "ssc":
        points = rec.metadata.get("scoring_points")
        if not points:
            return "no scoring_points in the item's metadata (the sub-scene judge needs them)"
        reference = f"{points}"
    else:
        reference = rec.target
    return JudgeItem(sample_id=rec.sample_id, task=task, question=question, reference=reference,
                     prediction=rec.output)  # fmt: skip
