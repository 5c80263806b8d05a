"""OCRBench end to end through the runner: scripted outputs (exact scores) and the tiny Oryx (pipeline)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from oryx_eval.results import load_run
from oryx_eval.runner import RunOptions, run
from tests.oryx_eval.benchmarks.ocrbench.fixtures import SCRIPTED, write_json_layout, write_parquet_layout

ROOT = Path(__file__).resolve().parents[4]
TASK = str(ROOT / "tasks" / "ocrbench.yaml")


def _metric(rec, name: str, group: dict | None = None) -> float:
    vals = [m.value for m in rec.metrics if m.name == name and m.group == group]
    assert len(vals) == 1, (name, group, vals)
    return vals[0]


@pytest.mark.parametrize("layout", ["json", "parquet"])
def test_scripted_run_gives_the_official_numbers(tmp_path: Path, layout: str) -> None:
    data = write_json_layout(tmp_path / "d") if layout == "json" else write_parquet_layout(tmp_path / "d")
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(SCRIPTED))
    opts = RunOptions(
        tasks=[TASK], backend="test-script", backend_args={"answers_file": str(answers)},
        output_dir=tmp_path / "out", run_id="r", cache_dir=tmp_path / "cache",
        data_dirs={"ocrbench": data}, max_failures="100%",
    )  # fmt: skip
    res = run(opts)
    rec = load_run(res.run_dir)
    assert _metric(rec, "ocrbench_score") == 7.0
    assert _metric(rec, "ocrbench_score_robust") == 8.0
    assert _metric(rec, "ocrbench_score_lmms_legacy") == 6.0
    assert _metric(rec, "ocrbench_text_recognition") == 4.0
    assert _metric(rec, "ocrbench_disagreements") == 1.0
    hme = {"question_type": "Handwritten Mathematical Expression Recognition"}
    assert _metric(rec, "ocrbench_score", hme) == 1.0
    assert _metric(rec, "ocrbench_score_lmms_legacy", hme) == 0.0
    assert sum(r.score for r in res.samples) == 7.0  # per-sample scorer agrees with the metric
    assert rec.spec["data_dirs"]["ocrbench"] == str(data.resolve())
    table = (res.run_dir / "ocrbench_results.txt").read_text()
    assert "Text Recognition(6 of 300 run): 4" in table and "Final Score(10 of 1000 run): 7" in table
    assert "Final Score(10 of 1000 run): 8" in table  # the robust table
    assert "1 items differ" in table and "SUBSET" in table
    scores = json.loads((res.run_dir / "ocrbench_scores.json").read_text())
    assert scores["disagreeing_ids"] == ["ocrbench/0006"] and scores["rules"]["official"]["final"] == 7
    # a second run in the same process gives the same numbers (no global tally)
    res2 = run(opts.__class__(**{**vars(opts), "run_id": "r2"}))
    assert _metric(load_run(res2.run_dir), "ocrbench_score") == 7.0


def test_unscripted_sample_fails_and_counts_wrong(tmp_path: Path) -> None:
    data = write_json_layout(tmp_path / "d")
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({k: v for k, v in SCRIPTED.items() if k != "ocrbench/0000"}))
    res = run(
        RunOptions(
            tasks=[TASK],
            backend="test-script",
            backend_args={"answers_file": str(answers)},
            output_dir=tmp_path / "out",
            run_id="r",
            cache_dir=tmp_path / "cache",
            data_dirs={"ocrbench": data},
            max_failures="1",
        )  # fmt: skip
    )
    rec = load_run(res.run_dir)
    assert _metric(rec, "ocrbench_score") == 6.0 and _metric(rec, "failure_rate") == pytest.approx(0.1)
    scores = json.loads((res.run_dir / "ocrbench_scores.json").read_text())
    assert scores["failed"] == ["ocrbench/0000"]


def test_tiny_oryx_native_resolution(tmp_path: Path) -> None:
    """The real image path on the tiny checkpoint: two views, token count recorded and size-dependent."""
    from model import ImageResize, count_visual_tokens

    data = write_json_layout(tmp_path / "d")
    raw = yaml.safe_load(Path(TASK).read_text())
    raw["name"], raw["generation"]["max_new_tokens"] = "ocrbench_tiny", 4
    task = tmp_path / "ocrbench_tiny.yaml"
    task.write_text(yaml.safe_dump(raw))
    res = run(
        RunOptions(
            tasks=[str(task)],
            backend="oryx-tiny-random",
            output_dir=tmp_path / "out",
            run_id="tiny",
            cache_dir=tmp_path / "cache",
            data_dirs={"ocrbench": data},
            limit=2,
            backend_args={"image_max_side": 512},
        )  # fmt: skip
    )
    assert len(res.samples) == 2 and all(r.error is None for r in res.samples)
    spec = ImageResize(highres_max=512)
    for r in res.samples:
        assert r.tokens.visual == count_visual_tokens("image", tuple(r.frames.size), image_spec=spec) > 0
    assert res.samples[0].tokens.visual != res.samples[1].tokens.visual  # 160x48 vs 120x40 images
    rec = load_run(res.run_dir)
    assert rec.spec["backend"]["random_weights"] is True
    assert rec.spec["backend"]["args"]["image_max_side"] == 512
