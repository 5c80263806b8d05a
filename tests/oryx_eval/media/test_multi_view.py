"""Multi-view media: an ordered list of view images -> one video-like frame sequence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from oryx_eval.errors import MediaError
from oryx_eval.media.loader import load_media, preflight
from oryx_eval.records import FrameSampling, MediaRef, Sample


def _views(tmp: Path, sizes: list[tuple[int, int]]) -> list[str]:
    paths = []
    for i, (w, h) in enumerate(sizes):
        p = tmp / f"{10 * i:05d}.png"
        Image.fromarray(np.full((h, w, 3), 20 * i, dtype=np.uint8)).save(p)
        paths.append(str(p))
    return paths


def test_views_stack_in_order(tmp_path: Path) -> None:
    paths = _views(tmp_path, [(32, 24)] * 3)
    ref = MediaRef(
        kind="multi_view", paths=paths[::-1], params={"frame_ids": [20, 10, 0], "source_frames": 9}
    )
    m = load_media(ref, FrameSampling())
    assert m.kind == "video" and m.frames.shape == (3, 24, 32, 3) and m.frames.dtype == np.uint8
    assert [int(f[0, 0, 0]) for f in m.frames] == [40, 20, 0]  # the given order, not sorted
    assert m.indices == [20, 10, 0] and m.source_frames == 9 and m.size_wh == (32, 24)
    assert m.key == ref.key and m.decode_s > 0


def test_defaults_without_params(tmp_path: Path) -> None:
    m = load_media(MediaRef(kind="multi_view", paths=_views(tmp_path, [(16, 16)] * 2)), FrameSampling())
    assert m.indices == [0, 1] and m.source_frames == 2


def test_size_mismatch_and_empty_refs_fail(tmp_path: Path) -> None:
    paths = _views(tmp_path, [(32, 24), (24, 32)])
    with pytest.raises(MediaError, match="view size 24x32 differs from 32x24"):
        load_media(MediaRef(kind="multi_view", paths=paths), FrameSampling())
    with pytest.raises(MediaError, match="no view paths"):
        load_media(MediaRef(kind="multi_view", paths=[]), FrameSampling())
    with pytest.raises(MediaError, match="2 frame ids for 1 views"):
        load_media(
            MediaRef(kind="multi_view", paths=paths[:1], params={"frame_ids": [0, 1]}), FrameSampling()
        )


def test_preflight_checks_every_view(tmp_path: Path) -> None:
    paths = _views(tmp_path, [(16, 16)] * 3)
    Path(paths[2]).write_bytes(b"not an image")
    s = Sample(id="s", task="t", question="?", target="", media=[MediaRef(kind="multi_view", paths=paths)])
    assert preflight([s]).ok
    report = preflight([s], open_files=True)
    assert [r[:2] for r in report.unreadable] == [("s", paths[2])]
    gone = Sample(id="g", task="t", question="?", target="",
                  media=[MediaRef(kind="multi_view", paths=[paths[0], str(tmp_path / "x.jpg")])])  # fmt: skip
    assert preflight([gone]).missing == [("g", str(tmp_path / "x.jpg"))]
    empty = Sample(id="e", task="t", question="?", target="", media=[MediaRef(kind="multi_view")])
    assert preflight([empty]).missing == [("e", "<no path>")]
