"""Video reader interface: uniform frame indices, the decoded-video record and backend selection.

Reproduces the frame sampling of Oryx's lmms-eval adapter
(``Oryx-mllm/Oryx:lmms-eval/lmms_eval/models/oryx.py``: ``np.linspace(0, n - 1, max_frames_num)`` over all
frames, cast to int), with the frame count taken from a demux pass instead of container metadata
(benchmarks.md §8.5). Backends: ``pyav`` (default, keyframe-aware,
``pyav_reader.py``), ``torchcodec`` and ``decord`` (optional, ``optional_readers.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from oryx_eval.records import FrameSampling

Backend = Literal["pyav", "torchcodec", "decord"]
PathLike = str | os.PathLike[str]


def uniform_indices(total: int, num_frames: int) -> list[int]:
    """The reference uniform sample: ``np.linspace(0, total - 1, num_frames).astype(int)``.

    Indices repeat when ``num_frames > total`` (short videos); they are returned as-is, never deduplicated.

    Args:
        total: Number of frames in the video (>= 1).
        num_frames: Number of frames wanted (>= 1).

    Returns:
        ``num_frames`` non-decreasing frame indices in ``[0, total - 1]``.
    """
    if total < 1:
        raise ValueError(f"uniform_indices: a video needs at least 1 frame, got {total}")
    if num_frames < 1:
        raise ValueError(f"uniform_indices: num_frames must be >= 1, got {num_frames}")
    return [int(i) for i in np.linspace(0, total - 1, num_frames).astype(int)]


@dataclass
class DecodedVideo:
    """Frames sampled from one video file, with the exact source indices they came from."""

    frames: np.ndarray
    """uint8 ``(T, H, W, 3)`` RGB."""
    indices: list[int]
    """Source frame index of each returned frame (presentation order, 0-based; may repeat)."""
    source_frames: int
    """Frame count of the source, counted by demuxing (not container metadata)."""
    fps: float
    """Average frame rate of the source stream (0.0 when unknown)."""
    size_wh: tuple[int, int]
    """``(width, height)`` of the returned frames."""
    mode: str = "exact"
    backend: str = "pyav"
    stats: dict[str, float] = field(default_factory=dict)
    """Reader counters (``seeks``, ``decoded_frames``, ``index_s``, ...) for benches; not part of results."""

    @property
    def nbytes(self) -> int:
        """Size of the frame array in bytes."""
        return int(self.frames.nbytes)


class VideoReader(Protocol):
    """A decoder backend: samples ``num_frames`` frames of a file the way ``sampling.mode`` says."""

    name: str

    def read(
        self,
        path: PathLike,
        sampling: FrameSampling,
        num_frames: int,
        size_wh: tuple[int, int] | None = None,
    ) -> DecodedVideo:
        """Decode the sampled frames of ``path``.

        Args:
            path: Video file.
            sampling: Mode (``exact`` / ``keyframe_snap``) and backend; ``sampling.num_frames`` is ignored
                in favour of ``num_frames`` (per-sample overrides are resolved by the caller).
            num_frames: Frames to return.
            size_wh: Rescale frames to ``(width, height)`` at decode time; ``None`` keeps the source size.

        Raises:
            MediaError: missing, unreadable, corrupt or truncated file (message names the file).
        """
        ...
