"""Generate the VideoMME-shaped clips that `bench/gpu_check.py` runs through `oryx-eval run` on a GPU.

Run once on a CPU machine before the device call; the folder (ignored by git) travels with `carry`:

    python bench/make_gpu_fixture.py --out .gpu_fixture        # 4 clips, 720p30, 120 s, keyframe every 2 s

Why these clips: VideoMME samples 64 frames from 1-60 min videos, so consecutive sampled frames lie
one or more keyframe intervals apart and each costs a keyframe decode plus the frames up to it. A 120 s
clip with 2 s keyframes gives the same per-frame decode pattern (64 targets ~1.9 s apart, one keyframe
each) at a carriable size. The scene is smooth (scrolling bars and gradients, a moving block), so the
bitrate, and with it the P-frame decode cost, is lower than real footage: the check prints the measured
decode seconds per video next to its questions/s, so the projection can be rescaled.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oryx_eval.media.encode import encode_video  # noqa: E402

FIXTURE_FILE = "fixture.json"


def scene_frames(n: int, width: int, height: int, seed: int) -> Iterator[np.ndarray]:
    """`n` uint8 frames `(H, W, 3)`: scrolling colour bars over a gradient, a block moving on a sine path."""
    rng = np.random.default_rng(seed)
    period = 256
    y, x = np.mgrid[0 : height + period, 0 : width + period]
    hue = rng.uniform(0, 2 * np.pi, 3)
    tex = np.stack([96 + 64 * np.sin(x / 97 + y / 151 + h) for h in hue], axis=-1)  # smooth gradient
    tex += np.where(((x // 160) % 7)[..., None] == np.arange(3), 60.0, 0.0)  # colour bars
    tex = np.clip(tex, 0, 255).astype(np.uint8)
    bs = max(16, height // 10)
    for i in range(n):
        ox, oy = (5 * i) % period, (2 * i) % period
        frame = np.ascontiguousarray(tex[oy : oy + height, ox : ox + width])
        bx = (11 * i) % (width - bs)
        by = (height - bs) // 2 + int((height // 3) * np.sin(i / 40))
        frame[by : by + bs, bx : bx + bs] = ((i * 37) % 256, 255 - i % 256, (i * 11) % 256)
        yield frame


def make_fixture(
    out: Path, clips: int, seconds: float, fps: int, width: int, height: int, gop: int, crf: int
) -> dict:
    """Write `clips` H.264 clips and `fixture.json` (settings and sizes) into `out`; returns the JSON."""
    out.mkdir(parents=True, exist_ok=True)
    n = int(round(seconds * fps))
    items = []
    for c in range(clips):
        path = out / f"clip{c}.mp4"
        t0 = time.perf_counter()
        encode_video(
            scene_frames(n, width, height, seed=c), path, fps=fps, gop=gop, crf=crf, preset="veryfast"
        )
        items.append({"file": path.name, "frames": n, "bytes": path.stat().st_size})
        print(f"{path}: {n} frames, {path.stat().st_size / 2**20:.1f} MiB, {time.perf_counter() - t0:.0f} s")
    meta = {
        "clips": items,
        "fps": fps,
        "size_wh": [width, height],
        "seconds": seconds,
        "gop": gop,
        "crf": crf,
        "codec": "libx264",
    }
    (out / FIXTURE_FILE).write_text(json.dumps(meta, indent=2))
    return meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(".gpu_fixture"))
    ap.add_argument("--clips", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--size", default="1280x720", help="WxH")
    ap.add_argument("--gop", type=int, default=60, help="keyframe interval in frames")
    ap.add_argument("--crf", type=int, default=30)
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.lower().split("x"))
    meta = make_fixture(a.out, a.clips, a.seconds, a.fps, w, h, a.gop, a.crf)
    total = sum(c["bytes"] for c in meta["clips"])
    print(f"fixture {a.out}: {len(meta['clips'])} clips, {total / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
