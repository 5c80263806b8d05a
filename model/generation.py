"""Decoding settings of Oryx generation and the checkpoint's `generation_config.json` (arXiv 2409.12961).

The reference decodes through transformers 4.x `generate` (`oryx/model/language_model/oryx_qwen.py`), which
merges the call's arguments over the model's `generation_config` (read by `from_pretrained` from the
checkpoint's `generation_config.json`): a key the call does not pass keeps the file's value. Oryx-1.5-7B's
file holds repetition_penalty 1.05, do_sample true, temperature 0.7, top_k 20, top_p 0.8 and
eos [151645, 151643]. `CheckpointGenerationConfig` reads such a file and translates its keys to
`GenerationConfig` fields; which value wins (call / file / default) is the caller's decision.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch import Tensor

from model.prompt import DEFAULT_SYSTEM
from model.sampling import apply_repetition_penalty, sampling_probs

GENERATION_CONFIG_FILE = "generation_config.json"


@dataclass(frozen=True)
class GenerationConfig:
    """Decoding settings (temperature 0 = greedy)."""

    max_new_tokens: int = 16
    temperature: float = 0.0
    top_p: float | None = None  # nucleus mass kept when sampling; None = all
    # tokens kept when sampling; 50 = the transformers 4.x GenerationConfig default, which the reference's
    # HF `generate` applies when neither the call nor the checkpoint's generation_config sets it; None = all
    top_k: int | None = 50
    # transformers' RepetitionPenaltyLogitsProcessor (greedy and sampling); 1.0 = off. The reference passes
    # only `inputs_embeds`, so the penalised ids are the generated ones (the prompt is never penalised)
    repetition_penalty: float = 1.0
    stop_ids: tuple[int, ...] = ()  # extra stop ids, on top of the model's (config/tokenizer/checkpoint eos)
    seed: int = 0  # seeds the sampling generator (unused when greedy)
    system_prompt: str = DEFAULT_SYSTEM
    on_overflow: Literal["error", "truncate"] = "error"  # spliced sequence longer than config.max_length

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"GenerationConfig.max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"GenerationConfig.temperature must be >= 0, got {self.temperature}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ValueError(f"GenerationConfig.top_p must be in (0, 1], got {self.top_p}")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"GenerationConfig.top_k must be >= 1 or None, got {self.top_k}")
        if not self.repetition_penalty > 0:
            raise ValueError(
                f"GenerationConfig.repetition_penalty must be > 0, got {self.repetition_penalty}"
            )
        if not all(isinstance(i, int) and i >= 0 for i in self.stop_ids):
            raise ValueError(f"GenerationConfig.stop_ids must be non-negative ints, got {self.stop_ids}")
        if self.on_overflow not in ("error", "truncate"):
            raise ValueError(
                f"GenerationConfig.on_overflow must be 'error' or 'truncate', got {self.on_overflow!r}"
            )


def sample_next(
    logits: Tensor, gen: GenerationConfig, generator: torch.Generator | None, generated: Sequence[int] = ()
) -> int:
    """Next token from `(V,)` logits, in transformers' logits-processor order: the repetition penalty over
    the ids generated so far, then argmax when greedy, else a draw from `sampling_probs` (temperature,
    top-k, top-p)."""
    if gen.repetition_penalty != 1.0 and generated:
        logits = apply_repetition_penalty(logits.float(), generated, gen.repetition_penalty)
    if gen.temperature == 0:
        return int(logits.argmax())
    probs = sampling_probs(logits, gen.temperature, gen.top_k, gen.top_p)  # (V,)
    return int(torch.multinomial(probs, 1, generator=generator))


def _ids(value: Any) -> tuple[int, ...]:
    vals = value if isinstance(value, list) else [] if value is None else [value]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in vals):
        raise ValueError(f"eos_token_id must be a non-negative int or a list of them, got {value!r}")
    return tuple(vals)


@dataclass(frozen=True)
class CheckpointGenerationConfig:
    """A checkpoint's `generation_config.json` (transformers `GenerationConfig` keys).

    Attributes:
        path: the file read.
        values: its JSON object as written.
    """

    path: str
    values: dict[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def read(cls, path: str | Path) -> CheckpointGenerationConfig:
        """Parse the file; ValueError (naming it) when it is not a JSON object with valid values."""
        p = Path(path)
        try:
            values = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"{p}: unreadable generation config ({e})") from e
        if not isinstance(values, dict):
            raise ValueError(f"{p}: generation config must be a JSON object, got {type(values).__name__}")
        out = cls(str(p), values)
        try:
            out.eos_token_ids, out.defaults()  # noqa: B018 - validates the values once, at load time
        except (TypeError, ValueError) as e:
            raise ValueError(f"{p}: {e}") from e
        return out

    @property
    def eos_token_ids(self) -> tuple[int, ...]:
        """Stop ids; transformers `generate` always stops on them (the call never overrides them in Oryx)."""
        return _ids(self.values.get("eos_token_id"))

    def defaults(self) -> dict[str, Any]:
        """The file's values as `GenerationConfig` fields, only for what the file decides.

        `temperature` follows transformers' switch: `do_sample` false => greedy (0.0); true => the file's
        temperature (transformers' default 1.0 when absent). `top_k` 0 or null means no top-k (None).
        """
        v = self.values
        out: dict[str, Any] = {}
        if "do_sample" in v or "temperature" in v:
            out["temperature"] = float(v.get("temperature", 1.0)) if v.get("do_sample") else 0.0
        if "top_k" in v:
            out["top_k"] = int(v["top_k"]) if v["top_k"] else None
        if "top_p" in v:
            out["top_p"] = None if v["top_p"] is None else float(v["top_p"])
        if "repetition_penalty" in v:
            out["repetition_penalty"] = (
                1.0 if v["repetition_penalty"] is None else float(v["repetition_penalty"])
            )
        if v.get("max_new_tokens") is not None:
            out["max_new_tokens"] = int(v["max_new_tokens"])
        GenerationConfig(**out)  # same validation as a call's settings
        return out
