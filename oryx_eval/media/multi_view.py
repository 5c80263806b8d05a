"""Multi-view scenes (ScanQA's ScanNet posed frames): an ordered list of image files -> one frame sequence.

The backend receives the views as a video-like ``LoadedMedia`` (``kind="video"``, frames uint8
``(T, H, W, 3)``), which is how Oryx takes a 3D scene (multi-view frames fed as a video, oryx-model.md §10.1).
Views must share one size (ScanNet colour frames of a scene are all 1296x968); a mismatch is a
``MediaError`` naming the file, never a silent resize.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from oryx_eval.errors import MediaError
from oryx_eval.media.image import load_image
from oryx_eval.records import LoadedMedia


def load_views(
    paths: Sequence[str], frame_ids: Sequence[int] | None = None, source_frames: int | None = None
) -> LoadedMedia:
    """Load view images in order and stack them.

    Args:
        paths: Image files, in the order the model sees them (>= 1).
        frame_ids: Source frame index of each view (recorded as ``indices``); default ``0..T-1``.
        source_frames: How many frames the views were chosen from (recorded); default ``T``.

    Returns:
        ``LoadedMedia(kind="video")`` with frames uint8 ``(T, H, W, 3)``, ``indices = frame_ids`` and
        ``size_wh`` of the views (``key``/``decode_s`` are left to the caller).

    Raises:
        MediaError: no views, a missing/corrupt file, views of different sizes, or ``frame_ids`` of the
            wrong length.
    """
    if not paths:
        raise MediaError("multi_view media ref has no view paths")
    ids = list(frame_ids) if frame_ids is not None else list(range(len(paths)))
    if len(ids) != len(paths):
        raise MediaError(f"multi_view: {len(ids)} frame ids for {len(paths)} views ({paths[0]} ...)")
    frames = []
    size = None
    for p in paths:
        img = load_image(p)
        if size is None:
            size = img.size
        elif img.size != size:
            raise MediaError(f"{p}: view size {img.size[0]}x{img.size[1]} differs from {size[0]}x{size[1]}")
        frames.append(np.asarray(img, dtype=np.uint8))  # (H, W, 3)
    assert size is not None
    return LoadedMedia(
        kind="video",
        frames=np.stack(frames),  # (T, H, W, 3)
        indices=[int(i) for i in ids],
        source_frames=int(source_frames) if source_frames is not None else len(paths),
        size_wh=(int(size[0]), int(size[1])),
    )
