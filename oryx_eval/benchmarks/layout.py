"""Finding a benchmark's files inside its data folder, as the official releases unpack them.

A data folder may be the unpacked release itself or a Hugging Face hub cache of it
(``datasets--org--name/snapshots/<revision>/...``, or that folder's parent, benchmarks.md §8.1,
lmms-eval #732); ``data_root`` returns the folder that holds the marker files.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from oryx_eval.errors import DatasetError


def data_root(data_dir: Path | None, markers: Iterable[str], what: str) -> Path:
    """The folder under ``data_dir`` holding any of ``markers`` (glob patterns), HF snapshot layouts included.

    Raises:
        DatasetError: no data folder was given, or none of the markers is found (names what was looked for).
    """
    if data_dir is None:
        raise DatasetError(f"{what}: the task names no data folder (dataset.data)")
    base = Path(data_dir)
    markers = list(markers)
    candidates = [base, *sorted(base.glob("snapshots/*")), *sorted(base.glob("datasets--*/snapshots/*"))]
    for c in candidates:
        if any(next(c.glob(m), None) is not None for m in markers):
            return c
    if not base.exists():
        raise DatasetError(f"{what}: data folder {base} does not exist (set --data-root or --data NAME=DIR)")
    raise DatasetError(f"{what}: none of {markers} found in {base} (nor in an HF snapshot folder under it)")


def first_existing(candidates: Iterable[Path]) -> Path | None:
    """The first candidate that is a file, else ``None``."""
    for c in candidates:
        if c.is_file():
            return c
    return None
