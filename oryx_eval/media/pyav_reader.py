"""PyAV video reader with a keyframe-aware, frame-exact sampler (the harness default).

Implements the "smart" PyAV sampler measured in environment.md §4: a demux-only pass lists every packet's
timestamp and keyframe flag (which also gives the exact frame count), then the wanted frames are decoded
in presentation order, seeking only when the next wanted frame's keyframe lies ahead of the current decode
position and decoding forward otherwise. ``keyframe_snap`` returns the keyframe nearest to each uniform
index instead (non-key frames are skipped by the decoder). ``read_sequential`` is the lmms-eval-style
baseline (decode everything up to the last wanted frame), used by tests and ``bench/bench_video.py``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import av
import numpy as np

from oryx_eval.errors import MediaError
from oryx_eval.media.video import DecodedVideo, PathLike, uniform_indices
from oryx_eval.records import FrameSampling


@dataclass(frozen=True)
class KeyframeIndex:
    """Timestamps and keyframes of one video stream, in presentation order."""

    pts: np.ndarray
    """int64 ``(N,)``: presentation timestamp of frame ``i`` (sorted, unique)."""
    keyframes: np.ndarray
    """int64 ``(K,)``: frame indices whose packet is flagged as a keyframe (sorted)."""
    fps: float
    """Average frame rate from the stream header (0.0 when unknown)."""
    metadata_frames: int
    """Frame count the container claims (0 when absent); informational only."""

    @property
    def num_frames(self) -> int:
        """Exact frame count (demuxed packets)."""
        return int(self.pts.shape[0])

    def keyframe_of(self, frame: int) -> int:
        """Index of the last keyframe at or before ``frame`` (0 when ``frame`` precedes every keyframe)."""
        pos = int(np.searchsorted(self.keyframes, frame, side="right")) - 1
        return int(self.keyframes[pos]) if pos >= 0 else 0

    def nearest_keyframe(self, frame: int) -> int:
        """The keyframe index closest to ``frame`` (the earlier one on a tie)."""
        pos = int(np.searchsorted(self.keyframes, frame, side="left"))
        after = self.keyframes[min(pos, len(self.keyframes) - 1)]
        before = self.keyframes[max(pos - 1, 0)]
        return int(before if frame - before <= after - frame else after)


def build_index(path: PathLike) -> KeyframeIndex:
    """Demux (no decoding) the first video stream of ``path`` and index its frames.

    Raises:
        MediaError: missing file, no video stream, unreadable container, packets without timestamps.
    """
    with _open(path) as container:
        return _index(container, path)


def plan_segments(index: KeyframeIndex, targets: list[int]) -> list[tuple[int, list[int]]]:
    """Group sorted unique target frames into decode runs, each started by one seek.

    A new run (seek) starts only when the target's keyframe lies ahead of the last decoded frame;
    otherwise decoding continues forward. Frames decoded = ``sum(run[-1] - start + 1)``.

    Args:
        index: The stream's keyframe index.
        targets: Strictly increasing frame indices.

    Returns:
        ``[(start_keyframe, [targets...]), ...]`` in decode order.
    """
    runs: list[tuple[int, list[int]]] = []
    pos = -1  # last frame the current run will have decoded
    for t in targets:
        key = index.keyframe_of(t)
        if not runs or key > pos:
            runs.append((key, [t]))
        else:
            runs[-1][1].append(t)
        pos = t
    return runs


ThreadType = Literal["AUTO", "FRAME", "SLICE", "NONE"]


class PyAVReader:
    """Frame-exact PyAV reader (modes ``exact`` and ``keyframe_snap``); stateless and thread-safe."""

    name = "pyav"
    modes = ("exact", "keyframe_snap")

    def __init__(self, thread_type: ThreadType = "AUTO") -> None:
        """Create a reader.

        Args:
            thread_type: FFmpeg decoder threading (``AUTO`` = frame + slice threads, the measured default of
                environment.md §4). Only speed depends on it; the frames are identical. Frame threads cannot
                split one frame, so each run's keyframe decodes on one thread; ``SLICE`` can, but only when
                the stream has several slices per frame. Measured on 2 busy cores (bench_video.py, 720p):
                SLICE 1.3-1.6x faster than AUTO on 2-slice PyAV-encoded videos, AUTO 1.05-1.2x faster
                than SLICE on 1-slice videos (the usual x264 output).
        """
        self.thread_type = thread_type

    def read(
        self,
        path: PathLike,
        sampling: FrameSampling,
        num_frames: int,
        size_wh: tuple[int, int] | None = None,
    ) -> DecodedVideo:
        """Decode ``num_frames`` uniformly sampled frames (see ``VideoReader.read``)."""
        if sampling.mode not in self.modes:
            raise ValueError(f"PyAVReader: unknown mode {sampling.mode!r}")
        t0 = time.perf_counter()
        with _open(path) as container:
            index = _index(container, path)
            t1 = time.perf_counter()
            wanted = uniform_indices(index.num_frames, num_frames)
            if sampling.mode == "keyframe_snap":
                if len(index.keyframes) == 0:
                    raise MediaError(f"{path}: no keyframes flagged in the stream; cannot use keyframe_snap")
                wanted = [index.nearest_keyframe(i) for i in wanted]
            unique = sorted(set(wanted))
            stream = container.streams.video[0]
            stream.thread_type = self.thread_type
            if sampling.mode == "keyframe_snap":
                stream.codec_context.skip_frame = "NONKEY"
                runs = [(k, [k]) for k in unique]
            else:
                runs = plan_segments(index, unique)
            frames, stats = _decode_runs(container, index, runs, wanted, path, size_wh)  # (T, H, W, 3)
        stats["index_s"] = t1 - t0
        stats["total_s"] = time.perf_counter() - t0
        return DecodedVideo(
            frames=frames,
            indices=wanted,
            source_frames=index.num_frames,
            fps=index.fps,
            size_wh=(int(frames.shape[2]), int(frames.shape[1])),
            mode=sampling.mode,
            backend=self.name,
            stats=stats,
        )


def read_sequential(
    path: PathLike,
    indices: list[int],
    size_wh: tuple[int, int] | None = None,
    thread_type: ThreadType = "AUTO",
) -> np.ndarray:
    """Baseline: decode every frame from the start up to ``max(indices)`` and keep the wanted ones.

    This is what lmms-eval's PyAV reader does; frame ``i`` is the ``i``-th frame the decoder outputs.

    Returns:
        uint8 ``(len(indices), H, W, 3)`` in the order of ``indices``.

    Raises:
        MediaError: the file is unreadable or ends before ``max(indices)``.
    """
    if not indices:
        raise ValueError("read_sequential: no indices")
    wanted = set(indices)
    last = max(indices)
    kept: dict[int, np.ndarray] = {}
    with _open(path) as container:
        stream = _video_stream(container, path)
        stream.thread_type = thread_type
        i = -1
        try:
            for i, frame in enumerate(container.decode(stream)):
                if i in wanted:
                    kept[i] = _to_rgb(frame, size_wh)
                if i >= last:
                    break
        except av.error.FFmpegError as e:
            raise MediaError(f"{path}: decode failed after frame {i}: {e}") from e
    if last not in kept:
        raise MediaError(f"{path}: only {i + 1} frames decodable, frame {last} wanted")
    return np.stack([kept[i] for i in indices])


def _decode_runs(
    container: av.container.InputContainer,
    index: KeyframeIndex,
    runs: list[tuple[int, list[int]]],
    wanted: list[int],
    path: PathLike,
    size_wh: tuple[int, int] | None,
) -> tuple[np.ndarray, dict[str, float]]:
    """Execute the decode plan; returns the frames of ``wanted`` ``(T, H, W, 3)`` uint8 and counters.

    Each decoded target is converted once and copied straight into a preallocated output (no per-frame
    arrays kept alive, no final stack: at 720p x 256 frames that halves the memory touched).
    """
    rows: dict[int, list[int]] = {}
    for row, i in enumerate(wanted):
        rows.setdefault(i, []).append(row)
    frames: np.ndarray | None = None
    stream = container.streams.video[0]
    pts_to_idx = {int(p): i for i, p in enumerate(index.pts)}
    seeks = 0
    decoded = 0
    convert_s = 0.0  # RGB conversion + copy into the output, wanted frames only
    for start, targets in runs:
        # After a seek the demuxer may land later than asked (index by dts, open GOPs): step back a keyframe.
        kpos = int(np.searchsorted(index.keyframes, start, side="left"))
        while True:
            container.seek(int(index.pts[start]), stream=stream, backward=True, any_frame=False)
            seeks += 1
            outputs = _frames(container, stream, path, pts_to_idx)
            first = next(outputs, None)
            if first is None:
                raise MediaError(f"{path}: no frame decodable after seeking to frame {start}")
            decoded += 1
            if first[0] <= targets[0]:
                break
            if kpos <= 0 and start == 0:
                raise MediaError(
                    f"{path}: decoding from the start begins at frame {first[0]}; "
                    f"frame {targets[0]} is undecodable"
                )
            kpos -= 1
            start = int(index.keyframes[kpos]) if kpos >= 0 else 0
        pending = iter(targets)
        target = next(pending)
        item: tuple[int, av.VideoFrame] | None = first
        while target is not None:
            if item is None:
                raise MediaError(
                    f"{path}: decoding stopped before frame {target} of {index.num_frames} indexed frames "
                    f"(truncated or corrupt file)"
                )
            idx, frame = item
            if idx == target:
                if frame.is_corrupt:
                    raise MediaError(f"{path}: frame {target} decoded with errors (corrupt data)")
                c0 = time.perf_counter()
                rgb = _to_rgb(frame, size_wh)  # (H, W, 3)
                if frames is None:
                    frames = np.empty((len(wanted), *rgb.shape), np.uint8)
                elif rgb.shape != frames.shape[1:]:
                    raise MediaError(f"{path}: frame {target} is {rgb.shape}, others {frames.shape[1:]}")
                for row in rows[target]:  # plain row copies (a list index takes numpy's slow fancy path)
                    frames[row] = rgb
                convert_s += time.perf_counter() - c0
                target = next(pending, None)
                if target is None:
                    break
            elif idx > target:
                raise MediaError(f"{path}: decoder skipped frame {target} (next output was frame {idx})")
            item = next(outputs, None)
            decoded += item is not None
    assert frames is not None  # every run has >= 1 target, each either stored or raised
    stats = {"seeks": float(seeks), "decoded_frames": float(decoded), "runs": float(len(runs))}
    return frames, {**stats, "convert_s": convert_s}


def _frames(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    path: PathLike,
    pts_to_idx: dict[int, int],
) -> Iterator[tuple[int, av.VideoFrame]]:
    """Decoded frames with their presentation index; FFmpeg errors become ``MediaError``."""
    try:
        for frame in container.decode(stream):
            ts = frame.pts if frame.pts is not None else frame.dts
            if ts is None or int(ts) not in pts_to_idx:
                raise MediaError(f"{path}: decoded a frame with timestamp {ts} not in the packet index")
            yield pts_to_idx[int(ts)], frame
    except av.error.FFmpegError as e:
        raise MediaError(f"{path}: decode failed: {e}") from e


def _index(container: av.container.InputContainer, path: PathLike) -> KeyframeIndex:
    stream = _video_stream(container, path)
    stamps: list[int] = []
    keys: list[int] = []
    end = 0  # max(pts + duration) over packets, in stream time base
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or packet.is_discard:
                continue  # flush packet / dropped by an edit list
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is None:
                raise MediaError(f"{path}: packet without timestamps at byte {packet.pos}; cannot index")
            stamps.append(int(ts))
            keys.append(bool(packet.is_keyframe))
            end = max(end, int(ts) + int(packet.duration or 0))
    except av.error.FFmpegError as e:
        raise MediaError(f"{path}: demux failed after {len(stamps)} packets: {e}") from e
    if not stamps:
        raise MediaError(f"{path}: the video stream has no frames")
    pts = np.asarray(stamps, dtype=np.int64)
    order = np.argsort(pts, kind="stable")
    pts = pts[order]  # decode order -> presentation order
    if np.any(np.diff(pts) == 0):
        dup = int(pts[1:][np.diff(pts) == 0][0])
        raise MediaError(f"{path}: two packets share timestamp {dup}; cannot map frames to indices")
    keyframes = np.flatnonzero(np.asarray(keys)[order]).astype(np.int64)
    _check_not_truncated(container, stream, pts, end, path)
    rate = stream.average_rate
    return KeyframeIndex(
        pts=pts,
        keyframes=keyframes,
        fps=float(rate) if rate else 0.0,
        metadata_frames=int(stream.frames or 0),
    )


def _check_not_truncated(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    pts: np.ndarray,
    packets_end: int,
    path: PathLike,
) -> None:
    """Raise if the demuxed frames end well before the duration the file header declares.

    A cut-off MKV or a cut-off MP4 with its index at the front demuxes "cleanly" but with fewer frames.
    The stream's own duration is used; the container duration only when the file has a single stream
    (an audio track may legitimately outlast the video).
    """
    tb = stream.time_base
    if tb is None or len(pts) < 2:
        return
    step = float(np.median(np.diff(pts))) * float(tb)  # seconds per frame
    indexed_end = max(float(pts[-1]) * float(tb) + step, packets_end * float(tb))
    if stream.duration:
        start = float(stream.start_time or 0) * float(tb)
        declared_end = start + float(stream.duration) * float(tb)
    elif len(container.streams) == 1 and container.duration:
        declared_end = (container.start_time or 0) / av.time_base + container.duration / av.time_base
    else:
        return
    tolerance = max(2 * step, 0.01 * declared_end)
    if indexed_end < declared_end - tolerance:
        raise MediaError(
            f"{path}: truncated or corrupt file: frames end at {indexed_end:.2f} s "
            f"but the header declares {declared_end:.2f} s"
        )


def _open(path: PathLike) -> av.container.InputContainer:
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"{path}: video file not found")
    try:
        return av.open(str(p), mode="r")
    except (av.error.FFmpegError, OSError) as e:
        raise MediaError(f"{path}: cannot open video container: {e}") from e


def _video_stream(container: av.container.InputContainer, path: PathLike) -> av.video.stream.VideoStream:
    if not container.streams.video:
        raise MediaError(f"{path}: no video stream in the file")
    return container.streams.video[0]


def _to_rgb(frame: av.VideoFrame, size_wh: tuple[int, int] | None) -> np.ndarray:
    if size_wh is None:
        return frame.to_ndarray(format="rgb24")  # (H, W, 3)
    return frame.to_ndarray(format="rgb24", width=size_wh[0], height=size_wh[1])
