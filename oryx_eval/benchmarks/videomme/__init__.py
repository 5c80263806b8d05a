"""VideoMME (benchmarks.md §1): reader ``videomme``, official rule ``videomme_official``, subtitle context
``videomme_subtitles``. Metrics: the official answered-only accuracy (``answered_accuracy``) beside the
all-questions one (``accuracy``), by duration, domain, sub-category and task type."""

from oryx_eval.benchmarks.videomme.reader import read_videomme
from oryx_eval.benchmarks.videomme.rules import official_videomme
from oryx_eval.benchmarks.videomme.subtitles import parse_srt, select_cues, videomme_subtitles

__all__ = ["official_videomme", "parse_srt", "read_videomme", "select_cues", "videomme_subtitles"]
