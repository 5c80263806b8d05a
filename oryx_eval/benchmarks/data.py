"""Where a benchmark's local data live: ``--data-root`` plus per-benchmark ``--data NAME=DIR`` overrides."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

DEFAULT_DATA_ROOT = Path.home() / ".cache" / "oryx-eval" / "data"


def resolve_data_dir(name: str | None, root: Path, overrides: Mapping[str, Path | str]) -> Path | None:
    """The folder of benchmark ``name``: its override if given, else ``root / name`` (None: no data folder).

    The path is made absolute (``~`` expanded) so that the recorded value is unambiguous; it need not
    exist (readers and ``data check`` report what is missing).
    """
    if name is None:
        return None
    path = Path(overrides[name]) if name in overrides else Path(root) / name
    return path.expanduser().resolve()


def parse_data_dirs(items: list[str]) -> dict[str, Path]:
    """``--data NAME=DIR`` options -> ``{name: dir}``; one-line error for a malformed item."""
    from oryx_eval.errors import OryxEvalError

    out: dict[str, Path] = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise OryxEvalError(f"--data {item!r}: expected NAME=DIR (e.g. videomme=/data/Video-MME)")
        out[name.strip()] = Path(path.strip())
    return out
