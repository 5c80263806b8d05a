"""NIAH grid: bookkeeping, argument validation, oracle = 100 % and blind ~ 25 % in frames mode."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

from oryx_eval.backends.testing import BlindBackend, OracleBackend
from oryx_eval.benchmarks.niah.needles import NEEDLE_KINDS, read_marker
from oryx_eval.benchmarks.niah.task import needle_positions, needle_seen, niah_haystack, read_niah
from oryx_eval.records import GenerationSettings, MediaRef, ReaderContext, Request, Sample
from oryx_eval.registry import DATASETS, GENERATORS

CTX = ReaderContext(task="niah_test")
GRID = {
    "seed": 3,
    "frame_counts": [4, 9],
    "depths": [0.0, 0.3, 0.5, 1.0],
    "needles": list(NEEDLE_KINDS),
    "mode": "frames",
    "frame_size": [64, 48],
    "per_cell": 2,
    "marker": True,  # the oracle backend reads it
}


def _request(sample: Sample) -> Request:
    ref = sample.media[0]
    media = GENERATORS.get(ref.generator)(**ref.params)
    return Request(
        sample_id=sample.id, prompt=sample.question, media=[media], generation=GenerationSettings()
    )


def _letter(text: str) -> str | None:
    m = re.fullmatch(r"The answer is ([A-D])\.", text)
    return m.group(1) if m else None


def test_registered() -> None:
    assert DATASETS.get("niah") is read_niah
    assert GENERATORS.get("niah_haystack") is niah_haystack


def test_grid_bookkeeping() -> None:
    samples = read_niah(CTX, **GRID)
    assert len(samples) == 2 * 4 * 4 * 2
    assert len({s.id for s in samples}) == len(samples)
    assert "niah/n9/d30/code_word/1" in {s.id for s in samples}
    for s in samples:
        md = s.metadata
        n, kind = md["num_frames"], md["needle"]
        depth = md["depth"] / 100
        assert s.task == "niah_test" and s.target in "ABCD" and len(s.choices) == 4
        assert set(md) >= {"num_frames", "depth", "needle", "needle_indices", "mode"}
        assert md["mode"] == "frames"
        ref = s.media[0]
        assert ref.kind == "synthetic" and ref.generator == "niah_haystack"
        media = niah_haystack(**ref.params)
        idx = md["needle_indices"]
        assert media.frames.shape == (n + len(idx), 48, 64, 3) and media.indices == list(range(n + len(idx)))
        # One needle frame follows exactly int(d * N) haystack frames (LongVA's insertion index); the
        # others of count/order needles are spread around it.
        assert int(depth * n) in [p - k for k, p in enumerate(idx)]
        if kind in ("code_word", "shape"):
            assert idx == [int(depth * n)] and media.frames.shape[0] == n + 1
        # Needle frames are exactly where the metadata says, and nowhere else.
        found = [i for i, f in enumerate(media.frames) if read_marker(f) is not None]
        assert found == idx, s.id


def test_positions_spread_and_distinct() -> None:
    assert needle_positions(10, 0.5, 1) == [5]
    assert needle_positions(10, 1.0, 1) == [10]
    pos = needle_positions(100, 0.2, 4)  # slots 20, 45, 70, 95 -> shifted by earlier insertions
    assert pos == [20, 46, 72, 98]
    pos = needle_positions(3, 0.9, 4)  # more copies than haystack frames: still distinct and in range
    assert len(set(pos)) == 4 and max(pos) <= 3 + 3


def test_haystack_shared_and_needle_frames_deterministic() -> None:
    a = read_niah(CTX, **GRID)
    b = read_niah(CTX, **GRID)
    assert a == b
    s = next(x for x in a if x.id == "niah/n9/d50/code_word/0")
    f1 = niah_haystack(**s.media[0].params).frames
    f2 = niah_haystack(**s.media[0].params).frames
    np.testing.assert_array_equal(f1, f2)
    # Haystack frames before the needle are the first frames of the shared haystack video.
    other = next(x for x in a if x.id == "niah/n9/d100/shape/0")
    np.testing.assert_array_equal(f1[:4], niah_haystack(**other.media[0].params).frames[:4])


def test_oracle_scores_100_percent() -> None:
    samples = read_niah(CTX, **GRID)
    gens = OracleBackend().generate([_request(s) for s in samples])
    for s, g in zip(samples, gens, strict=True):
        assert g.error is None and _letter(g.text) == s.target, (s.id, g.text)
        assert [fi for _, fi, _ in g.extra["marker_frames"]] == s.metadata["needle_indices"]
        assert g.tokens.visual == s.metadata["num_frames"] + len(s.metadata["needle_indices"])


def test_oracle_without_marker_cannot_answer() -> None:
    s = read_niah(
        CTX,
        **{
            **GRID,
            "frame_counts": [4],
            "depths": [0.5],
            "needles": ["shape"],
            "per_cell": 1,
            "marker": False,
        },
    )[0]
    assert OracleBackend().generate([_request(s)])[0].text == "no marker"


def test_blind_near_chance() -> None:
    grid = {
        **GRID,
        "frame_counts": [8, 16, 32, 64, 128],
        "depths": [i / 10 for i in range(11)],
        "per_cell": 1,
    }
    samples = read_niah(CTX, **grid)
    assert len(samples) >= 200
    reqs = [
        Request(sample_id=s.id, prompt=s.question, media=[], generation=GenerationSettings()) for s in samples
    ]
    gens = BlindBackend(seed=0).generate(reqs)
    n = len(samples)
    acc = sum(_letter(g.text) == s.target for s, g in zip(samples, gens, strict=True)) / n
    sd = (0.25 * 0.75 / n) ** 0.5
    assert abs(acc - 0.25) < 3.5 * sd, acc
    # Targets themselves are spread over the letters.
    counts = Counter(s.target for s in samples)
    assert all(abs(counts[k] - n / 4) < 4 * (n * 0.1875) ** 0.5 for k in "ABCD"), counts


def test_needle_seen() -> None:
    s = next(x for x in read_niah(CTX, **GRID) if x.id == "niah/n9/d30/count/0")
    idx = s.metadata["needle_indices"]
    total = s.metadata["num_frames"] + len(idx)
    assert needle_seen(s, list(range(total)))
    uniform = np.linspace(0, total - 1, 4).astype(int).tolist()
    assert needle_seen(s, uniform) == (set(idx) <= set(uniform))
    skip_one = [i for i in range(total) if i != idx[-1]]
    assert not needle_seen(s, skip_one)


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"frame_counts": []}, "frame_counts is empty"),
        ({"frame_counts": [8, 8]}, "duplicates"),
        ({"frame_counts": [0]}, "frame_counts"),
        ({"depths": []}, "depths is empty"),
        ({"depths": [1.5]}, r"in \[0, 1\]"),
        ({"depths": [-0.1]}, r"in \[0, 1\]"),
        ({"depths": [0.5, 0.501]}, "whole percents"),
        ({"needles": ["emoji"]}, "valid: code_word, shape, count, order"),
        ({"needles": []}, "needles is empty"),
        ({"mode": "stream"}, "mode"),
        ({"frame_size": [63, 64]}, "even"),
        ({"frame_size": [64]}, "frame_size"),
        ({"fps": 0}, "fps"),
        ({"per_cell": 0}, "per_cell"),
        ({"seed": -1}, "seed"),
    ],
)
def test_validate_args(override: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        read_niah(CTX, **{**GRID, **override})


def test_video_mode_needs_cache_dir() -> None:
    from oryx_eval.errors import DatasetError

    with pytest.raises(DatasetError, match="cache_dir"):
        read_niah(CTX, **{**GRID, "mode": "video"})


def test_media_ref_key_distinguishes_cells() -> None:
    refs: list[MediaRef] = [s.media[0] for s in read_niah(CTX, **GRID)]
    assert len({r.key for r in refs}) == len(refs)
