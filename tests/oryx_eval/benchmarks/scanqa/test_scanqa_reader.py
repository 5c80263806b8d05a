"""The ``scanqa`` reader: official JSON + posed frames -> multi-view samples with recorded view choice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oryx_eval.benchmarks.scanqa.reader import read_scanqa
from oryx_eval.errors import DatasetError
from oryx_eval.media.loader import load_media, preflight
from oryx_eval.records import FrameSampling, ReaderContext
from tests.oryx_eval.benchmarks.scanqa.fixtures import (
    QUESTIONS,
    SCENES,
    question_id,
    read_marker,
    write_scanqa,
)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scanqa(tmp_path_factory.mktemp("scanqa"))


def _ctx(d: Path) -> ReaderContext:
    return ReaderContext(task="scanqa_val", data_dir=d)


def test_samples_and_metadata(data: Path) -> None:
    samples = read_scanqa(_ctx(data))
    assert [s.id for s in samples] == [question_id(i) for i in range(len(QUESTIONS))]
    assert [s.metadata["question_type"] for s in samples] == [q[4] for q in QUESTIONS]
    s = samples[0]
    assert s.metadata["answers"] == ["next to the table", "by the window"] and s.target == "next to the table"
    assert s.metadata["object_names"] == ["chair"] and s.metadata["split_size"] == 12
    assert s.metadata["view_rule"] == "uniform(16)" and s.metadata["num_views"] == 16
    assert s.media[0].kind == "multi_view"


def test_uniform_views_and_short_scene(data: Path) -> None:
    samples = read_scanqa(_ctx(data))
    by_scene = {s.metadata["scene_id"]: s for s in samples}
    s0 = by_scene["scene0000_00"]  # 25 frames -> linspace(0, 24, 16).astype(int)
    idx = [0, 1, 3, 4, 6, 8, 9, 11, 12, 14, 16, 17, 19, 20, 22, 24]
    assert s0.metadata["view_frames"] == [10 * i for i in idx] and s0.metadata["scene_frames"] == 25
    s1 = by_scene["scene0001_00"]  # 8 frames < 16 views: all of them, once each
    assert s1.metadata["view_frames"] == [10 * i for i in range(8)] and s1.metadata["num_views"] == 8
    # questions of one scene share one media ref (decoded and encoded once)
    assert len({s.media[0].key for s in samples if s.metadata["scene_id"] == "scene0000_00"}) == 1


def test_views_reach_the_loader_in_order(data: Path) -> None:
    s = read_scanqa(_ctx(data), num_views=4)[0]
    media = load_media(s.media[0], FrameSampling())
    assert media.kind == "video" and media.frames.shape == (4, 48, 64, 3)
    assert media.indices == s.metadata["view_frames"] == [0, 80, 160, 240]
    assert [read_marker(f) for f in media.frames] == media.indices
    assert media.source_frames == SCENES["scene0000_00"] and media.size_wh == (64, 48)


def test_frame_list_file(data: Path, tmp_path: Path) -> None:
    flist = tmp_path / "frames.json"
    flist.write_text(json.dumps({
        "scene0000_00": ["00050", "00010.jpg", "posed_images/scene0000_00/00200.jpg"],
        "scene0001_00": ["00000"], "scene0002_00": ["00030", "00040"],
    }))  # fmt: skip
    samples = read_scanqa(_ctx(data), views="frame_list", frame_list=str(flist))
    s = samples[0]
    assert s.metadata["view_frames"] == [50, 10, 200] and s.metadata["view_rule"].startswith("frame_list(")
    media = load_media(s.media[0], FrameSampling())
    assert [read_marker(f) for f in media.frames] == [50, 10, 200]


def test_test_split_has_no_answers(data: Path) -> None:
    samples = read_scanqa(_ctx(data), questions="ScanQA_v1.0_test_w_obj.json")
    assert len(samples) == 6 and all(s.metadata["answers"] == [] and s.target == "" for s in samples)


def test_errors_name_the_missing_thing(data: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="--data scanqa=DIR"):
        read_scanqa(_ctx(tmp_path / "nope"))
    with pytest.raises(DatasetError, match="ScanQA_v1.0_val.json not found"):
        read_scanqa(_ctx(tmp_path))
    (tmp_path / "ScanQA_v1.0_val.json").write_text(
        json.dumps([{"scene_id": "scene0009_00", "question_id": "q", "question": "?"}])
    )
    with pytest.raises(DatasetError, match="scene0009_00 not found"):
        read_scanqa(_ctx(tmp_path))
    with pytest.raises(DatasetError, match="num_views"):
        read_scanqa(_ctx(data), num_views=0)
    with pytest.raises(DatasetError, match="needs the frame_list"):
        read_scanqa(_ctx(data), views="frame_list")


def test_preflight_reports_a_missing_view(data: Path, tmp_path: Path) -> None:
    samples = read_scanqa(_ctx(data), num_views=3)
    gone = Path(samples[0].media[0].paths[1])
    backup = gone.read_bytes()
    gone.unlink()
    try:
        report = preflight(samples)
        assert {sid for sid, _ in report.missing} == {s.id for s in samples[:4]}
        assert all(path == str(gone) for _, path in report.missing)
    finally:
        gone.write_bytes(backup)
