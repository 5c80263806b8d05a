"""LongVideoBench subtitles of the sampled frames (``longvideobench/LongVideoBench:longvideobench/
longvideobench_dataset.py``, benchmarks.md §3.3).

Both official shapes: ``{"start": "HH:MM:SS.mmm", "end": ..., "line": text}`` and ``{"timestamp": [start,
end], "text": text}`` (an end that is not a float, e.g. null, becomes the video's duration *before* the
shift, as in the original, so such a cue usually ends before it starts and is dropped when the offset
exceeds the clip). Times are shifted by ``starting_timestamp_for_subtitles``; a cue shorter than 1 s is
widened to its midpoint +/- 0.5 s; a cue is kept when a sampled frame's time lies strictly inside it. The
official loader interleaves frames and kept cues; our backends take one video plus text, so the kept cues
are given in order before the question (the frames they belong to are the model's own sampled frames, not a
fixed grid).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from oryx_eval.benchmarks.videomme.subtitles import frame_times
from oryx_eval.errors import MediaError
from oryx_eval.records import LoadedMedia, Sample
from oryx_eval.registry import CONTEXTS


def _clock(value: Any, where: str) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    try:
        parts = [float(p) for p in str(value).split(":")]
    except ValueError:
        raise MediaError(f"{where}: bad subtitle time {value!r}") from None
    secs = 0.0
    for p in parts:
        secs = secs * 60 + p
    return secs


def load_cues(path: str | Path, offset: float, duration: float) -> list[tuple[float, float, str]]:
    """``(start, end, text)`` per subtitle, shifted by ``offset``, in file order."""
    try:
        items = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise MediaError(f"{path}: unreadable subtitles: {e}") from None
    cues = []
    try:
        for it in items:
            if "timestamp" in it:
                start, end = it["timestamp"]
                end = end if isinstance(end, float) else duration  # official: any non-float end (null, int)
                start, text = float(start), it["text"]
            else:
                start, end, text = _clock(it["start"], str(path)), _clock(it["end"], str(path)), it["line"]
            cues.append((start - offset, end - offset, str(text)))
    except (KeyError, TypeError, ValueError) as e:
        raise MediaError(
            f"{path}: subtitle entry not in either official shape: {type(e).__name__}: {e}"
        ) from None
    return cues


def select(cues: list[tuple[float, float, str]], times: list[float]) -> list[str]:
    """Texts of the cues covering a sampled frame (short cues widened to +/- 0.5 s), in order."""
    out = []
    for start, end, text in cues:
        if end - start < 1:
            mid = (start + end) / 2
            start, end = mid - 0.5, mid + 0.5
        if any(start < t < end for t in times):
            out.append(text)
    return out


def lvb_subtitles(sample: Sample, media: list[LoadedMedia]) -> dict[str, str]:
    """Template field ``subtitles``: cues at the sampled frames, one per line ('' without media).

    Raises:
        MediaError: the sample's subtitle file is missing or malformed (only that sample fails).
    """
    times = frame_times(media)
    if times is None:
        return {"subtitles": ""}
    path = sample.metadata.get("subtitle_path")
    if not path or not Path(path).is_file():  # every LVB video ships one: a missing file fails the sample
        raise MediaError(f"sample {sample.id!r}: subtitle file {path} not found")
    meta = sample.metadata
    cues = load_cues(path, float(meta.get("subtitle_offset") or 0.0), float(meta.get("duration") or 0.0))
    return {"subtitles": "\n".join(select(cues, times))}


lvb_subtitles.fields = ("subtitles",)  # type: ignore[attr-defined]
CONTEXTS.register("lvb_subtitles")(lvb_subtitles)
