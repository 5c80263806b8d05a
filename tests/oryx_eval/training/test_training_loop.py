"""Training loop: seeded determinism against a recorded loss curve, and gradients reaching every module."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oryx_eval.schema import TASKS_DIR, load_task
from oryx_eval.training.data import DrawSpec, NiahSource, draw_batch
from oryx_eval.training.loop import OptimConfig, Trainer, batch_loss
from oryx_eval.training.model_setup import TinyDims, initial_model, video_spec

# losses of the first 3 steps for seed 0 (batch 2 = one needle in 2 option rotations, N = 2, no aux losses,
# default OptimConfig: lr 1e-3, vision side at 0.1x),
# ratios drawn from {1, 4, 16}, torch 2.13 CPU,
# 1 thread; recorded once from this code. Another CPU/BLAS may differ in the last digits, hence the tolerance.
RECORDED = [6.23970, 6.24105, 5.88777]


def _losses(seed: int, steps: int = 3) -> list[float]:
    torch.set_num_threads(1)
    model, _ = initial_model(seed, TinyDims(), load_task(TASKS_DIR / "niah.yaml").prompt.template)
    task = load_task(TASKS_DIR / "niah.yaml")
    src = NiahSource(model.tokenizer, task.prompt, (64, 64), video_spec())
    draw = DrawSpec(seeds=(1000, 1001), frame_counts=(2,))
    rng = np.random.default_rng(seed)
    trainer = Trainer(model, total_steps=10)
    return [trainer.step(*draw_batch(src, draw, rng, 2)).loss for _ in range(steps)]


def test_a_few_steps_are_deterministic_for_a_seed() -> None:
    first = _losses(0)
    assert first == _losses(0)  # same seed, same thread count: identical
    assert first == pytest.approx(RECORDED, abs=1e-3), first
    assert first[-1] < first[0]  # the steps do train
    assert _losses(1) != first


def test_gradients_reach_every_parameter() -> None:
    model, _ = initial_model(0, TinyDims(), load_task(TASKS_DIR / "niah.yaml").prompt.template)
    task = load_task(TASKS_DIR / "niah.yaml")
    src = NiahSource(model.tokenizer, task.prompt, (64, 64), video_spec())
    rng = np.random.default_rng(0)
    # ratio 4: at 1x the compressor's softmax is over one token, so its Q/K get no gradient by design
    examples = [
        src.example(1000, 2, 0.5, kind, i, compression=4) for i, kind in enumerate(("shape", "count"))
    ]
    loss, _, parts = batch_loss(model, examples, 4, aux_weight=1.0, match_weight=1.0)
    assert set(parts) == {"answer", "aux", "match"}
    loss.backward()
    dead = [
        n for n, p in model.named_parameters() if not p.requires_grad or p.grad is None or not p.grad.any()
    ]
    assert not dead, dead
    assert rng is not None


def test_vision_side_trains_at_its_own_learning_rate() -> None:
    model, _ = initial_model(0, TinyDims(), load_task(TASKS_DIR / "niah.yaml").prompt.template)
    trainer = Trainer(model, total_steps=10, opt=OptimConfig(lr=1e-3, vision_lr_scale=0.1, warmup=1))
    task = load_task(TASKS_DIR / "niah.yaml")
    src = NiahSource(model.tokenizer, task.prompt, (64, 64), video_spec())
    trainer.step(*draw_batch(src, DrawSpec(seeds=(1000,), frame_counts=(2,)), np.random.default_rng(0), 2))
    by_id = {id(p): n for n, p in model.named_parameters()}
    for g in trainer.optim.param_groups:
        names = [by_id[id(p)] for p in g["params"]]
        llm = {n.startswith("llm.") for n in names}
        assert len(llm) == 1  # a group is either all LLM or all vision side
        assert g["lr"] == pytest.approx(1e-3 * (1.0 if llm == {True} else 0.1))
    assert sum(len(g["params"]) for g in trainer.optim.param_groups) == len(list(model.parameters()))
