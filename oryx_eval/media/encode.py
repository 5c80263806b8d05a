"""Write frame arrays to a video file with PyAV (tests, benches and synthetic tasks).

Keyframe placement is explicit: ``gop`` fixes the keyframe interval (for libx264 scene-cut keyframes are
turned off so the interval is exact), which is what the keyframe-aware sampler in ``pyav_reader`` is
benchmarked against (environment.md §4: GOP 250 x264 default vs GOP 60 "every 2 s").
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def encode_video(
    frames: Iterable[np.ndarray],
    path: str | os.PathLike[str],
    fps: float = 1.0,
    gop: int | None = None,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    crf: int | None = None,
    preset: str | None = None,
) -> Path:
    """Encode RGB frames into a video container chosen by the file extension.

    The file is written under a temporary name and renamed into place when complete, so an interrupted
    encode never leaves a truncated file at ``path``.

    Args:
        frames: uint8 arrays ``(H, W, 3)``, all the same shape; may be a lazy generator.
        path: Output file (``.mp4``, ``.mkv``, ``.webm``, ...).
        fps: Frame rate written into the stream (frame ``i`` gets timestamp ``i / fps``).
        gop: Keyframe interval in frames; ``None`` keeps the encoder default (x264: 250 + scene cuts).
        codec: FFmpeg encoder name.
        pix_fmt: Encoded pixel format (``yuv420p`` needs even width and height).
        crf: Constant rate factor for x264/x265/vpx (``None`` = encoder default).
        preset: x264/x265 speed preset, e.g. ``"ultrafast"`` (``None`` = encoder default).

    Returns:
        The written path.

    Raises:
        ValueError: no frames, a frame that is not uint8 ``(H, W, 3)``, a shape change, odd dimensions
            with a 4:2:0 pixel format, or a non-positive fps/gop.
    """
    out = Path(path)
    if fps <= 0:
        raise ValueError(f"encode_video({out}): fps must be > 0, got {fps}")
    if gop is not None and gop < 1:
        raise ValueError(f"encode_video({out}): gop must be >= 1, got {gop}")
    out.parent.mkdir(parents=True, exist_ok=True)
    # a unique temporary name: several processes (torchrun ranks) may encode the same file at once
    tmp = out.with_name(f".{out.stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial{out.suffix}")
    fmt_name = {".mkv": "matroska", ".webm": "webm", ".mov": "mov", ".avi": "avi"}.get(out.suffix.lower())
    container = av.open(str(tmp), mode="w", format=fmt_name)
    try:
        stream = None
        shape: tuple[int, ...] | None = None
        for n, frame in enumerate(frames):
            arr = np.asarray(frame)
            if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
                raise ValueError(
                    f"encode_video({out}): frame {n} must be uint8 (H, W, 3), got {arr.dtype} {arr.shape}"
                )
            if stream is None:
                shape = arr.shape
                stream = _add_stream(
                    container, out, arr.shape[1], arr.shape[0], fps, gop, codec, pix_fmt, crf, preset
                )
            elif arr.shape != shape:
                raise ValueError(f"encode_video({out}): frame {n} has shape {arr.shape}, frame 0 had {shape}")
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24")
            vf.pts = n
            for packet in stream.encode(vf):
                container.mux(packet)
        if stream is None:
            raise ValueError(f"encode_video({out}): no frames given")
        for packet in stream.encode(None):
            container.mux(packet)
    except BaseException:
        container.close()
        tmp.unlink(missing_ok=True)
        raise
    container.close()
    os.replace(tmp, out)
    return out


def _add_stream(
    container: av.container.OutputContainer,
    out: Path,
    width: int,
    height: int,
    fps: float,
    gop: int | None,
    codec: str,
    pix_fmt: str,
    crf: int | None,
    preset: str | None,
) -> av.video.stream.VideoStream:
    """Create the video stream with explicit rate, keyframe interval and quality options."""
    if pix_fmt in ("yuv420p", "yuvj420p", "nv12") and (width % 2 or height % 2):
        raise ValueError(f"encode_video({out}): {pix_fmt} needs even width and height, got {width}x{height}")
    rate = Fraction(fps).limit_denominator(1001)
    options: dict[str, str] = {}
    if crf is not None:
        options["crf"] = str(crf)
    if preset is not None:
        options["preset"] = preset
    if gop is not None and codec in ("libx264", "libx265"):
        # Fixed interval: no scene-cut keyframes, keyint_min == keyint.
        key = "x264-params" if codec == "libx264" else "x265-params"
        options[key] = f"keyint={gop}:min-keyint={gop}:scenecut=0"
    stream = container.add_stream(codec, rate=rate, options=options)
    stream.width = width
    stream.height = height
    stream.pix_fmt = pix_fmt
    stream.time_base = Fraction(1) / rate
    if gop is not None:
        stream.codec_context.gop_size = gop
    return stream
