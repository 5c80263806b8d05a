"""bench/gpu_model.py prints the paper model from the configs; VideoMME comes out at ~5 GPU-minutes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_gpu_model_tables() -> None:
    res = subprocess.run(
        [sys.executable, str(REPO / "bench" / "gpu_model.py")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    rows = {ln.split("|")[1].strip(): ln for ln in res.stdout.splitlines() if ln.startswith("| ")}
    cells = [c.strip() for c in rows["VideoMME"].split("|")[1:-1]]
    assert cells[2] == "900 videos" and 4.5 < float(cells[5]) < 6.0  # GPU minutes at the bound
    assert "13,506" in res.stdout  # 64 frames of 720p at 4x (reference §5)
    assert "over max_length 32768" in res.stdout  # 64 frames at 1x do not fit Oryx-7B's context
