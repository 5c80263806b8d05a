"""Budget-matched comparison (issue 14 item 2): a token-budget sweep per comparison backend and a
compression sweep of Oryx land in one leaderboard, one accuracy-vs-visual-tokens plot per task."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from oryx_eval.backends.hf_tiny import write_tiny
from oryx_eval.leaderboard import build
from oryx_eval.leaderboard_export import to_html, to_markdown
from oryx_eval.sweep import run_sweep, sweep_from_cli

ROOT = Path(__file__).resolve().parents[2]


def test_budget_sweeps_of_several_models_share_one_plot(tmp_path: Path) -> None:
    raw = yaml.safe_load((ROOT / "tasks" / "niah_video.yaml").read_text())
    raw["name"] = "niah_budget"
    raw["dataset"]["args"].update(frame_counts=[4], depths=[0.0], frame_size=[112, 112], needles=["shape"])
    task = tmp_path / "niah_budget.yaml"
    task.write_text(yaml.safe_dump(raw))
    ckpt = write_tiny("internvl", tmp_path / "ck")
    hf = sweep_from_cli([str(task)], "internvl", {"model_path": str(ckpt)}, ["4"], None,
                        {"token_budget": [64, 1024]})  # fmt: skip
    run_sweep(hf, tmp_path / "sw-internvl")
    oryx = sweep_from_cli([str(task)], "oryx-tiny-random", {}, ["4", "16"], None, {})
    run_sweep(oryx, tmp_path / "sw-oryx")
    lb = build([tmp_path / "sw-internvl", tmp_path / "sw-oryx"])
    rows = {(r.model.split(" ")[0], r.setting): r for r in lb.rows}
    budget = {s: r.visual_tokens for (m, s), r in rows.items() if m == "internvl"}
    assert budget["c4 token_budget=64"] < budget["c4 token_budget=1024"]  # the budget chose the setting
    assert {s for m, s in rows if m == "oryx-tiny-random"} == {"c4", "c16"}
    md = to_markdown(lb)
    assert "token_budget=64" in md and "oryx-tiny-random" in md
    html = to_html(lb)
    pngs = [p for p in html.split('src="data:image/png;base64,')[1:]]
    assert len(pngs) == 1  # one task: every model and setting on one plot
    assert base64.b64decode(pngs[0].split('"')[0])[:4] == b"\x89PNG"
