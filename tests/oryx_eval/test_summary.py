"""`compression_pivots`: a task's headline accuracy by its first single-key breakdown and compression."""

from __future__ import annotations

from oryx_eval.records import MetricValue
from oryx_eval.results import RunRecord
from oryx_eval.summary import compression_pivots


def _m(
    task: str, value: float, comp: str, group: dict | None, n: int = 4, name: str = "accuracy"
) -> MetricValue:
    return MetricValue(task=task, name=name, value=value, compression=comp, group=group, n=n)


def _rec(metrics: list[MetricValue], comps: dict[str, list[str]], breakdowns: dict[str, list]) -> RunRecord:
    tasks = {t: {"metrics": [{"name": "accuracy"}], "breakdowns": b} for t, b in breakdowns.items()}
    stats = [{"task": t, "compression": c} for t, cs in comps.items() for c in cs]
    return RunRecord(spec={"tasks": tasks}, metrics=metrics, stats=stats, started="2026-12-02T00:00:00")


def test_pivot_rows_follow_the_first_single_key_breakdown() -> None:
    metrics = [
        _m("niah", 0.5, "1", None, 8),
        _m("niah", 1.0, "1", {"needle": "shape"}),
        _m("niah", 0.25, "16", {"needle": "shape"}),
        _m("niah", 0.0, "1", {"needle": "count"}),  # no 16x cell: shown as missing, never as 0
        _m("niah", 0.75, "1", {"num_frames": 8}),  # a later breakdown: not in the pivot
        _m("niah", 0.5, "1", {"needle": "shape", "depth": 0}),  # two keys: not in the pivot
        _m("niah", 0.9, "1", {"needle": "shape"}, name="parse_failure_rate"),  # not the accuracy
    ]
    rec = _rec(metrics, {"niah": ["1", "16"]}, {"niah": [["needle", "depth"], ["needle"], ["num_frames"]]})
    (pv,) = compression_pivots(rec)
    assert (pv.task, pv.key, pv.compressions) == ("niah", "needle", ["1", "16"])
    assert dict(pv.rows) == {"shape": [(1.0, 4), (0.25, 4)], "count": [(0.0, 4), (None, 0)]}


def test_no_pivot_for_one_compression_or_no_single_key_breakdown() -> None:
    metrics = [_m("a", 1.0, "1", {"k": 1}), _m("b", 1.0, "1", {"k": 1}), _m("b", 1.0, "4", {"k": 1})]
    rec = _rec(metrics, {"a": ["1"], "b": ["1", "4"]}, {"a": [["k"]], "b": [["k", "j"]]})
    assert compression_pivots(rec) == []


def test_a_run_whose_spec_lists_task_names_only_has_no_pivot() -> None:  # an imported lmms-eval run
    rec = RunRecord(spec={"tasks": ["videomme"]}, started="2026-12-02T00:00:00")
    assert compression_pivots(rec) == []


def test_the_pivot_shows_the_headline_metric_and_skips_a_task_without_its_groups() -> None:
    # videomme's headline is answered_accuracy (its first metric), which the run summary shows too
    metrics = [
        _m("v", 0.5, "1", {"duration": "short"}, name="answered_accuracy"),
        _m("v", 0.4, "16", {"duration": "short"}, name="answered_accuracy"),
        _m("v", 0.9, "1", {"duration": "short"}),  # accuracy: not the headline
        _m("w", 0.9, "1", {"k": 1}),  # w's headline has no groups at all: no (empty) pivot
    ]
    rec = _rec(metrics, {"v": ["1", "16"], "w": ["1", "16"]}, {"v": [["duration"]], "w": [["k"]]})
    rec.spec["tasks"]["v"]["metrics"] = [{"name": "answered_accuracy"}, {"name": "accuracy"}]
    rec.spec["tasks"]["w"]["metrics"] = [{"name": "macro_accuracy"}]
    (pv,) = compression_pivots(rec)
    assert (pv.task, pv.metric, pv.key) == ("v", "answered_accuracy", "duration")
    assert pv.rows == [("short", [(0.5, 4), (0.4, 4)])]
