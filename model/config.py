"""Frozen configuration records for Oryx (arXiv 2409.12961; reference `oryx/model/*`).

Real checkpoints carry only the LLM fields plus `mm_*` keys in config.json; the ViT dims are hard-coded
in the reference (SigLIP-so400m, patch 16). The optional key `oryx_vision_config` overrides them so
that the tiny test checkpoint goes through the same loader.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

LLMKind = Literal["qwen2", "llama"]

# config.json `model_type` -> LLM family (routing by config, never by the model's name)
MODEL_TYPES: dict[str, LLMKind] = {"oryx_qwen": "qwen2", "oryx_llama": "llama", "llava_qwen": "qwen2"}


@dataclass(frozen=True)
class VisionConfig:
    """OryxViT hyper-parameters (defaults = the released OryxViT)."""

    width: int = 1152  # token dim C
    depth: int = 27  # number of pre-LN blocks
    heads: int = 16  # attention heads (head_dim = width / heads = 72)
    mlp_dim: int = 4304  # int(1152 * 3.7362)
    patch: int = 16  # conv kernel = stride
    pos_grid: int = 128  # learned position table is pos_grid x pos_grid (2048 px / 16)
    ln_eps: float = 1e-6  # LayerNorm epsilon

    @property
    def head_dim(self) -> int:
        return self.width // self.heads


@dataclass(frozen=True)
class CompressorConfig:
    """Dynamic compressor: one-query local attention over each k x k window."""

    dim: int = 1152  # feature dim (= vision width)
    mid: int = 256  # Q/K projection dim (hard-coded 256 in the reference)


@dataclass(frozen=True)
class ProjectorConfig:
    """Two-layer GELU MLP from vision features to LLM embeddings."""

    in_dim: int = 1152  # mm_hidden_size
    out_dim: int = 3584  # LLM hidden size D


@dataclass(frozen=True)
class OryxConfig:
    """Everything needed to build an Oryx model; `llm` is the raw HF LLM config dict."""

    llm_kind: LLMKind
    vision: VisionConfig = field(default_factory=VisionConfig)
    compressor: CompressorConfig = field(default_factory=CompressorConfig)
    projector: ProjectorConfig = field(default_factory=ProjectorConfig)
    max_length: int = 32768  # tokenizer_model_max_length: longest spliced sequence
    llm: dict[str, Any] = field(default_factory=dict)  # config.json minus mm_* keys

    @classmethod
    def from_hf_dict(cls, cfg: dict[str, Any]) -> OryxConfig:
        """Build from an official config.json dict; raises ValueError on an unknown model_type."""
        model_type = cfg.get("model_type")
        if model_type not in MODEL_TYPES:
            raise ValueError(
                f"config.json: model_type {model_type!r} is not an Oryx model; "
                f"expected one of {sorted(MODEL_TYPES)}"
            )
        mml = cfg.get("modality_max_length")
        if mml not in (None, "None"):  # the reference would truncate per modality instead of at max_length
            raise ValueError(
                f"config.json: modality_max_length {mml!r} (per-modality truncation) is not supported; "
                "only tokenizer_model_max_length is"
            )
        vis_over = dict(cfg.get("oryx_vision_config") or {})
        known = {f.name for f in fields(VisionConfig)}
        unknown = set(vis_over) - known
        if unknown:
            raise ValueError(f"config.json: oryx_vision_config has unknown keys {sorted(unknown)}")
        vision = VisionConfig(**vis_over)
        mm_hidden = int(cfg.get("mm_hidden_size", vision.width))
        if mm_hidden != vision.width:
            raise ValueError(f"config.json: mm_hidden_size {mm_hidden} != vision width {vision.width}")
        comp_mid = int(cfg.get("oryx_compressor_mid", 256))
        hidden = int(cfg["hidden_size"])
        max_len = int(cfg.get("tokenizer_model_max_length") or cfg.get("max_position_embeddings") or 32768)
        return cls(
            llm_kind=MODEL_TYPES[model_type],
            vision=vision,
            compressor=CompressorConfig(dim=vision.width, mid=comp_mid),
            projector=ProjectorConfig(in_dim=vision.width, out_dim=hidden),
            max_length=max_len,
            llm=dict(cfg),
        )
