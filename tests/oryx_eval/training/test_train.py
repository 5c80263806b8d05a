"""`train_tiny --init-from`: continuing a `train-tiny` output (its weights, lineage, and the checks)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from model import load_oryx
from oryx_eval.errors import OryxEvalError
from oryx_eval.training.loop import OptimConfig
from oryx_eval.training.model_setup import TinyDims
from oryx_eval.training.train import TrainConfig, train_tiny

SMALL = TrainConfig(steps=1, batch=2, frame_counts=(1,), kinds=("shape",), val_per_kind=1, val_every=1)


@pytest.fixture(scope="module")
def parent(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("parent") / "p"
    train_tiny(SMALL, out)
    return out


def test_continuing_at_learning_rate_zero_keeps_the_parents_weights(parent: Path, tmp_path: Path) -> None:
    # lr 0: AdamW moves nothing (its decay is lr-scaled), so the child must equal the parent bit for bit,
    # which fails if --init-from fell back to the seeded initialisation
    cfg = dataclasses.replace(SMALL, seed=5, init_from=str(parent), opt=OptimConfig(lr=0.0))
    record = train_tiny(cfg, tmp_path / "child")
    a, b = load_oryx(parent).state_dict(), load_oryx(tmp_path / "child").state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    parent_cmd = json.loads((parent / "train_record.json").read_text())["command"]
    assert record["init_from"]["digest"] and record["init_from"]["path"] == str(parent)
    assert record["rebuild"] == [f"{parent_cmd} --out {parent}", cfg.command()]
    assert cfg.command().endswith(f"--init-from {parent}")


def test_continuing_with_other_dims_is_refused_naming_the_field(parent: Path, tmp_path: Path) -> None:
    dims = TinyDims(compressor_mid=16)
    with pytest.raises(OryxEvalError, match="--init-from .*dims"):
        train_tiny(dataclasses.replace(SMALL, dims=dims, init_from=str(parent)), tmp_path / "child")
    assert not (tmp_path / "child").exists()
