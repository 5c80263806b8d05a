"""The run folder's one owner: create or resume (identity checked), the done set over every shard,
per-rank recording, retry of failures, the merge, and run.json.

Layout of ``results/<run_id>/``: ``run.json``; ``samples.jsonl`` (a single-process run appends here; a
finished run holds every record here, in canonical order); ``samples.rank{r}.jsonl`` (rank r of a
distributed run appends here; merged into ``samples.jsonl`` and removed when the run finishes). A
resume reads *every* samples file whatever the world size that wrote it, so changing the number of
ranks between a kill and a resume neither redoes nor duplicates work. Records are keyed by
``(task, sample_id, compression)``: a byte-identical duplicate (a merge interrupted after writing
``samples.jsonl`` but before removing a shard) is dropped; two different records for one key are an error.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from oryx_eval import distributed as D
from oryx_eval.errors import RunStoreError
from oryx_eval.identity import diff
from oryx_eval.records import SampleRecord
from oryx_eval.results import (
    RUN_FILE,
    SAMPLES_FILE,
    Recorder,
    RunRecord,
    load_run,
    read_samples,
    repair_jsonl,
    save_run,
    write_text_atomic,
)

SHARD_GLOB = "samples.rank*.jsonl"
LOG_FILE = "error.log"
Key = tuple[str, str, str]


def record_key(r: SampleRecord) -> Key:
    """The unit of work: one sample at one compression setting of one task."""
    return (r.task, r.sample_id, r.compression)


def merge_records(sources: Iterable[tuple[Path, list[SampleRecord]]]) -> list[SampleRecord]:
    """Records of several files keyed by ``record_key``; identical duplicates dropped, conflicts raise."""
    seen: dict[Key, tuple[Path, SampleRecord, str]] = {}
    for path, recs in sources:
        for r in recs:
            k, blob = record_key(r), r.model_dump_json()
            if k in seen:
                p0, _, b0 = seen[k]
                if b0 != blob:
                    raise RunStoreError(
                        f"conflicting records for task {k[0]!r} sample {k[1]!r} compression {k[2]!r} in "
                        f"{p0} and {path}: the run folder mixes two measurements; remove one or start a "
                        "new run"
                    )
                continue
            seen[k] = (path, r, blob)
    return [r for _, r, _ in seen.values()]


class RunStore:
    """Owns one run directory for one invocation (all ranks hold one; rank 0 writes the shared files)."""

    def __init__(self, run_dir: Path, dist: D.Dist, created: bool) -> None:
        self.run_dir = run_dir
        self.dist = dist
        self.created = created
        """True when this invocation made the folder (it is removed again if the run never starts)."""
        self.shard = run_dir / (SAMPLES_FILE if dist.world == 1 else f"samples.rank{dist.rank}.jsonl")
        self._recorder: Recorder | None = None

    # --- opening -----------------------------------------------------------------------------------------

    @classmethod
    def create(cls, run_dir: Path, dist: D.Dist) -> RunStore:
        """A new run folder; refuses one that already holds a run or any record (rank 0 checks)."""
        err = None
        created = False
        if dist.is_main:
            holds = [p.name for p in _sample_files(run_dir) if p.stat().st_size > 0]
            if (run_dir / RUN_FILE).exists() or holds:
                what = ", ".join(([RUN_FILE] if (run_dir / RUN_FILE).exists() else []) + holds)
                err = (
                    f"{run_dir} already holds a run ({what}); continue it with --resume (its identity is "
                    f"checked) or choose a new --run-id"
                )
            else:
                created = not run_dir.exists()
                run_dir.mkdir(parents=True, exist_ok=True)
        err, created = D.broadcast((err, created), dist)
        if err:
            raise RunStoreError(err)
        return cls(run_dir, dist, created)

    @classmethod
    def open(cls, run_dir: Path, dist: D.Dist) -> tuple[RunStore, RunRecord]:
        """An existing run folder for ``--resume`` with its recorded run.json."""
        if not run_dir.is_dir():
            raise RunStoreError(f"--resume: no run folder {run_dir} (give an existing --run-id or run dir)")
        if not (run_dir / RUN_FILE).exists():
            raise RunStoreError(f"--resume: {run_dir} has no {RUN_FILE}; it is not a run folder")
        try:
            rec = load_run(run_dir)
        except ValueError as e:
            raise RunStoreError(f"--resume: {run_dir / RUN_FILE} is not a valid run record: {e}") from None
        return cls(run_dir, dist, created=False), rec

    @staticmethod
    def check_identity(run_dir: Path, recorded: Any, now: Any, what: str) -> None:
        """Refuse to resume when ``now`` differs from ``recorded``, naming every difference."""
        d = diff(recorded, now)
        if d:
            shown = "; ".join(d[:6]) + (f"; (+{len(d) - 6} more)" if len(d) > 6 else "")
            raise RunStoreError(
                f"cannot resume {run_dir}: the {what} differs from the recorded run: {shown}. "
                f"Resume with the same settings, or start a new --run-id"
            )

    # --- records -----------------------------------------------------------------------------------------

    def sample_files(self) -> list[Path]:
        """``samples.jsonl`` then every rank shard, whatever world size wrote them."""
        return _sample_files(self.run_dir)

    def records(self) -> list[SampleRecord]:
        """Every record of the run (all files), merged by key."""
        return merge_records((p, read_samples(p)) for p in self.sample_files())

    def done_keys(self, retry_failed: bool = False) -> set[Key]:
        """Keys already recorded, identical on every rank (rank 0 reads, repairs and broadcasts).

        With ``retry_failed`` rank 0 first removes failed records from every file (atomically), so they
        are run again.
        """
        keys: list[Key] | None = None
        if self.dist.is_main:
            for p in self.sample_files():
                repair_jsonl(p)
            if retry_failed:
                for p in self.sample_files():
                    kept = [r for r in read_samples(p) if r.error is None]
                    write_text_atomic(p, "".join(r.model_dump_json() + "\n" for r in kept))
            keys = [record_key(r) for r in self.records()]
        keys = D.broadcast(keys, self.dist)
        D.barrier(self.dist)  # nobody appends before every rank has the same done set
        return set(keys or [])

    def recorder(self) -> Recorder:
        """This rank's append-only samples file."""
        if self._recorder is None:
            self._recorder = Recorder(self.shard)
        return self._recorder

    def close(self) -> None:
        """Close this rank's samples file."""
        if self._recorder is not None:
            with contextlib.suppress(Exception):
                self._recorder.close()
            self._recorder = None

    def merge(self, order: Callable[[list[SampleRecord]], list[SampleRecord]]) -> list[SampleRecord]:
        """Rank 0: every record into ``samples.jsonl`` (atomic, in ``order``), then remove the shards."""
        self.close()
        D.barrier(self.dist)
        if self.dist.is_main:
            merged = order(self.records())
            write_text_atomic(
                self.run_dir / SAMPLES_FILE, "".join(r.model_dump_json() + "\n" for r in merged)
            )
            for p in self.run_dir.glob(SHARD_GLOB):
                p.unlink()
        D.barrier(self.dist)
        return order(self.records())

    # --- run.json ----------------------------------------------------------------------------------------

    def save(self, rec: RunRecord) -> None:
        """Write run.json (rank 0 only)."""
        if self.dist.is_main:
            save_run(self.run_dir, rec)

    def write_log(self, text: str) -> Path:
        """Append a traceback to ``error.log`` in the run folder (rank 0); returns its path."""
        path = self.run_dir / LOG_FILE
        if self.dist.is_main:
            with path.open("a", encoding="utf-8") as f:
                f.write(text.rstrip() + "\n\n")
        return path

    def discard(self) -> None:
        """Remove a folder this invocation created when the run never started (bad input found late)."""
        self.close()
        if self.dist.is_main and self.created and not any(p.stat().st_size > 0 for p in self.sample_files()):
            shutil.rmtree(self.run_dir, ignore_errors=True)


def _sample_files(run_dir: Path) -> list[Path]:
    if not run_dir.is_dir():
        return []
    main = [run_dir / SAMPLES_FILE] if (run_dir / SAMPLES_FILE).exists() else []
    return main + sorted(run_dir.glob(SHARD_GLOB))


def read_run_records(run_dir: Path) -> list[SampleRecord]:
    """Every record of a run folder, finished or not (all shards merged by key)."""
    return merge_records((p, read_samples(p)) for p in _sample_files(Path(run_dir)))


def find_resumable(output_dir: Path, matches: Callable[[RunRecord], bool]) -> Path | None:
    """The most recently started run under ``output_dir`` whose record satisfies ``matches``."""
    found: list[tuple[str, Path]] = []
    if not output_dir.is_dir():
        return None
    for d in output_dir.iterdir():
        if (d / RUN_FILE).exists():
            try:
                rec = load_run(d)
            except ValueError:
                continue
            if matches(rec):
                found.append((rec.started, d))
    return max(found)[1] if found else None
