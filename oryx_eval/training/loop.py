"""Training loop of the tiny Oryx on NIAH question/answer pairs (answer tokens + two auxiliary losses).

Each step draws one batch (one frame count and one compression ratio from {1, 4, 16}, so one model
serves all three, as Oryx is trained), runs the frames through the same path as `OryxModel.encode`
(`vision_tower.forward_frames` -> `project_video`), splices the visual sequence into the ChatML prompt
as `OryxModel._splice` does, and takes the cross-entropy of the option letter and `<|im_end|>`, plus
weighted auxiliary terms at prompt positions never generated from at evaluation (the correct option's
content token before the options; each option's letter-or-newline at its last token).
Seeded and deterministic on CPU for a given thread count.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from model import OryxModel
from model.prompt import IMAGE_TOKEN_INDEX
from oryx_eval.training.data import Example, stack_frames


@dataclass(frozen=True)
class OptimConfig:
    """AdamW with linear warm-up and cosine decay."""

    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: int = 30
    betas: tuple[float, float] = (0.9, 0.98)
    grad_clip: float = 1.0
    # learning-rate multiplier of the vision side (OryxViT, compressor, projector) against the LLM's; the
    # randomly initialised ViT's features already separate the needles, and training it at the LLM's rate
    # keeps moving them under the LLM (the held-out letter never leaves chance); Oryx also trains its ViT
    # at a lower rate than its LLM
    vision_lr_scale: float = 0.1
    # learning-rate multiplier of the LLM; 0 freezes it (out of the optimiser), as LLaVA-style alignment
    # trains the vision side against a fixed LLM
    llm_lr_scale: float = 1.0


@dataclass
class StepLog:
    step: int
    loss: float
    compression: int
    num_frames: int
    accuracy: float  # batch accuracy of the first answer token (argmax == letter)
    parts: dict[str, float] = field(default_factory=dict)  # unweighted loss terms: answer, aux, match


def lr_at(step: int, total: int, opt: OptimConfig) -> float:
    """Learning rate of `step` (0-based) out of `total` steps."""
    if step < opt.warmup:
        return opt.lr * (step + 1) / opt.warmup
    frac = (step - opt.warmup) / max(1, total - opt.warmup)
    return opt.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


@dataclass
class BatchOut:
    """What one forward pass of a batch gives the losses (rows of all examples, in order)."""

    answer: Tensor  # (B, A, V) logits at the A answer positions (teacher forcing), V = tokenizer length
    aux: Tensor  # (B, V) logits at each example's auxiliary position
    match: Tensor  # (M, V) logits at the option-match positions
    chars: Tensor  # (C, D) last hidden states at the character-membership positions
    # with `layers=True`: per example, `(L, S, D)` hidden states of the L layers at the S positions after
    # the visual span (question, options, answer prefix: the same tokens whatever the span shows)
    suffix: list[Tensor] = field(default_factory=list)


def text_in_frame(visual: Tensor, frames: int, k: int, text: Tensor) -> Tensor:
    """The laid-out video `(2 + T*F, D)` ([begin] {rows, [sep]} x T [end], F tokens a frame) with frame
    `k`'s rows (its F - 1 tokens before the separator) replaced by `text` `(W, D)`."""
    per = (visual.shape[0] - 2) // frames  # F
    at = 1 + k * per
    return torch.cat([visual[:at], text, visual[at + per - 1 :]], dim=0)


def batch_logits(
    model: OryxModel, examples: Sequence[Example], compression: int, layers: bool = False
) -> BatchOut:
    """One teacher-forced forward pass of `examples` (all with the same number of answer tokens); `layers`
    also returns every layer's hidden states after the visual span (`BatchOut.suffix`)."""
    feats, grid = model.vision_tower.forward_frames(stack_frames(examples), model.frame_chunk_size)
    emb = model.llm.get_input_embeddings()
    seqs, ans_pos, n_after = [], [], []
    rows: dict[str, list[int]] = {"match": [], "chars": []}
    cols: dict[str, list[int]] = {"match": [], "chars": []}
    start = 0
    for i, ex in enumerate(examples):
        t = ex.frames.shape[0]
        visual = model.project_video(feats[start : start + t], grid, compression)  # (Lv, D)
        if ex.as_text:  # the needle frame's rows -> the word's token embeddings
            visual = text_in_frame(visual, t, ex.word_frame, emb(torch.tensor(ex.word_ids)))
        start += t
        ids = ex.prompt_ids
        a = ids.index(IMAGE_TOKEN_INDEX)
        after = ids[a + 1 :] + ex.answer_ids[:-1]  # teacher-forced answer, last token never fed
        parts = [emb(torch.tensor(ids[:a])), visual, emb(torch.tensor(after))]
        seq = torch.cat(parts, dim=0)  # (L, D)
        n_ans = len(ex.answer_ids)
        # prompt token j > a sits at j + Lv - 1 in the spliced sequence
        shift = visual.shape[0] - 1
        ans_pos.append([ex.aux_index + shift, *range(seq.shape[0] - n_ans, seq.shape[0])])
        for key, positions in (
            ("match", ex.match_positions),
            ("chars", ex.char_positions),
        ):
            rows[key] += [i] * len(positions)
            cols[key] += [p + shift for p in positions]
        seqs.append(seq)
        n_after.append(len(after))
    longest = max(s.shape[0] for s in seqs)
    d = seqs[0].shape[1]
    x = seqs[0].new_zeros(len(seqs), longest, d)  # right-padded (B, L, D)
    mask = torch.zeros(len(seqs), longest, dtype=torch.long)
    for i, s in enumerate(seqs):
        x[i, : s.shape[0]] = s
        mask[i, : s.shape[0]] = 1
    pos = torch.arange(longest)[None].expand(len(seqs), -1)
    run = model.llm.model(inputs_embeds=x, attention_mask=mask, position_ids=pos, output_hidden_states=layers)
    hidden = run.last_hidden_state
    suffix = []
    if layers:
        hs = torch.stack(run.hidden_states[1:], dim=1)  # (B, L, longest, D), the embeddings left out
        for i, (s, n) in enumerate(zip(seqs, n_after, strict=True)):
            suffix.append(hs[i, :, s.shape[0] - n : s.shape[0]])
    idx = torch.tensor(ans_pos)  # (B, 1 + A)
    picked = hidden[torch.arange(len(seqs))[:, None], idx]  # (B, 1 + A, D)
    at = {
        k: hidden[torch.tensor(rows[k], dtype=torch.long), torch.tensor(cols[k], dtype=torch.long)]
        for k in rows
    }
    logits = model.llm.lm_head(picked)[..., : model.vocab_limit]  # (B, 1 + A, V)
    match = model.llm.lm_head(at["match"])[..., : model.vocab_limit]  # (M, V)
    return BatchOut(logits[:, 1:], logits[:, 0], match, at["chars"], suffix)


@dataclass(frozen=True)
class LossWeights:
    """Weights of the auxiliary terms next to the answer's cross-entropy (0 = off)."""

    aux: float = 0.0  # the correct option's first content token at the newline before the options
    match: float = 0.0  # option-match: letter-or-newline at the match positions
    char: float = 0.0  # binary cross-entropy of the membership head at the code-word option characters
    # code words shown as video: every LLM layer's hidden states after the visual span pulled towards those
    # of the same needle with the word shown as text (no gradient through that teacher copy)
    distill: float = 0.0


def batch_loss(
    model: OryxModel,
    examples: Sequence[Example],
    compression: int,
    weights: LossWeights = LossWeights(),
    char_head: nn.Module | None = None,
) -> tuple[Tensor, float, dict[str, float]]:
    """Answer cross-entropy + the weighted auxiliary terms (the membership term only with `char_head` and a
    batch that has code words), the first-token accuracy and the unweighted loss terms."""
    out = batch_logits(model, examples, compression, layers=weights.distill > 0)
    target = torch.tensor([ex.answer_ids for ex in examples])  # (B, A)
    answer = F.cross_entropy(out.answer.flatten(0, 1), target.flatten())
    aux_loss = F.cross_entropy(out.aux, torch.tensor([ex.aux_target for ex in examples]))
    match = torch.tensor([t for ex in examples for t in ex.match_targets])  # (M,)
    match_loss = F.cross_entropy(out.match, match)
    loss = answer + weights.aux * aux_loss + weights.match * match_loss
    parts = {"answer": answer.item(), "aux": aux_loss.item(), "match": match_loss.item()}
    if char_head is not None and out.chars.shape[0] > 0:
        present = torch.tensor([float(t) for ex in examples for t in ex.char_targets])  # (C,)
        char_loss = F.binary_cross_entropy_with_logits(char_head(out.chars).squeeze(-1), present)
        loss = loss + weights.char * char_loss
        parts["char"] = char_loss.item()
    video_words = [i for i, ex in enumerate(examples) if ex.word_ids is not None and not ex.as_text]
    if weights.distill > 0 and video_words:
        d = distill_loss(
            model, [examples[i] for i in video_words], compression, [out.suffix[i] for i in video_words]
        )
        loss = loss + weights.distill * d
        parts["distill"] = d.item()
    acc = float((out.answer[:, 0].argmax(-1) == target[:, 0]).float().mean())
    return loss, acc, parts


def distill_loss(
    model: OryxModel, examples: Sequence[Example], compression: int, student: Sequence[Tensor]
) -> Tensor:
    """Mean over `examples` (code words shown as video) of the squared distance between their hidden
    states after the visual span (`student`, `(L, S, D)` each) and those of the same examples with the word
    shown as text (the teacher, no gradient), relative to the teacher's mean square."""
    with torch.no_grad():
        teacher = batch_logits(
            model, [replace(ex, as_text=True) for ex in examples], compression, True
        ).suffix
    terms = [((s - t) ** 2).mean() / (t**2).mean() for s, t in zip(student, teacher, strict=True)]
    return torch.stack(terms).mean()


@torch.no_grad()
def accuracy(model: OryxModel, examples: Sequence[Example], batch: int = 8) -> dict[str, float]:
    """First-token accuracy (greedy letter == target) overall and per needle kind."""
    was = model.training
    model.eval()
    hits: dict[str, list[float]] = {}
    for i in range(0, len(examples), batch):
        chunk = list(examples[i : i + batch])
        logits = batch_logits(model, chunk, chunk[0].compression).answer
        for ex, pred in zip(chunk, logits[:, 0].argmax(-1).tolist(), strict=True):
            hits.setdefault(ex.kind, []).append(float(pred == ex.answer_ids[0]))
    model.train(was)
    out = {k: float(np.mean(v)) for k, v in hits.items()}
    out["all"] = float(np.mean([h for v in hits.values() for h in v]))
    return out


def char_head(model: OryxModel, seed: int) -> nn.Module:
    """The training-only membership head `(.., D)` -> `(.., 1)`, initialised from `seed` without touching
    the global RNG (runs without it stay bit-identical)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return nn.Linear(model.llm.config.hidden_size, 1)


def side_groups(model: nn.Module, opt: OptimConfig, split_decay: bool) -> list[dict]:
    """AdamW parameter groups of the LLM (`lr * llm_lr_scale`), then the vision side (`lr * vision_lr_scale`).

    A side at scale 0 is frozen: `requires_grad` off and out of the optimiser, so no gradient is computed for
    it (no backward pass through the ViT) and none counts in the clip norm. `split_decay` exempts 1-D
    parameters (norms, biases) from weight decay, as the question/answer stage does.
    """
    groups = []
    for is_llm in (True, False):
        scale = opt.llm_lr_scale if is_llm else opt.vision_lr_scale
        params = [p for n, p in model.named_parameters() if n.startswith("llm.") == is_llm]
        for p in params:
            p.requires_grad_(scale > 0)
        if scale == 0:
            continue
        if not split_decay:
            groups.append({"params": params, "weight_decay": opt.weight_decay, "lr_scale": scale})
            continue
        for decay in (True, False):
            chosen = [p for p in params if (p.dim() >= 2) == decay]
            wd = opt.weight_decay if decay else 0.0
            groups.append({"params": chosen, "weight_decay": wd, "lr_scale": scale})
    if not groups:
        raise ValueError("nothing to train: a non-zero learning rate on the LLM or the vision side is needed")
    return groups


@dataclass
class Trainer:
    """AdamW over the trained sides (`side_groups`) and the membership head when `weights.char > 0`."""

    model: OryxModel
    total_steps: int
    opt: OptimConfig = field(default_factory=OptimConfig)
    weights: LossWeights = LossWeights()
    seed: int = 0  # the membership head's initialisation

    def __post_init__(self) -> None:
        groups = side_groups(self.model, self.opt, split_decay=True)
        self.char_head = char_head(self.model, self.seed) if self.weights.char > 0 else None
        if self.char_head is not None:
            groups.append({"params": list(self.char_head.parameters()), "weight_decay": 0.0, "lr_scale": 1.0})
        self.optim = torch.optim.AdamW(groups, lr=self.opt.lr, betas=self.opt.betas)
        self.step_no = 0

    def step(self, examples: Sequence[Example], compression: int) -> StepLog:
        for g in self.optim.param_groups:
            g["lr"] = g["lr_scale"] * lr_at(self.step_no, self.total_steps, self.opt)
        loss, acc, parts = batch_loss(self.model, examples, compression, self.weights, self.char_head)
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        params = list(self.model.parameters())  # this order: runs without the head stay bit-identical
        if self.char_head is not None:
            params += list(self.char_head.parameters())
        torch.nn.utils.clip_grad_norm_(params, self.opt.grad_clip)
        self.optim.step()
        log = StepLog(self.step_no, loss.item(), compression, examples[0].num_frames, acc, parts)
        self.step_no += 1
        return log


StepCallback = Callable[[StepLog, dict[str, float] | None], None]
