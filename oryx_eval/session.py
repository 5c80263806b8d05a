"""One group of samples through the backend: prompts, requests, records, scores, failure accounting."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from oryx_eval.errors import BackendError, OryxEvalError
from oryx_eval.failures import FailureTracker
from oryx_eval.prompting import render_prompt
from oryx_eval.records import FramesInfo, LoadedMedia, Request, Sample, SampleRecord
from oryx_eval.registry import EXTRACTORS, SCORERS
from oryx_eval.scheduling import Group
from oryx_eval.schema import TaskSpec


def score_record(spec: TaskSpec, sample: Sample, rec: SampleRecord) -> SampleRecord:
    """Extract the answer with the task's rule and score it."""
    extracted = EXTRACTORS.get(spec.answer.name)(rec.output, sample.choices, **spec.answer.args)
    score = SCORERS.get(spec.scorer.name)(extracted, sample, **spec.scorer.args)
    return rec.model_copy(update={"extracted": score.extracted, "score": score.value})


def frames_info(media: list[LoadedMedia]) -> FramesInfo:
    """Which frames the model saw (the first video of the sample), and where they came from."""
    for m in media:
        if m.kind == "video":
            return FramesInfo(
                count=len(m.indices), indices=m.indices, size=m.size_wh, source_frames=m.source_frames,
                source=m.source,
            )  # fmt: skip
    return FramesInfo(
        count=0, size=media[0].size_wh if media else None, source=media[0].source if media else None
    )


@dataclass
class Session:
    """Runs groups of samples (all compression settings) and records every sample as it is scored."""

    specs: dict[str, TaskSpec]
    backend: Any
    write: Callable[[SampleRecord], None]
    done: set[tuple[str, str, str]]
    missing: dict[str, str]
    compressions: list[str]
    rank: int
    tracker: FailureTracker

    def _media(self, g: Group, fut: Future) -> tuple[list[LoadedMedia], str | None]:
        bad = [s.id for s in g.samples if s.id in self.missing]
        if bad:
            return [], f"missing media file: {self.missing[bad[0]]}"
        try:
            return fut.result(), None
        except OryxEvalError as e:
            return [], str(e)
        except Exception as e:  # noqa: BLE001 - a decode failure is this media's problem: fails its samples
            return [], f"{type(e).__name__}: {e}"

    def _record(self, r: SampleRecord) -> None:
        self.write(r)
        self.tracker.add(r.error is not None)

    def run_group(self, g: Group, fut: Future) -> int:
        """Generate, score and record the group's pending samples; returns how many were recorded.

        The media are decoded once for the group; their decode time is split evenly over every
        (sample, setting) recorded here, so per-sample latencies sum to the wall time of the work.
        Backend exceptions propagate (systemic); per-request errors fail only their sample.
        """
        spec = self.specs[g.task]
        media, media_err = self._media(g, fut)
        try:  # a prompt context (e.g. subtitles of the sampled frames) needs the loaded media
            prompts = {s.id: render_prompt(spec.prompt, s, media) for s in g.samples}
        except OryxEvalError as e:
            media, media_err = [], str(e)
            prompts = {s.id: render_prompt(spec.prompt, s, []) for s in g.samples}
        work = [(c, [s for s in g.samples if (g.task, s.id, c) not in self.done]) for c in self.compressions]
        n_total = sum(len(ss) for _, ss in work)
        decode_each = sum(m.decode_s for m in media) / n_total if n_total else 0.0
        frames = frames_info(media)
        for comp, ss in work:
            if not ss:
                continue
            if media_err is not None:
                for s in ss:
                    self._record(self._failed(spec, s, comp, prompts[s.id], media_err, "media"))
                continue
            reqs = [
                Request(sample_id=s.id, prompt=prompts[s.id], media=media, generation=spec.generation,
                        compression=comp, media_key=s.media[0].key if s.media else None)
                for s in ss
            ]  # fmt: skip
            gens = self.backend.generate(reqs)
            if len(gens) != len(reqs):
                raise BackendError(f"backend returned {len(gens)} results for {len(reqs)} requests")
            for s, gen in zip(ss, gens, strict=True):
                lat = gen.latency_s.model_copy(update={"decode": decode_each})
                lat.total += decode_each
                r = SampleRecord(
                    sample_id=s.id, task=spec.name, compression=comp, compression_used=gen.compression,
                    prompt=prompts[s.id], output=gen.text, target=s.target, tokens=gen.tokens, latency_s=lat,
                    frames=frames, metadata=s.metadata, error=gen.error,
                    error_kind=(gen.error_kind or "sample") if gen.error else None, rank=self.rank,
                    extra=gen.extra,
                )  # fmt: skip
                self._record(r if gen.error else score_record(spec, s, r))
        return n_total

    def _failed(self, spec: TaskSpec, s: Sample, comp: str, prompt: str, err: str, kind: str) -> SampleRecord:
        return SampleRecord(
            sample_id=s.id, task=spec.name, compression=comp, prompt=prompt, target=s.target, score=None,
            metadata=s.metadata, error=err, error_kind=kind, rank=self.rank,
        )  # fmt: skip
