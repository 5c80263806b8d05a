"""Comparison backends end to end through the runner: NIAH (frames handed over) and an MP4 read by PyAV."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from oryx_eval.backends import internvl, llava_onevision, qwen2_vl
from oryx_eval.results import load_run
from oryx_eval.runner import RunOptions, run
from tests.oryx_eval.backends.conftest import BACKEND, small_args

ROOT = Path(__file__).resolve().parents[3]


def _task(tmp: Path, mode: str) -> Path:
    raw = yaml.safe_load((ROOT / "tasks" / "niah.yaml").read_text())
    raw["name"] = f"niah_{mode}"
    raw["dataset"]["args"].update(
        frame_counts=[4, 6], depths=[0.0, 1.0], needles=["shape"], frame_size=[64, 64], mode=mode
    )
    raw["generation"]["max_new_tokens"] = 3
    path = tmp / f"niah_{mode}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _predict(family: str, frames: int, size: tuple[int, int]) -> int:
    a = small_args(family)
    if family.startswith("qwen"):
        return qwen2_vl.visual_tokens("video", size, frames, a["video_min_pixels"], a["video_max_pixels"])
    if family == "llava-onevision":
        return llava_onevision.video_tokens(frames, 4, 2)
    return internvl.visual_tokens("video", size, frames, 56, 4, 1)


def _run(tmp: Path, family: str, ckpt: Path, mode: str, run_id: str):
    opts = RunOptions(
        tasks=[str(_task(tmp, mode))],
        backend=BACKEND[family],
        output_dir=tmp / "out",
        run_id=run_id,
        cache_dir=tmp / "cache",
        limit=3,
        progress=False,
        backend_args={"model_path": str(ckpt), **small_args(family)},
    )
    return run(opts)


@pytest.mark.parametrize("family", list(BACKEND))
def test_niah_frames_end_to_end(tiny_dirs, tmp_path: Path, family: str) -> None:
    first = _run(tmp_path, family, tiny_dirs[family], "frames", "a")
    again = _run(tmp_path, family, tiny_dirs[family], "frames", "b")
    assert len(first.samples) == 3
    for r, r2 in zip(first.samples, again.samples, strict=True):
        assert r.error is None, r.error
        assert r.tokens.visual == _predict(family, r.frames.count, (64, 64)) > 0
        assert (r.output, r.tokens) == (r2.output, r2.tokens)  # deterministic
        assert r.compression_used and "=" in r.compression_used
        assert r.latency_s.vision > 0 and r.latency_s.prefill > 0
    rec = load_run(first.run_dir)
    assert rec.spec["backend"]["name"] == BACKEND[family]
    assert len(rec.spec["backend"]["checkpoint"]["digest"]) == 32


@pytest.mark.parametrize("family", ["qwen2.5-vl", "internvl"])
def test_niah_mp4_through_the_video_reader(tiny_dirs, tmp_path: Path, family: str) -> None:
    res = _run(tmp_path, family, tiny_dirs[family], "video", "v")
    assert res.samples and all(r.error is None for r in res.samples)
    for r in res.samples:
        assert r.frames.count > 0 and r.tokens.visual == _predict(
            family, r.frames.count, tuple(r.frames.size)
        )


def test_backends_do_not_import_transformers_at_startup() -> None:
    code = (
        "import sys; from oryx_eval.plugins import load_builtin; load_builtin(); "
        "from oryx_eval.registry import BACKENDS; assert {'qwen2-vl','llava-onevision','internvl'} <= "
        "set(BACKENDS.names()); print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
