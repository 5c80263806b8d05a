"""Tests for model/generation.py + the repetition penalty of model/sampling.py: the checkpoint's
generation_config.json applied as the reference's transformers `generate` applies it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import transformers
from transformers.generation.logits_process import RepetitionPenaltyLogitsProcessor

from model import (
    CheckpointError,
    CheckpointGenerationConfig,
    GenerationConfig,
    OryxModel,
    VideoMedia,
    load_oryx,
    write_tiny_checkpoint,
)
from model.generation import sample_next
from model.prompt import IMAGE_TOKEN_INDEX, build_prompt, tokenize_with_image
from model.sampling import apply_repetition_penalty
from tests.model.test_oryx import _hf_copy

ENDOFTEXT, IM_END = 480, 482  # ids of the tiny tokenizer's <|endoftext|> and <|im_end|>


def oryx15_like(**over: object) -> dict:
    """generation_config.json keys of THUdyh/Oryx-1.5-7B, with the tiny tokenizer's eos ids."""
    cfg = {"repetition_penalty": 1.05, "do_sample": True, "temperature": 0.7, "top_k": 20, "top_p": 0.8}
    return cfg | {"eos_token_id": [IM_END, ENDOFTEXT]} | over


@pytest.fixture(scope="module")
def oryx15_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_checkpoint(tmp_path_factory.mktemp("g") / "t", seed=0, generation_config=oryx15_like())


@pytest.fixture(scope="module")
def oryx15(oryx15_dir: Path) -> OryxModel:
    return load_oryx(oryx15_dir)


def test_repetition_penalty_equals_transformers_processor() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(300, generator=g) * 4  # both signs
    seen = [5, 17, 5, 299, 0, 17, 123]  # repeats are penalised once, as transformers' gather/scatter
    for penalty in (1.05, 1.3, 0.8):
        ref = RepetitionPenaltyLogitsProcessor(penalty)(torch.tensor([seen]), logits[None].clone())[0]
        out = apply_repetition_penalty(logits, seen, penalty)
        torch.testing.assert_close(out, ref, rtol=0, atol=0)
        assert not torch.equal(out, logits)
    assert apply_repetition_penalty(logits, [], 1.3) is logits
    with pytest.raises(ValueError, match="penalty"):
        apply_repetition_penalty(logits, seen, 0.0)


def test_penalty_comes_before_top_k() -> None:
    # transformers appends RepetitionPenaltyLogitsProcessor before TopKLogitsWarper: with top_k=1 the token
    # kept is the best one *after* the penalty (token 1 here), never the penalised former best (token 0)
    logits = torch.tensor([2.0, 1.9, -1.0, -3.0])
    gen = GenerationConfig(temperature=1.0, top_k=1, repetition_penalty=1.2)
    g = torch.Generator().manual_seed(0)
    assert {sample_next(logits, gen, g, [0]) for _ in range(20)} == {1}
    assert sample_next(logits, GenerationConfig(repetition_penalty=1.2), None, [0]) == 1  # greedy too
    assert sample_next(logits, GenerationConfig(), None, [0]) == 0


def test_checkpoint_generation_config_is_read(oryx15: OryxModel, tiny_model: OryxModel, tmp_path) -> None:  # noqa: ANN001
    gd = oryx15.generation_defaults
    assert gd is not None and gd.eos_token_ids == (IM_END, ENDOFTEXT)
    assert gd.defaults() == {"temperature": 0.7, "top_k": 20, "top_p": 0.8, "repetition_penalty": 1.05}
    assert {IM_END, ENDOFTEXT} <= oryx15.stop_ids and ENDOFTEXT not in tiny_model.stop_ids
    # the plain tiny file says do_sample false: greedy is the checkpoint's choice, nothing else is set
    assert tiny_model.generation_defaults.defaults() == {"temperature": 0.0}
    f = tmp_path / "generation_config.json"
    f.write_text(json.dumps({"do_sample": True, "top_k": 0, "max_new_tokens": 64}))
    assert CheckpointGenerationConfig.read(f).defaults() == {
        "temperature": 1.0,
        "top_k": None,
        "max_new_tokens": 64,
    }
    d = write_tiny_checkpoint(tmp_path / "bad", generation_config={"repetition_penalty": -1.0})
    with pytest.raises(CheckpointError, match="generation_config.json.*repetition_penalty"):
        load_oryx(d)
    (d / "generation_config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="generation_config.json"):
        load_oryx(d)


def _hf_generate(m: OryxModel, ckpt: Path, embeds: torch.Tensor, n: int) -> list[int]:
    """transformers `generate` as the reference calls it: only `inputs_embeds`, the checkpoint's
    generation_config merged with the call's `do_sample=False` (greedy)."""
    cfg = transformers.GenerationConfig.from_pretrained(str(ckpt))
    with torch.inference_mode():
        out = _hf_copy(m).generate(
            inputs_embeds=embeds, generation_config=cfg, do_sample=False, max_new_tokens=n, pad_token_id=0
        )
    return out[0].tolist()


def _embeds(m: OryxModel, q: str, media: VideoMedia | None) -> torch.Tensor:
    ids = tokenize_with_image(build_prompt(q, media is not None), m.tokenizer)
    with torch.inference_mode():
        emb = m.llm.get_input_embeddings()
        if media is None:
            return emb(torch.tensor([ids]))
        a = ids.index(IMAGE_TOKEN_INDEX)
        seq = m.encode(media, 4).embeds
        return torch.cat([emb(torch.tensor(ids[:a])), seq, emb(torch.tensor(ids[a + 1 :]))])[None]


@pytest.mark.parametrize("case", ["text", "video"])
def test_greedy_with_checkpoint_penalty_equals_transformers_generate(
    oryx15: OryxModel,
    oryx15_dir: Path,
    make_frames,
    case: str,  # noqa: ANN001
) -> None:
    # prompts where the file's 1.05 penalty changes the tiny model's greedy answer, so a port that ignored
    # the file (or penalised the prompt too, or applied the penalty elsewhere) would differ from transformers
    q, media = (
        ("Hi", None) if case == "text" else ("What color is the ball?", VideoMedia(make_frames(3, 240, 320)))
    )
    pen = GenerationConfig(
        max_new_tokens=24, repetition_penalty=oryx15.generation_defaults.defaults()["repetition_penalty"]
    )
    ours = oryx15.generate(q, media, compression=4, gen=pen).token_ids
    plain = oryx15.generate(q, media, compression=4, gen=GenerationConfig(max_new_tokens=24)).token_ids
    assert ours != plain
    assert ours == _hf_generate(oryx15, oryx15_dir, _embeds(oryx15, q, media), 24)


def test_checkpoint_eos_ids_stop_generation(tiny_model: OryxModel, make_frames, tmp_path) -> None:  # noqa: ANN001
    # an ordinary token listed only in generation_config's eos ids stops the answer, here and in transformers
    first = tiny_model.generate("Hi", None, gen=GenerationConfig(max_new_tokens=8)).token_ids
    assert len(first) > 1 and first[0] not in tiny_model.stop_ids
    d = write_tiny_checkpoint(tmp_path / "eos", generation_config={"eos_token_id": [IM_END, first[0]]})
    m = load_oryx(d)
    out = m.generate("Hi", None, gen=GenerationConfig(max_new_tokens=8)).token_ids
    assert out == [first[0]] == _hf_generate(m, d, _embeds(m, "Hi", None), 8)
    # extra per-call stop ids work the same way
    extra = GenerationConfig(max_new_tokens=8, stop_ids=(first[1],))
    assert tiny_model.generate("Hi", None, gen=extra).token_ids == first[:2]
