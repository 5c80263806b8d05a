"""Programmatic needles for the synthetic video needle-in-a-haystack task.

Implements the needle bank of benchmarks.md §6.4 (2) in place of LongVA's five photographed needles
(§6.1): ``code_word`` (a 4-character code in red letters on white), ``shape`` (one saturated named
shape; the question asks its colour or its shape), ``count`` (the same shape in k in {1..4} frames,
VNBench-style counting) and ``order`` (2-3 different shapes; order of appearance). Each needle is a
4-option multiple-choice question whose content and option order are drawn from
``default_rng((seed, needle_id, kind))``.

Every needle frame can carry a solid corner marker whose colour encodes the ANSWER LETTER
(benchmarks.md §6.4 (8)). Only the test backends read it (``read_marker``); it is chosen to survive
H.264 4:2:0 encoding (a 16x16+ block aligned to the top-left macroblock, nearest-colour match with a
distance bound and a margin).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from itertools import permutations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

LETTERS = "ABCD"
NEEDLE_KINDS: tuple[str, ...] = ("code_word", "shape", "count", "order")

MARKER_COLOURS: dict[str, tuple[int, int, int]] = {
    "A": (230, 30, 30),  # red
    "B": (30, 200, 60),  # green
    "C": (40, 60, 230),  # blue
    "D": (240, 220, 30),  # yellow
}
_MARKER_MAX_DIST = 70.0
"""Largest RGB distance of a marker's mean colour from its reference (codec error is ~10-20)."""
_MARKER_MAX_STD = 30.0
"""A marker is a flat block: larger per-channel spread means it is not one."""

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "orange": (245, 140, 20),
    "yellow": (235, 205, 20),
    "green": (30, 160, 60),
    "blue": (30, 80, 220),
    "purple": (130, 50, 180),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star", "diamond", "cross")
CODE_ALPHABET = "ACDEFHJKLMNPRTUVWXY34679"
"""Code-word characters, without look-alikes (0/O/Q, 1/I, 2/Z, 5/S, 8/B, 6/G)."""

_BACKGROUND = (255, 255, 255)
_TEXT_RGB = (220, 20, 20)


@dataclass(frozen=True)
class Item:
    """What one needle frame shows: a code word, or a coloured shape."""

    word: str | None = None
    colour: str | None = None
    shape: str | None = None

    def describe(self) -> str:
        """Human-readable name used in option texts (e.g. ``red star``)."""
        return self.word if self.word is not None else f"{self.colour} {self.shape}"


@dataclass(frozen=True)
class NeedleSpec:
    """A needle's content and its multiple-choice question (size-independent)."""

    kind: str
    items: tuple[Item, ...]
    """One entry per needle frame, in order of appearance."""
    question: str
    options: tuple[str, ...]
    """The 4 option texts, in presentation order (A, B, C, D)."""
    answer: str
    """The correct letter."""


def _finish(rng: np.random.Generator, true: str, decoys: list[str]) -> tuple[tuple[str, ...], str]:
    """Shuffle ``true`` + 3 decoys with a seeded permutation; return (options, answer letter)."""
    if len(decoys) != 3 or len({true, *decoys}) != 4:
        raise AssertionError(f"needle options must be 4 distinct texts, got {[true, *decoys]}")
    pool = [true, *decoys]
    perm = rng.permutation(4)
    options = tuple(pool[i] for i in perm)
    return options, LETTERS[options.index(true)]


def _a(noun: str) -> str:
    """``noun`` with its indefinite article."""
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _random_item(rng: np.random.Generator) -> Item:
    return Item(colour=str(rng.choice(list(COLOURS))), shape=str(rng.choice(SHAPES)))


def _code_word(rng: np.random.Generator) -> NeedleSpec:
    # four distinct words, each 1 or 2 substitutions away from a centre that is never shown; the shown word
    # is one of them, drawn uniformly. The options are exchangeable, so their text does not give the answer
    # away (v1 drew the decoys around the shown word, which made it the options' consensus: picking the
    # option that agrees most with the others answered 90% of v1 code words without the video).
    centre = "".join(rng.choice(list(CODE_ALPHABET), size=4))
    words: list[str] = []
    while len(words) < 4:
        chars = list(centre)
        for pos in rng.choice(4, size=int(rng.integers(1, 3)), replace=False):
            chars[pos] = str(rng.choice([c for c in CODE_ALPHABET if c != centre[pos]]))
        cand = "".join(chars)
        if cand not in words:
            words.append(cand)
    word = words[int(rng.integers(0, 4))]
    options, answer = _finish(rng, word, [w for w in words if w != word])
    q = (
        "One frame of the video shows a code word in red letters on a white background. "
        "What is the code word?"
    )
    return NeedleSpec("code_word", (Item(word=word),), q, options, answer)


def _shape(rng: np.random.Generator) -> NeedleSpec:
    item = _random_item(rng)
    if rng.integers(0, 2) == 0:
        others = [c for c in COLOURS if c != item.colour]
        decoys = [str(c) for c in rng.choice(others, size=3, replace=False)]
        true = str(item.colour)
        q = f"One frame of the video shows a single {item.shape} on a white background. What colour is it?"
    else:
        others = [s for s in SHAPES if s != item.shape]
        decoys = [str(s) for s in rng.choice(others, size=3, replace=False)]
        true = str(item.shape)
        q = (
            f"One frame of the video shows a single {item.colour} shape on a white background. "
            "What shape is it?"
        )
    options, answer = _finish(rng, true, decoys)
    return NeedleSpec("shape", (item,), q, options, answer)


def _count(rng: np.random.Generator) -> NeedleSpec:
    item = _random_item(rng)
    k = int(rng.integers(1, 5))
    options, answer = _finish(rng, str(k), [str(c) for c in range(1, 5) if c != k])
    q = f"How many frames of the video show {_a(item.describe())} on a white background?"
    return NeedleSpec("count", (item,) * k, q, options, answer)


def _order(rng: np.random.Generator) -> NeedleSpec:
    m = int(rng.integers(2, 4))
    colours = rng.choice(list(COLOURS), size=3, replace=False)
    shapes = rng.choice(SHAPES, size=3, replace=False)
    pool = [Item(colour=str(c), shape=str(s)) for c, s in zip(colours, shapes, strict=True)]
    shown = tuple(pool[:m])  # with m = 2 the third item is an unseen distractor

    def text(seq: tuple[Item, ...]) -> str:
        return ", then ".join(it.describe() for it in seq)

    # the shown order, its reverse, and another order with its reverse: every option's reverse is offered,
    # so the options' text does not give the answer away (v1 offered one other order and its reverse only
    # by chance: keeping the options whose reverse is present answered 42% of v1 order needles)
    reverse = shown[::-1]
    rest = [seq for seq in permutations(pool, m) if seq not in (shown, reverse)]
    other = rest[int(rng.integers(0, len(rest)))]
    decoys = [text(reverse), text(other), text(other[::-1])]
    options, answer = _finish(rng, text(shown), decoys)
    q = (
        "Some frames of the video each show one coloured shape on a white background. "
        "In which order do they appear?"
    )
    return NeedleSpec("order", shown, q, options, answer)


_MAKERS = {"code_word": _code_word, "shape": _shape, "count": _count, "order": _order}


def make_needle(kind: str, seed: int, needle_id: int) -> NeedleSpec:
    """Build a needle's content and question, deterministic in ``(kind, seed, needle_id)``.

    Args:
        kind: One of ``NEEDLE_KINDS``.
        seed: Task seed (>= 0).
        needle_id: Needle identity within the task (>= 0), e.g. a hash of the grid cell.

    Returns:
        The needle's ``NeedleSpec``.
    """
    if kind not in _MAKERS:
        raise ValueError(f"unknown needle kind {kind!r}; valid: {', '.join(NEEDLE_KINDS)}")
    if seed < 0 or needle_id < 0:
        raise ValueError(f"needle seed and id must be >= 0, got seed={seed} needle_id={needle_id}")
    rng = np.random.default_rng((seed, needle_id, NEEDLE_KINDS.index(kind)))
    return _MAKERS[kind](rng)


# --- drawing ------------------------------------------------------------------------------------------


def marker_side(size_wh: tuple[int, int] | list[int]) -> int:
    """Edge in pixels of the square answer marker for frames of ``size_wh`` (even, >= 16)."""
    return max(16, (min(size_wh) // 10) // 2 * 2)


@functools.lru_cache(maxsize=256)
def _font_for(w: int, h: int, text: str) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The largest embedded default font (Pillow >= 10.1) in which ``text`` fits 80% x 45% of the frame."""
    size = max(8, int(h * 0.45))
    while size > 8:
        font = ImageFont.load_default(size=size)
        left, top, right, bottom = font.getbbox(text)
        if right - left <= 0.8 * w and bottom - top <= 0.45 * h:
            return font
        size -= 2
    return ImageFont.load_default(size=8)


def _polygon(shape: str, cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    if shape == "triangle":
        return [(cx, cy - r), (cx + 0.87 * r, cy + 0.5 * r), (cx - 0.87 * r, cy + 0.5 * r)]
    if shape == "diamond":
        return [(cx, cy - r), (cx + 0.7 * r, cy), (cx, cy + r), (cx - 0.7 * r, cy)]
    if shape == "star":
        angles = np.pi / 2 + np.arange(10) * np.pi / 5
        radii = np.where(np.arange(10) % 2 == 0, r, 0.42 * r)
        return [
            (cx + float(rr * np.cos(a)), cy - float(rr * np.sin(a)))
            for a, rr in zip(angles, radii, strict=True)
        ]
    raise ValueError(f"no polygon for shape {shape!r}")


def _draw_item(item: Item, size_wh: tuple[int, int]) -> Image.Image:
    w, h = size_wh
    img = Image.new("RGB", (w, h), _BACKGROUND)
    draw = ImageDraw.Draw(img)
    cx, cy = w / 2, h / 2
    if item.word is not None:
        draw.text((cx, cy), item.word, fill=_TEXT_RGB, font=_font_for(w, h, item.word), anchor="mm")
        return img
    r = 0.3 * min(w, h)
    fill = COLOURS[str(item.colour)]
    if item.shape == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    elif item.shape == "square":
        s = 0.8 * r
        draw.rectangle((cx - s, cy - s, cx + s, cy + s), fill=fill)
    elif item.shape == "cross":
        t = 0.3 * r
        draw.rectangle((cx - r, cy - t, cx + r, cy + t), fill=fill)
        draw.rectangle((cx - t, cy - r, cx + t, cy + r), fill=fill)
    else:
        draw.polygon(_polygon(str(item.shape), cx, cy, r), fill=fill)
    return img


def draw_marker(frame: np.ndarray, letter: str) -> None:
    """Paint the answer marker for ``letter`` into the top-left corner of ``frame`` (H, W, 3), in place."""
    side = marker_side((frame.shape[1], frame.shape[0]))
    frame[:side, :side] = MARKER_COLOURS[letter]


def read_marker(frame: np.ndarray) -> str | None:
    """The answer letter encoded by the corner marker of ``frame`` (H, W, 3), or ``None`` if absent.

    Reads the centre half of the marker block, so codec ringing at its edges does not matter.
    """
    side = marker_side((frame.shape[1], frame.shape[0]))
    if frame.shape[0] < side or frame.shape[1] < side:
        return None
    q = side // 4
    patch = frame[q : side - q, q : side - q].reshape(-1, 3).astype(np.float32)  # (P, 3)
    if float(patch.std(axis=0).max()) > _MARKER_MAX_STD:
        return None
    mean = patch.mean(axis=0)  # (3,)
    dists = {k: float(np.linalg.norm(mean - np.asarray(c, np.float32))) for k, c in MARKER_COLOURS.items()}
    best, second = sorted(dists.values())[:2]
    if best > _MARKER_MAX_DIST or second < 2 * best:
        return None
    return min(dists, key=dists.__getitem__)


def render_needle(
    spec: NeedleSpec, size_wh: tuple[int, int] | list[int], marker: bool = True
) -> list[np.ndarray]:
    """Draw the needle frames of ``spec``, one per item, in order of appearance.

    Args:
        spec: The needle (from ``make_needle``).
        size_wh: Frame ``(width, height)``.
        marker: Paint the answer marker (test-oracle channel) into every needle frame.

    Returns:
        A list of uint8 arrays ``(H, W, 3)``, ``len(spec.items)`` long.
    """
    wh = (int(size_wh[0]), int(size_wh[1]))
    frames = []
    cache: dict[Item, np.ndarray] = {}
    for item in spec.items:
        if item not in cache:
            arr = np.array(_draw_item(item, wh), dtype=np.uint8)  # (H, W, 3)
            if marker:
                draw_marker(arr, spec.answer)
            cache[item] = arr
        frames.append(cache[item].copy())
    return frames
