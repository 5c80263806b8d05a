"""Per-sample latency accounting (issue 6 item 13) and frame-cache identity (item 14)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import oryx_eval.runner as runner_mod
from oryx_eval.runner import RunOptions, run
from tests.oryx_eval.fixtures import make_task


def _opts(task: Path, out: Path, run_id: str, **kw) -> RunOptions:
    base = dict(tasks=[str(task)], output_dir=out, run_id=run_id, cache_dir=out / "cache", progress=False)
    base.update(kw)
    return RunOptions(**base)


def test_decode_is_charged_once_per_media_over_every_sample_and_setting(tmp_path: Path, monkeypatch) -> None:
    task = make_task(tmp_path / "t", n_videos=4, questions_per_video=3, bad=False)
    decodes: list[float] = []
    real = runner_mod.load_media

    def spy(*a, **kw):
        m = real(*a, **kw)
        decodes.append(m.decode_s)
        return m

    monkeypatch.setattr(runner_mod, "load_media", spy)
    res = run(_opts(task, tmp_path / "out", "lat", backend="test-fixed-cost",
                    backend_args={"cost_s": 0.002}, compressions=["4", "16"]))  # fmt: skip
    assert len(decodes) == 4 and len(res.samples) == 4 * 3 * 2  # each video decoded once for both settings
    assert sum(r.latency_s.decode for r in res.samples) == pytest.approx(sum(decodes))
    for r in res.samples:  # every sample of a video carries the same share
        same = [x.latency_s.decode for x in res.samples if x.metadata == r.metadata and x.prompt == r.prompt]
        assert r.latency_s.decode == pytest.approx(same[0])
    model = sum(r.latency_s.total - r.latency_s.decode for r in res.samples)
    assert model >= 24 * 0.002
    stats = {s["compression"]: s for s in res.record.stats}
    assert stats["4"]["latency_s"]["model_p50"] < stats["4"]["latency_s"]["p50"]
    assert stats["4"]["latency_s"]["mean"]["decode"] == pytest.approx(
        stats["16"]["latency_s"]["mean"]["decode"]
    )


def test_content_identity_notices_a_replaced_file_with_the_same_size_and_mtime(tmp_path: Path) -> None:
    task = make_task(tmp_path / "t", n_videos=1, questions_per_video=1, bad=False)
    video = tmp_path / "t" / "videos" / "v0.mp4"
    out = tmp_path / "out"
    common = dict(backend="test-blind", disk_frame_cache=True, frame_cache_gb=0.0, max_failures="100%")
    for ident in ("stat", "content"):
        run(_opts(task, out, f"warm-{ident}", frame_cache_identity=ident, **common))
    st = video.stat()
    data = bytearray(video.read_bytes())
    for i in range(len(data) * 3 // 5, len(data) * 3 // 5 + 16):
        data[i] ^= 0x5A  # new content, same size; the mtime is restored below
    video.write_bytes(bytes(data))
    os.utime(video, ns=(st.st_atime_ns, st.st_mtime_ns))
    stale = run(_opts(task, out, "stat", frame_cache_identity="stat", **common)).samples[0]
    fresh = run(_opts(task, out, "content", frame_cache_identity="content", **common)).samples[0]
    assert stale.frames.source == "disk"  # stat identity cannot tell the files apart: stale frames served
    assert fresh.frames.source == "decoded" or fresh.error_kind == "media"  # content identity re-reads it
