"""Seeded random tiny checkpoints of the comparison families, saved with ``save_pretrained`` (tests, bench).

Each directory holds what a real transformers checkpoint holds: config.json + model.safetensors +
generation_config.json (the model's `save_pretrained`), preprocessor_config.json (the PIL image
processor's `save_pretrained`), and a tokenizer (model/tiny.py's byte-level BPE plus the family's special
tokens) with the family's chat template in ``chat_template.jinja``. Random weights: a pipeline check only.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

FAMILIES = ("qwen2-vl", "qwen2.5-vl", "llava-onevision", "internvl")
SPECIALS = {
    "qwen2-vl": ["<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"],
    "llava-onevision": ["<image>", "<video>"],
    "internvl": ["<img>", "</img>", "<IMG_CONTEXT>", "<video>"],
}
# single-turn versions of the families' published chat templates (system turn, then visual, then text)
TEMPLATES = {
    "qwen2-vl": (
        "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
        "<|im_start|>{{ message['role'] }}\n{% for c in message['content'] %}"
        "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
        "{% elif c['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
        "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    ),
    "llava-onevision": (
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + ' ' }}"
        "{% for c in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>' }}"
        "{% endfor %}{% for c in message['content'] | selectattr('type', 'equalto', 'video') %}"
        "{{ '<video>' }}{% endfor %}{% for c in message['content'] | selectattr('type', 'equalto', 'text') %}"
        "{{ '\n' + c['text'] }}{% endfor %}{{ '<|im_end|>' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    ),
    "internvl": (
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' }}"
        "{% for c in message['content'] %}{% if c['type'] == 'image' %}{{ '<IMG_CONTEXT>\n' }}"
        "{% elif c['type'] == 'video' %}{{ '<video>\n' }}{% elif c['type'] == 'text' %}{{ c['text'] }}"
        "{% endif %}{% endfor %}{{ '<|im_end|>\n' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    ),
}
TEXT = {
    "vocab_size": 512,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 32768,
}


@functools.lru_cache(maxsize=1)
def _bpe_json() -> str:
    from model.tiny import train_tokenizer  # the byte-level BPE of the tiny Oryx (Qwen2 pre-tokeniser)

    return train_tokenizer().to_str()


def _tokenizer(out: Path, family: str) -> dict[str, int]:
    from tokenizers import AddedToken, Tokenizer
    from transformers import PreTrainedTokenizerFast

    key = "qwen2-vl" if family.startswith("qwen") else family
    tok = Tokenizer.from_str(_bpe_json())
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in SPECIALS[key]])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", chat_template=TEMPLATES[key]
    )
    fast.save_pretrained(out)
    return {s: tok.token_to_id(s) for s in [*SPECIALS[key], "<|endoftext|>", "<|im_end|>"]}


def _qwen(family: str, ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf

    text = TEXT | {
        "rope_parameters": {"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 1e6},
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
    }
    tok = {
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
    }
    if family == "qwen2-vl":
        vis = {"depth": 2, "embed_dim": 32, "hidden_size": 64, "num_heads": 2, "mlp_ratio": 2}
        cfg = tf.Qwen2VLConfig(text_config=text, vision_config=vis, **tok)
        model = tf.Qwen2VLForConditionalGeneration(cfg)
    else:
        vis = {
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 64,
            "window_size": 56,
            "fullatt_block_indexes": [1],
            "tokens_per_second": 2,
        }
        cfg = tf.Qwen2_5_VLConfig(text_config=text, vision_config=vis, **tok)
        model = tf.Qwen2_5_VLForConditionalGeneration(cfg)
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    return model, Qwen2VLImageProcessorPil()


def _llava(ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf
    from transformers.models.llava_onevision.image_processing_pil_llava_onevision import (
        LlavaOnevisionImageProcessorPil,
    )

    side = 56  # 4x4 patches of 14 per tile (384 / 14 = 27 in the real model)
    pins = [[side * a, side * b] for a in range(1, 4) for b in range(1, 4)]
    vis = {
        "model_type": "siglip_vision_model",
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "image_size": side,
        "patch_size": 14,
    }
    text = {"model_type": "qwen2", **TEXT, "eos_token_id": ids["<|im_end|>"]}
    cfg = tf.LlavaOnevisionConfig(
        vision_config=vis,
        text_config=text,
        image_token_index=ids["<image>"],
        video_token_index=ids["<video>"],
        image_grid_pinpoints=pins,
        vision_aspect_ratio="anyres_max_9",
    )
    ip = LlavaOnevisionImageProcessorPil(size={"height": side, "width": side}, image_grid_pinpoints=pins)
    return tf.LlavaOnevisionForConditionalGeneration(cfg), ip


def _internvl(ids: dict[str, int]) -> tuple[Any, Any]:
    import transformers as tf
    from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import GotOcr2ImageProcessorPil

    side = 56  # 4x4 patches -> pixel shuffle 0.5 -> 4 tokens per tile (448 -> 256 in the real model)
    vis = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "image_size": [side, side],
        "patch_size": [14, 14],
    }
    text = {"model_type": "qwen2", **TEXT, "eos_token_id": ids["<|im_end|>"]}
    cfg = tf.InternVLConfig(
        vision_config=vis,
        text_config=text,
        image_token_id=ids["<IMG_CONTEXT>"],
        image_seq_length=4,
        downsample_ratio=0.5,
    )
    ip = GotOcr2ImageProcessorPil(size={"height": side, "width": side}, crop_to_patches=True, max_patches=12)
    return tf.InternVLForConditionalGeneration(cfg), ip


def write_tiny(family: str, out_dir: str | Path, seed: int = 0) -> Path:
    """Write a seeded random tiny checkpoint of ``family`` (one of FAMILIES) into ``out_dir``."""
    import torch

    if family not in FAMILIES:
        raise ValueError(f"family {family!r}: expected one of {FAMILIES}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ids = _tokenizer(out, family)
    torch.manual_seed(seed)
    if family.startswith("qwen"):
        model, ip = _qwen(family, ids)
    elif family == "llava-onevision":
        model, ip = _llava(ids)
    else:
        model, ip = _internvl(ids)
    model.generation_config.eos_token_id = ids["<|im_end|>"]
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    model.save_pretrained(out)
    ip.save_pretrained(out)
    return out
