"""The trained tiny Oryx: dims, input resolution, and its construction through the real writer/loader.

The model is `model.OryxModel` (OryxViT, dynamic compressor, projector, Qwen2 LLM from transformers) with
tiny widths. Its initial weights are PyTorch's / transformers' default initialisation under the training
seed; they are written in the official layout and read back with `load_oryx`, so training starts from
exactly what the loader builds (tokenizer included).
"""

from __future__ import annotations

import functools
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer

from model import OryxModel, VideoResize, load_oryx
from model.config import OryxConfig
from model.tiny import SPECIALS, tiny_config_dict, train_tokenizer
from model.writer import save_oryx

# frames are resized to 64 x 64: a 4 x 4 patch grid at 1x, 2 x 2 at 4x, 1 x 1 at 16x
TINY_VIDEO = {"video_max_side": 64, "video_min_side": 64, "video_stride": 64}


@dataclass(frozen=True)
class TinyDims:
    """Widths of the trained tiny Oryx."""

    vision: dict[str, Any] = field(
        default_factory=lambda: {"width": 64, "depth": 2, "heads": 2, "mlp_dim": 128, "pos_grid": 16}
    )
    compressor_mid: int = 32
    llm: dict[str, Any] = field(
        default_factory=lambda: {
            "hidden_size": 128,
            "intermediate_size": 256,
            "num_hidden_layers": 3,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "torch_dtype": "float32",
        }
    )


def video_spec(video: dict[str, int] = TINY_VIDEO) -> VideoResize:
    """The `VideoResize` of the backend arguments `video_max_side`, `video_min_side`, `video_stride`."""
    return VideoResize(
        max_side=video["video_max_side"], min_side=video["video_min_side"], stride=video["video_stride"]
    )


CORPUS = Path(__file__).with_name("tokenizer_corpus.json")


def niah_corpus(template: str) -> list[str]:
    """Tokenizer corpus lines: NIAH questions and options in the task's prompt template, so colour, shape
    and instruction words become tokens. The needles are the v1 generator's (seed 7, 200 per kind), frozen
    in `tokenizer_corpus.json`: the shipped checkpoints keep their tokenizer when the generator changes."""
    lines = []
    for question, options in json.loads(CORPUS.read_text())["needles"]:
        opts = "\n".join(f"{letter}. {o}" for letter, o in zip("ABCD", options, strict=True))
        lines += template.format(question=question, options=opts).splitlines()
    return lines + ["system", "user", "assistant"] * 20  # the ChatML role names


@functools.lru_cache(maxsize=4)
def tokenizer(template: str) -> Tokenizer:
    """The trained tiny model's byte-level BPE (built-in corpus + `niah_corpus(template)`)."""
    return train_tokenizer(extra_corpus=niah_corpus(template))


def config_dict(dims: TinyDims, tok: Tokenizer) -> dict[str, Any]:
    """config.json of the trained tiny model (official key set)."""
    n_tok = tok.get_vocab_size(with_added_tokens=True)
    ids = {s: tok.token_to_id(s) for s in SPECIALS}
    vocab = -(-n_tok // 64) * 64
    return tiny_config_dict(vocab, ids, "qwen2", dims.llm, dims.vision, dims.compressor_mid)


def initial_model(
    seed: int, dims: TinyDims, template: str, work_dir: Path | None = None
) -> tuple[OryxModel, dict[str, Any]]:
    """The seeded initial model, as `load_oryx` reads it back from the official layout; trainable.

    `template` is the task's prompt template (it shapes the tokenizer, `tokenizer(template)`).
    """
    tok = tokenizer(template)
    cfg_dict = config_dict(dims, tok)
    torch.manual_seed(seed)
    model = OryxModel(OryxConfig.from_hf_dict(cfg_dict))
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        save_oryx(model, tmp, cfg_dict, tok)
        loaded = load_oryx(tmp, dtype=torch.float32)
    return loaded.train().requires_grad_(True), cfg_dict
