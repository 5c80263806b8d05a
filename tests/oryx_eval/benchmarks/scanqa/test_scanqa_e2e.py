"""ScanQA end to end through the runner: scripted outputs (exact metrics), the test-split submission file,
and the tiny Oryx on the multi-view path."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
import yaml

from oryx_eval.results import load_run
from oryx_eval.runner import RunOptions, run
from tests.oryx_eval.benchmarks.scanqa.fixtures import QUESTIONS, SCRIPTED, question_id, write_scanqa
from tests.oryx_eval.benchmarks.scanqa.test_scanqa_coco import FROZEN

ROOT = Path(__file__).resolve().parents[4]


def _metric(rec, name: str, group: dict | None = None):
    vals = [m for m in rec.metrics if m.name == name and m.group == group]
    assert len(vals) == 1, (name, group)
    return vals[0]


def _opts(tmp: Path, task: str, data: Path, backend: str, **kw) -> RunOptions:
    return RunOptions(tasks=[str(ROOT / "tasks" / f"{task}.yaml")], backend=backend, output_dir=tmp / "out",
                      run_id=backend, cache_dir=tmp / "cache", data_dirs={"scanqa": data},
                      **{"max_failures": "100%", **kw})  # fmt: skip


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    return write_scanqa(tmp_path / "scanqa")


def _answers(tmp: Path, mapping: dict[str, str]) -> dict:
    path = tmp / "answers.json"
    path.write_text(json.dumps(mapping))
    return {"answers_file": str(path)}


def test_scripted_val_run(tmp_path: Path, data: Path) -> None:
    args = _answers(tmp_path, {question_id(i): t for i, t in enumerate(SCRIPTED)})
    res = run(_opts(tmp_path, "scanqa_val", data, "test-script", backend_args=args))
    rec = load_run(res.run_dir)
    assert _metric(rec, "scanqa_em").value == pytest.approx(100 * 8 / 12)
    assert _metric(rec, "scanqa_em_refined").value == pytest.approx(100 * 10 / 12)
    assert _metric(rec, "scanqa_em_raw").value == pytest.approx(100 * 3 / 12)
    assert _metric(rec, "scanqa_empty").value == 1.0
    by_id = {r.sample_id: r.score for r in res.samples}
    assert [by_id[question_id(i)] for i in range(12)] == [1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1]  # LEO EM
    assert _metric(rec, "scanqa_em", {"question_type": "Number"}).value == 100.0
    # the views the model got: 16 uniform frames (all 8 for the short scene), recorded per sample
    first = res.samples[0]
    assert first.frames.count == 16 and first.frames.source_frames == 25
    assert first.frames.indices == first.metadata["view_frames"]
    short = next(r for r in res.samples if r.metadata["scene_id"] == "scene0001_00")
    assert short.frames.count == 8 and short.metadata["view_rule"] == "uniform(16)"
    scores = json.loads((res.run_dir / "scanqa_scores.json").read_text())
    assert scores["num_views"] == 16 and scores["scores"]["all"]["empty_outputs"] == 1
    assert scores["scores"]["Place"]["flag"].startswith("subset")  # per-type CIDEr is a subset
    if shutil.which("java") is None:
        assert math.isnan(_metric(rec, "scanqa_cider").value)
        assert _metric(rec, "scanqa_cider").note == "not computed: java missing"
        assert scores["scores"]["all"]["corpus_metrics"] == "not computed: java missing"
    else:
        for name, value in FROZEN["none"].items():
            assert _metric(rec, f"scanqa_{name}").value == pytest.approx(value, rel=1e-9)
        assert scores["scores"]["all"]["comparable"] is True and scores["scores"]["all"]["cider"] > 0


def test_limit_flags_subset(tmp_path: Path, data: Path) -> None:
    args = _answers(tmp_path, {question_id(i): t for i, t in enumerate(SCRIPTED)})
    res = run(_opts(tmp_path, "scanqa_val", data, "test-script", backend_args=args, limit=4))
    scores = json.loads((res.run_dir / "scanqa_scores.json").read_text())
    assert scores["scores"]["all"]["n"] == 4 and scores["scores"]["all"]["comparable"] is False
    assert "not comparable" in (res.run_dir / "scanqa_results.txt").read_text()


def test_test_split_writes_the_evalai_file(tmp_path: Path, data: Path) -> None:
    ids = [f"test-{q[0][:9]}-{i}" for i, q in enumerate(QUESTIONS[:6])]
    args = _answers(tmp_path, {sid: f"answer {i}" for i, sid in enumerate(ids) if i != 2})
    res = run(_opts(tmp_path, "scanqa_test", data, "test-script", backend_args=args))
    preds = json.loads((res.run_dir / "pred.test_w_obj.json").read_text())
    assert [p["question_id"] for p in preds] == sorted(ids)
    by_id = {p["question_id"]: p for p in preds}
    assert by_id[ids[0]] == {"scene_id": "scene0000_00", "question_id": ids[0], "answer_top10": ["answer 0"]}
    assert by_id[ids[2]]["answer_top10"] == [""]  # failed sample: empty answer, listed apart
    assert json.loads((res.run_dir / "pred.test_w_obj.failed.json").read_text()) == [ids[2]]


def test_tiny_oryx_multi_view(tmp_path: Path, data: Path) -> None:
    """Views go to Oryx as a video: compression applies and the token count matches the predictor."""
    from model import VideoResize, count_visual_tokens

    raw = yaml.safe_load((ROOT / "tasks" / "scanqa_val.yaml").read_text())
    raw["name"] = "scanqa_tiny"
    raw["dataset"]["args"]["num_views"] = 4
    raw["metrics"], raw["reports"] = [{"name": "scanqa_em"}], []  # pipeline check: no JVM-backed metrics
    raw["generation"]["max_new_tokens"] = 4
    task = tmp_path / "scanqa_tiny.yaml"
    task.write_text(yaml.safe_dump(raw))
    opts = _opts(tmp_path, "scanqa_val", data, "oryx-tiny-random", limit=2, compressions=["4", "16"])
    res = run(opts.__class__(**{**vars(opts), "tasks": [str(task)]}))
    assert len(res.samples) == 4 and all(r.error is None for r in res.samples)
    spec = VideoResize()
    for r in res.samples:
        want = count_visual_tokens(
            "video", (64, 48), frames=4, compression=int(r.compression), video_spec=spec
        )
        assert r.tokens.visual == want > 0 and r.compression_used == r.compression
    c4, c16 = (next(r for r in res.samples if r.compression == c) for c in ("4", "16"))
    assert c4.tokens.visual > c16.tokens.visual
