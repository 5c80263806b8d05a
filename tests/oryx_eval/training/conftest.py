from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_tokenizer(tmp_path_factory):
    """The trained tiny model's tokenizer, written and read back as a checkpoint's tokenizer files."""
    from transformers import AutoTokenizer

    from model.writer import write_tokenizer
    from oryx_eval.schema import TASKS_DIR, load_task
    from oryx_eval.training.model_setup import tokenizer

    d = tmp_path_factory.mktemp("tok")
    write_tokenizer(d, tokenizer(load_task(TASKS_DIR / "niah.yaml").prompt.template), 32768)
    return AutoTokenizer.from_pretrained(str(d), local_files_only=True)
