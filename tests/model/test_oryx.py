"""Tests for model/oryx.py: decode loop vs transformers generate, prefix reuse, counts, timings, overflow."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch
from transformers import LlamaForCausalLM, Qwen2ForCausalLM
from transformers.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from model import (
    GenerationConfig,
    ImageMedia,
    OryxModel,
    PromptError,
    SequenceTooLongError,
    VideoMedia,
    count_visual_tokens,
    load_oryx,
    write_tiny_checkpoint,
)
from model.oryx import sample_next
from model.prompt import IMAGE_TOKEN_INDEX, build_prompt, tokenize_with_image
from model.sampling import sampling_probs
from model.tokens import count_vit_patches

QUESTIONS = ["What color is the ball?", "How many people appear in the first frame?", "Describe the scene."]


def _hf_copy(m: OryxModel) -> torch.nn.Module:
    cls = Qwen2ForCausalLM if m.config.llm_kind == "qwen2" else LlamaForCausalLM
    hf = cls(copy.deepcopy(m.llm.config))  # resize_token_embeddings below edits the config it was built with
    hf.load_state_dict(m.llm.state_dict())
    hf.resize_token_embeddings(len(m.tokenizer))  # as the reference's load_pretrained_model does
    return hf.eval()


def _hf_greedy(hf: torch.nn.Module, m: OryxModel, n: int, **inputs: torch.Tensor) -> list[int]:
    out = hf.generate(
        **inputs, max_new_tokens=n, do_sample=False, eos_token_id=sorted(m.stop_ids), pad_token_id=0
    )
    return out[0].tolist()


@pytest.mark.parametrize("llm_kind", ["qwen2", "llama"])
def test_text_only_equals_transformers_generate(tmp_path, llm_kind: str) -> None:  # noqa: ANN001
    m = load_oryx(write_tiny_checkpoint(tmp_path / llm_kind, seed=1, llm_kind=llm_kind))
    assert type(m.llm).__name__ == ("Qwen2ForCausalLM" if llm_kind == "qwen2" else "LlamaForCausalLM")
    gen = GenerationConfig(max_new_tokens=12)
    out = m.generate("Count the frames and explain.", None, gen=gen)
    ids = tokenize_with_image(build_prompt("Count the frames and explain.", False), m.tokenizer)
    with torch.inference_mode():
        ref = _hf_greedy(_hf_copy(m), m, 12, input_ids=torch.tensor([ids]))[len(ids) :]
    assert out.token_ids == ref and len(ref) >= 1
    assert out.text == m.tokenizer.decode(ref, skip_special_tokens=True)
    assert out.tokens.text == len(ids) and out.tokens.visual == 0 and out.tokens.visual_raw == 0


def test_video_generation_equals_transformers_generate_on_spliced_embeds(tiny_model, make_frames) -> None:  # noqa: ANN001
    m = tiny_model
    media = VideoMedia(make_frames(3, 240, 320))
    out = m.generate(QUESTIONS[0], media, compression=4, gen=GenerationConfig(max_new_tokens=10))
    ids = tokenize_with_image(build_prompt(QUESTIONS[0], True), m.tokenizer)
    with torch.inference_mode():
        seq = m.encode(media, 4)
        emb = m.llm.get_input_embeddings()
        a = ids.index(IMAGE_TOKEN_INDEX)
        embeds = torch.cat([emb(torch.tensor(ids[:a])), seq.embeds, emb(torch.tensor(ids[a + 1 :]))])[None]
        ref = _hf_greedy(_hf_copy(m), m, 10, inputs_embeds=embeds)
    assert out.token_ids == ref


def test_generate_shared_equals_independent_generate(tiny_model, make_frames) -> None:  # noqa: ANN001
    media = VideoMedia(make_frames(4, 240, 320, seed=7))
    gen = GenerationConfig(max_new_tokens=8)
    shared = tiny_model.generate_shared(media, QUESTIONS, compression=4, gen=gen)
    alone = [tiny_model.generate(q, media, compression=4, gen=gen) for q in QUESTIONS]
    assert [o.token_ids for o in shared] == [o.token_ids for o in alone]
    assert [o.tokens for o in shared] == [o.tokens for o in alone]
    assert len({tuple(o.token_ids) for o in alone}) > 1  # the answers depend on the question


def test_generate_shared_image_and_text_only(tiny_model, make_image) -> None:  # noqa: ANN001
    gen = GenerationConfig(max_new_tokens=6)
    media = ImageMedia(make_image(200, 150, seed=2))
    shared = tiny_model.generate_shared(media, QUESTIONS[:2], gen=gen)
    assert [o.token_ids for o in shared] == [
        tiny_model.generate(q, media, gen=gen).token_ids for q in QUESTIONS[:2]
    ]
    shared = tiny_model.generate_shared(None, QUESTIONS[1:], gen=gen)
    assert [o.token_ids for o in shared] == [
        tiny_model.generate(q, None, gen=gen).token_ids for q in QUESTIONS[1:]
    ]
    same = tiny_model.generate_shared(None, [QUESTIONS[0]] * 2, gen=gen)  # identical prompts: prefix capped
    assert (
        same[0].token_ids == same[1].token_ids == tiny_model.generate(QUESTIONS[0], None, gen=gen).token_ids
    )


def test_counts_and_timings_are_filled(tiny_model, make_frames) -> None:  # noqa: ANN001
    frames = make_frames(2, 240, 320)
    out = tiny_model.generate(
        QUESTIONS[1], VideoMedia(frames), compression=16, gen=GenerationConfig(max_new_tokens=5)
    )
    ids = tokenize_with_image(build_prompt(QUESTIONS[1], True), tiny_model.tokenizer)
    assert out.compression == 16
    assert out.tokens.visual == count_visual_tokens("video", (320, 240), frames=2, compression=16)
    assert out.tokens.visual_raw == count_vit_patches("video", (320, 240), frames=2, compression=16)
    assert out.tokens.text == len(ids) - 1
    assert out.tokens.output == len(out.token_ids) and 1 <= len(out.token_ids) <= 5
    t = out.timings
    assert min(t.preprocess, t.vision, t.compress, t.prefill, t.decode) > 0
    text = tiny_model.generate("Hi", None, gen=GenerationConfig(max_new_tokens=3))
    assert (text.timings.preprocess, text.timings.vision, text.timings.compress) == (0, 0, 0)
    assert text.timings.prefill > 0 and text.timings.decode > 0 and text.compression == 1


def test_stop_token_and_max_new_tokens(fresh_model) -> None:  # noqa: ANN001
    first = fresh_model.generate("Hi", None, gen=GenerationConfig(max_new_tokens=4)).token_ids
    assert len(first) == 4 or first[-1] in fresh_model.stop_ids
    fresh_model.stop_ids = frozenset({first[0]})
    assert fresh_model.generate("Hi", None, gen=GenerationConfig(max_new_tokens=4)).token_ids == [first[0]]


def test_sampling_is_seeded_and_top_p_tiny_is_greedy(tiny_model) -> None:  # noqa: ANN001
    greedy = tiny_model.generate("Tell a story.", None, gen=GenerationConfig(max_new_tokens=8)).token_ids
    hot = GenerationConfig(max_new_tokens=8, temperature=1.5, seed=3)
    a = tiny_model.generate("Tell a story.", None, gen=hot).token_ids
    assert a == tiny_model.generate("Tell a story.", None, gen=hot).token_ids
    seeds = [dataclasses.replace(hot, seed=s) for s in range(4, 8)]
    others = {tuple(tiny_model.generate("Tell a story.", None, gen=g).token_ids) for g in seeds}
    assert len(others | {tuple(a)}) > 1
    nucleus = dataclasses.replace(hot, top_p=1e-6)  # keeps only the top token
    assert tiny_model.generate("Tell a story.", None, gen=nucleus).token_ids == greedy


def test_sample_next_top_p_mass() -> None:
    logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    g = torch.Generator().manual_seed(0)
    picks = {sample_next(logits, GenerationConfig(temperature=1.0, top_p=0.7), g) for _ in range(200)}
    assert picks == {0, 1}  # 0.5 < 0.7, 0.5 + 0.3 >= 0.7: tokens 2 and 3 are cut


def test_overflow_error_and_truncate(fresh_model, make_frames) -> None:  # noqa: ANN001
    media = VideoMedia(make_frames(2, 240, 320))
    n_vis = count_visual_tokens("video", (320, 240), frames=2)
    ids = tokenize_with_image(build_prompt("Why?", True), fresh_model.tokenizer)
    n_text = len(ids) - 1
    limit = ids.index(IMAGE_TOKEN_INDEX) + n_vis + 2  # cuts into the text after the visual block
    fresh_model.config = dataclasses.replace(fresh_model.config, max_length=limit)
    with pytest.raises(ValueError, match=f"{n_vis + n_text} tokens .* max_length .* {limit}"):
        fresh_model.generate("Why?", media)
    out = fresh_model.generate("Why?", media, gen=GenerationConfig(max_new_tokens=3, on_overflow="truncate"))
    assert len(out.warnings) == 1 and "truncated to the first" in out.warnings[0]
    assert out.tokens.visual + out.tokens.text == limit and out.tokens.visual == n_vis
    limit = ids.index(IMAGE_TOKEN_INDEX) + 5  # cuts into the visual block
    fresh_model.config = dataclasses.replace(fresh_model.config, max_length=limit)
    out = fresh_model.generate("Why?", media, gen=GenerationConfig(max_new_tokens=2, on_overflow="truncate"))
    assert (out.tokens.visual, out.tokens.text) == (5, limit - 5)


def test_bad_arguments(tiny_model) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="no image or video"):
        tiny_model.generate("<image>\nWhat?", None)
    with pytest.raises(ValueError, match="compression"):
        tiny_model.generate("What?", None, compression=3)
    with pytest.raises(TypeError, match="ImageMedia or VideoMedia"):
        tiny_model.encode("not media")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="prompts is empty"):
        tiny_model.generate_shared(None, [])
    with pytest.raises(ValueError, match="max_new_tokens"):
        GenerationConfig(max_new_tokens=0)
    with pytest.raises(ValueError, match="top_p"):
        GenerationConfig(top_p=0.0)
    with pytest.raises(ValueError, match="top_k"):
        GenerationConfig(top_k=0)


def test_sampling_probs_equal_transformers_warpers() -> None:
    # the reference samples through transformers generate: temperature, top-k (default 50), top-p, softmax
    assert GenerationConfig().top_k == 50
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(300, generator=g) * 3
    for t, k, p in [(0.2, 50, None), (1.0, 50, 0.8), (0.7, None, 0.5), (1.3, 7, None), (0.5, 400, 0.9)]:
        warpers = [TemperatureLogitsWarper(t)]
        warpers += [TopKLogitsWarper(k)] if k is not None else []
        warpers += [TopPLogitsWarper(p)] if p is not None else []
        scores = logits[None].clone()
        for w in warpers:
            scores = w(torch.zeros(1, 1, dtype=torch.long), scores)
        ref = torch.softmax(scores, dim=-1)[0]
        torch.testing.assert_close(sampling_probs(logits, t, k, p), ref, rtol=1e-5, atol=1e-7)
    assert int((sampling_probs(logits, 0.2, 50, None) > 0).sum()) == 50


def test_padding_rows_of_the_lm_head_are_never_generated(fresh_model) -> None:  # noqa: ANN001
    # the reference shrinks the LM head to len(tokenizer); make the padding rows win if they were scored
    m = fresh_model
    n_tok = len(m.tokenizer)
    assert m.llm.get_output_embeddings().weight.shape[0] > n_tok  # the tiny vocab is padded, like Qwen2
    plain = m.generate("Tell a story.", None, gen=GenerationConfig(max_new_tokens=6)).token_ids

    def boost(_mod, _inp, out):  # noqa: ANN001, ANN202
        out[..., n_tok:] += 1e4
        return out

    handle = m.llm.get_output_embeddings().register_forward_hook(boost)
    try:
        greedy = m.generate("Tell a story.", None, gen=GenerationConfig(max_new_tokens=6)).token_ids
        hot = m.generate("Tell a story.", None, gen=GenerationConfig(max_new_tokens=6, temperature=2.0))
    finally:
        handle.remove()
    assert greedy == plain and max(hot.token_ids) < n_tok


def test_splice_ranges_equal_slices_of_the_full_sequence(tiny_model, make_frames) -> None:  # noqa: ANN001
    with torch.inference_mode():
        vis = tiny_model.encode(VideoMedia(make_frames(1, 240, 320)), 4)
        ids = tokenize_with_image(build_prompt("Why?", True), tiny_model.tokenizer)
        full = tiny_model._splice(ids, vis)
        a = ids.index(IMAGE_TOKEN_INDEX)
        assert full.shape[0] == len(ids) - 1 + vis.visual
        torch.testing.assert_close(full[a : a + vis.visual], vis.embeds, rtol=0, atol=0)
        for lo, hi in [(0, 3), (a - 1, a + 2), (a + 3, a + vis.visual + 4), (a + vis.visual, full.shape[0])]:
            torch.testing.assert_close(tiny_model._splice(ids, vis, lo, hi), full[lo:hi], rtol=0, atol=0)


def test_generate_shared_fails_only_the_overflowing_prompt(fresh_model, make_frames) -> None:  # noqa: ANN001
    m = fresh_model
    media = VideoMedia(make_frames(1, 240, 320, seed=3))
    qs = [QUESTIONS[0], QUESTIONS[1] + " Explain every detail of the scene." * 6, QUESTIONS[2]]
    n_vis = count_visual_tokens("video", (320, 240), frames=1)
    lens = [len(tokenize_with_image(build_prompt(q, True), m.tokenizer)) - 1 for q in qs]
    limit = n_vis + max(lens[0], lens[2]) + 2  # the middle prompt does not fit, the others do
    assert n_vis + lens[1] > limit
    m.config = dataclasses.replace(m.config, max_length=limit)
    gen = GenerationConfig(max_new_tokens=5)
    calls: list[tuple[int, int]] = []
    forward = m._forward

    def spy(embeds, start, cache):  # noqa: ANN001, ANN202
        calls.append((start, int(embeds.shape[0])))
        return forward(embeds, start, cache)

    m._forward = spy
    shared = m.generate_shared(media, qs, compression=4, gen=gen)
    m._forward = forward
    # the two fitting prompts shared one prefix prefill (system + visual tokens), then one prefill each
    assert calls[0][0] == 0 and calls[0][1] > n_vis and [c[0] for c in calls[1:]] == [calls[0][1]] * 2
    for i in (0, 2):
        alone = m.generate(qs[i], media, compression=4, gen=gen)
        assert (
            shared[i].error is None and shared[i].token_ids == alone.token_ids and len(alone.token_ids) >= 1
        )
        assert shared[i].tokens == alone.tokens
    bad = shared[1]
    assert isinstance(bad.error, SequenceTooLongError) and isinstance(bad.error, ValueError)
    assert (bad.error.total, bad.error.visual, bad.error.text, bad.error.limit) == (
        n_vis + lens[1],
        n_vis,
        lens[1],
        limit,
    )
    assert bad.text == "" and bad.token_ids == [] and (bad.tokens.visual, bad.tokens.text) == (n_vis, lens[1])
    with pytest.raises(SequenceTooLongError, match=f"{n_vis + lens[1]} tokens"):
        m.generate(qs[1], media, compression=4, gen=gen)  # a single prompt still raises
    every = m.generate_shared(media, [qs[1], qs[1]], compression=4, gen=gen)
    assert all(isinstance(o.error, SequenceTooLongError) for o in every)
    placeholder = m.generate_shared(
        None, ["<image>\nWhat?", QUESTIONS[0]], gen=gen
    )  # a bad question fails alone
    assert isinstance(placeholder[0].error, PromptError) and placeholder[1].error is None
    assert placeholder[1].token_ids == m.generate(QUESTIONS[0], None, gen=gen).token_ids
