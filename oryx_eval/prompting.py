"""Render a sample into the user text of a request, from the task's `prompt` block."""

from __future__ import annotations

from oryx_eval.errors import TaskConfigError
from oryx_eval.records import Sample
from oryx_eval.schema import PROMPT_FIELDS, PromptSpec

LETTERS = "ABCDEFGHIJ"


def format_options(choices: list[str] | None, style: str) -> str:
    """Options as "A. x" lines or as the Python-list repr the Oryx VideoMME fork used."""
    if not choices or style == "none":
        return ""
    items = [f"{LETTERS[i]}. {c}" for i, c in enumerate(choices)]
    return "\n".join(items) if style == "letter_lines" else str(items)


def letters_phrase(n: int) -> str:
    """'A, B, C, or D' for n=4."""
    ls = list(LETTERS[:n])
    return ls[0] if n == 1 else ", ".join(ls[:-1]) + f", or {ls[-1]}"


def render_prompt(spec: PromptSpec, sample: Sample) -> str:
    """The user text for ``sample`` (the backend adds the chat template and visual placeholder)."""
    n = len(sample.choices or [])
    values = {
        **sample.metadata,
        "question": sample.question,
        "options": format_options(sample.choices, spec.options_format),
        "letters": letters_phrase(n) if n else "",
        "num_options": n,
    }
    return spec.template.format(**values)


def check_prompt_fields(spec: PromptSpec, sample: Sample, task_file: str) -> None:
    """Fail before any work if the template names a field the samples do not have."""
    missing = spec.fields() - PROMPT_FIELDS - set(sample.metadata)
    if missing:
        raise TaskConfigError(
            f"{task_file}: field 'prompt.template': unknown fields {sorted(missing)} "
            f"(sample {sample.id!r} has {sorted(PROMPT_FIELDS | set(sample.metadata))})"
        )
