"""End to end through the runner: NIAH grid with the oracle/blind test backends and the tiny Oryx."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from oryx_eval.results import load_run
from oryx_eval.runner import RunOptions, run

ROOT = Path(__file__).resolve().parents[2]


def _small_niah(tmp: Path, mode: str, name: str, **over) -> Path:
    raw = yaml.safe_load((ROOT / "tasks" / "niah.yaml").read_text())
    raw["name"] = name
    raw["dataset"]["args"].update(
        frame_counts=[4, 8], depths=[0.0, 0.5, 1.0], frame_size=[64, 64], mode=mode, **over
    )
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _opts(task: Path, tmp: Path, backend: str, **kw) -> RunOptions:
    return RunOptions(
        tasks=[str(task)],
        backend=backend,
        output_dir=tmp / "out",
        run_id=backend,
        cache_dir=tmp / "cache",
        **kw,
    )


@pytest.mark.parametrize("mode", ["frames", "video"])
def test_oracle_scores_100_through_the_runner(tmp_path: Path, mode: str) -> None:
    task = _small_niah(tmp_path, mode, "niah_small", marker=True)  # the oracle's channel
    res = run(_opts(task, tmp_path, "test-oracle", compressions=["4", "16"]))
    assert len(res.samples) == 2 * 3 * 4 * 2 and all(r.error is None for r in res.samples)
    assert all(r.score == 1.0 for r in res.samples)
    rec = load_run(res.run_dir)
    assert {p for p in rec.reports} >= {"all_accuracies_c4.json", "heatmap.png", "heatmap.svg"}
    if mode == "video":  # the real reader sampled every frame of the MP4, needles included
        r = res.samples[0]
        assert r.frames.indices == list(range(r.frames.source_frames))


def test_shipped_niah_tasks_hide_the_answer_marker(tmp_path: Path) -> None:
    """Real-model tasks never paint the answer marker: the oracle finds nothing to read."""
    for name in ("niah", "niah_long", "niah_video"):
        raw = yaml.safe_load((ROOT / "tasks" / f"{name}.yaml").read_text())
        assert raw["dataset"]["args"]["marker"] is False
    task = _small_niah(tmp_path, "frames", "niah_nomarker")
    res = run(_opts(task, tmp_path, "test-oracle", limit=6))
    assert {r.output for r in res.samples} == {"no marker"} and all(r.extracted is None for r in res.samples)


def test_blind_backend_is_near_chance(tmp_path: Path) -> None:
    task = _small_niah(tmp_path, "frames", "niah_blind", per_cell=10)
    res = run(_opts(task, tmp_path, "test-blind"))
    acc = sum(r.score for r in res.samples) / len(res.samples)  # 240 samples, sd ~0.028
    assert 0.25 - 4 * 0.028 < acc < 0.25 + 4 * 0.028


def test_tiny_oryx_pipeline(tmp_path: Path) -> None:
    """The real loader + model on the tiny checkpoint: token counts match the predictor, auto resolves."""
    from model import VideoResize, count_visual_tokens, video_frame_size

    task = _small_niah(tmp_path, "frames", "niah_tiny")
    res = run(_opts(task, tmp_path, "oryx-tiny-random", compressions=["4", "16", "auto"], limit=4))
    assert len(res.samples) == 12 and all(r.error is None for r in res.samples), res.samples[0].error
    rec = load_run(res.run_dir)
    assert rec.spec["backend"]["random_weights"] is True and any("NOT Oryx" in n for n in rec.notes)
    for r in res.samples:
        used = int(r.compression_used)
        assert r.compression == "auto" or used == int(r.compression)
        want = count_visual_tokens(
            "video", (64, 64), frames=r.frames.count, compression=used, video_spec=VideoResize()
        )
        assert r.tokens.visual == want
        assert r.frames.size == (64, 64) and r.frames.model_size == video_frame_size(
            64, 64, VideoResize(), used
        )
        assert r.tokens.visual_raw > r.tokens.visual if used > 1 else r.tokens.visual_raw < r.tokens.visual
        assert r.latency_s.prefill > 0 and r.tokens.output > 0
    auto = [r for r in res.samples if r.compression == "auto"]
    assert {r.compression_used for r in auto} == {"1"}  # a few small frames fit the default budget at 1x
