"""Reading an lmms-eval run as a RunRecord (no lmms-eval needed: files in the layout 0.7.3 writes)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from oryx_eval.errors import DatasetError
from oryx_eval.lmms_results import read_lmms_eval

STAMP = "20261202_125048"


def _write_run(out: Path) -> Path:
    d = out / "tmp__tiny"
    d.mkdir(parents=True)
    results = {  # the keys lmms-eval 0.7.3 wrote in the plugin's end-to-end run (abridged)
        "results": {
            "fixture": {"alias": "fixture", "exact,none": 0.25, "exact_stderr,none": 0.1,
                        "exact_stderr_clt,none": 0.1, "exact_stderr_clustered,none": "N/A",
                        "by_duration,none": {"short": 0.5, "long": 0.0}},
        },  # fmt: skip
        "n-samples": {"fixture": {"original": 4, "effective": 4}},
        "config": {"model": "oryx_eval", "model_args": "pretrained=/ck,compression=16,frames=8",
                   "model_backend": "oryx_eval.lmms_plugin.OryxEvalLMM (simple)", "limit": None},  # fmt: skip
        "lmms_eval_version": "0.7.3", "date": "20261202_125048", "total_evaluation_time_seconds": "12.5",
    }  # fmt: skip
    f = d / f"{STAMP}_results.json"
    f.write_text(json.dumps(results))
    rows = [{"doc_id": i, "token_counts": [{"input_tokens": 600 + i, "output_tokens": 4}]} for i in range(4)]
    (d / f"{STAMP}_samples_fixture.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    ours = [{"task": "fixture", "doc_id": i, "error": None, "tokens": {"visual": 500, "output": 4},
             "latency_s": {"vision": 0.5, "total": 1.0 + i}} for i in range(3)]  # fmt: skip
    ours.append({"task": "fixture", "doc_id": 3, "error": "MediaError: x", "tokens": {}, "latency_s": {}})
    (out / "oryx_samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ours))
    return f


def test_results_become_a_run_record(tmp_path: Path) -> None:
    f = _write_run(tmp_path)
    rec = read_lmms_eval(tmp_path)  # the directory: the results file is found under it
    assert rec == read_lmms_eval(f)
    overall = [m for m in rec.metrics if m.name == "exact"]
    assert [(m.value, m.n, m.compression, m.group) for m in overall] == [(0.25, 4, "16", None)]
    cells = {m.group["cell"]: m.value for m in rec.metrics if m.name == "by_duration"}
    assert cells == {"short": 0.5, "long": 0.0}
    st = rec.stats[0]
    assert st["accuracy"] == 0.25 and st["accuracy_metric"] == "exact" and st["failed"] == 1
    assert st["tokens_mean"]["visual"] == 500 and st["latency_s"]["mean"]["total"] == 2.0  # failed row out
    assert st["latency_s"]["p50"] == 2.0 and st["source"] == "oryx_samples.jsonl"
    (tmp_path / "oryx_samples.jsonl").unlink()  # another model's run: lmms-eval's own token counts only
    st = read_lmms_eval(f).stats[0]
    assert st["tokens_mean"]["text"] == 601.5 and math.isnan(st["tokens_mean"]["visual"])
    assert rec.spec["source"] == "lmms-eval" and rec.spec["backend"]["args"]["frames"] == "8"
    assert rec.wall_s == 12.5 and rec.status == "success"


def test_not_an_lmms_run(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no lmms-eval"):
        read_lmms_eval(tmp_path)
    bad = tmp_path / "x_results.json"
    bad.write_text("{}")
    with pytest.raises(DatasetError, match="not an lmms-eval results file"):
        read_lmms_eval(bad)


def test_import_lmms_command_makes_a_showable_run(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app
    from oryx_eval.results import load_run

    _write_run(tmp_path / "lmms")
    runner = CliRunner()
    res = runner.invoke(
        app, ["import-lmms", str(tmp_path / "lmms"), "--run-id", "lm", "--output", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    assert load_run(tmp_path / "lm").metrics[0].value == 0.25
    shown = runner.invoke(app, ["show", str(tmp_path / "lm")])
    assert shown.exit_code == 0 and "fixture" in shown.output and "0.250" in shown.output
    again = runner.invoke(
        app, ["import-lmms", str(tmp_path / "lmms"), "--run-id", "lm", "--output", str(tmp_path)]
    )
    assert again.exit_code == 2
