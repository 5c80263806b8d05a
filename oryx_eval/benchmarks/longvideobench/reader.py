"""LongVideoBench reader ``longvideobench`` (benchmarks.md §3): ``lvb_val.json`` / ``lvb_test_wo_gt.json``
(or the ``validation-*``/``test-*`` parquet) + ``videos/`` + ``subtitles/``, as ``longvideobench/
LongVideoBench`` unpacks (``cat videos.tar.part.* | tar -x``; ``tar -xf subtitles.tar``).

Options are ``option0..option4`` up to the first ``"N/A"`` (lmms-eval's rule), else ``candidates``; the
target is ``chr(65 + correct_choice)`` (the test split hides it: target "" and the task writes the
submission file instead of a score).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from oryx_eval.benchmarks.checks import DataExpectations, extra_files
from oryx_eval.benchmarks.layout import data_root
from oryx_eval.errors import DatasetError
from oryx_eval.records import MediaRef, ReaderContext, Sample
from oryx_eval.registry import DATA_CHECKS, DATASETS

FILES = {"val": ("lvb_val.json", "validation-*.parquet"), "test": ("lvb_test_wo_gt.json", "test-*.parquet")}
EXPECTED_ROWS = {"val": 1337, "test": 5341}


def _rows(root: Path, split: str) -> list[dict[str, Any]]:
    js, pq = FILES[split]
    if (root / js).is_file():
        data = json.loads((root / js).read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise DatasetError(f"{root / js}: expected a JSON list")
        return data
    import pandas as pd

    tables = sorted(root.glob(pq)) or sorted(root.glob(f"*/{pq}"))
    return pd.read_parquet(tables[0]).to_dict("records")


def options_of(row: dict[str, Any]) -> list[str]:
    """``option0..4`` up to the first "N/A" (or ``candidates`` when the option columns are absent)."""
    if "option0" not in row:
        return [str(c) for c in row["candidates"]]
    out = []
    for i in range(5):
        opt = row.get(f"option{i}")
        if opt is None or opt == "N/A":
            break
        out.append(str(opt))
    return out


@DATASETS.register("longvideobench")
def read_lvb(ctx: ReaderContext, split: Literal["val", "test"] = "val") -> list[Sample]:
    """LongVideoBench questions of ``split``."""
    js, pq = FILES[split]
    root = data_root(ctx.data_dir, [js, pq, f"*/{pq}"], f"longvideobench {split}")
    samples = []
    for row in _rows(root, split):
        opts = options_of(row)
        cc = row.get("correct_choice")
        has_gt = cc is not None and split == "val"
        sub = row.get("subtitle_path")
        samples.append(
            Sample(
                id=str(row["id"]),
                task=ctx.task,
                media=[MediaRef(kind="video", path=str(root / "videos" / str(row["video_path"])))],
                question=str(row["question"]),
                choices=opts,
                target=chr(65 + int(cc)) if has_gt else "",
                metadata={
                    "duration_group": int(row["duration_group"]),
                    "question_category": row["question_category"],
                    "topic_category": row.get("topic_category"),
                    "duration": float(row["duration"]),
                    "video_id": row.get("video_id"),
                    "num_options": len(opts),
                    "subtitle_path": str(root / "subtitles" / str(sub)) if sub else None,
                    "subtitle_offset": float(row.get("starting_timestamp_for_subtitles") or 0.0),
                },
            )
        )
    return samples


@DATA_CHECKS.register("longvideobench")
def check_lvb(samples: list[Sample], split: str = "val") -> DataExpectations:
    """Val 1,337 / test 5,341 rows; subtitle files (used by the subtitle task)."""
    subs = extra_files(
        "subtitle (needed by longvideobench_val_subtitles)",
        False,
        [(s.id, s.metadata["subtitle_path"]) for s in samples],
    )
    return DataExpectations(expected_rows=EXPECTED_ROWS[split], extras=[subs])
