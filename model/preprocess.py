"""Image and video-frame resizing rules of Oryx (arXiv 2409.12961).

Reproduces `oryx/mm_utils.py` of the reference (`resize_images`, `process_anyres_highres_image_genli`,
`process_anyres_video_genli`, `process_anyres_video_genli_long`) with the settings of its launch scripts
(`LOWRES_RESIZE=384x32 VIDEO_RESIZE=0x64 HIGHRES_BASE=0x32 MAXRES=1536 MINRES=0 VIDEO_MAXRES=480
VIDEO_MINRES=288`). The reference reads those from environment variables at import time; here every knob is a
field of a frozen dataclass passed explicitly, defaults equal to the reference.

Sizes are (width, height) pairs, as PIL's `Image.size`. Tensors are `(3, H, W)` float32 in [-1, 1]
(CLIP processor with mean = std = 0.5: `(x / 255 - 0.5) / 0.5`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import Tensor

# compression ratio (token reduction) -> pooling side k of the dynamic compressor
POOL_SIDE: dict[int, int] = {1: 1, 4: 2, 16: 4}


@dataclass(frozen=True)
class ImageResize:
    """Two-view image resizing (reference §3.2). All lengths in pixels."""

    highres_max: int = 1536  # MAXRES: high-res view area capped at highres_max**2
    highres_min: int = 0  # MINRES: high-res view area raised to at least highres_min**2
    highres_stride: int = 32  # HIGHRES_BASE stride: high-res sides floored to multiples of this
    lowres_base: int = 384  # LOWRES_RESIZE base: low-res view always rescaled to area lowres_base**2
    lowres_stride: int = 32  # LOWRES_RESIZE stride
    tiny_min_side: int = 32  # a side shorter than this triggers the tiny-image upscale
    tiny_target: int = 64  # ... which brings the short side to this length


@dataclass(frozen=True)
class VideoResize:
    """Per-frame video resizing (reference §3.3). All lengths in pixels.

    `stride_by_ratio` maps the compression ratio to the side stride (64 for `video` at 1x/4x, 128 for
    `video_long` at 16x) as a tuple of pairs so the dataclass stays hashable; `stride`, when set, overrides it
    for every ratio.
    """

    max_side: int = 480  # VIDEO_MAXRES: frame area capped at max_side**2
    min_side: int = 288  # VIDEO_MINRES: frame area raised to at least min_side**2
    base: int = 0  # VIDEO_RESIZE base (0 = keep native area within [min_side**2, max_side**2])
    stride_by_ratio: tuple[tuple[int, int], ...] = ((1, 64), (4, 64), (16, 128))
    stride: int | None = None  # explicit stride override for all ratios

    def stride_for(self, compression: int) -> int:
        """Side stride used for frames compressed at `compression` (1, 4 or 16)."""
        if self.stride is not None:
            return self.stride
        table = dict(self.stride_by_ratio)
        if compression not in table:
            raise ValueError(
                f"VideoResize.stride_by_ratio has no stride for compression {compression}; "
                f"has {sorted(table)}"
            )
        return table[compression]


@dataclass(frozen=True)
class ImageInput:
    """Both views of one preprocessed image, `(3, H, W)` float32 in [-1, 1]."""

    low: Tensor  # low-res view (area ~ lowres_base**2)
    high: Tensor  # high-res view (native size capped at highres_max**2)


def resize_rule(w: int, h: int, stride: int, base: int, maxres: int, minres: int) -> tuple[int, int]:
    """Generic Oryx resize rule (reference §3.1).

    If `base > 0` the area is rescaled to `base**2`; otherwise it is clamped into `[minres**2, maxres**2]`
    (a bound of 0 disables it). Sides are then floored (toward zero) to multiples of `stride`.

    Args:
        w: input width in pixels.
        h: input height in pixels.
        stride: output sides are multiples of this.
        base: target side of the area (0 = no forced area).
        maxres: area cap side (used when base == 0).
        minres: area floor side (used when base == 0).

    Returns:
        (w', h'); either may be 0 for extreme aspect ratios (callers reject that).
    """
    if w <= 0 or h <= 0:
        raise ValueError(f"resize_rule: image size must be positive, got {w}x{h}")
    if stride <= 0:
        raise ValueError(f"resize_rule: stride must be positive, got {stride}")
    area = w * h
    if base > 0:
        s = math.sqrt(base * base / area)
    elif maxres > 0 and area > maxres * maxres:
        s = math.sqrt(maxres * maxres / area)
    elif area < minres * minres:
        s = math.sqrt(minres * minres / area)
    else:
        s = 1.0
    return int(w * s / stride) * stride, int(h * s / stride) * stride


def tiny_upscale_size(w: int, h: int, spec: ImageResize) -> tuple[int, int]:
    """Size after the tiny-image upscale (reference §3.2).

    Both sides short: scale by `tiny_target / min(w, h)`. One side short: that side becomes `tiny_target`.
    The short side is set exactly; the other is floored.
    """
    if w <= 0 or h <= 0:
        raise ValueError(f"image size must be positive, got {w}x{h}")
    if w >= spec.tiny_min_side and h >= spec.tiny_min_side:
        return w, h
    if w <= h:  # the width is the (or the only) short side
        return spec.tiny_target, int(h * spec.tiny_target / w)
    return int(w * spec.tiny_target / h), spec.tiny_target


def _check_size(wh: tuple[int, int], what: str, src: tuple[int, int]) -> tuple[int, int]:
    if wh[0] <= 0 or wh[1] <= 0:
        raise ValueError(
            f"{what}: a {src[0]}x{src[1]} input resizes to {wh[0]}x{wh[1]} (aspect ratio too extreme for the "
            "stride); cannot encode it"
        )
    return wh


def image_view_sizes(
    w: int, h: int, spec: ImageResize = ImageResize()
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Sizes of the low-res and high-res views of a `w` x `h` image.

    Order of operations as in the reference: tiny upscale, then the high-res resize, then the low-res view
    resized from the already high-res-resized image.

    Returns:
        ((w_low, h_low), (w_high, h_high)).
    """
    up = tiny_upscale_size(w, h, spec)
    high = _check_size(
        resize_rule(*up, spec.highres_stride, 0, spec.highres_max, spec.highres_min),
        "image high-res view",
        (w, h),
    )
    low = _check_size(
        resize_rule(*high, spec.lowres_stride, spec.lowres_base, 0, 0), "image low-res view", (w, h)
    )
    return low, high


def video_frame_size(
    w: int, h: int, spec: VideoResize = VideoResize(), compression: int = 4, patch: int = 16
) -> tuple[int, int]:
    """Size of every frame of a `w` x `h` video at `compression` (1, 4 or 16).

    Raises ValueError if the resulting patch grid is not divisible by the compressor's pooling side.
    """
    if compression not in POOL_SIDE:
        raise ValueError(f"compression must be one of {sorted(POOL_SIDE)}, got {compression}")
    stride = spec.stride_for(compression)
    k = POOL_SIDE[compression]
    if stride % (patch * k):
        raise ValueError(
            f"video stride {stride} is not a multiple of patch*k = {patch}*{k}: "
            f"the {compression}x compressor "
            "needs patch grids divisible by k"
        )
    return _check_size(
        resize_rule(w, h, stride, spec.base, spec.max_side, spec.min_side), "video frame", (w, h)
    )


def to_tensor(img: Image.Image) -> Tensor:
    """RGB PIL image -> `(3, H, W)` float32, `(x / 255 - 0.5) / 0.5`."""
    arr = np.asarray(img, dtype=np.uint8)  # (H, W, 3)
    x = torch.from_numpy(arr.astype(np.float32)).permute(2, 0, 1)  # (3, H, W)
    return (x / 255.0 - 0.5) / 0.5


def _resize(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    return img if img.size == size else img.resize(size, Image.BICUBIC)


def preprocess_image(img: Image.Image, spec: ImageResize = ImageResize()) -> ImageInput:
    """Both normalised views of one image (RGB conversion, tiny upscale, high-res, then low-res resize).

    Args:
        img: any-mode PIL image (converted to RGB first).
        spec: resize settings.

    Returns:
        ImageInput with `low` and `high` as `(3, H, W)` float32.
    """
    if img.width <= 0 or img.height <= 0:
        raise ValueError(f"preprocess_image: empty image of size {img.size}")
    rgb = img.convert("RGB")
    w, h = rgb.size
    low_wh, high_wh = image_view_sizes(w, h, spec)
    up = _resize(rgb, tiny_upscale_size(w, h, spec))
    high = _resize(up, high_wh)
    low = _resize(high, low_wh)  # from the high-res-resized image, as the reference
    return ImageInput(low=to_tensor(low), high=to_tensor(high))


def preprocess_video(
    frames: np.ndarray | Sequence[Image.Image], spec: VideoResize = VideoResize(), compression: int = 4
) -> Tensor:
    """Resize and normalise video frames.

    Args:
        frames: uint8 `(T, H, W, 3)` array or a list of PIL images of one size.
        spec: per-frame resize settings.
        compression: 1, 4 or 16 (selects the stride).

    Returns:
        `(T, 3, H', W')` float32.
    """
    if isinstance(frames, np.ndarray):
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"preprocess_video: frames must be (T, H, W, 3), got shape {frames.shape}")
        if frames.dtype != np.uint8:
            raise ValueError(f"preprocess_video: frames must be uint8, got {frames.dtype}")
        pils = [Image.fromarray(f) for f in frames]
    else:
        pils = [f.convert("RGB") for f in frames]
    if not pils:
        raise ValueError("preprocess_video: no frames")
    sizes = {p.size for p in pils}
    if len(sizes) != 1:
        raise ValueError(f"preprocess_video: frames differ in size: {sorted(sizes)}")
    w, h = pils[0].size
    if w <= 0 or h <= 0:
        raise ValueError(f"preprocess_video: empty frames of size {w}x{h}")
    size = video_frame_size(w, h, spec, compression)
    arr = np.stack([np.asarray(_resize(p, size), dtype=np.uint8) for p in pils])  # (T, H', W', 3)
    x = torch.from_numpy(arr).permute(0, 3, 1, 2).to(torch.float32)  # (T, 3, H', W')
    return ((x / 255.0 - 0.5) / 0.5).contiguous()  # same ops as to_tensor, one batched pass
