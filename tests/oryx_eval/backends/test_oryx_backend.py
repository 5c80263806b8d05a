"""The Oryx backend on tiny checkpoints: per-sample vs systemic failures, decoding values resolved as task
YAML / CLI > the checkpoint's generation_config.json > default."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import torch
import yaml

from model import GenerationConfig, count_visual_tokens, write_tiny_checkpoint
from model.prompt import build_prompt, tokenize_with_image
from oryx_eval.backends.oryx import OryxBackend
from oryx_eval.backends.oryx_generation import resolve_generation
from oryx_eval.errors import BackendError
from oryx_eval.records import GenerationSettings, LoadedMedia, Request

ENDOFTEXT, IM_END = 480, 482  # ids of the tiny tokenizer's <|endoftext|> and <|im_end|>
ORYX15 = {"repetition_penalty": 1.05, "do_sample": True, "temperature": 0.7, "top_k": 20, "top_p": 0.8}
ORYX15 |= {"eos_token_id": [IM_END, ENDOFTEXT]}  # THUdyh/Oryx-1.5-7B's generation_config.json keys


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> OryxBackend:
    return OryxBackend(str(write_tiny_checkpoint(tmp_path_factory.mktemp("b") / "plain")), device="cpu")


@pytest.fixture(scope="module")
def oryx15(tmp_path_factory: pytest.TempPathFactory) -> OryxBackend:
    d = write_tiny_checkpoint(tmp_path_factory.mktemp("b") / "o15", generation_config=ORYX15)
    return OryxBackend(str(d), device="cpu")


def _video(t: int = 2, seed: int = 3) -> LoadedMedia:
    frames = np.random.default_rng(seed).integers(0, 256, (t, 240, 320, 3), dtype=np.uint8)  # (T, H, W, 3)
    return LoadedMedia(kind="video", frames=frames, indices=list(range(t)), size_wh=(320, 240), key="v")


def _req(sid: str, prompt: str, media: list[LoadedMedia], gen: GenerationSettings | None = None) -> Request:
    return Request(
        sample_id=sid, prompt=prompt, media=media, generation=gen or GenerationSettings(max_new_tokens=6),
        compression="4", media_key=media[0].key if media else None,
    )  # fmt: skip


def _settings(text: str) -> GenerationSettings:
    """Settings as a task YAML's `generation:` block gives them (explicit fields = the keys written)."""
    return GenerationSettings.model_validate(yaml.safe_load(text))


def test_overflow_fails_only_its_sample(plain: OryxBackend) -> None:
    m, video = plain.model, _video()
    qs = ["What color is the ball?", "Describe it. " + "Explain every detail of the scene. " * 12, "Why?"]
    n_vis = count_visual_tokens("video", (320, 240), frames=2, compression=4, video_spec=plain.video_spec)
    n_text = [len(tokenize_with_image(build_prompt(q, True), m.tokenizer)) - 1 for q in qs]
    limit = n_vis + max(n_text[0], n_text[2]) + 1
    old, m.config = m.config, dataclasses.replace(m.config, max_length=limit)
    try:
        gens = plain.generate([_req(f"s{i}", q, [video]) for i, q in enumerate(qs)])
        kw = {"compression": 4, "gen": GenerationConfig(max_new_tokens=6), "video_spec": plain.video_spec}
        alone = [m.generate(qs[i], plain._media(video), **kw) for i in (0, 2)]
    finally:
        m.config = old
    bad = gens[1]
    assert bad.error_kind == "overflow" and bad.text == ""
    total = n_vis + n_text[1]
    assert (
        bad.error
        == f"prompt longer than max_length {limit}: {total} tokens ({n_vis} visual + {n_text[1]} text)"
    )
    assert (bad.tokens.visual, bad.tokens.text, bad.tokens.output) == (n_vis, n_text[1], 0)
    assert [gens[0].error, gens[2].error] == [None, None]
    assert [gens[0].text, gens[2].text] == [a.text for a in alone]


def test_more_than_one_media_item_is_a_sample_error(plain: OryxBackend) -> None:
    video = _video()
    gens = plain.generate([_req("two", "Compare.", [video, video]), _req("one", "Why?", [video])])
    assert gens[0].error_kind == "sample" and re.search(r"sample two: .*one image or video", gens[0].error)
    assert gens[1].error is None and gens[1].tokens.output >= 1


@pytest.mark.parametrize(
    "exc",
    [RuntimeError("CUDA error: device-side assert triggered"), torch.OutOfMemoryError("CUDA out of memory")],
)
def test_systemic_errors_propagate(
    plain: OryxBackend, monkeypatch: pytest.MonkeyPatch, exc: Exception
) -> None:
    def boom(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise exc

    monkeypatch.setattr(plain.model, "encode", boom)
    with pytest.raises(type(exc), match=str(exc)):
        plain.generate([_req("a", "Why?", [_video()]), _req("b", "How?", [_video()])])
    monkeypatch.setattr(plain.model, "generate_shared", boom)
    with pytest.raises(type(exc)):
        plain.generate([_req("c", "Why?", [])])


def test_resolution_rule() -> None:
    ckpt = {"temperature": 0.7, "top_k": 20, "top_p": 0.8, "repetition_penalty": 1.05}
    values, sources = resolve_generation(GenerationSettings(), ckpt)
    assert values == {"max_new_tokens": 16, "seed": 0, **ckpt}
    assert sources == {"max_new_tokens": "default", "seed": "default"} | dict.fromkeys(ckpt, "checkpoint")
    s = _settings("{temperature: 0.0, top_p: null, repetition_penalty: 1.0, seed: 4}")
    values, sources = resolve_generation(s, ckpt)
    assert values == {"max_new_tokens": 16, "temperature": 0.0, "top_k": 20, "top_p": None,
                      "repetition_penalty": 1.0, "seed": 4}  # fmt: skip
    assert [sources[k] for k in ("temperature", "top_k", "top_p", "repetition_penalty")] == [
        "explicit", "checkpoint", "explicit", "explicit"
    ]  # fmt: skip
    values, sources = resolve_generation(_settings("{repetition_penalty: null}"), None)  # null = not set
    assert (values["repetition_penalty"], sources["repetition_penalty"]) == (1.0, "default")
    assert (values["top_k"], sources["top_k"]) == (50, "default")


def test_checkpoint_penalty_applies_to_greedy_and_yaml_overrides_it(
    oryx15: OryxBackend, plain: OryxBackend
) -> None:
    # "Hi" is a prompt whose greedy answer the 1.05 penalty changes on these tiny weights
    greedy = _settings("{max_new_tokens: 24, temperature: 0.0}")
    g = oryx15.generate([_req("a", "Hi", [], greedy)])[0]
    assert g.extra["generation"] == {"max_new_tokens": 24, "temperature": 0.0, "top_k": 20, "top_p": 0.8,
                                     "repetition_penalty": 1.05, "seed": 0}  # fmt: skip
    assert g.extra["generation_source"]["repetition_penalty"] == "checkpoint"
    want = oryx15.model.generate("Hi", None, gen=GenerationConfig(max_new_tokens=24, repetition_penalty=1.05))
    assert g.text == want.text
    off = oryx15.generate(
        [_req("b", "Hi", [], _settings("{max_new_tokens: 24, temperature: 0.0, repetition_penalty: 1.0}"))]
    )[0]
    assert off.extra["generation_source"]["repetition_penalty"] == "explicit"
    assert off.text != g.text
    assert off.text == plain.generate([_req("c", "Hi", [], greedy)])[0].text  # same weights, no file penalty
    assert plain.generate([_req("c", "Hi", [], greedy)])[0].extra["generation"]["repetition_penalty"] == 1.0


def test_describe_records_the_checkpoint_config(oryx15: OryxBackend, plain: OryxBackend) -> None:
    d = oryx15.describe()["generation_config"]
    assert d["file"].endswith("generation_config.json") and d["file_values"]["top_k"] == 20
    assert d["checkpoint_defaults"] == {
        "temperature": 0.7,
        "top_k": 20,
        "top_p": 0.8,
        "repetition_penalty": 1.05,
    }
    assert d["when_unset"]["temperature"] == {"value": 0.7, "source": "checkpoint"}  # do_sample true
    assert d["when_unset"]["max_new_tokens"] == {"value": 16, "source": "default"}
    assert {IM_END, ENDOFTEXT} <= set(d["stop_ids"])
    p = plain.describe()["generation_config"]
    assert p["when_unset"]["temperature"] == {"value": 0.0, "source": "checkpoint"}  # do_sample false
    assert p["when_unset"]["repetition_penalty"] == {"value": 1.0, "source": "default"}
    assert ENDOFTEXT not in p["stop_ids"]


def test_unset_fields_sample_with_the_checkpoint_values(oryx15: OryxBackend) -> None:
    g = oryx15.generate([_req("a", "Tell a story.", [], _settings("{max_new_tokens: 8, seed: 3}"))])[0]
    assert (
        g.extra["generation"]["temperature"] == 0.7
        and g.extra["generation_source"]["temperature"] == "checkpoint"
    )
    gen = GenerationConfig(
        max_new_tokens=8, temperature=0.7, top_k=20, top_p=0.8, repetition_penalty=1.05, seed=3
    )
    assert g.text == oryx15.model.generate("Tell a story.", None, gen=gen).text


def test_bad_generation_value_is_one_line(plain: OryxBackend) -> None:
    with pytest.raises(BackendError, match=r"top_p must be in \(0, 1\]") as e:
        plain.generate([_req("a", "Why?", [], _settings("{top_p: 0.0}"))])
    assert "\n" not in str(e.value)
