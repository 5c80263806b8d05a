"""The ``ocrbench`` reader on generated copies of both official layouts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oryx_eval.benchmarks.ocrbench.reader import read_ocrbench
from oryx_eval.benchmarks.ocrbench.rules import QUESTION_TYPES
from oryx_eval.errors import DatasetError
from oryx_eval.media.image import load_image
from oryx_eval.records import ReaderContext
from tests.oryx_eval.benchmarks.ocrbench.fixtures import (
    HME_GT,
    ITEMS,
    write_json_layout,
    write_parquet_layout,
)


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ocrbench")
    return {
        "json": write_json_layout(root / "json"),
        "parquet": write_parquet_layout(root / "parquet"),
        "cache": root / "cache",
    }


def _ctx(data_dir: Path, cache: Path) -> ReaderContext:
    return ReaderContext(task="ocrbench", data_dir=data_dir, cache_dir=cache)


@pytest.mark.parametrize("layout", ["json", "parquet"])
def test_both_layouts_read_the_same_items(layouts: dict[str, Path], layout: str) -> None:
    samples = read_ocrbench(_ctx(layouts[layout], layouts["cache"]))
    assert [s.id for s in samples] == [f"ocrbench/{i:04d}" for i in range(len(ITEMS))]
    assert {s.metadata["question_type"] for s in samples} == set(QUESTION_TYPES)
    assert all(s.metadata["layout"] == layout for s in samples)
    hme = samples[9]
    assert hme.metadata["dataset"] == "HME100k" and hme.metadata["answers"] == HME_GT
    assert samples[7].metadata["answers"] == ["$12.50", "12.50"]  # the list-answer item
    assert samples[0].metadata["answers"] == ["CENTRE"]  # a plain-string JSON answer becomes a list
    for s, item in zip(samples, ITEMS, strict=True):
        img = load_image(s.media[0].path)
        assert img.size == item[5]  # drawn size kept: native resolution reaches the backend


def test_parquet_and_json_agree(layouts: dict[str, Path]) -> None:
    a = read_ocrbench(_ctx(layouts["json"], layouts["cache"]))
    b = read_ocrbench(_ctx(layouts["parquet"], layouts["cache"]))
    for x, y in zip(a, b, strict=True):
        assert (x.id, x.question, x.metadata["answers"], x.metadata["dataset"]) == (
            y.id, y.question, y.metadata["answers"], y.metadata["dataset"],
        )  # fmt: skip


def test_parquet_images_are_written_once(layouts: dict[str, Path]) -> None:
    samples = read_ocrbench(_ctx(layouts["parquet"], layouts["cache"]))
    first = Path(samples[0].media[0].path)
    mtime = first.stat().st_mtime_ns
    again = read_ocrbench(_ctx(layouts["parquet"], layouts["cache"]))
    assert again[0].media[0].path == str(first) and first.stat().st_mtime_ns == mtime


def test_missing_folder_and_data_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="--data ocrbench=DIR"):
        read_ocrbench(_ctx(tmp_path / "nope", tmp_path))
    with pytest.raises(DatasetError, match=r"data/test-\*\.parquet .* OCRBench\.json"):
        read_ocrbench(_ctx(tmp_path, tmp_path))
    with pytest.raises(DatasetError, match="no data folder"):
        read_ocrbench(ReaderContext(task="ocrbench"))


def test_unknown_question_type_and_missing_key(tmp_path: Path) -> None:
    (tmp_path / "OCRBench.json").write_text(
        json.dumps(
            [{"dataset_name": "x", "image_path": "a.png", "question": "q", "answers": "a", "type": "OCR"}]
        )
    )
    with pytest.raises(DatasetError, match="unknown question type 'OCR'"):
        read_ocrbench(_ctx(tmp_path, tmp_path))
    (tmp_path / "OCRBench.json").write_text(json.dumps([{"dataset_name": "x"}]))
    with pytest.raises(DatasetError, match=r"item 0: missing keys \['image_path'"):
        read_ocrbench(_ctx(tmp_path, tmp_path))
