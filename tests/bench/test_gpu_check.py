"""The GPU check's CPU dry run (tiny shapes, same code paths) runs end to end, so the script cannot rot."""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "bench" / "gpu_check.py"


def _load_check_module():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


@pytest.fixture(scope="module")
def dry(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, dict, str]:
    out = tmp_path_factory.mktemp("gpu_check")
    res = subprocess.run(
        [sys.executable, str(SCRIPT), "--dry-run", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert (out / "gpu_check.json").exists(), res.stdout[-3000:] + res.stderr[-3000:]
    return res, json.loads((out / "gpu_check.json").read_text()), (out / "gpu_check.txt").read_text()


def test_dry_run_has_every_section_ok(dry) -> None:  # noqa: ANN001
    res, js, text = dry
    mod = _load_check_module()
    assert list(js["sections"]) == list(mod.SECTIONS)
    bad = {k: v.get("error") or v.get("reason") for k, v in js["sections"].items() if v["status"] != "ok"}
    assert not bad and res.returncode == 0, (bad, res.stdout[-2000:], res.stderr[-2000:])
    assert js["meta"]["dry_run"] and "DRY RUN" in text and "random" in js["meta"]["weights"]


def test_dry_run_figures_are_measured_not_filled_in(dry) -> None:  # noqa: ANN001
    s = dry[1]["sections"]
    v = s["vit_correctness"]["variants"]
    assert v["eager fp32"]["video"]["rel_l2"] < 1e-5  # same function in fp32
    assert 1e-4 < v["sdpa bf16"]["video"]["rel_l2"] < 3e-2  # bf16 really differs from the fp32 reference
    assert v["flash bf16"]["status"].startswith("not available")  # no flash-attn on the CPU machine
    assert s["llm"]["kv_cache"]["bytes_measured"] == s["llm"]["kv_cache"]["bytes_model"]
    assert s["llm"]["decode"]["steps"] == dry[1]["meta"]["shapes"]["decode_steps"] - 1
    runs = s["harness"]["runs"]
    assert [r["workers"] for r in runs] == [1, 2]
    for r in runs:  # 2 videos x 3 questions through the real CLI, none failed
        assert r["questions"] == 6 and r["failed"] == 0 and 0 <= r["gpu_waited_for_media_share"] <= 1
    assert s["gpu_tests"]["counts"]["skipped"] >= 1 and s["gpu_tests"]["ok"]  # gpu tests skip without CUDA
    assert s["projection"]["bound"]["total_s"] > 0 and "harness_total_s" in s["projection"]


def test_a_failing_section_is_reported_and_the_rest_runs(tmp_path: Path) -> None:
    mod = _load_check_module()
    a = argparse.Namespace(dry_run=True, device="cpu", budget_s=60.0, fixture=tmp_path, threads=1)
    chk = mod.Check(a, tmp_path)
    chk.run(["projection", "environment"], write=lambda: None)  # projection needs the ceilings: fails
    assert chk.sections["projection"]["status"] == "error"
    assert "no measured ceilings" in chk.sections["projection"]["error"]
    assert chk.sections["environment"]["status"] == "ok"
    chk.budget.seconds = 0.0
    chk.run(["vit_speed"], write=lambda: None)
    assert chk.sections["vit_speed"] == {"status": "skipped", "reason": chk.sections["vit_speed"]["reason"]}
    assert chk.sections["vit_speed"]["reason"].startswith("time budget")


def test_cli_exit_codes_reach_the_harness_section() -> None:
    sys.path.insert(0, str(REPO / "bench"))
    from gpucheck.harness import _run_cli

    assert _run_cli(["run", "--tasks", "no_such_task", "--model", "oryx-tiny"]) == 2  # bad input: exit 2
    assert _run_cli(["tasks"]) == 0
