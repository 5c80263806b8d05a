"""VideoMME subtitles: SRT cues selected by the timestamps of the frames the model actually sees.

The official protocol uses only the subtitles at the sampled frames (Video-MME README). lmms-eval instead
picks cues for its own fixed ``frame_num`` grid (32 by default) whatever the model's frame count, and drops
cues without the ``<font>`` wrapper (benchmarks.md §1.4, §8.4). Here a cue is kept when a sampled frame's
time ``t`` satisfies ``start <= t < end`` (lmms-eval's half-open rule, in seconds instead of OpenCV frame
numbers); cues keep their file order (lmms-eval's ``set()`` order is arbitrary), a cue shown at several
sampled frames appears once, and the ``<font>`` text is used when present, the plain text otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from oryx_eval.errors import MediaError
from oryx_eval.records import LoadedMedia, Sample
from oryx_eval.registry import CONTEXTS

NO_SUBTITLES = "No subtitles available"
_TIME = re.compile(r"(\d+):(\d{2}):(\d{2})[,.](\d{1,3})")
_FONT = re.compile(r"<font[^>]*>(.*?)</font>", re.S)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Cue:
    """One subtitle cue (seconds)."""

    start: float
    end: float
    text: str


def _seconds(stamp: str, where: str) -> float:
    m = _TIME.search(stamp)
    if m is None:
        raise MediaError(f"{where}: bad SRT time {stamp.strip()!r}")
    h, mi, s, ms = m.groups()
    return int(h) * 3600 + int(mi) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def cue_text(raw: str) -> str:
    """The ``<font>`` contents when present, else the text without tags; lines joined by spaces."""
    fonts = _FONT.findall(raw)
    text = " ".join(fonts) if fonts else _TAG.sub("", raw)
    return " ".join(text.split())


def parse_srt(path: str | Path) -> list[Cue]:
    """Cues of an SRT file, in file order (cue times may overlap, as in VideoMME's YouTube captions)."""
    content = Path(path).read_text(encoding="utf-8-sig", errors="replace").replace("\r\n", "\n")
    cues = []
    for block in re.split(r"\n\s*\n", content.strip()):
        lines = block.strip("\n").split("\n")
        arrow = next((i for i, ln in enumerate(lines) if "-->" in ln), None)
        if arrow is None:
            continue
        a, b = lines[arrow].split("-->", 1)
        text = cue_text("\n".join(lines[arrow + 1 :]))
        if text:
            cues.append(Cue(_seconds(a, str(path)), _seconds(b, str(path)), text))
    return cues


def select_cues(cues: list[Cue], times_s: list[float]) -> list[Cue]:
    """Cues shown at any of ``times_s`` (``start <= t < end``), in file order, each once."""
    return [c for c in cues if any(c.start <= t < c.end for t in times_s)]


def frame_times(media: list[LoadedMedia]) -> list[float] | None:
    """Timestamps of the first video's sampled frames (``None`` if there is none)."""
    for m in media:
        if m.kind == "video" and m.timestamps_s is not None:
            return list(m.timestamps_s)
    return None


def videomme_subtitles(
    sample: Sample, media: list[LoadedMedia], missing: str = NO_SUBTITLES
) -> dict[str, str]:
    """Template field ``subtitles``: the cues at the sampled frames ('' when media failed to load)."""
    times = frame_times(media)
    if times is None:
        return {"subtitles": ""}
    path = sample.metadata.get("subtitle_path")
    if not path or not Path(path).is_file():
        return {"subtitles": missing}
    chosen = select_cues(parse_srt(path), times)
    return {"subtitles": "\n".join(c.text for c in chosen)}


videomme_subtitles.fields = ("subtitles",)  # type: ignore[attr-defined]
CONTEXTS.register("videomme_subtitles")(videomme_subtitles)
