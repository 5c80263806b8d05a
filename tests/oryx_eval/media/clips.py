"""Tiny synthetic clips for the media tests (encoded with the harness's own ``encode_video``)."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from oryx_eval.media.encode import encode_video


def pattern(i: int, h: int = 64, w: int = 96) -> np.ndarray:
    """Frame ``i`` ``(H, W, 3)`` of a moving colour pattern; consecutive frames differ everywhere."""
    y = np.arange(h)[:, None]
    x = np.arange(w)[None, :]
    f = np.empty((h, w, 3), np.uint8)
    f[..., 0] = (x * 3 + i * 9) % 256
    f[..., 1] = (y * 3 + i * 5) % 256
    f[..., 2] = ((x + y) * 2 + i * 13) % 256
    return f


def frames(n: int, h: int = 64, w: int = 96) -> Iterator[np.ndarray]:
    """``n`` pattern frames."""
    return (pattern(i, h, w) for i in range(n))


def make_clip(path: Path, n: int, gop: int | None, fps: float = 30.0, h: int = 64, w: int = 96) -> Path:
    """Encode an H.264 clip (default x264 preset: B-frames, so decode order != presentation order)."""
    return encode_video(frames(n, h, w), path, fps=fps, gop=gop)


def make_vfr_clip(path: Path, n: int, gop: int = 8) -> Path:
    """An MKV whose frame timestamps are irregular (variable frame rate), millisecond time base."""
    rng = np.random.default_rng(0)
    pts = np.cumsum(rng.integers(20, 90, size=n)) - 20  # first frame at 0, gaps 20-89 ms
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30, options={"x264-params": f"keyint={gop}:scenecut=0"})
        stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for i, f in enumerate(frames(n)):
            vf = av.VideoFrame.from_ndarray(f, format="rgb24")
            vf.pts = int(pts[i])
            vf.time_base = Fraction(1, 1000)
            for p in stream.encode(vf):
                out.mux(p)
        for p in stream.encode(None):
            out.mux(p)
    return path


def decode_all(path: Path) -> np.ndarray:
    """Independent reference ``(N, H, W, 3)``: plain sequential PyAV decode of every frame."""
    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def truncate(src: Path, dst: Path, keep_fraction: float) -> Path:
    """Copy the first ``keep_fraction`` of ``src``'s bytes to ``dst``."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep_fraction)])
    return dst


def garble(src: Path, dst: Path, at_fraction: float, nbytes: int, seed: int = 0) -> Path:
    """Copy ``src`` with ``nbytes`` random bytes written at ``at_fraction`` of its length."""
    data = bytearray(src.read_bytes())
    start = int(len(data) * at_fraction)
    noise = np.random.default_rng(seed).integers(0, 256, nbytes, dtype=np.uint8)
    data[start : start + nbytes] = noise.tobytes()
    dst.write_bytes(bytes(data))
    return dst
