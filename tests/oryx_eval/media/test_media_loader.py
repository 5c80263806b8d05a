"""load_media dispatch (video/image/synthetic), image errors, preflight and extension resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from oryx_eval.errors import MediaError, UnknownNameError
from oryx_eval.media.cache import FrameCache
from oryx_eval.media.image import load_image
from oryx_eval.media.loader import load_media, preflight, resolve_video_path
from oryx_eval.records import FrameSampling, LoadedMedia, MediaRef, Sample
from oryx_eval.registry import GENERATORS
from tests.oryx_eval.media.clips import decode_all, make_clip, pattern

GEN = "test_media_loader_ramp"
BAD_GEN = "test_media_loader_bad_shape"


@GENERATORS.register(GEN)
def _ramp(num_frames: int, value: int) -> LoadedMedia:
    frames = np.stack([np.full((8, 12, 3), value + i, np.uint8) for i in range(num_frames)])
    return LoadedMedia(kind="video", frames=frames)


@GENERATORS.register(BAD_GEN)
def _bad(num_frames: int) -> LoadedMedia:
    return LoadedMedia(kind="video", frames=np.zeros((num_frames, 8, 12), np.float32))


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("loader") / "clip.mp4", 50, gop=10)


def _sample(sid: str, *media: MediaRef) -> Sample:
    return Sample(id=sid, task="t", media=list(media), question="q", target="A")


def test_video_ref(clip: Path) -> None:
    ref = MediaRef(kind="video", path=str(clip))
    media = load_media(ref, FrameSampling(num_frames=5))
    expected = np.linspace(0, 49, 5).astype(int).tolist()
    assert media.kind == "video" and media.indices == expected and media.source_frames == 50
    assert media.size_wh == (96, 64) and media.key == ref.key and media.decode_s > 0
    np.testing.assert_array_equal(media.frames, decode_all(clip)[expected])


def test_ref_num_frames_overrides_sampling_and_is_cached(clip: Path) -> None:
    ref = MediaRef(kind="video", path=str(clip), num_frames=3)
    cache = FrameCache()
    first = load_media(ref, FrameSampling(num_frames=64), cache)
    second = load_media(ref, FrameSampling(num_frames=64), cache)
    assert first.indices == [0, 24, 49] and first.frames.shape[0] == 3
    assert cache.stats.misses == 1 and cache.stats.memory_hits == 1
    np.testing.assert_array_equal(first.frames, second.frames)


def test_video_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="absent.mp4"):
        load_media(MediaRef(kind="video", path=str(tmp_path / "absent.mp4")), FrameSampling())
    with pytest.raises(MediaError, match="absent.mp4"):
        load_media(MediaRef(kind="video", path=str(tmp_path / "absent.mp4")), FrameSampling(), FrameCache())
    with pytest.raises(MediaError, match="no path"):
        load_media(MediaRef(kind="video"), FrameSampling())


@pytest.mark.parametrize("mode", ["RGBA", "P", "L"])
def test_image_ref_is_rgb(tmp_path: Path, mode: str) -> None:
    path = tmp_path / f"img_{mode}.png"
    Image.fromarray(pattern(3, 20, 30)).convert(mode).save(path)
    ref = MediaRef(kind="image", path=str(path))
    media = load_media(ref, FrameSampling())
    assert media.kind == "image" and media.image.mode == "RGB" and media.size_wh == (30, 20)
    assert media.key == ref.key and media.frames is None


def test_image_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="missing.png.*not found"):
        load_image(tmp_path / "missing.png")
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(MediaError, match="junk.jpg.*not a readable image"):
        load_image(junk)
    good = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(good)
    cut = tmp_path / "cut.png"
    cut.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(MediaError, match="cut.png.*truncated"):
        load_image(cut)


def test_synthetic_dispatch() -> None:
    ref = MediaRef(kind="synthetic", generator=GEN, params={"num_frames": 4, "value": 10})
    media = load_media(ref, FrameSampling())
    assert media.key == ref.key and media.indices == [0, 1, 2, 3] and media.source_frames == 4
    assert media.size_wh == (12, 8) and media.frames[:, 0, 0, 0].tolist() == [10, 11, 12, 13]
    with pytest.raises(MediaError, match=f"{BAD_GEN}.*uint8"):
        load_media(MediaRef(kind="synthetic", generator=BAD_GEN, params={"num_frames": 2}), FrameSampling())
    with pytest.raises(UnknownNameError, match="no_such_generator"):
        load_media(MediaRef(kind="synthetic", generator="no_such_generator"), FrameSampling())


def test_preflight_reports_missing_files_with_sample_ids(clip: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_text("not a video")
    gone = str(tmp_path / "gone.mp4")
    samples = [
        _sample("s1", MediaRef(kind="video", path=str(clip))),
        _sample("s2", MediaRef(kind="video", path=gone)),
        _sample("s3", MediaRef(kind="video", path=gone)),
        _sample("s4", MediaRef(kind="image", path=str(tmp_path / "gone.png"))),
        _sample("s5", MediaRef(kind="synthetic", generator=GEN)),
        _sample("s6", MediaRef(kind="synthetic", generator="nope")),
        _sample("s7", MediaRef(kind="video", path=str(junk))),
    ]
    report = preflight(samples)
    assert report.checked == 7
    assert report.missing == [("s2", gone), ("s3", gone), ("s4", str(tmp_path / "gone.png"))]
    assert report.unknown_generators == [("s6", "nope")]
    assert report.unreadable == [] and not report.ok
    assert "3 missing" in report.summary()
    opened = preflight(samples, open_files=True)
    assert [(sid, path) for sid, path, _ in opened.unreadable] == [("s7", str(junk))]
    assert preflight(samples[:1] + samples[4:5], open_files=True).ok


def test_resolve_video_path(tmp_path: Path) -> None:
    (tmp_path / "a.MP4").write_bytes(b"x")
    (tmp_path / "b.mkv").write_bytes(b"x")
    (tmp_path / "c.mp4").write_bytes(b"x")
    assert resolve_video_path(tmp_path, "a") == tmp_path / "a.MP4"
    assert resolve_video_path(tmp_path, "b") == tmp_path / "b.mkv"
    assert resolve_video_path(tmp_path, "c.mp4") == tmp_path / "c.mp4"
    assert resolve_video_path(tmp_path, "b", exts=(".webm", ".mkv")) == tmp_path / "b.mkv"
    with pytest.raises(MediaError, match=r"'d'.*d\.mp4.*d\.mkv"):
        resolve_video_path(tmp_path, "d")
