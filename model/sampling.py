"""Token sampling of Oryx generation (arXiv 2409.12961), as the reference decodes.

The reference (`oryx/model/language_model/oryx_qwen.py` `generate` -> transformers 4.x `generate`, called by
its lmms-eval wrappers with `temperature`, `top_p=None`, `num_beams=1`) warps the last-position logits in this
order: temperature, top-k (the transformers 4.x GenerationConfig default k = 50, since the wrappers never set
it), then top-p, and draws from the softmax of what is left.
"""

from __future__ import annotations

import torch
from torch import Tensor


def sampling_probs(logits: Tensor, temperature: float, top_k: int | None, top_p: float | None) -> Tensor:
    """Sampling distribution over `(V,)` logits.

    Args:
        logits: `(V,)` next-token logits.
        temperature: > 0; the logits are divided by it.
        top_k: keep the k highest (ties with the k-th kept, as transformers); None = all.
        top_p: keep the smallest top set whose mass reaches top_p (the top token always); None = all.

    Returns:
        `(V,)` float32 probabilities summing to 1, zero where filtered.
    """
    if temperature <= 0:
        raise ValueError(f"sampling_probs: temperature must be > 0 (0 means greedy), got {temperature}")
    scores = logits.float() / temperature  # (V,)
    if top_k is not None and top_k < scores.numel():
        kth = torch.topk(scores, top_k).values[-1]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    probs = torch.softmax(scores, dim=-1)  # (V,)
    if top_p is not None and top_p < 1:
        sp, si = probs.sort(descending=True)
        keep = (sp.cumsum(0) - sp) < top_p  # mass before each token; the top token is always kept
        probs = torch.zeros_like(probs).scatter(0, si[keep], sp[keep] / sp[keep].sum())  # renormalised
    return probs
