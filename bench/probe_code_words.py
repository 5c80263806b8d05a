"""Can the tiny Oryx's LLM read code words? Two diagnostics on held-out code-word needle frames.

1. Linear probes (no training of the model): is each character of the shown word linearly decodable from
   the visual tokens the LLM receives (after its first layer's input norm), from the best single token,
   from all of the frame's tokens, and from their mean (what an attention spread evenly over them passes
   on)? Closed-form ridge regression, fit on 3/4 of the frames, scored on the rest.
2. `--ocr-steps N`: the LLM (and the vision side) trained to write the word's four characters after one
   needle frame and the code-word question without options (captioning, as an MLLM learns to read),
   teacher-forced per-character accuracy on held-out frames every `--ocr-every` steps. Exploratory: the
   weights are not written.

Frames come from the NIAH generator with the training haystack seeds (1000-1199) and needle ids drawn
from `--seed`; the probes' held-out quarter and the OCR validation frames (seed 999) are never fitted.

    python bench/probe_code_words.py --model-path checkpoints/oryx-tiny-niah
    python bench/probe_code_words.py --model-path runs/glyphs --ocr-steps 2000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model import OryxModel, load_oryx  # noqa: E402
from oryx_eval.benchmarks.niah.needles import CODE_ALPHABET  # noqa: E402
from oryx_eval.schema import TASKS_DIR, load_task  # noqa: E402
from oryx_eval.training.data import NiahSource  # noqa: E402
from oryx_eval.training.loop import OptimConfig  # noqa: E402
from oryx_eval.training.model_setup import TINY_VIDEO, TinyDims, initial_model, video_spec  # noqa: E402
from oryx_eval.training.ocr import OcrData, OcrTrainer, ocr_validation  # noqa: E402
from oryx_eval.training.train import TrainConfig  # noqa: E402

HAYSTACK_SEEDS = TrainConfig().haystack_seeds  # train-tiny's training haystack seeds


def ridge_accuracy(x: Tensor, y: Tensor, classes: int, lam: float = 1.0) -> float:
    """Held-out accuracy of a ridge-regression classifier of `x` `(n, d)` -> labels `y` `(n,)`: fit on the
    first 3/4 of the rows (one-hot targets, a bias column), argmax on the last 1/4."""
    n_fit = 3 * x.shape[0] // 4
    xb = torch.cat([x, torch.ones(x.shape[0], 1)], dim=1).double()  # (n, d + 1)
    onehot = F.one_hot(y, classes).double()
    a = xb[:n_fit].T @ xb[:n_fit] + lam * torch.eye(xb.shape[1], dtype=torch.float64)
    w = torch.linalg.solve(a, xb[:n_fit].T @ onehot[:n_fit])  # (d + 1, classes)
    return float(((xb[n_fit:] @ w).argmax(1) == y[n_fit:]).double().mean())


class CodeWords(OcrData):
    """`OcrData` (the OCR stage's captioning examples) for `model` at its video resize."""

    def __init__(self, model: OryxModel, video: dict[str, int]) -> None:
        prompt = load_task(TASKS_DIR / "niah.yaml").prompt
        super().__init__(NiahSource(model.tokenizer, prompt, (224, 224), video_spec(video)), HAYSTACK_SEEDS)
        self.model = model


@torch.no_grad()
def linear_probes(data: CodeWords, n: int, ratio: int, seed: int) -> dict[str, list[float]]:
    """Per character place 0..3: held-out ridge accuracy from the best single visual token, all tokens
    concatenated, and their mean (chance 1/24)."""
    rng = np.random.default_rng(seed)
    exs = [data.example(int(rng.integers(1000, 1200)), int(rng.integers(0, 2**62)), ratio) for _ in range(n)]
    m = data.model
    needle = torch.stack([ex.frames[ex.word_frame] for ex in exs])  # (n, 3, H, W)
    feats, grid = m.vision_tower.forward_frames(needle, m.frame_chunk_size)
    tokens = torch.stack([m.project_video(feats[i : i + 1], grid, ratio) for i in range(n)])  # (n, L, D)
    normed = m.llm.model.layers[0].input_layernorm(tokens)
    out: dict[str, list[float]] = {"best token": [], "all tokens": [], "mean token": []}
    for place in range(4):
        y = torch.tensor([CODE_ALPHABET.index(data.word(ex)[place]) for ex in exs])
        k = len(CODE_ALPHABET)
        out["best token"].append(max(ridge_accuracy(normed[:, j], y, k) for j in range(normed.shape[1])))
        out["all tokens"].append(ridge_accuracy(normed.flatten(1), y, k, lam=10.0))
        out["mean token"].append(ridge_accuracy(normed.mean(1), y, k))
    return out


def ocr_run(
    data: CodeWords,
    steps: int,
    batch: int,
    ratio: int,
    lr: float,
    every: int,
    seed: int,
    vision_lr_scale: float = 0.0,
) -> list[str]:
    """`train-tiny --stage ocr`'s trainer on `data.model` (the vision side at `vision_lr_scale` x `lr`, 0:
    frozen), without writing it; the log lines (step, seconds, batch loss, held-out accuracy)."""
    model = data.model.train()
    trainer = OcrTrainer(model, data, steps, (ratio,), OptimConfig(lr=lr, vision_lr_scale=vision_lr_scale))
    val = ocr_validation(data, 999, 64, (ratio,))
    rng = np.random.default_rng(seed)
    lines, t0 = [f"step 0: held-out per-character {trainer.accuracy(val)['all']:.3f}"], time.perf_counter()
    for step in range(steps):
        log = trainer.step(rng, batch)
        if (step + 1) % every == 0 or step + 1 == steps:
            acc = trainer.accuracy(val)["all"]
            lines.append(
                f"step {step + 1} ({time.perf_counter() - t0:.0f} s): loss {log.loss:.3f}, "
                f"held-out per-character {acc:.3f}"
            )
            print(lines[-1], flush=True)
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-path", default=str(ROOT / "checkpoints" / "oryx-tiny-niah"))
    ap.add_argument("--frames", type=int, default=600, help="code-word frames for the linear probes")
    ap.add_argument("--compression", default="1,4,16")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ocr-steps", type=int, default=0, help="0: the linear probes only")
    ap.add_argument("--ocr-batch", type=int, default=16)
    ap.add_argument("--ocr-lr", type=float, default=1e-3)
    ap.add_argument("--ocr-every", type=int, default=200)
    ap.add_argument("--ocr-compression", type=int, default=1)
    ap.add_argument(
        "--ocr-vision-lr-scale", type=float, default=0.0,
        help="vision side's learning rate / the LLM's (0: frozen; 1.0 kept the LLM at chance, session 22)",
    )  # fmt: skip
    ap.add_argument(
        "--ocr-fresh-llm", type=int, default=None, metavar="SEED",
        help="replace the LLM by a freshly initialised one (train-tiny's initialisation under SEED)",
    )  # fmt: skip
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_oryx(args.model_path, dtype=torch.float32)
    record = Path(args.model_path) / "train_record.json"
    video = dict(TINY_VIDEO)
    if record.is_file():
        video = json.loads(record.read_text()).get("backend_defaults", video)
    data = CodeWords(model, video)
    print(f"{args.model_path}: linear probes on {args.frames} code-word frames (chance {1 / 24:.3f})")
    for ratio in (int(r) for r in args.compression.split(",")):
        res = linear_probes(data, args.frames, ratio, args.seed)
        for name, accs in res.items():
            print(f"  {ratio:>2}x {name:<10} " + " ".join(f"{a:.2f}" for a in accs) + "  (places 1-4)")
    if args.ocr_fresh_llm is not None:
        template = load_task(TASKS_DIR / "niah.yaml").prompt.template
        fresh, _ = initial_model(args.ocr_fresh_llm, TinyDims(), template)
        model.llm.load_state_dict(fresh.llm.state_dict())
    if args.ocr_steps:
        print(
            f"OCR: {args.ocr_steps} steps x {args.ocr_batch} frames "
            f"at {args.ocr_compression}x, lr {args.ocr_lr}"
        )
        ocr_run(
            data,
            args.ocr_steps,
            args.ocr_batch,
            args.ocr_compression,
            args.ocr_lr,
            args.ocr_every,
            args.seed,
            args.ocr_vision_lr_scale,
        )


if __name__ == "__main__":
    main()
