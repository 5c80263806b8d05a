"""Explicit list of the modules whose decorators fill the registries (no directory scanning)."""

from __future__ import annotations

import importlib

BUILTIN_MODULES = (
    "oryx_eval.datasets",
    "oryx_eval.scoring.extract",
    "oryx_eval.scoring.scorers",
    "oryx_eval.scoring.metrics",
    "oryx_eval.scoring.mcq",
    "oryx_eval.scoring.mcq_report",
    "oryx_eval.scoring.unscored",
    "oryx_eval.benchmarks.niah.task",
    "oryx_eval.benchmarks.niah.report",
    "oryx_eval.benchmarks.videomme.reader",
    "oryx_eval.benchmarks.videomme.rules",
    "oryx_eval.benchmarks.videomme.subtitles",
    "oryx_eval.benchmarks.mlvu.reader",
    "oryx_eval.benchmarks.mlvu.rules",
    "oryx_eval.benchmarks.longvideobench.reader",
    "oryx_eval.benchmarks.longvideobench.rules",
    "oryx_eval.benchmarks.longvideobench.subtitles",
    "oryx_eval.benchmarks.longvideobench.report",
    "oryx_eval.benchmarks.ocrbench.reader",
    "oryx_eval.benchmarks.ocrbench.scoring",
    "oryx_eval.benchmarks.ocrbench.report",
    "oryx_eval.benchmarks.scanqa.reader",
    "oryx_eval.benchmarks.scanqa.scoring",
    "oryx_eval.benchmarks.scanqa.report",
    "oryx_eval.backends.oryx",
    "oryx_eval.backends.oryx_tiny",
    "oryx_eval.backends.testing",
    "oryx_eval.backends.openai_chat",
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
