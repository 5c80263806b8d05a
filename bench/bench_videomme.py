"""VideoMME-shaped speed check: 3 questions per long video vs 1, decode cost, workers to keep a GPU busy.

Generates V H.264 clips (default 10 min, 720p, 25 fps, a keyframe every 2 s, the shape of real VideoMME
files) and a VideoMME parquet over them (3 questions per video, and a 1-question variant), then runs the
shipped ``videomme`` task on it:

1. oryx-tiny, 3 questions vs 1 question per video: wall-time ratio (target <= 1.5x: the 3 questions share
   the decode, the vision encoding and the prefix prefill);
2. decode seconds per video on one core (``load_media``, the task's sampling) and from it the decode
   workers needed to keep a GPU that spends ``--gpu-s`` per question (0.3 s ~ Oryx-7B at 64 frames on an
   H100, FLOP bound) busy: ``ceil(decode_s / (3 * gpu_s))``;
3. test-fixed-cost at ``--gpu-s`` per question with that many workers (capped by the machine's cores): the
   share of wall time the backend waited (wall - busy) / wall.

    python bench/bench_videomme.py --videos 4 --seconds 600 --height 720
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oryx_eval.backends import testing  # noqa: E402
from oryx_eval.media.encode import encode_video  # noqa: E402
from oryx_eval.media.loader import load_media  # noqa: E402
from oryx_eval.records import FrameSampling, MediaRef  # noqa: E402
from oryx_eval.runner import RunOptions, run  # noqa: E402

CALLS: list[tuple[float, float]] = []
_generate = testing.FixedCostBackend.generate


def _timed_generate(self, requests):  # noqa: ANN001, ANN202 - instrumentation of the test backend
    t0 = time.perf_counter()
    out = _generate(self, requests)
    CALLS.append((t0, time.perf_counter()))
    return out


testing.FixedCostBackend.generate = _timed_generate


def frames(seconds: float, fps: float, h: int, seed: int):  # noqa: ANN201 - generator of (H, W, 3) uint8
    w = h * 16 // 9 // 2 * 2
    rng = np.random.default_rng(seed)
    base = np.zeros((h, w, 3), np.uint8)
    base[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    base[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    base[..., 2] = rng.integers(0, 255)
    for i in range(int(seconds * fps)):
        f = np.roll(base, 4 * i, axis=1)
        f[: h // 8, : w // 8] = (i * 7) % 256  # a changing block: every frame differs
        yield f


def make_data(root: Path, videos: int, seconds: float, h: int, fps: float) -> tuple[Path, Path]:
    """``<root>/q3`` (3 questions per video) and ``<root>/q1`` (1), sharing ``data/``."""
    data = root / "q3" / "data"
    data.mkdir(parents=True)
    rows = []
    for v in range(videos):
        vid = f"bench{v:06d}"
        encode_video(
            frames(seconds, fps, h, v), data / f"{vid}.mp4", fps=fps, gop=int(2 * fps), preset="ultrafast"
        )
        for q in range(3):
            rows.append(
                {
                    "video_id": f"{v:03d}",
                    "duration": "medium",
                    "domain": "Knowledge",
                    "sub_category": "Technology",
                    "url": "",
                    "videoID": vid,
                    "question_id": f"{v:03d}-{q + 1}",
                    "task_type": "Counting Problem",
                    "question": f"q{q}?",
                    "options": ["A. a.", "B. b.", "C. c.", "D. d."],
                    "answer": "A",
                }
            )
    for name, keep in (("q3", rows), ("q1", rows[::3])):
        (root / name / "videomme").mkdir(parents=True, exist_ok=True)
        pd.DataFrame(keep).to_parquet(root / name / "videomme" / "test-00000-of-00001.parquet")
    (root / "q1" / "data").symlink_to(data)
    return root / "q3", root / "q1"


def timed(data: Path, out: Path, run_id: str, backend: str, args: dict, frames_n: int, workers: int) -> float:
    opts = RunOptions(
        tasks=["videomme"],
        backend=backend,
        backend_args=args,
        output_dir=out,
        run_id=run_id,
        frames=frames_n,
        workers=workers,
        prefetch=max(2, 2 * workers),
        data_dirs={"videomme": data},
        cache_dir=out / "cache",
        frame_cache_gb=0.0,
        progress=False,
    )
    CALLS.clear()
    t0 = time.perf_counter()
    res = run(opts)
    wall = time.perf_counter() - t0
    assert all(r.error is None for r in res.samples), [r.error for r in res.samples if r.error][:2]
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument("--frames", type=int, default=64, help="frames sampled per video")
    ap.add_argument("--gpu-s", type=float, default=0.3, help="GPU seconds per question to keep busy")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        q3, q1 = make_data(root, args.videos, args.seconds, args.height, args.fps)
        print(
            f"generated {args.videos} x {args.seconds:.0f}s {args.height}p clips "
            f"in {time.perf_counter() - t0:.1f}s"
        )
        out = root / "out"
        timed(q1, out, "warm", "oryx-tiny-random", {}, args.frames, 2)  # lazy imports, checkpoint, codecs
        w1 = timed(q1, out, "tiny-q1", "oryx-tiny-random", {}, args.frames, 2)
        w3 = timed(q3, out, "tiny-q3", "oryx-tiny-random", {}, args.frames, 2)
        print(
            f"oryx-tiny: 1 question/video {w1:.2f}s, 3 questions/video {w3:.2f}s, ratio {w3 / w1:.2f}x "
            f"(target <= 1.5x)"
        )
        sampling = FrameSampling(num_frames=args.frames, mode="exact", backend="pyav")
        dec = []
        for p in sorted((q3 / "data").glob("*.mp4")):
            t = time.perf_counter()
            load_media(MediaRef(kind="video", path=str(p)), sampling)
            dec.append(time.perf_counter() - t)
        per_video = float(np.mean(dec))
        need = math.ceil(per_video / (3 * args.gpu_s))
        cores = os.cpu_count() or 1
        workers = max(1, min(need, cores))
        print(
            f"decode: {per_video:.2f}s per video on one core ({args.frames} frames, exact); a GPU at "
            f"{args.gpu_s}s/question needs {need} decode workers; "
            f"this machine has {cores} cores -> {workers}"
        )
        wall = timed(q3, out, "fixed", "test-fixed-cost", {"cost_s": args.gpu_s}, args.frames, workers)
        busy = sum(b - a for a, b in CALLS)
        print(
            f"test-fixed-cost {args.gpu_s}s/question, {workers} workers: wall {wall:.2f}s, backend busy "
            f"{busy:.2f}s, waited {100 * (wall - busy) / wall:.1f}% of the wall time"
        )


if __name__ == "__main__":
    main()
