"""ChatML (`qwen_1_5`) prompt and `<image>` splice ids of Oryx (arXiv 2409.12961).

Reproduces `conv_qwen` of the reference `oryx/conversation.py` (system "You are a helpful assistant.",
`<|im_start|>role\\n...<|im_end|>\\n` turns, open assistant turn) and `tokenizer_image_token` of
`oryx/mm_utils.py` (split on the literal `<image>`, insert IMAGE_TOKEN_INDEX = -200 between the chunks).
"""

from __future__ import annotations

from typing import Any

from model.errors import PromptError

IMAGE_TOKEN = "<image>"
IMAGE_TOKEN_INDEX = -200  # placeholder id replaced by the visual embedding sequence
DEFAULT_SYSTEM = "You are a helpful assistant."
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"


def build_prompt(question: str, has_media: bool, system: str = DEFAULT_SYSTEM) -> str:
    """Render one single-turn ChatML prompt ending with an open assistant turn.

    With media, `<image>\\n` is placed at the start of the user turn unless the question already holds the
    placeholder (then it stays where it is).

    Args:
        question: user text.
        has_media: whether an image or video goes with the prompt.
        system: system message; "" omits the system turn (the reference's CHATML rule).

    Returns:
        `<|im_start|>system\\n{system}<|im_end|>\\n<|im_start|>user\\n[<image>\\n]{question}<|im_end|>\\n`
        `<|im_start|>assistant\\n`.

    Raises:
        PromptError (a ValueError): `<image>` in a text-only question, or more than one `<image>`.
    """
    n = question.count(IMAGE_TOKEN)
    if n > 1:
        raise PromptError(
            f"prompt holds {n} '{IMAGE_TOKEN}' placeholders; Oryx takes one media item per prompt"
        )
    if n and not has_media:
        raise PromptError(f"prompt holds '{IMAGE_TOKEN}' but no image or video was given")
    user = question if (n or not has_media) else f"{IMAGE_TOKEN}\n{question}"
    head = f"{IM_START}system\n{system}{IM_END}\n" if system else ""
    return f"{head}{IM_START}user\n{user}{IM_END}\n{IM_START}assistant\n"


def tokenize_with_image(prompt: str, tokenizer: Any) -> list[int]:
    """Token ids of `prompt` with every `<image>` replaced by IMAGE_TOKEN_INDEX (-200).

    Each chunk between placeholders is tokenised on its own (as the reference does). If the tokenizer
    prepends a BOS token, one BOS is kept at the start and the BOS of every chunk is dropped (LLaVA rule;
    Qwen adds none).

    Args:
        prompt: rendered prompt text.
        tokenizer: a Hugging Face tokenizer (callable, with `bos_token_id`).

    Returns:
        Token ids (python ints).
    """
    chunks = [list(tokenizer(c).input_ids) for c in prompt.split(IMAGE_TOKEN)]
    bos = getattr(tokenizer, "bos_token_id", None)
    offset = 1 if bos is not None and chunks[0] and chunks[0][0] == bos else 0
    ids: list[int] = [bos] if offset else []
    for i, chunk in enumerate(chunks):
        if i:
            ids.append(IMAGE_TOKEN_INDEX)
        ids.extend(chunk[offset:] if (not offset or (chunk and chunk[0] == bos)) else chunk)
    return ids
