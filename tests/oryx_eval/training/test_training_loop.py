"""Training loop: seeded determinism against a recorded loss curve, and gradients reaching every module."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from oryx_eval.schema import TASKS_DIR, load_task
from oryx_eval.training.data import DrawSpec, NiahSource, draw_batch
from oryx_eval.training.loop import (
    LossWeights,
    OptimConfig,
    Trainer,
    batch_logits,
    batch_loss,
    text_in_frame,
)
from oryx_eval.training.model_setup import TinyDims, initial_model, video_spec

# losses of the first 3 steps for seed 0 (batch 2 = one needle in 2 option rotations, N = 2, no aux losses,
# default OptimConfig: lr 1e-3, vision side at 0.1x),
# ratios drawn from {1, 4, 16}, torch 2.13 CPU,
# 1 thread; recorded once from this code. Another CPU/BLAS may differ in the last digits, hence the tolerance.
RECORDED = [6.23970, 6.18719, 5.90417]  # re-recorded for the v2 code-word and order needles


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
    loss, _, parts = batch_loss(model, examples, 4, LossWeights(aux=1.0, match=1.0))
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


def test_char_membership_head_trains_and_stays_out_of_the_model() -> None:
    model, _ = initial_model(0, TinyDims(), load_task(TASKS_DIR / "niah.yaml").prompt.template)
    task = load_task(TASKS_DIR / "niah.yaml")
    src = NiahSource(model.tokenizer, task.prompt, (64, 64), video_spec())
    names = {n for n, _ in model.named_parameters()}
    state = torch.random.get_rng_state()
    trainer = Trainer(model, total_steps=10, weights=LossWeights(char=1.0), seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)  # the head's init leaves the global RNG alone
    assert {n for n, _ in model.named_parameters()} == names  # the head is not a model parameter
    head = [p.detach().clone() for p in trainer.char_head.parameters()]
    examples = [src.example(1000, 2, 0.5, "code_word", i, compression=4) for i in range(2)]
    log = trainer.step(examples, 4)
    assert log.parts["char"] > 0
    assert any(not torch.equal(a, b) for a, b in zip(head, trainer.char_head.parameters(), strict=True))
    # a batch without code words has no membership positions: no "char" term
    log = trainer.step([src.example(1000, 2, 0.5, "shape", 0, compression=4)] * 2, 4)
    assert "char" not in log.parts
    # the head's initialisation depends on its seed only
    again = Trainer(model, total_steps=10, weights=LossWeights(char=1.0), seed=3).char_head
    other = Trainer(model, total_steps=10, weights=LossWeights(char=1.0), seed=4).char_head
    assert torch.equal(
        again.weight, Trainer(model, 10, weights=LossWeights(char=1.0), seed=3).char_head.weight
    )
    assert not torch.equal(again.weight, other.weight)
    assert Trainer(model, total_steps=10).char_head is None


def _fresh_model_and_source() -> tuple:
    """A seed-0 tiny model, a 64x64 NIAH source and a copy of the initial parameters."""
    task = load_task(TASKS_DIR / "niah.yaml")
    model, _ = initial_model(0, TinyDims(), task.prompt.template)
    src = NiahSource(model.tokenizer, task.prompt, (64, 64), video_spec())
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    return model, src, before


def test_llm_lr_scale_zero_trains_the_vision_side_against_a_frozen_llm() -> None:
    model, src, before = _fresh_model_and_source()
    trainer = Trainer(model, total_steps=10, opt=OptimConfig(llm_lr_scale=0.0))
    assert all(not g["params"] or g["lr_scale"] == 0.1 for g in trainer.optim.param_groups)
    trainer.step([src.example(1000, 2, 0.5, "shape", i, compression=4) for i in range(2)], 4)
    moved = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert moved and all(not n.startswith("llm.") for n in moved)
    assert any(n.startswith("vision_tower.") for n in moved)


def test_vision_lr_scale_zero_freezes_the_vision_side_out_of_the_optimiser() -> None:
    model, src, before = _fresh_model_and_source()
    trainer = Trainer(model, total_steps=10, opt=OptimConfig(vision_lr_scale=0.0))
    in_optim = {id(p) for g in trainer.optim.param_groups for p in g["params"]}
    for n, p in model.named_parameters():  # the LLM alone is optimised; no gradient reaches the ViT
        assert (id(p) in in_optim) == n.startswith("llm.") == p.requires_grad, n
    trainer.step([src.example(1000, 2, 0.5, "shape", i, compression=4) for i in range(2)], 4)
    for n, p in model.named_parameters():
        assert n.startswith("llm.") or (torch.equal(p, before[n]) and p.grad is None), n
    assert any(not torch.equal(p, before[n]) for n, p in model.named_parameters() if n.startswith("llm."))
    with pytest.raises(ValueError, match="nothing to train"):
        Trainer(model, 10, OptimConfig(vision_lr_scale=0.0, llm_lr_scale=0.0))


def test_text_in_frame_replaces_one_frames_rows_and_keeps_its_separator() -> None:
    # 3 frames of F = 4 tokens (3 row tokens + separator) between begin and end: (2 + 12, 1)
    visual = torch.arange(14.0)[:, None]
    text = torch.tensor([[-1.0], [-2.0]])
    got = text_in_frame(visual, 3, 1, text)[:, 0].tolist()
    assert got == [0, 1, 2, 3, 4, -1, -2, 8, 9, 10, 11, 12, 13]  # frame 1's rows 5, 6, 7 -> the text


def test_a_code_word_shown_as_text_puts_its_tokens_in_the_needle_frames_place() -> None:
    model, _ = initial_model(0, TinyDims(), load_task(TASKS_DIR / "niah.yaml").prompt.template)
    task = load_task(TASKS_DIR / "niah.yaml")
    src = NiahSource(model.tokenizer, task.prompt, (64, 64), video_spec())
    emb = model.llm.get_input_embeddings()
    for ratio in (1, 16):
        text = src.example(1000, 3, 0.5, "code_word", 0, compression=ratio, as_text=True)
        video = src.example(1000, 3, 0.5, "code_word", 0, compression=ratio)
        ids, t = text.prompt_ids, text.frames.shape[0]
        a = ids.index(-200)
        with torch.no_grad():
            feats, grid = model.vision_tower.forward_frames(text.frames, model.frame_chunk_size)
            lv = model.project_video(feats, grid, ratio)  # (2 + T*F, D)
            per = (lv.shape[0] - 2) // t
            k = text.word_frame
            # by hand: the needle frame's rows replaced by the word's embeddings, its separator kept
            spliced = torch.cat([lv[: 1 + k * per], emb(torch.tensor(text.word_ids)), lv[k * per + per :]])
            after = torch.tensor([*ids[a + 1 :], *text.answer_ids[:-1]])
            x = torch.cat([emb(torch.tensor(ids[:a])), spliced, emb(after)])[None]
            logits = model.llm(inputs_embeds=x).logits[0, :, : model.vocab_limit]
            got = batch_logits(model, [text, video], ratio)
        n = len(text.answer_ids)
        assert torch.allclose(got.answer[0], logits[-n:], atol=1e-5)
        assert not torch.allclose(got.answer[0], got.answer[1], atol=1e-3)  # the video one differs


def test_distillation_pulls_a_video_code_word_towards_its_text_shown_copy() -> None:
    model, _ = initial_model(0, TinyDims(), load_task(TASKS_DIR / "niah.yaml").prompt.template)
    task = load_task(TASKS_DIR / "niah.yaml")
    src = NiahSource(model.tokenizer, task.prompt, (64, 64), video_spec())
    video = [src.example(1000, 2, 0.5, "code_word", i, compression=4) for i in range(2)]
    shape = src.example(1000, 2, 0.5, "shape", 0, compression=4)
    batch = [video[0], shape, video[1]]
    base, _, parts = batch_loss(model, batch, 4, LossWeights())
    assert "distill" not in parts
    loss, _, parts = batch_loss(model, batch, 4, LossWeights(distill=0.5))
    # by hand: every layer's hidden states after the visual span, video vs the text-shown copy
    with torch.no_grad():
        student = batch_logits(model, video, 4, layers=True).suffix
        teacher = batch_logits(model, [dataclasses.replace(e, as_text=True) for e in video], 4, True).suffix
    n = len(video[0].prompt_ids) - video[0].prompt_ids.index(-200) - 2 + len(video[0].answer_ids)
    assert student[0].shape == (model.llm.config.num_hidden_layers, n, model.llm.config.hidden_size)
    want = sum(((s - t) ** 2).mean() / (t**2).mean() for s, t in zip(student, teacher, strict=True)) / 2
    assert parts["distill"] == pytest.approx(want.item(), rel=1e-4) and parts["distill"] > 0
    assert loss.item() == pytest.approx(base.item() + 0.5 * want.item(), rel=1e-5)
    # the teacher gets no gradient: with a frozen LLM only the vision side moves, towards the teacher
    trainer = Trainer(model, 10, OptimConfig(lr=3e-3, llm_lr_scale=0.0), LossWeights(distill=1.0))
    first = [trainer.step(video, 4).parts["distill"] for _ in range(8)]
    assert first[-1] < first[0]
    # a text-shown word or another kind alone: no distillation term
    assert "distill" not in batch_loss(model, [shape], 4, LossWeights(distill=1.0))[2]
