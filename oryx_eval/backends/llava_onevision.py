"""LLaVA-OneVision backend (`llava-onevision`): anyres tiling for images, bilinear pooling for video.

Images go through transformers' `LlavaOnevisionImageProcessorPil` (no torchvision) with the checkpoint's
grid pinpoints, optionally limited to ``anyres_max_grid`` tiles per side (set on the processor and the
model config alike), and ``anyres_max_patches`` (the model's ``vision_aspect_ratio = anyres_max_N``).
transformers' `LlavaOnevisionVideoProcessor` imports torchvision, so videos are prepared here by its
documented rule: every frame resized to the processor's square ``size`` (PIL bicubic), rescaled by 1/255
and normalised with the processor's mean/std -> ``pixel_values_videos (1, T, 3, S, S)``. The model pools
each frame's ``h x h`` feature map bilinearly to ``ceil(h / video_pool_stride)`` per side (transformers
hard-codes stride 2, the reference `mm_spatial_pool_stride`; another stride replaces `apply_pooling` with
the same rule) and appends one ``image_newline`` token per video.
"""

from __future__ import annotations

import math
import types
from pathlib import Path
from typing import Any

import numpy as np

from oryx_eval.backends.hf_base import HFBackend
from oryx_eval.backends.hf_common import MediaInputs, pick_largest_fit, register_hf_backend
from oryx_eval.errors import BackendError
from oryx_eval.records import LoadedMedia

MAX_PATCHES_LADDER = tuple(range(1, 37))  # budget search over anyres_max_N
POOL_LADDER = tuple(range(1, 9))  # budget search over the video pool stride


def video_tokens(frames: int, side_patches: int, pool_stride: int = 2) -> int:
    """Pure predictor for a video: ``T * ceil(h/s)^2 + 1`` (pooled frames + one newline)."""
    return frames * math.ceil(side_patches / pool_stride) ** 2 + 1


def unpadded_features(
    h: int, w: int, ph: int, pw: int, sh: int, sw: int, max_patches: int
) -> tuple[int, int]:
    """Features and newlines of the tiles after unpadding and the anyres_max_N downsampling.

    The rule of `LlavaOnevisionProcessor._get_unpadded_features` / `pack_image_features`.
    """
    cur_h, cur_w = ph * sh, pw * sw
    if w / h > cur_w / cur_h:
        new_h = int(round(h * (cur_w / w), 7))
        cur_h -= (cur_h - new_h) // 2 * 2
    else:
        new_w = int(round(w * (cur_h / h), 7))
        cur_w -= (cur_w - new_w) // 2 * 2
    feats, newlines = cur_h * cur_w, cur_h
    ratio = math.sqrt(cur_h * cur_w / (max_patches * ph**2))
    if ratio > 1.1:
        feats, newlines = int(cur_h // ratio) * int(cur_w // ratio), int(cur_h // ratio)
    return feats, newlines


def image_tokens(
    size_wh: tuple[int, int], pinpoints: list[list[int]], tile: int, side_patches: int, max_patches: int = 9
) -> int:
    """Pure predictor for one image: base tile + unpadded anyres tiles + one newline per feature row."""
    from transformers.image_processing_utils import select_best_resolution

    w, h = size_wh
    bh, bw = select_best_resolution([h, w], pinpoints)
    feats, newlines = unpadded_features(h, w, side_patches, side_patches, bh // tile, bw // tile, max_patches)
    return side_patches**2 + feats + newlines


def limit_pinpoints(pinpoints: list[list[int]], tile: int, max_grid: int | None) -> list[list[int]]:
    """Pinpoints with at most ``max_grid`` tiles per side (all of them when ``None``)."""
    if max_grid is None:
        return [list(p) for p in pinpoints]
    kept = [list(p) for p in pinpoints if p[0] // tile <= max_grid and p[1] // tile <= max_grid]
    if not kept:
        raise BackendError(f"llava-onevision: anyres_max_grid={max_grid} leaves no grid pinpoint")
    return kept


def _pool(stride: int) -> Any:
    def apply_pooling(self: Any, image_features: Any) -> Any:  # (T, h*h, D) -> (T, ceil(h/s)^2, D)
        import torch.nn.functional as F

        h = self.config.vision_config.image_size // self.config.vision_config.patch_size
        t, _, d = image_features.shape
        x = image_features.view(t, h, h, d).permute(0, 3, 1, 2)
        x = F.interpolate(x, size=[math.ceil(h / stride)] * 2, mode="bilinear")
        return x.permute(0, 2, 3, 1).reshape(t, -1, d)

    return apply_pooling


class LlavaOnevisionBackend(HFBackend):
    """LLaVA-OneVision (llava-hf layout) from a local checkpoint dir."""

    name = "llava-onevision"
    family = "LLaVA-OneVision"
    model_types = ("llava_onevision",)

    def __init__(
        self,
        model_path: str,
        dtype: str | None = None,
        device: str | None = None,
        attn_backend: str = "sdpa",
        anyres_max_grid: int | None = None,
        anyres_max_patches: int = 9,
        video_pool_stride: int = 2,
        token_budget: int | None = None,
    ) -> None:
        if (
            anyres_max_patches < 1
            or video_pool_stride < 1
            or (anyres_max_grid is not None and anyres_max_grid < 1)
        ):
            raise BackendError(
                "llava-onevision: anyres_max_grid, anyres_max_patches, video_pool_stride must be >= 1"
            )
        self.max_grid, self.max_patches, self.stride = anyres_max_grid, anyres_max_patches, video_pool_stride
        args = {
            "anyres_max_grid": anyres_max_grid,
            "anyres_max_patches": anyres_max_patches,
            "video_pool_stride": video_pool_stride,
        }
        super().__init__(model_path, dtype, device, attn_backend, token_budget, args)
        cfg = self.model.config
        if cfg.vision_feature_select_strategy != "full":
            raise BackendError(
                f"{model_path}: vision_feature_select_strategy 'default' is not supported (SigLIP: full)"
            )
        self.tile = cfg.vision_config.image_size
        self.side = self.tile // cfg.vision_config.patch_size
        self.pins = limit_pinpoints(cfg.image_grid_pinpoints, self.tile, anyres_max_grid)
        cfg.image_grid_pinpoints = self.pins
        self.ids = {"image": cfg.image_token_index, "video": cfg.video_token_index}
        self._args["grid_pinpoints"] = self.pins

    def _model_class(self) -> Any:
        import transformers

        return transformers.LlavaOnevisionForConditionalGeneration

    def _load_processors(self, path: Path) -> None:
        from transformers.models.llava_onevision.image_processing_pil_llava_onevision import (
            LlavaOnevisionImageProcessorPil,
        )

        self.image_processor = LlavaOnevisionImageProcessorPil.from_pretrained(path)

    def visual_token_ids(self) -> set[int]:
        return set(self.ids.values())

    def before_generate(self, mi: MediaInputs) -> None:
        """transformers' own stride-2 pooling, or the same bilinear rule with the chosen stride."""
        inner = self.model.model
        stride = mi.setting.get("video_pool_stride", 2)
        if stride == 2:
            inner.__dict__.pop("apply_pooling", None)
        else:
            inner.apply_pooling = types.MethodType(_pool(stride), inner)

    def choose(self, kind: str, size_wh: tuple[int, int], frames: int) -> tuple[int, bool]:
        """anyres_max_N (image) or pool stride (video) for ``token_budget`` (the args without one)."""
        if kind == "image":
            if self.token_budget is None:
                return self.max_patches, True
            fn = lambda n: image_tokens(size_wh, self.pins, self.tile, self.side, n)  # noqa: E731
            return pick_largest_fit(list(MAX_PATCHES_LADDER), fn, self.token_budget)
        if self.token_budget is None:
            return self.stride, True
        strides = list(POOL_LADDER)[::-1]  # tokens non-decreasing along the list
        return pick_largest_fit(strides, lambda s: video_tokens(frames, self.side, s), self.token_budget)

    def video_pixels(self, frames: np.ndarray) -> np.ndarray:
        """``(T, H, W, 3)`` uint8 -> ``(T, 3, S, S)`` float32: resize, rescale, normalise (processor's)."""
        from transformers.image_utils import SizeDict

        ip = self.image_processor
        size = SizeDict(height=self.tile, width=self.tile)
        out = []
        for f in frames:
            x = ip.resize(np.ascontiguousarray(f.transpose(2, 0, 1)), size=size, resample=ip.resample)
            out.append(ip.normalize(ip.rescale(x, ip.rescale_factor), ip.image_mean, ip.image_std))
        return np.stack(out).astype(np.float32)

    def prepare_media(self, media: LoadedMedia | None) -> MediaInputs:
        import torch

        if media is None:
            return MediaInputs(None, {}, "", "", 0, 0, {})
        frames = 1 if media.kind == "image" else len(media.frames)
        value, _ = self.choose(media.kind, media.size_wh, frames)
        if media.kind == "image":
            bf = self.image_processor(
                images=[media.image.convert("RGB")], image_grid_pinpoints=self.pins, return_tensors="pt"
            )
            n = image_tokens(media.size_wh, self.pins, self.tile, self.side, value)
            tensors = {
                "pixel_values": bf["pixel_values"],
                "image_sizes": bf["image_sizes"],
                "vision_aspect_ratio": f"anyres_max_{value}",
                "batch_num_images": torch.tensor([1]),
            }
            tiles = int(bf["pixel_values"].shape[1])
            raw = tiles * self.side**2
            return MediaInputs(
                "image", tensors, "<image>", "<image>" * n, n, raw, {"anyres_max_patches": value}
            )
        pv = torch.from_numpy(self.video_pixels(media.frames))[None]
        n = video_tokens(frames, self.side, value)
        raw = frames * self.side**2
        return MediaInputs(
            "video",
            {"pixel_values_videos": pv},
            "<video>",
            "<video>" * n,
            n,
            raw,
            {"video_pool_stride": value},
        )


register_hf_backend(
    "llava-onevision",
    LlavaOnevisionBackend,
    "LLaVA-OneVision from a local transformers checkpoint\n(llava-hf/llava-onevision-qwen2-7b-ov-hf, ...).",
)
