"""VideoMME reader, subtitles of the sampled frames and the tasks end to end on a generated fixture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oryx_eval.benchmarks.videomme.reader import read_videomme
from oryx_eval.benchmarks.videomme.subtitles import NO_SUBTITLES, parse_srt, select_cues, videomme_subtitles
from oryx_eval.records import LoadedMedia, ReaderContext
from tests.oryx_eval.benchmarks import video_fixtures as F
from tests.oryx_eval.benchmarks.runs import metric, read_json, run_task


@pytest.fixture(scope="module")
def vmme(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return F.videomme(tmp_path_factory.mktemp("videomme"))


def test_reader_layout_and_fallbacks(vmme: Path) -> None:
    samples = read_videomme(ReaderContext(task="videomme", data_dir=vmme))
    assert len(samples) == 12
    by_id = {s.id: s for s in samples}
    assert by_id["002-1"].media[0].path.endswith("vidBBBBBBB2.MP4")
    assert by_id["003-1"].media[0].path.endswith("vidCCCCCCC3.mkv")
    assert by_id["001-1"].choices == ["apple 0.", "banana 0.", "cherry 0.", "date 0."]  # "A. " stripped
    assert by_id["002-1"].metadata["subtitle_path"] is None  # a video without SRT
    assert by_id["001-1"].metadata["subtitle_path"].endswith("subtitle/vidAAAAAAA1.srt")
    assert read_videomme(ReaderContext(task="v", data_dir=vmme), durations=["long"])[0].id == "003-1"


def test_srt_overlap_and_font_tags(tmp_path: Path) -> None:
    p = tmp_path / "x.srt"
    p.write_text(F.SRT)
    cues = parse_srt(p)
    assert [c.text for c in cues] == [
        "first cue",
        "overlapping cue",
        "between frames",
        "plain cue without font",
    ]
    assert cues[1].start < cues[0].end  # overlapping cue times
    assert [c.text for c in select_cues(cues, [0.0, 1.0, 2.0, 3.5])] == F.SUBS_AT_4_FRAMES
    assert [c.text for c in select_cues(cues, [2.7])] == ["between frames"]
    assert select_cues(cues, [1.5]) == [cues[1]]  # end is exclusive: first cue ends at 1.5


def test_context_uses_frame_timestamps(vmme: Path) -> None:
    s = {x.id: x for x in read_videomme(ReaderContext(task="v", data_dir=vmme))}
    media = [LoadedMedia(kind="video", frames=np.zeros((2, 4, 4, 3), np.uint8), timestamps_s=[0.2, 3.6])]
    assert videomme_subtitles(s["001-1"], media) == {"subtitles": "first cue\nplain cue without font"}
    assert videomme_subtitles(s["002-1"], media) == {"subtitles": NO_SUBTITLES}
    assert videomme_subtitles(s["001-1"], []) == {"subtitles": ""}  # media failed: empty field


def test_videomme_oracle_end_to_end(vmme: Path, tmp_path: Path) -> None:
    res = run_task(tmp_path, "videomme", {"videomme": vmme})
    assert metric(res, "answered_accuracy") == 1.0  # official denominator: the 3 failed samples leave it
    assert metric(res, "accuracy") == 0.75  # all questions: the truncated video's 3 count wrong
    assert metric(res, "failure_rate") == 0.25
    assert metric(res, "accuracy", duration="medium") == 1.0
    assert metric(res, "answered_accuracy", task_type="OCR Problems") == 1.0
    assert metric(res, "extraction_disagreement") == 0.0
    failed = [r for r in res.samples if r.error]
    assert {r.sample_id for r in failed} == {"004-1", "004-2", "004-3"}
    assert "vidDDDDDDD4.mp4" in failed[0].error
    ex = read_json(res.run_dir / "extraction.json")["by_compression"]["4"]
    assert ex["official"]["correct"] == ex["robust"]["correct"] == 9 and ex["failed"] == 3
    assert len((res.run_dir / "verdicts.jsonl").read_text().splitlines()) == 12


def test_videomme_subtitles_prompt(vmme: Path, tmp_path: Path) -> None:
    res = run_task(tmp_path, "videomme_subtitles", {"videomme": vmme})
    by_id = {r.sample_id: r for r in res.samples}
    assert "first cue\noverlapping cue\nplain cue without font\nSelect" in by_id["001-1"].prompt
    assert "between frames" not in by_id["001-1"].prompt  # its cue covers no sampled frame
    assert f"below:\n{NO_SUBTITLES}\n" in by_id["002-2"].prompt
    assert by_id["001-1"].frames.indices == [0, 2, 4, 7]
    assert metric(res, "answered_accuracy") == 1.0


def test_videomme_oryx_prompt_is_python_list(vmme: Path, tmp_path: Path) -> None:
    res = run_task(tmp_path, "videomme_oryx", {"videomme": vmme}, backend="test-blind", limit=3)
    p = res.samples[0].prompt
    assert "\n['A. apple 0.', 'B. banana 0.', 'C. cherry 0.', 'D. date 0.']\nThe best answer is:" in p
    assert all(r.extracted in "ABCD" for r in res.samples)  # "The answer is X." parses officially


def test_videomme_oryx_tiny(vmme: Path, tmp_path: Path, shared_cache: Path) -> None:
    res = run_task(
        tmp_path, "videomme", {"videomme": vmme}, backend="oryx-tiny-random", cache_dir=shared_cache, limit=3
    )
    assert len(res.samples) == 3 and all(r.error is None for r in res.samples)
    assert res.record.status == "success"  # a random-weight model: pipeline check only, never accuracy


def test_hf_snapshot_layout(tmp_path: Path) -> None:
    snap = tmp_path / "videomme" / "datasets--lmms-lab--Video-MME" / "snapshots" / "0123abc"
    F.videomme(snap)
    samples = read_videomme(ReaderContext(task="v", data_dir=tmp_path / "videomme"))
    assert len(samples) == 12 and samples[0].media[0].path.startswith(str(snap))


def test_no_data_folder_is_one_clear_error(tmp_path: Path) -> None:
    from oryx_eval.errors import DatasetError

    with pytest.raises(DatasetError, match="does not exist"):
        read_videomme(ReaderContext(task="v", data_dir=tmp_path / "absent"))
