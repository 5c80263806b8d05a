"""Generic table reader: local parquet/JSON/JSONL/CSV (pandas) or an HF `datasets` repo -> Samples.

The source block maps our fields to the table's columns (``columns``: id, question, choices, target,
media); benchmark-specific readers (VideoMME, MLVU, ...) build on the same pieces.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from oryx_eval.errors import DatasetError
from oryx_eval.records import MediaRef, ReaderContext, Sample
from oryx_eval.registry import DATASETS

LETTERS = "ABCDEFGHIJ"
FIELDS = ("id", "question", "choices", "target", "media")


def read_rows(source: Any) -> list[dict[str, Any]]:
    """Rows of a local file/folder (pandas) or an HF dataset (``datasets``, pinned revision)."""
    if source.hf is not None:
        import datasets

        try:
            ds = datasets.load_dataset(source.hf, split=source.split, revision=source.revision)
        except Exception as e:  # noqa: BLE001 - hub/cache errors vary; re-raised with the source named
            raise DatasetError(f"HF dataset {source.hf!r} (split {source.split!r}): {e}") from e
        return [dict(r) for r in ds]
    import pandas as pd

    path = Path(source.path)
    files = sorted(p for p in path.rglob("*") if p.suffix in READERS) if path.is_dir() else [path]
    if not files or not all(p.exists() for p in files):
        raise DatasetError(f"{path}: no such dataset file or no parquet/json/jsonl/csv inside")
    frames = []
    for f in files:
        try:
            frames.append(READERS[f.suffix](pd, f))
        except (ValueError, OSError) as e:
            raise DatasetError(f"{f}: cannot read table: {e}") from e
    return pd.concat(frames, ignore_index=True).to_dict(orient="records")


READERS = {
    ".parquet": lambda pd, f: pd.read_parquet(f),
    ".json": lambda pd, f: pd.read_json(f),
    ".jsonl": lambda pd, f: pd.read_json(f, lines=True),
    ".csv": lambda pd, f: pd.read_csv(f),
}


def _target(value: Any, choices: list[str] | None, fmt: str, where: str) -> str:
    if fmt == "letter":
        return str(value).strip()
    if fmt == "index":
        return LETTERS[int(value)]
    if choices is None or value not in choices:
        raise DatasetError(f"{where}: target {value!r} is not one of the choices {choices}")
    return LETTERS[choices.index(value)]


@DATASETS.register("table")
def read_table(
    ctx: ReaderContext,
    media_kind: Literal["video", "image", "none"] = "video",
    target_format: Literal["letter", "index", "choice_text"] = "letter",
    metadata: list[str] | None = None,
) -> list[Sample]:
    """One Sample per row; media paths are resolved against ``source.media_dir``."""
    src = ctx.source
    if src is None:
        raise DatasetError("reader 'table' needs a dataset.source block")
    unknown = set(src.columns) - set(FIELDS)
    if unknown:
        raise DatasetError(f"source.columns: unknown fields {sorted(unknown)}; valid: {list(FIELDS)}")
    col = {f: src.columns.get(f, f) for f in FIELDS}
    media_root = Path(src.media_dir) if src.media_dir else None
    out = []
    for i, row in enumerate(read_rows(src)):
        where = f"{src.path or src.hf} row {i}"
        for f in ("id", "question", "target"):
            if col[f] not in row:
                raise DatasetError(f"{where}: missing column {col[f]!r} (field {f!r})")
        choices = row.get(col["choices"])
        choices = [str(c) for c in choices] if choices is not None else None
        media = []
        if media_kind != "none":
            rel = row.get(col["media"])
            if rel is None:
                raise DatasetError(f"{where}: missing media column {col['media']!r}")
            p = media_root / str(rel) if media_root else Path(str(rel))
            media.append(MediaRef(kind=media_kind, path=str(p)))
        meta = {k: row.get(k) for k in (metadata or [])}
        out.append(
            Sample(
                id=str(row[col["id"]]),
                task=ctx.task,
                media=media,
                question=str(row[col["question"]]),
                choices=choices,
                target=_target(row[col["target"]], choices, target_format, where),
                metadata=meta,
            )
        )
    return out
