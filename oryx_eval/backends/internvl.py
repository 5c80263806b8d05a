"""InternVL backend (`internvl`, InternVL 2.5/3 in transformers' `-hf` layout): dynamic tiles + pixel shuffle.

Images and video frames both go through transformers' `GotOcr2ImageProcessorPil` (no torchvision): the
image is cut into the tile grid closest to its aspect ratio with at most ``max_tiles`` tiles (plus a
thumbnail when more than one tile), each tile ``S x S``; every tile gives ``(S/patch)^2 * r^2`` tokens
(``r`` = downsample ratio 0.5: 256 for 448 px). transformers' `InternVLVideoProcessor` imports
torchvision; its rule (each frame resized to one tile, no crop) is what ``video_max_tiles=1`` does here
through the same image processor, and ``video_max_tiles > 1`` tiles frames as the reference
`load_video(..., max_num=N)` does. A video becomes ``Frame{i}: <img>...</img>`` lines, as in the processor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oryx_eval.backends.hf_base import HFBackend
from oryx_eval.backends.hf_common import MediaInputs, pick_largest_fit, register_hf_backend
from oryx_eval.errors import BackendError
from oryx_eval.records import LoadedMedia

TILES_LADDER = tuple(range(1, 41))  # budget search over max tiles


def tiles(size_wh: tuple[int, int], tile: int, max_tiles: int) -> int:
    """Tiles of one image or frame (thumbnail included), the rule of `GotOcr2ImageProcessorPil`."""
    from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import get_optimal_tiled_canvas

    if max_tiles <= 1:
        return 1
    w, h = size_wh
    cols, rows = get_optimal_tiled_canvas((h, w), (tile, tile), 1, max_tiles)
    return cols * rows + (1 if cols * rows > 1 else 0)


def visual_tokens(
    kind: str, size_wh: tuple[int, int], frames: int, tile: int, seq: int, max_tiles: int
) -> int:
    """Pure predictor: `<IMG_CONTEXT>` tokens = frames * tiles * seq (one frame for an image)."""
    return (1 if kind == "image" else frames) * tiles(size_wh, tile, max_tiles) * seq


class InternVLBackend(HFBackend):
    """InternVL (``model_type: internvl``) from a local checkpoint dir."""

    name = "internvl"
    family = "InternVL"
    model_types = ("internvl",)
    vision_methods = ("get_image_features",)

    def __init__(
        self,
        model_path: str,
        dtype: str | None = None,
        device: str | None = None,
        attn_backend: str = "sdpa",
        max_tiles: int = 12,
        video_max_tiles: int = 1,
        token_budget: int | None = None,
    ) -> None:
        if max_tiles < 1 or video_max_tiles < 1:
            raise BackendError("internvl: max_tiles and video_max_tiles must be >= 1")
        self.max_tiles = {"image": max_tiles, "video": video_max_tiles}
        super().__init__(
            model_path,
            dtype,
            device,
            attn_backend,
            token_budget,
            {"max_tiles": max_tiles, "video_max_tiles": video_max_tiles},
        )
        cfg = self.model.config
        self.tile = self.image_processor.size["height"]
        patch = cfg.vision_config.patch_size[0]
        self.seq = int((self.tile // patch) ** 2 * cfg.downsample_ratio**2)
        if self.seq != cfg.image_seq_length:
            raise BackendError(
                f"{model_path}: tile {self.tile} gives {self.seq} tokens, config says {cfg.image_seq_length}"
            )
        self.ctx_id = cfg.image_token_id
        if self.tokenizer.convert_tokens_to_ids("<IMG_CONTEXT>") != self.ctx_id:
            raise BackendError(
                f"{model_path}: tokenizer's <IMG_CONTEXT> id differs from config image_token_id"
            )

    def _model_class(self) -> Any:
        import transformers

        return transformers.InternVLForConditionalGeneration

    def _load_processors(self, path: Path) -> None:
        from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import GotOcr2ImageProcessorPil

        self.image_processor = GotOcr2ImageProcessorPil.from_pretrained(path)

    def visual_token_ids(self) -> set[int]:
        return {self.ctx_id}

    def choose(self, kind: str, size_wh: tuple[int, int], frames: int) -> tuple[int, bool]:
        """Max tiles for ``token_budget`` (the arg without one)."""
        if self.token_budget is None:
            return self.max_tiles[kind], True
        fn = lambda m: visual_tokens(kind, size_wh, frames, self.tile, self.seq, m)  # noqa: E731
        return pick_largest_fit(list(TILES_LADDER), fn, self.token_budget)

    def prepare_media(self, media: LoadedMedia | None) -> MediaInputs:
        import torch

        if media is None:
            return MediaInputs(None, {}, "", "", 0, 0, {})
        kind = media.kind
        frames = 1 if kind == "image" else len(media.frames)
        mt, _ = self.choose(kind, media.size_wh, frames)
        imgs = [media.image.convert("RGB")] if kind == "image" else list(media.frames)
        bf = self.image_processor(
            images=imgs, crop_to_patches=mt > 1, min_patches=1, max_patches=mt, return_tensors="pt"
        )
        per = [int(n) for n in bf["num_patches"]]
        ctx = "<IMG_CONTEXT>"
        blocks = [f"<img>{ctx * (self.seq * n)}</img>" for n in per]
        if kind == "image":
            placeholder, expansion, key = ctx, blocks[0], "max_tiles"
        else:
            placeholder, key = "<video>", "video_max_tiles"
            expansion = "\n".join(f"Frame{i + 1}: {b}" for i, b in enumerate(blocks))
        n = visual_tokens(kind, media.size_wh, frames, self.tile, self.seq, mt)
        raw = sum(per) * int(self.seq / self.model.config.downsample_ratio**2)
        pv = (
            bf["pixel_values"]
            if isinstance(bf["pixel_values"], torch.Tensor)
            else torch.stack(bf["pixel_values"])
        )
        return MediaInputs(kind, {"pixel_values": pv}, placeholder, expansion, n, raw, {key: mt})


register_hf_backend(
    "internvl",
    InternVLBackend,
    "InternVL from a local transformers checkpoint\n(OpenGVLab/InternVL3-8B-hf, ...).",
)
