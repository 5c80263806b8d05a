"""The video inputs prepared without torchvision, pinned by shape and value against the image processors
and the layout rules of transformers' torchvision video processors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from oryx_eval.backends import internvl, llava_onevision, qwen2_vl
from oryx_eval.records import LoadedMedia
from oryx_eval.runner import build_backend
from tests.oryx_eval.backends.conftest import small_args


def _frames(n: int, h: int = 64, w: int = 96, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (n, h, w, 3), dtype=np.uint8)


def _make(dirs, family: str):
    return build_backend(family, {"model_path": str(dirs[family]), **small_args(family)}, Path("/x"))


def _torchvision_layout(frames_chw: torch.Tensor, patch: int, merge: int, temporal: int) -> torch.Tensor:
    """`Qwen2VLVideoProcessor.patchify` (transformers 5.24) on normalised frames (T, C, H, W), batch 1."""
    t, c, h, w = frames_chw.shape
    if pad := -t % temporal:
        frames_chw = torch.cat([frames_chw, frames_chw[-1:].expand(pad, -1, -1, -1)])
    gt, gh, gw = frames_chw.shape[0] // temporal, h // patch, w // patch
    x = frames_chw[None].view(1, gt, temporal, c, gh // merge, merge, patch, gw // merge, merge, patch)
    x = x.permute(0, 1, 4, 7, 5, 8, 3, 2, 6, 9)
    return x.reshape(gt * gh * gw, c * temporal * patch * patch)


def test_qwen_video_patches_follow_the_video_processor_layout(tiny_dirs) -> None:
    b = _make(tiny_dirs, "qwen2-vl")
    for n in (3, 4):
        fr = _frames(n)
        mi = b.prepare_media(LoadedMedia(kind="video", frames=fr, size_wh=(96, 64)))
        t, gh, gw = (int(x) for x in mi.tensors["video_grid_thw"][0])
        pv = mi.tensors["pixel_values_videos"]
        assert (t, pv.shape) == (2, (t * gh * gw, 3 * 2 * 14 * 14))
        # normalised frames at the resized size, from the PIL image processor run frame by frame
        lo, hi = small_args("qwen2-vl")["video_min_pixels"], small_args("qwen2-vl")["video_max_pixels"]
        rh, rw = qwen2_vl.smart_resize(64, 96, 28, lo, hi)
        assert (gh, gw) == (rh // 14, rw // 14)
        ip = b.image_processor
        size = {"shortest_edge": lo, "longest_edge": hi}
        per = [ip(images=[f], size=size, return_tensors="np")["pixel_values"] for f in fr]
        # one frame's patches (n, C*2*p*p), temporal copies identical -> back to (C, H, W)
        chw = []
        for p in per:
            x = p.reshape(gh // 2, gw // 2, 2, 2, 3, 2, 14, 14)[..., 0, :, :]  # (bh, bw, mh, mw, C, p, p)
            chw.append(x.transpose(4, 0, 2, 5, 1, 3, 6).reshape(3, gh * 14, gw * 14))
        ref = _torchvision_layout(torch.from_numpy(np.stack(chw)), 14, 2, 2)
        assert torch.equal(pv, ref)


def test_qwen_two_identical_frames_equal_the_image_patches(tiny_dirs) -> None:
    """An image is a one-frame video broadcast over the temporal patch: both paths must agree exactly."""
    b = _make(tiny_dirs, "qwen2-vl")
    f = _frames(1)[0]
    a = small_args("qwen2-vl")
    size = {"shortest_edge": a["video_min_pixels"], "longest_edge": a["video_max_pixels"]}
    img = b.image_processor(images=[f], size=size, return_tensors="np")  # temporal_patch_size 2
    one = b.image_processor(images=[f, f], size=size, return_tensors="np", temporal_patch_size=1)
    vid = qwen2_vl.video_patches(one["pixel_values"], 2, tuple(img["image_grid_thw"][0][1:]), 2)
    assert vid.shape == img["pixel_values"].shape
    assert np.array_equal(vid, img["pixel_values"])


def test_llava_video_frames_equal_the_base_tile_of_the_image_processor(tiny_dirs) -> None:
    b = _make(tiny_dirs, "llava-onevision")
    fr = _frames(2, 70, 70)
    mi = b.prepare_media(LoadedMedia(kind="video", frames=fr, size_wh=(70, 70)))
    pv = mi.tensors["pixel_values_videos"]
    assert pv.shape == (1, 2, 3, 56, 56) and pv.dtype == torch.float32
    for i, f in enumerate(fr):  # the anyres base tile is the whole image resized to the tile size
        base = b.image_processor(images=[f], return_tensors="pt")["pixel_values"][0, 0]
        assert torch.allclose(pv[0, i], base, atol=1e-6)
    assert abs(float(pv.mean())) < 2 and float(pv.min()) >= -1.8 and float(pv.max()) <= 2.2  # CLIP-normalised


def test_llava_pool_stride_changes_the_real_feature_count(tiny_dirs) -> None:
    for stride, per_frame in ((1, 16), (2, 4), (3, 4), (4, 1)):
        b = build_backend(
            "llava-onevision",
            {"model_path": str(tiny_dirs["llava-onevision"]), "video_pool_stride": stride},
            Path("/x"),
        )
        mi = b.prepare_media(LoadedMedia(kind="video", frames=_frames(3), size_wh=(96, 64)))
        assert mi.predicted_visual == llava_onevision.video_tokens(3, 4, stride) == 3 * per_frame + 1
        b.before_generate(mi)
        with torch.no_grad():
            feats = b.model.model.get_video_features(mi.tensors["pixel_values_videos"]).pooler_output
        assert feats.shape[1] == mi.predicted_visual


def test_internvl_video_is_one_block_per_frame(tiny_dirs) -> None:
    b = _make(tiny_dirs, "internvl")
    fr = _frames(3)
    mi = b.prepare_media(LoadedMedia(kind="video", frames=fr, size_wh=(96, 64)))
    assert mi.tensors["pixel_values"].shape == (3, 3, 56, 56)
    lines = mi.expansion.split("\n")
    assert [ln.split(":")[0] for ln in lines] == ["Frame1", "Frame2", "Frame3"]
    assert all(ln.count("<IMG_CONTEXT>") == 4 and ln.count("<img>") == 1 for ln in lines)
    one = b.image_processor(images=[fr[1]], crop_to_patches=False, return_tensors="pt")["pixel_values"]
    assert torch.equal(mi.tensors["pixel_values"][1], one[0])
    assert mi.predicted_visual == internvl.visual_tokens("video", (96, 64), 3, 56, 4, 1) == 12
