"""Video sampling speed: keyframe-aware PyAV reader vs sequential decode, vs its decode bound, and the cache.

Reproduces the measurement of environment.md §4 (10-min 720p30 H.264, uniform 64/256 frames) with test
videos generated here by PyAV from a numpy-drawn moving pattern (no ffmpeg CLI needed), keyframes every
2 s and every 8 s. For each video and frame count it prints, all measured in the same run:

- ``seq``: lmms-eval-style sequential decode from the start up to the last wanted frame;
- ``ours``: ``PyAVReader`` in ``exact`` mode (demux index + seek only when the target's keyframe is ahead);
- ``bound``: decode-only cost of exactly the frames the plan must decode (``plan_segments``: from each
  needed keyframe to its target), with keyframes and other frames costed separately. Per-frame costs come
  from whole-file passes threaded like the reader: demux only; every keyframe decoded alone (as each run
  of the plan starts: with frame threading a single frame runs on one thread); everything (the non-key
  cost is the rest of it). A keyframe costs ~10x a P frame here, and a seek-based plan decodes one
  keyframe per ~30 frames where the whole file has one per 60-240, so the older ``avgbnd`` (planned
  frames / average full-decode rate, also printed) undercounts the keyframe decodes the plan cannot
  avoid. Neither bound includes the reader's demux index pass (``index_s``) nor the RGB conversion and
  copy of the wanted frames into the output; ``work`` adds both (conversion timed on held frames into a
  fresh array), so ``ours/wrk`` is what seeking and decoder restarts cost on top of unavoidable work;
- ``snap``: ``keyframe_snap`` mode (nearest keyframes), for reference;
- cache: a second read served from the in-memory ``FrameCache`` and from its disk tier with the page cache
  warm (``disk``) and with the entry's pages evicted first (``cold``, ``posix_fadvise(DONTNEED)``), each a
  fresh ``FrameCache`` whose hit verifies the XXH3-128 of every frame byte (so no read is deferred).
  Ratios divide the reader's decode time (``ours``), not the first cached read, which also writes the
  entry (``store``).

Usage: ``python bench/bench_video.py [--duration 600] [--frames 64 256] [--gop-seconds 2 8]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

from oryx_eval.media.cache import FrameCache
from oryx_eval.media.encode import encode_video
from oryx_eval.media.pyav_reader import (
    KeyframeIndex,
    PyAVReader,
    ThreadType,
    build_index,
    plan_segments,
    read_sequential,
)
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


@dataclass(frozen=True)
class DecodeCosts:
    """Per-frame decode costs of one file, from whole-file passes threaded like the reader."""

    frames: int
    keyframes: int
    demux_s: float
    """Demux every packet, decode nothing."""
    key_alone_s: float
    """Demux every packet, decode each keyframe packet alone (drain + flush after each), as a plan's run
    must: a single frame gets no frame-threading parallelism, only slice threads."""
    full_s: float
    """Decode every frame (no colour conversion)."""
    convert_s: float
    """Convert one decoded frame to RGB and copy it into a fresh output array (what the reader adds)."""

    @property
    def key_s(self) -> float:
        """Seconds to decode one keyframe."""
        return (self.key_alone_s - self.demux_s) / self.keyframes

    @property
    def inter_s(self) -> float:
        """Seconds to decode one non-key frame."""
        return (self.full_s - self.demux_s - self.keyframes * self.key_s) / (self.frames - self.keyframes)

    def bound(self, n_key: int, n_inter: int) -> float:
        """Decode-only seconds for ``n_key`` keyframes and ``n_inter`` other frames (plus their demux)."""
        return n_key * self.key_s + n_inter * self.inter_s + (n_key + n_inter) * self.demux_s / self.frames


def decode_costs(path: Path, thread_type: ThreadType, repeats: int) -> DecodeCosts:
    """Time demux-only, keyframes-alone and full decode passes and RGB conversion (min over ``repeats``)."""

    def demux() -> int:
        with av.open(str(path)) as c:
            return sum(1 for p in c.demux(c.streams.video[0]) if p.size)

    def decode() -> int:
        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            stream.thread_type = thread_type
            return sum(1 for _ in c.decode(stream))

    def keyframes_alone() -> int:
        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            stream.thread_type = thread_type
            n = 0
            for packet in c.demux(stream):
                if packet.is_keyframe and packet.size:
                    n += sum(1 for _ in stream.codec_context.decode(packet))
                    n += sum(1 for _ in stream.codec_context.decode(None))  # drain
                    stream.codec_context.flush_buffers()
            return n

    def convert(n: int = 16) -> int:
        with av.open(str(path)) as c:
            held = [f for _, f in zip(range(n), c.decode(c.streams.video[0]), strict=False)]
        t0 = time.perf_counter()
        out = np.empty((len(held), held[0].height, held[0].width, 3), np.uint8)  # (T, H, W, 3)
        for i, f in enumerate(held):
            out[i] = f.to_ndarray(format="rgb24")
        convert_t.append((time.perf_counter() - t0) / len(held))
        return len(held)

    convert_t: list[float] = []
    best: dict[str, tuple[float, int]] = {}
    for _ in range(repeats):  # interleaved
        for name, fn in (("demux", demux), ("key", keyframes_alone), ("full", decode)):
            t, n = timed(fn)
            best[name] = min(best.get(name, (t, n)), (t, n))
        convert()
    return DecodeCosts(
        frames=best["full"][1],
        keyframes=best["key"][1],
        demux_s=best["demux"][0],
        key_alone_s=best["key"][0],
        full_s=best["full"][0],
        convert_s=min(convert_t),
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def planned_work(idx: KeyframeIndex, indices: list[int]) -> tuple[int, int]:
    """(keyframes, other frames) the reader's plan must decode for ``indices``."""
    n_key = n_all = 0
    for start, targets in plan_segments(idx, sorted(set(indices))):
        n_all += targets[-1] - start + 1
        n_key += int(np.count_nonzero((idx.keyframes >= start) & (idx.keyframes <= targets[-1])))
    return n_key, n_all - n_key


def drop_page_cache(directory: Path) -> None:
    """Evict this directory's (clean, fsynced) files from the OS page cache: the next read hits the disk."""
    for f in directory.iterdir():
        fd = os.open(f, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def cache_figures(
    path: Path, n: int, disk_dir: Path | None, reader: PyAVReader, repeats: int
) -> dict[str, float]:
    """Seconds for a first read (decode + store), memory-cache reads and disk-cache reads (hot and cold).

    Every disk read uses a fresh ``FrameCache`` (empty memory tier) and includes the entry's full
    integrity check, which reads every frame byte.
    """
    exact = FrameSampling(mode="exact")
    cache = FrameCache(max_bytes=8 << 30, disk_dir=disk_dir)
    key = cache.key(path, exact, n)

    def never() -> DecodedVideo:
        raise AssertionError("cache miss on a cached key")

    def hit(c: FrameCache, where: str) -> float:
        t, (_, src) = timed(lambda: c.get_or_load(key, never))
        assert src == where, (src, where)
        return t

    first_t, (video, _) = timed(lambda: cache.get_or_load(key, lambda: reader.read(path, exact, n)))
    out = {
        "store": first_t - video.stats["total_s"],
        "mem": min(hit(cache, "memory") for _ in range(repeats)),
    }
    if disk_dir is None:
        return out
    hot, cold = [], []
    for _ in range(repeats):
        drop_page_cache(disk_dir)
        cold.append(hit(FrameCache(max_bytes=8 << 30, disk_dir=disk_dir), "disk"))
        hot.append(hit(FrameCache(max_bytes=8 << 30, disk_dir=disk_dir), "disk"))
    shutil.rmtree(disk_dir)
    return {**out, "disk": min(hot), "cold": min(cold)}


def bench_one(
    path: Path,
    frame_counts: list[int],
    repeats: int,
    disk_cache: bool,
    scratch: Path,
    thread_type: ThreadType,
) -> None:
    """Print two tables (a row per frame count) for one video: the reader, then the cache."""
    idx = build_index(path)
    costs = decode_costs(path, thread_type, repeats)
    print(
        f"\n{path.name}: {idx.num_frames} frames, {len(idx.keyframes)} keyframes; full decode "
        f"{costs.full_s:.1f} s ({costs.frames / costs.full_s:.0f} frames/s); per frame: keyframe "
        f"{costs.key_s * 1e3:.2f} ms, other {costs.inter_s * 1e3:.2f} ms, "
        f"demux {costs.demux_s / costs.frames * 1e3:.3f} ms, RGB conversion {costs.convert_s * 1e3:.2f} ms"
    )
    print(
        f"{'N':>5} {'seq_s':>7} {'ours_s':>7} {'seq/ours':>8} {'bound_s':>7} {'ours/bnd':>8} "
        f"{'avgbnd_s':>8} {'ours/avg':>8} {'seeks':>5} {'decoded':>7} {'keyfr':>5} {'index_s':>7} "
        f"{'work_s':>7} {'ours/wrk':>8} {'snap_s':>7} {'ours/snap':>9}"
    )
    reader = PyAVReader(thread_type)
    exact = FrameSampling(mode="exact")
    rows = []
    for n in frame_counts:
        indices = uniform_indices(idx.num_frames, n)
        n_key, n_inter = planned_work(idx, indices)
        bound = costs.bound(n_key, n_inter)
        avg_bound = (n_key + n_inter) * costs.full_s / costs.frames
        seq_t, ours_t, snap_t = [], [], []
        for _ in range(repeats):  # interleaved so machine noise hits all methods alike
            t, ref = timed(lambda indices=indices: read_sequential(path, indices, thread_type=thread_type))
            seq_t.append(t)
            t, ours = timed(lambda n=n: reader.read(path, exact, n))
            ours_t.append(t)
            if t == min(ours_t):
                best = ours.stats
            t, _ = timed(lambda n=n: reader.read(path, FrameSampling(mode="keyframe_snap"), n))
            snap_t.append(t)
            if not np.array_equal(ref, ours.frames):
                sys.exit(f"FAIL: {path.name} N={n}: reader frames differ from sequential decode")
        if ours.stats["decoded_frames"] != n_key + n_inter:
            sys.exit(f"FAIL: {path.name} N={n}: decoded {ours.stats['decoded_frames']} != planned")
        o, s = min(ours_t), min(seq_t)
        work = bound + best["index_s"] + n * costs.convert_s  # + the reader's index pass and conversions
        print(
            f"{n:>5} {s:>7.2f} {o:>7.2f} {s / o:>7.2f}x {bound:>7.2f} {o / bound:>7.2f}x {avg_bound:>8.2f} "
            f"{o / avg_bound:>7.2f}x {int(best['seeks']):>5} {n_key + n_inter:>7} {n_key:>5} "
            f"{best['index_s']:>7.2f} {work:>7.2f} {o / work:>7.2f}x "
            f"{min(snap_t):>7.2f} {o / min(snap_t):>8.2f}x",
            flush=True,
        )
        rows.append(
            (n, o, cache_figures(path, n, scratch / f"frames_{n}" if disk_cache else None, reader, repeats))
        )
    print(
        f"{'N':>5} {'ours_s':>7} {'store_s':>7} {'mem_s':>8} {'ours/mem':>9} {'disk_s':>7} {'ours/disk':>9} "
        f"{'cold_s':>7} {'ours/cold':>9}"
    )
    for n, o, c in rows:
        disk = (
            f"{c['disk']:>7.4f} {o / c['disk']:>8.1f}x {c['cold']:>7.3f} {o / c['cold']:>8.1f}x"
            if "disk" in c
            else f"{'-':>7} {'-':>9} {'-':>7} {'-':>9}"
        )
        print(
            f"{n:>5} {o:>7.2f} {c['store']:>7.2f} {c['mem']:>8.5f} {o / c['mem']:>8.0f}x {disk}", flush=True
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
