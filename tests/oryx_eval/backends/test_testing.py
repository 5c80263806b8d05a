"""Deterministic test backends: protocol, recorded args, answers, token counts, latency, failures."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from oryx_eval.backends.base import Backend
from oryx_eval.backends.testing import BlindBackend, FailBackend, FixedCostBackend, OracleBackend
from oryx_eval.benchmarks.niah.needles import draw_marker
from oryx_eval.records import GenerationSettings, LoadedMedia, Request
from oryx_eval.registry import BACKENDS


def _video(marker_at: dict[int, str], t: int = 6) -> LoadedMedia:
    frames = np.full((t, 48, 64, 3), 120, np.uint8)  # (T, H, W, 3)
    for i, letter in marker_at.items():
        draw_marker(frames[i], letter)
    return LoadedMedia(kind="video", frames=frames, indices=list(range(t)), size_wh=(64, 48))


def _req(sample_id: str, media: list[LoadedMedia], prompt: str = "Which option is right?") -> Request:
    return Request(
        sample_id=sample_id, prompt=prompt, media=media, generation=GenerationSettings(), compression="16"
    )


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("test-oracle", {}),
        ("test-blind", {"seed": 3}),
        ("test-fixed-cost", {"cost_s": 0.0, "letter": "C"}),
        ("test-fail", {"pattern": "bad"}),
    ],
)
def test_registered_protocol_and_describe(name: str, args: dict) -> None:
    backend = BACKENDS.get(name)(**args)
    assert isinstance(backend, Backend) and backend.name == name
    desc = backend.describe()
    assert desc["name"] == name
    assert all(desc["args"][k] == v for k, v in args.items())


def test_oracle_reads_marker_tokens_and_latency() -> None:
    reqs = [
        _req("s0", [_video({3: "C"})]),
        _req("s1", [_video({})]),
        _req("s2", [_video({}), _video({0: "B", 5: "B"}, t=7)]),
    ]
    gens = OracleBackend().generate(reqs)
    assert [g.text for g in gens] == ["The answer is C.", "no marker", "The answer is B."]
    assert gens[0].extra["marker_frames"] == [[0, 3, "C"]]
    assert gens[2].extra["marker_frames"] == [[1, 0, "B"], [1, 5, "B"]]
    assert [g.tokens.visual for g in gens] == [6, 6, 13]
    assert gens[0].tokens.text == 4 and gens[0].tokens.output == 4
    assert all(g.compression == "16" and g.error is None and g.latency_s.total > 0 for g in gens)


def test_oracle_on_image() -> None:
    arr = np.full((48, 64, 3), 200, np.uint8)
    draw_marker(arr, "D")
    img = LoadedMedia(kind="image", image=Image.fromarray(arr), size_wh=(64, 48))
    gen = OracleBackend().generate([_req("img", [img])])[0]
    assert gen.text == "The answer is D." and gen.tokens.visual == 1


def test_blind_deterministic_and_seeded() -> None:
    reqs = [_req(f"q{i}", []) for i in range(200)]
    a = [g.text for g in BlindBackend(seed=0).generate(reqs)]
    assert a == [g.text for g in BlindBackend(seed=0).generate(reqs)]
    b = [g.text for g in BlindBackend(seed=1).generate(reqs)]
    assert a != b
    letters = [t.removeprefix("The answer is ").rstrip(".") for t in a]
    assert set(letters) == set("ABCD")
    assert all(20 < letters.count(x) < 80 for x in "ABCD")
    with pytest.raises(ValueError, match="letters"):
        BlindBackend(letters="")


def test_fixed_cost_sleeps_per_request() -> None:
    backend = FixedCostBackend(cost_s=0.02, letter="B")
    t0 = time.perf_counter()
    gens = backend.generate([_req(f"q{i}", []) for i in range(3)])
    assert time.perf_counter() - t0 >= 0.06
    assert all(g.text == "The answer is B." and g.latency_s.total >= 0.02 for g in gens)
    with pytest.raises(ValueError, match="cost_s"):
        FixedCostBackend(cost_s=-1)


def test_fail_per_sample() -> None:
    gens = FailBackend(pattern=r"/d50/").generate(
        [_req("niah/n8/d50/shape/0", [_video({1: "A"})]), _req("niah/n8/d0/shape/0", [_video({1: "A"})])]
    )
    assert gens[0].error is not None
    assert "RuntimeError" in gens[0].error and "niah/n8/d50/shape/0" in gens[0].error
    assert gens[0].text == "" and gens[0].latency_s.total >= 0
    assert gens[1].error is None and gens[1].text == "The answer is A."
    with pytest.raises(ValueError, match="invalid pattern"):
        FailBackend(pattern="(")
