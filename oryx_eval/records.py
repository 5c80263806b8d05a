"""Typed records at the harness boundaries (samples, requests, generations, scores, run logs)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 2

ErrorKind = Literal["media", "overflow", "sample"]
"""Why one sample could not run: its media could not be read (``media``), its prompt does not fit the
model's context (``overflow``: reported as "does not fit", never scored), or another failure tied to this
sample's input (``sample``). Failures not tied to one sample are systemic: the backend raises and the
run stops."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MediaRef(_Frozen):
    """Where a sample's video, image or synthetic frames come from."""

    kind: Literal["video", "image", "synthetic"]
    path: str | None = None
    """Local file for ``video``/``image``."""
    generator: str | None = None
    """Registered synthetic-media generator name (``synthetic``)."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Generator arguments (seeded, JSON-serialisable)."""
    num_frames: int | None = None
    """Per-sample override of the task's frame count (recorded)."""

    @property
    def key(self) -> str:
        """Identity used to group samples sharing media and to key caches."""
        blob = json.dumps(self.model_dump(), sort_keys=True, default=str)
        return hashlib.sha1(blob.encode()).hexdigest()[:16]


class Sample(_Frozen):
    """One benchmark item, independent of any model."""

    id: str
    task: str
    media: list[MediaRef] = Field(default_factory=list)
    question: str
    choices: list[str] | None = None
    target: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Breakdown fields (duration, category, depth, ...)."""


class FrameSampling(_Frozen):
    """How frames are taken from a video (recorded with every result)."""

    num_frames: int = 64
    mode: Literal["exact", "keyframe_snap"] = "exact"
    """``exact``: the frames at ``linspace(0, n-1, N)``; ``keyframe_snap``: nearest keyframes (faster)."""
    backend: Literal["pyav", "torchcodec", "decord"] = "pyav"


class GenerationSettings(_Frozen):
    """Decoding knobs (recorded).

    A backend that ships decoding defaults (the Oryx checkpoint's ``generation_config.json``) applies them
    to every field not set explicitly in the task YAML / CLI (pydantic's ``model_fields_set``); the values
    below are used when neither sets a field. The resolved values and their source are recorded.
    """

    max_new_tokens: int = 16
    temperature: float = 0.0
    """0 means greedy."""
    top_k: int | None = 50
    """Sampling only: keep the k most likely tokens (50 = the transformers default)."""
    top_p: float | None = None
    repetition_penalty: float | None = Field(default=None, gt=0)
    """transformers' repetition penalty over the generated tokens (greedy and sampling); ``None`` = the
    checkpoint's generation_config value, else 1.0 (off)."""
    seed: int = 0


@dataclass
class LoadedMedia:
    """Decoded media handed to a backend."""

    kind: Literal["video", "image"]
    frames: np.ndarray | None = None
    """Video frames, uint8 (T, H, W, 3)."""
    image: Any = None
    """A PIL image for ``image``."""
    indices: list[int] = field(default_factory=list)
    """Source frame indices actually returned (video)."""
    source_frames: int | None = None
    """Frame count of the source video."""
    size_wh: tuple[int, int] = (0, 0)
    decode_s: float = 0.0
    key: str = ""
    """``MediaRef.key`` of the source."""
    source: str = "decoded"
    """Where the frames came from: ``decoded`` (now), ``memory``/``disk`` (frame cache), ``generated``."""
    timestamps_s: list[float] | None = None
    """Time of each returned frame in seconds (``index / fps`` of the source stream; video only)."""


@dataclass
class Request:
    """One generation request: a rendered prompt plus its decoded media."""

    sample_id: str
    prompt: str
    """User text; the backend places the visual placeholder itself."""
    media: list[LoadedMedia]
    generation: GenerationSettings
    compression: str = "4"
    """``1``, ``4``, ``16`` or ``auto`` (backend policy; the resolved ratio is returned)."""
    media_key: str | None = None


class TokenCounts(BaseModel):
    """Tokens of one generation."""

    visual_raw: int = 0
    """Visual tokens before compression (ViT patches)."""
    visual: int = 0
    """Visual embeddings spliced into the LLM sequence."""
    text: int = 0
    output: int = 0


class Latency(BaseModel):
    """Seconds per stage of one sample."""

    decode: float = 0.0
    preprocess: float = 0.0
    vision: float = 0.0
    compress: float = 0.0
    prefill: float = 0.0
    generate: float = 0.0
    total: float = 0.0


class Generation(BaseModel):
    """What a backend returns for one request."""

    text: str = ""
    tokens: TokenCounts = Field(default_factory=TokenCounts)
    latency_s: Latency = Field(default_factory=Latency)
    compression: str | None = None
    """The ratio actually used (``auto`` resolved)."""
    error: str | None = None
    """Set when this request could not run because of its own input (see ``ErrorKind``)."""
    error_kind: ErrorKind | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class Score(BaseModel):
    """A scorer's verdict on one generation."""

    value: float
    extracted: str | None = None
    explanation: str | None = None


class FramesInfo(BaseModel):
    """Which frames the model saw."""

    count: int = 0
    indices: list[int] = Field(default_factory=list)
    size: tuple[int, int] | None = None
    source_frames: int | None = None
    source: str | None = None
    """Where the decoded frames came from (``decoded``, ``memory``/``disk`` cache, ``generated``)."""


class SampleRecord(BaseModel):
    """One line of ``samples.jsonl``."""

    sample_id: str
    task: str
    compression: str
    """The requested setting (1, 4, 16 or auto): the key results are grouped by."""
    compression_used: str | None = None
    """The ratio the backend actually applied (``auto`` resolved)."""
    prompt: str = ""
    output: str = ""
    extracted: str | None = None
    target: str = ""
    score: float | None = None
    tokens: TokenCounts = Field(default_factory=TokenCounts)
    latency_s: Latency = Field(default_factory=Latency)
    frames: FramesInfo = Field(default_factory=FramesInfo)
    metadata: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None
    error_kind: ErrorKind | None = None
    rank: int = 0
    extra: dict[str, Any] = Field(default_factory=dict)
    """What the backend reported beyond text and counts (resolved decoding settings, warnings, ...)."""


class MetricValue(BaseModel):
    """One aggregate number; ``group`` names a breakdown cell (``None`` = overall)."""

    task: str
    name: str
    value: float
    compression: str
    group: dict[str, Any] | None = None
    n: int
    """Records in the cell, failed ones included."""
    failed: int = 0
    """Of ``n``, records that could not run (never scored; see the metric's rule for how they count)."""
    does_not_fit: int = 0
    """Of ``failed``, records whose prompt is longer than the model's context (left out of accuracy)."""


@dataclass(frozen=True)
class ReaderContext:
    """What a dataset reader gets besides its YAML ``args``."""

    task: str
    """Task name (goes into ``Sample.task``)."""
    source: Any = None
    """The task's ``dataset.source`` block (``schema.SourceSpec``) or ``None``."""
    cache_dir: Any = None
    """A writable directory (``pathlib.Path``) for materialised inputs (e.g. generated MP4s)."""
    data_dir: Any = None
    """The benchmark's local data folder (``pathlib.Path``) resolved from ``--data-root``/``--data`` for
    the task's ``dataset.data`` name, or ``None`` when the task names none."""
