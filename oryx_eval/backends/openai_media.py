"""Media <-> OpenAI chat content parts: frames as base64 JPEG ``image_url`` data URIs, and back."""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from oryx_eval.records import LoadedMedia

DATA_URI_PREFIX = "data:image/jpeg;base64,"


@dataclass
class EncodedMedia:
    """What one request sends: the content parts and the facts recorded with the sample."""

    parts: list[dict[str, Any]] = field(default_factory=list)
    frames_sent: int = 0
    positions: list[int] = field(default_factory=list)
    """Positions (into the frames the runner decoded) of the frames sent, per media item concatenated."""
    size_wh: tuple[int, int] | None = None
    """Size of the JPEGs sent (all frames of a video share it)."""
    jpeg_bytes: int = 0

    def info(self) -> dict[str, Any]:
        """JSON-serialisable record of what was sent (no image data)."""
        return {
            "frames_sent": self.frames_sent,
            "positions": self.positions,
            "size": list(self.size_wh) if self.size_wh else None,
            "jpeg_bytes": self.jpeg_bytes,
        }


def pick_positions(n: int, max_frames: int) -> list[int]:
    """``min(n, max_frames)`` positions spread uniformly over ``range(n)`` (``linspace``, rounded)."""
    if n <= max_frames:
        return list(range(n))
    return [int(round(x)) for x in np.linspace(0, n - 1, max_frames)]


def fit_size(w: int, h: int, max_side: int) -> tuple[int, int]:
    """``(w, h)`` scaled down (aspect kept) so the longer side is at most ``max_side``."""
    if max(w, h) <= max_side:
        return w, h
    s = max_side / max(w, h)
    return max(1, round(w * s)), max(1, round(h * s))


def jpeg_data_uri(img: Image.Image, quality: int) -> tuple[str, int]:
    """``(data URI, JPEG byte count)`` of an RGB image."""
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=quality)
    raw = buf.getvalue()
    return DATA_URI_PREFIX + base64.b64encode(raw).decode("ascii"), len(raw)


def encode_media(media: list[LoadedMedia], max_frames: int, max_side: int, quality: int) -> EncodedMedia:
    """Every media item of a request as JPEG ``image_url`` parts (a video: up to ``max_frames`` frames)."""
    out = EncodedMedia()
    for m in media:
        if m.kind == "video":
            frames = np.asarray(m.frames)  # (T, H, W, 3) uint8
            pos = pick_positions(len(frames), max_frames)
            images = [Image.fromarray(frames[p]) for p in pos]
        else:
            pos = [0]
            images = [m.image]
        for img in images:
            wh = fit_size(img.width, img.height, max_side)
            if wh != img.size:
                img = img.resize(wh, Image.Resampling.BICUBIC)
            uri, nbytes = jpeg_data_uri(img, quality)
            out.parts.append({"type": "image_url", "image_url": {"url": uri}})
            out.jpeg_bytes += nbytes
            out.size_wh = wh
        out.positions.extend(pos)
        out.frames_sent += len(images)
    return out


def decode_data_uri(url: str) -> Image.Image:
    """A ``data:image/...;base64,...`` URI as an RGB PIL image; ``ValueError`` for anything else."""
    if not url.startswith("data:image/") or ";base64," not in url:
        raise ValueError("only data:image/...;base64 URIs are accepted (no remote URLs)")
    try:
        raw = base64.b64decode(url.split(";base64,", 1)[1], validate=True)
        img = Image.open(io.BytesIO(raw))
        img.load()
    except (binascii.Error, OSError) as e:
        raise ValueError(f"undecodable image data: {e}") from None
    return img.convert("RGB")
