"""The comparison backends on tiny random-weight checkpoints: predictor == real sequence, determinism,
budget choice, stage times, checkpoint identity and one-line errors for a wrong checkpoint dir."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from oryx_eval.backends import internvl, llava_onevision, qwen2_vl
from oryx_eval.errors import BackendError
from oryx_eval.records import GenerationSettings, LoadedMedia, Request
from oryx_eval.runner import build_backend
from tests.oryx_eval.backends.conftest import BACKEND, small_args

FAMILIES = list(BACKEND)


def _backend(dirs: dict, family: str, **kw):
    args = {"model_path": str(dirs[family]), **small_args(family), **kw}
    return build_backend(BACKEND[family], args, Path("/nonexistent-cache"))


def _video(n: int, h: int = 64, w: int = 96, seed: int = 0) -> LoadedMedia:
    fr = np.random.default_rng(seed).integers(0, 255, (n, h, w, 3), dtype=np.uint8)
    return LoadedMedia(kind="video", frames=fr, size_wh=(w, h), indices=list(range(n)))


def _image(w: int, h: int, seed: int = 0) -> LoadedMedia:
    arr = np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)
    return LoadedMedia(kind="image", image=Image.fromarray(arr), size_wh=(w, h))


def _req(media: LoadedMedia | None, sid: str = "s", prompt: str = "What is shown?\nA. a\nB. b") -> Request:
    return Request(
        sample_id=sid,
        prompt=prompt,
        media=[media] if media else [],
        generation=GenerationSettings(max_new_tokens=3),
        media_key="k",
    )


def _predict(b, family: str, m: LoadedMedia) -> int:
    """The family's pure predictor called with explicit knob values (independent of the backend's choice)."""
    frames = 1 if m.kind == "image" else len(m.frames)
    a = small_args(family)
    if family.startswith("qwen"):
        lo, hi = (
            (a["min_pixels"], a["max_pixels"])
            if m.kind == "image"
            else (a["video_min_pixels"], a["video_max_pixels"])
        )
        return qwen2_vl.visual_tokens(m.kind, m.size_wh, frames, lo, hi)
    if family == "llava-onevision":
        side = 4  # tiny: 56 px tiles of 14 px patches
        if m.kind == "video":
            return llava_onevision.video_tokens(frames, side, 2)
        return llava_onevision.image_tokens(m.size_wh, b.pins, 56, side, 9)
    return internvl.visual_tokens(
        m.kind, m.size_wh, frames, 56, 4, a["max_tiles"] if m.kind == "image" else 1
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_visual_tokens_in_the_sequence_equal_the_predictor(tiny_dirs, family: str) -> None:
    b = _backend(tiny_dirs, family)
    medias = [_video(3), _video(4, 50, 120), _image(96, 64), _image(40, 150, seed=1), _image(230, 100)]
    gens = b.generate([_req(m, f"s{i}") for i, m in enumerate(medias)])
    for m, g in zip(medias, gens, strict=True):
        assert g.error is None, g.error
        assert g.tokens.visual == _predict(b, family, m) > 0
        assert g.tokens.visual_raw >= g.tokens.visual or family == "llava-onevision"
        assert g.tokens.text > 0 and 1 <= g.tokens.output <= 3


@pytest.mark.parametrize("family", FAMILIES)
def test_outputs_are_deterministic_and_stages_are_timed(tiny_dirs, family: str) -> None:
    b = _backend(tiny_dirs, family)
    m = _video(4)
    first = b.generate([_req(m, "a"), _req(m, "b", "Which one?")])
    again = _backend(tiny_dirs, family).generate([_req(m, "a"), _req(m, "b", "Which one?")])
    assert [g.text for g in first] == [g.text for g in again]
    assert [g.tokens for g in first] == [g.tokens for g in again]
    for g in first:
        lat = g.latency_s
        assert lat.vision > 0 and lat.prefill > 0 and lat.preprocess > 0 and lat.compress == 0
        assert lat.total == pytest.approx(lat.preprocess + lat.vision + lat.prefill + lat.generate)
    text_only = b.generate([_req(None)])[0]
    assert text_only.error is None and text_only.tokens.visual == 0 and text_only.latency_s.vision == 0


@pytest.mark.parametrize("family", FAMILIES)
def test_describe_records_args_identity_and_stages(tiny_dirs, family: str) -> None:
    b = _backend(tiny_dirs, family)
    d = b.describe()
    json.dumps(d)
    assert d["name"] == BACKEND[family] and d["args"]["token_budget"] is None
    for k, v in small_args(family).items():
        assert d["args"][k] == v
    ck = d["checkpoint"]
    assert len(ck["digest"]) == 32 and ck["model_type"] and "preprocessor_config.json" in ck["files"]
    assert d["chat_template_file"] == "chat_template.jinja" and "vision" in d["stages"]


def test_weight_hash_changes_with_the_weights(tiny_dirs, tmp_path: Path) -> None:
    from oryx_eval.backends.hf_common import hf_identity

    src = tiny_dirs["internvl"]
    dst = shutil.copytree(src, tmp_path / "copy")
    assert hf_identity(dst)["digest"] == hf_identity(src)["digest"]
    f = dst / "model.safetensors"
    data = bytearray(f.read_bytes())
    data[-1] ^= 1  # same size, different content: only the content hash sees it
    f.write_bytes(bytes(data))
    assert hf_identity(dst)["digest"] != hf_identity(src)["digest"]
    sizes = lambda d: {k: v["size"] for k, v in hf_identity(d)["files"].items()}  # noqa: E731
    assert sizes(dst) == sizes(src)


def _next_step(family: str, kind: str, m: LoadedMedia, b, knob_value: int) -> int:
    """Predicted tokens one ladder step above the chosen setting."""
    frames = 1 if kind == "image" else len(m.frames)
    if family.startswith("qwen"):
        return b.predict(kind, m.size_wh, frames, knob_value + 28 * 28)
    if family == "llava-onevision":
        if kind == "video":
            return llava_onevision.video_tokens(frames, 4, knob_value - 1) if knob_value > 1 else 10**9
        return llava_onevision.image_tokens(m.size_wh, b.pins, 56, 4, knob_value + 1)
    return internvl.visual_tokens(kind, m.size_wh, frames, 56, 4, knob_value + 1)


@pytest.mark.parametrize("family", FAMILIES)
def test_token_budget_picks_the_largest_setting_under_the_budget(tiny_dirs, family: str) -> None:
    for budget in (10, 40, 200):
        b = _backend(tiny_dirs, family, token_budget=budget)
        assert b.describe()["args"]["token_budget"] == budget
        for m in (_video(4), _image(230, 100)):
            mi = b.prepare_media(m)
            _, _, n_vis = b.build_inputs(mi, "Q?")  # raises unless the sequence holds the predicted count
            ((knob, value),) = mi.setting.items()
            step = _next_step(family, m.kind, m, b, value)
            if n_vis <= budget:  # the next step up exceeds the budget or adds nothing
                assert step > budget or step == n_vis, (knob, value, n_vis, step)
            else:  # nothing fits: the cheapest setting of the ladder
                cheapest = {"llava-onevision": 8 if m.kind == "video" else 1, "internvl": 1}.get(
                    family, 28 * 28
                )
                assert value == cheapest, (knob, value, n_vis)
    g = b.generate([_req(_video(4))])[0]
    assert (
        g.error is None
        and g.extra["token_budget"] == 200
        and g.compression == "{}={}".format(*next(iter(g.extra["setting"].items())))
    )


@pytest.mark.parametrize("family", FAMILIES)
def test_wrong_checkpoint_dir_fails_with_one_line(tiny_dirs, family: str, tmp_path: Path) -> None:
    with pytest.raises(BackendError) as e:
        _backend({family: tmp_path}, family)
    assert "\n" not in str(e.value) and "no config.json" in str(e.value)
    other = tiny_dirs["internvl" if family != "internvl" else "llava-onevision"]
    with pytest.raises(BackendError) as e:
        _backend({family: other}, family)
    assert "\n" not in str(e.value) and "model_type" in str(e.value) and "expected one of" in str(e.value)
    broken = shutil.copytree(tiny_dirs[family], tmp_path / "broken")
    (broken / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(BackendError) as e:
        _backend({family: broken}, family)
    assert "\n" not in str(e.value) and "cannot load" in str(e.value)


def test_unknown_backend_argument_is_one_line(tiny_dirs) -> None:
    with pytest.raises(BackendError) as e:
        build_backend("qwen2-vl", {"model_path": str(tiny_dirs["qwen2-vl"]), "max_pixel": 5}, Path("/x"))
    assert "\n" not in str(e.value) and "max_pixel" in str(e.value)


@pytest.mark.parametrize(
    ("family", "kw", "media"),
    [
        ("llava-onevision", {"anyres_max_grid": 1}, "image"),
        ("llava-onevision", {"anyres_max_grid": 2, "anyres_max_patches": 1}, "image"),
        ("internvl", {"video_max_tiles": 4}, "video"),
        ("qwen2-vl", {"video_max_pixels": 112 * 112}, "video"),
    ],
)
def test_resolution_knobs_reach_the_model(tiny_dirs, family: str, kw: dict, media: str) -> None:
    """Each knob changes the predicted count, and the model accepts the sequence (it checks features
    against placeholder tokens in its forward)."""
    m = _image(230, 100) if media == "image" else _video(3)
    base = _backend(tiny_dirs, family).prepare_media(m)
    b = _backend(tiny_dirs, family, **kw)
    mi = b.prepare_media(m)
    assert mi.predicted_visual != base.predicted_visual
    g = b.generate([_req(m)])[0]
    assert g.error is None and g.tokens.visual == mi.predicted_visual
    for k, v in kw.items():
        assert b.describe()["args"][k] == v
    if family == "llava-onevision":
        tiles = {max(p) // 56 for p in b.pins}
        assert max(tiles) <= kw["anyres_max_grid"] and b.model.config.image_grid_pinpoints == b.pins
    if family == "internvl":
        assert mi.tensors["pixel_values"].shape[0] == 3 * internvl.tiles((96, 64), 56, 4) > 3
