"""Optional video backends with the ``VideoReader`` interface: torchcodec and decord (both lazily imported).

environment.md §4: ``torchcodec==0.13.0`` is the last CPU-only PyPI build (it also needs system FFmpeg
libraries, ``apt-get install -y ffmpeg``); ``decord==0.6.0`` has x86_64 wheels only and takes its frame count
from container metadata (broken counts are a known decord issue, benchmarks.md §8.5). Neither implements
``keyframe_snap``. Uniform indices are the same ``linspace`` as the PyAV reader.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from types import ModuleType

import numpy as np

from oryx_eval.errors import MediaError, PrerequisiteError, TaskConfigError
from oryx_eval.media.video import DecodedVideo, PathLike, uniform_indices
from oryx_eval.records import FrameSampling


def _require(module: str, pip: str, note: str = "") -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise PrerequisiteError(
            f"video backend {module!r} is not available ({e}); install it with: pip install {pip}{note}"
        ) from e
    except OSError as e:  # e.g. a CUDA torchcodec wheel failing to load libnvrtc on a CPU machine
        raise PrerequisiteError(
            f"video backend {module!r} failed to load ({e}); install the CPU build: pip install {pip}{note}"
        ) from e


def _check_exact(sampling: FrameSampling, backend: str) -> None:
    if sampling.mode != "exact":
        raise TaskConfigError(f"video backend {backend!r} supports mode 'exact' only, not {sampling.mode!r}")


def _check_file(path: PathLike) -> None:
    if not Path(path).is_file():
        raise MediaError(f"{path}: video file not found")


class TorchcodecReader:
    """torchcodec ``VideoDecoder(seek_mode="exact")`` + ``get_frames_at``."""

    name = "torchcodec"
    modes = ("exact",)

    def __init__(self) -> None:
        """Import torchcodec now so a missing package fails before any sample is read."""
        self._decoders = _require(
            "torchcodec.decoders", "torchcodec==0.13.0", " (and system FFmpeg: apt-get install -y ffmpeg)"
        )

    def read(
        self,
        path: PathLike,
        sampling: FrameSampling,
        num_frames: int,
        size_wh: tuple[int, int] | None = None,
    ) -> DecodedVideo:
        """Decode uniformly sampled frames (see ``VideoReader.read``)."""
        _check_exact(sampling, self.name)
        _check_file(path)
        t0 = time.perf_counter()
        try:
            dec = self._decoders.VideoDecoder(
                str(path), seek_mode="exact", num_ffmpeg_threads=0, dimension_order="NHWC"
            )
            total = int(dec.metadata.num_frames)
            indices = uniform_indices(total, num_frames)
            batch = dec.get_frames_at(indices=indices)
            frames = batch.data.numpy()  # (T, H, W, 3) uint8
            fps = float(dec.metadata.average_fps or 0.0)
        except (RuntimeError, ValueError) as e:
            raise MediaError(f"{path}: torchcodec failed: {e}") from e
        frames = _resize(frames, size_wh)
        return _result(frames, indices, total, fps, self.name, t0)


class DecordReader:
    """decord ``VideoReader(...).get_batch`` (frame count from container metadata)."""

    name = "decord"
    modes = ("exact",)

    def __init__(self) -> None:
        """Import decord now so a missing package fails before any sample is read."""
        self._decord = _require("decord", "decord==0.6.0", " (x86_64 only)")

    def read(
        self,
        path: PathLike,
        sampling: FrameSampling,
        num_frames: int,
        size_wh: tuple[int, int] | None = None,
    ) -> DecodedVideo:
        """Decode uniformly sampled frames (see ``VideoReader.read``)."""
        _check_exact(sampling, self.name)
        _check_file(path)
        t0 = time.perf_counter()
        kwargs = {"width": size_wh[0], "height": size_wh[1]} if size_wh is not None else {}
        try:
            vr = self._decord.VideoReader(str(path), num_threads=0, **kwargs)
            total = len(vr)
            indices = uniform_indices(total, num_frames)
            frames = vr.get_batch(indices).asnumpy()  # (T, H, W, 3) uint8
            fps = float(vr.get_avg_fps())
        except (self._decord.DECORDError, RuntimeError) as e:
            raise MediaError(f"{path}: decord failed: {e}") from e
        return _result(frames, indices, total, fps, self.name, t0)


def _resize(frames: np.ndarray, size_wh: tuple[int, int] | None) -> np.ndarray:
    """Bilinear PIL resize when an output size is requested (torchcodec 0.13 has no decode-time scale)."""
    if size_wh is None or (frames.shape[2], frames.shape[1]) == tuple(size_wh):
        return frames
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(f).resize(size_wh, Image.BILINEAR)) for f in frames])


def _result(
    frames: np.ndarray, indices: list[int], total: int, fps: float, backend: str, t0: float
) -> DecodedVideo:
    frames = np.ascontiguousarray(frames)  # (T, H, W, 3) uint8
    return DecodedVideo(
        frames=frames,
        indices=indices,
        source_frames=total,
        fps=fps,
        size_wh=(int(frames.shape[2]), int(frames.shape[1])),
        mode="exact",
        backend=backend,
        stats={"total_s": time.perf_counter() - t0},
    )
