"""Tests for model/tiny.py: determinism, official layout, real tokenizer, llama variant, cache helper."""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from safetensors import safe_open
from transformers import AutoTokenizer

from model import load_oryx, tiny_checkpoint, write_tiny_checkpoint
from model.tiny import train_tokenizer


def test_byte_identical_for_a_seed(tiny_dir: Path, tmp_path: Path) -> None:
    again = write_tiny_checkpoint(tmp_path / "again", seed=0)
    names = sorted(p.name for p in tiny_dir.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        assert (tiny_dir / name).read_bytes() == (again / name).read_bytes(), name
    other = write_tiny_checkpoint(tmp_path / "other", seed=1)
    shard = "model-00001-of-00002.safetensors"
    assert (other / shard).read_bytes() != (tiny_dir / shard).read_bytes()


def test_official_layout(tiny_dir: Path) -> None:
    cfg = json.loads((tiny_dir / "config.json").read_text())
    assert cfg["model_type"] == "oryx_qwen" and cfg["architectures"] == ["OryxQwenForCausalLM"]
    for key, value in {
        "mm_projector_type": "simple_mlp_twoview",
        "mm_resampler_type": "dynamic_compressor",
        "mm_vision_select_layer": -1,
        "mm_use_im_start_end": False,
        "mm_hidden_size": 32,
    }.items():
        assert cfg[key] == value, key
    assert cfg["mm_vision_tower"].startswith("oryx_vit:")
    index = json.loads((tiny_dir / "model.safetensors.index.json").read_text())
    shards = sorted({v for v in index["weight_map"].values()})
    assert len(shards) >= 2 and all(re.fullmatch(r"model-\d{5}-of-\d{5}\.safetensors", s) for s in shards)
    seen, total = {}, 0
    for s in shards:
        with safe_open(str(tiny_dir / s), framework="pt") as f:
            for k in f.keys():
                t = f.get_tensor(k)
                assert t.dtype == torch.bfloat16, k
                seen[k] = s
                total += t.numel() * t.element_size()
    assert seen == index["weight_map"] and total == index["metadata"]["total_size"]
    assert any(k.startswith("model.vision_resampler.vlm_query_projector") for k in seen)
    assert "model.mm_projector.image_newline" in seen and "lm_head.weight" in seen
    assert "model.vision_tower.vision_tower.pos_embed" in seen
    vit = torch.load(tiny_dir / "oryx_vit.pth", weights_only=True)
    assert vit["pos_embed"].shape == (1, 128 * 128, 32)  # the real 128x128 position grid
    for name in (
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "added_tokens.json",
        "vocab.json",
        "merges.txt",
        "generation_config.json",
    ):
        assert (tiny_dir / name).is_file(), name


def test_tokenizer_is_a_real_bpe_with_qwen_specials(tiny_dir: Path) -> None:
    tok = AutoTokenizer.from_pretrained(str(tiny_dir), local_files_only=True)
    added = json.loads((tiny_dir / "added_tokens.json").read_text())
    assert set(added) == {"<|endoftext|>", "<|im_start|>", "<|im_end|>"}
    for s, i in added.items():
        assert tok.convert_tokens_to_ids(s) == i
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>" and tok.bos_token is None
    assert 300 <= len(tok) <= 2000
    text = "<|im_start|>user\nWhat color is the ball? Ünïcode 42!<|im_end|>"
    ids = tok(text).input_ids
    assert tok.decode(ids) == text
    assert ids[0] == added["<|im_start|>"] and ids[-1] == added["<|im_end|>"]
    assert len(tok("the video shows").input_ids) < len("the video shows")  # merges were learned
    cfg = json.loads((tiny_dir / "config.json").read_text())
    assert cfg["vocab_size"] >= len(tok) and cfg["eos_token_id"] == added["<|im_end|>"]


def test_tokenizer_training_is_deterministic() -> None:
    assert train_tokenizer().to_str() == train_tokenizer().to_str()


def test_llama_variant(tmp_path: Path) -> None:
    d = write_tiny_checkpoint(tmp_path / "llama", seed=0, llm_kind="llama")
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["model_type"] == "oryx_llama" and cfg["architectures"] == ["OryxLlamaForCausalLM"]
    m = load_oryx(d)
    assert type(m.llm).__name__ == "LlamaForCausalLM"


def test_tiny_checkpoint_cache_reuses(tmp_path: Path) -> None:
    a = tiny_checkpoint(tmp_path)
    stamp = (a / "model-00001-of-00002.safetensors").stat().st_mtime_ns
    b = tiny_checkpoint(tmp_path)
    assert a == b and (b / "model-00001-of-00002.safetensors").stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [a.name]  # no temp dirs left behind
