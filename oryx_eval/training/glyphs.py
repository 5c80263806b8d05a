"""Glyph stage of the tiny Oryx (`train-tiny --stage glyphs`): the vision side learns code-word characters.

Why a stage of its own: the projected tokens of code-word frames barely differ from one word to the next
(mean deviation ~3 against a token norm ~24, where shape needles deviate by ~26), so the LLM's reading of
them never left chance. Here the LLM is frozen (not in the optimiser) and the vision side (OryxViT,
compressor, projector) is trained on single needle frames, one compression ratio per step, with three
terms:

- ``ocr``: cross-entropy of the code word's 4 characters read from the frame's projected tokens
  ``(n, D)`` by a per-ratio head (BatchNorm over the flattened ``n * D`` features, then linear). The heads
  are training-only and not written to the checkpoint.
- ``bag``: the same characters as a set, read by one head shared by every token (BatchNorm + linear per
  token, max over the frame's tokens, binary cross-entropy against the multi-hot of the word): a
  position-invariant code, which an LLM query for a character can match wherever it sits. With it, a
  code-word-only question/answer run's first-character loss fell from ln 24 = 3.18 to 1.9 in 3000 steps;
  without it, it stayed at ~3.2 for 4000 (docs/benchmarks.md, session 19).
- ``spread``: ``mean(relu(floor - std))`` over each (token, dim) of the batch's code-word frames: the
  BatchNorm head would read the characters at any scale; the LLM needs them at the scale of the rest.
- ``keep``: MSE of haystack and other needle frames' tokens against the parent's (a frozen copy), so what
  the LLM already reads from them stays valid.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from model import OryxModel
from model.preprocess import preprocess_video, video_frame_size
from oryx_eval.benchmarks.niah.needles import CODE_ALPHABET, make_needle
from oryx_eval.training.data import NiahSource
from oryx_eval.training.loop import OptimConfig, StepLog, lr_at

WORD = 4  # characters per code word
KEEP_KINDS = ("shape", "count", "order")


def frame_tokens(model: OryxModel, frames: Tensor, ratio: int) -> Tensor:
    """Normalised frames `(B, 3, H, W)` -> projected visual tokens per frame `(B, n, D)` (before layout)."""
    feats, grid = model.vision_tower.forward_frames(frames, model.frame_chunk_size)
    comp, _ = model.vision_resampler(feats, grid, ratio)  # (B, n, C)
    return model.mm_projector(comp)  # (B, n, D)


@dataclass
class GlyphData:
    """Single needle / haystack frames at the model's input resolution, drawn from `seeds`."""

    source: NiahSource
    seeds: tuple[int, ...]

    def _prep(self, frames: list[np.ndarray], ratio: int) -> Tensor:
        return preprocess_video(np.stack(frames), self.source.video_spec, ratio)  # (B, 3, H, W)

    def _size(self, ratio: int) -> tuple[int, int]:
        return video_frame_size(*self.source.frame_size, self.source.video_spec, ratio)

    def words(
        self, rng: np.random.Generator, n: int, ratio: int, seed: int | None = None
    ) -> tuple[Tensor, Tensor]:
        """`n` code-word frames `(n, 3, H, W)` and their characters `(n, 4)` (indices into the alphabet)."""
        frames, chars = [], []
        for _ in range(n):
            s = int(rng.choice(self.seeds)) if seed is None else seed
            spec = make_needle("code_word", s, int(rng.integers(0, 2**62)))
            frames.append(self.source.needle_frames(spec, self._size(ratio))[0])
            chars.append([CODE_ALPHABET.index(c) for c in str(spec.items[0].word)])
        return self._prep(frames, ratio), torch.tensor(chars)

    def others(self, rng: np.random.Generator, n: int, ratio: int) -> Tensor:
        """`n` frames that are not code words: half haystack, half shape / count / order needle frames."""
        size, frames = self._size(ratio), []
        for i in range(n):
            s = int(rng.choice(self.seeds))
            if i < n // 2:
                frames.append(self.source.hay_frame(s, int(rng.integers(0, 64)), size))
            else:
                spec = make_needle(KEEP_KINDS[i % len(KEEP_KINDS)], s, int(rng.integers(0, 2**62)))
                frames.append(self.source.needle_frames(spec, size)[0])
        return self._prep(frames, ratio)


def _heads(model: OryxModel, data: GlyphData, ratios: Sequence[int]) -> nn.ModuleDict:
    """One reading head per ratio (key "4" for 4x): BatchNorm over the flattened `(n * D)` tokens, then
    `4 x 24` logits."""
    heads = {}
    with torch.no_grad():
        for r in ratios:
            x, _ = data.words(np.random.default_rng(0), 1, r, seed=data.seeds[0])
            n, d = frame_tokens(model, x, r).shape[1:]
            heads[str(r)] = nn.Sequential(nn.BatchNorm1d(n * d), nn.Linear(n * d, WORD * len(CODE_ALPHABET)))
    return nn.ModuleDict(heads)


def bag_head(model: OryxModel) -> nn.Module:
    """The shared per-token head: BatchNorm + linear, `(.., D)` -> `(.., 24)` character logits."""
    d = model.llm.config.hidden_size
    return nn.Sequential(nn.BatchNorm1d(d), nn.Linear(d, len(CODE_ALPHABET)))


def read_bag(head: nn.Module, tokens: Tensor) -> Tensor:
    """Per-frame character-set logits `(B, 24)` of frame tokens `(B, n, D)`: max over the tokens."""
    b, n, d = tokens.shape
    return head(tokens.reshape(b * n, d)).view(b, n, -1).amax(1)


def read_chars(heads: nn.ModuleDict, tokens: Tensor, ratio: int) -> Tensor:
    """Character logits `(B, 4, 24)` of frame tokens `(B, n, D)`."""
    return heads[str(ratio)](tokens.flatten(1)).view(-1, WORD, len(CODE_ALPHABET))


@dataclass
class GlyphTrainer:
    """AdamW over the vision side (at `lr * vision_lr_scale`) and the heads (at `lr`); the LLM is frozen."""

    model: OryxModel
    data: GlyphData
    total_steps: int
    ratios: tuple[int, ...]
    opt: OptimConfig = field(default_factory=OptimConfig)
    spread_floor: float = 1.0
    keep_weight: float = 1.0

    def __post_init__(self) -> None:
        self.reference = copy.deepcopy(self.model).eval().requires_grad_(False)
        self.heads = _heads(self.model, self.data, sorted(set(self.ratios)))
        self.heads["bag"] = bag_head(self.model)
        vision = [p for n, p in self.model.named_parameters() if not n.startswith("llm.")]
        self.model.llm.requires_grad_(False)
        groups = [
            {"params": vision, "lr_scale": self.opt.vision_lr_scale},
            {"params": list(self.heads.parameters()), "lr_scale": 1.0},
        ]
        self.optim = torch.optim.AdamW(
            groups, lr=self.opt.lr, betas=self.opt.betas, weight_decay=self.opt.weight_decay
        )
        self.step_no = 0

    def step(self, rng: np.random.Generator, batch: int) -> StepLog:
        ratio = int(rng.choice(self.ratios))
        words, chars = self.data.words(rng, batch, ratio)
        others = self.data.others(rng, batch, ratio)
        for g in self.optim.param_groups:
            g["lr"] = g["lr_scale"] * lr_at(self.step_no, self.total_steps, self.opt)
        tokens = frame_tokens(self.model, words, ratio)  # (B, n, D)
        logits = read_chars(self.heads, tokens, ratio)  # (B, 4, 24)
        ocr = F.cross_entropy(logits.flatten(0, 1), chars.flatten())
        present = torch.zeros(len(chars), len(CODE_ALPHABET)).scatter_(1, chars, 1.0)  # (B, 24)
        bag = F.binary_cross_entropy_with_logits(read_bag(self.heads["bag"], tokens), present)
        spread = F.relu(self.spread_floor - tokens.std(0)).mean()
        with torch.no_grad():
            kept = frame_tokens(self.reference, others, ratio)
        keep = F.mse_loss(frame_tokens(self.model, others, ratio), kept)
        loss = ocr + bag + spread + self.keep_weight * keep
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(
            [p for g in self.optim.param_groups for p in g["params"]], self.opt.grad_clip
        )
        self.optim.step()
        acc = float((logits.argmax(-1) == chars).float().mean())
        parts = {"ocr": ocr.item(), "bag": bag.item(), "spread": spread.item(), "keep": keep.item()}
        log = StepLog(self.step_no, loss.item(), ratio, 1, acc, parts)
        self.step_no += 1
        return log

    @torch.no_grad()
    def accuracy(self, val: dict[int, tuple[Tensor, Tensor]]) -> dict[str, float]:
        """Per-character accuracy of the heads on fixed held-out code words, per ratio (``"4x"``) and mean."""
        self.model.eval()
        self.heads.eval()
        out = {}
        for r, (x, chars) in val.items():
            pred = read_chars(self.heads, frame_tokens(self.model, x, r), r).argmax(-1)
            out[f"{r}x"] = float((pred == chars).float().mean())
        self.model.train()
        self.heads.train()
        return {"all": float(np.mean(list(out.values()))), **out}


def glyph_validation(
    data: GlyphData, seed: int, per_ratio: int, ratios: Sequence[int]
) -> dict[int, tuple[Tensor, Tensor]]:
    """Fixed held-out code words on `seed` (a validation seed, disjoint from training and evaluation)."""
    return {r: data.words(np.random.default_rng(seed), per_ratio, r, seed=seed) for r in sorted(set(ratios))}
