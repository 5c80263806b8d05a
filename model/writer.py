"""Writer of Oryx checkpoints in the official on-disk layout (arXiv 2409.12961).

Writes what `THUdyh/Oryx-7B` + `THUdyh/Oryx-ViT` hold (reference `oryx/model/builder.py` loads them):
config.json, generation_config.json, Qwen2-style tokenizer files, `oryx_vit.pth` (the ViT state dict), and
two safetensors shards plus `model.safetensors.index.json` holding the LLM (`model.*`, `lm_head.*`),
`model.vision_resampler.*`, `model.mm_projector.*` and a copy of the ViT under
`model.vision_tower.vision_tower.*`. Used by the seeded random tiny checkpoint (`model/tiny.py`) and by
`save_oryx`, which writes a (trained) `OryxModel` so that `load_oryx` reads it back bit-exactly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from torch import Tensor

SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
_TOWER = "model.vision_tower.vision_tower."


def write_tokenizer(out: Path, tok: Tokenizer, max_len: int) -> dict[str, int]:
    """Qwen2 tokenizer files (tokenizer.json, vocab.json, merges.txt, configs) of a byte-level BPE."""
    ids = {s: tok.token_to_id(s) for s in SPECIALS}
    tok.save(str(out / "tokenizer.json"))
    vocab = tok.get_vocab(with_added_tokens=False)
    (out / "vocab.json").write_text(
        json.dumps(dict(sorted(vocab.items(), key=lambda kv: kv[1])), ensure_ascii=False)
    )
    merges = json.loads(tok.to_str())["model"]["merges"]
    lines = ["#version: 0.2"] + [" ".join(m) if isinstance(m, list) else m for m in merges]
    (out / "merges.txt").write_text("\n".join(lines) + "\n")
    (out / "added_tokens.json").write_text(json.dumps(ids, indent=2))
    special_map = {"additional_special_tokens": ["<|im_start|>", "<|im_end|>"], "eos_token": "<|im_end|>"}
    special_map["pad_token"] = "<|endoftext|>"
    (out / "special_tokens_map.json").write_text(json.dumps(special_map, indent=2))
    added = {
        str(i): {
            "content": s,
            "lstrip": False,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
            "special": True,
        }
        for s, i in ids.items()
    }
    tok_cfg = {
        "add_prefix_space": False,
        "added_tokens_decoder": added,
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "bos_token": None,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": max_len,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }
    (out / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2))
    return ids


def write_official(
    out: Path,
    cfg_dict: dict[str, Any],
    tok: Tokenizer,
    vit: dict[str, Tensor],
    llm: dict[str, Tensor],
    mm: dict[str, Tensor],
    tower_keys: Iterable[str],
    generation_config: dict[str, Any] | None = None,
) -> Path:
    """Write one checkpoint directory in the official layout.

    Args:
        out: target directory (must exist).
        cfg_dict: config.json contents.
        tok: the tokenizer (its Qwen specials must be present).
        vit: `oryx_vit.pth` state dict (official ViT keys, no prefix; may hold timm's unused extras).
        llm: Hugging Face LLM state dict (`model.*`, `lm_head.*`).
        mm: compressor and projector tensors with their `model.` prefixed official names.
        tower_keys: the ViT keys also copied into the shards under `model.vision_tower.vision_tower.`.
        generation_config: keys written over the default generation_config.json.

    Returns:
        `out`.
    """
    ids = write_tokenizer(out, tok, int(cfg_dict["tokenizer_model_max_length"]))
    (out / "config.json").write_text(json.dumps(cfg_dict, indent=2))
    gen_cfg = {"bos_token_id": ids["<|endoftext|>"], "eos_token_id": ids["<|im_end|>"], "do_sample": False}
    gen_cfg |= generation_config or {}
    (out / "generation_config.json").write_text(json.dumps(gen_cfg, indent=2))
    torch.save(vit, out / "oryx_vit.pth")
    keep = set(tower_keys)
    tower = {_TOWER + k: t for k, t in vit.items() if k in keep}
    llm_keys = list(llm)
    half = len(llm_keys) // 2
    shards = [{k: llm[k] for k in llm_keys[:half]}, {k: llm[k] for k in llm_keys[half:]} | mm | tower]
    weight_map: dict[str, str] = {}
    total = 0
    for i, shard in enumerate(shards, start=1):
        name = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, str(out / name), metadata={"format": "pt"})
        for k, t in shard.items():
            weight_map[k] = name
            total += t.numel() * t.element_size()
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    (out / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))
    return out


def official_state(
    model: torch.nn.Module, dtype: torch.dtype | None = None
) -> tuple[dict[str, Tensor], dict[str, Tensor], dict[str, Tensor]]:
    """An `OryxModel`'s tensors under their official names: (ViT, LLM, compressor + projector).

    The inverse of `load_oryx`'s key table; tied LM heads are stored once (as the official files do).
    Tensors are detached contiguous CPU copies, cast to `dtype` when given.
    """

    def prep(t: Tensor) -> Tensor:
        t = t.detach().to("cpu").contiguous().clone()
        return t.to(dtype) if dtype is not None else t

    vit, llm, mm = {}, {}, {}
    tied = bool(model.llm.config.tie_word_embeddings)  # type: ignore[union-attr]
    for name, t in model.state_dict().items():
        if name.startswith("vision_tower."):
            vit[name[len("vision_tower.") :]] = prep(t)
        elif name.startswith(("vision_resampler.", "mm_projector.")):
            mm["model." + name] = prep(t)
        elif name.startswith("llm."):
            if tied and name == "llm.lm_head.weight":
                continue
            llm[name[len("llm.") :]] = prep(t)
        else:
            raise ValueError(f"official_state: no official name for model tensor {name!r}")
    return vit, llm, mm


def save_oryx(
    model: torch.nn.Module,
    out_dir: str | os.PathLike[str],
    cfg_dict: dict[str, Any],
    tok: Tokenizer,
    dtype: torch.dtype | None = None,
) -> Path:
    """Write an `OryxModel` (e.g. a trained tiny one) in the official layout; `load_oryx` reads it back.

    Args:
        model: the model (its config must be `OryxConfig.from_hf_dict(cfg_dict)`).
        out_dir: target directory (created).
        cfg_dict: config.json contents.
        tok: the tokenizer the model was trained with.
        dtype: storage dtype (None = the parameters' dtype, so the round trip is bit-exact).

    Returns:
        The checkpoint directory.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    vit, llm, mm = official_state(model, dtype)
    return write_official(out, cfg_dict, tok, vit, llm, mm, tower_keys=vit)
