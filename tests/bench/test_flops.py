"""The cost model of bench/flops.py against torch's FLOP counter and the real Oryx-7B parameter count."""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from flops import (  # noqa: E402
    LLMDims,
    compressor_flops,
    llm_attn_flops,
    llm_flops,
    projector_flops,
    video_cost,
    vit_flops,
)
from oryx7b import oryx_config  # noqa: E402

from model.compressor import DynamicCompressor  # noqa: E402
from model.llm import build_llm  # noqa: E402
from model.oryx import OryxModel  # noqa: E402
from model.projector import Projector  # noqa: E402
from model.vit import OryxViT  # noqa: E402


def _counted(fn) -> int:  # noqa: ANN001
    with FlopCounterMode(display=False) as fc, torch.inference_mode():
        fn()
    return fc.get_total_flops()


def test_llm_dims_match_the_built_oryx_7b() -> None:
    cfg = oryx_config()
    with torch.device("meta"):
        m = OryxModel(cfg, None)
    assert LLMDims.of(cfg.llm).params == sum(p.numel() for p in m.llm.parameters()) == 7_615_616_512
    assert sum(p.numel() for p in m.vision_tower.parameters()) == 431_226_864  # reference §2.4: 431.2 M


def test_vit_flops_equal_the_counter_on_frames_and_packed_images() -> None:
    cfg = oryx_config(tiny=True).vision
    torch.manual_seed(0)
    vit = OryxViT(cfg, "eager").eval()
    frames = torch.randn(3, 3, 64, 128)
    assert _counted(lambda: vit.forward_frames(frames)) == vit_flops(cfg, [4 * 8] * 3)
    imgs = [torch.randn(3, 48, 80), torch.randn(3, 30, 20)]  # grids 3x5 and 2x2 (padded)
    assert _counted(lambda: vit.forward_packed(imgs)) == vit_flops(cfg, [15, 4])


def test_llm_flops_dense_part_and_attention_term() -> None:
    cfg = oryx_config(tiny=True)
    llm = build_llm(cfg, "eager").eval()
    d, n = LLMDims.of(cfg.llm), 37
    got = _counted(lambda: llm(inputs_embeds=torch.randn(1, n, d.hidden), logits_to_keep=1))
    full_square = 4 * d.layers * d.heads * d.head_dim * n * n  # eager multiplies every (masked) score
    rotary = 2 * (d.head_dim // 2) * n  # transformers 5.17 forms the rotary angles as a matmul, 5.24 does not
    assert got - (llm_flops(d, n) - llm_attn_flops(d, n) + full_square) in (0, rotary)
    assert llm_attn_flops(d, 1, past=10) == 4 * d.layers * d.heads * d.head_dim * 11  # one token, 11 keys


def test_compressor_and_projector_flops_equal_the_counter() -> None:
    cfg = oryx_config(tiny=True)
    comp, proj = DynamicCompressor(cfg.compressor).eval(), Projector(cfg.projector).eval()
    x = torch.randn(2, 4 * 8, cfg.compressor.dim)
    for ratio in (1, 4, 16):
        assert _counted(lambda r=ratio: comp(x, (4, 8), r)) == compressor_flops(
            cfg.compressor, 2, (4, 8), ratio
        )
    assert _counted(lambda: proj(x)) == projector_flops(cfg.projector, 2 * 32)


def test_videomme_sample_matches_the_reference_token_counts() -> None:
    c = video_cost(oryx_config(), frames=64, ratio=4, source_wh=(1280, 720))
    assert c.frame_wh == (640, 320) and c.vit_tokens == 64 * 20 * 40
    assert c.visual_tokens == 13_506  # reference §5: 64 frames of 1280x720 at 4x
    assert c.kv_bytes == (13_506 + 80) * 28 * 2 * 4 * 128 * 2
