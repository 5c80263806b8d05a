"""Tests for model/tokens.py: reference sanity numbers and equality with the real encoded length."""

from __future__ import annotations

import pytest

from model import ImageMedia, OryxModel, VideoMedia, count_visual_tokens
from model.tokens import count_vit_patches


def test_reference_sanity_numbers() -> None:
    per_frame = count_visual_tokens("video", (1280, 720), frames=2) - count_visual_tokens(
        "video", (1280, 720)
    )
    assert per_frame == 211  # 640x320 -> grid 20x40 -> pooled 10x20 -> 10*21 + sep
    assert count_visual_tokens("video", (1280, 720), frames=64, compression=4) == 13_506
    assert count_visual_tokens("image", (1024, 768)) == 3_663
    assert count_visual_tokens("image", (2048, 2048)) == 9_915
    per16 = count_visual_tokens("video", (1280, 720), 2, 16) - count_visual_tokens(
        "video", (1280, 720), 1, 16
    )
    assert per16 == 45  # 640x256 -> grid 16x40 -> pooled 4x10 -> 4*11 + sep
    # 1x: grid 20x40 unpooled -> 20*41 + sep
    assert count_visual_tokens("video", (1280, 720), 1, 1) == 2 + 20 * 41 + 1
    # tiny image: low 224x576 (grid 36x14), high 64x160 (grid 10x4)
    assert count_visual_tokens("image", (20, 50)) == 3 + 36 * 15 + 10 * 5


def test_vit_patch_counts() -> None:
    assert count_vit_patches("image", (1024, 768)) == 20 * 26 + 48 * 64
    assert count_vit_patches("video", (1280, 720), frames=64) == 64 * 20 * 40
    assert count_vit_patches("video", (1280, 720), frames=3, compression=16) == 3 * 16 * 40


def test_images_ignore_the_video_ratio_and_bad_inputs_raise() -> None:
    assert count_visual_tokens("image", (640, 480), compression=16) == count_visual_tokens(
        "image", (640, 480), 1, 1
    )
    with pytest.raises(ValueError, match="kind"):
        count_visual_tokens("audio", (10, 10))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        count_visual_tokens("image", (0, 10))
    with pytest.raises(ValueError, match="at least one frame"):
        count_visual_tokens("video", (640, 480), frames=0)


IMAGE_SIZES = [
    (1, 1),
    (20, 50),
    (31, 31),
    (64, 64),
    (100, 300),
    (333, 517),
    (511, 97),
    (1024, 768),
    (2048, 2048),
]
VIDEO_CASES = [
    ((320, 240), 1),
    ((320, 240), 4),
    ((320, 240), 16),
    ((1280, 720), 4),
    ((1280, 720), 16),
    ((200, 600), 4),
    ((1000, 130), 1),
]


@pytest.mark.parametrize("wh", IMAGE_SIZES)
def test_image_count_equals_encoded_length(tiny_model: OryxModel, make_image, wh: tuple[int, int]) -> None:  # noqa: ANN001
    seq = tiny_model.encode(ImageMedia(make_image(*wh)), compression=4)
    assert seq.embeds.shape == (count_visual_tokens("image", wh), tiny_model.config.projector.out_dim)
    assert seq.visual == seq.embeds.shape[0]
    assert seq.visual_raw == count_vit_patches("image", wh)
    assert seq.compression == 1


@pytest.mark.parametrize(("wh", "ratio"), VIDEO_CASES)
def test_video_count_equals_encoded_length(tiny_model: OryxModel, make_frames, wh, ratio: int) -> None:  # noqa: ANN001
    frames = make_frames(2, wh[1], wh[0])
    seq = tiny_model.encode(VideoMedia(frames), compression=ratio)
    assert seq.embeds.shape[0] == count_visual_tokens("video", wh, frames=2, compression=ratio)
    assert seq.visual_raw == count_vit_patches("video", wh, frames=2, compression=ratio)
    assert seq.compression == ratio
