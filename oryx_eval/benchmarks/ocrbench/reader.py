"""OCRBench reader ``ocrbench``: the HF parquet (``echo840/OCRBench``) or the original JSON + image folder.

Layouts under the benchmark's data folder (``--data ocrbench=DIR``, benchmarks.md §4.1):

- ``parquet``: ``DIR/data/test-*.parquet`` (an HF snapshot) or ``DIR/*.parquet``; columns ``dataset``,
  ``question``, ``question_type``, ``answer`` (list) and ``image`` (struct ``{bytes, path}``). The image
  bytes are written once to the task's cache folder (named by their SHA-256) so they load like any file.
- ``json``: ``DIR/OCRBench.json`` (keys ``dataset_name``, ``id``, ``image_path``, ``question``, ``answers``
  (str or list), ``type``) with images under ``DIR/OCRBench_Images/<image_path>``.

Samples are numbered by row (``ocrbench/0000`` ...), so both layouts give the same ids for the same file
order. ``metadata``: ``question_type``, ``dataset``, ``answers`` (always a list) and ``layout``.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any, Literal

from oryx_eval.benchmarks.ocrbench.rules import QUESTION_TYPES
from oryx_eval.errors import DatasetError
from oryx_eval.records import MediaRef, ReaderContext, Sample
from oryx_eval.registry import DATASETS

PARQUET_COLUMNS = ("dataset", "question", "question_type", "answer", "image")
JSON_KEYS = ("dataset_name", "image_path", "question", "answers", "type")


def _parquet_files(root: Path) -> list[Path]:
    files = sorted((root / "data").glob("test-*.parquet")) if (root / "data").is_dir() else []
    return files or sorted(root.glob("*.parquet"))


def detect_layout(root: Path, json_file: str) -> Literal["parquet", "json"]:
    """``parquet`` if parquet files are found, else ``json`` if ``json_file`` exists (else DatasetError)."""
    if _parquet_files(root):
        return "parquet"
    if (root / json_file).is_file():
        return "json"
    raise DatasetError(
        f"ocrbench: no OCRBench data in {root}: expected data/test-*.parquet (echo840/OCRBench) "
        f"or {json_file} + OCRBench_Images/"
    )


def _answers(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    try:
        out = [str(v) for v in value]
    except TypeError:
        raise DatasetError(f"{where}: answer must be a string or a list of strings, got {value!r}") from None
    if not out:
        raise DatasetError(f"{where}: empty answer list")
    return out


def _check_type(qtype: str, where: str) -> None:
    if qtype not in QUESTION_TYPES:
        raise DatasetError(f"{where}: unknown question type {qtype!r}; valid: {', '.join(QUESTION_TYPES)}")


def _write_image(data: bytes, name_hint: str, cache: Path) -> Path:
    digest = hashlib.sha256(data).hexdigest()[:24]
    path = cache / "ocrbench_images" / f"{digest}{Path(name_hint).suffix.lower() or '.img'}"
    if not (path.is_file() and path.stat().st_size == len(data)):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def read_parquet_rows(root: Path, cache: Path) -> list[dict[str, Any]]:
    """Rows of the HF parquet layout as ``{dataset, question, question_type, answers, image_path}``."""
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = []
    for f in _parquet_files(root):
        try:
            table = pq.read_table(f)
        except (OSError, ValueError) as e:
            raise DatasetError(f"{f}: cannot read parquet: {e}") from e
        missing = [c for c in PARQUET_COLUMNS if c not in table.column_names]
        if missing:
            raise DatasetError(f"{f}: missing columns {missing} (has {table.column_names})")
        for i, r in enumerate(table.to_pylist()):
            where = f"{f.name} row {i}"
            img = r["image"]
            if not isinstance(img, dict) or not img.get("bytes"):
                raise DatasetError(f"{where}: image has no bytes (expected the struct {{bytes, path}})")
            rows.append(
                {
                    "dataset": str(r["dataset"]),
                    "question": str(r["question"]),
                    "question_type": str(r["question_type"]),
                    "answers": _answers(r["answer"], where),
                    "image_path": str(_write_image(img["bytes"], img.get("path") or "", cache)),
                    "where": where,
                }
            )
    return rows


def read_json_rows(root: Path, json_file: str, images_dir: str) -> list[dict[str, Any]]:
    """Rows of the original ``OCRBench.json`` layout (image paths resolved under ``images_dir``)."""
    path = root / json_file
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"ocrbench: {path} not found") from None
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}: invalid JSON: {e}") from None
    if not isinstance(items, list):
        raise DatasetError(f"{path}: top level must be a list of items")
    rows = []
    for i, it in enumerate(items):
        where = f"{path.name} item {i}"
        missing = [k for k in JSON_KEYS if k not in it]
        if missing:
            raise DatasetError(f"{where}: missing keys {missing}")
        rows.append(
            {
                "dataset": str(it["dataset_name"]),
                "question": str(it["question"]),
                "question_type": str(it["type"]),
                "answers": _answers(it["answers"], where),
                "image_path": str(root / images_dir / it["image_path"]),
                "source_id": it.get("id"),
                "where": where,
            }
        )
    return rows


@DATASETS.register("ocrbench")
def read_ocrbench(
    ctx: ReaderContext,
    layout: Literal["auto", "parquet", "json"] = "auto",
    json_file: str = "OCRBench.json",
    images_dir: str = "OCRBench_Images",
    strip_question: bool = True,
) -> list[Sample]:
    """OCRBench samples from ``ctx.data_dir`` (module docstring for the layouts).

    Args:
        ctx: Reader context; ``data_dir`` is the OCRBench folder (``dataset.data: ocrbench``).
        layout: ``auto`` (parquet if present, else JSON), ``parquet`` or ``json``.
        json_file: JSON file name inside the data folder (``json`` layout).
        images_dir: Image folder inside the data folder (``json`` layout).
        strip_question: ``question.strip()`` as lmms-eval's ``ocrbench_doc_to_text`` (the Oryx fork) does;
            ``False`` keeps the raw question as ``MultimodalOCR/OCRBench/example.py`` does.

    Returns:
        One image sample per item; ``target`` is the first answer, all answers are in ``metadata``.

    Raises:
        DatasetError: no data folder, no data in it, a missing column/key or an unknown question type.
    """
    if ctx.data_dir is None:
        raise DatasetError(f"ocrbench ({ctx.task}): no data folder (set dataset.data: ocrbench)")
    root = Path(ctx.data_dir)
    if not root.is_dir():
        raise DatasetError(f"ocrbench: data folder {root} not found (pass --data ocrbench=DIR)")
    chosen = detect_layout(root, json_file) if layout == "auto" else layout
    if chosen == "parquet":
        if not _parquet_files(root):
            raise DatasetError(f"ocrbench: no data/test-*.parquet or *.parquet in {root}")
        # the runner gives a per-task cache folder; elsewhere (tests, data checks) use the temp dir
        tmp = Path(tempfile.gettempdir()) / "oryx-eval"
        cache = Path(ctx.cache_dir) if ctx.cache_dir is not None else tmp
        rows = read_parquet_rows(root, cache)
    else:
        rows = read_json_rows(root, json_file, images_dir)
    samples = []
    for i, r in enumerate(rows):
        _check_type(r["question_type"], r["where"])
        meta: dict[str, Any] = {
            "question_type": r["question_type"],
            "dataset": r["dataset"],
            "answers": r["answers"],
            "layout": chosen,
        }
        if r.get("source_id") is not None:
            meta["source_id"] = r["source_id"]
        samples.append(
            Sample(
                id=f"ocrbench/{i:04d}",
                task=ctx.task,
                media=[MediaRef(kind="image", path=r["image_path"])],
                question=r["question"].strip() if strip_question else r["question"],
                target=r["answers"][0],
                metadata=meta,
            )
        )
    return samples
