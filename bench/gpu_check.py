"""One prepared GPU check: CUDA paths, Oryx-7B-shaped throughput against the measured ceilings, the harness.

Sections (each guarded: a failure is recorded and the rest still runs; a global time budget skips what
would start too late; the JSON is rewritten after every section, so a killed run keeps what it measured):

  environment      versions, GPU, importable attention backends
  ceilings         bf16 matmul peak and device copy bandwidth, measured in this run
  gpu_tests        the project's `gpu`-marked tests (pytest -m gpu, subprocess)
  vit_correctness  OryxViT at SigLIP-so400m/16 dims: bf16 sdpa/eager/flash vs float32, mixed images + video
  vit_speed        ViT forward on 64 frames of 640x320 and on mixed native-resolution images; compressor at 4x
  llm              prefill of a 64-frame VideoMME sequence (13.5k tokens) and decode tokens/s
  shared_prefix    generate_shared for 3 questions vs 3 independent generate calls
  harness          a VideoMME-shaped fixture through `oryx-eval run --device cuda` at 1/4/8/12 decode workers
  projection       full VideoMME (2,700 questions) on one such GPU, next to the FLOP bound

Random weights throughout (Oryx-7B dims, built on the meta device and materialised on the GPU): speed and
pipeline figures only, never accuracy. On the GPU machine run it through `bench/gpu_check.sh` (installs the
carried wheels); `--dry-run` runs every section with tiny shapes on the CPU (tests/bench/test_gpu_check.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import torch  # noqa: E402
from gpucheck import env, harness, llm, report, vit  # noqa: E402
from gpucheck.common import Budget, Shapes, ceilings, free  # noqa: E402
from oryx7b import oryx_config, random_oryx  # noqa: E402

from model import load_oryx, write_tiny_checkpoint  # noqa: E402

SECTIONS = (
    "environment",
    "ceilings",
    "gpu_tests",
    "vit_correctness",
    "vit_speed",
    "llm",
    "shared_prefix",
    "harness",
    "projection",
)
MIN_S = {
    "gpu_tests": 40,
    "vit_correctness": 30,
    "vit_speed": 20,
    "llm": 30,
    "shared_prefix": 30,
    "harness": 45,
}


class Check:
    """Runs the sections in order, sharing the device, the tokenizer and the one random Oryx-7B."""

    def __init__(self, a: argparse.Namespace, work: Path) -> None:
        self.a, self.work = a, work
        self.shapes = Shapes.dry() if a.dry_run else Shapes.full()
        self.device = torch.device(a.device)
        self.dtype = torch.bfloat16
        self.budget = Budget(a.budget_s)
        self.sections: dict[str, Any] = {}
        self.tiny = write_tiny_checkpoint(work / "tiny")  # tokenizer + loader for the harness backend
        self._model: Any = None

    def peak(self) -> float | None:
        return self.sections.get("ceilings", {}).get("peak_tflops")

    def model(self) -> Any:
        if self._model is None:
            tok = load_oryx(self.tiny).tokenizer
            t0 = time.perf_counter()
            self._model = random_oryx(tok, self.device, self.dtype, tiny=self.shapes.tiny)
            self.build_s = time.perf_counter() - t0
        return self._model

    def run_section(self, name: str) -> dict[str, Any]:
        sh, dev = self.shapes, self.device
        if name == "environment":
            return env.environment(dev)
        if name == "ceilings":
            return ceilings(dev, self.dtype, sh)
        if name == "gpu_tests":
            timeout = 90.0 if self.a.dry_run else max(30.0, min(150.0, self.budget.left() - 240))
            return env.gpu_tests(sh.pytest_paths, timeout_s=timeout, threads=self.a.threads)
        if name == "vit_correctness":
            return vit.correctness(sh, dev)
        if name == "vit_speed":
            return vit.speed(sh, dev, self.dtype, self.peak())
        if name == "llm":
            m = self.model()
            bw = self.sections.get("ceilings", {}).get("bandwidth_gb_s")
            n = sum(p.numel() for p in m.parameters())
            return {"params": n, "build_s": self.build_s, **llm.prefill_decode(m, sh, dev, self.peak(), bw)}
        if name == "shared_prefix":
            return llm.shared_vs_independent(self.model(), sh, dev, self.peak())
        if name == "harness":
            harness.STATE.update(model=self.model(), tiny_ckpt=str(self.tiny))
            fixture = self.a.fixture
            if self.a.dry_run:  # tiny clips made here; the real run carries pre-made 720p clips
                from make_gpu_fixture import make_fixture

                fixture = self.work / "fixture"
                make_fixture(
                    fixture,
                    clips=2,
                    seconds=1.0,
                    fps=10,
                    width=sh.source_wh[0],
                    height=sh.source_wh[1],
                    gop=5,
                    crf=30,
                )
            return harness.run_all(
                fixture,
                self.work / "harness",
                sh.workers,
                sh.frames,
                sh.answer_tokens,
                sh.harness_videos,
                str(dev),
                "bfloat16",
                self.budget.left,
                first_estimate_s=5.0 if self.a.dry_run else 30.0,
            )
        if name == "projection":
            return report.projection(oryx_config(sh.tiny), self.sections, sh.frames, sh.answer_tokens)
        raise ValueError(f"unknown section {name!r}; valid: {list(SECTIONS)}")

    def run(self, names: list[str], write: Callable[[], None]) -> None:
        for name in names:
            left = self.budget.left()
            if left < MIN_S.get(name, 5) * (0.1 if self.a.dry_run else 1):
                self.sections[name] = {"status": "skipped", "reason": f"time budget: {left:.0f} s left"}
                write()
                continue
            t0 = time.perf_counter()
            try:
                out = {"status": "ok", **self.run_section(name)}
            except Exception as e:  # noqa: BLE001 - a failed section is reported, the others still run
                out = {
                    "status": "error",
                    "error": f"{type(e).__name__}: {str(e)[:500]}",
                    "traceback": traceback.format_exc().splitlines()[-12:],
                }
            out["wall_s"] = time.perf_counter() - t0
            self.sections[name] = out
            print(
                f"[{out['status']}] {name} in {out['wall_s']:.1f} s"
                + (f": {out.get('error')}" if "error" in out else ""),
                flush=True,
            )
            if name not in ("llm", "shared_prefix"):
                free(self.device)
            write()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--dry-run", action="store_true", help="tiny shapes on the CPU (the test suite runs this)"
    )
    ap.add_argument(
        "--out", type=Path, default=Path("results/gpu_check"), help="folder for gpu_check.json/.txt"
    )
    ap.add_argument("--budget-s", type=float, default=None, help="wall budget (default 420; dry run 120)")
    ap.add_argument(
        "--fixture", type=Path, default=Path(".gpu_fixture"), help="clips from make_gpu_fixture.py"
    )
    ap.add_argument("--device", default=None, help="default cuda; dry run cpu")
    ap.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated subset, in this order")
    ap.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's; dry run 1)"
    )
    a = ap.parse_args()
    a.device = a.device or ("cpu" if a.dry_run else "cuda")
    a.budget_s = a.budget_s or (120.0 if a.dry_run else 420.0)
    a.threads = a.threads if a.threads is not None else (1 if a.dry_run else 0)
    if a.threads:  # a busy 2-core CI machine runs tiny ops 100x slower with spinning OpenMP threads
        torch.set_num_threads(a.threads)
    names = [s for s in a.sections.split(",") if s]
    bad = sorted(set(names) - set(SECTIONS))
    if bad:
        ap.error(f"--sections: unknown {bad}; valid: {','.join(SECTIONS)}")
    a.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        chk = Check(a, Path(tmp))
        res: dict[str, Any] = {
            "meta": {
                "started": datetime.now(timezone.utc).isoformat(),
                "argv": sys.argv,
                "dry_run": a.dry_run,
                "device": a.device,
                "budget_s": a.budget_s,
                "threads": a.threads,
                "shapes": chk.shapes.record(),
                "weights": "random (seeded); speed and pipeline figures only, never accuracy",
            },
            "sections": chk.sections,
        }

        def write() -> None:
            res["meta"]["wall_s"] = time.perf_counter() - t0
            (a.out / "gpu_check.json").write_text(json.dumps(res, indent=2, default=str))

        chk.run(names, write)
    write()
    text = report.table(res)
    (a.out / "gpu_check.txt").write_text(text + "\n")
    print(text)
    return 0 if all(s.get("status") == "ok" for s in chk.sections.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
