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

from oryx_eval.backends import testing  # noqa: E402
from oryx_eval.media.encode import encode_video  # noqa: E402
from oryx_eval.runner import RunOptions, run  # noqa: E402

CALLS: list[tuple[float, float]] = []  # (start, end) of every backend call
_generate = testing.FixedCostBackend.generate


def _timed_generate(self, requests):  # noqa: ANN001, ANN202 - instrumentation of the test backend
    t0 = time.perf_counter()
    out = _generate(self, requests)
    CALLS.append((t0, time.perf_counter()))
    return out


testing.FixedCostBackend.generate = _timed_generate

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


def timed_run(
    task: Path, out: Path, run_id: str, cost: float, workers: int, prefetch: int
) -> tuple[float, ...]:
    """Wall time, time to the first backend call, idle gaps between calls, time after the last call."""
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
    CALLS.clear()
    t0 = time.perf_counter()
    res = run(opts)
    t1 = time.perf_counter()
    assert all(r.error is None for r in res.samples), [r.error for r in res.samples if r.error]
    gaps = sum(b[0] - a[1] for a, b in zip(CALLS[:-1], CALLS[1:], strict=True))
    return t1 - t0, CALLS[0][0] - t0, gaps, t1 - CALLS[-1][1]


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
        timed_run(task, root / "out", "warm-up", 0.0, 2, 4)  # one-time process costs (lazy imports, codecs)
        for label, workers, prefetch in (
            ("prefetch (2 workers, window 4)", 2, 4),
            ("no overlap (window 0)", 1, 0),
        ):
            wall, start, gaps, tail = timed_run(
                task, root / "out", f"w{workers}p{prefetch}", args.cost, workers, prefetch
            )
            print(
                f"{label:32s} wall {wall:6.2f}s  backend {ideal:5.2f}s  "
                f"overhead {100 * (wall / ideal - 1):5.1f}%  "
                f"[start-up {start:.2f}s, idle between calls {gaps:.2f}s ({100 * gaps / ideal:.1f}%), "
                f"finish {tail:.2f}s]"
            )


if __name__ == "__main__":
    main()
