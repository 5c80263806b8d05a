"""Training examples: the same frames as the NIAH generator, held-out seeds, answer tokens."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from oryx_eval.benchmarks.niah.needles import NEEDLE_KINDS, make_needle
from oryx_eval.benchmarks.niah.task import iter_frames, needle_positions
from oryx_eval.errors import OryxEvalError
from oryx_eval.schema import TASKS_DIR, load_task
from oryx_eval.training.data import NiahSource, check_disjoint, rotated, task_seeds
from oryx_eval.training.model_setup import video_spec
from oryx_eval.training.train import TrainConfig


@pytest.fixture(scope="module")
def source(tiny_tokenizer) -> NiahSource:
    task = load_task(TASKS_DIR / "niah.yaml")
    return NiahSource(tiny_tokenizer, task.prompt, (96, 96), video_spec())


@pytest.mark.parametrize("kind", NEEDLE_KINDS)
def test_cell_frames_equal_the_generator_without_marker(source: NiahSource, kind: str) -> None:
    spec = make_needle(kind, 1003, 77)
    got = source.cell_frames(1003, 6, 0.5, spec, (64, 64))
    want = [
        np.asarray(Image.fromarray(f).resize((64, 64), Image.BICUBIC))
        for f in iter_frames(
            seed=1003, num_frames=6, depth=0.5, needle=kind, needle_id=77, size_wh=(96, 96), marker=False
        )
    ]
    assert got.shape == (6 + len(spec.items), 64, 64, 3)
    assert np.array_equal(got, np.stack(want))


def test_example_prompt_and_answer_tokens(source: NiahSource, tiny_tokenizer) -> None:
    ex = source.example(1001, 4, 0.25, "shape", 5, compression=16)
    spec = make_needle("shape", 1001, 5)
    assert ex.target == spec.answer and ex.frames.shape[0] == 5
    assert tiny_tokenizer.decode(ex.answer_ids, skip_special_tokens=True) == spec.answer
    assert ex.answer_ids[-1] == tiny_tokenizer.convert_tokens_to_ids("<|im_end|>")
    text = tiny_tokenizer.decode([i for i in ex.prompt_ids if i >= 0])
    assert spec.question in text and f"D. {spec.options[3]}" in text


def test_training_seeds_are_disjoint_from_every_task_seed() -> None:
    cfg = TrainConfig()
    assert not set(cfg.haystack_seeds) & task_seeds() and cfg.val_seed not in task_seeds()
    with pytest.raises(OryxEvalError, match=r"seeds \[0\]"):
        check_disjoint([0, 1000], "train-tiny")


@pytest.mark.parametrize("kind", NEEDLE_KINDS)
def test_rotations_keep_the_answer_and_the_aux_target_is_its_content(
    source: NiahSource, tiny_tokenizer, kind: str
) -> None:
    spec = make_needle(kind, 1002, 9)
    true = spec.options["ABCD".index(spec.answer)]
    letters = set()
    for r in range(4):
        ex = source.example(1002, 2, 0.0, kind, 9, compression=4, rotate=r)
        rot = rotated(spec, r)
        assert rot.options["ABCD".index(rot.answer)] == true and ex.target == rot.answer
        letters.add(ex.target)
        assert tiny_tokenizer.decode([ex.prompt_ids[ex.aux_index]]) == "\n"
        assert tiny_tokenizer.decode([ex.prompt_ids[ex.aux_index + 1]]) == "A"
        first = tiny_tokenizer.decode([ex.aux_target]).strip()
        assert first and true.replace(" ", "").startswith(first), (true, first)
    assert letters == set("ABCD")  # four rotations: every letter once


@pytest.mark.parametrize("kind", NEEDLE_KINDS)
def test_option_match_targets_sit_on_each_options_last_token(
    source: NiahSource, tiny_tokenizer, kind: str
) -> None:
    ex = source.example(1002, 2, 0.0, kind, 4, compression=1, rotate=1)
    newline = tiny_tokenizer("\n").input_ids[0]
    spec = rotated(make_needle(kind, 1002, 4), 1)
    rows = zip("ABCD", spec.options, ex.match_positions, ex.match_targets, strict=True)
    for letter, option, end, target in rows:
        assert ex.prompt_ids[end + 1] == newline  # the last token of the option's line
        line = tiny_tokenizer.decode(ex.prompt_ids[end - 12 : end + 1]).split("\n")[-1]
        assert line == f"{letter}. {option}", line
        assert target == (tiny_tokenizer(letter).input_ids[0] if letter == ex.target else newline)
    assert sum(t != newline for t in ex.match_targets) == 1


@pytest.mark.parametrize("kind", NEEDLE_KINDS)
def test_option_match_on_all_tokens_covers_each_options_text(
    source: NiahSource, tiny_tokenizer, kind: str
) -> None:
    dense = NiahSource(source.tokenizer, source.prompt, source.frame_size, source.video_spec, "all")
    ex = dense.example(1002, 2, 0.0, kind, 4, compression=1, rotate=1)
    last = source.example(1002, 2, 0.0, kind, 4, compression=1, rotate=1)
    assert ex.prompt_ids == last.prompt_ids
    spec = rotated(make_needle(kind, 1002, 4), 1)
    newline = tiny_tokenizer("\n").input_ids[0]
    want_pos, want_tgt = [], []
    for letter, option, end in zip("ABCD", spec.options, last.match_positions, strict=True):
        first = end  # the option's text: every token after "X." up to `end`
        while tiny_tokenizer.decode(ex.prompt_ids[first - 2 : first]) != f"{letter}.":
            first -= 1
        assert tiny_tokenizer.decode(ex.prompt_ids[first : end + 1]).strip() == option
        want_pos += range(first, end + 1)
        target = tiny_tokenizer(letter).input_ids[0] if letter == ex.target else newline
        want_tgt += [target] * (end + 1 - first)
    assert ex.match_positions == want_pos
    assert ex.match_targets == want_tgt


def test_char_membership_marks_each_code_word_option_character(source: NiahSource, tiny_tokenizer) -> None:
    dense = NiahSource(source.tokenizer, source.prompt, source.frame_size, source.video_spec, "all")
    for nid in range(6):
        ex = source.example(1003, 2, 0.5, "code_word", nid, compression=1, rotate=nid)
        spec = rotated(make_needle("code_word", 1003, nid), nid)
        word = str(spec.items[0].word)
        # the positions are the option text tokens (the dense match positions) that show a character
        text = dense.example(1003, 2, 0.5, "code_word", nid, 1, rotate=nid).match_positions
        shown = [p for p in text if tiny_tokenizer.decode([ex.prompt_ids[p]]).strip()]
        assert ex.char_positions == shown
        chars = [tiny_tokenizer.decode([ex.prompt_ids[p]]).strip() for p in ex.char_positions]
        assert "".join(chars) == "".join(spec.options)  # every character of the options, in order
        assert ex.char_targets == [int(set(c) <= set(word)) for c in chars]
        # the true word's 4 are present; some decoy character is not
        assert sum(ex.char_targets) >= 4 and 0 in ex.char_targets


@pytest.mark.parametrize("kind", ["shape", "count", "order"])
def test_char_membership_is_for_code_words_only(source: NiahSource, kind: str) -> None:
    ex = source.example(1003, 2, 0.5, kind, 1, compression=4)
    assert ex.char_positions == [] and ex.char_targets == []


def test_a_code_word_shown_as_text_is_its_tokens_in_place_of_the_frames(
    source: NiahSource, tiny_tokenizer
) -> None:
    video = source.example(1002, 3, 0.5, "code_word", 4, compression=4, rotate=1)
    text = source.example(1002, 3, 0.5, "code_word", 4, compression=4, rotate=1, as_text=True)
    word = str(make_needle("code_word", 1002, 4).items[0].word)
    # the same frames; the word's tokens are to replace the needle frame (at its position in the haystack)
    assert torch.equal(text.frames, video.frames) and text.as_text and not video.as_text
    assert text.word_ids == video.word_ids and tiny_tokenizer.decode(text.word_ids) == " " + word
    assert text.word_frame == video.word_frame == needle_positions(3, 0.5, 1)[0]
    assert source.example(1002, 3, 0.5, "shape", 4, compression=4).word_ids is None
    # the prompt, the answer and every loss target are those of the video example
    assert text.prompt_ids == video.prompt_ids and text.answer_ids == video.answer_ids
    assert text.match_targets == video.match_targets and text.char_targets == video.char_targets
    with pytest.raises(ValueError, match="only code words"):
        source.example(1002, 3, 0.5, "shape", 4, compression=4, as_text=True)


def test_text_words_draws_code_words_as_text_at_its_rate_and_leaves_other_runs_alone(
    source: NiahSource,
) -> None:
    from oryx_eval.training.data import DrawSpec, draw_batch

    def batches(text_words: float, kinds: tuple[str, ...]) -> list[list]:
        rng = np.random.default_rng(0)
        draw = DrawSpec((1000, 1001), (1,), kinds, (16,), 1, text_words)
        return [draw_batch(source, draw, rng, 4)[0] for _ in range(6)]

    shown = [ex.as_text for b in batches(0.5, ("code_word",)) for ex in b]
    assert 0 < sum(shown) < len(shown)  # about half the code words, drawn per needle
    assert all(ex.as_text for b in batches(1.0, ("code_word",)) for ex in b)
    # other kinds never; and with the curriculum on, non-code-word draws keep the random stream
    plain, on = batches(0.0, ("shape", "count")), batches(1.0, ("shape", "count"))
    assert [[(e.kind, e.prompt_ids, e.depth) for e in b] for b in plain] == [
        [(e.kind, e.prompt_ids, e.depth) for e in b] for b in on
    ]
    assert all(not e.as_text for b in on for e in b)
    with pytest.raises(OryxEvalError, match="--text-words"):
        DrawSpec((1000,), (1,), text_words=1.5)
