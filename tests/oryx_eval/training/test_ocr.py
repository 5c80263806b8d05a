"""The OCR stage (`train-tiny --stage ocr`): captioning examples, a frozen vision side, the written record."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from model import load_oryx
from oryx_eval.schema import TASKS_DIR, load_task
from oryx_eval.training.data import NiahSource
from oryx_eval.training.loop import OptimConfig
from oryx_eval.training.model_setup import TinyDims, initial_model, video_spec
from oryx_eval.training.ocr import OcrData, OcrTrainer, ocr_validation
from oryx_eval.training.train import RECORD, TrainConfig, train_tiny

TEMPLATE = load_task(TASKS_DIR / "niah.yaml").prompt


@pytest.fixture(scope="module")
def setup():
    model, _ = initial_model(0, TinyDims(), TEMPLATE.template)
    source = NiahSource(model.tokenizer, TEMPLATE, (224, 224), video_spec())
    return model, OcrData(source, (1000, 1001))


def test_an_ocr_example_is_the_code_word_cell_captioned_without_options(setup) -> None:
    model, data = setup
    ex = data.example(1000, 7, 1)
    qa = data.source.example(1000, 1, 0.0, "code_word", 7, 1)
    assert torch.equal(ex.frames, qa.frames)  # the same cell, N = 1: needle frame + one haystack frame
    word = model.tokenizer.decode(qa.word_ids).strip()
    assert model.tokenizer.decode(ex.answer_ids[:4]) == word and len(ex.answer_ids) == 5
    text = model.tokenizer.decode([i for i in ex.prompt_ids if i >= 0])
    assert "What is the code word?" in text and "A." not in text and word not in text
    assert ex.match_positions == [] and ex.char_positions == []


def test_a_frozen_vision_side_stays_bit_identical_while_the_llm_trains(setup) -> None:
    model, data = setup
    model = copy.deepcopy(model).train().requires_grad_(True)  # the module's model stays as built
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    trainer = OcrTrainer(model, data, 3, (1, 16), OptimConfig(lr=1e-3, vision_lr_scale=0.0))
    rng = np.random.default_rng(0)
    logs = [trainer.step(rng, 2) for _ in range(2)]
    assert all(np.isfinite(log.loss) for log in logs)
    for n, p in model.named_parameters():
        if n.startswith("llm."):
            continue
        assert torch.equal(p, before[n]) and not p.requires_grad, n
    assert any(not torch.equal(p, before[n]) for n, p in model.named_parameters() if n.startswith("llm."))
    acc = trainer.accuracy(ocr_validation(data, 999, 2, (1, 16)))
    assert set(acc) == {"all", "1x", "16x"} and all(0.0 <= v <= 1.0 for v in acc.values())


def test_nothing_to_train_is_refused(setup) -> None:
    model, data = setup
    with pytest.raises(ValueError, match="non-zero learning rate"):
        OcrTrainer(model, data, 1, (1,), OptimConfig(vision_lr_scale=0.0, llm_lr_scale=0.0))


def test_train_tiny_ocr_stage_writes_a_loadable_checkpoint_and_its_command(tmp_path: Path) -> None:
    cfg = TrainConfig(stage="ocr", steps=2, batch=2, ratios=(1,), val_per_kind=1, val_every=1)
    cfg = dataclasses.replace(cfg, opt=OptimConfig(vision_lr_scale=0.0))
    record = train_tiny(cfg, tmp_path / "ocr")
    assert "--stage ocr" in record["command"] and "--frame-counts" not in record["command"]
    assert "--vision-lr-scale 0.0" in record["command"] and "--match-weight" not in record["command"]
    assert [v["step"] for v in record["validation"]] == [1, 2] and "1x" in record["validation"][0]
    assert json.loads((tmp_path / "ocr" / RECORD).read_text())["config"]["stage"] == "ocr"
    load_oryx(tmp_path / "ocr", dtype=torch.float32)
