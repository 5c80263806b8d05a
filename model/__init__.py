"""Pure-PyTorch Oryx (arXiv 2409.12961): model, preprocessing, token counting, loading, tiny checkpoints."""

from model.oryx import (
    GenerationConfig,
    ImageMedia,
    OryxModel,
    OryxOutput,
    StageTimings,
    TokenCounts,
    VideoMedia,
)
from model.preprocess import ImageResize, VideoResize
from model.tiny import tiny_checkpoint, write_tiny_checkpoint
from model.tokens import count_visual_tokens
from model.weights import CheckpointError, load_oryx

__all__ = [
    "CheckpointError",
    "GenerationConfig",
    "ImageMedia",
    "ImageResize",
    "OryxModel",
    "OryxOutput",
    "StageTimings",
    "TokenCounts",
    "VideoMedia",
    "VideoResize",
    "count_visual_tokens",
    "load_oryx",
    "tiny_checkpoint",
    "write_tiny_checkpoint",
]
