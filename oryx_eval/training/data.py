"""Training examples for the tiny Oryx, drawn from the synthetic NIAH generator.

An example is one NIAH cell (haystack seed, frame count, depth, needle kind, needle id) rendered exactly as
``niah_haystack`` renders it (``marker=False``: no answer-coloured corner), resized and normalised by
``model.preprocess.preprocess_video`` at the example's compression, with the task's prompt template, the
Oryx ChatML prompt and the answer tokens (option letter + ``<|im_end|>``). Haystack and needle frames are
cached after resizing, so drawing many examples from a small pool of haystack seeds stays cheap; the
assembly equals ``iter_frames`` (tested).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from model.preprocess import VideoResize, preprocess_video, video_frame_size
from model.prompt import IMAGE_TOKEN_INDEX, build_prompt, tokenize_with_image
from oryx_eval.benchmarks.niah.haystack import haystack_frame
from oryx_eval.benchmarks.niah.needles import (
    LETTERS,
    NEEDLE_KINDS,
    Item,
    NeedleSpec,
    make_needle,
    render_needle,
)
from oryx_eval.benchmarks.niah.task import needle_positions
from oryx_eval.errors import OryxEvalError
from oryx_eval.prompting import render_prompt
from oryx_eval.records import Sample
from oryx_eval.schema import TASKS_DIR, PromptSpec, load_task

RATIOS = (1, 4, 16)
MATCH_TOKENS = ("last", "all")


def task_seeds(tasks_dir: Path = TASKS_DIR) -> set[int]:
    """Seeds of every shipped task that uses the ``niah`` reader (the evaluation grids)."""
    seeds = set()
    for path in sorted(tasks_dir.glob("*.yaml")):
        spec = load_task(path)
        if spec.dataset.reader == "niah":
            seeds.add(int(spec.dataset.args["seed"]))
    return seeds


def check_disjoint(seeds: Sequence[int], what: str, tasks_dir: Path = TASKS_DIR) -> None:
    """Raise `OryxEvalError` if a training/validation seed is an evaluation task's seed."""
    clash = sorted(set(seeds) & task_seeds(tasks_dir))
    if clash:
        raise OryxEvalError(
            f"{what}: seeds {clash} are used by the evaluation tasks in {tasks_dir}; "
            "choose seeds disjoint from them (training must see held-out needles only)"
        )


@dataclass
class Example:
    """One training/validation example."""

    frames: Tensor  # (T, 3, H, W) normalised, T = num_frames + needle frames
    prompt_ids: list[int]  # ChatML prompt with the -200 placeholder
    answer_ids: list[int]  # option letter, then <|im_end|>
    target: str  # the option letter
    kind: str
    num_frames: int
    depth: float
    compression: int
    aux_index: int  # prompt position (the newline before "A.") where the auxiliary target is predicted
    aux_target: int  # first non-space token of the correct option's text (e.g. " red", "2", "H")
    # prompt positions where the option-match target is predicted: each option's last text token (A..D),
    # or every text token of each option (`match_tokens="all"`), option by option
    match_positions: list[int] = field(default_factory=list)
    # per position: its option's letter if that option is the correct one, else the newline that follows
    match_targets: list[int] = field(default_factory=list)
    # code-word needles only: every option text token's prompt position, and 1 where that token's
    # characters all occur in the shown word, else 0 (the per-character membership loss)
    char_positions: list[int] = field(default_factory=list)
    char_targets: list[int] = field(default_factory=list)
    # code words: the word's text tokens (" H7XK") and the index of its frame in `frames`
    word_ids: list[int] | None = None
    word_frame: int | None = None
    # shown as text: the word's tokens replace that frame's rows (its separator stays), the haystack frames
    # stay video (`DrawSpec.text_words`, a training curriculum; the text-shown copy of a video example is
    # also its distillation teacher; evaluation always shows the video)
    as_text: bool = False


def rotated(spec: NeedleSpec, k: int) -> NeedleSpec:
    """`spec` with its options cycled left by `k` places and the answer letter following its option."""
    k %= len(spec.options)
    options = spec.options[k:] + spec.options[:k]
    true = spec.options[LETTERS.index(spec.answer)]
    return NeedleSpec(spec.kind, spec.items, spec.question, options, LETTERS[options.index(true)])


@dataclass
class NiahSource:
    """Draws NIAH examples at the model's input resolution, with per-frame caches.

    Args:
        tokenizer: the tiny model's Hugging Face tokenizer.
        prompt: the task's prompt spec (template and options format).
        frame_size: generator frame size ``(w, h)`` (the task's ``frame_size``).
        video_spec: the model's video resize settings.
        match_tokens: where the option-match loss looks: ``last`` (each option's last text token) or
            ``all`` (every text token of each option: the target at a prefix is whether its option is the
            correct one, so a decoy can be told apart from its first differing token on).
    """

    tokenizer: Any
    prompt: PromptSpec
    frame_size: tuple[int, int]
    video_spec: VideoResize
    match_tokens: str = "last"
    _hay: dict[tuple[int, int, tuple[int, int]], np.ndarray] = field(default_factory=dict)
    _items: dict[tuple[Item, tuple[int, int]], np.ndarray] = field(default_factory=dict)
    _short: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.match_tokens not in MATCH_TOKENS:
            accepted = ", ".join(MATCH_TOKENS)
            raise OryxEvalError(f"--match-tokens {self.match_tokens!r}; accepted values: {accepted}")

    def _resized(self, frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        img = Image.fromarray(frame)
        return np.asarray(img if img.size == size else img.resize(size, Image.BICUBIC), dtype=np.uint8)

    def hay_frame(self, seed: int, index: int, size: tuple[int, int]) -> np.ndarray:
        key = (seed, index, size)
        if key not in self._hay:
            self._hay[key] = self._resized(haystack_frame(seed, index, self.frame_size), size)
        return self._hay[key]

    def needle_frames(self, spec: NeedleSpec, size: tuple[int, int]) -> list[np.ndarray]:
        if spec.kind == "code_word":  # unique per needle: not cached
            return [self._resized(f, size) for f in render_needle(spec, self.frame_size, marker=False)]
        out = []
        for item in spec.items:
            key = (item, size)
            if key not in self._items:
                one = NeedleSpec(spec.kind, (item,), spec.question, spec.options, spec.answer)
                self._items[key] = self._resized(render_needle(one, self.frame_size, marker=False)[0], size)
            out.append(self._items[key])
        return out

    def cell_frames(
        self, seed: int, num_frames: int, depth: float, spec: NeedleSpec, size: tuple[int, int]
    ) -> np.ndarray:
        """uint8 ``(N + k, h, w, 3)``: ``iter_frames(..., marker=False)`` resized to ``size``."""
        positions = set(needle_positions(num_frames, depth, len(spec.items)))
        needles = iter(self.needle_frames(spec, size))
        out, hay = [], 0
        for t in range(num_frames + len(spec.items)):
            if t in positions:
                out.append(next(needles))
            else:
                out.append(self.hay_frame(seed, hay, size))
                hay += 1
        return np.stack(out)

    def example(
        self,
        seed: int,
        num_frames: int,
        depth: float,
        kind: str,
        needle_id: int,
        compression: int,
        rotate: int = 0,
        as_text: bool = False,
    ) -> Example:
        """The example of one NIAH cell at one compression; `rotate` cycles the options (and the answer
        letter) by that many places: the generator's options are a uniform random permutation, so every
        rotation is as likely a prompt as the original. `as_text` (code words only): the needle frame's
        tokens are replaced by the word's text tokens, the haystack frames around it stay video."""
        spec = rotated(make_needle(kind, seed, needle_id), rotate)
        size = video_frame_size(*self.frame_size, self.video_spec, compression)
        if as_text and kind != "code_word":
            raise ValueError(f"only code words can be shown as text, not {kind!r}")
        word_ids, word_frame = None, None
        if kind == "code_word":
            word_ids = [int(i) for i in self.tokenizer(" " + str(spec.items[0].word)).input_ids]
            word_frame = needle_positions(num_frames, depth, 1)[0]
        frames = preprocess_video(
            self.cell_frames(seed, num_frames, depth, spec, size), self.video_spec, compression
        )
        sample = Sample(
            id=f"train/s{seed}/{kind}/{needle_id}",
            task="niah-train",
            question=spec.question,
            choices=list(spec.options),
            target=spec.answer,
            metadata={"num_frames": num_frames, "depth": round(100 * depth), "needle": kind},
        )
        text = render_prompt(self.prompt, sample)
        ids = tokenize_with_image(build_prompt(text, True), self.tokenizer)
        im_end = self.tokenizer.convert_tokens_to_ids("<|im_end|>")
        answer = [*self._ids(spec.answer), int(im_end)]
        aux_index, aux_target = self._aux(ids, spec)
        ends, targets = self._option_match(ids, spec)
        chars, present = self._char_membership(ids, spec) if kind == "code_word" else ([], [])
        return Example(
            frames,
            ids,
            answer,
            spec.answer,
            kind,
            num_frames,
            depth,
            compression,
            aux_index,
            aux_target,
            ends,
            targets,
            chars,
            present,
            word_ids,
            word_frame,
            as_text,
        )

    def _ids(self, text: str) -> list[int]:
        """Token ids of a short fixed `text` (a letter, ".", a newline), cached."""
        if text not in self._short:
            self._short[text] = [int(i) for i in self.tokenizer(text).input_ids]
        return self._short[text]

    def _letter_start(self, ids: list[int], letter: str) -> int:
        """Prompt index of option `letter`'s letter token (followed by the "." token)."""
        lid, dot = self._ids(letter), self._ids(".")
        for j in range(ids.index(IMAGE_TOKEN_INDEX) + 1, len(ids) - 1):
            if [ids[j]] == lid and [ids[j + 1]] == dot:
                return j
        raise ValueError(f"option {letter!r} not found as separate tokens in the prompt")

    def _option_span(self, ids: list[int], letter: str) -> range:
        """Prompt positions of option `letter`'s text tokens (after "A." up to the newline)."""
        newline = self._ids("\n")[0]
        first = k = self._letter_start(ids, letter) + 2
        while ids[k + 1] != newline:
            k += 1
        return range(first, k + 1)

    def _char_membership(self, ids: list[int], spec: NeedleSpec) -> tuple[list[int], list[int]]:
        """(positions, 0/1 targets) of every option text token of a code-word needle that shows characters
        (a bare space token is skipped): 1 where its characters all occur in the shown word."""
        word = set(str(spec.items[0].word))
        positions, targets = [], []
        for letter in LETTERS[: len(spec.options)]:
            for k in self._option_span(ids, letter):
                chars = self.tokenizer.decode([ids[k]]).strip()
                if chars:
                    positions.append(k)
                    targets.append(int(set(chars) <= word))
        return positions, targets

    def _option_match(self, ids: list[int], spec: NeedleSpec) -> tuple[list[int], list[int]]:
        """(prompt positions, targets) of the option-match loss, option by option: each option's last text
        token (or all its text tokens, `match_tokens="all"`), the target being the option's letter if it
        is the correct one, else the newline token that follows it in the prompt."""
        newline = self._ids("\n")[0]
        positions, targets = [], []
        for letter in LETTERS[: len(spec.options)]:
            tokens = self._option_span(ids, letter)
            span = tokens if self.match_tokens == "all" else [tokens[-1]]
            letter_id = self._ids(letter)[0]
            positions += span
            targets += [letter_id if letter == spec.answer else newline] * len(span)
        return positions, targets

    def _aux(self, ids: list[int], spec: NeedleSpec) -> tuple[int, int]:
        """(position of the newline before option A, first non-space token of the correct option)."""
        k = self._letter_start(ids, spec.answer) + 2
        while not self.tokenizer.decode([ids[k]]).strip():
            k += 1
        return self._letter_start(ids, "A") - 1, ids[k]


def check_ratios(ratios: Sequence[int]) -> None:
    """Raise `OryxEvalError` naming `--ratios` if a ratio is not one of `RATIOS`."""
    if any(r not in RATIOS for r in ratios):
        raise OryxEvalError(f"--ratios {list(ratios)}; accepted values: {list(RATIOS)}")


@dataclass(frozen=True)
class DrawSpec:
    """The distribution training examples are drawn from."""

    seeds: tuple[int, ...]  # haystack/needle seeds (disjoint from the evaluation tasks' seeds)
    frame_counts: tuple[int, ...]  # haystack lengths N, drawn uniformly per step
    kinds: tuple[str, ...] = NEEDLE_KINDS
    ratios: tuple[int, ...] = RATIOS  # compression, drawn uniformly per step
    rotations: int = 4  # option rotations per needle in a batch (1 = the generator's order only)
    # fraction of code-word needles whose needle frame is shown as the word's text tokens (`Example.as_text`;
    # a curriculum: the LLM learns to match a word against the options where it can read it); 0 = never
    text_words: float = 0.0

    def __post_init__(self) -> None:
        bad = [k for k in self.kinds if k not in NEEDLE_KINDS]
        if bad:
            raise OryxEvalError(f"--kinds: unknown needle kinds {bad}; valid: {', '.join(NEEDLE_KINDS)}")
        if not self.seeds or not self.frame_counts:
            raise OryxEvalError("seeds and frame_counts must be non-empty")
        check_ratios(self.ratios)
        if not 0.0 <= self.text_words <= 1.0:
            raise OryxEvalError(f"--text-words {self.text_words}: expected a fraction in [0, 1]")


def draw_batch(
    source: NiahSource, draw: DrawSpec, rng: np.random.Generator, batch: int
) -> tuple[list[Example], int]:
    """One step's examples: one frame count and one compression for the batch, kinds/depths/needles vary.

    Each needle appears `draw.rotations` times with its options cycled (a different answer letter each
    time), so the batch only rewards reading the options, never a letter prior.
    """
    n = int(rng.choice(draw.frame_counts))
    ratio = int(rng.choice(draw.ratios))
    out: list[Example] = []
    while len(out) < batch:
        kind = str(rng.choice(draw.kinds))
        seed = int(rng.choice(draw.seeds))
        depth = float(rng.integers(0, 101)) / 100
        nid = int(rng.integers(0, 2**62))
        first = int(rng.integers(0, 4))
        # drawn only when on, so runs without the curriculum keep their random stream
        text = kind == "code_word" and draw.text_words > 0 and bool(rng.random() < draw.text_words)
        for r in range(min(draw.rotations, batch - len(out))):
            out.append(source.example(seed, n, depth, kind, nid, ratio, rotate=first + r, as_text=text))
    return out, ratio


def validation_set(
    source: NiahSource, seed: int, num_frames: int, per_kind: int, ratio: int, kinds: Sequence[str]
) -> list[Example]:
    """A fixed held-out set: `per_kind` needles of each kind on haystack `seed`, depths spread evenly."""
    out = []
    for kind in kinds:
        for i in range(per_kind):
            depth = round(i / max(1, per_kind - 1), 2)
            out.append(source.example(seed, num_frames, depth, kind, 10_000 + i, ratio))
    return out


def stack_frames(examples: Sequence[Example]) -> Tensor:
    """All examples' frames in one `(sum T, 3, H, W)` batch."""
    return torch.cat([e.frames for e in examples], dim=0)
