"""Tests for model/weights.py: round trip, ViT sources, and clear errors on corrupted checkpoints."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from model import CheckpointError, OryxModel, load_oryx
from model.config import OryxConfig

SHARD2 = "model-00002-of-00002.safetensors"


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _independent_state(ckpt: Path) -> dict[str, torch.Tensor]:
    """OryxModel state dict built straight from the files with this test's own key mapping."""
    out: dict[str, torch.Tensor] = {}
    for f in sorted(ckpt.glob("model-*.safetensors")):
        for k, t in load_file(f).items():
            if k.startswith("model.vision_tower.vision_tower."):
                continue  # the .pth copy is used
            for src, dst in (
                ("model.vision_resampler.", "vision_resampler."),
                ("model.mm_projector.", "mm_projector."),
            ):
                if k.startswith(src):
                    out[dst + k[len(src) :]] = t.float()
                    break
            else:
                out["llm." + k] = t.float()
    vit = torch.load(ckpt / "oryx_vit.pth", weights_only=True)
    out |= {
        "vision_tower." + k: t.float() for k, t in vit.items() if not k.startswith(("norm.", "attn_pool."))
    }
    return out


def _logits(m: OryxModel, frames) -> torch.Tensor:  # noqa: ANN001
    from model import VideoMedia

    with torch.inference_mode():
        seq = m.encode(VideoMedia(frames), 4)
        ids = torch.tensor([m.tokenizer("<|im_start|>user\nWhat?").input_ids])
        emb = torch.cat([seq.embeds[None], m.llm.get_input_embeddings()(ids)], dim=1)
        return m.llm(inputs_embeds=emb.to(m.llm.dtype)).logits.float()


def test_round_trip_equals_in_memory_model(tiny_dir: Path, tiny_model: OryxModel, make_frames) -> None:  # noqa: ANN001
    cfg = OryxConfig.from_hf_dict(json.loads((tiny_dir / "config.json").read_text()))
    ref = OryxModel(cfg, tiny_model.tokenizer)
    ref.load_state_dict(_independent_state(tiny_dir), strict=True)
    ref.eval()
    for k, v in ref.state_dict().items():
        torch.testing.assert_close(tiny_model.state_dict()[k], v, rtol=0, atol=0, msg=k)
    frames = make_frames(2, 240, 320)
    torch.testing.assert_close(_logits(tiny_model, frames), _logits(ref, frames), rtol=0, atol=0)
    assert all(p.dtype == torch.float32 and not p.requires_grad for p in tiny_model.parameters())
    assert not tiny_model.training


def test_bf16_load(tiny_dir: Path) -> None:
    m = load_oryx(tiny_dir, dtype=torch.bfloat16)
    assert {p.dtype for p in m.parameters()} == {torch.bfloat16}
    assert m.llm.model.rotary_emb.inv_freq.dtype == torch.float32  # rotary table recomputed in fp32
    assert len(m.generate("Hi", None).token_ids) >= 1


def test_vit_from_shards_and_from_explicit_paths(
    tiny_dir: Path, tiny_model: OryxModel, tmp_path: Path
) -> None:
    ref = tiny_model.vision_tower.state_dict()
    no_pth = _copy(tiny_dir, tmp_path / "no_pth")
    (no_pth / "oryx_vit.pth").unlink()  # falls back to model.vision_tower.vision_tower.* in the shards
    for k, v in load_oryx(no_pth).vision_tower.state_dict().items():
        assert torch.equal(v, ref[k]), k
    other = tmp_path / "elsewhere"
    other.mkdir()
    doubled = {k: v * 2 for k, v in torch.load(tiny_dir / "oryx_vit.pth", weights_only=True).items()}
    torch.save(doubled, other / "oryx_vit.pth")
    via_arg = load_oryx(tiny_dir, vit_path=other)  # explicit directory
    assert torch.equal(via_arg.vision_tower.pos_embed, ref["pos_embed"] * 2)
    cfg = json.loads((no_pth / "config.json").read_text())
    cfg["mm_vision_tower"] = f"oryx_vit:{other / 'oryx_vit.pth'}"  # absolute path honoured when it exists
    (no_pth / "config.json").write_text(json.dumps(cfg))
    assert torch.equal(load_oryx(no_pth).vision_tower.pos_embed, ref["pos_embed"] * 2)
    with pytest.raises(CheckpointError, match="vit_path .* does not exist"):
        load_oryx(tiny_dir, vit_path=tmp_path / "nope.pth")


def test_single_file_checkpoint(tiny_dir: Path, tiny_model: OryxModel, tmp_path: Path) -> None:
    one = _copy(tiny_dir, tmp_path / "single")
    merged: dict[str, torch.Tensor] = {}
    for f in sorted(one.glob("model-*.safetensors")):
        merged |= load_file(f)
        f.unlink()
    (one / "model.safetensors.index.json").unlink()
    save_file(merged, str(one / "model.safetensors"))
    m = load_oryx(one)
    assert torch.equal(m.llm.lm_head.weight, tiny_model.llm.lm_head.weight)


def _rewrite_shard(ckpt: Path, edit) -> None:  # noqa: ANN001
    tensors = load_file(ckpt / SHARD2)
    edit(tensors)
    save_file(tensors, str(ckpt / SHARD2), metadata={"format": "pt"})


def test_missing_unexpected_and_wrong_shape_are_listed(tiny_dir: Path, tmp_path: Path) -> None:
    bad = _copy(tiny_dir, tmp_path / "bad")

    def edit(t: dict[str, torch.Tensor]) -> None:
        del t["model.mm_projector.image_newline"]
        t["model.layers.7.self_attn.q_proj.weight"] = torch.zeros(2, 2)
        t["model.mm_projector.image_sep"] = torch.zeros(5)

    _rewrite_shard(bad, edit)
    with pytest.raises(CheckpointError) as e:
        load_oryx(bad)
    msg = str(e.value)
    assert "1 missing keys, 1 unexpected keys, 1 shape mismatches" in msg
    assert "mm_projector.image_newline" in msg
    assert f"model.layers.7.self_attn.q_proj.weight ({SHARD2})" in msg
    assert "model.mm_projector.image_sep" in msg and "checkpoint (5,) vs model (64,)" in msg


def test_truncated_and_absent_shards(tiny_dir: Path, tmp_path: Path) -> None:
    bad = _copy(tiny_dir, tmp_path / "trunc")
    data = (bad / SHARD2).read_bytes()
    (bad / SHARD2).write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=f"cannot read shard .*{SHARD2}"):
        load_oryx(bad)
    (bad / SHARD2).unlink()
    with pytest.raises(CheckpointError, match=f"shard files listed but not present: \\['{SHARD2}'\\]"):
        load_oryx(bad)
    with pytest.raises(CheckpointError, match="no config.json"):
        load_oryx(tmp_path)


def test_vit_ignore_rule_and_unknown_vit_key(tiny_dir: Path, tmp_path: Path) -> None:
    vit = torch.load(tiny_dir / "oryx_vit.pth", weights_only=True)
    assert any(k.startswith("norm.") for k in vit) and any(k.startswith("attn_pool.") for k in vit)
    assert vit["pos_embed"].dtype == torch.bfloat16  # loads fine above: extras dropped by the documented rule
    bad = _copy(tiny_dir, tmp_path / "vitbad")
    vit["blocks.0.attn.q_norm.weight"] = torch.ones(32, dtype=torch.bfloat16)
    torch.save(vit, bad / "oryx_vit.pth")
    with pytest.raises(
        CheckpointError, match=r"unexpected.*\n\s+blocks\.0\.attn\.q_norm\.weight \(oryx_vit\.pth\)"
    ):
        load_oryx(bad)


def test_missing_vit_everywhere_names_the_search(tiny_dir: Path, tmp_path: Path) -> None:
    bad = _copy(tiny_dir, tmp_path / "novit")
    (bad / "oryx_vit.pth").unlink()
    _rewrite_shard(bad, lambda t: [t.pop(k) for k in list(t) if k.startswith("model.vision_tower.")])
    with pytest.raises(
        CheckpointError,
        match=r"27 missing keys(.|\n)*vision_tower\.blocks\.0\.attn(.|\n)*no oryx_vit.pth found",
    ):
        load_oryx(bad)


def test_unknown_model_type(tiny_dir: Path, tmp_path: Path) -> None:
    bad = _copy(tiny_dir, tmp_path / "mt")
    cfg = json.loads((bad / "config.json").read_text())
    cfg["model_type"] = "llava"
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="model_type 'llava' is not an Oryx model"):
        load_oryx(bad)


def test_tied_embeddings_need_no_lm_head(tiny_dir: Path, tiny_model: OryxModel, tmp_path: Path) -> None:
    tied = _copy(tiny_dir, tmp_path / "tied")
    cfg = json.loads((tied / "config.json").read_text())
    cfg["tie_word_embeddings"] = True
    (tied / "config.json").write_text(json.dumps(cfg))
    index = json.loads((tied / "model.safetensors.index.json").read_text())
    shard = index["weight_map"].pop("lm_head.weight")
    (tied / "model.safetensors.index.json").write_text(json.dumps(index))
    tensors = load_file(tied / shard)
    del tensors["lm_head.weight"]
    save_file(tensors, str(tied / shard), metadata={"format": "pt"})
    m = load_oryx(tied)
    assert torch.equal(m.llm.lm_head.weight, tiny_model.llm.model.embed_tokens.weight)
    assert len(m.generate("Hi", None).token_ids) >= 1
