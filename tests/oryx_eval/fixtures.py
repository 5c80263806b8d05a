"""Fixture builders for harness tests: a tiny multiple-choice video task in the generic table format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from oryx_eval.media.encode import encode_video

TASK_YAML = """\
name: {name}
version: 1
description: fixture multiple-choice video task
dataset:
  reader: table
  source:
    path: {data}
    media_dir: {media}
  args:
    media_kind: video
    target_format: letter
    metadata: [duration]
media:
  kind: video
  sampling: {{num_frames: 4, mode: exact, backend: pyav}}
prompt:
  template: "{{question}}\\n{{options}}\\nAnswer with {{letters}}."
generation: {{max_new_tokens: 4, temperature: 0}}
answer: {{name: mc_letter}}
scorer: {{name: exact_match}}
metrics: [{{name: accuracy}}, {{name: failure_rate}}]
breakdowns: [[duration]]
"""


def make_frames(n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, size=(48, 64, 3), dtype=np.uint8)
    return [np.roll(base, i, axis=1) for i in range(n)]


def make_task(
    root: Path, n_videos: int = 6, questions_per_video: int = 2, name: str = "fixture_mc", bad: bool = True
) -> Path:
    """Write videos, a JSONL table and a task YAML under ``root``; returns the YAML path.

    With ``bad``, video 1 is truncated (corrupt) and video 2 is referenced but never written (missing).
    """
    media = root / "videos"
    media.mkdir(parents=True, exist_ok=True)
    rows = []
    for v in range(n_videos):
        path = media / f"v{v}.mp4"
        if v != 2 or not bad:
            encode_video(make_frames(12, v), path, fps=4, gop=4)
        if v == 1 and bad:
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 3])
        for q in range(questions_per_video):
            rows.append(
                {
                    "id": f"v{v}q{q}",
                    "question": f"What happens in clip {v}, question {q}?",
                    "choices": ["red", "green", "blue", "grey"],
                    "target": "ABCD"[(v + q) % 4],
                    "media": path.name,
                    "duration": "short" if v % 2 else "long",
                }
            )
    data = root / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    yml = root / f"{name}.yaml"
    yml.write_text(TASK_YAML.format(name=name, data=data, media=media))
    return yml
