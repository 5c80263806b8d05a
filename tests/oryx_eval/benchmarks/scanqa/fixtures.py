"""A generated 3-scene ScanQA fixture in the official layout (benchmarks.md §5, §9).

``posed_images/<scene>/NNNNN.jpg`` colour frames (every 10th frame number, as the ScanNet ``.sens``
converter's ``--fast`` mode writes them) with ``NNNNN.png`` depth, ``NNNNN.txt`` 4x4 camera-to-world
poses and ``intrinsic.txt`` beside them; ``ScanQA_v1.0_val.json`` (12 questions covering the six official
question types) and ``ScanQA_v1.0_test_w_obj.json`` (no answers). Every frame's top-left 16x16 block is
grey with the frame number as its level, so tests can check which views reached the model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

SCENES = {"scene0000_00": 25, "scene0001_00": 8, "scene0002_00": 20}
"""Frames per scene (scene0001_00 has fewer than the default 16 views)."""
FRAME_WH = (64, 48)

# (scene, question, answers, object_names, official question type)
QUESTIONS = [
    ("scene0000_00", "Where is the brown chair located?", ["next to the table", "by the window"], ["chair"],
     "Place"),
    ("scene0000_00", "How many chairs are there?", ["2"], ["chair"], "Number"),
    ("scene0000_00", "What color is the sofa?", ["brown"], ["sofa"], "Color"),
    ("scene0000_00", "What type of table is in the corner?", ["coffee table"], ["table"], "Object nature"),
    ("scene0001_00", "What is placed on the desk?", ["monitor", "computer monitor"], ["monitor"], "Object"),
    ("scene0001_00", "What is the color of the door?", ["white"], ["door"], "Color"),
    ("scene0001_00", "Which side of the bed is the lamp on?", ["left side"], ["lamp"], "Other"),
    ("scene0001_00", "What kind of shelf is above the sink?", ["wooden shelf"], ["shelf"], "Object nature"),
    ("scene0002_00", "Where is the tv?", ["on the wall", "mounted on wall"], ["tv"], "Place"),
    ("scene0002_00", "How many pillows are on the bed?", ["3", "three"], ["pillow"], "Number"),
    ("scene0002_00", "What is in front of the sofa?", ["coffee table"], ["table"], "Object"),
    ("scene0002_00", "The lamp is on which table?", ["nightstand"], ["lamp"], "Other"),
]  # fmt: skip

SCRIPTED = [
    "Next to the table.",  # LEO: "next to table" both sides -> EM; raw EM misses (case, period)
    "two",  # LEO turns the answer "2" into "two" -> EM; raw misses
    "Brown",
    "coffee table",  # exact everywhere
    "computer",  # refined only (substring of "computer monitor")
    "",  # empty output: 0 everywhere, counted
    "on the left side",  # refined only
    "wooden shelf",
    "On the wall",  # LEO EM ("on wall"); raw misses
    "3",  # raw and LEO EM
    "sofa",  # wrong
    "nightstand.",  # LEO EM; raw misses
]
"""Scripted outputs, in question order: EM (LEO) 8/12, refined 10/12, raw 3/12, one empty."""


def question_id(i: int) -> str:
    scene = QUESTIONS[i][0]
    return f"val-{scene[:9]}-{i}"


def _pose(k: int) -> np.ndarray:
    t = np.eye(4)
    t[:3, 3] = [0.1 * k, 0.05 * k, 1.5]
    return t


def write_scanqa(root: Path) -> Path:
    """Write the fixture under ``root`` (the ``--data scanqa=DIR`` folder); returns ``root``."""
    rng = np.random.default_rng(0)
    w, h = FRAME_WH
    for scene, n in SCENES.items():
        d = root / "posed_images" / scene
        d.mkdir(parents=True, exist_ok=True)
        intr = np.array([[1170.2, 0, 647.8, 0], [0, 1170.2, 483.8, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
        np.savetxt(d / "intrinsic.txt", intr, fmt="%f")
        np.savetxt(d / "depth_intrinsic.txt", intr / 2, fmt="%f")
        for k in range(n):
            num = 10 * k
            img = rng.integers(60, 200, size=(h, w, 3), dtype=np.uint8)
            img[:16, :16] = num  # marker: grey level = frame number (<= 240)
            Image.fromarray(img).save(d / f"{num:05d}.jpg", quality=100)
            Image.fromarray(np.full((h, w), 1000 + num, dtype=np.uint16)).save(d / f"{num:05d}.png")
            np.savetxt(d / f"{num:05d}.txt", _pose(k), fmt="%f")
    val = [
        {"answers": ans, "object_ids": [3 + i], "object_names": objs, "question": q,
         "question_id": question_id(i), "scene_id": scene}
        for i, (scene, q, ans, objs, _) in enumerate(QUESTIONS)
    ]  # fmt: skip
    (root / "ScanQA_v1.0_val.json").write_text(json.dumps(val, indent=1))
    test = [
        {"object_ids": [], "object_names": [], "question": q, "question_id": f"test-{scene[:9]}-{i}",
         "scene_id": scene}
        for i, (scene, q, _, _, _) in enumerate(QUESTIONS[:6])
    ]  # fmt: skip
    (root / "ScanQA_v1.0_test_w_obj.json").write_text(json.dumps(test, indent=1))
    return root


def read_marker(frame: np.ndarray) -> int:
    """The frame number encoded in a loaded frame's top-left block (rounded to tens: JPEG-robust)."""
    return 10 * int(round(float(frame[2:14, 2:14].mean()) / 10))
