"""Closed-form visual token counts of Oryx (arXiv 2409.12961).

Reproduces the sequence lengths produced by the reference `oryx/model/multimodal_projector/builder.py`
(SimpleMlp two-view layout) after the resizing of `oryx/mm_utils.py` and the pooling of
`oryx/model/multimodal_resampler/perceiver.py`:

- image (always 1x, two views): `3 + h_l (w_l + 1) + h_h (w_h + 1)` (begin, sep, end; a newline per row);
- video at ratio k*k: `2 + T (h' (w' + 1) + 1)` with `(h', w') = (h / k, w / k)` (begin, end; per-frame sep).
"""

from __future__ import annotations

from typing import Literal

from model.preprocess import POOL_SIDE, ImageResize, VideoResize, image_view_sizes, video_frame_size

MediaKind = Literal["image", "video"]


def _grid(wh: tuple[int, int], patch: int) -> tuple[int, int]:
    """(h, w) patch grid of a (w, h) image; the packed ViT path zero-pads up to a multiple of the patch."""
    return -(-wh[1] // patch), -(-wh[0] // patch)


def _check(kind: str, size_wh: tuple[int, int], frames: int) -> None:
    if kind not in ("image", "video"):
        raise ValueError(f"kind must be 'image' or 'video', got {kind!r}")
    if size_wh[0] <= 0 or size_wh[1] <= 0:
        raise ValueError(f"{kind} size must be positive, got {size_wh[0]}x{size_wh[1]}")
    if kind == "video" and frames <= 0:
        raise ValueError(f"video must have at least one frame, got {frames}")


def count_vit_patches(
    kind: MediaKind,
    size_wh: tuple[int, int],
    frames: int = 1,
    compression: int = 4,
    image_spec: ImageResize = ImageResize(),
    video_spec: VideoResize = VideoResize(),
    patch: int = 16,
) -> int:
    """ViT output tokens before compression (both image views; all video frames).

    Args:
        kind: "image" or "video".
        size_wh: source (width, height) in pixels (of the image, or of every video frame).
        frames: number of video frames (ignored for images).
        compression: video compression ratio 1, 4 or 16 (it selects the frame stride); images are always 1x.
        image_spec: image resize settings.
        video_spec: video resize settings.
        patch: ViT patch size.

    Returns:
        The number of ViT patch tokens.
    """
    _check(kind, size_wh, frames)
    if kind == "image":
        low, high = image_view_sizes(*size_wh, image_spec)
        (hl, wl), (hh, wh) = _grid(low, patch), _grid(high, patch)
        return hl * wl + hh * wh
    h, w = _grid(video_frame_size(*size_wh, video_spec, compression, patch), patch)
    return frames * h * w


def count_visual_tokens(
    kind: MediaKind,
    size_wh: tuple[int, int],
    frames: int = 1,
    compression: int = 4,
    image_spec: ImageResize = ImageResize(),
    video_spec: VideoResize = VideoResize(),
    patch: int = 16,
) -> int:
    """LLM positions taken by one image or video (the length of the spliced visual sequence).

    Args: as `count_vit_patches` (`compression` applies to videos only; images are always 1x as in the
    reference).

    Returns:
        The number of visual embeddings the `<image>` placeholder expands to.
    """
    _check(kind, size_wh, frames)
    if kind == "image":
        low, high = image_view_sizes(*size_wh, image_spec)
        (hl, wl), (hh, wh) = _grid(low, patch), _grid(high, patch)
        return 3 + hl * (wl + 1) + hh * (wh + 1)
    h, w = _grid(video_frame_size(*size_wh, video_spec, compression, patch), patch)
    k = POOL_SIDE[compression]
    hp, wp = h // k, w // k
    return 2 + frames * (hp * (wp + 1) + 1)
