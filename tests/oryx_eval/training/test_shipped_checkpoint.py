"""The shipped trained tiny Oryx (checkpoints/oryx-tiny-niah-shape): held-out needles, far above chance."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from model import load_oryx
from oryx_eval.schema import TASKS_DIR, load_task
from oryx_eval.training.data import NiahSource, task_seeds, validation_set
from oryx_eval.training.loop import accuracy
from oryx_eval.training.model_setup import video_spec
from oryx_eval.training.train import RECORD

SHIPPED = Path(__file__).resolve().parents[3] / "checkpoints" / "oryx-tiny-niah-shape"


def test_shipped_checkpoint_finds_held_out_shape_needles() -> None:
    record = json.loads((SHIPPED / RECORD).read_text())
    cfg = record["config"]
    assert record["command"].startswith("oryx-eval train-tiny --seed 0 --steps 12000")
    assert not set(cfg["haystack_seeds"]) & task_seeds() and cfg["val_seed"] not in task_seeds()
    torch.set_num_threads(1)
    model = load_oryx(SHIPPED, dtype=torch.float32).eval()
    task = load_task(TASKS_DIR / "niah.yaml")
    source = NiahSource(model.tokenizer, task.prompt, (224, 224), video_spec(record["backend_defaults"]))
    # 60 held-out colour/shape needles on the validation haystack (seed 999, never trained on), 8 frames, 1x.
    # Random weights answer one letter (~25%); 60 samples at chance exceed 0.45 with p < 0.001.
    held_out = validation_set(source, cfg["val_seed"], 8, 60, 1, ("shape",))
    assert accuracy(model, held_out)["all"] >= 0.6
