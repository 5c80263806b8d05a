"""Held-out accuracy of the trained tiny Oryx per needle kind and compression, through the real runner.

Builds a NIAH grid from tasks/niah.yaml (evaluation seed 0 by default, never a training seed; no answer
marker) with `--frames` haystack frames, `--per-cell` independent needles per (depth, kind) cell, and runs the
`oryx-tiny-trained` backend (a `train-tiny` output) at 1x, 4x and 16x. Prints accuracy with a 95%
Wilson interval per (kind, ratio),
the mean visual tokens per ratio, and the wall time. Not a unit test: a figure for docs/README.

    python bench/bench_tiny_niah.py --frames 64 --per-cell 10      # the shipped checkpoint
    python bench/bench_tiny_niah.py --model-path runs/oryx-tiny-niah --kinds shape
    python bench/bench_tiny_niah.py --model-path runs/l7 --seed 7   # choose on seed 7, report on seed 0
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from oryx_eval.runner import RunOptions, run  # noqa: E402
from oryx_eval.training.train import TrainConfig  # noqa: E402


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of k successes out of n."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=64)
    ap.add_argument("--per-cell", type=int, default=10)
    ap.add_argument("--compression", default="1,4,16")
    ap.add_argument(
        "--model-path", default=str(ROOT / "checkpoints" / "oryx-tiny-niah"),
        help="an `oryx-eval train-tiny --out` directory (default: the shipped `oryx-tiny`)",
    )  # fmt: skip
    ap.add_argument("--kinds", default="code_word,shape,count,order", help="needle kinds, comma-separated")
    ap.add_argument(
        "--seed", type=int, default=0,
        help="grid seed (0 = the demo's evaluation grid; pick a checkpoint on another seed, report on 0)",
    )  # fmt: skip
    ap.add_argument("--json", type=Path, default=None, help="also write the table as JSON")
    args = ap.parse_args()
    trained = {*TrainConfig.haystack_seeds, TrainConfig.val_seed}
    if args.seed in trained:
        span = f"{min(trained)}-{max(trained)}"
        ap.error(f"--seed {args.seed} is a train-tiny training/validation seed; pick one outside {span}")
    raw = yaml.safe_load((ROOT / "tasks" / "niah.yaml").read_text())
    raw["name"] = "niah_heldout"
    raw["reports"] = []
    raw["dataset"]["args"].update(
        frame_counts=[args.frames], per_cell=args.per_cell, marker=False, needles=args.kinds.split(","),
        seed=args.seed,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        task = Path(tmp) / "niah_heldout.yaml"
        task.write_text(yaml.safe_dump(raw))
        backend_args = {"model_path": args.model_path}
        opts = RunOptions(
            tasks=[str(task)], backend="oryx-tiny-trained", backend_args=backend_args,
            compressions=args.compression.split(","), output_dir=Path(tmp) / "out", run_id="bench",
            cache_dir=Path(tmp) / "cache", progress=False,
        )  # fmt: skip
        t0 = time.perf_counter()
        res = run(opts)
        wall = time.perf_counter() - t0
    hits: dict[tuple[str, str], list[float]] = defaultdict(list)
    tokens: dict[str, list[int]] = defaultdict(list)
    for r in res.samples:
        if r.error is None:
            hits[(r.metadata["needle"], r.compression)].append(float(r.score))
            tokens[r.compression].append(r.tokens.visual)
    failed = sum(r.error is not None for r in res.samples)
    ratios = args.compression.split(",")
    kinds = sorted({k for k, _ in hits})
    table = {}
    cells = f"{args.per_cell} needles per (depth, kind) cell"
    print(f"{args.frames}-frame held-out haystacks, {cells}, seed {args.seed}")
    print("kind       " + "".join(f"{c + 'x':>26}" for c in ratios))
    for kind in kinds:
        cells = []
        for c in ratios:
            h = hits[(kind, c)]
            lo, hi = wilson(int(sum(h)), len(h))
            table[f"{kind}@{c}"] = {"accuracy": sum(h) / len(h), "n": len(h), "ci95": [lo, hi]}
            cells.append(f"{sum(h) / len(h):.2f} [{lo:.2f}, {hi:.2f}] n={len(h)}")
        print(f"{kind:<11}" + "".join(f"{s:>26}" for s in cells))
    vis = {c: sum(tokens[c]) / max(1, len(tokens[c])) for c in ratios}
    print("visual tokens per sample: " + ", ".join(f"{c}x {v:.0f}" for c, v in vis.items()))
    print(f"failed samples: {failed}; wall {wall:.1f} s for {len(res.samples)} samples")
    if args.json:
        args.json.write_text(json.dumps({"table": table, "visual": vis, "wall_s": wall}, indent=2) + "\n")


if __name__ == "__main__":
    main()
