"""Media loading for the runner: ``MediaRef`` -> ``LoadedMedia``, plus a pre-inference file check.

``load_media`` dispatches on the reference kind (video file via a ``VideoReader`` and the frame cache, image
file, or a registered synthetic generator). ``preflight`` resolves every sample's files before the model is
loaded, the fix for late/silent missing-video failures listed in benchmarks.md §8.1 (lmms-eval PR #249,
#403, #732); ``resolve_video_path`` handles datasets whose files vary in extension (VideoMME
``.MP4``/``.mkv``).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from oryx_eval.errors import MediaError
from oryx_eval.media.cache import FrameCache
from oryx_eval.media.image import load_image
from oryx_eval.media.multi_view import load_views
from oryx_eval.media.readers import get_reader
from oryx_eval.media.video import DecodedVideo, PathLike, VideoReader
from oryx_eval.records import FrameSampling, LoadedMedia, MediaRef, Sample
from oryx_eval.registry import GENERATORS

VIDEO_EXTS = (".mp4", ".MP4", ".mkv", ".webm", ".avi", ".mov")


@functools.cache
def _reader(backend: str, mode: str) -> VideoReader:
    return get_reader(backend, mode)


def load_video(
    path: PathLike,
    sampling: FrameSampling,
    num_frames: int | None = None,
    cache: FrameCache | None = None,
    size_wh: tuple[int, int] | None = None,
) -> DecodedVideo:
    """Decode (or fetch from ``cache``) the sampled frames of one video file.

    Args:
        path: Video file.
        sampling: Mode and backend; ``sampling.num_frames`` unless ``num_frames`` is given.
        num_frames: Override of the frame count.
        cache: Optional decoded-frame cache (returned frames are then read-only).
        size_wh: Decode-time output size ``(width, height)``; ``None`` keeps the source size.

    Raises:
        MediaError: missing/corrupt file. TaskConfigError / PrerequisiteError: bad or missing backend.
    """
    n = int(num_frames if num_frames is not None else sampling.num_frames)
    if n < 1:
        raise MediaError(f"{path}: num_frames must be >= 1, got {n}")
    return _load_video_source(path, sampling, n, cache, size_wh)[0]


def _load_video_source(
    path: PathLike, sampling: FrameSampling, n: int, cache: FrameCache | None, size_wh: tuple[int, int] | None
) -> tuple[DecodedVideo, str]:
    """``load_video`` plus where the frames came from (``decoded``, ``memory`` or ``disk``)."""
    if n < 1:
        raise MediaError(f"{path}: num_frames must be >= 1, got {n}")
    reader = _reader(sampling.backend, sampling.mode)
    if cache is None:
        return reader.read(path, sampling, n, size_wh), "decoded"
    key = cache.key(path, sampling, n, size_wh)
    return cache.get_or_load(key, lambda: reader.read(path, sampling, n, size_wh))


def load_media(
    ref: MediaRef,
    sampling: FrameSampling,
    cache: FrameCache | None = None,
    size_wh: tuple[int, int] | None = None,
) -> LoadedMedia:
    """Load one sample's media.

    Args:
        ref: What to load; ``ref.num_frames`` overrides ``sampling.num_frames`` for videos.
        sampling: Frame sampling settings of the task (recorded with results).
        cache: Optional decoded-frame cache for videos.
        size_wh: Decode-time video frame size; ``None`` keeps the source size.

    Returns:
        ``LoadedMedia`` with frames/image, source indices, source frame count, size, ``decode_s`` (wall time
        of this call, cache lookups included) and ``key = ref.key``.

    Raises:
        MediaError: missing/corrupt file, missing path, or a generator returning malformed media.
        UnknownNameError: an unregistered synthetic generator.
    """
    t0 = time.perf_counter()
    if ref.kind == "video":
        path = _require_path(ref)
        n = int(ref.num_frames if ref.num_frames is not None else sampling.num_frames)
        video, source = _load_video_source(path, sampling, n, cache, size_wh)
        return LoadedMedia(
            kind="video",
            frames=video.frames,
            indices=list(video.indices),
            source_frames=video.source_frames,
            size_wh=video.size_wh,
            decode_s=time.perf_counter() - t0,
            key=ref.key,
            source=source,
            timestamps_s=[i / video.fps for i in video.indices] if video.fps > 0 else None,
        )
    if ref.kind == "image":
        img = load_image(_require_path(ref))
        return LoadedMedia(
            kind="image", image=img, size_wh=img.size, decode_s=time.perf_counter() - t0, key=ref.key
        )
    if ref.kind == "multi_view":
        media = load_views(ref.paths or [], ref.params.get("frame_ids"), ref.params.get("source_frames"))
        media.decode_s = time.perf_counter() - t0
        media.key = ref.key
        return media
    if ref.kind == "synthetic":
        if not ref.generator:
            raise MediaError(f"synthetic media ref has no generator name: {ref.model_dump()}")
        media = GENERATORS.get(ref.generator)(**ref.params)
        _check_generated(media, ref)
        media.decode_s = time.perf_counter() - t0
        media.key = ref.key
        media.source = "generated"
        return media
    raise MediaError(f"unknown media kind {ref.kind!r}")


def _require_path(ref: MediaRef) -> str:
    if not ref.path:
        raise MediaError(f"{ref.kind} media ref has no path: {ref.model_dump()}")
    return ref.path


def _check_generated(media: object, ref: MediaRef) -> None:
    """Validate a generator's output and fill derivable fields (indices, frame count, size)."""
    name = ref.generator
    if not isinstance(media, LoadedMedia):
        raise MediaError(f"synthetic generator {name!r} returned {type(media).__name__}, not LoadedMedia")
    if media.kind == "video":
        f = media.frames
        if not isinstance(f, np.ndarray) or f.dtype != np.uint8 or f.ndim != 4 or f.shape[-1] != 3:
            desc = f"{f.dtype} {f.shape}" if isinstance(f, np.ndarray) else type(f).__name__
            raise MediaError(f"synthetic generator {name!r}: frames must be uint8 (T, H, W, 3), got {desc}")
        if not media.indices:
            media.indices = list(range(f.shape[0]))
        if len(media.indices) != f.shape[0]:
            raise MediaError(
                f"synthetic generator {name!r}: {len(media.indices)} indices for {f.shape[0]} frames"
            )
        if media.source_frames is None:
            media.source_frames = int(f.shape[0])
        media.size_wh = (int(f.shape[2]), int(f.shape[1]))
    elif media.kind == "image":
        if media.image is None or not hasattr(media.image, "size"):
            raise MediaError(f"synthetic generator {name!r}: image media without a PIL image")
        media.size_wh = tuple(media.image.size)  # type: ignore[assignment]
    else:
        raise MediaError(f"synthetic generator {name!r}: unknown media kind {media.kind!r}")


def resolve_video_path(directory: PathLike, stem: str, exts: Sequence[str] = VIDEO_EXTS) -> Path:
    """Find ``directory/stem`` or ``directory/stem<ext>`` for the first extension that exists.

    Args:
        directory: Folder holding the dataset's videos.
        stem: File name without extension (a name with an extension that exists is returned as-is).
        exts: Extensions to try, in order.

    Raises:
        MediaError: none exists (the message lists every name tried).
    """
    base = Path(directory)
    exact = base / stem
    if exact.is_file():
        return exact
    for ext in exts:
        cand = base / f"{stem}{ext}"
        if cand.is_file():
            return cand
    tried = ", ".join(f"{stem}{e}" for e in exts)
    raise MediaError(f"no video for {stem!r} in {base} (tried {stem}, {tried})")


@dataclass
class PreflightReport:
    """Result of checking every sample's media before inference."""

    checked: int = 0
    """Media references checked (a file shared by several samples counts once per sample)."""
    missing: list[tuple[str, str]] = field(default_factory=list)
    """``(sample_id, path)`` for files that do not exist or cannot be read."""
    unreadable: list[tuple[str, str, str]] = field(default_factory=list)
    """``(sample_id, path, reason)`` for files that exist but do not open (only with ``open_files``)."""
    unknown_generators: list[tuple[str, str]] = field(default_factory=list)
    """``(sample_id, generator)`` for synthetic refs naming no registered generator."""

    @property
    def ok(self) -> bool:
        """True when nothing is missing, unreadable or unknown."""
        return not (self.missing or self.unreadable or self.unknown_generators)

    def summary(self, limit: int = 5) -> str:
        """One human-readable paragraph naming the first ``limit`` problems of each kind."""
        parts = [f"preflight: {self.checked} media refs checked"]
        for label, rows in (
            ("missing", self.missing),
            ("unreadable", self.unreadable),
            ("unknown generator", self.unknown_generators),
        ):
            if rows:
                shown = "; ".join(" ".join(str(x) for x in r) for r in rows[:limit])
                more = f" (+{len(rows) - limit} more)" if len(rows) > limit else ""
                parts.append(f"{len(rows)} {label}: {shown}{more}")
        return ", ".join(parts)


def preflight(samples: Sequence[Sample], open_files: bool = False) -> PreflightReport:
    """Check that every sample's media can be found, without decoding anything.

    Each distinct file is checked once (existence + read permission); with ``open_files`` videos are also
    opened as containers (must have a video stream) and images have their header parsed. Synthetic refs
    must name a registered generator.

    Args:
        samples: Samples of the task(s) about to run.
        open_files: Also open each file (slower: one container open per distinct file).

    Returns:
        A ``PreflightReport``; the caller decides whether problems fail the run or skip samples.
    """
    report = PreflightReport()
    verdicts: dict[tuple[str, str], tuple[str, str] | None] = {}  # (kind, path) -> (problem, reason)
    for sample in samples:
        for ref in sample.media:
            report.checked += 1
            if ref.kind == "synthetic":
                if not ref.generator or ref.generator not in GENERATORS:
                    report.unknown_generators.append((sample.id, str(ref.generator)))
                continue
            files = ref.paths if ref.kind == "multi_view" else ([ref.path] if ref.path else [])
            if not files:
                report.missing.append((sample.id, "<no path>"))
                continue
            kind = "image" if ref.kind == "multi_view" else ref.kind
            for path in files:  # a multi-view ref fails on its first bad view
                vkey = (kind, path)
                if vkey not in verdicts:
                    verdicts[vkey] = _check_file(kind, path, open_files)
                verdict = verdicts[vkey]
                if verdict is None:
                    continue
                if verdict[0] == "missing":
                    report.missing.append((sample.id, path))
                else:
                    report.unreadable.append((sample.id, path, verdict[1]))
                break
    return report


def _check_file(kind: str, path: str, open_files: bool) -> tuple[str, str] | None:
    p = Path(path)
    if not p.is_file() or not os.access(p, os.R_OK):
        return ("missing", "not found" if not p.exists() else "not a readable file")
    if not open_files:
        return None
    if kind == "image":
        from PIL import Image

        try:
            with Image.open(p) as img:
                img.verify()
        except Exception as e:  # any Pillow failure is reported as the reason
            return ("unreadable", f"{type(e).__name__}: {e}")
        return None
    import av

    try:
        with av.open(str(p)) as container:
            if not container.streams.video:
                return ("unreadable", "no video stream")
    except (av.error.FFmpegError, OSError) as e:
        return ("unreadable", f"{type(e).__name__}: {e}")
    return None
