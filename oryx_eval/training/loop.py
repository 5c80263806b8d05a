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
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

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


def batch_logits(
    model: OryxModel, examples: Sequence[Example], compression: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Logits `(B, A, V)` at the A answer positions of each example (teacher forcing), V = tokenizer length,
    `(B, V)` at each example's auxiliary position and `(M, V)` at the match positions of all examples, in
    order (M = total match positions). All examples must have the same number of answer tokens."""
    feats, grid = model.vision_tower.forward_frames(stack_frames(examples), model.frame_chunk_size)
    emb = model.llm.get_input_embeddings()
    seqs, ans_pos, match_rows, match_pos = [], [], [], []
    start = 0
    for i, ex in enumerate(examples):
        t = ex.frames.shape[0]
        visual = model.project_video(feats[start : start + t], grid, compression)  # (Lv, D)
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
        match_rows += [i] * len(ex.match_positions)
        match_pos += [p + shift for p in ex.match_positions]
        seqs.append(seq)
    longest = max(s.shape[0] for s in seqs)
    d = seqs[0].shape[1]
    x = seqs[0].new_zeros(len(seqs), longest, d)  # right-padded (B, L, D)
    mask = torch.zeros(len(seqs), longest, dtype=torch.long)
    for i, s in enumerate(seqs):
        x[i, : s.shape[0]] = s
        mask[i, : s.shape[0]] = 1
    pos = torch.arange(longest)[None].expand(len(seqs), -1)
    hidden = model.llm.model(inputs_embeds=x, attention_mask=mask, position_ids=pos).last_hidden_state
    idx = torch.tensor(ans_pos)  # (B, 1 + A)
    picked = hidden[torch.arange(len(seqs))[:, None], idx]  # (B, 1 + A, D)
    matched = hidden[torch.tensor(match_rows, dtype=torch.long), torch.tensor(match_pos, dtype=torch.long)]
    logits = model.llm.lm_head(picked)[..., : model.vocab_limit]  # (B, 1 + A, V)
    match_logits = model.llm.lm_head(matched)[..., : model.vocab_limit]  # (M, V)
    return logits[:, 1:], logits[:, 0], match_logits


def batch_loss(
    model: OryxModel,
    examples: Sequence[Example],
    compression: int,
    aux_weight: float = 0.0,
    match_weight: float = 0.0,
) -> tuple[Tensor, float, dict[str, float]]:
    """Mean cross-entropy over the answer tokens (+ `aux_weight` x the auxiliary content-token loss
    + `match_weight` x the option-match loss at the match positions), the first-token accuracy and the
    unweighted loss terms."""
    logits, aux, opt = batch_logits(model, examples, compression)  # (B, A, V), (B, V), (M, V)
    target = torch.tensor([ex.answer_ids for ex in examples])  # (B, A)
    answer = F.cross_entropy(logits.flatten(0, 1), target.flatten())
    aux_loss = F.cross_entropy(aux, torch.tensor([ex.aux_target for ex in examples]))
    match = torch.tensor([t for ex in examples for t in ex.match_targets])  # (M,)
    match_loss = F.cross_entropy(opt, match)
    loss = answer + aux_weight * aux_loss + match_weight * match_loss
    acc = float((logits[:, 0].argmax(-1) == target[:, 0]).float().mean())
    parts = {"answer": answer.item(), "aux": aux_loss.item(), "match": match_loss.item()}
    return loss, acc, parts


@torch.no_grad()
def accuracy(model: OryxModel, examples: Sequence[Example], batch: int = 8) -> dict[str, float]:
    """First-token accuracy (greedy letter == target) overall and per needle kind."""
    was = model.training
    model.eval()
    hits: dict[str, list[float]] = {}
    for i in range(0, len(examples), batch):
        chunk = list(examples[i : i + batch])
        logits, _, _ = batch_logits(model, chunk, chunk[0].compression)
        for ex, pred in zip(chunk, logits[:, 0].argmax(-1).tolist(), strict=True):
            hits.setdefault(ex.kind, []).append(float(pred == ex.answer_ids[0]))
    model.train(was)
    out = {k: float(np.mean(v)) for k, v in hits.items()}
    out["all"] = float(np.mean([h for v in hits.values() for h in v]))
    return out


@dataclass
class Trainer:
    """AdamW over every parameter of the model."""

    model: OryxModel
    total_steps: int
    opt: OptimConfig = field(default_factory=OptimConfig)
    aux_weight: float = 0.0
    match_weight: float = 0.0

    def __post_init__(self) -> None:
        groups = []
        named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        for is_llm in (True, False):
            params = [p for n, p in named if n.startswith("llm.") == is_llm]
            scale = 1.0 if is_llm else self.opt.vision_lr_scale
            for decay in (True, False):
                chosen = [p for p in params if (p.dim() >= 2) == decay]
                wd = self.opt.weight_decay if decay else 0.0
                groups.append({"params": chosen, "weight_decay": wd, "lr_scale": scale})
        self.optim = torch.optim.AdamW(groups, lr=self.opt.lr, betas=self.opt.betas)
        self.step_no = 0

    def step(self, examples: Sequence[Example], compression: int) -> StepLog:
        for g in self.optim.param_groups:
            g["lr"] = g["lr_scale"] * lr_at(self.step_no, self.total_steps, self.opt)
        loss, acc, parts = batch_loss(self.model, examples, compression, self.aux_weight, self.match_weight)
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.opt.grad_clip)
        self.optim.step()
        log = StepLog(self.step_no, loss.item(), compression, examples[0].num_frames, acc, parts)
        self.step_no += 1
        return log


StepCallback = Callable[[StepLog, dict[str, float] | None], None]
