"""The synthetic video-NIAH grid: dataset reader ``niah`` and frame generator ``niah_haystack``.

Reproduces LongVA V-NIAH's insertion protocol (benchmarks.md §6.1, ``vision_niah/eval_vision_niah.py``):
take the first N haystack frames and insert the needle frame at ``int(depth * N)``, giving N + 1 frames.
Multi-frame needles (``count``, ``order``; benchmarks.md §6.4) insert their k frames at depths spread
evenly around the cell depth (the first at the cell depth), giving N + k frames. Two modes (§6.4 (3)):
``frames`` hands the frames to the model directly (a ``synthetic`` MediaRef redrawn by the registered
generator), ``video`` writes an H.264 MP4 under the cache dir that the real video reader samples.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from oryx_eval.benchmarks.niah.haystack import haystack_frame
from oryx_eval.benchmarks.niah.needles import NEEDLE_KINDS, make_needle, render_needle
from oryx_eval.errors import DatasetError, MediaError
from oryx_eval.records import LoadedMedia, MediaRef, ReaderContext, Sample
from oryx_eval.registry import DATASETS, GENERATORS

GENERATOR = "niah_haystack"
VIDEO_ENCODE: dict[str, Any] = {
    "gop": 8,
    "codec": "libx264",
    "pix_fmt": "yuv420p",
    "crf": 18,
    "preset": "ultrafast",
}
"""MP4 settings of ``video`` mode: a short GOP keeps seeking cheap; crf 18 keeps code words legible."""


def needle_id(num_frames: int, depth_pct: int, kind: str, replicate: int) -> int:
    """Stable non-negative needle identity of a grid cell (independent of the rest of the grid)."""
    digest = hashlib.sha256(f"{num_frames}/{depth_pct}/{kind}/{replicate}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def needle_positions(num_frames: int, depth: float, copies: int) -> list[int]:
    """Indices of the needle frames in the final ``num_frames + copies`` frame sequence, ascending.

    The first copy goes into haystack slot ``int(depth * num_frames)`` (LongVA); the others into the
    slots ``j * (N + 1) // copies`` further on, wrapping around, so copies are spread evenly.
    """
    slots = num_frames + 1  # insertion slots: before frame 0 ... after frame N-1
    first = int(depth * num_frames)
    hay_slots = sorted((first + j * slots // copies) % slots for j in range(copies))
    return [slot + i for i, slot in enumerate(hay_slots)]


def needle_seen(sample: Sample, indices: Sequence[int]) -> bool:
    """Whether sampled source-frame ``indices`` include every needle frame of ``sample``.

    Args:
        sample: A ``niah`` sample (``metadata["needle_indices"]``).
        indices: Source frame indices the model saw (``SampleRecord.frames.indices``).

    Returns:
        ``True`` iff no needle frame was skipped by the sampler.
    """
    return covers(sample.metadata["needle_indices"], indices)


def covers(needle_indices: Sequence[int], indices: Sequence[int]) -> bool:
    """``True`` iff every index in ``needle_indices`` is in ``indices``."""
    return set(needle_indices) <= set(indices)


def validate_args(
    *,
    seed: int,
    frame_counts: Sequence[int],
    depths: Sequence[float],
    needles: Sequence[str],
    mode: str,
    frame_size: Sequence[int],
    fps: float,
    per_cell: int,
) -> None:
    """Raise ``ValueError`` naming the offending ``niah`` argument."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"niah: seed must be an integer >= 0, got {seed!r}")
    if not frame_counts:
        raise ValueError("niah: frame_counts is empty (the grid needs at least one frame count)")
    for n in frame_counts:
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"niah: frame_counts must be integers >= 1, got {n!r}")
    if len(set(frame_counts)) != len(frame_counts):
        raise ValueError(f"niah: frame_counts has duplicates: {list(frame_counts)}")
    if not depths:
        raise ValueError("niah: depths is empty (the grid needs at least one depth)")
    for d in depths:
        if not isinstance(d, int | float) or not 0.0 <= d <= 1.0:
            raise ValueError(f"niah: depths must be fractions in [0, 1], got {d!r}")
    pcts = [round(100 * d) for d in depths]
    if len(set(pcts)) != len(pcts):
        raise ValueError(f"niah: depths must differ in whole percents, got {list(depths)} -> {pcts}")
    if not needles:
        raise ValueError(f"niah: needles is empty; valid kinds: {', '.join(NEEDLE_KINDS)}")
    for kind in needles:
        if kind not in NEEDLE_KINDS:
            raise ValueError(f"niah: unknown needle kind {kind!r}; valid: {', '.join(NEEDLE_KINDS)}")
    if len(set(needles)) != len(needles):
        raise ValueError(f"niah: needles has duplicates: {list(needles)}")
    if mode not in ("frames", "video"):
        raise ValueError(f"niah: mode must be 'frames' or 'video', got {mode!r}")
    if len(frame_size) != 2 or not all(isinstance(v, int) for v in frame_size):
        raise ValueError(f"niah: frame_size must be [width, height] integers, got {frame_size!r}")
    if any(v < 32 or v % 2 for v in frame_size):
        raise ValueError(f"niah: frame_size values must be even and >= 32, got {list(frame_size)}")
    if not fps > 0:
        raise ValueError(f"niah: fps must be > 0, got {fps!r}")
    if not isinstance(per_cell, int) or per_cell < 1:
        raise ValueError(f"niah: per_cell must be an integer >= 1, got {per_cell!r}")


def iter_frames(
    *,
    seed: int,
    num_frames: int,
    depth: float,
    needle: str,
    needle_id: int,
    size_wh: Sequence[int],
    marker: bool = True,
) -> Iterator[np.ndarray]:
    """Yield the ``num_frames + k`` frames of one cell, uint8 ``(H, W, 3)`` each, in order.

    Same arguments as ``niah_haystack``; lazy, so long videos are encoded without holding every frame.
    """
    spec = make_needle(needle, seed, needle_id)
    wh = (int(size_wh[0]), int(size_wh[1]))
    needle_frames = iter(render_needle(spec, wh, marker=marker))
    positions = set(needle_positions(num_frames, depth, len(spec.items)))
    hay = 0
    for t in range(num_frames + len(spec.items)):
        if t in positions:
            yield next(needle_frames)
        else:
            yield haystack_frame(seed, hay, wh)
            hay += 1


@GENERATORS.register(GENERATOR)
def niah_haystack(
    *,
    seed: int,
    num_frames: int,
    depth: float,
    needle: str,
    needle_id: int,
    size_wh: Sequence[int],
    marker: bool = True,
) -> LoadedMedia:
    """Redraw one cell's frames (``frames`` mode) from its ``MediaRef.params``.

    Args:
        seed: Task seed (haystack and needle content).
        num_frames: Haystack length N.
        depth: Cell depth in [0, 1]; the first needle frame lands at ``int(depth * N)``.
        needle: Needle kind.
        needle_id: Needle identity (``needle_id(...)`` of the cell).
        size_wh: Frame ``(width, height)``.
        marker: Whether needle frames carry the answer marker.

    Returns:
        ``LoadedMedia`` with frames uint8 ``(N + k, H, W, 3)`` and ``indices = range(N + k)``
        (``key`` and ``decode_s`` are left for the loader).
    """
    frames = np.stack(
        list(
            iter_frames(
                seed=seed,
                num_frames=num_frames,
                depth=depth,
                needle=needle,
                needle_id=needle_id,
                size_wh=size_wh,
                marker=marker,
            )
        )
    )
    total = frames.shape[0]
    return LoadedMedia(
        kind="video",
        frames=frames,
        indices=list(range(total)),
        source_frames=total,
        size_wh=(int(size_wh[0]), int(size_wh[1])),
    )


def _video_frame_count(path: Path) -> int:
    """Frames in ``path`` counted by a demux pass (container headers can be wrong)."""
    from oryx_eval.media.pyav_reader import build_index

    return build_index(path).num_frames


def materialise_video(params: dict[str, Any], fps: float, cache_dir: Path) -> Path:
    """Encode one cell's frames to an MP4 under ``cache_dir`` (reused when already complete).

    Args:
        params: The ``niah_haystack`` arguments of the cell.
        fps: Frame rate written into the stream.
        cache_dir: Directory for generated videos.

    Returns:
        The MP4 path; its name is a hash of ``params``, ``fps`` and ``VIDEO_ENCODE``.
    """
    from oryx_eval.media.encode import encode_video

    blob = json.dumps({"params": params, "fps": fps, "encode": VIDEO_ENCODE}, sort_keys=True)
    path = Path(cache_dir) / "niah" / f"niah_{hashlib.sha1(blob.encode()).hexdigest()[:20]}.mp4"
    spec = make_needle(params["needle"], params["seed"], params["needle_id"])
    expected = params["num_frames"] + len(spec.items)
    if path.exists():
        try:
            if _video_frame_count(path) == expected:
                return path
        except MediaError:
            pass  # unreadable or no video stream: re-encode below
    encode_video(iter_frames(**params), path, fps=fps, **VIDEO_ENCODE)
    got = _video_frame_count(path)
    if got != expected:
        raise DatasetError(f"niah: encoded {path} has {got} frames, expected {expected}")
    return path


@DATASETS.register("niah")
def read_niah(
    ctx: ReaderContext,
    *,
    seed: int,
    frame_counts: list[int],
    depths: list[float],
    needles: list[str],
    mode: Literal["frames", "video"],
    frame_size: list[int],
    fps: float = 1.0,
    per_cell: int = 1,
    marker: bool = False,
) -> list[Sample]:
    """Build the NIAH grid: one sample per (frame count, depth, needle kind, replicate).

    Args:
        ctx: Reader context (``task`` name; ``cache_dir`` is required in ``video`` mode).
        seed: Seed of the haystack and of all needle content.
        frame_counts: Haystack lengths N (LongVA "Num. Frame").
        depths: Needle depths in [0, 1] (LongVA "Frame Depth" / 100).
        needles: Needle kinds, a subset of ``NEEDLE_KINDS``.
        mode: ``frames`` (synthetic frames to the model) or ``video`` (MP4 through the video reader).
        frame_size: ``[width, height]``, even.
        fps: Frame rate of ``video``-mode MP4s.
        per_cell: Replicates (independent needle contents) per cell and kind.
        marker: Paint the answer marker into needle frames (needed by the ``test-oracle`` backend; it
            is a coloured corner block a real model could also see, and for colour questions its
            colour is often a wrong option, so real-model tasks keep the default ``False``).

    Returns:
        Samples with id ``niah/n{N}/d{depth%}/{kind}/{replicate}``, target letter, 4 choices and
        metadata ``num_frames, depth, needle, needle_indices, mode, replicate``.
    """
    validate_args(
        seed=seed,
        frame_counts=frame_counts,
        depths=depths,
        needles=needles,
        mode=mode,
        frame_size=frame_size,
        fps=fps,
        per_cell=per_cell,
    )
    if mode == "video" and ctx.cache_dir is None:
        raise DatasetError(f"niah ({ctx.task}): mode 'video' needs a cache_dir to write MP4s into")
    samples = []
    for n in frame_counts:
        for depth in depths:
            pct = round(100 * depth)
            for kind in needles:
                for rep in range(per_cell):
                    nid = needle_id(n, pct, kind, rep)
                    spec = make_needle(kind, seed, nid)
                    params = {
                        "seed": seed,
                        "num_frames": n,
                        "depth": float(depth),
                        "needle": kind,
                        "needle_id": nid,
                        "size_wh": [int(frame_size[0]), int(frame_size[1])],
                        "marker": marker,
                    }
                    total = n + len(spec.items)
                    if mode == "frames":
                        ref = MediaRef(kind="synthetic", generator=GENERATOR, params=params)
                    else:
                        path = materialise_video(params, fps, Path(ctx.cache_dir))
                        ref = MediaRef(kind="video", path=str(path), num_frames=total)
                    samples.append(
                        Sample(
                            id=f"niah/n{n}/d{pct}/{kind}/{rep}",
                            task=ctx.task,
                            media=[ref],
                            question=spec.question,
                            choices=list(spec.options),
                            target=spec.answer,
                            metadata={
                                "num_frames": n,
                                "depth": pct,
                                "needle": kind,
                                "needle_indices": needle_positions(n, depth, len(spec.items)),
                                "total_frames": total,
                                "mode": mode,
                                "replicate": rep,
                            },
                        )
                    )
    return samples
