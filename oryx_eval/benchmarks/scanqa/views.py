"""Which posed frames of a ScanNet scene the model sees.

A scene folder ``posed_images/<scene_id>/`` holds ``NNNNN.jpg`` colour frames (with ``NNNNN.png`` depth,
``NNNNN.txt`` poses and ``intrinsic.txt`` beside them; benchmarks.md §5.3). Frames are sorted by their
number. Two rules:

- ``uniform``: ``num_views`` frames at ``np.linspace(0, n - 1, num_views).astype(int)`` over the sorted
  frames (the harness's video sampling rule); a scene with fewer frames gives all of them, once each;
- ``frame_list``: a JSON file mapping ``scene_id`` to a list of frames, each a frame name (``"00010"``,
  ``"00010.jpg"``) or a path relative to the data folder (``"posed_images/scene0000_00/00010.jpg"``, as
  LLaVA-3D lists them), used as given.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from oryx_eval.errors import DatasetError
from oryx_eval.media.video import uniform_indices


@dataclass(frozen=True)
class Views:
    """The views of one scene: files in model order, their frame numbers, and the scene's frame count."""

    paths: tuple[str, ...]
    frame_ids: tuple[int, ...]
    scene_frames: int


def _frame_number(path: Path) -> int | None:
    return int(path.stem) if path.stem.isdigit() else None


@functools.lru_cache(maxsize=4096)
def scene_frames(scene_dir: Path) -> tuple[Path, ...]:
    """The ``.jpg`` colour frames of a scene folder, sorted by frame number (then by name)."""
    if not scene_dir.is_dir():
        raise DatasetError(f"scanqa: scene folder {scene_dir} not found")
    frames = [p for p in scene_dir.iterdir() if p.suffix.lower() == ".jpg" and p.is_file()]
    if not frames:
        raise DatasetError(f"scanqa: no .jpg frames in {scene_dir}")
    return tuple(sorted(frames, key=lambda p: (_frame_number(p) is None, _frame_number(p) or 0, p.name)))


def uniform_views(scene_dir: Path, num_views: int) -> Views:
    """``num_views`` frames spread uniformly over the scene (module docstring)."""
    frames = scene_frames(scene_dir)
    idx = uniform_indices(len(frames), min(num_views, len(frames)))
    chosen = [frames[i] for i in idx]
    return Views(tuple(str(p) for p in chosen), tuple(_id(p, i) for p, i in zip(chosen, idx, strict=True)),
                 len(frames))  # fmt: skip


def _id(path: Path, position: int) -> int:
    n = _frame_number(path)
    return n if n is not None else position


@functools.lru_cache(maxsize=8)
def _load_frame_list(path: Path) -> dict[str, list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"scanqa: frame_list file {path} not found") from None
    except json.JSONDecodeError as e:
        raise DatasetError(f"scanqa: frame_list file {path}: invalid JSON: {e}") from None
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise DatasetError(f"scanqa: frame_list file {path} must map scene_id -> list of frames")
    return data


def listed_views(scene_dir: Path, data_dir: Path, frame_list: Path, scene_id: str) -> Views:
    """The frames ``frame_list`` gives for ``scene_id`` (module docstring)."""
    entries = _load_frame_list(frame_list).get(scene_id)
    if not entries:
        raise DatasetError(f"scanqa: frame_list {frame_list} has no frames for scene {scene_id}")
    paths = []
    for e in entries:
        e = str(e)
        p = data_dir / e if "/" in e else scene_dir / (e if e.lower().endswith(".jpg") else f"{e}.jpg")
        paths.append(p)
    total = len(scene_frames(scene_dir)) if scene_dir.is_dir() else len(paths)
    return Views(tuple(str(p) for p in paths), tuple(_id(p, i) for i, p in enumerate(paths)), total)
