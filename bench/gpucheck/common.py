"""Shapes, time budget, timing and the measured ceilings shared by the GPU check's sections."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch


@dataclass(frozen=True)
class Shapes:
    """Every size the check uses; `full()` is Oryx-7B on VideoMME, `dry()` the CPU stand-in."""

    tiny: bool  # tiny model dims (dry run) instead of Oryx-7B's
    source_wh: tuple[int, int] = (1280, 720)  # video frames before Oryx's resize (-> 640x320)
    frames: int = 64
    image_sizes: tuple[tuple[int, int], ...] = (
        (1024, 768),
        (2048, 2048),
        (640, 480),
        (1280, 720),
        (800, 1200),
    )
    text_tokens: int = 80  # question + options + system turn (VideoMME-like, Qwen2 tokenizer estimate)
    decode_steps: int = 32
    questions: int = 3
    answer_tokens: int = 4  # a real model answers VideoMME with a letter and the stop token
    matmul_n: int = 8192
    copy_bytes: int = 1 << 31
    repeats: int = 5
    workers: tuple[int, ...] = (1, 4, 8, 12)
    harness_videos: int = 16
    pytest_paths: tuple[str, ...] = ("tests",)

    @classmethod
    def full(cls) -> Shapes:
        return cls(tiny=False)

    @classmethod
    def dry(cls) -> Shapes:
        return cls(
            tiny=True,
            source_wh=(320, 180),
            frames=2,
            image_sizes=((96, 64),),
            text_tokens=40,
            decode_steps=2,
            answer_tokens=2,
            matmul_n=128,
            copy_bytes=1 << 20,
            repeats=1,
            workers=(1, 2),
            harness_videos=2,
            pytest_paths=("tests/model/test_attention.py",),
        )

    def record(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Budget:
    """Wall-clock budget of the whole check; sections that would start too late are skipped."""

    seconds: float
    start: float = field(default_factory=time.perf_counter)

    def left(self) -> float:
        return self.seconds - (time.perf_counter() - self.start)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_fn(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int = 1) -> dict[str, Any]:
    """Median wall seconds of `fn` (device-synchronised), after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(times), "runs_s": [round(t, 6) for t in times]}


def rate(flops: float, seconds: float, peak: float | None) -> dict[str, Any]:
    """Achieved TFLOP/s and its fraction of the measured bf16 matmul peak."""
    tf = flops / seconds / 1e12 if seconds > 0 else float("nan")
    return {"tflops": tf, "of_peak": (tf / peak) if peak else None}


def ceilings(device: torch.device, dtype: torch.dtype, shapes: Shapes) -> dict[str, Any]:
    """The two ceilings of METHOD.md, measured here: a large bf16 matmul and a device-to-device copy.

    Random operands (zeros run faster), three different pairs rotated so no repeat hits a cache.
    """
    n = shapes.matmul_n
    g = torch.Generator(device=device).manual_seed(0)
    pairs = [
        (
            torch.randn(n, n, device=device, dtype=dtype, generator=g),
            torch.randn(n, n, device=device, dtype=dtype, generator=g),
        )
        for _ in range(3)
    ]
    it = iter(range(10**9))
    mm = time_fn(lambda: torch.mm(*pairs[next(it) % 3]), device, repeats=max(3, 4 * shapes.repeats), warmup=3)
    flops = 2.0 * n**3
    src = torch.randn(shapes.copy_bytes // 4, device=device, dtype=torch.float32, generator=g)
    dst = torch.empty_like(src)
    cp = time_fn(lambda: dst.copy_(src), device, repeats=max(3, 2 * shapes.repeats), warmup=2)
    moved = 2 * src.numel() * src.element_size()  # read + write
    return {
        "matmul": {"n": n, "dtype": str(dtype), **mm, "tflops": flops / mm["median_s"] / 1e12},
        "copy": {"bytes_read_plus_written": moved, **cp, "gb_s": moved / cp["median_s"] / 1e9},
        "peak_tflops": flops / mm["median_s"] / 1e12,
        "bandwidth_gb_s": moved / cp["median_s"] / 1e9,
    }


def free(device: torch.device) -> None:
    """Release cached device memory between sections."""
    import gc

    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
