"""Harness overhead: wall time of a run over a backend with a fixed known cost vs the sum of that cost.

Media decoding runs in background workers, so with decode cheaper than the backend's cost per group
the harness should add only bookkeeping (target: under 5%). Also runs the same job with one worker
and no prefetch window for comparison.

    python bench/bench_harness.py --videos 24 --cost 0.25
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oryx_eval.media.encode import encode_video  # noqa: E402
from oryx_eval.runner import RunOptions, run  # noqa: E402

TASK = """\
name: bench_overhead
version: 1
dataset:
  reader: table
  source: {{path: {data}, media_dir: {media}}}
  args: {{media_kind: video}}
media:
  kind: video
  sampling: {{num_frames: {frames}, mode: exact, backend: pyav}}
prompt: {{template: "{{question}}\\n{{options}}"}}
generation: {{max_new_tokens: 4}}
"""


def make_task(root: Path, videos: int, frames: int, length: int, size: int) -> Path:
    """`videos` clips of `length` frames, one question each, in the table format."""
    media = root / "videos"
    media.mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for v in range(videos):
        base = rng.integers(0, 255, size=(size, size * 16 // 9 // 2 * 2, 3), dtype=np.uint8)
        encode_video(
            (np.roll(base, 3 * i, axis=1) for i in range(length)), media / f"v{v}.mp4", fps=30, gop=30
        )
        rows.append({"id": f"v{v}", "question": "q?", "choices": ["a", "b", "c", "d"], "target": "A",
                     "media": f"v{v}.mp4"})  # fmt: skip
    data = root / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = root / "bench_overhead.yaml"
    task.write_text(TASK.format(data=data, media=media, frames=frames))
    return task


def timed_run(task: Path, out: Path, run_id: str, cost: float, workers: int, prefetch: int) -> float:
    opts = RunOptions(
        tasks=[str(task)],
        backend="test-fixed-cost",
        backend_args={"cost_s": cost},
        output_dir=out,
        run_id=run_id,
        workers=workers,
        prefetch=prefetch,
        cache_dir=out / "cache",
        progress=False,
    )
    t0 = time.perf_counter()
    res = run(opts)
    wall = time.perf_counter() - t0
    assert all(r.error is None for r in res.samples), [r.error for r in res.samples if r.error]
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=24)
    ap.add_argument("--frames", type=int, default=32, help="frames sampled per video")
    ap.add_argument("--length", type=int, default=300, help="frames per generated video")
    ap.add_argument("--size", type=int, default=360, help="video height")
    ap.add_argument("--cost", type=float, default=0.25, help="backend seconds per request")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        task = make_task(root, args.videos, args.frames, args.length, args.size)
        print(f"generated {args.videos} videos of {args.length} frames in {time.perf_counter() - t0:.1f}s")
        ideal = args.videos * args.cost
        for label, workers, prefetch in (
            ("prefetch (2 workers, window 4)", 2, 4),
            ("no overlap (window 0)", 1, 0),
        ):
            wall = timed_run(
                task, root / "out", label.split()[0] + str(workers), args.cost, workers, prefetch
            )
            print(
                f"{label:36s} wall {wall:7.2f}s  backend cost {ideal:7.2f}s  "
                f"overhead {100 * (wall / ideal - 1):6.1f}%"
            )


if __name__ == "__main__":
    main()
