"""Shared machinery of the transformers comparison backends (LLaVA-OneVision, Qwen2-VL, InternVL).

A family module supplies a `Family` (checkpoint kinds, placeholder strings, input preparation and the
pure visual-token predictor); `HFBackend` does the rest the same way for every family: checkpoint check
and identity, chat-template prompt, one request at a time through the model's own ``generate``, token
counts read from the real ``input_ids``, and per-stage latency:

- ``preprocess``: frames/image -> pixel values and grid/tile metadata, prompt rendering, tokenisation;
  shared by the requests of one call that use the same media (split evenly, as Oryx splits its encoding).
- ``vision``: the model's ``get_image_features`` / ``get_video_features`` (vision tower + projector +
  merge/pooling), timed by wrapping that method on the loaded model (device-synchronised).
- ``prefill``: the rest of the first forward (embedding splice + LLM prefill + first token).
- ``generate``: the remaining decode steps. ``compress`` is always 0 (no separate compression stage).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oryx_eval.backends.checkpoint import checkpoint_identity
from oryx_eval.errors import BackendError
from oryx_eval.records import Generation, Latency, LoadedMedia, Request, TokenCounts

ATTN = {
    "sdpa": "sdpa",
    "eager": "eager",
    "flash": "flash_attention_2",
    "flash_attention_2": "flash_attention_2",
}
PROCESSOR_FILES = (
    "preprocessor_config.json",
    "video_preprocessor_config.json",
    "processor_config.json",
    "chat_template.json",
    "chat_template.jinja",
    "tokenizer_config.json",
)


@dataclass
class MediaInputs:
    """Model inputs of one media item plus what the predictor said about them."""

    kind: str | None
    """``image``, ``video`` or ``None`` (text only)."""
    tensors: dict[str, Any]
    """Pixel values and grid/tile metadata (keyword arguments of ``model.generate``)."""
    placeholder: str
    """The chat template's placeholder for this media, replaced by ``expansion``."""
    expansion: str
    predicted_visual: int
    """Visual tokens the family's predictor gives for this media and setting."""
    visual_raw: int
    """Vision-tower patch tokens before merge/pixel-shuffle/pooling."""
    setting: dict[str, Any]
    """The resolution setting used for this media (recorded)."""


def hf_identity(path: Path, cache_dir: Path | None = None) -> dict[str, Any]:
    """Oryx's `checkpoint_identity`: XXH3-128 of every file of the directory (weights, processor and
    chat-template files included), cached by path+size+mtime."""
    return checkpoint_identity(path, cache_dir)


def check_checkpoint(path: Path, family: str, model_types: tuple[str, ...]) -> dict[str, Any]:
    """config.json of a checkpoint dir of ``family``; one-line `BackendError` otherwise."""
    cfg_file = path / "config.json"
    if not path.is_dir() or not cfg_file.exists():
        raise BackendError(f"{path}: not a {family} checkpoint directory (no config.json)")
    try:
        cfg = json.loads(cfg_file.read_text())
    except json.JSONDecodeError as e:
        raise BackendError(f"{cfg_file}: invalid JSON ({e})") from None
    mt = cfg.get("model_type")
    if mt not in model_types:
        raise BackendError(
            f"{path}: config.json model_type {mt!r} is not a {family} checkpoint "
            f"(expected one of {list(model_types)})"
        )
    if not any((path / n).exists() for n in ("tokenizer.json", "tokenizer_config.json")):
        raise BackendError(f"{path}: {family} checkpoint has no tokenizer files (tokenizer.json)")
    if not (path / "preprocessor_config.json").exists():
        raise BackendError(f"{path}: {family} checkpoint has no preprocessor_config.json")
    return cfg


def load_chat_template(path: Path, tokenizer: Any) -> tuple[str, str]:
    """The checkpoint's multimodal chat template and the file it came from.

    The processor's template (``chat_template.json`` / ``chat_template.jinja``) wins over the tokenizer's,
    which in some checkpoints is the text-only LLM template.
    """
    f = path / "chat_template.json"
    if f.exists():
        return json.loads(f.read_text())["chat_template"], f.name
    f = path / "chat_template.jinja"
    if f.exists():
        return f.read_text(), f.name
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.chat_template, "tokenizer_config.json"
    raise BackendError(f"{path}: checkpoint has no chat template (chat_template.json/.jinja or tokenizer's)")


class StageClock:
    """A ``generate`` streamer that timestamps the first new token (end of prefill) and the end."""

    def __init__(self, sync: Callable[[], None]) -> None:
        self._sync = sync
        self._puts = 0
        self.t_first: float | None = None
        self.t_end: float | None = None

    def put(self, value: Any) -> None:
        """Called with the prompt ids first, then once per new token."""
        self._puts += 1
        if self._puts == 2:
            self._sync()
            self.t_first = time.perf_counter()

    def end(self) -> None:
        """Called once when generation stops."""
        self._sync()
        self.t_end = time.perf_counter()


def pick_largest_fit(candidates: list[Any], tokens: Callable[[Any], int], budget: int) -> tuple[Any, bool]:
    """The candidate (ordered by non-decreasing tokens) with the most tokens <= budget, by bisection.

    Returns ``(candidate, fits)``; when none fits, the first (cheapest) candidate and ``False``.
    """
    lo, hi = 0, len(candidates) - 1
    if tokens(candidates[0]) > budget:
        return candidates[0], False
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if tokens(candidates[mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return candidates[lo], True


def register_hf_backend(name: str, cls: type, doc: str) -> Callable[..., Any]:
    """Register ``cls`` under ``name`` behind a factory that needs ``model_path`` and declares the class's
    typed parameters (so ``build_backend`` checks names and types before any loading)."""
    from oryx_eval.backends.args import MODEL_PATH, declare_params
    from oryx_eval.registry import BACKENDS

    def factory(model_path: str | None = None, **kwargs: Any) -> Any:
        if model_path is None:
            raise BackendError(f"backend {name!r} needs --model-path DIR (a local transformers checkpoint)")
        return cls(model_path=model_path, **kwargs)

    factory.__doc__ = doc
    return BACKENDS.register(name)(declare_params(factory, cls, lead=(MODEL_PATH,)))


def media_of(req: Request) -> LoadedMedia | None:
    """The single media item of a request (comparison backends take at most one, like Oryx)."""
    if len(req.media) > 1:
        raise BackendError(f"sample {req.sample_id}: one image or video per prompt is supported")
    return req.media[0] if req.media else None


def gen_kwargs(req: Request, eos: list[int], pad: int | None) -> dict[str, Any]:
    """``generate`` keyword arguments from the task's decoding settings (greedy when temperature is 0)."""
    g = req.generation
    kw: dict[str, Any] = {"max_new_tokens": g.max_new_tokens, "eos_token_id": eos, "pad_token_id": pad}
    if g.temperature > 0:
        kw |= {"do_sample": True, "temperature": g.temperature, "top_k": g.top_k, "top_p": g.top_p}
    else:
        kw |= {"do_sample": False, "temperature": None, "top_k": None, "top_p": None}
    return kw


def build_generation(
    text: str,
    n_in: int,
    n_visual: int,
    n_out: int,
    p: MediaInputs,
    t: dict[str, float],
    extra: dict[str, Any],
) -> Generation:
    """A `Generation` with the token counts read from the sequence and the stage times ``t``."""
    lat = Latency(preprocess=t["preprocess"], vision=t["vision"], prefill=t["prefill"], generate=t["decode"])
    lat.total = lat.preprocess + lat.vision + lat.prefill + lat.generate
    tok = TokenCounts(visual_raw=p.visual_raw, visual=n_visual, text=n_in - n_visual, output=n_out)
    label = ",".join(f"{k}={v}" for k, v in p.setting.items()) or None
    return Generation(text=text, tokens=tok, latency_s=lat, compression=label, extra=extra)
