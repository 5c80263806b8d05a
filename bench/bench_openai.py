"""The ``openai`` backend's own costs, measured against loopback servers in the same run.

1. HTTP + JPEG overhead per request: the ``test-fixed-cost`` backend (cost 0) called directly vs through
   ``oryx-eval serve`` + ``--model openai`` (frames encoded to JPEG, sent, decoded, answered).
2. Concurrency: a server that takes ``--delay`` seconds per request, ``concurrency=1`` vs ``--concurrency``.

    python bench/bench_openai.py --requests 32 --frames 8 --size 224 --delay 0.05 --concurrency 8
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oryx_eval.backends.openai_chat import OpenAIChatBackend  # noqa: E402
from oryx_eval.backends.testing import FixedCostBackend  # noqa: E402
from oryx_eval.records import GenerationSettings, LoadedMedia, Request  # noqa: E402
from oryx_eval.serve import ChatService, running  # noqa: E402
from tests.oryx_eval.fake_openai import Action, FakeOpenAI  # noqa: E402


def requests(n: int, frames: int, size: int) -> list[Request]:
    """``n`` requests of ``frames`` smooth moving-pattern frames (JPEG-compressible like real video)."""
    y, x = np.mgrid[0:size, 0:size]
    out = []
    for i in range(n):
        chans = [
            [(x * 2 + t * 7 + i) % 256, (y * 3 + t * 5) % 256, (x + y + t * 11) % 256] for t in range(frames)
        ]
        f = np.stack([np.stack(c, -1) for c in chans]).astype(np.uint8)  # (T, H, W, 3)
        m = LoadedMedia(kind="video", frames=f, indices=list(range(frames)), size_wh=(size, size))
        out.append(Request(sample_id=f"s{i}", prompt=f"q{i}", media=[m], generation=GenerationSettings()))
    return out


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=32)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--delay", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=8)
    a = ap.parse_args()
    reqs = requests(a.requests, a.frames, a.size)
    args = {"timeout_s": 30.0, "max_retries": 0, "max_side": a.size, "max_frames": a.frames}

    direct = FixedCostBackend(cost_s=0.0)
    t_direct = timed(lambda: [direct.generate([r]) for r in reqs])
    with running(ChatService(FixedCostBackend(cost_s=0.0), "fixed")) as url:
        api = OpenAIChatBackend(base_url=url, concurrency=1, **args)
        gens: list = []
        t_http = timed(lambda: gens.extend(g for r in reqs for g in api.generate([r])))
    assert all(g.error is None for g in gens)
    enc = sum(g.latency_s.preprocess for g in gens) / len(gens)
    kb = sum(g.extra["sent"]["jpeg_bytes"] for g in gens) / len(gens) / 1024
    print(f"[1] {a.requests} requests x {a.frames} frames {a.size}x{a.size} ({kb:.0f} KiB JPEG each): "
          f"direct {t_direct:.3f}s, "
          f"via serve+openai {t_http:.3f}s -> {1000 * (t_http - t_direct) / a.requests:.1f} ms/request "
          f"overhead (JPEG encode {1000 * enc:.1f} ms of it)")  # fmt: skip

    with FakeOpenAI(lambda text, attempt: Action(delay_s=a.delay)) as fake:
        one = OpenAIChatBackend(model="m", base_url=fake.base_url, concurrency=1, **args)
        many = OpenAIChatBackend(model="m", base_url=fake.base_url, concurrency=a.concurrency, **args)
        t1 = timed(lambda: one.generate(reqs))
        tn = timed(lambda: many.generate(reqs))
    print(f"[2] server delay {a.delay}s: concurrency 1 {t1:.3f}s, concurrency {a.concurrency} {tn:.3f}s "
          f"-> speedup x{t1 / tn:.2f} (ideal x{min(a.concurrency, a.requests):.0f}; max in flight "
          f"{fake.max_in_flight})")  # fmt: skip


if __name__ == "__main__":
    main()
