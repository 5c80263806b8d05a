"""MLVU (benchmarks.md §2): reader ``mlvu``, official rule ``mlvu_official``; headline M-avg =
``macro_accuracy`` over ``task_type`` (the official macro mean), with the micro mean (``accuracy``) and the
per-type accuracies beside it; generation items are recorded and reported as not scored."""

from oryx_eval.benchmarks.mlvu.reader import read_mlvu, split_embedded
from oryx_eval.benchmarks.mlvu.rules import official_mlvu

__all__ = ["official_mlvu", "read_mlvu", "split_embedded"]
