"""Deterministic test backends (``test-oracle``, ``test-blind``, ``test-fixed-cost``, ``test-fail``,
``test-script``).

The harness's analogue of inspect_ai's ``mockllm`` (style.md: "ship a deterministic mock backend for
tests"): they implement the ``Backend`` protocol without a model, so the task/media/runner/scoring/report
path can be checked in CI. ``test-oracle`` reads the NIAH answer marker (benchmarks.md §6.4 (8)) from
the frames it is given, so it scores 100 % exactly when depth indexing, sampling and bookkeeping are
right; ``test-blind`` guesses (about 25 % on 4 options). Used only by tests and the harness-overhead bench.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

import numpy as np

from oryx_eval.benchmarks.niah.needles import read_marker
from oryx_eval.records import Generation, Latency, LoadedMedia, Request, TokenCounts
from oryx_eval.registry import BACKENDS

NO_MARKER = "no marker"


def _frames_of(media: LoadedMedia) -> np.ndarray:
    """All frames of one media item as uint8 ``(T, H, W, 3)`` (an image counts as one frame)."""
    if media.frames is not None:
        return np.asarray(media.frames)
    if media.image is not None:
        return np.asarray(media.image.convert("RGB"))[None]  # (1, H, W, 3)
    return np.zeros((0, 1, 1, 3), dtype=np.uint8)


def _tokens(request: Request, text: str) -> TokenCounts:
    visual = sum(len(_frames_of(m)) for m in request.media)
    return TokenCounts(
        visual_raw=visual, visual=visual, text=len(request.prompt.split()), output=len(text.split())
    )


def _answer(request: Request, text: str, start: float, extra: dict[str, Any] | None = None) -> Generation:
    return Generation(
        text=text,
        tokens=_tokens(request, text),
        compression=request.compression,
        latency_s=Latency(total=time.perf_counter() - start),
        extra=extra or {},
    )


def oracle_answer(request: Request) -> tuple[str, dict[str, Any]]:
    """Scan every frame of the request for the answer marker.

    Returns:
        ``("The answer is X.", extra)`` with the first marker's letter, or ``("no marker", extra)``;
        ``extra`` lists ``marker_frames`` as ``[media index, frame position, letter]``.
    """
    found: list[list[Any]] = []
    for mi, media in enumerate(request.media):
        for fi, frame in enumerate(_frames_of(media)):
            letter = read_marker(frame)
            if letter is not None:
                found.append([mi, fi, letter])
    extra = {"marker_frames": found}
    if not found:
        return NO_MARKER, extra
    return f"The answer is {found[0][2]}.", extra


@BACKENDS.register("test-oracle")
class OracleBackend:
    """Answers with the letter encoded by the NIAH answer marker in the frames it is given."""

    name = "test-oracle"

    def describe(self) -> dict[str, Any]:
        """Recorded arguments (none)."""
        return {"name": self.name, "args": {}}

    def generate(self, requests: list[Request]) -> list[Generation]:
        """Answer each request from its frames (``no marker`` when none is visible)."""
        out = []
        for req in requests:
            start = time.perf_counter()
            text, extra = oracle_answer(req)
            out.append(_answer(req, text, start, extra))
        return out


@BACKENDS.register("test-blind")
class BlindBackend:
    """Ignores the media; answers a letter fixed by a hash of ``(sample_id, seed)``."""

    name = "test-blind"

    def __init__(self, seed: int = 0, letters: str = "ABCD") -> None:
        if not letters:
            raise ValueError("test-blind: letters must not be empty")
        self.seed = seed
        self.letters = letters

    def describe(self) -> dict[str, Any]:
        """Recorded arguments."""
        return {"name": self.name, "args": {"seed": self.seed, "letters": self.letters}}

    def pick(self, sample_id: str) -> str:
        """The letter answered for ``sample_id``."""
        digest = hashlib.sha256(f"{self.seed}:{sample_id}".encode()).digest()
        return self.letters[int.from_bytes(digest[:8], "big") % len(self.letters)]

    def generate(self, requests: list[Request]) -> list[Generation]:
        """Answer ``The answer is X.`` with the hashed letter."""
        out = []
        for req in requests:
            start = time.perf_counter()
            out.append(_answer(req, f"The answer is {self.pick(req.sample_id)}.", start))
        return out


@BACKENDS.register("test-fixed-cost")
class FixedCostBackend:
    """Sleeps ``cost_s`` per request and answers a fixed letter (harness-overhead measurements)."""

    name = "test-fixed-cost"

    def __init__(self, cost_s: float = 0.01, letter: str = "A") -> None:
        if cost_s < 0:
            raise ValueError(f"test-fixed-cost: cost_s must be >= 0, got {cost_s}")
        self.cost_s = cost_s
        self.letter = letter

    def describe(self) -> dict[str, Any]:
        """Recorded arguments."""
        return {"name": self.name, "args": {"cost_s": self.cost_s, "letter": self.letter}}

    def generate(self, requests: list[Request]) -> list[Generation]:
        """Sleep ``cost_s`` then answer ``The answer is {letter}.`` for each request."""
        out = []
        for req in requests:
            start = time.perf_counter()
            time.sleep(self.cost_s)
            out.append(_answer(req, f"The answer is {self.letter}.", start))
        return out


@BACKENDS.register("test-fail")
class FailBackend:
    """Fails the requests whose sample id matches ``pattern`` (``re.search``); the others get the oracle."""

    name = "test-fail"

    def __init__(self, pattern: str) -> None:
        try:
            self._re = re.compile(pattern)
        except re.error as e:
            raise ValueError(f"test-fail: invalid pattern {pattern!r}: {e}") from None
        self.pattern = pattern

    def describe(self) -> dict[str, Any]:
        """Recorded arguments."""
        return {"name": self.name, "args": {"pattern": self.pattern}}

    def _one(self, req: Request) -> tuple[str, dict[str, Any]]:
        if self._re.search(req.sample_id):
            raise RuntimeError(f"test-fail: injected failure for sample {req.sample_id!r}")
        return oracle_answer(req)

    def generate(self, requests: list[Request]) -> list[Generation]:
        """Per-request: an injected ``RuntimeError`` becomes ``Generation(error=...)``."""
        out = []
        for req in requests:
            start = time.perf_counter()
            try:
                text, extra = self._one(req)
            except RuntimeError as e:
                out.append(
                    Generation(
                        error=f"{type(e).__name__}: {e}",
                        compression=req.compression,
                        latency_s=Latency(total=time.perf_counter() - start),
                    )
                )
                continue
            out.append(_answer(req, text, start, extra))
        return out


@BACKENDS.register("test-script")
class ScriptBackend:
    """Answers each request with the text a JSON file gives for its sample id (free-text task checks).

    ``answers_file`` maps ``sample_id -> text``; a sample id absent from the file fails that sample.
    The frames each request carried are returned in ``extra`` (``frame_count``, ``frame_size``).
    """

    name = "test-script"

    def __init__(self, answers_file: str) -> None:
        import json
        from pathlib import Path

        try:
            self.answers = json.loads(Path(answers_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ValueError(f"test-script: cannot read answers_file {answers_file}: {e}") from None
        if not isinstance(self.answers, dict):
            raise ValueError(f"test-script: {answers_file} must hold a JSON object sample_id -> text")
        self.answers_file = answers_file

    def describe(self) -> dict[str, Any]:
        """Recorded arguments."""
        return {"name": self.name, "args": {"answers_file": self.answers_file}}

    def generate(self, requests: list[Request]) -> list[Generation]:
        """The scripted text per request; an unscripted sample id is a per-request error."""
        out = []
        for req in requests:
            start = time.perf_counter()
            if req.sample_id not in self.answers:
                out.append(Generation(error=f"test-script: no answer for {req.sample_id!r}",
                                      compression=req.compression))  # fmt: skip
                continue
            frames = [_frames_of(m) for m in req.media]
            extra = {
                "frame_count": sum(len(f) for f in frames),
                "frame_size": [list(f.shape[1:3]) for f in frames],
            }
            out.append(_answer(req, str(self.answers[req.sample_id]), start, extra))
        return out
