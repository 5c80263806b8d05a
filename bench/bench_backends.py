"""Harness overhead of the comparison backends: a NIAH run through the runner vs the model called directly.

For each family a tiny random-weight checkpoint is written; a small NIAH grid (frames mode) runs through
`oryx_eval.runner.run` while every `model.generate` call's inputs are recorded; the same inputs are then
replayed through `model.generate` alone ("direct"). Overhead = runner wall / direct wall - 1: everything
the harness adds per sample (frame generation, preprocessing, prompt, scoring, records). Runs alternate
(harness, direct, harness, direct) and the faster of each pair is kept, since this machine is noisy.

    python bench/bench_backends.py --frames 8,16 --repeats 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oryx_eval.backends.hf_tiny import write_tiny  # noqa: E402
from oryx_eval.runner import RunOptions, run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BACKEND = {"qwen2-vl": "qwen2-vl", "qwen2.5-vl": "qwen2-vl", "llava-onevision": "llava-onevision",
           "internvl": "internvl"}  # fmt: skip
RECORDED: list[dict] = []
IN_RUN: list[float] = []  # seconds of each model.generate call inside the harness run
BUILD: list[float] = []  # seconds to construct the backend (load + checkpoint hash) in each run


def make_task(root: Path, frames: list[int]) -> Path:
    raw = yaml.safe_load((ROOT / "tasks" / "niah.yaml").read_text())
    raw["name"] = "bench_niah"
    raw["dataset"]["args"].update(frame_counts=frames, depths=[0.0, 0.5, 1.0], needles=["code_word", "shape"])
    raw["reports"] = []
    path = root / "bench_niah.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def harness(
    task: Path, out: Path, family: str, ckpt: Path, run_id: str, record: bool, prefetch: int
) -> tuple[float, int]:
    """Runner wall time and sample count; with ``record`` every generate call's inputs are kept."""
    import oryx_eval.runner as runner

    build = runner.build_backend

    def build_and_record(name, args, cache_dir):  # noqa: ANN001, ANN202 - instrumentation
        t0 = time.perf_counter()
        b = build(name, args, cache_dir)
        BUILD.append(time.perf_counter() - t0)
        gen = b.model.generate

        def rec(**kw):  # noqa: ANN003, ANN202
            if record:
                RECORDED.append({k: v for k, v in kw.items() if k != "streamer"})
            t0 = time.perf_counter()
            out = gen(**kw)
            IN_RUN.append(time.perf_counter() - t0)
            return out

        b.model.generate = rec
        return b

    runner.build_backend = build_and_record
    try:
        opts = RunOptions(tasks=[str(task)], backend=BACKEND[family], backend_args={"model_path": str(ckpt)},
                          output_dir=out, run_id=run_id, cache_dir=out / "cache", progress=False,
                          prefetch=prefetch)  # fmt: skip
        t0 = time.perf_counter()
        res = run(opts)
        wall = time.perf_counter() - t0
    finally:
        runner.build_backend = build
    errors = [r.error for r in res.samples if r.error]
    assert not errors, errors
    return wall, len(res.samples)


def direct(model: torch.nn.Module) -> float:
    """The recorded inputs through ``model.generate`` alone."""
    t0 = time.perf_counter()
    with torch.inference_mode():
        for kw in RECORDED:
            torch.manual_seed(0)
            model.generate(**kw)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", default="8,16", help="NIAH frame counts (3 depths x 2 needles each)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--families", default=",".join(BACKEND))
    ap.add_argument("--prefetch", type=int, default=4, help="runner prefetch window (0: decode in line)")
    args = ap.parse_args()
    frames = [int(x) for x in args.frames.split(",")]
    print(f"torch threads {torch.get_num_threads()}; NIAH frames {frames}, 224x224, default resolution knobs")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        task = make_task(root, frames)
        for fam in args.families.split(","):
            ckpt = write_tiny(fam, root / "ck" / fam)
            RECORDED.clear()
            harness(
                task, root / "out", fam, ckpt, f"{fam}-warm", record=True, prefetch=args.prefetch
            )  # warm-up + record inputs
            from oryx_eval.runner import build_backend

            model = build_backend(BACKEND[fam], {"model_path": str(ckpt)}, root / "cache").model
            direct(model)  # warm-up
            hs, ds, book = [], [], []
            for i in range(args.repeats):
                IN_RUN.clear()
                BUILD.clear()
                w, n = harness(
                    task, root / "out", fam, ckpt, f"{fam}-{i}", record=False, prefetch=args.prefetch
                )
                hs.append(w)
                book.append(w - sum(IN_RUN) - sum(BUILD))
                ds.append(direct(model))
            h, d, b = min(hs), min(ds), min(book)
            print(
                f"{fam:16s} {n} samples  harness {h / n * 1e3:7.1f} ms/sample  direct generate "
                f"{d / n * 1e3:7.1f} ms/sample  overhead {100 * (h / d - 1):+5.1f}%  outside generate "
                f"(start-up excluded) {b / n * 1e3:6.1f} ms/sample ({100 * b / d:4.1f}% of direct)  "
                f"(runs: harness {[round(x, 2) for x in hs]} s, direct {[round(x, 2) for x in ds]} s)"
            )


if __name__ == "__main__":
    main()
