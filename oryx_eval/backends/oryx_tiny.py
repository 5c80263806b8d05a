"""Tiny Oryx backends: ``oryx-tiny`` (the tiny Oryx trained on synthetic needles, shipped in
``checkpoints/oryx-tiny-niah``), ``oryx-tiny-random`` (seeded random weights, the pipeline check) and
``oryx-tiny-trained`` (any checkpoint written by ``oryx-eval train-tiny``)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from oryx_eval.backends.args import MODEL_PATH, declare_params
from oryx_eval.backends.oryx import OryxBackend
from oryx_eval.errors import BackendError
from oryx_eval.registry import BACKENDS

_KW = inspect.Parameter.KEYWORD_ONLY
_CACHE = inspect.Parameter("cache_dir", _KW, annotation=str)
_SEED = inspect.Parameter("seed", _KW, default=0, annotation=int)
SHIPPED = Path(__file__).resolve().parents[2] / "checkpoints" / "oryx-tiny-niah"
"""The trained tiny Oryx shipped in the repository (its ``train_record.json`` has the rebuild command)."""


def _random(name: str, cache_dir: str, seed: int, kwargs: dict[str, Any]) -> OryxBackend:
    """A seeded random-weight tiny Oryx written in the official layout and loaded by the real loader."""
    import model as oryx

    path = oryx.tiny_checkpoint(Path(cache_dir) / "checkpoints", seed=seed)
    b = OryxBackend(model_path=str(path), random_weights=True, cache_dir=cache_dir, **kwargs)
    b.name = name
    b._args["seed"] = seed
    return b


@BACKENDS.register("oryx-tiny")
def oryx_tiny_backend(cache_dir: str, **kwargs: Any) -> OryxBackend:
    """The tiny Oryx trained on synthetic needles and shipped in the repository (``SHIPPED``): the offline
    demo's model. Its accuracy is a tiny model's on synthetic needles, never Oryx's."""
    return _trained("oryx-tiny", SHIPPED, cache_dir, kwargs, _RESTORE)


@BACKENDS.register("oryx-tiny-random")
def oryx_tiny_random_backend(cache_dir: str, seed: int = 0, **kwargs: Any) -> OryxBackend:
    """The random-weight tiny Oryx under its explicit name."""
    return _random("oryx-tiny-random", cache_dir, seed, kwargs)


@BACKENDS.register("oryx-tiny-trained")
def oryx_tiny_trained_backend(cache_dir: str, model_path: str | None = None, **kwargs: Any) -> OryxBackend:
    """A tiny Oryx trained on synthetic needles by ``oryx-eval train-tiny --out DIR`` (``--model-path DIR``).

    The video resize defaults are the ones the checkpoint was trained at (its ``train_record.json``);
    explicit arguments override them.
    """
    if model_path is None:
        raise BackendError(
            "backend 'oryx-tiny-trained' needs --model-path DIR (an `oryx-eval train-tiny` output)"
        )
    return _trained("oryx-tiny-trained", Path(model_path), cache_dir, kwargs, _TRAIN_OUT)


_RESTORE = "the shipped checkpoint is missing: restore it with `git checkout -- checkpoints/oryx-tiny-niah`"
_TRAIN_OUT = "--model-path must be an `oryx-eval train-tiny --out` directory"


def _trained(name: str, path: Path, cache_dir: str, kwargs: dict[str, Any], hint: str) -> OryxBackend:
    """A `train-tiny` output loaded by the real loader, at the video resize it was trained at; `hint` ends
    the error when `path` is not one."""
    record_file = path / "train_record.json"
    if not record_file.is_file():
        raise BackendError(f"{name}: {record_file} not found; {hint}")
    record = json.loads(record_file.read_text())
    b = OryxBackend(model_path=str(path), cache_dir=cache_dir, **{**record["backend_defaults"], **kwargs})
    b.name = name
    b.note = record["note"]
    b.training = {"command": record["command"], "seed": record["config"]["seed"]}
    return b


_TINY_DROP = ("model_path", "random_weights", "cache_dir")
declare_params(oryx_tiny_backend, OryxBackend, drop=_TINY_DROP, lead=(_CACHE,))
declare_params(oryx_tiny_random_backend, OryxBackend, drop=_TINY_DROP, lead=(_CACHE, _SEED))
declare_params(oryx_tiny_trained_backend, OryxBackend, drop=_TINY_DROP, lead=(_CACHE, MODEL_PATH))
