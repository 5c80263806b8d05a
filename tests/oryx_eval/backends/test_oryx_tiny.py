"""A `train-tiny` output: bit-exact round trip through the writer/loader, and the backends that load it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from tokenizers import Tokenizer

from model import load_oryx
from model.writer import save_oryx
from oryx_eval.backends.oryx_tiny import SHIPPED
from oryx_eval.errors import BackendError
from oryx_eval.registry import BACKENDS
from oryx_eval.runner import build_backend
from oryx_eval.training.train import TrainConfig, train_tiny


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("trained") / "ckpt"
    cfg = TrainConfig(steps=2, batch=2, frame_counts=(1,), val_per_kind=1, val_every=2)
    record = train_tiny(cfg, out)
    assert len(record["losses"]) == 2 and record["validation"][-1]["step"] == 2
    return out


def _files(d: Path) -> dict[str, torch.Tensor]:
    out = {f"{f.name}:{k}": t for f in sorted(d.glob("*.safetensors")) for k, t in load_file(f).items()}
    vit = torch.load(d / "oryx_vit.pth", weights_only=True)
    return out | {f"oryx_vit.pth:{k}": t for k, t in vit.items()}


def test_trained_checkpoint_round_trips_bit_exactly(trained: Path, tmp_path: Path) -> None:
    model = load_oryx(trained)
    cfg = json.loads((trained / "config.json").read_text())
    save_oryx(model, tmp_path, cfg, Tokenizer.from_file(str(trained / "tokenizer.json")))
    written, again = _files(trained), _files(tmp_path)
    assert written.keys() == again.keys()
    assert all(written[k].dtype == again[k].dtype and torch.equal(written[k], again[k]) for k in written)
    reloaded = load_oryx(tmp_path).state_dict()
    assert all(torch.equal(t, reloaded[k]) for k, t in model.state_dict().items())


def test_backends_record_what_they_are(trained: Path, tmp_path: Path) -> None:
    desc = BACKENDS.get("oryx-tiny-trained")(cache_dir=str(tmp_path), model_path=str(trained)).describe()
    assert desc["random_weights"] is False and "not Oryx's accuracy" in desc["note"]
    assert desc["training"]["command"].startswith("oryx-eval train-tiny")
    assert desc["args"]["video_max_side"] == 64  # the resolution it was trained at
    rand = BACKENDS.get("oryx-tiny-random")(cache_dir=str(tmp_path)).describe()
    assert rand["name"] == "oryx-tiny-random" and rand["random_weights"] is True
    assert "NOT Oryx's accuracy" in rand["note"]
    with pytest.raises(BackendError, match="train_record.json"):
        BACKENDS.get("oryx-tiny-trained")(cache_dir=str(tmp_path), model_path=str(tmp_path))
    with pytest.raises(BackendError, match="--model-path"):
        BACKENDS.get("oryx-tiny-trained")(cache_dir=str(tmp_path))


def test_oryx_tiny_is_the_shipped_trained_checkpoint(tmp_path: Path) -> None:
    desc = BACKENDS.get("oryx-tiny")(cache_dir=str(tmp_path)).describe()
    assert desc["name"] == "oryx-tiny" and desc["random_weights"] is False
    assert "not Oryx's accuracy" in desc["note"]
    assert Path(desc["args"]["model_path"]) == SHIPPED
    assert desc["training"]["command"] == json.loads((SHIPPED / "train_record.json").read_text())["command"]
    with pytest.raises(BackendError, match="unknown argument 'seed'"):  # trained: no weight seed to pick
        build_backend("oryx-tiny", {"seed": 1}, tmp_path)
