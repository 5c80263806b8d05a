"""Errors of one prompt's own input (as opposed to model or runtime failures).

`OryxModel.generate_shared` fails only the prompt that raised one of these (its `OryxOutput.error`); the
other prompts of the call still run. Any other exception is not tied to one prompt and propagates.
"""

from __future__ import annotations


class InputError(ValueError):
    """A prompt that cannot run because of its own input (text or length)."""


class PromptError(InputError):
    """The question text itself is invalid (e.g. holds `<image>` placeholders that do not match the media)."""


class SequenceTooLongError(InputError):
    """The spliced sequence (visual + text tokens) is longer than `config.max_length`.

    Attributes:
        total: tokens of the spliced sequence (`visual + text`).
        visual: visual embeddings in it.
        text: text tokens in it.
        limit: the model's max length (`tokenizer_model_max_length`).
    """

    def __init__(self, total: int, visual: int, text: int, limit: int) -> None:
        self.total, self.visual, self.text, self.limit = total, visual, text, limit
        super().__init__(
            f"spliced sequence has {total} tokens ({visual} visual + {text} text) but max_length "
            f"(tokenizer_model_max_length) is {limit}; use fewer frames, more compression, or "
            "on_overflow='truncate'"
        )

    def __reduce__(self):  # noqa: ANN204 - keeps the exception picklable with its fields
        return (type(self), (self.total, self.visual, self.text, self.limit))
