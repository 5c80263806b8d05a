"""Tests for model/prompt.py: the exact ChatML rendering and the -200 splice ids."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from model.prompt import DEFAULT_SYSTEM, IMAGE_TOKEN_INDEX, build_prompt, tokenize_with_image


def test_rendering_with_media_is_pinned() -> None:
    assert DEFAULT_SYSTEM == "You are a helpful assistant."
    assert build_prompt("What is shown?", has_media=True) == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\n<image>\nWhat is shown?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_rendering_text_only_and_custom_system() -> None:
    assert build_prompt("Hi", has_media=False, system="Be brief.") == (
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_empty_system_omits_the_system_turn() -> None:
    # the reference's CHATML rule: `"" if system == "" else system + sep + "\n"`
    assert build_prompt("Hi", has_media=True, system="") == (
        "<|im_start|>user\n<image>\nHi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_existing_placeholder_stays_in_place() -> None:
    p = build_prompt("Look: <image>\nnow answer.", has_media=True)
    assert "<|im_start|>user\nLook: <image>\nnow answer.<|im_end|>" in p
    assert p.count("<image>") == 1


def test_placeholder_errors() -> None:
    with pytest.raises(ValueError, match="no image or video"):
        build_prompt("<image>\nWhat?", has_media=False)
    with pytest.raises(ValueError, match="2 '<image>' placeholders"):
        build_prompt("<image> and <image>", has_media=True)


def test_tokenize_with_image_real_tokenizer(tiny_model) -> None:  # noqa: ANN001
    tok = tiny_model.tokenizer
    prompt = build_prompt("What color is the ball?", has_media=True)
    ids = tokenize_with_image(prompt, tok)
    assert ids.count(IMAGE_TOKEN_INDEX) == 1
    before, after = prompt.split("<image>")
    a = ids.index(IMAGE_TOKEN_INDEX)
    assert ids[:a] == tok(before).input_ids and ids[a + 1 :] == tok(after).input_ids
    assert ids[0] == tok.convert_tokens_to_ids("<|im_start|>")
    assert tok.decode(ids[:a]) + "<image>" + tok.decode(ids[a + 1 :]) == prompt
    text_only = build_prompt("Hello", has_media=False)
    assert tokenize_with_image(text_only, tok) == tok(text_only).input_ids


class _CharTok:
    """Character tokenizer that prepends BOS = 1 (like Llama/Yi), to check the LLaVA BOS rule."""

    bos_token_id = 1

    def __call__(self, text: str) -> SimpleNamespace:
        return SimpleNamespace(input_ids=[1] + [ord(c) for c in text])


def test_bos_kept_once() -> None:
    ids = tokenize_with_image("ab<image>c", _CharTok())
    assert ids == [1, ord("a"), ord("b"), IMAGE_TOKEN_INDEX, ord("c")]
    assert tokenize_with_image("<image>x", _CharTok()) == [1, IMAGE_TOKEN_INDEX, ord("x")]
