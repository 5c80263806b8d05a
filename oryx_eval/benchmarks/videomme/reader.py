"""VideoMME reader ``videomme``: lmms-lab parquet + ``data/*.mp4`` + ``subtitle/*.srt`` (benchmarks.md §1).

Layout under the data folder (or an HF snapshot of ``lmms-lab/Video-MME`` under it)::

    videomme/test-00000-of-00001.parquet    (any *.parquet at the top or under videomme/ also works)
    data/<videoID>.mp4                       (.MP4 / .mkv fallbacks; video/ and videos/ also probed)
    subtitle/<videoID>.srt                   (subtitle/subtitle/ as in the Oryx fork, subtitles/ too)

Each row is one question (2,700 rows, 3 per video); options arrive prefixed ("A. Apples.") and are
stored without the prefix so every option format can re-render them. A video that is missing keeps its
first candidate path, so the preflight names it and only its samples fail.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from oryx_eval.benchmarks.checks import DataExpectations, extra_files
from oryx_eval.benchmarks.layout import data_root, first_existing
from oryx_eval.errors import DatasetError
from oryx_eval.records import MediaRef, ReaderContext, Sample
from oryx_eval.registry import DATA_CHECKS, DATASETS

EXPECTED_ROWS = 2700
VIDEO_DIRS = ("data", "video", "videos", ".")
VIDEO_EXTS = (".mp4", ".MP4", ".mkv")
SUBTITLE_DIRS = ("subtitle", "subtitle/subtitle", "subtitles")
COLUMNS = (
    "video_id",
    "duration",
    "domain",
    "sub_category",
    "videoID",
    "question_id",
    "task_type",
    "question",
    "options",
    "answer",
)
_PREFIX = re.compile(r"^\s*[A-D][.)]\s*")


def find_parquet(root: Path) -> Path:
    """The question table: ``videomme/*.parquet`` or a top-level ``*.parquet``."""
    for pattern in ("videomme/*.parquet", "*.parquet"):
        hits = sorted(root.glob(pattern))
        if hits:
            return hits[0]
    raise DatasetError(f"videomme: no parquet in {root} or {root / 'videomme'}")


def video_path(root: Path, stem: str) -> Path:
    """``<dir>/<stem><ext>`` for the first existing dir/extension, else the first candidate."""
    cands = [root / d / f"{stem}{e}" for d in VIDEO_DIRS for e in VIDEO_EXTS]
    return first_existing(cands) or cands[0]


def subtitle_path(root: Path, stem: str) -> Path | None:
    """The SRT of a video, or ``None`` (VideoMME has subtitles for 744 of 900 videos)."""
    return first_existing(root / d / f"{stem}.srt" for d in SUBTITLE_DIRS)


def strip_prefix(option: str) -> str:
    """``"A. Apples."`` -> ``"Apples."``."""
    return _PREFIX.sub("", str(option), count=1)


def _rows(path: Path) -> list[dict[str, Any]]:
    import pandas as pd

    df = pd.read_parquet(path)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise DatasetError(f"{path}: missing columns {missing} (has {list(df.columns)})")
    return df.to_dict("records")


@DATASETS.register("videomme")
def read_videomme(ctx: ReaderContext, durations: list[str] | None = None) -> list[Sample]:
    """VideoMME questions; ``durations`` keeps only some of short/medium/long (default: all)."""
    root = data_root(ctx.data_dir, ["videomme/*.parquet", "*.parquet"], "videomme")
    table = find_parquet(root)
    samples = []
    for row in _rows(table):
        if durations is not None and row["duration"] not in durations:
            continue
        stem = str(row["videoID"])
        options = [strip_prefix(o) for o in list(row["options"])]
        sub = subtitle_path(root, stem)
        samples.append(
            Sample(
                id=str(row["question_id"]),
                task=ctx.task,
                media=[MediaRef(kind="video", path=str(video_path(root, stem)))],
                question=str(row["question"]),
                choices=options,
                target=str(row["answer"]).strip(),
                metadata={
                    "duration": row["duration"],
                    "domain": row["domain"],
                    "sub_category": row["sub_category"],
                    "task_type": row["task_type"],
                    "video_id": str(row["video_id"]),
                    "videoID": stem,
                    "num_options": len(options),
                    "subtitle_path": str(sub) if sub else None,
                },
            )
        )
    return samples


@DATA_CHECKS.register("videomme")
def check_videomme(samples: list[Sample], durations: list[str] | None = None) -> DataExpectations:
    """2,700 rows for the full release; subtitles are optional (744 of 900 videos have one)."""
    subs = extra_files("subtitle (optional)", False, [(s.id, s.metadata["subtitle_path"]) for s in samples])
    return DataExpectations(expected_rows=EXPECTED_ROWS if durations is None else None, extras=[subs])
