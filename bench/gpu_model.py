"""The paper model of Oryx-7B's GPU cost per sample and per benchmark, computed from the real configs.

Prints markdown tables (docs/gpu.md holds their output):
  1. one video question at 16/32/64/128 frames and 1x/4x/16x: ViT, compressor, projector and prefill FLOPs,
     visual tokens, KV-cache bytes, and the time at the bf16 matmul ceiling;
  2. decode: bytes per token and the bandwidth-bound time per token;
  3. per benchmark on one GPU: FLOP + bytes bound (shared prefixes), and the CPU cores of media decode
     needed to keep that GPU busy.

Ceilings default to what KINDS.md records for the H200 here (788 TFLOP/s bf16 matmul on random data,
4.3 TB/s device copy); decode costs default to environment.md §4 (PyAV keyframe-aware sampling of 64
frames from a 10-min 720p30 H.264 video on 2 vCPUs: 3.7 s with 2-s keyframes, 9.8 s with x264's
default 250-frame keyframes; x2 for core-seconds). Every assumption is a flag, printed with the tables.

    python bench/gpu_model.py [--peak-tflops 788] [--bandwidth-gbs 4300]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from flops import LLMDims, decode_bytes, image_cost, kv_bytes, shared_video_flops, video_cost  # noqa: E402
from oryx7b import oryx_config  # noqa: E402

# benchmark -> (questions, videos or images, frames, kind); video counts from shared/reference/benchmarks.md
BENCHMARKS = {
    "VideoMME": (2700, 900, 64, "video"),
    "MLVU dev (MC)": (2174, 1242, 64, "video"),
    "LongVideoBench val": (1337, 1337, 64, "video"),  # video count not in the reference: 1 question each
    "OCRBench": (1000, 1000, 0, "image"),
}


def md(header: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(r) + " |" for r in rows]


def per_sample_table(a: argparse.Namespace) -> list[str]:
    cfg = oryx_config()
    head = [
        "frames",
        "ratio",
        "frame",
        "ViT tokens",
        "visual tokens",
        "ViT TFLOP",
        "compressor GFLOP",
        "projector TFLOP",
        "prefill TFLOP",
        "total TFLOP",
        "KV cache MiB",
        "ms at peak",
    ]
    rows = []
    for frames in (16, 32, 64, 128):
        for ratio in (1, 4, 16):
            c = video_cost(cfg, frames, ratio, a.source_wh, a.text_tokens)
            over = c.visual_tokens + a.text_tokens > cfg.max_length
            vis = f"{c.visual_tokens:,}" + (f" (over max_length {cfg.max_length})" if over else "")
            ms = c.total / (a.peak_tflops * 1e12) * 1e3
            rows.append(
                [
                    str(frames),
                    f"{ratio}x",
                    f"{c.frame_wh[0]}x{c.frame_wh[1]}",
                    f"{c.vit_tokens:,}",
                    vis,
                    f"{c.vit / 1e12:.1f}",
                    f"{c.compressor / 1e9:.0f}",
                    f"{c.projector / 1e12:.2f}",
                    f"{c.prefill / 1e12:.1f}",
                    f"{c.total / 1e12:.1f}",
                    f"{c.kv_bytes / 2**20:,.0f}",
                    f"{ms:.0f}",
                ]
            )
    return md(head, rows)


def decode_table(a: argparse.Namespace) -> list[str]:
    d = LLMDims.of(oryx_config().llm)
    rows = []
    for ctx in (1_000, 3_500, 13_586, 32_768):
        by = decode_bytes(d, ctx)
        ms = by / (a.bandwidth_gbs * 1e9) * 1e3
        rows.append([f"{ctx:,}", f"{by / 1e9:.2f} GB", f"{kv_bytes(d, ctx) / by:.0%}", f"{ms:.2f}"])
    return md(
        ["context tokens", "bytes per token (weights + KV)", "KV share", "ms per token at bandwidth"], rows
    )


def benchmark_table(a: argparse.Namespace) -> list[str]:
    cfg = oryx_config()
    peak, bw = a.peak_tflops * 1e12, a.bandwidth_gbs * 1e9
    head = [
        "benchmark",
        "questions",
        "media",
        "FLOPs per item (shared prefix)",
        "GPU s per item at bound",
        "GPU min at bound",
        "decode core-s per item (2-s / 8-s keyframes)",
        "cores per GPU at bound",
        "cores per GPU at 40% of bound",
    ]
    rows = []
    for name, (q, items, frames, kind) in BENCHMARKS.items():
        if kind == "video":
            c = video_cost(cfg, frames, 4, a.source_wh, 0)
            core_s = a.decode_core_s
        else:
            c = image_cost(cfg, a.image_wh, 0)
            core_s = (0.02, 0.02)  # one JPEG/PNG decode
        fl, by = shared_video_flops(cfg, c, round(q / items), a.question_tokens, a.answer_tokens)
        s = fl / peak + by / bw
        rows.append(
            [
                name,
                f"{q:,}",
                f"{items:,} {kind}s",
                f"{fl / 1e12:.0f} T",
                f"{s:.3f}",
                f"{items * s / 60:.1f}",
                f"{core_s[0]:.2g} / {core_s[1]:.2g}",
                f"{core_s[0] / s:.0f} / {core_s[1] / s:.0f}",
                f"{core_s[0] / (s / 0.4):.0f} / {core_s[1] / (s / 0.4):.0f}",
            ]
        )
    return md(head, rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peak-tflops", type=float, default=788.0, help="bf16 matmul ceiling (KINDS.md)")
    ap.add_argument("--bandwidth-gbs", type=float, default=4300.0, help="device copy ceiling (KINDS.md)")
    ap.add_argument("--source", default="1280x720", help="video frame size before Oryx's resize, WxH")
    ap.add_argument("--image", default="1024x768", help="OCRBench-like image size, WxH")
    ap.add_argument("--text-tokens", type=int, default=80, help="system + question + options, one sample")
    ap.add_argument("--question-tokens", type=int, default=60, help="each question's own tokens")
    ap.add_argument("--answer-tokens", type=int, default=2, help="letter + stop token")
    ap.add_argument("--decode-core-s", default="7.4,19.6", help="core-s per 64-frame decode, 2 values")
    a = ap.parse_args()
    a.source_wh = tuple(int(v) for v in a.source.split("x"))
    a.image_wh = tuple(int(v) for v in a.image.split("x"))
    a.decode_core_s = tuple(float(v) for v in a.decode_core_s.split(","))
    print(
        f"Oryx-7B (Qwen2-7B + SigLIP-so400m/16 OryxViT), bf16; peak {a.peak_tflops:g} TFLOP/s, bandwidth "
        f"{a.bandwidth_gbs:g} GB/s; video source {a.source}, {a.text_tokens} text tokens per question\n"
    )
    print("One video question (no prefix sharing):\n")
    print("\n".join(per_sample_table(a)))
    print("\nDecode (memory-bound; weights read once per token):\n")
    print("\n".join(decode_table(a)))
    print(
        f"\nPer benchmark, one GPU (4x, {a.answer_tokens} answer tokens, {a.question_tokens} per question):\n"
    )
    print("\n".join(benchmark_table(a)))


if __name__ == "__main__":
    main()
