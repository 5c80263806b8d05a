"""Which decoding value the Oryx backend uses: task YAML / CLI > checkpoint generation_config.json > default.

The reference decodes through transformers 4.x `generate`, which starts from the checkpoint's
`generation_config.json` and overrides only what the call passes (Oryx-1.5-7B's file: repetition_penalty
1.05, do_sample true, temperature 0.7, top_k 20, top_p 0.8, eos [151645, 151643]). Here a field the task
sets explicitly (``GenerationSettings.model_fields_set``) wins; otherwise the file's value
(`model.CheckpointGenerationConfig.defaults`, where ``do_sample: false`` means greedy); otherwise the
``GenerationSettings`` default (repetition_penalty 1.0). The file's eos ids always stop generation.
"""

from __future__ import annotations

from typing import Any, Literal

from oryx_eval.records import GenerationSettings

Source = Literal["explicit", "checkpoint", "default"]
FROM_CHECKPOINT = ("max_new_tokens", "temperature", "top_k", "top_p", "repetition_penalty")
RULE = "explicit (task YAML / CLI) > checkpoint generation_config.json > default"


def _default(name: str) -> Any:
    value = GenerationSettings.model_fields[name].default
    return 1.0 if name == "repetition_penalty" and value is None else value


def resolve_generation(
    settings: GenerationSettings, checkpoint: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Source]]:
    """Resolve each decoding field.

    Args:
        settings: the request's settings (explicit fields = those in ``model_fields_set``; an explicit
            ``repetition_penalty: null`` means "not set").
        checkpoint: `CheckpointGenerationConfig.defaults()` of the checkpoint, or None without a file.

    Returns:
        (values, sources): `model.GenerationConfig` keyword values for max_new_tokens, temperature, top_k,
        top_p, repetition_penalty and seed, and where each came from.
    """
    ckpt = checkpoint or {}
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for name in (*FROM_CHECKPOINT, "seed"):
        given = getattr(settings, name)
        if name in settings.model_fields_set and not (name == "repetition_penalty" and given is None):
            values[name], sources[name] = given, "explicit"
        elif name in ckpt:
            values[name], sources[name] = ckpt[name], "checkpoint"
        else:
            values[name], sources[name] = _default(name), "default"
    return values, sources
