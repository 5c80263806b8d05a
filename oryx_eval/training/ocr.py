"""OCR stage of the tiny Oryx (`train-tiny --stage ocr`): the LLM learns to read code words.

The LLM writes the shown code word's four characters (one token each, then ``<|im_end|>``) after one
needle frame (N = 1: the needle frame and one haystack frame) and the code-word question without options:
captioning, the way an MLLM learns to read. Every position of the answer is a next-token target.

Why a stage of its own (docs/benchmarks.md, session 22): the characters are in the visual tokens the LLM
receives (`bench/probe_code_words.py`), yet question/answer training never read them. With the vision side
frozen (`--vision-lr-scale 0`) a fresh LLM learns this captioning in a few hundred steps (0.96 per
character after 600 steps); with the vision side training at the LLM's rate it stayed at chance for
4,000 steps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from model import OryxModel
from model.prompt import build_prompt, tokenize_with_image
from oryx_eval.training.data import Example, NiahSource
from oryx_eval.training.loop import OptimConfig, StepLog, batch_logits, lr_at, side_groups

QUESTION = (
    "One frame of the video shows a code word in red letters on a white background. What is the code word?"
)


@dataclass
class OcrData:
    """Code-word captioning examples drawn from `source` on the haystack seeds `seeds`."""

    source: NiahSource
    seeds: tuple[int, ...]
    prompt_ids: list[int] = field(init=False)
    im_end: int = field(init=False)

    def __post_init__(self) -> None:
        tok = self.source.tokenizer
        self.prompt_ids = tokenize_with_image(build_prompt(QUESTION, True), tok)
        self.im_end = int(tok.convert_tokens_to_ids("<|im_end|>"))

    def example(self, seed: int, needle_id: int, ratio: int) -> Example:
        """The code-word cell (`seed`, N = 1, depth 0, `needle_id`) at `ratio`, with the question without
        options as its prompt and the word's four characters then `<|im_end|>` as its answer."""
        ex = self.source.example(seed, 1, 0.0, "code_word", needle_id, ratio)
        tok = self.source.tokenizer
        answer = [int(tok.convert_tokens_to_ids(c)) for c in self.word(ex)] + [self.im_end]
        return dataclasses.replace(
            ex,
            prompt_ids=self.prompt_ids,
            answer_ids=answer,
            aux_index=len(self.prompt_ids) - 2,
            aux_target=answer[0],
            match_positions=[],
            match_targets=[],
            char_positions=[],
            char_targets=[],
        )

    def word(self, ex: Example) -> str:
        """The code word `ex` shows (``"H7XK"``)."""
        return self.source.tokenizer.decode(ex.word_ids).strip()

    def draw(self, rng: np.random.Generator, n: int, ratio: int) -> list[Example]:
        """`n` examples on haystack seeds drawn from `seeds`."""
        return [
            self.example(int(rng.choice(self.seeds)), int(rng.integers(0, 2**62)), ratio) for _ in range(n)
        ]


def ocr_validation(
    data: OcrData, seed: int, per_ratio: int, ratios: Sequence[int]
) -> dict[int, list[Example]]:
    """Fixed held-out examples on `seed` (a validation seed), per ratio."""
    return {r: [data.example(seed, 20_000 + i, r) for i in range(per_ratio)] for r in sorted(set(ratios))}


def ocr_loss(model: OryxModel, examples: Sequence[Example], ratio: int) -> tuple[torch.Tensor, float]:
    """Teacher-forced cross-entropy of the four characters and `<|im_end|>`; per-character accuracy."""
    logits = batch_logits(model, examples, ratio).answer  # (B, 5, V)
    target = torch.tensor([ex.answer_ids for ex in examples])  # (B, 5)
    acc = float((logits[:, :4].argmax(-1) == target[:, :4]).float().mean())
    return F.cross_entropy(logits.flatten(0, 1), target.flatten()), acc


@dataclass
class OcrTrainer:
    """AdamW over the LLM (at `lr * llm_lr_scale`) and the vision side (at `lr * vision_lr_scale`; 0 leaves
    it out of the optimiser, frozen)."""

    model: OryxModel
    data: OcrData
    total_steps: int
    ratios: tuple[int, ...]
    opt: OptimConfig = field(default_factory=OptimConfig)

    def __post_init__(self) -> None:
        groups = side_groups(self.model, self.opt, split_decay=False)
        self.params = [p for g in groups for p in g["params"]]
        self.optim = torch.optim.AdamW(groups, lr=self.opt.lr, betas=self.opt.betas)
        self.step_no = 0

    def step(self, rng: np.random.Generator, batch: int) -> StepLog:
        ratio = int(rng.choice(self.ratios))
        examples = self.data.draw(rng, batch, ratio)
        for g in self.optim.param_groups:
            g["lr"] = g["lr_scale"] * lr_at(self.step_no, self.total_steps, self.opt)
        loss, acc = ocr_loss(self.model, examples, ratio)
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, self.opt.grad_clip)
        self.optim.step()
        log = StepLog(self.step_no, loss.item(), ratio, 1, acc, {"ocr": loss.item()})
        self.step_no += 1
        return log

    @torch.no_grad()
    def accuracy(self, val: dict[int, list[Example]]) -> dict[str, float]:
        """Held-out per-character accuracy per ratio (``"4x"``) and their mean (``"all"``)."""
        was = self.model.training
        self.model.eval()
        out = {}
        for r, examples in val.items():
            chunks = [examples[i : i + 16] for i in range(0, len(examples), 16)]
            accs = [ocr_loss(self.model, chunk, r)[1] for chunk in chunks]
            out[f"{r}x"] = float(np.average(accs, weights=[len(chunk) for chunk in chunks]))
        self.model.train(was)
        return {"all": float(np.mean(list(out.values()))), **out}
