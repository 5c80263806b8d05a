"""Render a sample into the user text of a request, from the task's `prompt` block."""

from __future__ import annotations

from collections.abc import Sequence

from oryx_eval.errors import TaskConfigError
from oryx_eval.records import LoadedMedia, Sample
from oryx_eval.registry import CONTEXTS
from oryx_eval.schema import PROMPT_FIELDS, PromptSpec

LETTERS = "ABCDEFGHIJ"


def format_options(choices: list[str] | None, style: str) -> str:
    """Options as "A. x" lines, "(A) x" lines or as the Python-list repr the Oryx VideoMME fork used."""
    if not choices or style == "none":
        return ""
    if style == "paren_lines":
        return "\n".join(f"({LETTERS[i]}) {c}" for i, c in enumerate(choices))
    items = [f"{LETTERS[i]}. {c}" for i, c in enumerate(choices)]
    return "\n".join(items) if style == "letter_lines" else str(items)


def letters_phrase(n: int) -> str:
    """'A, B, C, or D' for n=4."""
    ls = list(LETTERS[:n])
    return ls[0] if n == 1 else ", ".join(ls[:-1]) + f", or {ls[-1]}"


def context_fields(spec: PromptSpec) -> set[str]:
    """Template fields the task's prompt context provides (none without a context)."""
    if spec.context is None:
        return set()
    return set(getattr(CONTEXTS.get(spec.context.name), "fields", ()))


def render_prompt(spec: PromptSpec, sample: Sample, media: Sequence[LoadedMedia] = ()) -> str:
    """The user text for ``sample`` (the backend adds the chat template and visual placeholder).

    ``media`` are the sample's loaded media; a prompt context computes its fields from them (with no media,
    e.g. when loading failed, a context returns empty fields).
    """
    n = len(sample.choices or [])
    values = {
        **sample.metadata,
        "question": sample.question,
        "options": format_options(sample.choices, spec.options_format),
        "letters": letters_phrase(n) if n else "",
        "num_options": n,
    }
    if spec.context is not None:
        values.update(CONTEXTS.get(spec.context.name)(sample, list(media), **spec.context.args))
    return spec.template.format(**values)


def check_prompt_fields(spec: PromptSpec, sample: Sample, task_file: str) -> None:
    """Fail before any work if the template names a field the samples do not have."""
    known = PROMPT_FIELDS | set(sample.metadata) | context_fields(spec)
    missing = spec.fields() - known
    if missing:
        raise TaskConfigError(
            f"{task_file}: field 'prompt.template': unknown fields {sorted(missing)} "
            f"(sample {sample.id!r} has {sorted(known)})"
        )
