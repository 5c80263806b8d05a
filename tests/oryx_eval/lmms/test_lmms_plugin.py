"""The lmms-eval plugin, end to end through the real ``lmms-eval`` CLI (skipped without lmms-eval).

Needs the ``[lmms]`` extra installed as README describes (torch pinned, torchvision removed). Runs the
tiny random-weight checkpoint on a local ``--include_path`` task over fixture videos: a pipeline
check, never an accuracy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oryx_eval.lmms_results import read_lmms_eval
from tests.oryx_eval.lmms.lmms_fixture import TASK, make_lmms_task

lmms_eval = pytest.importorskip(
    "lmms_eval.api.model", reason="lmms-eval is not installed (pip install -e '.[lmms]', see README)"
)


def test_lmms_eval_runs_oryx_through_the_entry_point(tmp_path: Path) -> None:
    from model import write_tiny_checkpoint

    ckpt = write_tiny_checkpoint(tmp_path / "tiny", seed=0)
    include, n_docs = make_lmms_task(tmp_path / "task", n_videos=2, per_video=2)
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    cmd = [
        sys.executable, "-m", "lmms_eval", "--model", "oryx_eval",
        "--model_args", f"pretrained={ckpt},compression=4,frames=8,device=cpu,log_dir={out}",
        "--tasks", TASK, "--include_path", str(include), "--output_path", str(out), "--log_samples",
        "--verbosity", "DEBUG",  # lmms-eval exits 0 on evaluation errors unless DEBUG
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = list(out.rglob("*_results.json"))
    assert len(results) == 1, proc.stderr[-4000:]
    data = json.loads(results[0].read_text())
    assert data["n-samples"][TASK]["effective"] == n_docs
    assert "oryx_eval.lmms_plugin.OryxEvalLMM" in data["config"]["model_backend"]
    samples = [json.loads(x) for x in next(out.rglob(f"*_samples_{TASK}.jsonl")).read_text().splitlines()]
    assert len(samples) == n_docs and all(s["token_counts"][0]["input_tokens"] > 0 for s in samples)
    ours = [json.loads(x) for x in (out / "oryx_samples.jsonl").read_text().splitlines()]
    assert len(ours) == n_docs and all(r["error"] is None for r in ours)
    assert all(r["frames"]["count"] == 8 and r["tokens"]["visual"] > 0 for r in ours)
    # two questions per video: the second reuses the first's encoding (prefix sharing, split evenly)
    assert ours[0]["latency_s"]["vision"] == pytest.approx(ours[1]["latency_s"]["vision"])
    rec = read_lmms_eval(out)
    m = [x for x in rec.metrics if x.name == "exact"]
    assert len(m) == 1 and m[0].n == n_docs and m[0].compression == "4" and 0.0 <= m[0].value <= 1.0
    st = rec.stats[0]
    assert st["source"] == "oryx_samples.jsonl" and st["failed"] == 0 and st["tokens_mean"]["visual"] > 0
    assert rec.spec["source"] == "lmms-eval"


def _instances(videos: list[str], until: list[str]) -> tuple[list, dict]:
    from lmms_eval.api.instance import Instance

    docs = [{"video": v} for v in videos]
    gen = {"max_new_tokens": 3, "temperature": 0, "until": until}
    insts = [
        Instance(request_type="generate_until", idx=0, metadata={"task": "t", "doc_id": i, "repeats": 1},
                 arguments=(f"question {i}", gen, lambda d: [d["video"]], i, "t", "test"))
        for i in range(len(docs))
    ]  # fmt: skip
    return insts, {"t": {"test": docs}}


def test_plugin_failure_policy_and_stop_strings(tmp_path: Path) -> None:
    """In process (no CLI): a missing video raises by default; ``on_error=empty`` records it instead."""
    from model import write_tiny_checkpoint
    from oryx_eval.errors import BackendError
    from oryx_eval.lmms_plugin import OryxEvalLMM, cut_at_stops
    from oryx_eval.media.encode import encode_video
    from tests.oryx_eval.fixtures import make_frames

    ckpt = write_tiny_checkpoint(tmp_path / "tiny", seed=0)
    good = encode_video(make_frames(8, 0), tmp_path / "v.mp4", fps=8, gop=8)
    insts, task_dict = _instances([str(good), str(tmp_path / "missing.mp4")], until=["\n\n"])
    strict = OryxEvalLMM(pretrained=str(ckpt), frames=4, device="cpu", log_dir=str(tmp_path / "a"))
    strict.task_dict = task_dict
    with pytest.raises(BackendError, match="t doc 1 failed: MediaError"):
        strict.generate_until(insts)
    lenient = OryxEvalLMM(pretrained=str(ckpt), frames=4, device="cpu", log_dir=str(tmp_path / "b"),
                          on_error="empty")  # fmt: skip
    lenient.task_dict = task_dict
    out = lenient.generate_until(insts)
    assert out[1].text == "" and out[0].token_counts.input_tokens > 0
    rows = [json.loads(x) for x in (tmp_path / "b" / "oryx_samples.jsonl").read_text().splitlines()]
    assert [r["error_kind"] for r in rows] == [None, "media"] and rows[0]["frames"]["count"] == 4
    assert cut_at_stops("A. red\n\nmore", ["\n\n"]) == "A. red" and cut_at_stops("B", []) == "B"
