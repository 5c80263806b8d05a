"""FLOP and byte counts of Oryx's stages, from the model configs (shared by gpu_model.py and gpu_check.py).

Conventions: FLOPs = 2 x multiply-adds of the matrix products (linear layers, attention scores and values,
the patch convolution); norms, softmax, activations and pooling are left out (under 1% here). Attention is
counted over the keys each query actually sees (segments for the ViT, the causal prefix for the LLM).
Bytes are the fewest a stage must move through device memory: each weight read once per forward, the KV
cache read once per decoded token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.compressor import RATIO_TO_K
from model.config import CompressorConfig, OryxConfig, ProjectorConfig, VisionConfig
from model.preprocess import ImageResize, VideoResize, image_view_sizes, video_frame_size
from model.tokens import count_visual_tokens


@dataclass(frozen=True)
class LLMDims:
    """The shape-setting fields of a Qwen2/Llama config.json."""

    hidden: int
    inter: int
    layers: int
    heads: int
    kv_heads: int
    vocab: int

    @classmethod
    def of(cls, llm: dict[str, Any]) -> LLMDims:
        return cls(
            hidden=int(llm["hidden_size"]),
            inter=int(llm["intermediate_size"]),
            layers=int(llm["num_hidden_layers"]),
            heads=int(llm["num_attention_heads"]),
            kv_heads=int(llm.get("num_key_value_heads") or llm["num_attention_heads"]),
            vocab=int(llm["vocab_size"]),
        )

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def layer_matrix_params(self) -> int:
        """q, k, v, o and the gated MLP of one decoder layer."""
        d, kv = self.hidden, self.kv_heads * self.head_dim
        return 2 * d * d + 2 * d * kv + 3 * d * self.inter

    @property
    def params(self) -> int:
        """All parameters (q/k/v biases and norms included; untied embedding and LM head)."""
        d, kv = self.hidden, self.kv_heads * self.head_dim
        per_layer = self.layer_matrix_params + (d + 2 * kv) + 2 * d
        return self.layers * per_layer + 2 * self.vocab * d + d


def vit_flops(v: VisionConfig, seqlens: list[int]) -> float:
    """OryxViT over segments of `seqlens` tokens (one per image / frame), attention within each segment."""
    c, m, p = v.width, v.mlp_dim, v.patch
    n = sum(seqlens)
    dense = n * (2 * 3 * p * p * c + v.depth * 2 * (4 * c * c + 2 * c * m))
    attn = v.depth * sum(4 * s * s * c for s in seqlens)
    return float(dense + attn)


def compressor_flops(c: CompressorConfig, frames: int, grid_hw: tuple[int, int], ratio: int) -> float:
    """Dynamic compressor: Q of each pooled cell, K of every raw token, one-query attention per window."""
    k = RATIO_TO_K[ratio]
    h, w = grid_hw
    cells, raw = (h // k) * (w // k), h * w
    per_frame = 2 * c.dim * c.mid * (cells + raw) + cells * (2 * c.mid * k * k + 2 * k * k * c.dim)
    return float(frames * per_frame)


def projector_flops(p: ProjectorConfig, tokens: int) -> float:
    """Two-layer MLP on every compressed visual token."""
    return float(2 * tokens * (p.in_dim * p.out_dim + p.out_dim * p.out_dim))


def llm_attn_flops(d: LLMDims, new: int, past: int = 0) -> float:
    """Scores and values of `new` causal queries after `past` cached positions (token i sees past + i + 1)."""
    keys_seen = new * past + new * (new + 1) / 2
    return float(4 * d.layers * d.heads * d.head_dim * keys_seen)


def llm_flops(d: LLMDims, new: int, past: int = 0, logits: int = 1) -> float:
    """`new` tokens at positions past..past+new-1 through the decoder, plus `logits` rows of the LM head."""
    dense = 2 * new * d.layers * d.layer_matrix_params
    return float(dense + llm_attn_flops(d, new, past) + 2 * logits * d.hidden * d.vocab)


def kv_bytes(d: LLMDims, tokens: int, elem: int = 2) -> int:
    """KV cache of `tokens` positions (keys and values of every layer)."""
    return tokens * d.layers * 2 * d.kv_heads * d.head_dim * elem


def decode_bytes(d: LLMDims, context: int, elem: int = 2) -> int:
    """Device-memory bytes one decoded token reads: every weight but the embedding table, and the cache."""
    return (d.params - d.vocab * d.hidden) * elem + kv_bytes(d, context, elem)


@dataclass(frozen=True)
class VideoCost:
    """FLOPs of one video sample at `frames` frames and compression `ratio`."""

    frames: int
    ratio: int
    frame_wh: tuple[int, int]  # after Oryx's resize
    vit_tokens: int
    visual_tokens: int  # LLM positions of the visual sequence
    vit: float
    compressor: float
    projector: float
    prefill: float  # visual + text tokens, one question
    kv_bytes: int  # cache after that prefill

    @property
    def total(self) -> float:
        return self.vit + self.compressor + self.projector + self.prefill


def video_cost(
    cfg: OryxConfig, frames: int, ratio: int, source_wh: tuple[int, int] = (1280, 720), text_tokens: int = 80
) -> VideoCost:
    """Cost of one video question from the configs and Oryx's resize rules (no shortcut by hand)."""
    v, d = cfg.vision, LLMDims.of(cfg.llm)
    fw, fh = video_frame_size(*source_wh, VideoResize(), ratio, v.patch)
    grid = (fh // v.patch, fw // v.patch)
    k = RATIO_TO_K[ratio]
    vis = count_visual_tokens("video", source_wh, frames=frames, compression=ratio, patch=v.patch)
    n = vis + text_tokens
    return VideoCost(
        frames=frames,
        ratio=ratio,
        frame_wh=(fw, fh),
        vit_tokens=frames * grid[0] * grid[1],
        visual_tokens=vis,
        vit=vit_flops(v, [grid[0] * grid[1]] * frames),
        compressor=compressor_flops(cfg.compressor, frames, grid, ratio),
        projector=projector_flops(cfg.projector, frames * (grid[0] // k) * (grid[1] // k)),
        prefill=llm_flops(d, n),
        kv_bytes=kv_bytes(d, n),
    )


def image_cost(cfg: OryxConfig, source_wh: tuple[int, int], text_tokens: int = 80) -> VideoCost:
    """Cost of one image question: both views through the ViT (packed), each compressed at 1x."""
    v, d = cfg.vision, LLMDims.of(cfg.llm)
    views = image_view_sizes(*source_wh, ImageResize())
    grids = [(-(-h // v.patch), -(-w // v.patch)) for w, h in views]
    segs = [h * w for h, w in grids]
    vis = count_visual_tokens("image", source_wh, patch=v.patch)
    return VideoCost(
        frames=1, ratio=1, frame_wh=views[1], vit_tokens=sum(segs), visual_tokens=vis,
        vit=vit_flops(v, segs), compressor=sum(compressor_flops(cfg.compressor, 1, g, 1) for g in grids),
        projector=projector_flops(cfg.projector, sum(segs)), prefill=llm_flops(d, vis + text_tokens),
        kv_bytes=kv_bytes(d, vis + text_tokens),
    )  # fmt: skip


def shared_video_flops(
    cfg: OryxConfig, cost: VideoCost, questions: int, question_tokens: int, answer_tokens: int
) -> tuple[float, float]:
    """(FLOPs, decode bytes) of `questions` questions on one video with the shared prefix prefilled once.

    The prefix is the visual sequence plus the system turn (text tokens minus each question's own).
    """
    d = LLMDims.of(cfg.llm)
    prefix = cost.visual_tokens + 20  # ChatML system turn and user-turn start
    enc = cost.vit + cost.compressor + cost.projector
    fl = enc + llm_flops(d, prefix, logits=0)
    by = 0.0
    for _ in range(questions):
        fl += llm_flops(d, question_tokens, past=prefix)
        ctx = prefix + question_tokens
        for t in range(answer_tokens - 1):  # the first answer token comes from the prefill's logits
            fl += llm_flops(d, 1, past=ctx + t)
            by += decode_bytes(d, ctx + t)
    return fl, by
