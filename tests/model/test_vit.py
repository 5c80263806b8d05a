"""Tests for model/vit.py: equivalence with transformers' SigLIP body, packing, chunked frames, padding."""

from __future__ import annotations

import pytest
import torch
from transformers import SiglipVisionConfig, SiglipVisionModel

from model.config import VisionConfig
from model.vit import OryxViT

G = 4  # tiny pos grid: native input is 64x64
CFG = VisionConfig(width=64, depth=2, heads=4, mlp_dim=128, patch=16, pos_grid=G, ln_eps=1e-6)


def _vit(backend: str = "sdpa", seed: int = 0) -> OryxViT:
    torch.manual_seed(seed)
    vit = OryxViT(CFG, attn_backend=backend).eval()  # type: ignore[arg-type]
    with torch.no_grad():  # randomise every tensor, layer norms included, so the mapping is really exercised
        for p in vit.parameters():
            p.copy_(torch.randn_like(p) * 0.2)
    return vit


def _images(sizes: list[tuple[int, int]], seed: int = 1) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(3, h, w, generator=g) * 2 - 1 for h, w in sizes]


def test_parameter_names_are_the_checkpoint_keys() -> None:
    keys = set(_vit().state_dict())
    expected = {"patch_embed.proj.weight", "patch_embed.proj.bias", "pos_embed"}
    for i in range(CFG.depth):
        for mod in ("norm1", "attn.qkv", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2"):
            expected |= {f"blocks.{i}.{mod}.weight", f"blocks.{i}.{mod}.bias"}
    assert keys == expected
    assert _vit().state_dict()["pos_embed"].shape == (1, G * G, CFG.width)


def _siglip_from(vit: OryxViT) -> SiglipVisionModel:
    scfg = SiglipVisionConfig(
        hidden_size=CFG.width,
        intermediate_size=CFG.mlp_dim,
        num_hidden_layers=CFG.depth,
        num_attention_heads=CFG.heads,
        patch_size=CFG.patch,
        image_size=G * CFG.patch,
        hidden_act="gelu",
        layer_norm_eps=CFG.ln_eps,
    )
    sig = SiglipVisionModel(scfg).eval()
    target = sig.state_dict()
    prefix = next(k for k in target if k.endswith("embeddings.patch_embedding.weight")).removesuffix(
        "embeddings.patch_embedding.weight"
    )
    ours = vit.state_dict()
    mapped = {
        "embeddings.patch_embedding.weight": ours["patch_embed.proj.weight"],
        "embeddings.patch_embedding.bias": ours["patch_embed.proj.bias"],
        "embeddings.position_embedding.weight": ours["pos_embed"][0],  # (G*G, C)
    }
    for i in range(CFG.depth):
        src, dst = f"blocks.{i}.", f"encoder.layers.{i}."
        for a, b in (
            ("norm1", "layer_norm1"),
            ("norm2", "layer_norm2"),
            ("mlp.fc1", "mlp.fc1"),
            ("mlp.fc2", "mlp.fc2"),
        ):
            for t in ("weight", "bias"):
                mapped[f"{dst}{b}.{t}"] = ours[f"{src}{a}.{t}"]
        for t in ("weight", "bias"):
            q, k, v = ours[f"{src}attn.qkv.{t}"].chunk(3, dim=0)  # fused rows are [q; k; v]
            mapped[f"{dst}self_attn.q_proj.{t}"] = q
            mapped[f"{dst}self_attn.k_proj.{t}"] = k
            mapped[f"{dst}self_attn.v_proj.{t}"] = v
            mapped[f"{dst}self_attn.out_proj.{t}"] = ours[f"{src}attn.proj.{t}"]
    missing = sig.load_state_dict({prefix + k: v for k, v in mapped.items()}, strict=False).missing_keys
    assert all("post_layernorm" in k or ".head." in k or k.startswith("head.") for k in missing), missing
    return sig


@pytest.mark.parametrize("backend", ["sdpa", "eager"])
def test_matches_siglip_body_at_native_grid(backend: str) -> None:
    vit = _vit(backend)
    sig = _siglip_from(vit)
    img = _images([(G * 16, G * 16)])[0]
    with torch.inference_mode():
        ours, grids = vit.forward_packed([img])
        hs = sig(pixel_values=img[None], output_hidden_states=True).hidden_states
    assert grids == [(G, G)]
    assert len(hs) == CFG.depth + 1
    torch.testing.assert_close(ours, hs[-1][0], atol=1e-5, rtol=1e-5)
    # the last hidden state differs from the post-LN output, so the comparison would catch a stray final norm
    assert not torch.allclose(ours, sig(pixel_values=img[None]).last_hidden_state[0], atol=1e-3)


SIZES = [(64, 64), (32, 80), (48, 16), (40, 56)]


@pytest.mark.parametrize("backend", ["sdpa", "eager"])
def test_packed_equals_each_image_alone(backend: str) -> None:
    vit = _vit(backend)
    imgs = _images(SIZES)
    with torch.inference_mode():
        packed, grids = vit.forward_packed(imgs)
        alone = [vit.forward_packed([im]) for im in imgs]
    assert grids == [(4, 4), (2, 5), (3, 1), (3, 4)]
    assert packed.shape == (sum(h * w for h, w in grids), CFG.width)
    for part, (feat, grid), g in zip(packed.split([h * w for h, w in grids]), alone, grids, strict=True):
        assert grid == [g]
        torch.testing.assert_close(part, feat, atol=1e-5, rtol=1e-5)


def test_packed_backends_agree() -> None:
    imgs = _images(SIZES, seed=7)
    with torch.inference_mode():
        a, _ = _vit("sdpa").forward_packed(imgs)
        b, _ = _vit("eager").forward_packed(imgs)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_padding_grid_and_zero_fill() -> None:
    vit = _vit()
    img = _images([(40, 56)])[0]
    padded = torch.zeros(3, 48, 64)
    padded[:, :40, :56] = img
    with torch.inference_mode():
        feat, grids = vit.forward_packed([img])
        ref, ref_grids = vit.forward_packed([padded])
    assert grids == [(3, 4)] == ref_grids
    torch.testing.assert_close(feat, ref, atol=0, rtol=0)


def test_frames_chunked_equals_unchunked_and_packed() -> None:
    vit = _vit()
    g = torch.Generator().manual_seed(3)
    frames = torch.rand(5, 3, 32, 48, generator=g) * 2 - 1
    with torch.inference_mode():
        full, grid = vit.forward_frames(frames, chunk_size=64)
        chunked, grid2 = vit.forward_frames(frames, chunk_size=2)
        per_frame = [vit.forward_packed([f])[0] for f in frames]
    assert grid == grid2 == (2, 3)
    assert full.shape == (5, 6, CFG.width)
    torch.testing.assert_close(chunked, full, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(full, torch.stack(per_frame), atol=1e-5, rtol=1e-5)


def test_frames_eager_matches_sdpa() -> None:
    frames = torch.rand(3, 3, 32, 32) * 2 - 1
    with torch.inference_mode():
        a, _ = _vit("sdpa").forward_frames(frames, chunk_size=2)
        b, _ = _vit("eager").forward_frames(frames, chunk_size=2)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_runs_in_module_dtype() -> None:
    vit = _vit().to(torch.bfloat16)
    with torch.inference_mode():
        feat, _ = vit.forward_packed(_images([(32, 48)]))
        frames, _ = vit.forward_frames(torch.zeros(2, 3, 32, 32), chunk_size=1)
    assert feat.dtype == frames.dtype == torch.bfloat16
    assert torch.isfinite(feat.float()).all()


def test_bad_inputs_raise_clear_errors() -> None:
    vit = _vit()
    with pytest.raises(ValueError, match="not a multiple of the patch size 16"):
        vit.forward_frames(torch.zeros(2, 3, 40, 48))
    with pytest.raises(ValueError, match=r"images\[1\]: expected a \(3, H, W\)"):
        vit.forward_packed([torch.zeros(3, 16, 16), torch.zeros(1, 3, 16, 16)])
    with pytest.raises(ValueError, match="images is empty"):
        vit.forward_packed([])
    with pytest.raises(ValueError, match="chunk_size"):
        vit.forward_frames(torch.zeros(1, 3, 16, 16), chunk_size=0)
    with pytest.raises(ValueError, match="unknown attention backend"):
        OryxViT(CFG, attn_backend="fast")  # type: ignore[arg-type]
