"""Video and image input: keyframe-aware PyAV sampling, decoded-frame cache, media loading and preflight.

See ``docs/design.md`` (``media/``) and environment.md §4 for the decoder measurements behind the defaults.
"""

from oryx_eval.media.cache import CacheKey, CacheStats, FrameCache
from oryx_eval.media.encode import encode_video
from oryx_eval.media.image import load_image
from oryx_eval.media.loader import (
    VIDEO_EXTS,
    PreflightReport,
    load_media,
    load_video,
    preflight,
    resolve_video_path,
)
from oryx_eval.media.readers import get_reader
from oryx_eval.media.video import DecodedVideo, VideoReader, uniform_indices

__all__ = [
    "VIDEO_EXTS",
    "CacheKey",
    "CacheStats",
    "DecodedVideo",
    "FrameCache",
    "PreflightReport",
    "VideoReader",
    "encode_video",
    "get_reader",
    "load_image",
    "load_media",
    "load_video",
    "preflight",
    "resolve_video_path",
    "uniform_indices",
]
