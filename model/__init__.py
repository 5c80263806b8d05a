"""Pure-PyTorch Oryx (arXiv 2409.12961): model, preprocessing, token counting, loading, tiny checkpoints."""

from model.errors import InputError, PromptError, SequenceTooLongError
from model.generation import CheckpointGenerationConfig, GenerationConfig
from model.oryx import OryxModel
from model.preprocess import ImageResize, VideoResize
from model.records import ImageMedia, OryxOutput, StageTimings, TokenCounts, VideoMedia
from model.tiny import tiny_checkpoint, write_tiny_checkpoint
from model.tokens import count_visual_tokens
from model.weights import CheckpointError, load_oryx

__all__ = [
    "CheckpointError",
    "CheckpointGenerationConfig",
    "GenerationConfig",
    "ImageMedia",
    "ImageResize",
    "InputError",
    "OryxModel",
    "OryxOutput",
    "PromptError",
    "SequenceTooLongError",
    "StageTimings",
    "TokenCounts",
    "VideoMedia",
    "VideoResize",
    "count_visual_tokens",
    "load_oryx",
    "tiny_checkpoint",
    "write_tiny_checkpoint",
]
