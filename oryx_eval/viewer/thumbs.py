"""Thumbnails of the frames a model saw, rebuilt from a run folder's recorded task specs.

The samples' media references are rebuilt by the task's registered reader from the spec recorded in
run.json. Synthetic media (NIAH ``frames`` mode) are redrawn by their registered generator; video files
are decoded at the recorded frame indices (the task's sampler first, checked to give the same indices, else a
sequential decode of exactly those indices). Thumbnails are small JPEGs named by media key and frame index,
so samples sharing a video (and every compression setting) share them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from oryx_eval.records import MediaRef, Sample, SampleRecord
from oryx_eval.registry import GENERATORS
from oryx_eval.schema import TaskSpec


@dataclass
class Thumb:
    """One thumbnail: relative path, source frame index and timestamp (seconds, when the fps is known)."""

    src: str
    index: int
    t: float | None = None


@dataclass
class MediaThumbs:
    """Thumbnails of one media item, or why there are none."""

    thumbs: list[Thumb] = field(default_factory=list)
    error: str | None = None


def pick(indices: list[int], k: int) -> list[int]:
    """Up to ``k`` of ``indices``, evenly spread, first and last included (all when ``k`` <= 0)."""
    if k <= 0 or len(indices) <= k:
        return list(indices)
    pos = np.linspace(0, len(indices) - 1, k).round().astype(int)
    return [indices[i] for i in dict.fromkeys(pos.tolist())]


def _frames(
    ref: MediaRef, rec: SampleRecord, task: TaskSpec | None, want: list[int]
) -> tuple[np.ndarray, float]:
    """uint8 ``(len(want), H, W, 3)`` at source indices ``want``, and the fps (0 when unknown)."""
    if ref.kind == "synthetic":
        media = GENERATORS.get(str(ref.generator))(**ref.params)
        pos = {i: p for p, i in enumerate(media.indices)}
        return np.stack([media.frames[pos[i]] for i in want]), 0.0
    if ref.kind == "image":
        from PIL import Image

        with Image.open(str(ref.path)) as im:
            return np.asarray(im.convert("RGB"))[None], 0.0
    from oryx_eval.media.loader import load_video
    from oryx_eval.media.pyav_reader import build_index, read_sequential

    fps = build_index(str(ref.path)).fps
    if task is not None and rec.frames.indices:
        video = load_video(str(ref.path), task.media.sampling, num_frames=len(rec.frames.indices))
        if list(video.indices) == list(rec.frames.indices):
            pos = {i: p for p, i in enumerate(video.indices)}
            return np.stack([video.frames[pos[i]] for i in want]), fps
    return read_sequential(str(ref.path), want), fps


def write_thumbs(
    rec: SampleRecord, sample: Sample | None, task: TaskSpec | None, out: Path, max_thumbs: int, px: int,
    done: dict[str, MediaThumbs],
) -> MediaThumbs:  # fmt: skip
    """Thumbnails of the first media item of ``rec`` (cached in ``done`` by media key + indices)."""
    from PIL import Image

    if sample is None or not sample.media:
        return MediaThumbs(error="sample media unknown (the task's reader could not rebuild it)")
    ref = sample.media[0]
    seen = list(rec.frames.indices) or ([0] if ref.kind == "image" else [])
    want = pick(seen, max_thumbs)
    key = f"{ref.key}:{want}"
    if key in done:
        return done[key]
    if not want:
        done[key] = MediaThumbs(error="no frame indices recorded")
        return done[key]
    try:
        frames, fps = _frames(ref, rec, task, want)
    except Exception as e:  # noqa: BLE001 - one bad video costs only its thumbnails (reason shown)
        done[key] = MediaThumbs(error=f"{type(e).__name__}: {e}")
        return done[key]
    out.mkdir(parents=True, exist_ok=True)
    thumbs = []
    for i, fr in zip(want, frames, strict=True):
        name = f"{ref.key}_{i}.jpg"
        path = out / name
        if not path.exists():
            im = Image.fromarray(np.ascontiguousarray(fr))
            im.thumbnail((px, px))
            im.save(path, "JPEG", quality=80)
        thumbs.append(Thumb(src=f"{out.name}/{name}", index=i, t=(i / fps) if fps else None))
    done[key] = MediaThumbs(thumbs=thumbs)
    return done[key]
