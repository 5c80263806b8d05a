"""Generated fixtures in the exact layouts of the VideoMME, MLVU and LongVideoBench releases
(benchmarks.md §9): tiny H.264 clips (64x64, 8 frames at 2 fps) whose frames carry the NIAH answer marker
of the expected letter, so ``test-oracle`` answers every question of a video with that letter.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from oryx_eval.benchmarks.niah.needles import draw_marker
from oryx_eval.media.encode import encode_video

FPS = 2.0
N_FRAMES = 8


def clip(path: Path, letter: str | None, seed: int = 0) -> Path:
    """8 frames at 2 fps (4 s); every frame shows ``letter``'s marker (none for ``None``)."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(N_FRAMES):
        f = np.full((64, 64, 3), 90 + 10 * i, np.uint8)
        f[32:, :, :] = rng.integers(60, 200, size=3, dtype=np.uint8)
        if letter is not None:
            draw_marker(f, letter)
        frames.append(f)
    path.parent.mkdir(parents=True, exist_ok=True)
    return encode_video(frames, path, fps=FPS, gop=4)


def truncate(path: Path, keep: float = 0.4) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


# --- VideoMME -----------------------------------------------------------------------------------------

SRT = """1
00:00:00,000 --> 00:00:01,500
<font color="white" size=".72c">first cue</font>

2
00:00:01,200 --> 00:00:02,600
<font color="white" size=".72c">overlapping cue</font>

3
00:00:02,500 --> 00:00:02,900
<font color="white" size=".72c">between frames</font>

4
00:00:03,300 --> 00:00:04,000
plain cue without font
"""
# frames seen with 4 of 8 frames at 2 fps: indices [0, 2, 4, 7] -> t = 0, 1, 2, 3.5 s
SUBS_AT_4_FRAMES = ["first cue", "overlapping cue", "plain cue without font"]

# (videoID, file, letter of its three questions, has SRT, truncated, duration)
VIDEOMME_VIDEOS = [
    ("vidAAAAAAA1", "data/vidAAAAAAA1.mp4", "A", True, False, "short"),
    ("vidBBBBBBB2", "data/vidBBBBBBB2.MP4", "B", False, False, "medium"),
    ("vidCCCCCCC3", "data/vidCCCCCCC3.mkv", "C", True, False, "long"),
    ("vidDDDDDDD4", "data/vidDDDDDDD4.mp4", "D", True, True, "short"),
]
DOMAINS = ["Knowledge", "Film & Television", "Sports Competition", "Life Record"]


def videomme(root: Path) -> Path:
    """``videomme/test-00000-of-00001.parquet`` + ``data/`` + ``subtitle/``: 4 videos x 3 questions."""
    rows = []
    for k, (vid, rel, letter, has_srt, trunc, dur) in enumerate(VIDEOMME_VIDEOS):
        p = clip(root / rel, letter, seed=k)
        if trunc:
            truncate(p)
        if has_srt:
            (root / "subtitle").mkdir(parents=True, exist_ok=True)
            (root / "subtitle" / f"{vid}.srt").write_text(SRT)
        for q in range(3):
            rows.append(
                {
                    "video_id": f"{k + 1:03d}",
                    "duration": dur,
                    "domain": DOMAINS[k],
                    "sub_category": f"Sub {q}",
                    "url": f"https://www.youtube.com/watch?v={vid}",
                    "videoID": vid,
                    "question_id": f"{k + 1:03d}-{q + 1}",
                    "task_type": ["Counting Problem", "OCR Problems", "Temporal Reasoning"][q],
                    "question": f"Question {q} about video {k}?",
                    "options": [f"A. apple {q}.", f"B. banana {q}.", f"C. cherry {q}.", f"D. date {q}."],
                    "answer": letter,
                }
            )
    (root / "videomme").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_parquet(root / "videomme" / "test-00000-of-00001.parquet")
    return root


# --- MLVU ---------------------------------------------------------------------------------------------


def _item(video: str, cands: list[str], answer: str, qtype: str, q: str) -> dict:
    return {
        "video": video,
        "duration": 4.0,
        "question": q,
        "candidates": cands,
        "answer": answer,
        "question_type": qtype,
    }


def mlvu_dev(root: Path) -> Path:
    """Original release: ``json/<n>_<task>.json``; plotQA videos per task folder, needle videos flattened."""
    (root / "json").mkdir(parents=True, exist_ok=True)
    clip(root / "video" / "1_plotQA" / "plot1.mp4", "A", 1)
    clip(root / "video" / "plot2.mp4", "B", 2)  # flattened layout
    clip(root / "video" / "2_needle" / "needle1.mp4", "C", 3)
    clip(root / "video" / "8_sub_scene" / "scene1.mp4", None, 4)
    plot = [
        _item("plot1.mp4", ["red", "blue", "green", "grey"], "red", "plotQA", "Colour?"),
        _item("plot2.mp4", ["one", "two", "three", "four"], "two", "plotQA", "How many?"),
    ]
    needle = [_item("needle1.mp4", ["cat", "dog", "bird", "fish"], "bird", "findNeedle", "Which animal?")]
    gen = [
        {
            "video": "scene1.mp4",
            "duration": 4.0,
            "question": "Describe the scene.",
            "answer": "A grey room.",
            "question_type": "subPlot",
            "scoring_points": ["grey", "room"],
        }
    ]
    for name, data in (("1_plotQA", plot), ("2_needle", needle), ("8_sub_scene", gen)):
        (root / "json" / f"{name}.json").write_text(json.dumps(data))
    return root


def mlvu_generation(root: Path) -> Path:
    """``mlvu_dev`` with 3 sub-scene items (``json/8_sub_scene.json``) and 4 summary items
    (``json/9_summary.json``) in the original schema; sample ids ``8_sub_scene_<i>``, ``9_summary_<i>``."""
    mlvu_dev(root)
    ssc, vs = [], []
    for i in range(3):
        clip(root / "video" / "8_sub_scene" / f"scene{i}.mp4", None, 10 + i)
        ssc.append({"video": f"scene{i}.mp4", "duration": 4.0, "question": f"Describe\nscene {i}.",
                    "answer": f"Scene {i} answer.", "question_type": "subPlot",
                    "scoring_points": [f"point {i}a", f"point {i}b"]})  # fmt: skip
    for i in range(4):
        clip(root / "video" / "9_summary" / f"sum{i}.mp4", None, 20 + i)
        vs.append({"video": f"sum{i}.mp4", "duration": 4.0, "question": "Please summarize this video.",
                   "answer": f"Standard summary {i}.", "question_type": "summary"})  # fmt: skip
    (root / "json" / "8_sub_scene.json").write_text(json.dumps(ssc))
    (root / "json" / "9_summary.json").write_text(json.dumps(vs))
    return root


def mlvu_test(root: Path) -> Path:
    """A 6-option test item answered E (the 5th candidate) and a 4-option one."""
    (root / "json").mkdir(parents=True, exist_ok=True)
    clip(root / "video" / "sports1.mp4", None, 5)
    clip(root / "video" / "order1.mp4", "D", 6)
    items = [
        {
            **_item("sports1.mp4", ["a", "b", "c", "d", "e", "f"], "e", "sportsQA", "Which?"),
            "question_id": "SQA_0",
        },
        {**_item("order1.mp4", ["w", "x", "y", "z"], "z", "order", "Order?"), "question_id": "AO_0"},
    ]
    (root / "json" / "test_multi_choice_tasks.json").write_text(json.dumps(items))
    return root


def mlvu_parquet(root: Path) -> Path:
    """lmms-eval packaging: options embedded in ``question``, letter answers, flat videos."""
    clip(root / "p1.mp4", "B", 7)
    q = "Question: What colour?\nOptions:\n(A) red\n(B) blue\n(C) green\n(D) grey"
    rows = [
        {
            "video_name": "p1.mp4",
            "duration": 4.0,
            "question": q,
            "candidates": ["red", "blue", "green", "grey"],
            "answer": "B",
            "task_type": "needle",
            "question_id": "needle_0",
        }
    ]
    (root / "mlvu").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_parquet(root / "mlvu" / "test-00000-of-00001.parquet")
    return root


# --- LongVideoBench -----------------------------------------------------------------------------------

LVB_OFFSET = 10.0  # starting_timestamp_for_subtitles


def _lvb_row(vid: str, k: int, opts: list[str], cc: int | None, group: int, cat: str) -> dict:
    row = {
        "video_id": vid,
        "id": f"{vid}_{k}",
        "video_path": f"{vid}.mp4",
        "subtitle_path": f"{vid}_en.json",
        "question": f"Referring query {k}: which?",
        "duration": 4.0,
        "duration_group": group,
        "question_category": cat,
        "topic_category": "NP-News-Programs",
        "starting_timestamp_for_subtitles": LVB_OFFSET,
        "candidates": opts,
    }
    for i in range(5):
        row[f"option{i}"] = opts[i] if i < len(opts) else "N/A"
    if cc is not None:
        row["correct_choice"] = cc
    return row


def longvideobench(root: Path, test: bool = False) -> Path:
    """``lvb_val.json`` (or ``lvb_test_wo_gt.json``) + ``videos/`` + ``subtitles/`` in both shapes."""
    (root / "subtitles").mkdir(parents=True, exist_ok=True)
    clip(root / "videos" / "lvbVideo0001.mp4", "D", 8)
    clip(root / "videos" / "lvbVideo0002.mp4", "B", 9)
    # shape 1: start/end/line (times before the offset); frames seen at 4 of 8: t = 0, 1, 2, 3.5
    s1 = [
        {"start": "00:00:10.000", "end": "00:00:11.500", "line": "hello there"},
        {"start": "00:00:12.300", "end": "00:00:12.500", "line": "short cue"},  # widened to 11.9-12.9 -> t=2
        {"start": "00:00:12.600", "end": "00:00:13.400", "line": "unseen"},
    ]  # (2.6, 3.4): no frame inside
    # shape 2: timestamp/text; a null end becomes the duration (4.0) before the shift -> 13.0-10 > 4.0-10:
    # the official rule then drops that cue (longvideobench_dataset.py insert_subtitles_into_frames)
    s2 = [
        {"timestamp": [10.5, 11.5], "text": "second video"},
        {"timestamp": [13.0, None], "text": "until the end"},
    ]
    (root / "subtitles" / "lvbVideo0001_en.json").write_text(json.dumps(s1))
    (root / "subtitles" / "lvbVideo0002_en.json").write_text(json.dumps(s2))
    rows = [
        _lvb_row("lvbVideo0001", 0, ["w", "x", "y", "z"], None if test else 3, 15, "S2E"),  # option4 N/A
        _lvb_row("lvbVideo0001", 1, ["p", "q", "r", "s", "t"], None if test else 3, 15, "TOS"),
        _lvb_row("lvbVideo0002", 0, ["yes", "no"], None if test else 1, 60, "E2O"),  # option2..4 N/A
    ]
    name = "lvb_test_wo_gt.json" if test else "lvb_val.json"
    (root / name).write_text(json.dumps(rows))
    return root


LVB_SUBS = {"lvbVideo0001": ["hello there", "short cue"], "lvbVideo0002": ["second video"]}
