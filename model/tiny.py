"""Seeded random tiny Oryx checkpoint in the official on-disk layout (arXiv 2409.12961).

Writes what `THUdyh/Oryx-7B` + `THUdyh/Oryx-ViT` hold (reference `oryx/model/builder.py` loads them):
config.json (`oryx_qwen` / `oryx_llama` with the `mm_*` keys), generation_config.json, two safetensors shards
plus `model.safetensors.index.json` (LLM, `model.vision_resampler.*`, `model.mm_projector.*` and a copy of the
ViT under `model.vision_tower.vision_tower.*`), Qwen2-style tokenizer files (a real byte-level BPE trained on
a small built-in corpus, with `<|endoftext|>`, `<|im_start|>`, `<|im_end|>`), and a bf16 `oryx_vit.pth`
that also carries timm's unused `norm.*` / `attn_pool.*` keys like the released file. Only tiny dims differ,
declared through the optional config key `oryx_vision_config` and `oryx_compressor_mid`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from model.config import OryxConfig
from model.llm import build_llm
from model.writer import SPECIALS, write_official

TINY_VERSION = 1  # bump whenever the written bytes change (keys the tiny_checkpoint cache)
QWEN_PRETOKENIZE = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"""
    r"""|\s+(?!\S)|\s+"""
)
BPE_VOCAB = 480  # byte alphabet (256) + merges
TINY_VISION = {
    "width": 32,
    "depth": 2,
    "heads": 2,
    "mlp_dim": 64,
    "patch": 16,
    "pos_grid": 128,
    "ln_eps": 1e-6,
}
TINY_COMPRESSOR_MID = 16

_CORPUS = """\
You are a helpful assistant. Watch the video and answer the question about it.
The video shows a red ball that rolls across a wooden table and falls to the floor.
What color is the ball? Answer with the letter of the correct option: A, B, C, or D.
A. red B. blue C. green D. yellow. The best answer is A.
The image shows a small white cat sitting next to a window on a sunny morning.
How many people appear in the first frame of the clip? There are two people in the frame.
Describe the scene in detail. A man walks his dog along the river while birds fly over the water.
Read the text in the image. The sign says that the shop opens at nine in the morning.
Which object appears after the car leaves the street? A bicycle appears near the corner.
Is the person in the video happy or sad? The person smiles, so the answer is happy.
Select the best answer to the following multiple-choice question based on the video.
Respond with only the letter of the correct option. The needle frame shows a number.
What number is written on the card in the middle of the long video? The number is 42.
Count the frames, compare the images, and explain the differences between them.
The quick brown fox jumps over the lazy dog. A journey of a thousand miles begins with one step.
Numbers like 0 1 2 3 4 5 6 7 8 9 10 100 2024 and symbols like ( ) [ ] { } : ; , . ! ? " ' - + = / appear.
"""


def train_tokenizer(vocab_size: int = BPE_VOCAB, extra_corpus: Sequence[str] = ()) -> Tokenizer:
    """Byte-level BPE with Qwen2's normaliser/pre-tokeniser, trained on the built-in corpus.

    `extra_corpus` lines are added to the corpus (the trained tiny model adds its task's vocabulary, so that
    its words are whole tokens as in a real LLM's vocabulary). The Qwen specials are appended after the
    learned vocabulary (as in Qwen2, where they follow the BPE ids).
    """
    tok = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN_PRETOKENIZE), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(_CORPUS.splitlines() * 4 + list(extra_corpus), trainer=trainer)
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIALS])
    return tok


def tiny_config_dict(
    vocab_size: int,
    special_ids: dict[str, int],
    llm_kind: Literal["qwen2", "llama"],
    llm_dims: dict[str, Any] | None = None,
    vision: dict[str, Any] | None = None,
    compressor_mid: int = TINY_COMPRESSOR_MID,
) -> dict:
    """config.json of the tiny model (official key set, tiny dims).

    `llm_dims` overrides LLM keys (hidden_size, num_hidden_layers, ...), `vision` the ViT dims
    (`TINY_VISION` keys); the defaults are the random pipeline-test checkpoint's.
    """
    vis = TINY_VISION | dict(vision or {})
    common: dict[str, Any] = {
        "vocab_size": vocab_size,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "hidden_act": "silu",
        "max_position_embeddings": 32768,
        "rms_norm_eps": 1e-6,
        "initializer_range": 0.02,
        "tie_word_embeddings": False,
        "use_cache": True,
        "bos_token_id": special_ids["<|endoftext|>"],
        "eos_token_id": special_ids["<|im_end|>"],
        "rope_scaling": None,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.39.2",
    } | dict(llm_dims or {})
    if llm_kind == "qwen2":
        head = {"architectures": ["OryxQwenForCausalLM"], "model_type": "oryx_qwen", "rope_theta": 1000000.0}
        head |= {
            "sliding_window": None,
            "use_sliding_window": False,
            "max_window_layers": common["num_hidden_layers"],
            "attention_dropout": 0.0,
        }
    elif llm_kind == "llama":
        head = {
            "architectures": ["OryxLlamaForCausalLM"],
            "model_type": "oryx_llama",
            "rope_theta": 5000000.0,
        }
        head |= {"attention_bias": False, "pretraining_tp": 1, "attention_dropout": 0.0}
    else:
        raise ValueError(f"llm_kind must be 'qwen2' or 'llama', got {llm_kind!r}")
    mm = {
        "mm_hidden_size": vis["width"],
        "mm_projector_type": "simple_mlp_twoview",
        "mm_resampler_type": "dynamic_compressor",
        "mm_vision_select_layer": -1,
        "mm_vision_select_feature": "patch",
        # real files hold an absolute path; a relative one is resolved against the checkpoint dir
        "mm_vision_tower": "oryx_vit:oryx_vit.pth",
        "mm_use_im_start_end": False,
        "mm_use_im_patch_token": False,
        "mm_projector_lr": None,
        "mm_vision_tower_lr": None,
        "tokenizer_model_max_length": 32768,
        "tokenizer_padding_side": "right",
        "tune_mm_mlp_adapter": False,
        "unfreeze_mm_vision_tower": False,
        "use_mm_proj": True,
        "oryx_vision_config": vis,
        "oryx_compressor_mid": compressor_mid,
    }
    return head | common | mm


def vit_key_shapes(cfg: OryxConfig, extras: bool) -> dict[str, tuple[int, ...]]:
    """Official OryxViT state-dict keys (no prefix) and shapes; `extras` adds timm's norm/attn_pool keys."""
    v = cfg.vision
    c, m, p = v.width, v.mlp_dim, v.patch
    out: dict[str, tuple[int, ...]] = {
        "pos_embed": (1, v.pos_grid * v.pos_grid, c),
        "patch_embed.proj.weight": (c, 3, p, p),
        "patch_embed.proj.bias": (c,),
    }
    for i in range(v.depth):
        b = f"blocks.{i}."
        out |= {b + "norm1.weight": (c,), b + "norm1.bias": (c,)}
        out |= {b + "attn.qkv.weight": (3 * c, c), b + "attn.qkv.bias": (3 * c,)}
        out |= {b + "attn.proj.weight": (c, c), b + "attn.proj.bias": (c,)}
        out |= {b + "norm2.weight": (c,), b + "norm2.bias": (c,)}
        out |= {b + "mlp.fc1.weight": (m, c), b + "mlp.fc1.bias": (m,)}
        out |= {b + "mlp.fc2.weight": (c, m), b + "mlp.fc2.bias": (c,)}
    if extras:  # timm's final norm and MAP pooling head: present in oryx_vit.pth, never built by Oryx
        out |= {"norm.weight": (c,), "norm.bias": (c,), "attn_pool.latent": (1, 1, c)}
        out |= {"attn_pool.q.weight": (c, c), "attn_pool.q.bias": (c,)}
        out |= {"attn_pool.kv.weight": (2 * c, c), "attn_pool.kv.bias": (2 * c,)}
        out |= {"attn_pool.proj.weight": (c, c), "attn_pool.proj.bias": (c,)}
        out |= {"attn_pool.norm.weight": (c,), "attn_pool.norm.bias": (c,)}
        out |= {"attn_pool.mlp.fc1.weight": (m, c), "attn_pool.mlp.fc1.bias": (m,)}
        out |= {"attn_pool.mlp.fc2.weight": (c, m), "attn_pool.mlp.fc2.bias": (c,)}
    return out


def mm_key_shapes(cfg: OryxConfig) -> dict[str, tuple[int, ...]]:
    """Official compressor and projector keys (with the `model.` prefix) and shapes."""
    c, mid, d = cfg.compressor.dim, cfg.compressor.mid, cfg.projector.out_dim
    out: dict[str, tuple[int, ...]] = {}
    for name in ("vlm_query_projector", "vlm_key_projector"):
        out |= {
            f"model.vision_resampler.{name}.weight": (mid, c),
            f"model.vision_resampler.{name}.bias": (mid,),
        }
    out |= {"model.mm_projector.proj.0.weight": (d, c), "model.mm_projector.proj.0.bias": (d,)}
    out |= {"model.mm_projector.proj.2.weight": (d, d), "model.mm_projector.proj.2.bias": (d,)}
    for name in ("newline", "begin", "end", "sep"):
        out[f"model.mm_projector.image_{name}"] = (d,)
    return out


def llm_key_shapes(cfg: OryxConfig) -> dict[str, tuple[int, ...]]:
    """Hugging Face LLM state-dict keys and shapes (the layout of the official shards)."""
    with torch.device("meta"):
        llm = build_llm(cfg)
    keys = {k: tuple(t.shape) for k, t in llm.state_dict().items()}
    if llm.config.tie_word_embeddings:
        keys.pop("lm_head.weight", None)
    return keys


def _init(name: str, shape: tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
    """One seeded random tensor (fp32); scales keep activations O(1) through the tiny stack."""
    x = torch.randn(shape, generator=gen)
    leaf = name.rsplit(".", 1)[-1]
    if len(shape) == 1 and leaf == "weight":  # LayerNorm / RMSNorm gains
        return 1.0 + 0.1 * x
    if len(shape) == 1 and leaf == "bias":
        return 0.02 * x
    if "image_" in leaf:  # projector marker vectors: N(0, 1) * D^-0.5 as the reference init
        return x * shape[0] ** -0.5
    if leaf in ("pos_embed", "latent"):
        return 0.1 * x
    if name.endswith("embed_tokens.weight"):
        return 0.1 * x  # small next to the attention output, so answers depend on the context
    fan_in = 1
    for s in shape[1:]:
        fan_in *= s
    sharp = 3.0 if leaf == "weight" and name.endswith(("q_proj.weight", "k_proj.weight")) else 1.0
    return x * (sharp * fan_in**-0.5)  # sharper LLM attention: outputs vary with the question


def write_tiny_checkpoint(
    out_dir: str | os.PathLike[str],
    seed: int = 0,
    llm_kind: str = "qwen2",
    generation_config: dict[str, Any] | None = None,
) -> Path:
    """Write a deterministic random tiny Oryx checkpoint (official layout) into `out_dir`.

    Args:
        out_dir: target directory (created; existing files of the same names are overwritten).
        seed: seed of every random weight (same seed => byte-identical files).
        llm_kind: "qwen2" (`oryx_qwen`) or "llama" (`oryx_llama`).
        generation_config: keys written over the default generation_config.json (bos/eos ids,
            do_sample false), e.g. Oryx-1.5-7B's `{"repetition_penalty": 1.05, "do_sample": True,
            "temperature": 0.7, "top_k": 20, "top_p": 0.8, "eos_token_id": [im_end, endoftext]}`.

    Returns:
        The checkpoint directory.
    """
    if llm_kind not in ("qwen2", "llama"):
        raise ValueError(f"llm_kind must be 'qwen2' or 'llama', got {llm_kind!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer()
    n_tok = tok.get_vocab_size(with_added_tokens=True)
    ids = {s: tok.token_to_id(s) for s in SPECIALS}
    vocab_size = -(-n_tok // 64) * 64  # padded like Qwen's 152064 > 151646 (unused rows)
    cfg_dict = tiny_config_dict(vocab_size, ids, llm_kind)  # type: ignore[arg-type]
    cfg = OryxConfig.from_hf_dict(cfg_dict)
    gen = torch.Generator().manual_seed(seed)
    vit = {k: _init(k, s, gen).to(torch.bfloat16) for k, s in vit_key_shapes(cfg, extras=True).items()}
    llm = {k: _init(k, s, gen).to(torch.bfloat16) for k, s in llm_key_shapes(cfg).items()}
    mm = {k: _init(k, s, gen).to(torch.bfloat16) for k, s in mm_key_shapes(cfg).items()}
    tower_keys = set(vit_key_shapes(cfg, False))
    write_official(out, cfg_dict, tok, vit, llm, mm, tower_keys, generation_config=generation_config)
    return out


def tiny_checkpoint(cache_dir: str | os.PathLike[str], seed: int = 0, llm_kind: str = "qwen2") -> Path:
    """A tiny checkpoint written once under `cache_dir` (keyed by TINY_VERSION, seed, kind) and reused.

    The directory is written to a temporary sibling and renamed into place, so a concurrent or interrupted
    writer never leaves a half-written checkpoint behind the final name.
    """
    key = hashlib.sha256(f"{TINY_VERSION}-{seed}-{llm_kind}".encode()).hexdigest()[:12]
    final = Path(cache_dir) / f"oryx-tiny-{llm_kind}-s{seed}-v{TINY_VERSION}-{key}"
    if (final / "model.safetensors.index.json").exists():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-oryx-tiny-", dir=final.parent))
    try:
        write_tiny_checkpoint(tmp, seed=seed, llm_kind=llm_kind)
        try:
            tmp.rename(final)
        except OSError:
            if not (final / "model.safetensors.index.json").exists():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return final
