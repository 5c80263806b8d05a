"""The resumable runner: tasks -> samples -> (prefetched media) -> backend -> scores -> records.

Samples that share media are scheduled together and handed to the backend in one call so it can reuse
the decoded frames, the visual encoding and the prefilled prefix. Media are decoded by background
workers ahead of the backend (the first groups while the model loads). The run folder belongs to
``RunStore`` (identity check, done set over every shard, merge); this module only schedules.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from oryx_eval import distributed as D
from oryx_eval.allocator import tune_malloc
from oryx_eval.backends.args import backend_params, validate_backend_args
from oryx_eval.benchmarks.data import DEFAULT_DATA_ROOT, resolve_data_dir
from oryx_eval.errors import DatasetError, OryxEvalError, RunFailedError, RunStoreError, TaskConfigError
from oryx_eval.failures import DEFAULT_MAX_CONSECUTIVE, DEFAULT_MAX_FAILURES, FailureBound, FailureTracker
from oryx_eval.identity import canonical, redact, redact_argv
from oryx_eval.media.cache import FrameCache
from oryx_eval.media.loader import load_media, preflight
from oryx_eval.plugins import load_builtin
from oryx_eval.prompting import check_prompt_fields
from oryx_eval.provenance import provenance
from oryx_eval.records import LoadedMedia, ReaderContext, Sample, SampleRecord
from oryx_eval.registry import BACKENDS, DATASETS, REPORTS
from oryx_eval.results import Progress, RunRecord, aggregate, error_of, failure_counts
from oryx_eval.scheduling import Group, Prefetcher, assign, pending_groups, schedule
from oryx_eval.schema import TaskSpec, load_task, task_path
from oryx_eval.session import Session
from oryx_eval.store import RunStore, find_resumable

DEFAULT_CACHE = Path.home() / ".cache" / "oryx-eval"
COMPRESSIONS = ("1", "4", "16", "auto")


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
    """Continue ``run_id`` (or, without one, the latest run under ``output_dir`` with this identity)."""
    retry_failed: bool = False
    limit: int | None = None
    seed: int | None = None
    frames: int | None = None
    """Override of every task's frame count."""
    max_failures: str = DEFAULT_MAX_FAILURES
    """Failed samples tolerated: a count ("10") or a share of the planned samples ("5%")."""
    max_consecutive_failures: int = DEFAULT_MAX_CONSECUTIVE
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
    skip_missing: bool = False
    """Leave samples whose media files are missing out of the run (listed in run.json, not failures), as
    the official VideoMME script's ``--skip_missing``; without it they fail and count against the bound."""
    frame_cache_identity: str = "stat"
    """How cached frames know their file: ``stat`` (path+size+mtime, cheap) or ``content`` (a hash)."""
    progress: bool = True


@dataclass
class RunResult:
    """Where the run went and what it recorded."""

    run_dir: Path
    record: RunRecord
    samples: list[SampleRecord]


def build_backend(name: str, args: dict[str, Any], cache_dir: Path, dist: D.Dist = D.Dist()) -> Any:
    """Construct a registered backend with type-checked arguments (and this rank's device)."""
    load_builtin()
    factory = BACKENDS.get(name)
    params = backend_params(factory)
    if "cache_dir" in params and "cache_dir" not in args:
        args = {**args, "cache_dir": str(cache_dir)}
    args = validate_backend_args(name, factory, args)
    if "device" in params and dist.world > 1:
        import torch

        dev = D.resolve_device(args.get("device"), dist, torch.cuda.is_available())
        if dev is not None:
            args["device"] = dev
            if dev.startswith("cuda:"):
                torch.cuda.set_device(int(dev.split(":")[1]))
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
    samples = samples[:limit] if limit is not None else samples
    if not samples:
        why = f"--limit {limit}" if limit == 0 else "the dataset is empty"
        raise DatasetError(f"{task_file}: task {spec.name!r} has 0 samples ({why}): nothing to measure")
    return samples


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


def _skip_missing(
    task_samples: dict[str, list[Sample]],
) -> tuple[dict[str, list[Sample]], dict[str, list[str]]]:
    """Samples whose media files exist, and per task the ids left out (``--skip-missing``)."""
    kept: dict[str, list[Sample]] = {}
    skipped: dict[str, list[str]] = {}
    for n, ss in task_samples.items():
        gone = {sid for sid, _ in preflight(ss).missing}
        kept[n] = [s for s in ss if s.id not in gone]
        if gone:
            skipped[n] = sorted(gone)
        if not kept[n]:
            raise DatasetError(
                f"task {n!r}: every sample's media is missing (--skip-missing left nothing to run)"
            )
    return kept, skipped


def _override_frames(task: str, samples: list[Sample], frames: int) -> list[Sample]:
    """``--frames`` replaces every frame count of a task, per-sample ones included (a video task that
    reads all N frames of each clip then samples ``frames`` of them); a task with no video file to
    sample from (synthetic frames) cannot be changed, which is an error, not a silent no-op."""
    if not any(m.kind == "video" for s in samples for m in s.media):
        raise TaskConfigError(
            f"--frames {frames}: task {task!r} has no video files to sample frames from (synthetic "
            f"frames, e.g. NIAH's frames mode, fix their own counts: its grid's frame_counts); "
            f"--frames cannot change them"
        )
    return [
        s.model_copy(
            update={
                "media": [
                    m.model_copy(update={"num_frames": None}) if m.kind == "video" else m for m in s.media
                ]
            }
        )
        for s in samples
    ]


def load_specs(opts: RunOptions) -> tuple[dict[str, TaskSpec], dict[str, Path]]:
    """Every task file validated and every run-level argument checked, before any work."""
    if not opts.tasks:
        raise TaskConfigError("--tasks: no task given (see `oryx-eval tasks`)")
    bad = [c for c in opts.compressions if c not in COMPRESSIONS]
    if bad or not opts.compressions:
        raise TaskConfigError(f"--compression {bad[0] if bad else ''!r}: expected 1, 4, 16 or auto")
    dup = sorted({c for c in opts.compressions if opts.compressions.count(c) > 1})
    if dup:
        raise TaskConfigError(
            f"--compression {','.join(opts.compressions)}: {', '.join(dup)} given twice "
            "(each setting runs once)"
        )
    if opts.frames is not None and opts.frames < 1:
        raise TaskConfigError(f"--frames {opts.frames}: expected a frame count >= 1")
    if opts.limit is not None and opts.limit < 0:
        raise TaskConfigError(f"--limit {opts.limit}: expected >= 1")
    if opts.frame_cache_identity not in ("stat", "content"):
        raise TaskConfigError(
            f"--frame-cache-identity {opts.frame_cache_identity!r}: expected stat or content"
        )
    if opts.retry_failed and not opts.resume:
        raise TaskConfigError("--retry-failed needs --resume (it reruns the failed samples of a run)")
    files: dict[str, Path] = {}
    specs: dict[str, TaskSpec] = {}
    for t in opts.tasks:
        f = task_path(t)
        spec = _effective_spec(load_task(f), opts)
        if spec.name in specs:
            raise TaskConfigError(f"--tasks: task {spec.name!r} is given twice")
        files[spec.name], specs[spec.name] = f, spec
    BACKENDS.get(opts.backend)  # unknown backend fails before data work
    return specs, files


def spec_identity(opts: RunOptions, specs: dict[str, TaskSpec]) -> dict[str, Any]:
    """What a resumed run must match before any work (the backend part is checked after it loads)."""
    return canonical(
        {
            "tasks": {n: {"version": s.version, "digest": s.digest()} for n, s in specs.items()},
            "backend": opts.backend,
            "backend_args": redact(opts.backend_args),
            "compressions": sorted(set(opts.compressions)),
            "limit": opts.limit,
            "seed": opts.seed,
            "frames": opts.frames,
            "share_media": opts.share_media,
            "skip_missing": opts.skip_missing,
        }
    )


def backend_identity(described: dict[str, Any]) -> dict[str, Any]:
    """``Backend.describe()`` minus what may differ between ranks or sessions without changing a number:
    the human note and the device (``cuda:LOCAL_RANK`` differs per rank; recorded per session)."""
    d = {k: v for k, v in described.items() if k != "note"}
    if isinstance(d.get("args"), dict):
        d["args"] = {k: v for k, v in d["args"].items() if k != "device"}
    return canonical(redact(d))


def _new_run_id(opts: RunOptions) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{'+'.join(opts.tasks)}-{opts.backend}".replace("/", "_")


def _open_store(
    opts: RunOptions, dist: D.Dist, identity: dict[str, Any], log: Callable[[str], None]
) -> tuple[RunStore, RunRecord | None]:
    """A new run folder, or the resumed one with its recorded run.json (spec identity checked)."""
    if not opts.resume:
        run_id = D.broadcast(opts.run_id or _new_run_id(opts), dist)
        return RunStore.create(opts.output_dir / run_id, dist), None
    run_dir = opts.output_dir / opts.run_id if opts.run_id else None
    if run_dir is None:
        found = None
        if dist.is_main:
            found = find_resumable(opts.output_dir, lambda r: r.spec.get("identity") == identity)
        found = D.broadcast(found, dist)
        if found is None:
            raise RunStoreError(
                f"--resume: no run under {opts.output_dir} was made with these settings; give --run-id "
                f"(or `oryx-eval resume RUN_DIR`), or start a new run without --resume"
            )
        log(f"resuming {found} (the latest run under {opts.output_dir} with these settings)")
        run_dir = found
    store, rec = RunStore.open(run_dir, dist)
    RunStore.check_identity(run_dir, rec.spec.get("identity"), identity, "run identity")
    return store, rec


def run(
    opts: RunOptions,
    on_progress: Callable[[int, int], None] | None = None,
    log: Callable[[str], None] = lambda msg: None,
) -> RunResult:
    """Run every task of ``opts``; returns the records.

    Raises:
        OryxEvalError subclasses on bad input (nothing is left behind); RunFailedError when the run stops
        on a systemic error or too many failures (run.json says ``failed``; records are kept for resume).
    """
    load_builtin()
    tune_malloc()  # once per process, before any media is decoded; what it did is in the session record
    t_start = time.perf_counter()
    started = datetime.now(timezone.utc).isoformat()
    specs, files = load_specs(opts)
    bound = FailureBound(opts.max_failures, opts.max_consecutive_failures)
    identity = spec_identity(opts, specs)
    data_dirs = {
        n: resolve_data_dir(s.dataset.data, opts.data_root, opts.data_dirs) for n, s in specs.items()
    }
    task_samples = {
        n: read_task_samples(specs[n], files[n], opts.cache_dir, opts.limit, data_dirs[n]) for n in specs
    }
    if opts.frames is not None:
        task_samples = {n: _override_frames(n, ss, opts.frames) for n, ss in task_samples.items()}
    skipped: dict[str, list[str]] = {}
    if opts.skip_missing:
        task_samples, skipped = _skip_missing(task_samples)
    planned = sum(len(v) for v in task_samples.values()) * len(opts.compressions)
    dist = D.init_dist()
    try:
        store, prev = _open_store(opts, dist, identity, log)
        return _execute(opts, specs, task_samples, store, prev, dist, identity, bound, planned,
                        data_dirs, started, t_start, on_progress, skipped)  # fmt: skip
    finally:
        D.shutdown(dist)


def _session_info(opts: RunOptions, dist: D.Dist, bound: FailureBound, started: str, resumed: bool) -> dict:
    prov = provenance()
    return {
        "started": started,
        "resumed": resumed,
        "argv": redact_argv(prov.pop("argv")),
        **prov,
        "world_size": dist.world,
        "failure_bound": {"max_failures": bound.max_failures, "max_consecutive": bound.max_consecutive},
        "retry_failed": opts.retry_failed,
        "workers": opts.workers,
        "prefetch": opts.prefetch,
        "malloc": tune_malloc(),  # applied by run(); cached, so this only reads what was done
        "frame_cache": {
            "disk": opts.disk_frame_cache,
            "gb": opts.frame_cache_gb,
            "identity": opts.frame_cache_identity,
        },  # fmt: skip
    }


def _options_record(opts: RunOptions) -> dict[str, Any]:
    out = {k: v for k, v in vars(opts).items() if k != "progress"}
    return canonical(redact(out))


def _execute(
    opts: RunOptions, specs: dict[str, TaskSpec], task_samples: dict[str, list[Sample]], store: RunStore,
    prev: RunRecord | None, dist: D.Dist, identity: dict[str, Any], bound: FailureBound, planned: int,
    data_dirs: dict[str, Path | None], started: str, t0: float,
    on_progress: Callable[[int, int], None] | None, skipped: dict[str, list[str]],
) -> RunResult:  # fmt: skip
    session_info = _session_info(opts, dist, bound, started, resumed=prev is not None)
    if prev is None:
        spec_record: dict[str, Any] = {
            "identity": identity,
            "run_id": store.run_dir.name,
            "tasks": {n: s.model_dump(mode="json") for n, s in specs.items()},
            "options": _options_record(opts),
            "data_dirs": {n: (str(d) if d else None) for n, d in data_dirs.items()},
            "skipped_missing": skipped,
        }
        rec = RunRecord(spec=spec_record, started=started)
        n_skip = sum(len(v) for v in skipped.values())
        if n_skip:
            rec.notes.append(
                f"--skip-missing: {n_skip} samples with missing media left out (spec.skipped_missing)"
            )
    else:
        rec = prev.model_copy(update={"status": "started", "error": None, "finished": None})
    rec.sessions = [*rec.sessions, session_info]

    done = store.done_keys(retry_failed=opts.retry_failed)
    groups = pending_groups(schedule(task_samples, opts.share_media), done, opts.compressions)
    mine = assign(groups, dist.rank, dist.world)
    total = sum(len(g.samples) for g in mine) * len(opts.compressions)
    frame_cache = FrameCache(
        max_bytes=int(opts.frame_cache_gb * (1 << 30)),
        disk_dir=opts.cache_dir / "frames" if opts.disk_frame_cache else None,
        identity=opts.frame_cache_identity,  # type: ignore[arg-type]
    )
    report = preflight([s for g in mine for s in g.samples])
    missing = {sid: path for sid, path in report.missing}

    def load(g: Group) -> list[LoadedMedia]:
        sampling = specs[g.task].media.sampling
        return [load_media(m, sampling, frame_cache) for m in g.samples[0].media]

    pre = Prefetcher(load, opts.workers, opts.prefetch)
    pre.start(mine)  # the first groups decode while the backend loads
    started_work = False
    try:
        try:
            backend = build_backend(opts.backend, opts.backend_args, opts.cache_dir, dist)
            described = backend.describe()
            recorded = prev.spec.get("backend_identity") if prev is not None else None
            if recorded is not None:
                RunStore.check_identity(store.run_dir, recorded, backend_identity(described), "backend")
        except OryxEvalError:
            pre.close()
            if prev is None:
                store.discard()  # bad backend arguments: leave nothing behind
            raise
        devices = D.all_gather((described.get("args") or {}).get("device"), dist)
        rec.sessions[-1]["devices"] = devices
        if recorded is None:
            rec.spec["backend"] = redact(described)
            rec.spec["backend_identity"] = backend_identity(described)
        note = described.get("note")
        if note and note not in rec.notes:
            rec.notes.append(note)
        rec.progress = Progress(planned=planned, recorded=len(done))
        store.save(rec)
        started_work = True

        prior = [r for r in store.records() if r.error is not None] if dist.is_main else []
        tracker = FailureTracker(bound, planned, failed=len(prior))
        recorder = store.recorder()
        session = Session(
            specs, backend, recorder.write, done, missing, opts.compressions, dist.rank, tracker
        )
        finished = 0
        try:
            for g, fut in pre:
                finished += session.run_group(g, fut)
                if on_progress:
                    on_progress(finished, total)
        finally:
            pre.close()
            store.close()
        return _finish(opts, specs, store, rec, dist, t0, bound, planned)
    except BaseException as e:
        pre.close()
        store.close()
        with contextlib.suppress(Exception):
            e.run_dir = store.run_dir  # type: ignore[attr-defined]  # the CLI prints how to continue
        if started_work and dist.is_main:
            rec = _interrupted(rec, store, e, planned)
            store.save(rec)
        if started_work and not isinstance(e, OryxEvalError | KeyboardInterrupt):
            # a systemic failure (backend crash, OOM, bug): the run stops, its records stay for --resume
            stop = RunFailedError(f"systemic error, the run stopped: {type(e).__name__}: {e}")
            stop.run_dir = store.run_dir  # type: ignore[attr-defined]
            raise stop from e
        raise


def _interrupted(rec: RunRecord, store: RunStore, e: BaseException, planned: int) -> RunRecord:
    """run.json of a run that stopped early: what is recorded and why it stopped."""
    records = store.records()
    failed, dnf = failure_counts(records)
    rec.progress = Progress(planned=planned, recorded=len(records), failed=failed, does_not_fit=dnf)
    rec.status = "cancelled" if isinstance(e, KeyboardInterrupt) else "failed"
    rec.error = error_of(e)
    if not isinstance(e, OryxEvalError | KeyboardInterrupt):
        store.write_log(rec.error.traceback or rec.error.message)
    rec.finished = datetime.now(timezone.utc).isoformat()
    return rec


def _finish(
    opts: RunOptions, specs: dict[str, TaskSpec], store: RunStore, rec: RunRecord, dist: D.Dist, t0: float,
    bound: FailureBound, planned: int,
) -> RunResult:  # fmt: skip
    """Merge every shard (rank 0), aggregate, write reports and run.json, apply the failure bound."""
    records = store.merge(lambda recs: canonical_order(recs, opts, specs))
    if dist.is_main:
        rec.metrics, rec.stats = aggregate(specs, records)
        rec.reports = []
        run_dir = store.run_dir
        failed, dnf = failure_counts(records)
        over = failed > bound.limit(planned)
        for name, spec in [] if over else specs.items():  # no report of a run that failed its bound
            task_recs = [r for r in records if r.task == name]
            rep_dir = run_dir if len(specs) == 1 else run_dir / name  # reports of several tasks never collide
            rep_dir.mkdir(exist_ok=True)
            for rep in spec.reports:
                paths = REPORTS.get(rep.name)(task_recs, rep_dir, name, **rep.args)
                rec.reports += [str(Path(p).relative_to(run_dir)) for p in paths]
        rec.progress = Progress(planned=planned, recorded=len(records), failed=failed, does_not_fit=dnf)
        rec.notes = [n for n in rec.notes if not n.startswith("failures:")]
        if failed:
            rec.notes.append(f"failures: {failed} of {len(records)} samples could not run ({dnf} do not fit)")
        rec.finished = datetime.now(timezone.utc).isoformat()
        rec.wall_s = (rec.wall_s or 0.0) + (time.perf_counter() - t0)
        rec.status = "failed" if over else "success"
        if over:
            msg = f"{failed} of {planned} samples failed (more than --max-failures {bound.describe(planned)})"
            rec.error = error_of(RunFailedError(msg))
        store.save(rec)
        if over:
            raise RunFailedError(f"{msg}; see {run_dir}")
    return RunResult(run_dir=store.run_dir, record=rec, samples=records)


def canonical_order(
    records: list[SampleRecord], opts: RunOptions, specs: dict[str, TaskSpec]
) -> list[SampleRecord]:
    """Records in a rank-independent order: task order, then sample id, then compression order."""
    t_idx = {t: i for i, t in enumerate(specs)}
    c_idx = {c: i for i, c in enumerate(opts.compressions)}
    return sorted(records, key=lambda r: (t_idx.get(r.task, 99), r.sample_id, c_idx.get(r.compression, 99)))
