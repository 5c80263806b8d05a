"""bench/probe_code_words.py: the ridge probe scores what is decodable, and the shipped checkpoint's
visual tokens carry code-word characters at 1x more than at 16x (the compression trade-off)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from model import load_oryx
from oryx_eval.backends.oryx_tiny import SHIPPED
from oryx_eval.training.model_setup import TINY_VIDEO

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "probe_code_words.py"
spec = importlib.util.spec_from_file_location("probe_code_words", SCRIPT)
probe = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
spec.loader.exec_module(probe)  # type: ignore[union-attr]


def test_ridge_accuracy_separates_what_is_decodable() -> None:
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 24, (400,), generator=g)
    x = torch.nn.functional.one_hot(y, 24).float() + 0.1 * torch.randn(400, 24, generator=g)
    assert probe.ridge_accuracy(x, y, 24) > 0.95
    noise = torch.randn(400, 24, generator=g)  # independent of the labels: about 1/24 held out
    assert probe.ridge_accuracy(noise, y, 24) < 0.15


def test_shipped_tokens_carry_characters_that_16x_loses() -> None:
    torch.set_num_threads(1)
    data = probe.CodeWords(load_oryx(SHIPPED, dtype=torch.float32).eval(), dict(TINY_VIDEO))
    one = probe.linear_probes(data, 200, 1, seed=0)
    sixteen = probe.linear_probes(data, 200, 16, seed=0)
    assert set(one) == {"best token", "all tokens", "mean token"}
    assert all(len(v) == 4 for v in one.values())
    # session 22, 400 frames, best single token: 1x 0.82 / 0.51 / 0.51 / 0.79, 16x 0.38 / 0.17 / 0.19 / 0.08
    assert min(one["best token"]) > 0.25
    assert sum(one["best token"]) > sum(sixteen["best token"]) + 0.4


def test_ocr_examples_answer_the_four_characters() -> None:
    model = load_oryx(SHIPPED, dtype=torch.float32).eval()
    data = probe.CodeWords(model, dict(TINY_VIDEO))
    ex = data.example(1000, 3, 1)
    word = data.word(ex)
    assert len(word) == 4 and model.tokenizer.decode(ex.answer_ids[:4]) == word
    assert ex.prompt_ids == data.prompt_ids and "A." not in model.tokenizer.decode(
        [i for i in ex.prompt_ids if i >= 0]
    )
    lines = probe.ocr_run(data, steps=2, batch=2, ratio=16, lr=1e-4, every=1, seed=0)
    assert len(lines) == 3 and all("held-out per-character" in ln for ln in lines)
