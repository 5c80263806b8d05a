"""What ``oryx-eval data check`` learns from a benchmark beyond its samples' media (registered per reader
name in ``registry.DATA_CHECKS``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ExtraFiles:
    """Files other than the media that samples use (subtitles, ...)."""

    kind: str
    required: bool
    """True: a sample cannot run as the task specifies without it (False: optional, e.g. VideoMME subtitles
    exist for 744 of 900 videos)."""
    found: int = 0
    missing: list[tuple[str, str]] = field(default_factory=list)
    """``(sample_id, path)`` of the missing ones."""


@dataclass
class DataExpectations:
    """Expected row count of the full release and extra files."""

    expected_rows: int | None = None
    extras: list[ExtraFiles] = field(default_factory=list)


def extra_files(kind: str, required: bool, paths: list[tuple[str, str | None]]) -> ExtraFiles:
    """Check ``(sample_id, path)`` pairs (a ``None`` path counts as missing, shown as ``<none>``)."""
    from pathlib import Path

    out = ExtraFiles(kind=kind, required=required)
    seen: dict[str, bool] = {}
    for sid, p in paths:
        ok = p is not None and seen.setdefault(p, Path(p).is_file())
        if ok:
            out.found += 1
        else:
            out.missing.append((sid, p or "<none>"))
    return out
