"""CUDA paths of the model (skipped without a GPU; bench/gpu_check.py runs them on the lent machine)."""

from __future__ import annotations

import pytest
import torch

from model import GenerationConfig, VideoMedia, load_oryx
from model.config import VisionConfig
from model.vit import OryxViT

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]
QUESTIONS = ["What color is the ball?", "How many people appear in the first frame?", "Describe the scene."]


@pytest.fixture
def no_tf32():  # noqa: ANN201 - float32 on the GPU compared with float32 on the CPU
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def test_gpu_load_places_everything_on_cuda_and_encodes_like_cpu(tiny_dir, make_frames, no_tf32) -> None:  # noqa: ANN001
    cpu, gpu = load_oryx(tiny_dir), load_oryx(tiny_dir, device="cuda")
    assert all(t.is_cuda for t in [*gpu.parameters(), *gpu.buffers()])
    media = VideoMedia(make_frames(4, 240, 320, seed=3))
    a, b = cpu.encode(media, 4).embeds, gpu.encode(media, 4).embeds
    assert b.is_cuda
    torch.testing.assert_close(b.cpu(), a, atol=1e-4, rtol=1e-4)


def test_gpu_generate_shared_equals_generate(tiny_dir, make_frames, no_tf32) -> None:  # noqa: ANN001
    m = load_oryx(tiny_dir, device="cuda")
    media, gen = VideoMedia(make_frames(4, 240, 320, seed=7)), GenerationConfig(max_new_tokens=8)
    shared = m.generate_shared(media, QUESTIONS, compression=4, gen=gen)
    alone = [m.generate(q, media, compression=4, gen=gen) for q in QUESTIONS]
    assert [o.token_ids for o in shared] == [o.token_ids for o in alone]
    assert shared[0].timings.vision > 0 and shared[0].timings.decode > 0


@pytest.mark.parametrize("backend", ["sdpa", "eager"])
def test_gpu_vit_bf16_close_to_fp32(backend: str) -> None:
    cfg = VisionConfig(width=64, depth=2, heads=4, mlp_dim=128)
    torch.manual_seed(0)
    ref = OryxViT(cfg, "sdpa").cuda().eval()
    vit = OryxViT(cfg, backend).cuda().eval()  # type: ignore[arg-type]
    vit.load_state_dict(ref.state_dict())
    vit = vit.to(torch.bfloat16)
    images = [torch.randn(3, 64, 96, device="cuda"), torch.randn(3, 40, 56, device="cuda")]  # packed varlen
    frames = torch.randn(3, 3, 48, 64, device="cuda")
    with torch.inference_mode():
        for out, exp in ((vit.forward_packed(images)[0], ref.forward_packed(images)[0]),
                         (vit.forward_frames(frames)[0], ref.forward_frames(frames)[0])):  # fmt: skip
            rel = ((out.float() - exp).norm() / exp.norm()).item()
            assert out.dtype == torch.bfloat16 and rel < 2e-2, rel
