"""Declarative task schema: `tasks/*.yaml` -> `TaskSpec` (pydantic, unknown keys rejected, no code).

Every registered name (reader, extractor, scorer, metric, report) is resolved and its YAML ``args``
are bound against the registered function's signature at load time, so a typo fails before any work.
"""

from __future__ import annotations

import difflib
import hashlib
import inspect
import json
import string
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from oryx_eval.errors import TaskConfigError, UnknownNameError
from oryx_eval.records import FrameSampling, GenerationSettings
from oryx_eval.yaml_files import load_yaml, yaml_problem

TASKS_DIR = Path(__file__).resolve().parent.parent / "tasks"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSpec(_Strict):
    """Where rows come from: an HF `datasets` repo id or a local file/folder."""

    hf: str | None = None
    """HF datasets repo id (needs the hub or a local HF cache)."""
    path: str | None = None
    """Local parquet/JSON/JSONL/CSV file or folder."""
    split: str = "test"
    revision: str | None = None
    """Pinned dataset revision (HF)."""
    columns: dict[str, str] = Field(default_factory=dict)
    """Our field name -> source column name."""
    expected_rows: int | None = None
    """Row count the reader must find (catches partial downloads and revisions)."""
    media_dir: str | None = None
    """Root folder that media paths are resolved against."""

    @model_validator(mode="after")
    def _one_source(self) -> SourceSpec:
        if (self.hf is None) == (self.path is None):
            raise ValueError("exactly one of 'hf' or 'path' must be given")
        return self


class NamedSpec(_Strict):
    """A registered name plus keyword arguments."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class DatasetSpec(_Strict):
    """Which registered reader builds the samples, from which source, with which arguments."""

    reader: str
    data: str | None = None
    """Data folder name under ``--data-root`` (e.g. ``videomme``); the reader gets it as ``ctx.data_dir``."""
    source: SourceSpec | None = None
    args: dict[str, Any] = Field(default_factory=dict)


class MediaSpec(_Strict):
    """What each sample shows the model and how frames are sampled."""

    kind: Literal["video", "image", "multi_view", "none"]
    sampling: FrameSampling = FrameSampling()


OPTION_FORMATS = ("letter_lines", "paren_lines", "python_list", "none")
PROMPT_FIELDS = {"question", "options", "letters", "num_options"}


class PromptSpec(_Strict):
    """How a sample becomes the user text (the backend adds the chat template and media placeholder)."""

    template: str = "{question}"
    """`str.format` template; fields: question, options, letters, num_options and any metadata key."""
    options_format: Literal["letter_lines", "paren_lines", "python_list", "none"] = "letter_lines"
    """letter_lines: "A. x\\nB. y"; paren_lines: "(A) x\\n(B) y" (MLVU); python_list: "['A. x', 'B. y']" (the
    Oryx VideoMME fork)."""
    context: NamedSpec | None = None
    """Registered ``CONTEXTS`` function adding template fields once the media are loaded (e.g. subtitles of
    the sampled frames)."""

    @field_validator("template")
    @classmethod
    def _parse_template(cls, template: str) -> str:
        try:
            names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        except ValueError as e:
            raise ValueError(f"bad template: {e}") from None
        for n in names:
            if not n.isidentifier():
                raise ValueError(f"template field {{{n}}} must be a plain name")
        return template

    def fields(self) -> set[str]:
        """Names used by the template."""
        return {f for _, f, _, _ in string.Formatter().parse(self.template) if f}


class TaskSpec(_Strict):
    """One evaluation task."""

    name: str
    version: int
    description: str = ""
    dataset: DatasetSpec
    media: MediaSpec
    prompt: PromptSpec = PromptSpec()
    generation: GenerationSettings = GenerationSettings()
    answer: NamedSpec = NamedSpec(name="mc_letter")
    """Answer extraction rule (registered extractor)."""
    scorer: NamedSpec = NamedSpec(name="exact_match")
    metrics: list[NamedSpec] = Field(default_factory=lambda: [NamedSpec(name="accuracy")])
    breakdowns: list[list[str]] = Field(default_factory=list)
    """Metadata keys to group metrics by, e.g. [[duration], [num_frames, depth]]."""
    reports: list[NamedSpec] = Field(default_factory=list)

    def digest(self) -> str:
        """Stable hash of the resolved spec (recorded in run.json)."""
        data = self.model_dump(mode="json")
        # which decoding fields were set explicitly matters: unset ones take the checkpoint's defaults
        data["generation_explicit"] = sorted(self.generation.model_fields_set)
        blob = json.dumps(data, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _check_args(registry: Any, spec_name: str, args: dict[str, Any], where: str, skip: int) -> None:
    """Resolve a registered name and bind its args; raises ValueError naming the YAML key as written.

    ``where`` is the YAML block (``dataset``, ``answer``, ``metrics[0]``): the name lives at
    ``<where>.name`` (``dataset.reader`` for the dataset) and the arguments at ``<where>.args``.
    """
    name_key = f"{where}.reader" if where == "dataset" else f"{where}.name"
    try:
        fn = registry.get(spec_name)
    except UnknownNameError as e:
        raise ValueError(f"field '{name_key}': {e}") from None
    params = list(inspect.signature(fn).parameters.values())[skip:]
    names = [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    takes_any = any(p.kind == p.VAR_KEYWORD for p in params)
    for k in args:
        if k not in names and not takes_any:
            close = difflib.get_close_matches(k, names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ValueError(
                f"field '{where}.args.{k}': {spec_name!r} takes no argument {k!r}{hint} "
                f"(accepted: {', '.join(names)})"
            )
    try:
        inspect.Signature(params).bind(**args)
    except TypeError as e:
        raise ValueError(f"field '{where}.args': {e} (accepted: {', '.join(names)})") from None


def check_names(spec: TaskSpec) -> None:
    """Resolve every registered name in ``spec`` and bind its arguments (raises ValueError)."""
    from oryx_eval import registry as R
    from oryx_eval.plugins import load_builtin

    load_builtin()
    _check_args(R.DATASETS, spec.dataset.reader, spec.dataset.args, "dataset", skip=1)
    if spec.prompt.context is not None:
        _check_args(R.CONTEXTS, spec.prompt.context.name, spec.prompt.context.args, "prompt.context", skip=2)
    _check_args(R.EXTRACTORS, spec.answer.name, spec.answer.args, "answer", skip=2)
    _check_args(R.SCORERS, spec.scorer.name, spec.scorer.args, "scorer", skip=2)
    for i, m in enumerate(spec.metrics):
        _check_args(R.METRICS, m.name, m.args, f"metrics[{i}]", skip=1)
    for i, r in enumerate(spec.reports):
        _check_args(R.REPORTS, r.name, r.args, f"reports[{i}]", skip=3)
    # template fields beyond PROMPT_FIELDS name sample metadata: checked against the samples before any work


def _did_you_mean(loc: tuple) -> str:
    """ " (did you mean 'breakdowns'?)" for a misspelled key, from the fields of the model it belongs to."""
    model: Any = TaskSpec
    for part in loc[:-1]:
        field = getattr(model, "model_fields", {}).get(part)
        ann = getattr(field, "annotation", None)
        model = next((a for a in getattr(ann, "__args__", (ann,)) if hasattr(a, "model_fields")), None)
        if model is None:
            return ""
    close = difflib.get_close_matches(str(loc[-1]), list(getattr(model, "model_fields", {})), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def load_task(path: str | Path) -> TaskSpec:
    """Load and fully validate one task file; raises TaskConfigError naming file, field and reason."""
    path = Path(path)
    try:
        raw = load_yaml(path.read_text())
    except FileNotFoundError:
        raise TaskConfigError(f"{path}: no such task file") from None
    except yaml.YAMLError as e:
        raise TaskConfigError(f"{path}: invalid YAML: {yaml_problem(e)}") from None
    if not isinstance(raw, dict):
        raise TaskConfigError(f"{path}: top level must be a mapping")
    try:
        spec = TaskSpec.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (+{len(e.errors()) - 1} more)" if len(e.errors()) > 1 else ""
        hint = _did_you_mean(first["loc"]) if first["type"] == "extra_forbidden" else ""
        raise TaskConfigError(f"{path}: field '{loc}': {first['msg']}{hint}{more}") from None
    if spec.name != path.stem:
        raise TaskConfigError(f"{path}: field 'name': {spec.name!r} must equal the file name {path.stem!r}")
    try:
        check_names(spec)
    except ValueError as e:
        raise TaskConfigError(f"{path}: {e}") from None
    return _resolve_paths(spec, path.parent)


def _resolve_paths(spec: TaskSpec, base: Path) -> TaskSpec:
    """Relative ``dataset.source.path``/``media_dir`` resolved against the task file's folder (absolute,
    so errors and run.json show the path actually used); ``~`` is expanded."""
    src = spec.dataset.source
    if src is None:
        return spec
    upd = {}
    for key in ("path", "media_dir"):
        value = getattr(src, key)
        if value:
            p = Path(value).expanduser()
            upd[key] = str(p if p.is_absolute() else (base / p).resolve())
    if all(upd[k] == getattr(src, k) for k in upd):
        return spec
    dataset = spec.dataset.model_copy(update={"source": src.model_copy(update=upd)})
    return spec.model_copy(update={"dataset": dataset})


def task_path(name: str, tasks_dir: Path = TASKS_DIR) -> Path:
    """The YAML file of a task name (or a path given directly)."""
    p = Path(name)
    if p.suffix in (".yaml", ".yml"):
        return p
    candidate = tasks_dir / f"{name}.yaml"
    if not candidate.exists():
        valid = ", ".join(list_tasks(tasks_dir)) or "(none)"
        raise TaskConfigError(f"unknown task {name!r}; valid: {valid}")
    return candidate


def list_tasks(tasks_dir: Path = TASKS_DIR) -> list[str]:
    """Names of the shipped task files."""
    return sorted(p.stem for p in tasks_dir.glob("*.yaml"))


def validate_all(tasks_dir: Path = TASKS_DIR) -> list[tuple[Path, str | None]]:
    """Validate every task file; returns (path, error or None) per file."""
    out: list[tuple[Path, str | None]] = []
    for p in sorted(tasks_dir.glob("*.yaml")):
        try:
            load_task(p)
            out.append((p, None))
        except TaskConfigError as e:
            out.append((p, str(e)))
    return out
