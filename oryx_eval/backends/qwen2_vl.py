"""Qwen2-VL / Qwen2.5-VL backend (`qwen2-vl`): native resolution within min/max pixels, 2x2 token merge.

Images go through transformers' `Qwen2VLImageProcessorPil` (no torchvision). transformers' video processor
(`Qwen2VLVideoProcessor`) imports torchvision, so videos are prepared here by the same documented rules:
every frame is resized with `smart_resize(h, w, factor=patch*merge, video_min_pixels, video_max_pixels)`,
rescaled, normalised and patchified (temporal patch 1) by the PIL image processor, then consecutive
frame pairs are stacked along the temporal patch axis (the last frame repeated when the count is odd),
giving `pixel_values_videos`
`(t*h*w, C*2*14*14)` and `video_grid_thw [t, h, w]` with `t = ceil(T/2)`. The only difference from the
torchvision path is the resize kernel (PIL bicubic instead of torchvision's tensor bicubic).
Qwen2.5-VL also takes `second_per_grid_ts = temporal_patch_size / video_fps` for its time-aligned RoPE.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from oryx_eval.backends.hf_base import HFBackend
from oryx_eval.backends.hf_common import MediaInputs, pick_largest_fit, register_hf_backend
from oryx_eval.errors import BackendError
from oryx_eval.records import LoadedMedia

MAX_BUDGET_TILES = 16384  # budget search: max_pixels = k * (patch*merge)^2 for k in 1..16384


def smart_resize(h: int, w: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """transformers' Qwen2-VL `smart_resize` (the rule the processors apply), imported lazily."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize as sr

    return sr(h, w, factor=factor, min_pixels=min_pixels, max_pixels=max_pixels)


def grid_thw(
    kind: str,
    size_wh: tuple[int, int],
    frames: int,
    min_pixels: int,
    max_pixels: int,
    patch: int = 14,
    merge: int = 2,
    temporal: int = 2,
) -> tuple[int, int, int]:
    """Patch grid ``(t, h, w)`` of an image or a ``frames``-frame video."""
    w, h = size_wh
    rh, rw = smart_resize(h, w, patch * merge, min_pixels, max_pixels)
    t = 1 if kind == "image" else math.ceil(frames / temporal)
    return t, rh // patch, rw // patch


def visual_tokens(
    kind: str,
    size_wh: tuple[int, int],
    frames: int,
    min_pixels: int,
    max_pixels: int,
    patch: int = 14,
    merge: int = 2,
    temporal: int = 2,
) -> int:
    """Pure predictor: `<|image_pad|>`/`<|video_pad|>` tokens in the sequence (t*h*w / merge^2)."""
    t, gh, gw = grid_thw(kind, size_wh, frames, min_pixels, max_pixels, patch, merge, temporal)
    return t * gh * gw // merge**2


def video_patches(
    frame_patches: np.ndarray, frames: int, grid_hw: tuple[int, int], temporal: int
) -> np.ndarray:
    """Per-frame image patches -> video patches.

    Args:
        frame_patches: the image processor's output for ``frames`` frames run with
            ``temporal_patch_size=1``, ``(frames*h*w, C*p*p)``.
        frames: number of frames; grid_hw: per-frame patch grid; temporal: the model's temporal patch size.

    Returns:
        ``(ceil(frames/temporal)*h*w, C*temporal*p*p)``: patch n of temporal group g holds frames
        ``g*temporal .. g*temporal+temporal-1`` (last frame repeated), the layout of
        `Qwen2VLVideoProcessor.patchify`.
    """
    n = grid_hw[0] * grid_hw[1]
    per = frame_patches.reshape(frames, n, 3, -1)  # (T, n, C, p*p)
    if pad := -frames % temporal:
        per = np.concatenate([per, np.repeat(per[-1:], pad, axis=0)], axis=0)
    g = per.shape[0] // temporal
    per = per.reshape(g, temporal, n, 3, -1).transpose(0, 2, 3, 1, 4)  # (g, n, C, temporal, p*p)
    d = 3 * temporal * per.shape[-1]
    return np.ascontiguousarray(per.reshape(g * n, d))


class Qwen2VLBackend(HFBackend):
    """Qwen2-VL or Qwen2.5-VL (chosen by config.json ``model_type``) from a local checkpoint dir."""

    name = "qwen2-vl"
    family = "Qwen2-VL"
    model_types = ("qwen2_vl", "qwen2_5_vl")

    def __init__(
        self,
        model_path: str,
        dtype: str | None = None,
        device: str | None = None,
        attn_backend: str = "sdpa",
        min_pixels: int = 56 * 56,
        max_pixels: int = 28 * 28 * 1280,
        video_min_pixels: int = 128 * 28 * 28,
        video_max_pixels: int = 768 * 28 * 28,
        video_fps: float = 2.0,
        token_budget: int | None = None,
    ) -> None:
        if min(min_pixels, max_pixels, video_min_pixels, video_max_pixels) < 1 or video_fps <= 0:
            raise BackendError("qwen2-vl: min/max pixels and video_fps must be positive")
        self.px = {"image": (min_pixels, max_pixels), "video": (video_min_pixels, video_max_pixels)}
        self.video_fps = video_fps
        args = {
            "min_pixels": min_pixels,
            "max_pixels": max_pixels,
            "video_min_pixels": video_min_pixels,
            "video_max_pixels": video_max_pixels,
            "video_fps": video_fps,
        }
        super().__init__(model_path, dtype, device, attn_backend, token_budget, args)
        vc = self.model.config.vision_config
        self.patch, self.merge, self.temporal = vc.patch_size, vc.spatial_merge_size, vc.temporal_patch_size
        self.is_25 = self.config_dict["model_type"] == "qwen2_5_vl"
        self.ids = {"image": self.model.config.image_token_id, "video": self.model.config.video_token_id}

    def _model_class(self) -> Any:
        import transformers

        if self.config_dict["model_type"] == "qwen2_5_vl":
            return transformers.Qwen2_5_VLForConditionalGeneration
        return transformers.Qwen2VLForConditionalGeneration

    def _load_processors(self, path: Path) -> None:
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

        self.image_processor = Qwen2VLImageProcessorPil.from_pretrained(path)

    def visual_token_ids(self) -> set[int]:
        return set(self.ids.values())

    def predict(self, kind: str, size_wh: tuple[int, int], frames: int, max_pixels: int | None = None) -> int:
        """Visual tokens for this checkpoint's patch/merge sizes (``max_pixels`` overrides the arg)."""
        lo, hi = self.px[kind]
        return visual_tokens(
            kind, size_wh, frames, lo, max_pixels or hi, self.patch, self.merge, self.temporal
        )

    def choose_max_pixels(self, kind: str, size_wh: tuple[int, int], frames: int) -> tuple[int, bool]:
        """The smallest max_pixels giving the most visual tokens <= token_budget (or the arg)."""
        lo, hi = self.px[kind]
        if self.token_budget is None:
            return hi, True
        f2 = (self.patch * self.merge) ** 2
        ks = list(range(max(1, math.ceil(lo / f2)), MAX_BUDGET_TILES + 1))
        k, fits = pick_largest_fit(
            ks, lambda k: self.predict(kind, size_wh, frames, k * f2), self.token_budget
        )
        best = self.predict(kind, size_wh, frames, k * f2)
        a, b = 0, k - ks[0]  # tokens are non-decreasing in k: bisect for the first k reaching `best`
        while a < b:
            mid = (a + b) // 2
            a, b = (a, mid) if self.predict(kind, size_wh, frames, ks[mid] * f2) >= best else (mid + 1, b)
        return ks[a] * f2, fits

    def prepare_media(self, media: LoadedMedia | None) -> MediaInputs:
        import torch

        if media is None:
            return MediaInputs(None, {}, "", "", 0, 0, {})
        kind = media.kind
        frames = 1 if kind == "image" else len(media.frames)
        max_px, _ = self.choose_max_pixels(kind, media.size_wh, frames)
        lo = self.px[kind][0]
        size = {"shortest_edge": lo, "longest_edge": max_px}
        imgs = [media.image.convert("RGB")] if kind == "image" else list(media.frames)
        tp = {} if kind == "image" else {"temporal_patch_size": 1}  # frames: no temporal copy, paired below
        bf = self.image_processor(images=imgs, size=size, return_tensors="np", **tp)
        _, gh, gw = (int(x) for x in bf["image_grid_thw"][0])
        if kind == "image":
            tensors = {
                "pixel_values": torch.from_numpy(bf["pixel_values"]),
                "image_grid_thw": torch.from_numpy(bf["image_grid_thw"]),
            }
            t = 1
        else:
            pv = video_patches(bf["pixel_values"], frames, (gh, gw), self.temporal)
            t = math.ceil(frames / self.temporal)
            tensors = {
                "pixel_values_videos": torch.from_numpy(pv),
                "video_grid_thw": torch.tensor([[t, gh, gw]]),
            }
            if self.is_25:
                tensors["second_per_grid_ts"] = torch.tensor([self.temporal / self.video_fps])
        n = t * gh * gw // self.merge**2
        pred = self.predict(kind, media.size_wh, frames, max_px)
        tok = "<|image_pad|>" if kind == "image" else "<|video_pad|>"
        setting = {("max_pixels" if kind == "image" else "video_max_pixels"): max_px}
        return MediaInputs(kind, tensors, tok, tok * n, pred, t * gh * gw, setting)

    def extra_inputs(self, input_ids: Any, mi: MediaInputs) -> dict[str, Any]:
        """``mm_token_type_ids`` (0 text, 1 image, 2 video) for M-RoPE, as the processor returns it."""
        tt = (input_ids == self.ids["image"]).long() + 2 * (input_ids == self.ids["video"]).long()
        return {"mm_token_type_ids": tt.to(self.model.device)}


register_hf_backend(
    "qwen2-vl",
    Qwen2VLBackend,
    "Qwen2-VL / Qwen2.5-VL from a local transformers checkpoint\n(Qwen/Qwen2-VL-7B-Instruct, ...).",
)
