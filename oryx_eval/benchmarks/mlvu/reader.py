"""MLVU reader ``mlvu`` (benchmarks.md §2): the original JSON release or the lmms-eval parquet packaging.

Original (``MLVU/MVLU``, dev)::

    json/<n>_<task>.json          list of {video, duration, question, candidates, answer (option text),
                                  question_type[, scoring_points, question_id]}
    video/<n>_<task>/<video>      per-task folders, or all videos flattened into video/ or the top folder

lmms-eval (``sy1998/MLVU_dev`` / ``MLVU_Test``): ``*.parquet`` (top level or ``mlvu/``) with ``video_name``,
``question`` ("Question: ...\\nOptions:\\n(A) ...", options embedded), ``candidates``, ``answer`` (letter),
``task_type``, ``question_id``; videos flattened into the top folder (JUNJIE99/MLVU#13) or ``video/``.

``kind: choice`` reads the multiple-choice items (dev: 2,174 over 7 types; test: 6 options A-F possible);
``kind: generation`` the sub-scene captioning and summary items (dev: 201 + 217), scored only by a judge.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from oryx_eval.benchmarks.checks import DataExpectations
from oryx_eval.benchmarks.layout import data_root, first_existing
from oryx_eval.errors import DatasetError
from oryx_eval.records import MediaRef, ReaderContext, Sample
from oryx_eval.registry import DATA_CHECKS, DATASETS

LETTERS = "ABCDEFGHIJ"
GENERATION_TYPES = {"subPlot", "summary", "sub_scene", "SSC", "VS"}
TYPE_ALIASES = {"findNeedle": "needle"}  # original JSON name -> lmms-eval name
EXPECTED = {("dev", "choice"): 2174, ("dev", "generation"): 418, ("test", "choice"): 502}
_OPTION = re.compile(r"^\(([A-J])\)\s?(.*)$")


def video_file(root: Path, stem: str, name: str) -> Path:
    """``video/<stem>/<name>``, ``video/<name>``, ``<name>`` (first existing; else the first)."""
    cands = [root / "video" / stem / name, root / "video" / name, root / name]
    return first_existing(cands) or cands[0]


def split_embedded(question: str) -> tuple[str, list[str]]:
    """``"Question: q\\nOptions:\\n(A) x\\n(B) y"`` -> ``("q", ["x", "y"])`` (lmms-eval packaging)."""
    head, sep, tail = question.partition("Options:")
    if not sep:
        raise ValueError(f"no 'Options:' block in question {question[:60]!r}")
    q = head.strip()
    q = q[len("Question:") :].strip() if q.startswith("Question:") else q
    opts = []
    for line in tail.strip().split("\n"):
        m = _OPTION.match(line.strip())
        if m:
            opts.append(m.group(2).strip())
    return q, opts


def _json_rows(root: Path) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for f in sorted((root / "json").glob("*.json")):
        data = json.loads(f.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise DatasetError(f"{f}: expected a JSON list of questions")
        out += [(f.stem, {**row, "_index": i}) for i, row in enumerate(data)]
    return out


def _from_json(ctx: ReaderContext, root: Path, stem: str, row: dict[str, Any], kind: str) -> Sample | None:
    qtype = str(row.get("question_type", stem.split("_", 1)[-1]))
    is_gen = "candidates" not in row or qtype in GENERATION_TYPES
    if is_gen != (kind == "generation"):
        return None
    sid = str(row.get("question_id") or f"{stem}_{row['_index']}")
    meta: dict[str, Any] = {
        "task_type": TYPE_ALIASES.get(qtype, qtype),
        "question_type": qtype,
        "duration": row.get("duration"),
        "video": row["video"],
    }
    media = [MediaRef(kind="video", path=str(video_file(root, stem, row["video"])))]
    if is_gen:
        meta["scoring_points"] = row.get("scoring_points")
        meta["question"] = row["question"]  # what the judge is shown (mlvu/judging.py)
        return Sample(
            id=sid,
            task=ctx.task,
            media=media,
            question=row["question"],
            target=str(row.get("answer", "")),
            metadata=meta,
        )
    cands = [str(c) for c in row["candidates"]]
    answer = str(row["answer"])
    if answer not in cands:
        raise DatasetError(f"{stem}.json item {row['_index']}: answer {answer!r} is not among the candidates")
    meta["num_options"] = len(cands)
    return Sample(
        id=sid,
        task=ctx.task,
        media=media,
        question=row["question"],
        choices=cands,
        target=LETTERS[cands.index(answer)],
        metadata=meta,
    )


def _from_parquet(ctx: ReaderContext, root: Path, table: Path, kind: str) -> list[Sample]:
    import pandas as pd

    if kind == "generation":
        raise DatasetError(f"{table}: the lmms-eval parquet packaging has no generation items")
    out = []
    for i, row in enumerate(pd.read_parquet(table).to_dict("records")):
        question, opts = split_embedded(str(row["question"]))
        if not opts and row.get("candidates") is not None:
            opts = [str(c) for c in row["candidates"]]
        qtype = str(row["task_type"])
        answer = str(row["answer"]).strip().strip("()")
        sid = str(row.get("question_id") or f"{qtype}_{i}")
        meta = {
            "task_type": TYPE_ALIASES.get(qtype, qtype),
            "question_type": qtype,
            "duration": row.get("duration"),
            "video": row["video_name"],
            "num_options": len(opts),
        }
        media = [MediaRef(kind="video", path=str(video_file(root, "", str(row["video_name"]))))]
        out.append(
            Sample(
                id=sid,
                task=ctx.task,
                media=media,
                question=question,
                choices=opts,
                target=answer,
                metadata=meta,
            )
        )
    return out


@DATASETS.register("mlvu")
def read_mlvu(
    ctx: ReaderContext,
    split: Literal["dev", "test"] = "dev",
    kind: Literal["choice", "generation"] = "choice",
) -> list[Sample]:
    """MLVU items of one split and kind (see the module docstring for the layouts)."""
    root = data_root(ctx.data_dir, ["json/*.json", "*.parquet", "mlvu*/*.parquet"], f"mlvu {split}")
    if (root / "json").is_dir():
        rows = _json_rows(root)
        samples = [s for stem, row in rows if (s := _from_json(ctx, root, stem, row, kind)) is not None]
    else:
        tables = sorted(root.glob("*.parquet")) or sorted(root.glob("mlvu*/*.parquet"))
        samples = _from_parquet(ctx, root, tables[0], kind)
    return samples


@DATA_CHECKS.register("mlvu")
def check_mlvu(samples: list[Sample], split: str = "dev", kind: str = "choice") -> DataExpectations:
    """Dev: 2,174 multiple-choice + 418 generation items; test: 502 multiple-choice."""
    return DataExpectations(expected_rows=EXPECTED.get((split, kind)))
