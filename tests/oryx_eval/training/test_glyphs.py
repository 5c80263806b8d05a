"""`train-tiny --stage glyphs`: the vision side learns code-word characters; LLM frozen, no head saved."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from model import load_oryx
from oryx_eval.benchmarks.niah.needles import CODE_ALPHABET, make_needle
from oryx_eval.training.glyphs import GlyphData
from oryx_eval.training.loop import OptimConfig
from oryx_eval.training.train import TrainConfig, train_tiny

SMALL = TrainConfig(steps=1, batch=2, frame_counts=(1,), kinds=("shape",), val_per_kind=1, val_every=1)
GLYPHS = dataclasses.replace(
    SMALL, stage="glyphs", steps=2, batch=4, opt=OptimConfig(lr=1e-3, vision_lr_scale=1.0)
)


@pytest.fixture(scope="module")
def parent(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("parent") / "p"
    train_tiny(SMALL, out)
    return out


@pytest.fixture(scope="module")
def child(parent: Path, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("child") / "g"
    return out, train_tiny(dataclasses.replace(GLYPHS, init_from=str(parent)), out)


def test_glyph_stage_moves_the_vision_side_only_and_saves_no_head(parent: Path, child) -> None:
    out, record = child
    a, b = load_oryx(parent).state_dict(), load_oryx(out).state_dict()
    assert a.keys() == b.keys()  # the reading heads are training-only
    llm = [k for k in a if k.startswith("llm.")]
    vision = [k for k in a if not k.startswith("llm.")]
    assert llm and all(torch.equal(a[k], b[k]) for k in llm)
    assert any(not torch.equal(a[k], b[k]) for k in vision)
    assert record["command"].split(" --init-from")[0].endswith("--keep-weight 1.0 --threads 1")
    assert "--stage glyphs" in record["command"] and "--kinds" not in record["command"]
    parent_cmd = json.loads((parent / "train_record.json").read_text())["command"]
    assert record["rebuild"] == [f"{parent_cmd} --out {parent}", record["command"]]
    assert set(record["validation"][-1]) == {"step", "all", "1x", "4x", "16x"}
    assert set(json.loads((out / "train_record.json").read_text())["config"]) >= {"stage", "spread_floor"}


def test_glyph_stage_is_deterministic_for_a_seed(parent: Path, child, tmp_path: Path) -> None:
    again = train_tiny(dataclasses.replace(GLYPHS, init_from=str(parent)), tmp_path / "again")
    assert again["losses"] == child[1]["losses"]
    other = train_tiny(dataclasses.replace(GLYPHS, seed=1, init_from=str(parent)), tmp_path / "other")
    assert other["losses"] != child[1]["losses"]


def test_a_qa_stage_continues_from_a_glyph_stage_output(child, tmp_path: Path) -> None:
    record = train_tiny(dataclasses.replace(SMALL, init_from=str(child[0])), tmp_path / "qa")
    assert record["rebuild"][-2].startswith(child[1]["command"]) and len(record["rebuild"]) == 3


def test_glyph_frames_carry_their_words_characters() -> None:
    from oryx_eval.schema import TASKS_DIR, load_task
    from oryx_eval.training.data import NiahSource
    from oryx_eval.training.model_setup import tokenizer, video_spec

    task = load_task(TASKS_DIR / "niah.yaml")
    source = NiahSource(tokenizer(task.prompt.template), task.prompt, (224, 224), video_spec())
    data = GlyphData(source, (1000,))
    frames, chars = data.words(np.random.default_rng(3), 3, 4)
    ids = np.random.default_rng(3)
    for row in chars.tolist():  # the same draws: seed 1000, then a needle id
        ids.choice(data.seeds)
        word = make_needle("code_word", 1000, int(ids.integers(0, 2**62))).items[0].word
        assert "".join(CODE_ALPHABET[i] for i in row) == word
    assert frames.shape[0] == 3 and frames.shape[1] == 3
    assert data.others(np.random.default_rng(0), 4, 1).shape[0] == 4
