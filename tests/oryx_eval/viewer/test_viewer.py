"""Run viewer: thumbnails of the frames seen (synthetic redrawn, video files decoded), page in Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from oryx_eval.benchmarks.niah.task import niah_haystack
from oryx_eval.errors import OryxEvalError
from oryx_eval.rebuild import rebuild_samples
from oryx_eval.results import read_samples
from oryx_eval.viewer import status_of, write_view
from oryx_eval.viewer.thumbs import pick
from tests.oryx_eval.browser import Elements, dump_dom, needs_chromium
from tests.oryx_eval.fixtures import make_task
from tests.oryx_eval.runs import make_run, niah_task


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("view")
    return {
        "niah": make_run(tmp, [niah_task(tmp)], "test-blind", "blind", compressions=["4", "16"]),
        "mc": make_run(tmp, [make_task(tmp / "mc")], "test-blind", "mc"),
    }


def _data(page: Path) -> dict:
    m = re.search(r'<script type="application/json" id="data">(.*?)</script>', page.read_text(), re.S)
    return json.loads(m.group(1).replace("<\\/", "</"))


def test_pick() -> None:
    assert pick([0, 1, 2], 8) == [0, 1, 2] and pick(list(range(10)), 0) == list(range(10))
    assert pick(list(range(10)), 4) == [0, 3, 6, 9]


def test_synthetic_thumbnails_are_the_frames_seen(runs: dict[str, Path]) -> None:
    page = write_view(runs["niah"], max_thumbs=3, thumb_px=32)
    data = _data(page)
    recs = read_samples(runs["niah"] / "samples.jsonl")
    assert len(data["samples"]) == len(recs) == 48
    assert [s["status"] for s in data["samples"]] == [status_of(r) for r in recs]
    assert {"wrong", "correct"} <= {s["status"] for s in data["samples"]}
    samples, errors = rebuild_samples(json.loads((runs["niah"] / "run.json").read_text()))
    assert not errors
    s0, r0 = data["samples"][0], recs[0]
    assert [t["index"] for t in s0["thumbs"]] == pick(r0.frames.indices, 3)
    ref = samples[(r0.task, r0.sample_id)].media[0]
    frames = niah_haystack(**ref.params).frames
    for t in s0["thumbs"]:
        with Image.open(page.parent / t["src"]) as im:
            assert im.format == "JPEG" and max(im.size) <= 32
            want = Image.fromarray(frames[t["index"]])
            want.thumbnail((32, 32))
            diff = np.abs(np.asarray(im.convert("RGB"), float) - np.asarray(want, float)).mean()
            assert diff < 12, diff  # the same frame, up to JPEG loss
    # both compression settings of a sample share the thumbnail files
    same = [s for s in data["samples"] if s["sample_id"] == r0.sample_id]
    assert len(same) == 2 and same[0]["thumbs"] == same[1]["thumbs"]
    assert set(data["meta"]) >= {"num_frames", "depth", "needle"} and data["compressions"] == ["4", "16"]


def test_video_thumbnails_and_failures(runs: dict[str, Path]) -> None:
    page = write_view(runs["mc"], max_thumbs=2)
    data = _data(page)
    ok = [s for s in data["samples"] if s["status"] != "failed"]
    failed = [s for s in data["samples"] if s["status"] == "failed"]
    assert len(failed) == 4 and all(s["error"] for s in failed)  # clip 1 corrupt, clip 2 missing (2 q each)
    assert all(len(s["thumbs"]) == 2 and s["thumb_error"] is None for s in ok)
    assert all(s["thumbs"] == [] and s["thumb_error"] for s in failed)
    for t in ok[0]["thumbs"]:
        assert (page.parent / t["src"]).stat().st_size > 200 and t["t"] is not None  # timestamp from the fps
    assert ok[0]["thumbs"][1]["t"] == pytest.approx(ok[0]["thumbs"][1]["index"] / 4)  # fixture clips: 4 fps


def test_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(OryxEvalError, match="no run.json"):
        write_view(tmp_path)


@needs_chromium
def test_page_in_chromium(runs: dict[str, Path]) -> None:
    page = write_view(runs["niah"], max_thumbs=2)
    data = _data(page)
    assert "http://" not in page.read_text() and "https://" not in page.read_text()
    dom = Elements(dump_dom(page))
    cards = dom.find("div", class_="sample")
    assert len(cards) == 48
    imgs = dom.find("img")
    assert len(imgs) == 48 * 2 and all(a.get("data-ok") == "1" for a, _ in imgs)  # every thumbnail loaded
    assert "48 of 48 samples" in dom.find("span", id="count")[0][1]

    wrong = Elements(dump_dom(page, "status=wrong"))
    cards = wrong.find("div", class_="sample")
    n_wrong = sum(s["status"] == "wrong" for s in data["samples"])
    assert 0 < len(cards) == n_wrong < 48 and {a["data-status"] for a, _ in cards} == {"wrong"}

    sub = Elements(dump_dom(page, "status=correct&compression=16&meta.depth=50"))
    want = [
        s["sample_id"] for s in data["samples"]
        if s["status"] == "correct" and s["compression"] == "16" and s["metadata"]["depth"] == 50
    ]  # fmt: skip
    assert [a["data-id"] for a, _ in sub.find("div", class_="sample")] == want


@needs_chromium
def test_large_run_renders_one_page(runs: dict[str, Path], tmp_path: Path) -> None:
    """2,700 samples: the page embeds them all but renders one page of 50 rows."""
    import shutil

    big = tmp_path / "big"
    shutil.copytree(runs["niah"], big, ignore=shutil.ignore_patterns("view"))
    recs = read_samples(big / "samples.jsonl")
    lines = [
        recs[i % len(recs)].model_copy(update={"sample_id": f"{recs[i % len(recs)].sample_id}/copy{i}"})
        .model_dump_json() for i in range(2700)
    ]  # fmt: skip
    (big / "samples.jsonl").write_text("\n".join(lines) + "\n")
    page = write_view(big)
    dom = Elements(dump_dom(page, "page=3"))
    assert len(dom.find("div", class_="sample")) == 50
    assert "2700 of 2700 samples · page 3/54" in dom.find("span", id="count")[0][1]
