"""Prefix reuse: several questions about one video with `generate_shared` vs independent `generate` calls.

The shared path encodes the video once and prefills the shared prefix (system turn + visual tokens) once,
then answers each question from a copy of the KV cache. Both paths run greedy decoding; the script checks
that the answers are identical and prints the wall time of each (median over interleaved repeats) and the
ratio. Presets: `tiny` (the tiny checkpoint as written by model/tiny.py) and `mid` (a random-init model whose
LLM is large enough that prefill dominates). Example:

    python bench/bench_prefix.py --preset mid --frames 64 --questions 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model import GenerationConfig, OryxModel, VideoMedia, count_visual_tokens, load_oryx  # noqa: E402
from model.config import OryxConfig  # noqa: E402
from model.tiny import write_tiny_checkpoint  # noqa: E402

QUESTIONS = [
    "What color is the ball in the video?",
    "How many people appear in the first frame?",
    "Describe the scene in detail.",
    "Which object appears after the car leaves the street?",
    "Is the person in the video happy or sad?",
]


def build(preset: str, ckpt: Path, hidden: int, layers: int, device: str, dtype: torch.dtype) -> OryxModel:
    """The tiny checkpoint, or a random `mid` model sharing its tokenizer with a bigger LLM."""
    tiny = load_oryx(ckpt, dtype=dtype, device=device)
    if preset == "tiny":
        return tiny
    cfg = json.loads((ckpt / "config.json").read_text())
    heads = max(1, hidden // 64)
    cfg |= {
        "hidden_size": hidden,
        "intermediate_size": 4 * hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": max(1, heads // 2),
        "max_window_layers": layers,
    }
    torch.manual_seed(0)
    m = OryxModel(OryxConfig.from_hf_dict(cfg), tiny.tokenizer)
    return m.to(device=device, dtype=dtype).eval().requires_grad_(False)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", choices=["tiny", "mid"], default="mid")
    p.add_argument("--frames", type=int, default=64)
    p.add_argument("--size", default="320x240", help="source frame WxH")
    p.add_argument("--compression", type=int, default=4, choices=[1, 4, 16])
    p.add_argument("--questions", type=int, default=3)
    p.add_argument("--max-new-tokens", type=int, default=8)
    p.add_argument("--hidden", type=int, default=256, help="mid preset: LLM hidden size")
    p.add_argument("--layers", type=int, default=4, help="mid preset: LLM layers")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    a = p.parse_args()
    if not 1 <= a.questions <= len(QUESTIONS):
        p.error(f"--questions must be in 1..{len(QUESTIONS)}")
    w, h = (int(x) for x in a.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        m = build(
            a.preset,
            write_tiny_checkpoint(Path(tmp) / "tiny"),
            a.hidden,
            a.layers,
            a.device,
            getattr(torch, a.dtype),
        )
    frames = np.random.default_rng(0).integers(0, 256, size=(a.frames, h, w, 3), dtype=np.uint8)
    media, qs = VideoMedia(frames), QUESTIONS[: a.questions]
    gen = GenerationConfig(max_new_tokens=a.max_new_tokens)
    n_vis = count_visual_tokens("video", (w, h), frames=a.frames, compression=a.compression)
    n_llm = sum(p.numel() for p in m.llm.parameters())
    print(
        f"preset={a.preset} device={a.device} dtype={a.dtype} llm_params={n_llm / 1e6:.1f}M "
        f"frames={a.frames} size={w}x{h} compression={a.compression}x visual_tokens={n_vis} "
        f"questions={len(qs)} max_new_tokens={a.max_new_tokens} threads={torch.get_num_threads()}"
    )
    m.generate(qs[0], media, a.compression, GenerationConfig(max_new_tokens=2))  # warm-up
    t_ind, t_sh = [], []
    for _ in range(a.repeats):  # interleaved so machine noise hits both paths alike
        t0 = time.perf_counter()
        alone = [m.generate(q, media, a.compression, gen) for q in qs]
        t1 = time.perf_counter()
        shared = m.generate_shared(media, qs, a.compression, gen)
        t2 = time.perf_counter()
        t_ind.append(t1 - t0)
        t_sh.append(t2 - t1)
        if [o.token_ids for o in alone] != [o.token_ids for o in shared]:
            print("MISMATCH: shared-prefix outputs differ from independent generate")
            for o1, o2 in zip(alone, shared, strict=True):
                print("  independent", o1.token_ids, "shared", o2.token_ids)
            sys.exit(1)
    ind, sh = statistics.median(t_ind), statistics.median(t_sh)
    stages = shared[0].timings
    print(f"independent generate x{len(qs)}: {ind:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in t_ind)})")
    print(f"generate_shared:          {sh:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in t_sh)})")
    print(f"speed-up (independent / shared): {ind / sh:.2f}x   outputs identical: yes")
    print(
        f"independent, one question: prefill {alone[0].timings.prefill:.3f} s, vision "
        f"{alone[0].timings.vision:.3f} s, decode {alone[0].timings.decode:.3f} s; shared per question "
        f"(amortised): prefill {stages.prefill:.3f} s, vision {stages.vision:.3f} s"
    )


if __name__ == "__main__":
    main()
