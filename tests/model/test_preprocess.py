"""Tests for model/preprocess.py: reference resize examples, order of resizes, pixels vs independent PIL."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from model.preprocess import (
    ImageResize,
    VideoResize,
    image_view_sizes,
    preprocess_image,
    preprocess_video,
    resize_rule,
    video_frame_size,
)


def _norm(img: Image.Image) -> torch.Tensor:
    """Independent normalisation: uint8 HWC -> float CHW in [-1, 1] (float64 math, then float32)."""
    a = np.asarray(img.convert("RGB")).astype(np.float64)
    return torch.from_numpy(((a / 255.0 - 0.5) / 0.5).transpose(2, 0, 1).astype(np.float32))


@pytest.mark.parametrize(
    ("wh", "ratio", "expected"),
    [
        ((1280, 720), 4, (640, 320)),  # reference §3.3 examples
        ((640, 480), 4, (512, 384)),
        ((320, 240), 4, (320, 192)),
        ((1280, 720), 1, (640, 320)),  # 1x uses the same stride 64
        ((1280, 720), 16, (640, 256)),  # video_long stride 128
        ((480, 480), 4, (448, 448)),  # area exactly at the cap: s = 1, floor to 64
    ],
)
def test_video_frame_sizes(wh: tuple[int, int], ratio: int, expected: tuple[int, int]) -> None:
    assert video_frame_size(*wh, VideoResize(), ratio) == expected


@pytest.mark.parametrize(
    ("wh", "low", "high"),
    [
        ((1024, 768), (416, 320), (1024, 768)),  # reference §5 example
        ((2048, 2048), (384, 384), (1536, 1536)),
        ((3000, 2000), (448, 288), (1856, 1248)),  # capped at area 1536^2, floored to 32
        ((20, 50), (224, 576), (64, 160)),  # tiny: one short side -> 64; low view larger than high
        ((10, 20), (256, 512), (64, 128)),  # both short: scale 64/min
    ],
)
def test_image_view_sizes(wh: tuple[int, int], low: tuple[int, int], high: tuple[int, int]) -> None:
    assert image_view_sizes(*wh, ImageResize()) == (low, high)


def test_resize_rule_floors_toward_zero_and_clamps() -> None:
    assert resize_rule(100, 100, 32, 0, 1536, 0) == (96, 96)  # native, floored
    assert resize_rule(63, 200, 32, 0, 1536, 0) == (32, 192)
    assert resize_rule(1000, 1000, 64, 0, 480, 288) == (448, 448)  # area capped to 480^2
    assert resize_rule(100, 100, 64, 0, 480, 288) == (256, 256)  # raised to 288^2
    with pytest.raises(ValueError, match="positive"):
        resize_rule(0, 10, 32, 0, 1536, 0)


def test_image_knobs_change_sizes() -> None:
    spec = ImageResize(highres_max=512, lowres_base=224)
    low, high = image_view_sizes(1024, 768, spec)
    assert high[0] * high[1] <= 512 * 512 and high == (576, 416)
    assert low == (256, 160)  # 576x416 -> s = 0.4576 -> 263.6 x 190.4 -> floor to 32


def test_degenerate_inputs_raise() -> None:
    with pytest.raises(ValueError, match="aspect ratio"):
        image_view_sizes(10000, 40)
    with pytest.raises(ValueError, match="aspect ratio"):
        video_frame_size(4000, 60)
    with pytest.raises(ValueError, match="empty image"):
        preprocess_image(Image.new("RGB", (0, 0)))
    with pytest.raises(ValueError, match="compression"):
        video_frame_size(640, 480, VideoResize(), 8)


def test_video_stride_override_must_suit_the_ratio() -> None:
    assert video_frame_size(1280, 720, VideoResize(stride=32), 4) == (640, 352)
    with pytest.raises(ValueError, match="multiple of patch"):
        video_frame_size(1280, 720, VideoResize(stride=32), 16)
    with pytest.raises(ValueError, match="no stride for compression 16"):
        VideoResize(stride_by_ratio=((4, 64),)).stride_for(16)
    assert hash(VideoResize()) == hash(VideoResize())  # frozen and hashable


@pytest.mark.parametrize("wh", [(1024, 768), (20, 50), (3000, 2000), (333, 517)])
def test_image_pixels_equal_independent_pil_chain(make_image, wh: tuple[int, int]) -> None:  # noqa: ANN001
    img = make_image(*wh, seed=3)
    out = preprocess_image(img)
    low_wh, high_wh = image_view_sizes(*wh)
    w, h = wh
    up = img
    if min(w, h) < 32:  # tiny upscale (these cases have one short side)
        up = img.resize((64, int(h * 64 / w)) if w < h else (int(w * 64 / h), 64), Image.BICUBIC)
    high = up.resize(high_wh, Image.BICUBIC) if up.size != high_wh else up
    low = high.resize(low_wh, Image.BICUBIC)
    assert out.high.dtype == torch.float32 and out.high.shape == (3, high_wh[1], high_wh[0])
    torch.testing.assert_close(out.high, _norm(high), rtol=0, atol=1e-6)
    torch.testing.assert_close(out.low, _norm(low), rtol=0, atol=1e-6)
    assert out.low.min() >= -1 and out.low.max() <= 1


def test_low_view_is_resized_from_the_high_view(make_image) -> None:  # noqa: ANN001
    img = make_image(3000, 2000, seed=5)
    out = preprocess_image(img)
    direct = _norm(img.resize((448, 288), Image.BICUBIC))  # what resizing from the original would give
    assert out.low.shape == direct.shape
    assert (out.low - direct).abs().max() > 1e-3  # differs: two successive resizes, as the reference


def test_image_mode_conversion() -> None:
    gray = Image.fromarray(np.full((40, 64), 200, dtype=np.uint8), mode="L")
    out = preprocess_image(gray)
    assert out.high.shape == (3, 32, 64)
    torch.testing.assert_close(out.high[0], out.high[2])
    rgba = Image.new("RGBA", (64, 64), (255, 0, 0, 10))
    assert torch.allclose(preprocess_image(rgba).high[0], torch.ones(64, 64))


def test_video_array_and_pil_list_agree_with_pil(make_frames) -> None:  # noqa: ANN001
    frames = make_frames(3, 240, 320, seed=1)
    out = preprocess_video(frames, VideoResize(), 4)
    assert out.shape == (3, 3, 192, 320) and out.dtype == torch.float32
    ref = torch.stack([_norm(Image.fromarray(f).resize((320, 192), Image.BICUBIC)) for f in frames])
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-6)
    as_list = preprocess_video([Image.fromarray(f) for f in frames], VideoResize(), 4)
    torch.testing.assert_close(as_list, out, rtol=0, atol=0)
    assert preprocess_video(frames, VideoResize(), 16).shape == (3, 3, 128, 256)


def test_video_bad_inputs(make_frames) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="uint8"):
        preprocess_video(np.zeros((2, 32, 32, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(T, H, W, 3\)"):
        preprocess_video(np.zeros((32, 32, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="no frames"):
        preprocess_video([])
    with pytest.raises(ValueError, match="differ in size"):
        preprocess_video([Image.new("RGB", (64, 64)), Image.new("RGB", (64, 32))])


def test_normalisation_is_bit_exact_with_the_clip_processor_path() -> None:
    # the reference's CLIPImageProcessor: uint8 * (1/255) in float64, cast to float32, then (x - 0.5) / 0.5
    # in float32; checked for every byte value on the image and the video path (32 x 32: no resize)
    u = np.tile(np.arange(256, dtype=np.uint8).reshape(16, 16), (2, 2))
    rgb = np.stack([u, u[::-1], u.T], axis=-1)  # (32, 32, 3)
    x = (rgb.astype(np.float64) * (1 / 255)).astype(np.float32)
    ref = torch.from_numpy(((x - np.float32(0.5)) / np.float32(0.5)).transpose(2, 0, 1).copy())
    spec = VideoResize(min_side=0, max_side=4096, stride=32)
    torch.testing.assert_close(preprocess_video(rgb[None], spec, 4)[0], ref, rtol=0, atol=0)
    torch.testing.assert_close(preprocess_image(Image.fromarray(rgb)).high, ref, rtol=0, atol=0)
