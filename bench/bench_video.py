"""Video sampling speed: keyframe-aware PyAV reader vs sequential decode, vs its decode bound, and the cache.

Reproduces the measurement of environment.md §4 (10-min 720p30 H.264, uniform 64/256 frames) with test
videos generated here by PyAV from a numpy-drawn moving pattern (no ffmpeg CLI needed), keyframes every
2 s and every 8 s. For each video and frame count it prints, all measured in the same run:

- ``seq``: lmms-eval-style sequential decode from the start up to the last wanted frame;
- ``ours``: ``PyAVReader`` in ``exact`` mode (demux index + seek only when the target's keyframe is ahead);
- ``bound``: frames that must be decoded (from each needed keyframe to its target, as planned by
  ``plan_segments``) divided by the file's measured full-decode rate, i.e. the cost of decoding alone;
- ``cache``: a second read served from the in-memory ``FrameCache`` and from its disk tier;
- ``snap``: ``keyframe_snap`` mode (nearest keyframes), for reference.

Usage: ``python bench/bench_video.py [--duration 600] [--frames 64 256] [--gop-seconds 2 8]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np

from oryx_eval.media.cache import FrameCache
from oryx_eval.media.encode import encode_video
from oryx_eval.media.pyav_reader import PyAVReader, ThreadType, build_index, plan_segments, read_sequential
from oryx_eval.media.video import DecodedVideo, uniform_indices
from oryx_eval.records import FrameSampling


def pattern_frames(n: int, width: int, height: int, seed: int = 0) -> Iterator[np.ndarray]:
    """``n`` frames ``(H, W, 3)`` of a testsrc-like scene: scrolling colour bars + texture, a moving block."""
    rng = np.random.default_rng(seed)
    period = 256
    x = np.arange(width + period)[None, :]
    y = np.arange(height + period)[:, None]
    tex = np.empty((height + period, width + period, 3), np.uint8)  # scrolled by slicing, drawn once
    bars = (x // 160) % 7
    palette = np.array(
        [[192, 192, 192], [192, 192, 0], [0, 192, 192], [0, 192, 0], [192, 0, 192], [192, 0, 0], [0, 0, 192]],
        np.int16,
    )
    tex[:] = np.clip(
        palette[bars] + ((x + y) % 64)[..., None] - 32 + rng.integers(-12, 12, tex.shape, dtype=np.int16),
        0,
        255,
    ).astype(np.uint8)
    bs = max(16, height // 12)  # moving block side
    for i in range(n):
        ox, oy = (3 * i) % period, i % period
        frame = np.ascontiguousarray(tex[oy : oy + height, ox : ox + width])
        bx = (7 * i) % (width - bs)
        by = (height - bs) // 2 + int((height // 4) * np.sin(i / 25))
        frame[by : by + bs, bx : bx + bs] = (i * 37 % 256, 255 - i % 256, (i * 11) % 256)
        yield frame


def make_video(
    cache_dir: Path, duration: float, fps: int, width: int, height: int, gop: int, preset: str
) -> Path:
    """Generate (once; reused from ``cache_dir``) an H.264 test video with a fixed keyframe interval."""
    path = cache_dir / f"bench_{width}x{height}_{fps}fps_{duration:g}s_gop{gop}_{preset}.mp4"
    if path.exists():
        return path
    n = int(round(duration * fps))
    t0 = time.perf_counter()

    def progress(frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        for i, f in enumerate(frames):
            if i and i % max(1, n // 10) == 0:
                el = time.perf_counter() - t0
                print(
                    f"  encoding {path.name}: {i}/{n} frames, {el:.0f} s, ~{el * (n - i) / i:.0f} s left",
                    flush=True,
                )
            yield f

    print(f"generating {path} ({n} frames; keyframe every {gop} frames) ...", flush=True)
    encode_video(progress(pattern_frames(n, width, height)), path, fps=fps, gop=gop, preset=preset)
    print(f"  done in {time.perf_counter() - t0:.0f} s, {path.stat().st_size / 2**20:.0f} MiB", flush=True)
    return path


def full_decode_rate(path: Path, thread_type: ThreadType) -> tuple[float, int]:
    """Decode every frame (no colour conversion, threaded like the reader) -> (frames/s, frames)."""
    t0 = time.perf_counter()
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        stream.thread_type = thread_type
        n = sum(1 for _ in c.decode(stream))
    return n / (time.perf_counter() - t0), n


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def cache_figures(
    path: Path, n: int, disk_dir: Path | None, reader: PyAVReader
) -> tuple[float, float, float | None]:
    """Seconds for a first (decoding) read, a memory-cache read and (optionally) a disk-cache read."""
    exact = FrameSampling(mode="exact")
    cache = FrameCache(max_bytes=8 << 30, disk_dir=disk_dir)
    key = cache.key(path, exact, n)

    def never() -> DecodedVideo:
        raise AssertionError("cache miss on a cached key")

    first_t, _ = timed(lambda: cache.get_or_load(key, lambda: reader.read(path, exact, n)))
    mem_t, (_, src) = timed(lambda: cache.get_or_load(key, never))
    assert src == "memory"
    if disk_dir is None:
        return first_t, mem_t, None
    fresh = FrameCache(max_bytes=8 << 30, disk_dir=disk_dir)
    disk_t, (_, src) = timed(lambda: fresh.get_or_load(key, never))
    assert src == "disk"
    shutil.rmtree(disk_dir)
    return first_t, mem_t, disk_t


def bench_one(
    path: Path,
    frame_counts: list[int],
    repeats: int,
    disk_cache: bool,
    scratch: Path,
    thread_type: ThreadType,
) -> None:
    """Print one table (a row per frame count) for one video."""
    idx = build_index(path)
    rate, n_dec = max(full_decode_rate(path, thread_type) for _ in range(repeats))
    print(
        f"\n{path.name}: {idx.num_frames} frames, {len(idx.keyframes)} keyframes, full decode "
        f"{n_dec / rate:.1f} s ({rate:.0f} frames/s)"
    )
    print(
        f"{'N':>5} {'seq_s':>7} {'ours_s':>7} {'seq/ours':>8} {'bound_s':>7} {'ours/bnd':>8} {'seeks':>5} "
        f"{'decoded':>7} {'planned':>7} {'mem_s':>7} {'1st/mem':>8} {'disk_s':>7} {'1st/disk':>8} "
        f"{'snap_s':>7} {'ours/snap':>9}"
    )
    reader = PyAVReader(thread_type)
    exact = FrameSampling(mode="exact")
    for n in frame_counts:
        indices = uniform_indices(idx.num_frames, n)
        runs = plan_segments(idx, sorted(set(indices)))
        planned = sum(t[-1] - s + 1 for s, t in runs)
        bound = planned / rate
        seq_t, ours_t, snap_t = [], [], []
        for _ in range(repeats):  # interleaved so machine noise hits all methods alike
            t, ref = timed(lambda indices=indices: read_sequential(path, indices, thread_type=thread_type))
            seq_t.append(t)
            t, ours = timed(lambda n=n: reader.read(path, exact, n))
            ours_t.append(t)
            t, _ = timed(lambda n=n: reader.read(path, FrameSampling(mode="keyframe_snap"), n))
            snap_t.append(t)
            if not np.array_equal(ref, ours.frames):
                sys.exit(f"FAIL: {path.name} N={n}: reader frames differ from sequential decode")
        first_t, mem_t, disk_t = cache_figures(
            path, n, scratch / f"frames_{n}" if disk_cache else None, reader
        )
        o, s = min(ours_t), min(seq_t)
        st = ours.stats
        disk = f"{disk_t:>7.3f} {first_t / disk_t:>7.1f}x" if disk_t is not None else f"{'-':>7} {'-':>8}"
        print(
            f"{n:>5} {s:>7.2f} {o:>7.2f} {s / o:>7.2f}x {bound:>7.2f} {o / bound:>7.2f}x "
            f"{int(st['seeks']):>5} {int(st['decoded_frames']):>7} {planned:>7} {mem_t:>7.4f} "
            f"{first_t / mem_t:>7.0f}x {disk} {min(snap_t):>7.2f} {o / min(snap_t):>8.2f}x",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(".cache/bench_videos"),
        help="where generated test videos are kept and reused",
    )
    ap.add_argument("--duration", type=float, default=600.0, help="video length in seconds (600 = 10 min)")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--gop-seconds", type=float, nargs="+", default=[2.0, 8.0], help="keyframe intervals")
    ap.add_argument("--preset", default="ultrafast", help="x264 preset for the generated videos")
    ap.add_argument("--frames", type=int, nargs="+", default=[64, 256], help="frame counts to sample")
    ap.add_argument("--repeats", type=int, default=1, help="timed repeats per method (minimum reported)")
    ap.add_argument("--no-disk-cache", action="store_true", help="skip the disk-tier cache measurement")
    ap.add_argument(
        "--thread-type",
        default="AUTO",
        choices=["AUTO", "FRAME", "SLICE", "NONE"],
        help="FFmpeg decoder threading for every method (reader, baseline, full-decode rate)",
    )
    args = ap.parse_args()

    args.cache_dir.mkdir(parents=True, exist_ok=True)
    videos = [
        make_video(
            args.cache_dir,
            args.duration,
            args.fps,
            args.width,
            args.height,
            int(round(g * args.fps)),
            args.preset,
        )
        for g in args.gop_seconds
    ]
    print(
        f"\nPyAV {av.__version__}, decoder threads {args.thread_type}; times in seconds; "
        "ratios > 1 mean the first method is slower"
    )
    with tempfile.TemporaryDirectory(dir=args.cache_dir, prefix="frames_") as scratch:
        for v in videos:
            bench_one(v, args.frames, args.repeats, not args.no_disk_cache, Path(scratch), args.thread_type)


if __name__ == "__main__":
    main()
