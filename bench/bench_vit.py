"""Benchmark OryxViT's packed attention and chunked frame encoding (random weights).

Prints three tables, every speed figure a ratio against a baseline measured in the same run:
  (a) packed `forward_packed` over a mixed batch of image sizes vs a per-image loop of the same module;
  (b) the `sdpa` varlen path (one SDPA call per segment) vs other torch options: padded batch + key mask,
      one dense block-diagonal mask, and the eager reference;
  (c) peak RSS (VmHWM, the counter behind `ru_maxrss`; one fresh subprocess per setting) or CUDA peak
      memory of `forward_frames` on many frames, chunked vs all at once.

Defaults are a narrow ViT so the whole run takes about 2-3 minutes on a 2-core CPU; `--full` uses the released
SigLIP-so400m/16 dims (width 1152, depth 27). Example: `.venv/bin/python bench/bench_vit.py --repeats 5`.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from model.attention import PackedSeqs, varlen_attention
from model.config import VisionConfig
from model.vit import OryxViT

# mixed image views seen by Oryx: low-res thumbnails (~384^2 area) and a few native-resolution views
DEFAULT_SIZES = "384x384,320x448,224x576,448x320,640x480,256x256,512x768,192x160"


def vision_config(args: argparse.Namespace) -> VisionConfig:
    if args.full:
        return VisionConfig()
    return VisionConfig(width=args.width, depth=args.depth, heads=args.heads, mlp_dim=args.mlp_dim)


def parse_sizes(text: str) -> list[tuple[int, int]]:
    out = []
    for item in text.split(","):
        h, w = item.lower().split("x")
        out.append((int(h), int(w)))
    return out


def time_interleaved(fns: dict[str, Callable[[], object]], repeats: int, sync: Callable[[], None]) -> dict:
    """Median wall time of each fn: one warm-up each, then the fns alternate so noise hits all alike."""
    for fn in fns.values():
        fn()
    sync()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            sync()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def bench_packed(args: argparse.Namespace, cfg: VisionConfig, device: torch.device, sync: Callable) -> None:
    sizes = parse_sizes(args.sizes)
    torch.manual_seed(0)
    vit = OryxViT(cfg, attn_backend="sdpa").to(device).eval()
    images = [torch.randn(3, h, w, device=device) for h, w in sizes]
    grids = [(-(-h // cfg.patch), -(-w // cfg.patch)) for h, w in sizes]
    n_tokens = sum(h * w for h, w in grids)
    padded_tokens = len(grids) * max(h * w for h, w in grids)
    with torch.inference_mode():
        feats, got = vit.forward_packed(images)
        if got != grids or feats.shape[0] != n_tokens:  # packed: exactly sum(h*w) tokens, nothing padded
            raise RuntimeError(f"packed output {tuple(feats.shape)} / grids {got} do not match {grids}")
        times = time_interleaved(
            {
                "loop": lambda: [vit.forward_packed([im]) for im in images],
                "packed": lambda: vit.forward_packed(images),
            },
            args.repeats,
            sync,
        )
    t_loop, t_packed = times["loop"], times["packed"]
    print(f"\n(a) forward_packed vs per-image loop: {len(sizes)} images, {n_tokens} tokens")
    print(
        f"    (a padded batch would hold {padded_tokens} tokens, {padded_tokens / n_tokens:.2f}x; "
        "the packed sequence holds none)"
    )
    print(f"    {'method':<28}{'time ms':>10}{'tokens/s':>12}{'speed vs loop':>16}")
    for name, t in (("per-image loop", t_loop), ("packed (one varlen seq)", t_packed)):
        print(f"    {name:<28}{t * 1e3:>10.1f}{n_tokens / t:>12.0f}{t_loop / t:>15.2f}x")


def attention_variants(seqlens: list[int]) -> dict[str, Callable[..., torch.Tensor]]:
    """Alternatives to the chosen per-segment SDPA path, all on packed (T, H, Dh) q/k/v."""

    def padded(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        n, lmax = len(seqlens), max(seqlens)
        t, h, d = q.shape
        qp, kp, vp = (torch.zeros(n, lmax, h, d, dtype=q.dtype, device=q.device) for _ in range(3))
        mask = torch.zeros(n, 1, 1, lmax, dtype=torch.bool, device=q.device)  # key-padding mask
        for i, (qs, ks, vs) in enumerate(
            zip(q.split(seqlens), k.split(seqlens), v.split(seqlens), strict=True)
        ):
            qp[i, : len(qs)], kp[i, : len(ks)], vp[i, : len(vs)] = qs, ks, vs
            mask[i, ..., : len(qs)] = True
        o = F.scaled_dot_product_attention(qp.transpose(1, 2), kp.transpose(1, 2), vp.transpose(1, 2), mask)
        o = o.transpose(1, 2)  # (n, Lmax, H, Dh)
        return torch.cat([o[i, :s] for i, s in enumerate(seqlens)])

    seg = torch.repeat_interleave(torch.arange(len(seqlens)), torch.tensor(seqlens))

    def dense_mask(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        s = seg.to(q.device)
        mask = s[:, None] == s[None, :]  # (T, T) block-diagonal
        o = F.scaled_dot_product_attention(
            q.transpose(0, 1)[None], k.transpose(0, 1)[None], v.transpose(0, 1)[None], mask
        )
        return o[0].transpose(0, 1)

    return {"padded + key mask": padded, "dense block-diag mask": dense_mask}


def bench_attention(
    args: argparse.Namespace, cfg: VisionConfig, device: torch.device, sync: Callable
) -> None:
    sizes = parse_sizes(args.sizes)
    seqlens = [-(-h // cfg.patch) * -(-w // cfg.patch) for h, w in sizes]
    heads, dh = args.attn_heads, args.attn_head_dim
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(sum(seqlens), heads, dh, generator=g).to(device) for _ in range(3))
    p = PackedSeqs.from_lengths(seqlens, device)

    def run(backend: str) -> Callable[[], torch.Tensor]:
        return lambda: varlen_attention(q, k, v, p.cu_seqlens, p.max_seqlen, backend, p.seqlens)  # type: ignore[arg-type]

    methods: dict[str, Callable[[], torch.Tensor]] = {"sdpa per segment (chosen)": run("sdpa")}
    for name, fn in attention_variants(seqlens).items():
        methods[name] = lambda fn=fn: fn(q, k, v)
    methods["eager per segment"] = run("eager")
    with torch.inference_mode():
        ref = methods["sdpa per segment (chosen)"]()
        times = time_interleaved(methods, args.repeats, sync)
        diffs = {name: (fn() - ref).abs().max().item() for name, fn in methods.items()}
    base = times["sdpa per segment (chosen)"]
    print(
        f"\n(b) packed attention only: T={sum(seqlens)} tokens in {len(seqlens)} segments, H={heads}, Dh={dh}"
    )
    print(f"    {'method':<28}{'time ms':>10}{'chosen is faster by':>22}{'max |diff|':>12}")
    for name, t in times.items():
        print(f"    {name:<28}{t * 1e3:>10.1f}{t / base:>21.2f}x{diffs[name]:>12.1e}")


def peak_rss() -> int:
    """Peak RSS of this process's address space in bytes: `VmHWM` (the counter behind `ru_maxrss`).

    `ru_maxrss` itself is not used: after fork+exec it also holds the parent's RSS at fork time, so in a
    child started by this script it never drops below the parent's footprint.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    print("note: no /proc/self/status VmHWM; using ru_maxrss (includes the parent's RSS)", file=sys.stderr)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak_rss() -> int:
    """Reset the peak RSS to the current RSS (Linux `clear_refs` 5) and return it in bytes.

    Without the reset the peak would still hold set-up transients (weight init, input creation) and hide the
    forward's own peak.
    """
    try:  # hand freed heap pages back first, or the forward could reuse them without raising RSS
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError as exc:
        print(f"note: malloc_trim unavailable ({exc})", file=sys.stderr)
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError as exc:
        print(f"note: cannot reset peak RSS ({exc}); baseline includes set-up peaks", file=sys.stderr)
    return peak_rss()


def mem_child(args: argparse.Namespace) -> None:
    """Runs in a fresh process: encode `frames` frames once, print memory figures as JSON."""
    cfg = vision_config(args)
    device = torch.device(args.device)
    torch.manual_seed(0)
    vit = OryxViT(cfg, attn_backend="sdpa").to(device).eval()
    side = args.frame_size
    frames = torch.randn(args.mem_child, 3, side, side, device=device)
    chunk = args.chunk_size if args.mem_mode == "chunked" else args.mem_child
    with torch.inference_mode():  # one-frame warm-up: library init (oneDNN, thread pools) is not counted
        vit.forward_frames(frames[:1])
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.max_memory_allocated()
    else:
        base = reset_peak_rss()
    t0 = time.perf_counter()
    with torch.inference_mode():
        out, _ = vit.forward_frames(frames, chunk_size=chunk)
    if device.type == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = peak_rss()
    out_bytes = out.numel() * out.element_size()
    print(json.dumps({"base": base, "peak": peak, "out": out_bytes, "s": time.perf_counter() - t0}))


def bench_memory(args: argparse.Namespace) -> None:
    counts = [int(c) for c in args.frame_counts.split(",")]
    what = "CUDA max_memory_allocated" if args.device.startswith("cuda") else "peak RSS (VmHWM = ru_maxrss)"
    tokens = (args.frame_size // 16) ** 2
    print(
        f"\n(c) forward_frames memory, {args.frame_size}x{args.frame_size} frames "
        f"({tokens} tokens each), {what}"
    )
    print("    extra = peak RSS during forward_frames - RSS before it (inputs and weights already resident);")
    print("    working = extra - the (T, h*w, C) output itself")
    print(f"    {'frames':>7}{'mode':>14}{'extra MiB':>11}{'output MiB':>12}{'working MiB':>13}{'time s':>8}")
    passthrough = sys.argv[1:]  # the child ignores the table options
    for count in counts:
        for mode in ("chunked", "all-at-once"):
            cmd = [sys.executable, __file__, *passthrough, "--mem-child", str(count), "--mem-mode", mode]
            res = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if res.returncode != 0:
                print(f"    {count:>7}{mode:>14}  failed (rc {res.returncode}): {res.stderr.strip()[-300:]}")
                continue
            r = json.loads(res.stdout.strip().splitlines()[-1])
            extra = (r["peak"] - r["base"]) / 2**20
            out = r["out"] / 2**20
            label = f"{mode}" if mode != "chunked" else f"chunk {args.chunk_size}"
            print(f"    {count:>7}{label:>14}{extra:>11.0f}{out:>12.0f}{extra - out:>13.0f}{r['s']:>8.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="released ViT dims (width 1152, depth 27, 16 heads)")
    ap.add_argument("--width", type=int, default=192)
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--heads", type=int, default=3)
    ap.add_argument("--mlp-dim", type=int, default=768)
    ap.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated HxW image sizes for (a) and (b)")
    ap.add_argument("--attn-heads", type=int, default=16, help="(b) heads (released ViT: 16)")
    ap.add_argument("--attn-head-dim", type=int, default=72, help="(b) head dim (released ViT: 72)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--frame-counts", default="64,400,1600")
    ap.add_argument("--frame-size", type=int, default=256, help="square frame side for (c)")
    ap.add_argument("--chunk-size", type=int, default=64)
    ap.add_argument("--sections", default="a,b,c", help="which tables to print")
    ap.add_argument("--mem-child", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--mem-mode", default="chunked", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.mem_child:
        mem_child(args)
        return
    device = torch.device(args.device)
    cfg = vision_config(args)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    print(
        f"OryxViT bench: width {cfg.width}, depth {cfg.depth}, heads {cfg.heads}, mlp {cfg.mlp_dim}, "
        f"patch {cfg.patch}, pos grid {cfg.pos_grid}; device {device}, "
        f"torch threads {torch.get_num_threads()}, "
        f"fp32, median of {args.repeats}"
    )
    sections = set(args.sections.split(","))
    if "a" in sections:
        bench_packed(args, cfg, device, sync)
    if "b" in sections:
        bench_attention(args, cfg, device, sync)
    if "c" in sections:
        bench_memory(args)


if __name__ == "__main__":
    main()
