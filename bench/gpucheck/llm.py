"""LLM prefill and decode at Oryx-7B dims; `generate_shared` vs independent `generate` (random weights)."""

from __future__ import annotations

import time

import numpy as np
import torch
from flops import LLMDims, decode_bytes, kv_bytes, llm_flops, shared_video_flops, video_cost
from transformers import DynamicCache

from gpucheck.common import Shapes, rate, sync, time_fn
from model import GenerationConfig, OryxModel, VideoMedia
from model.prompt import build_prompt, tokenize_with_image

QUESTIONS = [
    "Which object appears after the car leaves the street?\nA. a bicycle\nB. a bus\nC. a dog\nD. a tree\n"
    "Answer with the option's letter from the given choices directly.",
    "How many people appear in the first frame?\nA. one\nB. two\nC. three\nD. four\n"
    "Answer with the option's letter from the given choices directly.",
    "What color is the ball in the video?\nA. red\nB. blue\nC. green\nD. yellow\n"
    "Answer with the option's letter from the given choices directly.",
]


def prefill_decode(
    m: OryxModel, shapes: Shapes, device: torch.device, peak: float | None, bw: float | None
) -> dict:
    """One prefill of a VideoMME-sized sequence (visual + text tokens), then `decode_steps` tokens."""
    d = LLMDims.of(m.config.llm)
    n = video_cost(m.config, shapes.frames, 4, shapes.source_wh, shapes.text_tokens).visual_tokens
    n += shapes.text_tokens
    g = torch.Generator(device=device).manual_seed(4)
    dtype = m.llm.get_input_embeddings().weight.dtype
    embeds = torch.randn(n, d.hidden, device=device, dtype=dtype, generator=g) * d.hidden**-0.5
    caches: list[DynamicCache] = []

    def prefill() -> None:
        caches[:] = [DynamicCache(config=m.llm.config)]
        m._forward(embeds, 0, caches[0])

    with torch.inference_mode():
        tp = time_fn(prefill, device, shapes.repeats)
        layer0 = caches[0].layers[0]
        cache_bytes = sum(
            t.numel() * t.element_size() for lay in caches[0].layers for t in (lay.keys, lay.values)
        )
        logits = m._forward(embeds[-1:], n, caches[0])  # one more token's logits to start decoding from
        stops, m.stop_ids = m.stop_ids, frozenset()  # fixed-length decode
        try:
            gen = GenerationConfig(max_new_tokens=shapes.decode_steps)
            sync(device)
            t0 = time.perf_counter()
            toks = m._decode(logits, caches[0], n + 1, gen)
            sync(device)
            td = time.perf_counter() - t0
        finally:
            m.stop_ids = stops
    steps = len(toks) - 1  # the first token comes from the prefill's logits
    fl_p = llm_flops(d, n)
    fl_d = sum(llm_flops(d, 1, past=n + 1 + i) for i in range(steps))
    by_d = sum(decode_bytes(d, n + 1 + i) for i in range(steps))
    per_tok = td / max(1, steps)
    return {
        "prefill": {
            "tokens": n,
            **tp,
            "tokens_per_s": n / tp["median_s"],
            **rate(fl_p, tp["median_s"], peak),
        },
        "kv_cache": {
            "bytes_measured": cache_bytes,
            "bytes_model": kv_bytes(d, n),
            "dtype": str(layer0.keys.dtype),
        },
        "decode": {
            "steps": steps,
            "s_per_token": per_tok,
            "tokens_per_s": 1 / per_tok if per_tok else None,
            **rate(fl_d, td, peak),
            "gb_s": by_d / td / 1e9 if td else None,
            "of_bandwidth": (by_d / td / 1e9 / bw) if (bw and td) else None,
            "bytes_per_token_model": decode_bytes(d, n),
        },
    }


def shared_vs_independent(m: OryxModel, shapes: Shapes, device: torch.device, peak: float | None) -> dict:
    """3 questions on one 64-frame 720p video: `generate_shared` vs 3 `generate` calls (greedy, fixed len)."""
    w, h = shapes.source_wh
    frames = np.random.default_rng(5).integers(0, 256, size=(shapes.frames, h, w, 3), dtype=np.uint8)
    media, qs = VideoMedia(frames), QUESTIONS[: shapes.questions]
    gen = GenerationConfig(max_new_tokens=shapes.answer_tokens)
    stops, m.stop_ids = m.stop_ids, frozenset()
    try:
        m.generate(qs[0], media, 4, GenerationConfig(max_new_tokens=2))  # warm-up (kernels, allocator)
        t_ind, t_sh, same = [], [], []
        for _ in range(max(1, shapes.repeats // 2)):
            sync(device)
            t0 = time.perf_counter()
            alone = [m.generate(q, media, 4, gen) for q in qs]
            t1 = time.perf_counter()
            shared = m.generate_shared(media, qs, 4, gen)
            t2 = time.perf_counter()
            t_ind.append(t1 - t0)
            t_sh.append(t2 - t1)
            same.append([o.token_ids for o in alone] == [o.token_ids for o in shared])
    finally:
        m.stop_ids = stops
    cost = video_cost(m.config, shapes.frames, 4, shapes.source_wh, 0)
    q_tokens = [len(tokenize_with_image(build_prompt(q, True), m.tokenizer)) - 1 for q in qs]
    d = LLMDims.of(m.config.llm)
    fl_ind = sum(
        cost.vit
        + cost.compressor
        + cost.projector
        + llm_flops(d, cost.visual_tokens + n)
        + sum(llm_flops(d, 1, past=cost.visual_tokens + n + i) for i in range(shapes.answer_tokens - 1))
        for n in q_tokens
    )
    fl_sh, _ = shared_video_flops(
        m.config, cost, len(qs), max(1, int(np.mean(q_tokens)) - 20), shapes.answer_tokens
    )
    ind, sh = min(t_ind), min(t_sh)
    st = shared[0].timings
    return {
        "questions": len(qs),
        "answer_tokens": shapes.answer_tokens,
        "visual_tokens": shared[0].tokens.visual,
        "prompt_tokens": q_tokens,
        "independent": {"best_s": ind, "runs_s": t_ind, **rate(fl_ind, ind, peak)},
        "shared": {"best_s": sh, "runs_s": t_sh, **rate(fl_sh, sh, peak)},
        "speedup": ind / sh,
        "outputs_identical": same,
        "note": "greedy bf16: a shared prefix prefilled apart from its suffix can flip near-tied argmaxes",
        "shared_stage_means_s": {
            "preprocess": st.preprocess,
            "vision": st.vision,
            "compress": st.compress,
            "prefill": st.prefill,
            "decode": st.decode,
        },
    }
