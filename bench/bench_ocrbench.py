"""OCRBench / ScanQA scoring costs.

1. OCRBench-sized images (mixed sizes up to 2,000 px, text drawn with Pillow) through Oryx's image path on
   the tiny checkpoint: JPEG decode, preprocessing (Pillow bicubic resizes of the two views + tensor
   conversion) and the packed ViT + projector (``OryxModel.encode``). Prints images/s and the share of
   time in Pillow resizing vs the model.
2. pycocoevalcap scoring of ``--answers`` ScanQA-like answers (default 4,675, the val size): the harness's
   ``CocoScorer`` (one tokenizer call, one METEOR JVM) vs the official call pattern of
   ``ATR-DBI/ScanQA:scripts/score.py::eval_pycoco`` (two tokenizer calls, a fresh METEOR), measured in the
   same run, plus the JVM start cost that a per-sample call pattern would pay.

    python bench/bench_ocrbench.py --images 32 --answers 4675
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = (
    "chair table brown white left right two three wall window door bed lamp sofa desk shelf black "
    "wooden corner kitchen sink floor under next to on the of blue small large round"
).split()


def make_images(root: Path, n: int, max_side: int, seed: int) -> list[Path]:
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        w, h = (int(v) for v in rng.integers(32, max_side + 1, size=2))
        img = Image.new("RGB", (w, h), tuple(int(c) for c in rng.integers(180, 255, size=3)))
        font = ImageFont.load_default(size=max(10, min(w, h) // 6))
        ImageDraw.Draw(img).text((4, h // 3), " ".join(rng.choice(WORDS, 3)), fill=(10, 10, 10), font=font)
        p = root / f"img{i:03d}.jpg"
        img.save(p, quality=90)
        out.append(p)
    return out


def bench_images(n: int, max_side: int, repeats: int) -> None:
    import torch

    import model as oryx
    from model.preprocess import _resize, image_view_sizes, tiny_upscale_size
    from oryx_eval.media.image import load_image

    torch.set_num_threads(max(1, torch.get_num_threads()))
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_images(Path(tmp), n, max_side, seed=0)
        m = oryx.load_oryx(oryx.tiny_checkpoint(Path(tmp) / "ckpt"), dtype=torch.float32, device="cpu")
        spec = oryx.ImageResize()
        m.encode(oryx.ImageMedia(load_image(paths[0])), image_spec=spec)  # warm-up
        t = {"decode": 0.0, "resize": 0.0, "preprocess": 0.0, "vision": 0.0, "compress": 0.0}
        tokens = 0
        t_all = time.perf_counter()
        for _ in range(repeats):
            for p in paths:
                t0 = time.perf_counter()
                img = load_image(p)
                t["decode"] += time.perf_counter() - t0
                t0 = time.perf_counter()  # the three Pillow resizes of preprocess_image, alone
                w, h = img.size
                low_wh, high_wh = image_view_sizes(w, h, spec)
                _resize(_resize(_resize(img, tiny_upscale_size(w, h, spec)), high_wh), low_wh)
                t["resize"] += time.perf_counter() - t0
                seq = m.encode(oryx.ImageMedia(img), image_spec=spec)
                t["preprocess"] += seq.timings.preprocess
                t["vision"] += seq.timings.vision
                t["compress"] += seq.timings.compress
                tokens += seq.visual
        wall = time.perf_counter() - t_all - t["resize"]  # the extra resize pass is not part of the pipeline
        k = n * repeats
        model_s = t["vision"] + t["compress"]
        pipe = t["decode"] + t["preprocess"] + model_s
        print(f"[images] {k} images (32..{max_side} px), tiny Oryx, CPU, {torch.get_num_threads()} threads")
        print(f"  images/s (decode+preprocess+ViT+projector): {k / wall:.2f}; tokens/image {tokens / k:.0f}")
        for name, v in (
            ("JPEG decode", t["decode"]),
            ("preprocess (resize + to_tensor)", t["preprocess"]),
            ("  of which Pillow resizes", t["resize"]),
            ("ViT + compressor/projector", model_s),
        ):
            print(f"  {name:34s} {v / k * 1000:8.1f} ms/image  {v / pipe:6.1%} of pipeline")  # fmt: skip
        print(f"  Pillow resize / model time ratio: {t['resize'] / model_s:.2f}")


def _corpus(n: int, seed: int) -> tuple[list[list[str]], list[str]]:
    rng = np.random.default_rng(seed)
    refs = [[" ".join(rng.choice(WORDS, int(rng.integers(1, 4)))) for _ in range(int(rng.integers(1, 3)))]
            for _ in range(n)]  # fmt: skip
    hyps = [
        r[0] if rng.random() < 0.3 else " ".join(rng.choice(WORDS, int(rng.integers(1, 4)))) for r in refs
    ]
    return refs, hyps


def bench_coco(n: int) -> None:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    from oryx_eval.benchmarks.scanqa.coco import CocoScorer

    if shutil.which("java") is None:
        print("[coco] not computed: java missing")
        return
    refs, hyps = _corpus(n, seed=1)
    t0 = time.perf_counter()  # baseline: the official call pattern
    tok = PTBTokenizer()
    gts = tok.tokenize({i: [{"caption": c} for c in r] for i, r in enumerate(refs)})
    res = tok.tokenize({i: [{"caption": h}] for i, h in enumerate(hyps)})
    t_tok = time.perf_counter() - t0
    official = {}
    for scorer, name in ((Bleu(4), "bleu"), (Meteor(), "meteor"), (Rouge(), "rouge"), (Cider(), "cider")):
        s0 = time.perf_counter()
        official[name] = (scorer.compute_score(gts, res, verbose=0) if name == "bleu"
                          else scorer.compute_score(gts, res))[0]  # fmt: skip
        official[name + "_s"] = time.perf_counter() - s0
    t_official = time.perf_counter() - t0
    ours = CocoScorer()
    t1 = time.perf_counter()
    got = ours.scores(refs, hyps)
    t_ours = time.perf_counter() - t1
    t2 = time.perf_counter()
    again = ours.scores(refs[: n // 2], hyps[: n // 2])  # a breakdown-sized subset: no new JVM
    t_sub = time.perf_counter() - t2
    t3 = time.perf_counter()
    PTBTokenizer().tokenize({0: [{"caption": "a chair"}]})  # one JVM start + jar load for one sentence
    jvm = time.perf_counter() - t3
    ours.close()
    assert abs(got["cider"] - 100 * official["cider"]) < 1e-6, (got["cider"], official["cider"])
    print(f"[coco] {n} answers, pycocoevalcap 1.2")
    o = official
    print(f"  official pattern (2 tokenizer JVMs + fresh METEOR): {t_official:.1f} s (tokenize {t_tok:.1f} s,"
          f" BLEU {o['bleu_s']:.2f}, METEOR {o['meteor_s']:.1f}, ROUGE {o['rouge_s']:.2f},"
          f" CIDEr {o['cider_s']:.2f})")  # fmt: skip
    print(
        f"  harness CocoScorer (1 tokenizer JVM + 1 METEOR JVM): {t_ours:.1f} s = {t_ours / t_official:.2f}x "
        f"the official pattern; a half-size breakdown next: {t_sub:.2f} s (JVM starts {ours.jvm_starts})"
    )
    print(f"  one tokenizer JVM start: {jvm:.1f} s -> one call per sample would cost ~{jvm * n / 60:.0f} min")
    print(f"  CIDEr {got['cider']:.2f} (matches the official pattern), subset CIDEr {again['cider']:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=32)
    ap.add_argument("--max-side", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--answers", type=int, default=4675)
    ap.add_argument("--skip-images", action="store_true")
    ap.add_argument("--skip-coco", action="store_true")
    a = ap.parse_args()
    if not a.skip_images:
        bench_images(a.images, a.max_side, a.repeats)
    if not a.skip_coco:
        bench_coco(a.answers)


if __name__ == "__main__":
    main()
