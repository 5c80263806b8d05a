"""encode_video: exact frame count and keyframe interval, input validation, no partial files left."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oryx_eval.media.encode import encode_video
from oryx_eval.media.pyav_reader import build_index
from tests.oryx_eval.media.clips import decode_all, frames, pattern


def test_frame_count_rate_and_gop(tmp_path: Path) -> None:
    path = encode_video(frames(25), tmp_path / "v.mkv", fps=5, gop=6, crf=0)
    idx = build_index(path)
    assert idx.num_frames == 25 and idx.fps == pytest.approx(5.0)
    assert idx.keyframes.tolist() == [0, 6, 12, 18, 24]
    decoded = decode_all(path)
    # crf 0 is lossless in YUV; the RGB round trip through 4:2:0 stays close to the source
    assert np.abs(decoded[3].astype(int) - pattern(3).astype(int)).mean() < 12
    assert [p.name for p in tmp_path.iterdir()] == ["v.mkv"]


@pytest.mark.parametrize(
    "bad,match",
    [
        ([], "no frames"),
        ([np.zeros((8, 8, 3), np.float32)], "frame 0 must be uint8"),
        ([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 10, 3), np.uint8)], "frame 1 has shape"),
        ([np.zeros((7, 8, 3), np.uint8)], "even width and height"),
    ],
)
def test_bad_input_raises_and_leaves_no_file(tmp_path: Path, bad: list[np.ndarray], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        encode_video(bad, tmp_path / "bad.mp4")
    assert list(tmp_path.iterdir()) == []


def test_bad_rate(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fps"):
        encode_video(frames(2), tmp_path / "x.mp4", fps=0)
    with pytest.raises(ValueError, match="gop"):
        encode_video(frames(2), tmp_path / "x.mp4", gop=0)
