"""bench/gpu_model.py prints the paper model from the configs; VideoMME comes out at ~5 GPU-minutes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "gpu_model.py"


def test_gpu_model_tables(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("gpu_model", SCRIPT)
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    monkeypatch.setattr(sys, "argv", ["gpu_model.py"])
    mod.main()
    out = capsys.readouterr().out
    rows = {ln.split("|")[1].strip(): ln for ln in out.splitlines() if ln.startswith("| ")}
    cells = [c.strip() for c in rows["VideoMME"].split("|")[1:-1]]
    assert cells[2] == "900 videos" and 4.5 < float(cells[5]) < 6.0  # GPU minutes at the bound
    assert "13,506" in out  # 64 frames of 720p at 4x (reference §5)
    assert "over max_length 32768" in out  # 64 frames at 1x do not fit Oryx-7B's context
