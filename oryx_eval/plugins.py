"""Explicit list of the modules whose decorators fill the registries (no directory scanning)."""

from __future__ import annotations

import importlib

BUILTIN_MODULES = (
    "oryx_eval.datasets",
    "oryx_eval.scoring.extract",
    "oryx_eval.scoring.scorers",
    "oryx_eval.scoring.metrics",
    "oryx_eval.benchmarks.niah.task",
    "oryx_eval.benchmarks.niah.report",
    "oryx_eval.backends.oryx",
    "oryx_eval.backends.testing",
    "oryx_eval.backends.qwen2_vl",
    "oryx_eval.backends.llava_onevision",
    "oryx_eval.backends.internvl",
)

_loaded = False


def load_builtin() -> None:
    """Import every built-in registering module once."""
    global _loaded
    if _loaded:
        return
    for mod in BUILTIN_MODULES:
        importlib.import_module(mod)
    _loaded = True
