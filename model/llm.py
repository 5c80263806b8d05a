"""Decoder LLM of Oryx (arXiv 2409.12961): Qwen2 (`oryx_qwen`) or Llama/Yi (`oryx_llama`).

Reproduces the LLM half of the reference `oryx/model/language_model/oryx_qwen.py` / `oryx_llama.py`: the
plain Hugging Face causal LM built from the checkpoint's config.json minus the Oryx-specific keys, with
`rope_scaling` forced to None for Qwen (as `OryxQwenConfig` does). The family comes from `model_type` only.
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedModel, Qwen2Config, Qwen2ForCausalLM

from model.config import OryxConfig

LLMAttention = Literal["sdpa", "eager"]

# config.json keys that describe the multimodal wrapper, not the LLM
_WRAPPER_KEYS = {
    "model_type",
    "architectures",
    "transformers_version",
    "torch_dtype",
    "dtype",
    "use_mm_proj",
    "tune_mm_mlp_adapter",
    "unfreeze_mm_vision_tower",
    "auto_map",
}
_WRAPPER_PREFIXES = ("mm_", "oryx_", "tokenizer_")


def llm_config_dict(cfg: OryxConfig) -> dict[str, Any]:
    """The LLM part of the config.json dict (wrapper keys removed)."""
    out = {k: v for k, v in cfg.llm.items() if k not in _WRAPPER_KEYS and not k.startswith(_WRAPPER_PREFIXES)}
    if cfg.llm_kind == "qwen2" or out.get("rope_scaling") is None:
        out.pop("rope_scaling", None)  # Qwen: forced to None by the reference; None is the default anyway
    return out


def build_llm_config(
    cfg: OryxConfig, attn_implementation: LLMAttention = "sdpa"
) -> Qwen2Config | LlamaConfig:
    """The transformers `Qwen2Config` / `LlamaConfig` of an Oryx config (family from `cfg.llm_kind`)."""
    d = llm_config_dict(cfg)
    if cfg.llm_kind == "qwen2":
        conf: Qwen2Config | LlamaConfig = Qwen2Config(**d)
    elif cfg.llm_kind == "llama":
        conf = LlamaConfig(**d)
    else:
        raise ValueError(f"unknown LLM kind {cfg.llm_kind!r}")
    conf._attn_implementation = attn_implementation
    return conf


def build_llm(cfg: OryxConfig, attn_implementation: LLMAttention = "sdpa") -> PreTrainedModel:
    """Randomly initialised `Qwen2ForCausalLM` or `LlamaForCausalLM` for an Oryx config.

    Args:
        cfg: Oryx config; `cfg.llm_kind` (from `model_type`) picks the class.
        attn_implementation: transformers attention implementation ("sdpa" as the reference at eval).

    Returns:
        The causal LM (on the current default device).
    """
    conf = build_llm_config(cfg, attn_implementation)
    cls: type[PreTrainedModel] = Qwen2ForCausalLM if cfg.llm_kind == "qwen2" else LlamaForCausalLM
    return cls(conf)


def cache_kwarg(llm: PreTrainedModel) -> str:
    """Name of the KV-cache argument of `llm.forward`: `cache` (newer 5.x, e.g. 5.24) or `past_key_values`.

    transformers renamed `past_key_values` to `cache`; the new name still accepts the old one with a warning,
    but older 5.x (e.g. 5.17) silently swallows an unknown `cache=` in `**kwargs` and decodes without context.
    """
    params = inspect.signature(type(llm).forward).parameters
    if "cache" in params:
        return "cache"
    if "past_key_values" in params:
        return "past_key_values"
    raise TypeError(f"{type(llm).__name__}.forward takes neither `cache` nor `past_key_values`")
