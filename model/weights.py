"""Strict loader for Oryx checkpoints in the official layout (arXiv 2409.12961).

Reproduces what the reference `oryx/model/builder.py` (`load_pretrained_model`) and
`oryx/model/multimodal_encoder/oryx_vit.py` (`OryxViTWrapper.load_model`) read: config.json (family routed by
`model_type`), `model.safetensors.index.json` + shards (or one `model.safetensors`), the tokenizer, the
ViT from `oryx_vit.pth`, and `generation_config.json` when present (transformers' `from_pretrained` reads it
into the model's default decoding settings; here it is exposed as `OryxModel.generation_defaults`).
Unlike the reference (`strict=False` for the ViT), every key is accounted for: missing, unexpected
and wrong-shape keys are collected over all modules and raised together.

Key table (checkpoint -> OryxModel):
    model.vision_tower.vision_tower.*  -> vision_tower.*      (only when no oryx_vit.pth is used; otherwise
                                                               shape-checked against the model and skipped)
    model.vision_resampler.*           -> vision_resampler.*
    model.mm_projector.*               -> mm_projector.*
    model.* / lm_head.*                -> llm.model.* / llm.lm_head.*
    oryx_vit.pth <key>                 -> vision_tower.<key>

ViT ignore rule: keys under `norm.`, `attn_pool.` and `head.` (timm's final LayerNorm, MAP pooling head and
classifier) are dropped, because Oryx never builds those modules (features are the last block's output).
Any other unknown ViT key is an error.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from torch import Tensor
from transformers import AutoTokenizer

from model.attention import AttentionBackend
from model.config import OryxConfig
from model.generation import GENERATION_CONFIG_FILE, CheckpointGenerationConfig
from model.llm import LLMAttention, build_llm_config
from model.oryx import OryxModel

VIT_IGNORED_PREFIXES = ("norm.", "attn_pool.", "head.")  # timm modules Oryx never builds
SHARD_VIT_PREFIX = "model.vision_tower.vision_tower."
_ROUTES = (
    (SHARD_VIT_PREFIX, "vision_tower."),
    ("model.vision_resampler.", "vision_resampler."),
    ("model.mm_projector.", "mm_projector."),
    ("model.", "llm.model."),
    ("lm_head.", "llm.lm_head."),
)
_SHOW = 20  # keys listed per category in a CheckpointError


class CheckpointError(ValueError):
    """A checkpoint whose files or keys do not match the model; the message lists what and where."""


class _Ledger:
    """Collects tensors and every missing / unexpected / mismatched key."""

    def __init__(self, expected: dict[str, tuple[int, ...]]) -> None:
        self.expected = expected
        self.tensors: dict[str, Tensor] = {}
        self.unexpected: list[str] = []
        self.mismatched: list[str] = []
        self.mismatched_names: set[str] = set()  # reported as mismatches, not again as missing

    def check(self, name: str, shape: tuple[int, ...], src: str, where: str) -> bool:
        if name not in self.expected:
            self.unexpected.append(f"{src} ({where})")
            return False
        if shape != self.expected[name]:
            self.mismatched.append(f"{src} ({where}): checkpoint {shape} vs model {self.expected[name]}")
            self.mismatched_names.add(name)
            return False
        return True

    def raise_if_bad(self, path: Path, hint: str) -> None:
        missing = sorted(set(self.expected) - set(self.tensors) - self.mismatched_names)
        if not (missing or self.unexpected or self.mismatched):
            return
        parts = [
            f"checkpoint {path}: {len(missing)} missing keys, {len(self.unexpected)} unexpected keys, "
            f"{len(self.mismatched)} shape mismatches"
        ]
        for label, items in (
            ("missing", missing),
            ("unexpected", self.unexpected),
            ("shape", self.mismatched),
        ):
            if items:
                more = f" (+{len(items) - _SHOW} more)" if len(items) > _SHOW else ""
                parts.append(f"  {label}{more}:\n    " + "\n    ".join(items[:_SHOW]))
        if hint:
            parts.append(f"  note: {hint}")
        raise CheckpointError("\n".join(parts))


def _route(key: str) -> str | None:
    for src, dst in _ROUTES:
        if key.startswith(src):
            return dst + key[len(src) :]
    return None


def _vit_ignored(key: str) -> bool:
    return key.startswith(VIT_IGNORED_PREFIXES)


def _shard_files(path: Path) -> list[Path]:
    index = path / "model.safetensors.index.json"
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text())["weight_map"]
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise CheckpointError(f"{index}: not a safetensors index with a 'weight_map' ({e})") from e
        files = sorted(set(weight_map.values()))
        absent = [f for f in files if not (path / f).is_file()]
        if absent:
            raise CheckpointError(f"{index}: shard files listed but not present: {absent}")
        return [path / f for f in files]
    single = path / "model.safetensors"
    if single.is_file():
        return [single]
    raise CheckpointError(f"{path}: no model.safetensors.index.json and no model.safetensors")


def resolve_vit_path(path: Path, cfg: dict[str, Any], vit_path: str | os.PathLike[str] | None) -> Path | None:
    """Where the ViT weights come from: `vit_path`, else `mm_vision_tower` ("oryx_vit:<path>", relative to
    the checkpoint dir) when it exists locally, else `<path>/oryx_vit.pth`, else None (use the shards)."""
    if vit_path is not None:
        p = Path(vit_path)
        p = p / "oryx_vit.pth" if p.is_dir() else p
        if not p.is_file():
            raise CheckpointError(f"vit_path {p} does not exist")
        return p
    tower = cfg.get("mm_vision_tower")
    if isinstance(tower, str) and tower.startswith("oryx_vit:"):
        p = Path(tower.split(":", 1)[1])
        p = p if p.is_absolute() else path / p
        p = p / "oryx_vit.pth" if p.is_dir() else p
        if p.is_file():
            return p
    p = path / "oryx_vit.pth"
    return p if p.is_file() else None


def _read_shard(f: Path, led: _Ledger, dtype: torch.dtype, device: torch.device, vit_from_pth: bool) -> None:
    try:
        with safe_open(str(f), framework="pt", device="cpu") as sf:
            for key in sf.keys():
                name = _route(key)
                shape = tuple(sf.get_slice(key).get_shape())
                if name is None:
                    led.unexpected.append(f"{key} ({f.name})")
                    continue
                if key.startswith(SHARD_VIT_PREFIX):
                    if _vit_ignored(key[len(SHARD_VIT_PREFIX) :]):
                        continue
                    if vit_from_pth:  # the .pth wins; the shard copy must still fit the model
                        led.check(name, shape, key, f.name)
                        continue
                if led.check(name, shape, key, f.name):
                    led.tensors[name] = sf.get_tensor(key).to(device=device, dtype=dtype)
    except SafetensorError as e:
        raise CheckpointError(f"cannot read shard {f}: {e}") from e


def _read_vit(f: Path, led: _Ledger, dtype: torch.dtype, device: torch.device) -> None:
    try:
        state = torch.load(f, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a bad file; re-raised with its name
        raise CheckpointError(f"cannot read ViT weights {f}: {type(e).__name__}: {e}") from e
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise CheckpointError(f"{f}: expected a flat state dict of tensors")
    for key, t in state.items():
        if _vit_ignored(key):
            continue
        if led.check("vision_tower." + key, tuple(t.shape), key, f.name):
            led.tensors["vision_tower." + key] = t.to(device=device, dtype=dtype)


def _materialize_buffers(model: OryxModel, device: torch.device) -> None:
    """Recreate the LLM's rotary tables (non-persistent buffers, left on meta) and check nothing else is."""
    for name, mod in list(model.llm.named_modules()):
        if name.endswith("rotary_emb"):
            parent = model.llm.get_submodule(name.rsplit(".", 1)[0]) if "." in name else model.llm
            with torch.device(device):
                setattr(parent, name.rsplit(".", 1)[-1], type(mod)(model.llm.config))
    left = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if left:
        raise RuntimeError(f"load_oryx: tensors not materialised by the checkpoint: {left[:_SHOW]}")


def load_oryx(
    path: str | os.PathLike[str],
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
    attn_backend: AttentionBackend = "sdpa",
    vit_path: str | os.PathLike[str] | None = None,
    llm_attn: LLMAttention = "sdpa",
) -> OryxModel:
    """Load an Oryx checkpoint directory (official layout) with strict key accounting.

    Args:
        path: checkpoint directory (config.json, safetensors shards + index, tokenizer files).
        dtype: parameter dtype (tensors are cast while loading).
        device: target device.
        attn_backend: ViT attention backend.
        vit_path: explicit `oryx_vit.pth` (or a directory holding it); see `resolve_vit_path`.
        llm_attn: transformers attention implementation of the LLM.

    Returns:
        OryxModel in eval mode with its tokenizer and `generation_defaults` (the checkpoint's
        generation_config.json, or None when it has none).

    Raises:
        CheckpointError: unreadable files (generation_config.json included), or missing / unexpected /
            wrong-shape keys (listed).
    """
    root = Path(path)
    cfg_file = root / "config.json"
    if not cfg_file.is_file():
        raise CheckpointError(f"{root}: no config.json (not an Oryx checkpoint directory)")
    try:
        cfg_dict = json.loads(cfg_file.read_text())
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{cfg_file}: invalid JSON ({e})") from e
    cfg = OryxConfig.from_hf_dict(cfg_dict)
    shards = _shard_files(root)
    gen_defaults = None
    if (root / GENERATION_CONFIG_FILE).is_file():
        try:
            gen_defaults = CheckpointGenerationConfig.read(root / GENERATION_CONFIG_FILE)
        except ValueError as e:
            raise CheckpointError(str(e)) from e
    vit_file = resolve_vit_path(root, cfg_dict, vit_path)
    # the LLM config is passed so transformers does not re-read config.json (its model_type is not an HF one)
    tokenizer = AutoTokenizer.from_pretrained(str(root), config=build_llm_config(cfg), local_files_only=True)
    dev = torch.device(device)

    with torch.device("meta"):
        model = OryxModel(
            cfg, tokenizer, attn_backend=attn_backend, llm_attn=llm_attn, generation_defaults=gen_defaults
        )
    tied = bool(model.llm.config.tie_word_embeddings)
    expected = {k: tuple(t.shape) for k, t in model.state_dict().items()}
    if tied:
        expected.pop("llm.lm_head.weight", None)
    led = _Ledger(expected)
    if vit_file is not None:
        _read_vit(vit_file, led, dtype, dev)
    for f in shards:
        _read_shard(f, led, dtype, dev, vit_from_pth=vit_file is not None)
    hint = (
        ""
        if vit_file is not None
        else f"no oryx_vit.pth found (vit_path, mm_vision_tower, {root}/oryx_vit.pth)"
    )
    led.raise_if_bad(
        root, hint if any(k.startswith("vision_tower.") for k in expected if k not in led.tensors) else ""
    )
    if tied:
        led.tensors["llm.lm_head.weight"] = led.tensors["llm.model.embed_tokens.weight"]
    model.load_state_dict(led.tensors, strict=True, assign=True)
    _materialize_buffers(model, dev)
    return model.eval().requires_grad_(False)
