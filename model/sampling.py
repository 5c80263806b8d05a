"""Token selection of Oryx generation (arXiv 2409.12961), as the reference decodes.

The reference applies transformers' logits processors before the sampling warpers
(`GenerationMixin._get_logits_processor`: RepetitionPenaltyLogitsProcessor is appended before
TemperatureLogitsWarper / TopKLogitsWarper / TopPLogitsWarper, and greedy decoding takes the argmax of the
processed scores). The penalty sees the ids in `input_ids`; with only `inputs_embeds` (the Oryx wrapper call)
`_maybe_initialize_input_ids_for_generation` starts `input_ids` empty, so only generated ids are penalised.

The reference (`oryx/model/language_model/oryx_qwen.py` `generate` -> transformers 4.x `generate`, called by
its lmms-eval wrappers with `temperature`, `top_p=None`, `num_beams=1`) warps the last-position logits in this
order: temperature, top-k (the wrappers never set it: the checkpoint's generation_config value, e.g. 20 for
Oryx-1.5-7B, else the transformers 4.x default 50), then top-p, and draws from the softmax of what is left.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def apply_repetition_penalty(logits: Tensor, seen: Sequence[int], penalty: float) -> Tensor:
    """transformers' `RepetitionPenaltyLogitsProcessor` on `(V,)` logits.

    Every distinct id in `seen` (once, however often it occurs) gets its score divided by `penalty` when
    positive and multiplied by it when negative; the other scores are unchanged.

    Args:
        logits: `(V,)` next-token scores.
        seen: ids already in the sequence the penalty covers (ids >= V are ignored, as transformers does).
        penalty: > 0; 1.0 = no change.

    Returns:
        `(V,)` new scores (the input is not modified).
    """
    if not penalty > 0:
        raise ValueError(f"apply_repetition_penalty: penalty must be > 0, got {penalty}")
    ids = sorted({int(i) for i in seen if 0 <= int(i) < logits.shape[-1]})
    if penalty == 1.0 or not ids:
        return logits
    idx = torch.tensor(ids, device=logits.device)
    score = logits.gather(0, idx)
    score = torch.where(score < 0, score * penalty, score / penalty)
    return logits.scatter(0, idx, score)
