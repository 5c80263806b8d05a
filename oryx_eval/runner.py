"""The resumable runner: tasks -> samples -> (prefetched media) -> backend -> scores -> records.

Samples that share media are scheduled together and handed to the backend in one call so it can reuse
the decoded frames, the visual encoding and the prefilled prefix. Media are decoded by background
workers ahead of the backend. Each scored sample is appended to samples.jsonl and flushed at once.
"""

from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from oryx_eval import distributed as D
from oryx_eval.benchmarks.data import DEFAULT_DATA_ROOT, resolve_data_dir
from oryx_eval.errors import BackendError, DatasetError, OryxEvalError, RunFailedError, TaskConfigError
from oryx_eval.media.cache import FrameCache
from oryx_eval.media.loader import load_media, preflight
from oryx_eval.plugins import load_builtin
from oryx_eval.prompting import check_prompt_fields, render_prompt
from oryx_eval.provenance import provenance
from oryx_eval.records import FramesInfo, LoadedMedia, ReaderContext, Request, Sample, SampleRecord
from oryx_eval.registry import BACKENDS, DATASETS, EXTRACTORS, REPORTS, SCORERS
from oryx_eval.results import (
    SAMPLES_FILE,
    Recorder,
    RunRecord,
    aggregate,
    error_of,
    load_run,
    read_samples,
    save_run,
)
from oryx_eval.schema import TaskSpec, load_task, task_path

DEFAULT_CACHE = Path.home() / ".cache" / "oryx-eval"


@dataclass
class RunOptions:
    """Everything that defines a run (all of it is recorded in run.json)."""

    tasks: list[str]
    backend: str = "oryx"
    backend_args: dict[str, Any] = field(default_factory=dict)
    compressions: list[str] = field(default_factory=lambda: ["4"])
    output_dir: Path = Path("results")
    run_id: str | None = None
    resume: bool = False
    retry_failed: bool = False
    limit: int | None = None
    seed: int | None = None
    frames: int | None = None
    """Override of every task's frame count."""
    max_failures: int | None = None
    """Failed samples allowed before the run counts as failed (None: no bound; failures stay recorded)."""
    workers: int = 2
    prefetch: int = 4
    """Groups decoded ahead of the backend (0: decode synchronously, no overlap)."""
    share_media: bool = True
    cache_dir: Path = DEFAULT_CACHE
    data_root: Path = DEFAULT_DATA_ROOT
    """Root of the benchmarks' local data folders (one subfolder per ``dataset.data`` name)."""
    data_dirs: dict[str, Path] = field(default_factory=dict)
    """Per-benchmark overrides of ``data_root / name`` (``--data NAME=DIR``)."""
    disk_frame_cache: bool = False
    frame_cache_gb: float = 1.0
    """Memory budget of the decoded-frame LRU (0 disables it)."""
    progress: bool = True


@dataclass
class Group:
    """Samples of one task that share media, in canonical order."""

    task: str
    samples: list[Sample]
    order: int


@dataclass
class RunResult:
    """Where the run went and what it recorded."""

    run_dir: Path
    record: RunRecord
    samples: list[SampleRecord]


def build_backend(name: str, args: dict[str, Any], cache_dir: Path) -> Any:
    """Construct a registered backend, checking its arguments against the factory's signature."""
    load_builtin()
    factory = BACKENDS.get(name)
    params = inspect.signature(factory).parameters
    if "cache_dir" in params and "cache_dir" not in args:
        args = {**args, "cache_dir": str(cache_dir)}
    try:
        inspect.signature(factory).bind(**args)
    except TypeError as e:
        raise BackendError(f"backend {name!r}: {e} (accepted: {list(params)})") from None
    return factory(**args)


def read_task_samples(
    spec: TaskSpec, task_file: Path, cache_dir: Path, limit: int | None, data_dir: Path | None = None
) -> list[Sample]:
    """Samples of one task (unique ids, prompt fields checked) before any model work."""
    reader = DATASETS.get(spec.dataset.reader)
    ctx = ReaderContext(
        task=spec.name,
        source=spec.dataset.source,
        cache_dir=cache_dir / "data" / spec.name,
        data_dir=data_dir,
    )
    ctx.cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        samples = list(reader(ctx, **spec.dataset.args))
    except (ValueError, KeyError, OSError) as e:
        raise DatasetError(f"{task_file}: dataset reader {spec.dataset.reader!r} failed: {e}") from e
    src = spec.dataset.source
    if src is not None and src.expected_rows is not None and len(samples) != src.expected_rows:
        raise DatasetError(f"{task_file}: expected {src.expected_rows} rows, the reader found {len(samples)}")
    seen: set[str] = set()
    for s in samples:
        if s.id in seen:
            raise DatasetError(f"{task_file}: duplicate sample id {s.id!r}")
        seen.add(s.id)
    if samples:
        check_prompt_fields(spec.prompt, samples[0], str(task_file))
    return samples[:limit] if limit is not None else samples


def schedule(task_samples: dict[str, list[Sample]], share_media: bool) -> list[Group]:
    """Groups of samples sharing their media (first-appearance order), or one sample per group."""
    groups: list[Group] = []
    for task, samples in task_samples.items():
        by_key: dict[str, Group] = {}
        for s in samples:
            key = s.media[0].key if (share_media and s.media) else f"sample:{s.id}"
            if key not in by_key:
                by_key[key] = Group(task=task, samples=[], order=len(groups))
                groups.append(by_key[key])
            by_key[key].samples.append(s)
    return groups


def _spec_identity(opts: RunOptions, specs: dict[str, TaskSpec]) -> dict[str, Any]:
    """The part of the spec a resumed run must match exactly."""
    return {
        "tasks": {n: {"version": s.version, "digest": s.digest()} for n, s in specs.items()},
        "backend": opts.backend,
        "backend_args": opts.backend_args,
        "compressions": opts.compressions,
        "limit": opts.limit,
        "seed": opts.seed,
        "frames": opts.frames,
        "share_media": opts.share_media,
    }


def _effective_spec(spec: TaskSpec, opts: RunOptions) -> TaskSpec:
    """Apply run-level overrides (frames, seed) to a task spec; the result is what gets recorded."""
    upd: dict[str, Any] = {}
    if opts.frames is not None:
        upd["media"] = spec.media.model_copy(
            update={"sampling": spec.media.sampling.model_copy(update={"num_frames": opts.frames})}
        )
    if opts.seed is not None:
        upd["generation"] = spec.generation.model_copy(update={"seed": opts.seed})
    return spec.model_copy(update=upd) if upd else spec


def _score(spec: TaskSpec, sample: Sample, rec: SampleRecord) -> SampleRecord:
    extracted = EXTRACTORS.get(spec.answer.name)(rec.output, sample.choices, **spec.answer.args)
    score = SCORERS.get(spec.scorer.name)(extracted, sample, **spec.scorer.args)
    return rec.model_copy(update={"extracted": score.extracted, "score": score.value})


def _frames_info(media: list[LoadedMedia]) -> FramesInfo:
    for m in media:
        if m.kind == "video":
            return FramesInfo(
                count=len(m.indices), indices=m.indices, size=m.size_wh, source_frames=m.source_frames
            )
    return FramesInfo(count=0, size=media[0].size_wh if media else None)


def _failed(spec: TaskSpec, s: Sample, comp: str, prompt: str, err: str, rank: int) -> SampleRecord:
    return SampleRecord(
        sample_id=s.id, task=spec.name, compression=comp, prompt=prompt, target=s.target, score=0.0,
        metadata=s.metadata, error=err, rank=rank,
    )  # fmt: skip


class _Prefetcher:
    """Decodes the media of upcoming groups in worker threads, a bounded window ahead of the backend."""

    def __init__(self, loader: Callable[[Group], list[LoadedMedia]], workers: int, window: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="oryx-media")
        self._load = loader
        self._window = max(0, window)

    def iterate(self, groups: list[Group]) -> Iterator[tuple[Group, Future]]:
        if self._window == 0:  # no lookahead: decode in the caller's thread, right before use
            for g in groups:
                fut: Future = Future()
                try:
                    fut.set_result(self._load(g))
                except Exception as e:  # noqa: BLE001 - delivered to the caller through the future
                    fut.set_exception(e)
                yield g, fut
            return
        pending: list[tuple[Group, Future]] = []
        it = iter(groups)
        for g in it:
            pending.append((g, self._pool.submit(self._load, g)))
            if len(pending) >= self._window:
                break
        while pending:
            g, fut = pending.pop(0)
            nxt = next(it, None)
            if nxt is not None:
                pending.append((nxt, self._pool.submit(self._load, nxt)))
            yield g, fut

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass
class _Session:
    """Runs one group of samples (all compression settings) and records every sample."""

    specs: dict[str, TaskSpec]
    backend: Any
    recorder: Recorder
    done: set[tuple[str, str, str]]
    missing: dict[str, str]
    compressions: list[str]
    rank: int

    def _media(self, g: Group, fut: Future) -> tuple[list[LoadedMedia], str | None]:
        bad = [s.id for s in g.samples if s.id in self.missing]
        if bad:
            return [], f"missing media file: {self.missing[bad[0]]}"
        try:
            return fut.result(), None
        except OryxEvalError as e:
            return [], str(e)
        except Exception as e:  # noqa: BLE001 - any decode failure fails only these samples
            return [], f"{type(e).__name__}: {e}"

    def run_group(self, g: Group, fut: Future) -> int:
        """Generate, score and record the group's pending samples; returns how many were recorded."""
        spec = self.specs[g.task]
        prompts = {s.id: render_prompt(spec.prompt, s) for s in g.samples}
        media, media_err = self._media(g, fut)
        n = 0
        for comp in self.compressions:
            ss = [s for s in g.samples if (g.task, s.id, comp) not in self.done]
            n += len(ss)
            if not ss:
                continue
            if media_err is not None:
                for s in ss:
                    self.recorder.write(_failed(spec, s, comp, prompts[s.id], media_err, self.rank))
                continue
            reqs = [
                Request(sample_id=s.id, prompt=prompts[s.id], media=media, generation=spec.generation,
                        compression=comp, media_key=s.media[0].key if s.media else None)
                for s in ss
            ]  # fmt: skip
            gens = self.backend.generate(reqs)
            if len(gens) != len(reqs):
                raise BackendError(f"backend returned {len(gens)} results for {len(reqs)} requests")
            # the group's decode is split evenly over its samples, as OryxModel splits the shared encoding
            decode_s = sum(m.decode_s for m in media) / len(ss)
            frames = _frames_info(media)
            for s, gen in zip(ss, gens, strict=True):
                lat = gen.latency_s.model_copy(update={"decode": decode_s})
                lat.total += decode_s
                r = SampleRecord(
                    sample_id=s.id, task=spec.name, compression=comp, compression_used=gen.compression,
                    prompt=prompts[s.id], output=gen.text, target=s.target, tokens=gen.tokens, latency_s=lat,
                    frames=frames, metadata=s.metadata, error=gen.error, rank=self.rank, score=0.0,
                    extra=gen.extra,
                )  # fmt: skip
                self.recorder.write(r if gen.error else _score(spec, s, r))
        return n


def _new_run_id(opts: RunOptions) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{'+'.join(opts.tasks)}-{opts.backend}".replace("/", "_")


def _prepare_dir(opts: RunOptions, dist: D.Dist, identity: dict[str, Any]) -> Path:
    run_id = D.broadcast(opts.run_id or _new_run_id(opts), dist)
    run_dir = opts.output_dir / run_id
    if opts.resume:
        prev = load_run(run_dir)
        if prev.spec.get("identity") != identity:
            raise OryxEvalError(
                f"{run_dir}: cannot resume: the run was made with different settings "
                f"(recorded {prev.spec.get('identity')}, now {identity})"
            )
    elif dist.is_main and (run_dir / SAMPLES_FILE).exists():
        raise OryxEvalError(f"{run_dir} already holds a run; pass --resume to continue it or a new --run-id")
    run_dir.mkdir(parents=True, exist_ok=True)
    D.barrier(dist)
    return run_dir


def run(opts: RunOptions, on_progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Run every task of ``opts``; returns the records. Raises OryxEvalError subclasses on bad input."""
    load_builtin()
    t_start = time.perf_counter()
    started = datetime.now(timezone.utc).isoformat()
    # 1. every task file is validated before any work
    files: dict[str, Path] = {}
    specs: dict[str, TaskSpec] = {}
    for t in opts.tasks:
        f = task_path(t)
        spec = _effective_spec(load_task(f), opts)
        if spec.name in specs:
            raise TaskConfigError(f"task {spec.name!r} is given twice")
        files[spec.name], specs[spec.name] = f, spec
    for c in opts.compressions:
        if c not in ("1", "4", "16", "auto"):
            raise TaskConfigError(f"compression {c!r}: expected 1, 4, 16 or auto")
    BACKENDS.get(opts.backend)  # unknown backend fails before data work
    dist = D.init_dist()
    identity = _spec_identity(opts, specs)
    run_dir = _prepare_dir(opts, dist, identity)
    shard = run_dir / (SAMPLES_FILE if dist.world == 1 else f"samples.rank{dist.rank}.jsonl")

    data_dirs = {
        n: resolve_data_dir(s.dataset.data, opts.data_root, opts.data_dirs) for n, s in specs.items()
    }
    task_samples = {
        n: read_task_samples(specs[n], files[n], opts.cache_dir, opts.limit, data_dirs[n]) for n in specs
    }
    groups = schedule(task_samples, opts.share_media)
    mine = [g for g in groups if g.order % dist.world == dist.rank]

    if opts.resume and opts.retry_failed:
        kept = [r for r in read_samples(shard) if r.error is None]
        shard.write_text("".join(r.model_dump_json() + "\n" for r in kept))
    done = {(r.task, r.sample_id, r.compression) for r in read_samples(shard)}
    todo = [
        (g, [s for s in g.samples if any((g.task, s.id, c) not in done for c in opts.compressions)])
        for g in mine
    ]
    todo = [Group(g.task, ss, g.order) for g, ss in todo if ss]
    total = sum(len(g.samples) for g in todo) * len(opts.compressions)

    recorder = Recorder(shard)
    frame_cache = FrameCache(
        max_bytes=int(opts.frame_cache_gb * (1 << 30)),
        disk_dir=opts.cache_dir / "frames" if opts.disk_frame_cache else None,
    )
    report = preflight([s for g in todo for s in g.samples])
    missing = {sid: path for sid, path in report.missing}
    backend = None
    spec_record: dict[str, Any] = {
        "identity": identity,
        "run_id": run_dir.name,
        "tasks": {n: s.model_dump(mode="json") for n, s in specs.items()},
        "options": {
            k: (str(v) if isinstance(v, Path) else v) for k, v in vars(opts).items() if k not in ("progress",)
        },
        "data_dirs": {n: (str(d) if d else None) for n, d in data_dirs.items()},
        "world_size": dist.world,
        **provenance(),
    }
    rec = RunRecord(spec=spec_record, started=started)
    if opts.resume and dist.is_main:
        rec = load_run(run_dir).model_copy(update={"status": "started", "error": None})
    try:
        backend = build_backend(opts.backend, opts.backend_args, opts.cache_dir)  # after preflight
        spec_record["backend"] = backend.describe()
        rec.spec.update(backend=spec_record["backend"])
        note = spec_record["backend"].get("note")
        if note and note not in rec.notes:
            rec.notes.append(note)
        if dist.is_main:
            save_run(run_dir, rec)
        finished = 0

        def load(g: Group) -> list[LoadedMedia]:
            sampling = specs[g.task].media.sampling
            return [load_media(m, sampling, frame_cache) for m in g.samples[0].media]

        pre = _Prefetcher(load, opts.workers, opts.prefetch)
        session = _Session(specs, backend, recorder, done, missing, opts.compressions, dist.rank)
        try:
            for g, fut in pre.iterate(todo):
                finished += session.run_group(g, fut)
                if on_progress:
                    on_progress(finished, total)
        finally:
            pre.close()
            recorder.close()
        return _finish(opts, specs, run_dir, rec, dist, t_start)
    except BaseException as e:
        with contextlib.suppress(Exception):
            recorder.close()
        if dist.is_main and not isinstance(e, RunFailedError):
            rec.status = "cancelled" if isinstance(e, KeyboardInterrupt) else "error"
            rec.error = error_of(e)
            rec.finished = datetime.now(timezone.utc).isoformat()
            save_run(run_dir, rec)
        raise
    finally:
        D.shutdown(dist)


def _finish(
    opts: RunOptions, specs: dict[str, TaskSpec], run_dir: Path, rec: RunRecord, dist: D.Dist, t0: float
) -> RunResult:
    """Merge rank shards (rank 0), aggregate, write reports and run.json, apply the failure bound."""
    D.barrier(dist)
    if dist.world > 1:
        if dist.is_main:
            merged = [r for k in range(dist.world) for r in read_samples(run_dir / f"samples.rank{k}.jsonl")]
            merged = _canonical(merged, opts, specs)
            (run_dir / SAMPLES_FILE).write_text("".join(r.model_dump_json() + "\n" for r in merged))
        D.barrier(dist)
    records = read_samples(run_dir / SAMPLES_FILE)
    records = _canonical(records, opts, specs)
    if dist.is_main:
        rec.metrics, rec.stats = aggregate(specs, records)
        rec.reports = []
        for name, spec in specs.items():
            task_recs = [r for r in records if r.task == name]
            rep_dir = run_dir if len(specs) == 1 else run_dir / name  # reports of several tasks never collide
            rep_dir.mkdir(exist_ok=True)
            for rep in spec.reports:
                paths = REPORTS.get(rep.name)(task_recs, rep_dir, name, **rep.args)
                rec.reports += [str(Path(p).relative_to(run_dir)) for p in paths]
        failures = sum(r.error is not None for r in records)
        rec.notes = [n for n in rec.notes if not n.startswith("failures:")] + [f"failures: {failures}"]
        rec.finished = datetime.now(timezone.utc).isoformat()
        rec.wall_s = time.perf_counter() - t0
        over = opts.max_failures is not None and failures > opts.max_failures
        rec.status = "error" if over else "success"
        if over:
            rec.error = error_of(
                RunFailedError(f"{failures} failed samples > --max-failures {opts.max_failures}")
            )
        save_run(run_dir, rec)
        if over:
            raise RunFailedError(
                f"{failures} samples failed (> --max-failures {opts.max_failures}); see {run_dir}"
            )
    return RunResult(run_dir=run_dir, record=rec, samples=records)


def _canonical(
    records: list[SampleRecord], opts: RunOptions, specs: dict[str, TaskSpec]
) -> list[SampleRecord]:
    """Records in a rank-independent order: task order, then sample id, then compression order."""
    t_idx = {t: i for i, t in enumerate(specs)}
    c_idx = {c: i for i, c in enumerate(opts.compressions)}
    return sorted(records, key=lambda r: (t_idx.get(r.task, 99), r.sample_id, c_idx.get(r.compression, 99)))
