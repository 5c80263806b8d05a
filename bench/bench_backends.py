"""Harness overhead of the comparison backends: a NIAH run through the runner vs the model called directly.

For each family a tiny random-weight checkpoint is written; a small NIAH grid (frames mode) runs through
`oryx_eval.runner.run` while every request the backend receives is recorded; the same requests are then
answered by calling the model directly: the processor steps (pixels + grid/tile metadata, chat template,
tokenisation) and `model.generate`, in a plain loop ("direct"). Overhead = runner wall (backend start-up
excluded) / direct wall - 1: what the harness adds per sample (frame generation and prefetch, prompt
rendering, scheduling, scoring, records). Also printed: the runner's own time outside
`backend.generate` per sample (frame generation when ``--prefetch 0``, scoring, records), which is far
less sensitive to CPU contention than the wall-time ratio. Harness and direct runs alternate and the
fastest of each is kept, since this machine is shared and noisy.

Per-sample overhead is the marginal cost: the grid runs at two sizes (``--per-cell`` 1 and
``--per-cell-large`` needles per cell) and harness ms/sample = (wall_large - wall_small) / (n_large -
n_small), so the run's fixed start-up and finish (task loading, identity, run folder, summary, reports)
is printed apart instead of being spread over a handful of samples. "direct + frames" adds the time the
hand-written loop makes each sample's frames (``load_media`` on its recorded media reference, no frame
cache) right before its model call, as a user's own loop would: frames and model interleaved, so the
caches see the same traffic as in the harness.

    python bench/bench_backends.py --frames 8,16 --repeats 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import oryx_eval.runner as runner  # noqa: E402
from oryx_eval.backends.hf_common import gen_kwargs  # noqa: E402
from oryx_eval.backends.hf_tiny import write_tiny  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BACKEND = {"qwen2-vl": "qwen2-vl", "qwen2.5-vl": "qwen2-vl", "llava-onevision": "llava-onevision",
           "internvl": "internvl"}  # fmt: skip
REQUESTS: list[Any] = []
MEDIA: list[tuple[Any, Any]] = []  # (media ref, sampling) of every load the recorded run made
BUILD: list[float] = []  # seconds to construct the backend (load + checkpoint hash) in each run
IN_BACKEND: list[float] = []  # seconds inside each backend.generate call of a run


def make_task(root: Path, frames: list[int], per_cell: int) -> Path:
    raw = yaml.safe_load((ROOT / "tasks" / "niah.yaml").read_text())
    raw["name"] = f"bench_niah_{per_cell}"
    raw["dataset"]["args"].update(
        frame_counts=frames, depths=[0.0, 0.5, 1.0], needles=["code_word", "shape"], per_cell=per_cell
    )
    raw["reports"] = []
    path = root / f"bench_niah_{per_cell}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def harness(
    task: Path, out: Path, family: str, ckpt: Path, run_id: str, record: bool, prefetch: int = 4
) -> tuple[float, int]:
    """Runner wall time without the backend's construction, and the sample count."""
    build = runner.build_backend

    def build_and_record(name, args, cache_dir, *rest):  # noqa: ANN001, ANN002, ANN202 - instrumentation
        t0 = time.perf_counter()
        b = build(name, args, cache_dir, *rest)
        BUILD.append(time.perf_counter() - t0)
        gen = b.generate

        def rec(requests):  # noqa: ANN001, ANN202
            if record:
                REQUESTS.extend(requests)
            t0 = time.perf_counter()
            out = gen(requests)
            IN_BACKEND.append(time.perf_counter() - t0)
            return out

        b.generate = rec
        return b

    load = runner.load_media

    def load_and_record(ref, sampling, *rest):  # noqa: ANN001, ANN002, ANN202 - instrumentation
        if record:
            MEDIA.append((ref, sampling))
        return load(ref, sampling, *rest)

    runner.build_backend = build_and_record
    runner.load_media = load_and_record
    BUILD.clear()
    IN_BACKEND.clear()
    try:
        opts = runner.RunOptions(
            tasks=[str(task)], backend=BACKEND[family], backend_args={"model_path": str(ckpt)},
            output_dir=out, run_id=run_id, cache_dir=out / "cache", progress=False, prefetch=prefetch,
        )  # fmt: skip
        t0 = time.perf_counter()
        res = runner.run(opts)
        wall = time.perf_counter() - t0 - sum(BUILD)
    finally:
        runner.build_backend = build
        runner.load_media = load
    errors = [r.error for r in res.samples if r.error]
    assert not errors, errors
    return wall, len(res.samples)


def direct(b: Any, frames: bool = False) -> tuple[float, float]:
    """The recorded requests answered by the processor steps + ``model.generate``; (total, generate) s.

    With `frames`, each request's step first makes one recorded sample's media again (``load_media``,
    no frame cache): the hand-written loop over the same samples, frames and model interleaved.
    """
    t0 = time.perf_counter()
    gen_s = 0.0
    with torch.inference_mode():
        for i, r in enumerate(REQUESTS):
            if frames:
                runner.load_media(*MEDIA[i])
            mi = b.prepare_media(r.media[0])
            inputs, _, _ = b.build_inputs(mi, r.prompt)
            b.before_generate(mi)
            torch.manual_seed(r.generation.seed)
            t1 = time.perf_counter()
            b.model.generate(**inputs, **gen_kwargs(r, b.eos, b.pad))
            gen_s += time.perf_counter() - t1
    return time.perf_counter() - t0, gen_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", default="8,16", help="NIAH frame counts (3 depths x 2 needles each)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--families", default=",".join(BACKEND))
    ap.add_argument("--prefetch", type=int, default=4, help="runner prefetch window (0: media made in line)")
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    ap.add_argument("--per-cell", type=int, default=1, help="needles per grid cell of the small run")
    ap.add_argument("--per-cell-large", type=int, default=4, help="needles per grid cell of the large run")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    frames = [int(x) for x in args.frames.split(",")]
    print(
        f"torch threads {torch.get_num_threads()}; NIAH frames {frames}, 224x224, default resolution knobs, "
        f"prefetch {args.prefetch}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        small, large = make_task(root, frames, args.per_cell), make_task(root, frames, args.per_cell_large)
        for fam in args.families.split(","):
            ckpt = write_tiny(fam, root / "ck" / fam)
            REQUESTS.clear()
            MEDIA.clear()
            harness(large, root / "out", fam, ckpt, f"{fam}-warm", record=True)  # warm-up + record requests
            b = runner.build_backend(BACKEND[fam], {"model_path": str(ckpt)}, root / "cache")
            direct(b)  # warm-up
            hs, hl, ds, gs, outs, fs = [], [], [], [], [], []
            for i in range(args.repeats):
                pf = args.prefetch
                w_s, n_s = harness(small, root / "out", fam, ckpt, f"{fam}-s{i}", record=False, prefetch=pf)
                w_l, n_l = harness(large, root / "out", fam, ckpt, f"{fam}-l{i}", record=False, prefetch=pf)
                hs.append(w_s)
                hl.append(w_l)
                outs.append(w_l - sum(IN_BACKEND))
                d, g = direct(b)
                ds.append(d)
                gs.append(g)
                fs.append(direct(b, frames=True)[0])
            h_s, h_l, d, g, o, df = min(hs), min(hl), min(ds), min(gs), min(outs), min(fs)
            marginal = (h_l - h_s) / (n_l - n_s)
            fixed = h_s - n_s * marginal
            assert len(MEDIA) == len(REQUESTS), (len(MEDIA), len(REQUESTS))  # frames mode: one media each
            per_d, per_df = d / n_l, df / n_l
            print(
                f"{fam:16s} {n_s}/{n_l} samples  harness {marginal * 1e3:7.1f} ms/sample (+ fixed "
                f"{fixed * 1e3:6.1f} ms/run)  direct {per_d * 1e3:7.1f} ms/sample (generate "
                f"{g / n_l * 1e3:6.1f}; + frames {per_df * 1e3:7.1f})  overhead vs direct "
                f"{100 * (marginal / per_d - 1):+5.1f}%, "
                f"vs direct + frames {100 * (marginal / per_df - 1):+5.1f}%  "
                f"runner outside the backend {o / n_l * 1e3:6.1f} ms/sample  "
                f"(runs: small {[round(x, 2) for x in hs]} s, large {[round(x, 2) for x in hl]} s, "
                f"direct {[round(x, 2) for x in ds]} s)"
            )


if __name__ == "__main__":
    main()
