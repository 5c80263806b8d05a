"""Video readers: reference linspace indices, frame-exact keyframe-aware PyAV decoding, snap mode, errors."""

from __future__ import annotations

import importlib.util
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from oryx_eval.errors import MediaError, PrerequisiteError, TaskConfigError
from oryx_eval.media.pyav_reader import KeyframeIndex, PyAVReader, build_index, plan_segments, read_sequential
from oryx_eval.media.readers import get_reader
from oryx_eval.media.video import uniform_indices
from oryx_eval.records import FrameSampling
from tests.oryx_eval.media.clips import decode_all, garble, make_clip, make_vfr_clip, truncate

EXACT = FrameSampling(mode="exact")
SNAP = FrameSampling(mode="keyframe_snap")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    return {
        "gop10": make_clip(d / "gop10.mp4", 120, gop=10),
        "gop30": make_clip(d / "gop30.mkv", 90, gop=30, h=96, w=160),
        "short": make_clip(d / "short.mp4", 12, gop=4),
        "vfr": make_vfr_clip(d / "vfr.mkv", 40, gop=8),
    }


@pytest.fixture(scope="module")
def refs(clips: dict[str, Path]) -> dict[str, np.ndarray]:
    return {k: decode_all(p) for k, p in clips.items()}


@pytest.mark.parametrize("total,n", [(120, 16), (90, 7), (12, 20), (1, 3), (18000, 64)])
def test_uniform_indices_are_the_reference_linspace(total: int, n: int) -> None:
    assert uniform_indices(total, n) == np.linspace(0, total - 1, n).astype(int).tolist()


def test_index_counts_frames_and_keyframes(clips: dict[str, Path], refs: dict[str, np.ndarray]) -> None:
    idx = build_index(clips["gop10"])
    assert idx.num_frames == len(refs["gop10"]) == 120
    assert idx.keyframes.tolist() == list(range(0, 120, 10))
    assert idx.fps == pytest.approx(30.0)
    assert np.all(np.diff(idx.pts) > 0)
    assert build_index(clips["gop30"]).keyframes.tolist() == [0, 30, 60]


def test_clip_frames_are_distinct(refs: dict[str, np.ndarray]) -> None:
    # Precondition for the exactness tests: an off-by-one frame would not compare equal.
    for frames in refs.values():
        assert not any(np.array_equal(frames[i], frames[i + 1]) for i in range(len(frames) - 1))


@pytest.mark.parametrize("name", ["gop10", "gop30", "vfr"])
@pytest.mark.parametrize("n", [5, 16, 33])
def test_exact_reader_matches_sequential_decode(
    clips: dict[str, Path], refs: dict[str, np.ndarray], name: str, n: int
) -> None:
    ref = refs[name]
    out = PyAVReader().read(clips[name], EXACT, n)
    expected_idx = np.linspace(0, len(ref) - 1, n).astype(int).tolist()
    assert out.indices == expected_idx
    assert out.source_frames == len(ref)
    assert out.frames.dtype == np.uint8 and out.frames.shape == (n, *ref.shape[1:])
    np.testing.assert_array_equal(out.frames, ref[expected_idx])
    assert out.size_wh == (ref.shape[2], ref.shape[1])
    np.testing.assert_array_equal(read_sequential(clips[name], expected_idx), ref[expected_idx])


def test_exact_reader_seeks_and_decodes_only_what_the_plan_needs(clips: dict[str, Path]) -> None:
    idx = build_index(clips["gop10"])
    out = PyAVReader().read(clips["gop10"], EXACT, 4)  # targets 0, 39, 79, 119
    runs = plan_segments(idx, sorted(set(out.indices)))
    assert [start for start, _ in runs] == [0, 30, 70, 110]
    bound = sum(t[-1] - s + 1 for s, t in runs)  # 1 + 10 + 10 + 10
    assert out.stats["seeks"] == 4
    assert bound <= out.stats["decoded_frames"] <= bound + 4  # at most the pipeline's first frame per seek
    assert out.stats["decoded_frames"] < 60
    assert 0 <= out.stats["convert_s"] <= out.stats["total_s"]


@pytest.mark.parametrize("thread_type", ["AUTO", "FRAME", "SLICE", "NONE"])
def test_decoder_threading_does_not_change_frames(
    clips: dict[str, Path], refs: dict[str, np.ndarray], thread_type: str
) -> None:
    out = PyAVReader(thread_type).read(clips["gop10"], EXACT, 16)  # type: ignore[arg-type]
    np.testing.assert_array_equal(out.frames, refs["gop10"][out.indices])


def test_plan_segments_seeks_only_when_the_keyframe_is_ahead() -> None:
    idx = KeyframeIndex(pts=np.arange(30), keyframes=np.array([0, 10, 20]), fps=30.0, metadata_frames=0)
    assert plan_segments(idx, [2, 5, 15, 16, 25]) == [(0, [2, 5]), (10, [15, 16]), (20, [25])]
    assert plan_segments(idx, [2, 8, 9]) == [(0, [2, 8, 9])]
    assert plan_segments(idx, [12, 19, 21]) == [(10, [12, 19]), (20, [21])]


def test_short_video_repeats_indices(clips: dict[str, Path], refs: dict[str, np.ndarray]) -> None:
    out = PyAVReader().read(clips["short"], EXACT, 20)
    assert out.indices == np.linspace(0, 11, 20).astype(int).tolist()
    assert len(set(out.indices)) == 12 and out.frames.shape[0] == 20
    np.testing.assert_array_equal(out.frames, refs["short"][out.indices])


def test_keyframe_snap_returns_and_records_nearest_keyframes(
    clips: dict[str, Path], refs: dict[str, np.ndarray]
) -> None:
    out = PyAVReader().read(clips["gop10"], SNAP, 7)
    uniform = np.linspace(0, 119, 7).astype(int)  # 0 19 39 59 79 99 119
    assert out.indices == [0, 20, 40, 60, 80, 100, 110]  # nearest multiples of 10 (ties go earlier)
    assert out.indices == [min(range(0, 120, 10), key=lambda k: (abs(k - u), k)) for u in uniform]
    assert out.mode == "keyframe_snap"
    np.testing.assert_array_equal(out.frames, refs["gop10"][out.indices])
    assert out.stats["decoded_frames"] <= 2 * len(set(out.indices))


def test_resize_at_decode(clips: dict[str, Path]) -> None:
    out = PyAVReader().read(clips["gop30"], EXACT, 3, size_wh=(48, 32))
    assert out.frames.shape == (3, 32, 48, 3) and out.size_wh == (48, 32)


def test_missing_file_names_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    with pytest.raises(MediaError, match="nope.mp4.*not found"):
        PyAVReader().read(missing, EXACT, 4)


@pytest.mark.parametrize("name", ["gop10", "gop30"])
def test_truncated_file_raises(clips: dict[str, Path], tmp_path: Path, name: str) -> None:
    src = clips[name]
    bad = truncate(src, tmp_path / f"half{src.suffix}", 0.5)
    with pytest.raises(MediaError, match=f"half{src.suffix}"):
        PyAVReader().read(bad, EXACT, 8)


def test_truncated_mp4_with_index_in_front_raises(clips: dict[str, Path], tmp_path: Path) -> None:
    fast = tmp_path / "faststart.mp4"
    with (
        av.open(str(clips["gop10"])) as src,
        av.open(str(fast), "w", options={"movflags": "faststart"}) as dst,
    ):
        out_stream = dst.add_stream_from_template(src.streams.video[0])
        for pkt in src.demux(video=0):
            if pkt.dts is not None:
                pkt.stream = out_stream
                dst.mux(pkt)
    assert PyAVReader().read(fast, EXACT, 4).source_frames == 120
    bad = truncate(fast, tmp_path / "faststart_half.mp4", 0.5)
    with pytest.raises(MediaError, match="faststart_half.mp4.*truncated"):
        PyAVReader().read(bad, EXACT, 4)


def test_corrupt_payload_raises(clips: dict[str, Path], tmp_path: Path) -> None:
    bad = garble(clips["gop10"], tmp_path / "garbled.mp4", 0.4, 2000)
    with pytest.raises(MediaError, match="garbled.mp4"):
        PyAVReader().read(bad, EXACT, 120)


def test_file_without_video_stream(tmp_path: Path) -> None:
    wav = tmp_path / "audio.wav"
    with av.open(str(wav), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 8000, 0, Fraction(1, 8000)
        for p in stream.encode(frame):
            out.mux(p)
        for p in stream.encode(None):
            out.mux(p)
    with pytest.raises(MediaError, match="audio.wav.*no video stream"):
        PyAVReader().read(wav, EXACT, 4)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(MediaError, match="notes.mp4.*cannot open"):
        PyAVReader().read(text, EXACT, 4)


@pytest.mark.parametrize("backend,pip", [("torchcodec", "torchcodec==0.13.0"), ("decord", "decord==0.6.0")])
def test_optional_backend(
    backend: str, pip: str, clips: dict[str, Path], refs: dict[str, np.ndarray]
) -> None:
    module = "torchcodec.decoders" if backend == "torchcodec" else backend
    try:
        installed = importlib.util.find_spec(module) is not None
    except ImportError:
        installed = False
    if not installed:
        with pytest.raises(PrerequisiteError, match=f"pip install {pip}"):
            get_reader(backend)
        return
    try:
        reader = get_reader(backend)
    except PrerequisiteError as e:  # installed but unloadable (e.g. CUDA build, no system FFmpeg)
        pytest.skip(str(e))
    with pytest.raises(TaskConfigError, match="keyframe_snap"):
        get_reader(backend, "keyframe_snap")
    out = reader.read(clips["gop10"], FrameSampling(backend=backend), 9)  # type: ignore[arg-type]
    assert out.indices == np.linspace(0, 119, 9).astype(int).tolist()
    np.testing.assert_array_equal(out.frames, refs["gop10"][out.indices])
