from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_tokenizer(tmp_path_factory):
    from transformers import AutoTokenizer

    from model.tiny import SPECIALS, train_tokenizer
    from model.writer import write_tokenizer

    d = tmp_path_factory.mktemp("tok")
    write_tokenizer(d, train_tokenizer(), 32768)
    assert all(s in (d / "tokenizer.json").read_text() for s in SPECIALS)
    return AutoTokenizer.from_pretrained(str(d), local_files_only=True)
