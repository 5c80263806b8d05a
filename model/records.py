"""Records of Oryx generation (arXiv 2409.12961): media inputs, the encoded visual sequence, outputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image
from torch import Tensor

from model.errors import InputError


@dataclass(frozen=True)
class TokenCounts:
    """Token counts of one generation (visual/text as fed to the LLM, i.e. after any truncation)."""

    visual_raw: int  # ViT patch tokens before compression (both image views / all frames)
    visual: int  # visual embeddings in the LLM sequence (layout markers included)
    text: int  # text tokens in the LLM sequence
    output: int  # generated tokens (the stop token included when emitted)


@dataclass(frozen=True)
class StageTimings:
    """Seconds per stage (device-synchronised).

    `compress` = compressor + projector + layout; `prefill` includes copying a shared KV cache.
    """

    preprocess: float = 0.0
    vision: float = 0.0
    compress: float = 0.0
    prefill: float = 0.0
    decode: float = 0.0


@dataclass(frozen=True)
class OryxOutput:
    """One answer."""

    text: str  # decoded answer, special tokens skipped
    token_ids: list[int]  # generated ids (stop token included when emitted)
    tokens: TokenCounts
    timings: StageTimings
    warnings: list[str] = field(default_factory=list)
    compression: int = 1  # effective ratio: the video's ratio; 1 for images (always 1x) and text-only
    # set when this prompt could not run because of its own input (then text/token_ids are empty and
    # `tokens` holds the counts the prompt would have had); `generate` raises it instead
    error: InputError | None = None


@dataclass(frozen=True)
class ImageMedia:
    """One still image (any PIL mode; converted to RGB)."""

    image: Image.Image


@dataclass(frozen=True)
class VideoMedia:
    """Sampled video frames: uint8 `(T, H, W, 3)` or a list of same-size PIL images."""

    frames: np.ndarray | Sequence[Image.Image]


Media = ImageMedia | VideoMedia


@dataclass(frozen=True)
class VisualSequence:
    """The encoded media: what replaces the `<image>` placeholder."""

    embeds: Tensor  # (L, D) in the LLM dtype
    visual_raw: int  # ViT tokens before compression
    visual: int  # L
    timings: StageTimings  # preprocess / vision / compress filled
    compression: int  # effective ratio
