"""NIAH video mode: MP4s under the cache dir, decoded by the real loader; the oracle still sees every
needle through H.264, and ``needle_seen`` flags a sampler that skips one."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from oryx_eval.backends.testing import OracleBackend
from oryx_eval.benchmarks.niah.task import needle_seen, niah_haystack, read_niah
from oryx_eval.media.loader import load_media
from oryx_eval.records import FrameSampling, GenerationSettings, ReaderContext, Request

GRID = {
    "seed": 11,
    "frame_counts": [6, 16],
    "depths": [0.0, 0.5, 1.0],
    "needles": ["code_word", "count", "order"],
    "frame_size": [64, 64],
    "fps": 1.0,
    "marker": True,  # the oracle backend reads it
}


@pytest.fixture(scope="module")
def video_samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[list, Path]:
    cache = tmp_path_factory.mktemp("niah_cache")
    return read_niah(ReaderContext(task="niah_v", cache_dir=cache), mode="video", **GRID), cache


def test_video_refs(video_samples: tuple[list, Path]) -> None:
    samples, cache = video_samples
    for s in samples:
        ref = s.media[0]
        assert ref.kind == "video" and Path(ref.path).is_file() and Path(ref.path).parent == cache / "niah"
        assert ref.num_frames == s.metadata["num_frames"] + len(s.metadata["needle_indices"])
    assert len({s.media[0].path for s in samples}) == len(samples)


def test_oracle_100_percent_through_h264(video_samples: tuple[list, Path]) -> None:
    samples, _ = video_samples
    reqs, loaded = [], []
    for s in samples:
        media = load_media(s.media[0], FrameSampling(num_frames=4))  # ref.num_frames overrides: all frames
        assert media.indices == list(range(s.media[0].num_frames))
        assert needle_seen(s, media.indices)
        loaded.append(media)
        reqs.append(
            Request(sample_id=s.id, prompt=s.question, media=[media], generation=GenerationSettings())
        )
    gens = OracleBackend().generate(reqs)
    for s, g in zip(samples, gens, strict=True):
        assert g.text == f"The answer is {s.target}.", (s.id, g.text)
        assert [fi for _, fi, _ in g.extra["marker_frames"]] == s.metadata["needle_indices"]
    # Decoded pixels stay close to the frames mode draws (same content, lossy codec).
    frames_mode = read_niah(ReaderContext(task="niah_v"), mode="frames", **GRID)
    ref_frames = niah_haystack(**frames_mode[4].media[0].params).frames
    assert np.abs(loaded[4].frames.astype(int) - ref_frames).mean() < 6.0


def test_sampler_skipping_needle_is_flagged(video_samples: tuple[list, Path]) -> None:
    samples, _ = video_samples
    s = next(x for x in samples if x.id == "niah/n16/d50/code_word/0")
    assert s.metadata["needle_indices"] == [8]
    short = s.media[0].model_copy(update={"num_frames": 4})  # linspace(0, 16, 4) -> 0, 5, 10, 16
    media = load_media(short, FrameSampling())
    assert media.indices == [0, 5, 10, 16]
    assert not needle_seen(s, media.indices)
    gen = OracleBackend().generate(
        [Request(sample_id=s.id, prompt=s.question, media=[media], generation=GenerationSettings())]
    )[0]
    assert gen.text == "no marker"


def test_reuses_complete_file_and_replaces_broken_one(video_samples: tuple[list, Path]) -> None:
    samples, cache = video_samples
    path = Path(samples[0].media[0].path)
    before = path.stat().st_mtime_ns
    again = read_niah(ReaderContext(task="niah_v", cache_dir=cache), mode="video", **GRID)
    assert again == samples and path.stat().st_mtime_ns == before  # not re-encoded
    path.write_bytes(b"not a video")
    os.utime(path, ns=(before, before))
    read_niah(ReaderContext(task="niah_v", cache_dir=cache), mode="video", **{**GRID, "frame_counts": [6]})
    media = load_media(samples[0].media[0], FrameSampling())
    assert media.frames.shape[0] == samples[0].media[0].num_frames
