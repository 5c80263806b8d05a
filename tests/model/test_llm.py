"""The KV-cache keyword follows the installed transformers (5.17 on the GPU machine: `past_key_values`)."""

from __future__ import annotations

import pytest
import torch

from model.llm import cache_kwarg


class _New(torch.nn.Module):
    def forward(self, input_ids=None, cache=None, **kwargs):  # noqa: ANN001, ANN003, ANN201
        return None


class _Old(torch.nn.Module):
    def forward(self, input_ids=None, past_key_values=None, **kwargs):  # noqa: ANN001, ANN003, ANN201
        return None


class _Neither(torch.nn.Module):
    def forward(self, input_ids=None, **kwargs):  # noqa: ANN001, ANN003, ANN201
        return None


def test_cache_kwarg_by_signature() -> None:
    assert cache_kwarg(_New()) == "cache"
    assert cache_kwarg(_Old()) == "past_key_values"  # transformers 5.17 would swallow `cache=` in kwargs
    with pytest.raises(TypeError, match="neither `cache` nor `past_key_values`"):
        cache_kwarg(_Neither())
