"""Tests for model/config.py: config.json keys that change how the reference truncates."""

from __future__ import annotations

import pytest

from model.config import OryxConfig

BASE = {"model_type": "oryx_qwen", "hidden_size": 64, "tokenizer_model_max_length": 4096}


def test_max_length_is_tokenizer_model_max_length() -> None:
    assert OryxConfig.from_hf_dict(BASE).max_length == 4096
    assert OryxConfig.from_hf_dict({**BASE, "modality_max_length": "None"}).max_length == 4096


def test_per_modality_truncation_is_rejected() -> None:
    # with modality_max_length set, the reference truncates per modality and ignores the max length
    with pytest.raises(ValueError, match="modality_max_length .*not supported"):
        OryxConfig.from_hf_dict({**BASE, "modality_max_length": "[4096, 2048, 16384]"})
