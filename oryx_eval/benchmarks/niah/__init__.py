"""Synthetic video needle-in-a-haystack (benchmarks.md §6.4); importing registers its reader, generator
and report: ``DATASETS["niah"]``, ``GENERATORS["niah_haystack"]``, ``REPORTS["niah_heatmap"]``."""

from oryx_eval.benchmarks.niah.needles import NEEDLE_KINDS, make_needle, read_marker, render_needle
from oryx_eval.benchmarks.niah.report import niah_report
from oryx_eval.benchmarks.niah.task import needle_seen, niah_haystack, read_niah, validate_args

__all__ = [
    "NEEDLE_KINDS",
    "make_needle",
    "needle_seen",
    "niah_haystack",
    "niah_report",
    "read_marker",
    "read_niah",
    "render_needle",
    "validate_args",
]
