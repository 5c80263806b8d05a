"""Frame cache: keyed by file identity and sampler settings, LRU by bytes, disk persistence, threads."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from oryx_eval.errors import MediaError
from oryx_eval.media.cache import FrameCache
from oryx_eval.media.loader import load_video
from oryx_eval.media.pyav_reader import PyAVReader
from oryx_eval.media.video import DecodedVideo
from oryx_eval.records import FrameSampling
from tests.oryx_eval.media.clips import make_clip

EXACT = FrameSampling()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("cache") / "clip.mp4", 60, gop=10)


class CountingReader:
    """Wraps the PyAV reader and counts real decodes."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.calls = 0
        self.delay_s = delay_s
        self._lock = threading.Lock()

    def load(self, path: Path, n: int) -> DecodedVideo:
        with self._lock:
            self.calls += 1
        time.sleep(self.delay_s)
        return PyAVReader().read(path, EXACT, n)


def test_hit_returns_identical_frames_and_skips_decoding(clip: Path) -> None:
    cache, reader = FrameCache(), CountingReader()
    key = cache.key(clip, EXACT, 8)
    first, src1 = cache.get_or_load(key, lambda: reader.load(clip, 8))
    second, src2 = cache.get_or_load(cache.key(clip, EXACT, 8), lambda: reader.load(clip, 8))
    assert (src1, src2) == ("decoded", "memory") and reader.calls == 1
    np.testing.assert_array_equal(first.frames, second.frames)
    assert second.indices == first.indices == np.linspace(0, 59, 8).astype(int).tolist()
    assert not second.frames.flags.writeable  # shared entry cannot be modified by a consumer
    assert cache.stats.memory_hits == 1 and cache.stats.misses == 1


def test_key_depends_on_every_sampler_setting(clip: Path) -> None:
    cache = FrameCache()
    base = cache.key(clip, EXACT, 8)
    variants = [
        cache.key(clip, EXACT, 16),
        cache.key(clip, FrameSampling(mode="keyframe_snap"), 8),
        cache.key(clip, FrameSampling(backend="decord"), 8),
        cache.key(clip, EXACT, 8, size_wh=(48, 32)),
    ]
    assert len({base.digest, *(v.digest for v in variants)}) == 5
    assert cache.key(clip, FrameSampling(num_frames=999), 8) == base  # only the resolved count matters


def test_different_frame_count_is_a_miss(clip: Path) -> None:
    cache, reader = FrameCache(), CountingReader()
    a, _ = cache.get_or_load(cache.key(clip, EXACT, 8), lambda: reader.load(clip, 8))
    b, src = cache.get_or_load(cache.key(clip, EXACT, 16), lambda: reader.load(clip, 16))
    assert src == "decoded" and reader.calls == 2 and b.frames.shape[0] == 16 and a.frames.shape[0] == 8


def test_modified_file_changes_the_key(clip: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copy(clip, tmp_path / "copy.mp4"))
    cache = FrameCache()
    before = cache.key(copy, EXACT, 8)
    st = copy.stat()
    os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert cache.key(copy, EXACT, 8) != before


def test_content_identity_survives_a_copy(clip: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copy(clip, tmp_path / "moved.mp4"))
    by_content, by_stat = FrameCache(identity="content"), FrameCache()
    assert by_content.key(copy, EXACT, 8) == by_content.key(clip, EXACT, 8)
    assert by_stat.key(copy, EXACT, 8) != by_stat.key(clip, EXACT, 8)
    with pytest.raises(MediaError, match="gone.mp4"):
        by_content.key(tmp_path / "gone.mp4", EXACT, 8)


def test_disk_cache_survives_a_new_cache_object(clip: Path, tmp_path: Path) -> None:
    reader = CountingReader()
    first = FrameCache(disk_dir=tmp_path / "frames")
    decoded, _ = first.get_or_load(first.key(clip, EXACT, 8), lambda: reader.load(clip, 8))
    assert sorted(p.suffix for p in (tmp_path / "frames").iterdir()) == [".json", ".npy"]
    second = FrameCache(disk_dir=tmp_path / "frames")
    again, src = second.get_or_load(second.key(clip, EXACT, 8), lambda: reader.load(clip, 8))
    assert src == "disk" and reader.calls == 1 and second.stats.disk_hits == 1
    np.testing.assert_array_equal(again.frames, decoded.frames)
    assert (again.indices, again.source_frames, again.size_wh) == (
        decoded.indices,
        decoded.source_frames,
        decoded.size_wh,
    )
    assert second.get_or_load(second.key(clip, EXACT, 8), lambda: reader.load(clip, 8))[1] == "memory"


def _flip_middle_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of frame data; size and header unchanged
    path.write_bytes(bytes(data))


def _swap_first_frames(path: Path) -> None:
    arr = np.load(path)
    arr[[0, 1]] = arr[[1, 0]]  # same bytes, other order: a checksum of the bag of bytes would miss it
    np.save(path, arr)


def _reshape_header(path: Path) -> None:
    arr = np.load(path)
    np.save(path, arr.reshape(arr.shape[0] * 2, arr.shape[1] // 2, *arr.shape[2:]))  # same size, new header


def _old_format_json(path: Path) -> None:
    json_path = path.with_suffix(".json")
    meta = json.loads(json_path.read_text())
    meta["format"] = 1
    json_path.write_text(json.dumps(meta))


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(p.read_bytes()[:1000]),  # truncated array file
        lambda p: p.write_bytes(p.read_bytes() + b"\0" * 64),  # trailing garbage
        _flip_middle_byte,
        _swap_first_frames,
        _reshape_header,
        lambda p: p.unlink(),  # JSON without its frames
        lambda p: p.with_suffix(".json").write_text("{not json"),
        _old_format_json,
    ],
    ids=["truncated", "appended", "bit_flip", "frames_swapped", "header", "npy_gone", "bad_json", "format_1"],
)
def test_bad_disk_entry_is_reported_and_redecoded(
    clip: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: Callable[[Path], object]
) -> None:
    reader = CountingReader()
    cache = FrameCache(disk_dir=tmp_path / "frames")
    key = cache.key(clip, EXACT, 8)
    good, _ = cache.get_or_load(key, lambda: reader.load(clip, 8))
    npy = tmp_path / "frames" / f"{key.digest}.npy"
    damage(npy)
    fresh = FrameCache(disk_dir=tmp_path / "frames")
    with caplog.at_level(logging.WARNING, logger="oryx_eval.media.cache"):
        again, src = fresh.get_or_load(key, lambda: reader.load(clip, 8))
    assert src == "decoded" and reader.calls == 2 and fresh.stats.bad_disk_entries == 1
    assert "unusable" in caplog.text
    np.testing.assert_array_equal(again.frames, good.frames)
    rewritten = FrameCache(disk_dir=tmp_path / "frames").get(key)  # rewritten whole
    assert rewritten is not None
    np.testing.assert_array_equal(rewritten.frames, good.frames)


def test_disk_hit_is_a_read_only_mapping_of_the_entry(clip: Path, tmp_path: Path) -> None:
    cache = FrameCache(disk_dir=tmp_path / "frames")
    key = cache.key(clip, EXACT, 8)
    decoded, _ = cache.get_or_load(key, lambda: PyAVReader().read(clip, EXACT, 8))
    meta = json.loads((tmp_path / "frames" / f"{key.digest}.json").read_text())
    assert meta["shape"] == list(decoded.frames.shape) and len(meta["xxh3_128"]) == 32
    hit = FrameCache(disk_dir=tmp_path / "frames").get(key)
    assert hit is not None and type(hit.frames) is np.ndarray and hit.frames.dtype == np.uint8
    assert not hit.frames.flags.writeable and not hit.frames.flags.owndata  # a view of the mapped file
    with pytest.raises(ValueError):
        hit.frames[0, 0, 0, 0] = 1
    np.testing.assert_array_equal(hit.frames, decoded.frames)
    # Re-publishing the entry (rename over it) leaves an array already served intact.
    cache.put(key, PyAVReader().read(clip, EXACT, 8, size_wh=(48, 32)))
    np.testing.assert_array_equal(hit.frames, decoded.frames)


def test_memory_is_bounded_by_bytes_lru(clip: Path) -> None:
    one = PyAVReader().read(clip, EXACT, 4).nbytes
    cache = FrameCache(max_bytes=2 * one)
    keys = [cache.key(clip, EXACT, 4, size_wh=(96 - 2 * i, 64)) for i in range(3)]
    sizes = [k.size_wh for k in keys]
    for k, s in zip(keys[:2], sizes[:2], strict=True):
        cache.get_or_load(k, lambda s=s: PyAVReader().read(clip, EXACT, 4, size_wh=s))
    cache.get_or_load(keys[0], lambda: pytest.fail("entry 0 should be cached"))  # 0 becomes most recent
    cache.get_or_load(keys[2], lambda: PyAVReader().read(clip, EXACT, 4, size_wh=sizes[2]))
    assert cache.memory_bytes <= 2 * one and cache.stats.evictions == 1
    assert cache.get(keys[1]) is None and cache.get(keys[0]) is not None  # least recently used went
    tiny = FrameCache(max_bytes=one - 1)
    tiny.put(keys[0], PyAVReader().read(clip, EXACT, 4))
    assert tiny.memory_bytes == 0  # larger than the budget: not held


def test_concurrent_loads_decode_once(clip: Path) -> None:
    cache, reader = FrameCache(), CountingReader(delay_s=0.2)
    results: list[np.ndarray] = []
    lock = threading.Lock()

    def work() -> None:
        video, _ = cache.get_or_load(cache.key(clip, EXACT, 8), lambda: reader.load(clip, 8))
        with lock:
            results.append(video.frames)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert reader.calls == 1 and len(results) == 6
    assert all(r is results[0] for r in results)


def test_load_video_uses_the_cache(clip: Path, tmp_path: Path) -> None:
    cache = FrameCache(disk_dir=tmp_path / "f")
    a = load_video(clip, FrameSampling(num_frames=6), cache=cache)
    b = load_video(clip, FrameSampling(num_frames=6), cache=cache)
    assert a is b and cache.stats.memory_hits == 1
    np.testing.assert_array_equal(a.frames, PyAVReader().read(clip, EXACT, 6).frames)
