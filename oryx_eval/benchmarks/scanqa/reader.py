"""ScanQA reader ``scanqa``: the official question JSON + ScanNet posed frames, one sample per question.

Layout under the benchmark's data folder (``--data scanqa=DIR``, benchmarks.md §5):
``DIR/ScanQA_v1.0_val.json`` (records ``scene_id``, ``question_id``, ``question``, ``answers``,
``object_ids``, ``object_names``; the test files have no ``answers``) and
``DIR/posed_images/<scene_id>/NNNNN.jpg``. Each question's media is one ``multi_view`` ref (the scene's
chosen views, ``views.py``), so questions of a scene share their decoded frames and visual encoding.
``metadata`` records the view rule, the view count and frame numbers, the scene's frame count, the
official question type, all answers and the number of questions in the file (``split_size``: metrics
flag subsets against it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from oryx_eval.benchmarks.scanqa.cleaning import question_type
from oryx_eval.benchmarks.scanqa.views import Views, listed_views, uniform_views
from oryx_eval.errors import DatasetError
from oryx_eval.records import MediaRef, ReaderContext, Sample
from oryx_eval.registry import DATASETS

REQUIRED = ("scene_id", "question_id", "question")


def _load_questions(path: Path) -> list[dict[str, Any]]:
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"scanqa: question file {path} not found") from None
    except json.JSONDecodeError as e:
        raise DatasetError(f"scanqa: {path}: invalid JSON: {e}") from None
    if not isinstance(items, list) or not items:
        raise DatasetError(f"scanqa: {path} must hold a non-empty list of question records")
    for i, it in enumerate(items):
        missing = [k for k in REQUIRED if k not in it]
        if missing:
            raise DatasetError(f"scanqa: {path.name} record {i}: missing keys {missing}")
    return items


@DATASETS.register("scanqa")
def read_scanqa(
    ctx: ReaderContext,
    questions: str = "ScanQA_v1.0_val.json",
    images_dir: str = "posed_images",
    num_views: int = 16,
    views: Literal["uniform", "frame_list"] = "uniform",
    frame_list: str | None = None,
) -> list[Sample]:
    """ScanQA samples from ``ctx.data_dir``.

    Args:
        ctx: Reader context; ``data_dir`` is the ScanQA folder (``dataset.data: scanqa``).
        questions: Question file inside the data folder (val, or a test file without answers).
        images_dir: Posed-frame folder inside the data folder (one subfolder per scene).
        num_views: Views per scene for ``uniform`` (>= 1).
        views: ``uniform`` over the sorted frames, or ``frame_list`` (the file's frames, in its order).
        frame_list: JSON file (inside the data folder, or absolute) for ``views: frame_list``.

    Raises:
        DatasetError: missing folder/file/keys, a scene without frames, or bad view arguments.
    """
    if ctx.data_dir is None:
        raise DatasetError(f"scanqa ({ctx.task}): no data folder (set dataset.data: scanqa)")
    root = Path(ctx.data_dir)
    if not root.is_dir():
        raise DatasetError(f"scanqa: data folder {root} not found (pass --data scanqa=DIR)")
    if not isinstance(num_views, int) or num_views < 1:
        raise DatasetError(f"scanqa: num_views must be an integer >= 1, got {num_views!r}")
    if views == "frame_list" and not frame_list:
        raise DatasetError("scanqa: views 'frame_list' needs the frame_list file argument")
    if views not in ("uniform", "frame_list"):
        raise DatasetError(f"scanqa: views must be 'uniform' or 'frame_list', got {views!r}")
    items = _load_questions(root / questions)
    images = root / images_dir
    flist = (root / frame_list) if frame_list else None
    by_scene: dict[str, Views] = {}
    samples = []
    for it in items:
        scene = str(it["scene_id"])
        if scene not in by_scene:
            scene_dir = images / scene
            by_scene[scene] = (
                uniform_views(scene_dir, num_views) if views == "uniform"
                else listed_views(scene_dir, root, flist, scene)  # type: ignore[arg-type]
            )  # fmt: skip
        v = by_scene[scene]
        answers = [str(a) for a in it.get("answers") or []]
        ref = MediaRef(
            kind="multi_view",
            paths=list(v.paths),
            params={"frame_ids": list(v.frame_ids), "source_frames": v.scene_frames},
        )
        rule = f"uniform({num_views})" if views == "uniform" else f"frame_list({frame_list})"
        samples.append(
            Sample(
                id=str(it["question_id"]),
                task=ctx.task,
                media=[ref],
                question=str(it["question"]),
                target=answers[0] if answers else "",
                metadata={
                    "scene_id": scene,
                    "question_type": question_type(str(it["question"])),
                    "answers": answers,
                    "object_ids": list(it.get("object_ids") or []),
                    "object_names": list(it.get("object_names") or []),
                    "view_rule": rule,
                    "num_views": len(v.paths),
                    "view_frames": list(v.frame_ids),
                    "scene_frames": v.scene_frames,
                    "split_size": len(items),
                },
            )
        )
    return samples
