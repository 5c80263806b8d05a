"""A local lmms-eval task (``--include_path``) over generated fixture videos, in lmms-eval's YAML format."""

from __future__ import annotations

import json
from pathlib import Path

from oryx_eval.media.encode import encode_video
from tests.oryx_eval.fixtures import make_frames

TASK = "oryx_fixture_mc"

YAML = """\
task: {task}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_visual: !function utils.doc_to_visual
doc_to_text: !function utils.doc_to_text
doc_to_target: answer
process_results: !function utils.process_results
generation_kwargs:
  max_new_tokens: 4
  temperature: 0
  until: ["\\n\\n"]
metric_list:
  - metric: exact
    aggregation: mean
    higher_is_better: true
metadata:
  version: 0.0
"""

UTILS = """\
import os

VIDEO_DIR = {video_dir!r}


def doc_to_visual(doc):
    return [os.path.join(VIDEO_DIR, doc["video"])]


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    return doc["question"] + "\\nAnswer with the option's letter."


def process_results(doc, results):
    pred = results[0].strip()
    return {{"exact": float(pred[:1] == doc["answer"])}}
"""


def make_lmms_task(root: Path, n_videos: int = 2, per_video: int = 2) -> tuple[Path, int]:
    """Write videos, a JSONL dataset, ``<task>.yaml`` and ``utils.py`` under ``root``; returns
    ``(include_path, number of docs)``. Videos carry ``per_video`` questions each (shared prefixes)."""
    videos = root / "videos"
    videos.mkdir(parents=True, exist_ok=True)
    rows = []
    for v in range(n_videos):
        encode_video(make_frames(16, v), videos / f"v{v}.mp4", fps=8, gop=8)
        for q in range(per_video):
            rows.append(
                {
                    "id": f"v{v}q{q}",
                    "video": f"v{v}.mp4",
                    "answer": "ABCD"[(v + q) % 4],
                    "question": f"Clip {v}, question {q}: which colour? A. red B. green C. blue D. grey",
                }
            )
    data = root / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    tasks = root / "tasks"
    tasks.mkdir(exist_ok=True)
    (tasks / f"{TASK}.yaml").write_text(YAML.format(task=TASK, data=data))
    (tasks / "utils.py").write_text(UTILS.format(video_dir=str(videos)))
    return tasks, len(rows)
