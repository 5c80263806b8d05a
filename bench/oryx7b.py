"""Oryx-7B at its real dimensions with random weights, built on the meta device and materialised on a GPU.

The dims are those of THUdyh/Oryx-7B's config.json (Qwen2-7B-Instruct LLM; reference facts in
shared/reference/oryx-model.md §6.1, §7.1) and the released OryxViT (SigLIP-so400m/16, the
`VisionConfig` defaults). No checkpoint is read: `random_oryx` allocates the parameters directly on the
target device (`to_empty`), fills them from a seeded generator, and rebuilds the LLM's rotary tables
(non-persistent buffers that `to_empty` leaves uninitialised). Random weights: a speed and pipeline
check only, never an accuracy.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from model.config import OryxConfig, VisionConfig
from model.oryx import OryxModel

# config.json of THUdyh/Oryx-7B (the fields that set shapes and the token layout)
ORYX_7B: dict[str, Any] = {
    "architectures": ["OryxQwenForCausalLM"],
    "model_type": "oryx_qwen",
    "hidden_size": 3584,
    "intermediate_size": 18944,
    "num_hidden_layers": 28,
    "num_attention_heads": 28,
    "num_key_value_heads": 4,
    "max_position_embeddings": 32768,
    "rope_theta": 1000000.0,
    "rope_scaling": None,
    "sliding_window": None,
    "use_sliding_window": False,
    "max_window_layers": 28,
    "rms_norm_eps": 1e-6,
    "hidden_act": "silu",
    "vocab_size": 152064,
    "tie_word_embeddings": False,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
    "mm_hidden_size": 1152,
    "mm_projector_type": "simple_mlp_twoview",
    "mm_resampler_type": "dynamic_compressor",
    "tokenizer_model_max_length": 32768,
    "torch_dtype": "bfloat16",
}

# tiny dims with the same code paths, for `gpu_check.py --dry-run` on a CPU
TINY_LLM = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_window_layers": 2,
    "vocab_size": 512,
    "bos_token_id": None,
    "eos_token_id": None,
}
TINY_VISION = {
    "width": 32,
    "depth": 2,
    "heads": 2,
    "mlp_dim": 64,
    "patch": 16,
    "pos_grid": 128,
    "ln_eps": 1e-6,
}


def oryx_config(tiny: bool = False) -> OryxConfig:
    """Oryx-7B's config (or the tiny stand-in of the dry run)."""
    if not tiny:
        return OryxConfig.from_hf_dict(ORYX_7B)
    d = ORYX_7B | TINY_LLM | {"mm_hidden_size": TINY_VISION["width"], "oryx_vision_config": TINY_VISION}
    return OryxConfig.from_hf_dict(d | {"oryx_compressor_mid": 16})


def vision_config(tiny: bool = False) -> VisionConfig:
    return oryx_config(tiny).vision


@torch.no_grad()
def init_random_(module: nn.Module, seed: int) -> nn.Module:
    """Overwrite every parameter with seeded values that keep activations O(1) through a deep stack.

    Norm gains 1, biases N(0, 0.02), position tables N(0, 0.02), projector markers N(0, 1/D), matrices
    N(0, 1/fan_in). Every parameter is written, so memory from `to_empty` is never read.
    """
    dev = next(module.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(seed)
    for name, p in module.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        if p.dim() == 1 and leaf == "weight":
            p.fill_(1.0)
        elif p.dim() == 1 and leaf.startswith("image_"):
            p.normal_(0.0, p.shape[0] ** -0.5, generator=gen)
        elif p.dim() == 1 or leaf in ("pos_embed",):
            p.normal_(0.0, 0.02, generator=gen)
        else:
            fan_in = p[0].numel()
            p.normal_(0.0, fan_in**-0.5, generator=gen)
    return module


def _rebuild_rotary(llm: nn.Module, device: torch.device) -> int:
    """Recreate the rotary-embedding modules (their inv_freq buffers are computed in __init__)."""
    n = 0
    for name, mod in list(llm.named_modules()):
        if name.endswith("rotary_emb"):
            parent = llm.get_submodule(name.rsplit(".", 1)[0]) if "." in name else llm
            with torch.device(device):
                setattr(parent, name.rsplit(".", 1)[-1], type(mod)(llm.config))
            n += 1
    return n


def random_oryx(
    tokenizer: Any,
    device: str | torch.device,
    dtype: torch.dtype,
    tiny: bool = False,
    seed: int = 0,
    attn_backend: str = "sdpa",
) -> OryxModel:
    """Oryx-7B (or the tiny stand-in) with seeded random weights, allocated on `device` only.

    Args:
        tokenizer: any tokenizer with the ChatML specials (the tiny checkpoint's); its length caps the
            logits as `len(tokenizer)` does for the real one.
        device: target device; the parameters are never allocated anywhere else.
        dtype: parameter dtype.
        tiny: tiny dims (dry run) instead of Oryx-7B's.
        seed: weight seed.
        attn_backend: ViT attention backend.
    """
    dev = torch.device(device)
    with torch.device("meta"):
        m = OryxModel(oryx_config(tiny), tokenizer, attn_backend=attn_backend)  # type: ignore[arg-type]
    m = m.to(dtype).to_empty(device=dev)  # cast on meta first: one allocation, in `dtype`
    init_random_(m, seed)
    if _rebuild_rotary(m.llm, dev) == 0:
        raise RuntimeError("random_oryx: no rotary embedding module found to rebuild")
    bad = [n for n, b in m.named_buffers() if not torch.isfinite(b.float()).all()]
    if bad:
        raise RuntimeError(f"random_oryx: buffers left uninitialised: {bad[:5]}")
    return m.eval().requires_grad_(False)


def random_vit(cfg: VisionConfig, device: str | torch.device, seed: int = 0) -> nn.Module:
    """A float32 OryxViT with seeded random weights, allocated on `device` only."""
    from model.vit import OryxViT

    with torch.device("meta"):
        vit = OryxViT(cfg, "sdpa")
    vit = vit.to_empty(device=torch.device(device))
    return init_random_(vit, seed).eval().requires_grad_(False)


def vit_variant(vit32: nn.Module, backend: str, dtype: torch.dtype) -> nn.Module:
    """The same weights as `vit32` in `dtype`, with another attention backend (checked at construction)."""
    from model.vit import OryxViT

    with torch.device("meta"):
        v = OryxViT(vit32.cfg, backend)  # type: ignore[arg-type]
    v = v.to(dtype).to_empty(device=vit32.device)
    v.load_state_dict(vit32.state_dict())  # copies the values, cast to v's dtype
    return v.eval().requires_grad_(False)
