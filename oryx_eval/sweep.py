"""Ablation sweeps: a grid of ordinary runs (compression x frames x backend-argument values) in one folder.

Each point is a plain resumable run made through ``runner.run(RunOptions)`` with ``run_id`` = the point
name under the sweep folder, so ``oryx-eval show``/``view``/``leaderboard`` read it like any run. A
point whose run.json says ``success`` and whose recorded point identity (``sweep_point.json``: tasks'
digests, backend and its args, compression, frames, limit, seed) matches is reused without work; a point
with a run.json that did not finish is resumed (the runner skips the samples already recorded); a point
whose identity differs is an error. All points share one cache dir with the disk frame cache on, so
frames decoded for one point are served to the others. Summaries: ``sweep_report.write_outputs``.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from oryx_eval.benchmarks.data import DEFAULT_DATA_ROOT
from oryx_eval.errors import OryxEvalError
from oryx_eval.results import RUN_FILE, load_run, write_json_atomic
from oryx_eval.runner import RunOptions, run
from oryx_eval.schema import load_task, task_path
from oryx_eval.yaml_files import load_yaml, yaml_problem

POINT_FILE = "sweep_point.json"
Compression = Literal["1", "4", "16", "auto"]


class SweepError(OryxEvalError):
    """A sweep file or argument is invalid, or a sweep folder holds points made with other settings."""


class SweepSpec(BaseModel):
    """A sweep: fixed settings plus the grid axes (validated like task files: unknown keys rejected)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tasks: list[str] = Field(min_length=1)
    model: str = "oryx"
    model_args: dict[str, Any] = Field(default_factory=dict)
    """Fixed backend arguments (model_path, dtype, device, ...)."""
    compression: list[Compression] = Field(default_factory=lambda: ["4"], min_length=1)
    frames: list[int] | None = None
    """Frame counts (``None``: each task's own)."""
    grid_args: dict[str, list[Any]] = Field(default_factory=dict)
    """Backend arguments swept over, e.g. ``{video_max_side: [320, 480]}``."""
    limit: int | None = Field(default=None, ge=1)
    seed: int | None = None
    workers: int = Field(default=2, ge=0)
    frame_cache_gb: float = Field(default=1.0, ge=0)
    max_failures: str = "5%"
    """Failed samples tolerated per point (a count or a share; see ``oryx_eval.failures``)."""
    data_root: str = str(DEFAULT_DATA_ROOT)
    data: dict[str, str] = Field(default_factory=dict)
    bootstrap_seed: int = 0
    """Seed of the CI bootstrap (recorded)."""
    bootstrap_reps: int = Field(default=2000, ge=100)

    @field_validator("compression", "frames")
    @classmethod
    def _unique(cls, v: list | None) -> list | None:
        if v is not None and len(set(v)) != len(v):
            raise ValueError(f"repeated values {v}: each setting must appear once")
        return v

    @field_validator("frames")
    @classmethod
    def _positive(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and any(f < 1 for f in v):
            raise ValueError(f"frame counts must be >= 1, got {v}")
        return v

    @field_validator("grid_args")
    @classmethod
    def _axes(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for k, vals in v.items():
            if not vals:
                raise ValueError(f"grid_args.{k} is empty")
            if len({json.dumps(x, sort_keys=True) for x in vals}) != len(vals):
                raise ValueError(f"grid_args.{k} has repeated values {vals}")
        return v


def load_sweep(path: Path) -> SweepSpec:
    """Read and validate a sweep YAML; raises SweepError naming the file and field."""
    try:
        raw = load_yaml(Path(path).read_text())
    except FileNotFoundError:
        raise SweepError(f"{path}: no such sweep file") from None
    except yaml.YAMLError as e:
        raise SweepError(f"{path}: invalid YAML: {yaml_problem(e)}") from None
    if not isinstance(raw, dict):
        raise SweepError(f"{path}: top level must be a mapping")
    try:
        return SweepSpec.model_validate(raw)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise SweepError(
            f"{path}: field '{loc}': {err['msg']} (accepted: {sorted(SweepSpec.model_fields)})"
        ) from None


@dataclass(frozen=True)
class Point:
    """One grid point."""

    name: str
    compression: str
    frames: int | None
    args: dict[str, Any]
    """The swept backend-argument values of this point."""

    @property
    def axes(self) -> dict[str, Any]:
        """Every axis value of the point (``frames`` None = the task's own)."""
        return {"compression": self.compression, "frames": self.frames, **self.args}


def _slug(v: Any) -> str:
    return re.sub(r"[^A-Za-z0-9.=+_-]", "_", str(v))


def points(spec: SweepSpec) -> list[Point]:
    """The grid in a fixed order: compression, then frames, then each backend-argument axis."""
    keys = list(spec.grid_args)
    out = []
    for comp, frames, *vals in itertools.product(
        spec.compression, spec.frames or [None], *(spec.grid_args[k] for k in keys)
    ):
        parts = [f"c{comp}"] + ([f"f{frames}"] if frames is not None else [])
        parts += [f"{k}={_slug(v)}" for k, v in zip(keys, vals, strict=True)]
        out.append(Point("-".join(parts), comp, frames, dict(zip(keys, vals, strict=True))))
    return out


def point_options(spec: SweepSpec, p: Point, sweep_dir: Path) -> RunOptions:
    """The ordinary run options of one point."""
    return RunOptions(
        tasks=list(spec.tasks), backend=spec.model, backend_args={**spec.model_args, **p.args},
        compressions=[p.compression], output_dir=sweep_dir, run_id=p.name,
        resume=(sweep_dir / p.name / RUN_FILE).is_file(), limit=spec.limit, seed=spec.seed, frames=p.frames,
        workers=spec.workers, cache_dir=sweep_dir / "cache", data_root=Path(spec.data_root),
        data_dirs={k: Path(v) for k, v in spec.data.items()}, disk_frame_cache=True,
        frame_cache_gb=spec.frame_cache_gb, max_failures=spec.max_failures, progress=False,
    )  # fmt: skip


def point_identity(spec: SweepSpec, p: Point) -> dict[str, Any]:
    """What a reused point must have been made with."""
    tasks = {}
    for t in spec.tasks:
        ts = load_task(task_path(t))
        tasks[ts.name] = {"version": ts.version, "digest": ts.digest()}
    return {
        "tasks": tasks, "backend": spec.model, "backend_args": {**spec.model_args, **p.args},
        "compression": p.compression, "frames": p.frames, "limit": spec.limit, "seed": spec.seed,
    }  # fmt: skip


@dataclass
class PointResult:
    """Where one point's run is and how it was obtained."""

    point: Point
    run_dir: Path
    status: Literal["reused", "resumed", "ran"]


Progress = Callable[[int, int, Point, int, int], None]
"""``(point index 0-based, points total, point, samples done, samples total of this point)``."""


def run_sweep(spec: SweepSpec, sweep_dir: Path, on_progress: Progress | None = None) -> list[PointResult]:
    """Run (or reuse/resume) every point of ``spec`` under ``sweep_dir``; returns them in grid order."""
    grid = points(spec)
    if not grid:
        raise SweepError("the sweep has no points")
    for t in spec.tasks:
        task_path(t)  # unknown task fails before any work
    sweep_dir.mkdir(parents=True, exist_ok=True)
    idents = {p.name: point_identity(spec, p) for p in grid}
    for p in grid:  # every conflict is reported before any point runs
        f = sweep_dir / p.name / POINT_FILE
        if f.is_file() and json.loads(f.read_text()) != idents[p.name]:
            raise SweepError(
                f"{sweep_dir / p.name}: this point was made with other settings "
                f"(recorded {json.loads(f.read_text())}, now {idents[p.name]}); use a new --output"
            )
    write_json_atomic(sweep_dir / "sweep_spec.json", spec.model_dump(mode="json"))
    out = []
    for i, p in enumerate(grid):
        pdir = sweep_dir / p.name
        if (
            (pdir / RUN_FILE).is_file()
            and (pdir / POINT_FILE).is_file()
            and load_run(pdir).status == "success"
        ):
            out.append(PointResult(p, pdir, "reused"))
            if on_progress:
                on_progress(i, len(grid), p, 1, 1)
            continue
        opts = point_options(spec, p, sweep_dir)
        pdir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(pdir / POINT_FILE, idents[p.name])

        def cb(done: int, total: int, i: int = i, p: Point = p) -> None:
            if on_progress:
                on_progress(i, len(grid), p, done, total)

        res = run(opts, on_progress=cb)
        out.append(PointResult(p, res.run_dir, "resumed" if opts.resume else "ran"))
    return out


def sweep_from_cli(
    tasks: list[str], model: str, fixed_args: dict[str, Any], compression: list[str],
    frames: list[int] | None, grid_args: dict[str, list[Any]], **kw: Any,
) -> SweepSpec:  # fmt: skip
    """A SweepSpec from command-line values (validation errors become one SweepError line)."""
    try:
        return SweepSpec(
            tasks=tasks, model=model, model_args=fixed_args, compression=compression,  # type: ignore[arg-type]
            frames=frames, grid_args=grid_args, **kw,
        )  # fmt: skip
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise SweepError(f"sweep argument {loc!r}: {err['msg']}") from None
