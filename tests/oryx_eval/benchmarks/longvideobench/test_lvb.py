"""LongVideoBench reader ("N/A" options), subtitles in both shapes, and the tasks end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from oryx_eval.benchmarks.longvideobench.reader import read_lvb
from oryx_eval.benchmarks.longvideobench.subtitles import load_cues, select
from oryx_eval.records import ReaderContext
from tests.oryx_eval.benchmarks import video_fixtures as F
from tests.oryx_eval.benchmarks.runs import metric, read_json, run_task


@pytest.fixture(scope="module")
def lvb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lvb")
    F.longvideobench(root)
    F.longvideobench(root, test=True)
    return root


def test_reader_options_and_targets(lvb: Path) -> None:
    s = {x.id: x for x in read_lvb(ReaderContext(task="l", data_dir=lvb))}
    assert s["lvbVideo0001_0"].choices == ["w", "x", "y", "z"]  # option4 == "N/A"
    assert len(s["lvbVideo0001_1"].choices) == 5 and s["lvbVideo0002_0"].choices == ["yes", "no"]
    assert s["lvbVideo0001_0"].target == "D" and s["lvbVideo0002_0"].target == "B"
    assert s["lvbVideo0001_0"].media[0].path.endswith("videos/lvbVideo0001.mp4")
    test = read_lvb(ReaderContext(task="l", data_dir=lvb), split="test")
    assert len(test) == 3 and {x.target for x in test} == {""}


def test_subtitle_shapes_and_official_quirks(lvb: Path) -> None:
    c1 = load_cues(lvb / "subtitles" / "lvbVideo0001_en.json", F.LVB_OFFSET, 4.0)
    assert c1[0] == (0.0, 1.5, "hello there")
    times = [0.0, 1.0, 2.0, 3.5]
    assert select(c1, times) == F.LVB_SUBS["lvbVideo0001"]  # short cue widened, "unseen" dropped
    c2 = load_cues(lvb / "subtitles" / "lvbVideo0002_en.json", F.LVB_OFFSET, 4.0)
    assert c2[1] == (3.0, -6.0, "until the end")  # null end -> duration, then shifted (official order)
    assert select(c2, times) == F.LVB_SUBS["lvbVideo0002"]


def test_val_oracle_and_breakdowns(lvb: Path, tmp_path: Path) -> None:
    res = run_task(tmp_path, "longvideobench_val", {"longvideobench": lvb})
    assert metric(res, "accuracy") == 1.0 and metric(res, "parse_failure_rate") == 0.0
    assert metric(res, "accuracy", duration_group=60) == 1.0
    assert metric(res, "accuracy", question_category="TOS") == 1.0
    p = {r.sample_id: r.prompt for r in res.samples}["lvbVideo0002_0"]
    assert p.endswith("A. yes\nB. no\nAnswer with the option's letter from the given choices directly.\n")


def test_val_subtitles_prompt(lvb: Path, tmp_path: Path) -> None:
    res = run_task(tmp_path, "longvideobench_val_subtitles", {"longvideobench": lvb})
    p = {r.sample_id: r.prompt for r in res.samples}
    assert p["lvbVideo0001_0"].startswith("hello there\nshort cue\nReferring query 0")
    assert p["lvbVideo0002_0"].startswith("second video\nReferring query 0")


def test_parse_failure_counted_not_guessed(lvb: Path, tmp_path: Path) -> None:
    # "The answer is X." has no A-E: the original draws a random letter; we count a parse failure
    res = run_task(tmp_path, "longvideobench_val", {"longvideobench": lvb}, backend="test-blind",
                   backend_args={"letters": "XYZ"})  # fmt: skip
    assert all(r.extracted is None and r.score == 0.0 for r in res.samples)
    assert metric(res, "parse_failure_rate") == 1.0 and metric(res, "accuracy") == 0.0
    assert res.record.stats[0]["unparsed"] == 3


def test_test_split_writes_submission(lvb: Path, tmp_path: Path) -> None:
    res = run_task(tmp_path, "longvideobench_test", {"longvideobench": lvb}, backend="test-blind")
    sub = read_json(res.run_dir / "longvideobench_test_for_submission.json")
    assert set(sub) == {"lvbVideo0001_0", "lvbVideo0001_1", "lvbVideo0002_0"}
    assert all(v.startswith("The answer is") for v in sub.values())
    assert all(r.score is None for r in res.samples)


def test_val_oryx_tiny(lvb: Path, tmp_path: Path, shared_cache: Path) -> None:
    res = run_task(
        tmp_path,
        "longvideobench_val_subtitles",
        {"longvideobench": lvb},
        backend="oryx-tiny-random",
        cache_dir=shared_cache,
        limit=2,
    )
    assert res.record.status == "success" and all(r.error is None for r in res.samples)


def test_malformed_subtitles_fail_only_their_samples(lvb: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "lvb"
    shutil.copytree(lvb, root)
    (root / "subtitles" / "lvbVideo0002_en.json").write_text('[{"begin": 1}]')
    (root / "subtitles" / "lvbVideo0001_en.json").unlink()
    res = run_task(tmp_path, "longvideobench_val_subtitles", {"longvideobench": root})
    errs = {r.sample_id: r.error for r in res.samples}
    assert "either official shape" in errs["lvbVideo0002_0"]
    assert "lvbVideo0001_en.json not found" in errs["lvbVideo0001_0"]  # never an empty subtitle block
    plain = run_task(tmp_path / "plain", "longvideobench_val", {"longvideobench": root})
    assert all(r.error is None for r in plain.samples)  # the frames-only task does not need them
