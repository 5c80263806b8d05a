"""LongVideoBench (benchmarks.md §3): reader ``longvideobench``, official rule ``lvb_official`` (no random
fallback), subtitle context ``lvb_subtitles``, test submission report ``lvb_submission``."""

from oryx_eval.benchmarks.longvideobench.reader import options_of, read_lvb
from oryx_eval.benchmarks.longvideobench.rules import official_lvb
from oryx_eval.benchmarks.longvideobench.subtitles import load_cues, lvb_subtitles, select

__all__ = ["load_cues", "lvb_subtitles", "official_lvb", "options_of", "read_lvb", "select"]
