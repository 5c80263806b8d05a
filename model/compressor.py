"""Dynamic compressor of Oryx (arXiv 2409.12961, Eq. 1).

Reproduces `DynamicCompressor` in the reference `oryx/model/multimodal_resampler/perceiver.py`: the
feature grid is average-pooled k x k (k = 1, 2, 4 for 1x, 4x, 16x token reduction), each pooled cell is a
single query that attends over the k^2 raw features of its own window (Q/K projections to `mid` dims, no
value or output projection), and the attended features are added back to the pooled ones. With k = 1 the
softmax is over one token, so the output is exactly 2 * x (the trained projector expects that).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from model.config import CompressorConfig

# token reduction ratio -> pooling window side k
RATIO_TO_K: dict[int, int] = {1: 1, 4: 2, 16: 4}


class DynamicCompressor(nn.Module):
    """Pool k x k, then one-query local attention back into the window.

    Args:
        cfg: feature dim and Q/K projection dim (`mid` = 256 in the released model).
    """

    def __init__(self, cfg: CompressorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.vlm_query_projector = nn.Linear(cfg.dim, cfg.mid, bias=True)
        self.vlm_key_projector = nn.Linear(cfg.dim, cfg.mid, bias=True)

    def forward(self, x: Tensor, grid_hw: tuple[int, int], ratio: int) -> tuple[Tensor, tuple[int, int]]:
        """Compress a feature grid by `ratio`.

        Args:
            x: `(T, h*w, C)` features, row-major over the (h, w) grid.
            grid_hw: the grid (h, w).
            ratio: token reduction, one of 1, 4, 16 (window side k = 1, 2, 4).

        Returns:
            `(T, (h/k)*(w/k), C)` compressed features and the new grid (h/k, w/k).

        Raises:
            ValueError: unknown ratio, k not dividing h or w, or x not matching the grid.
        """
        if ratio not in RATIO_TO_K:
            raise ValueError(f"compression ratio must be one of {sorted(RATIO_TO_K)}, got {ratio}")
        k = RATIO_TO_K[ratio]
        h, w = int(grid_hw[0]), int(grid_hw[1])
        if x.dim() != 3 or x.shape[1] != h * w or x.shape[2] != self.cfg.dim:
            raise ValueError(
                f"compressor input must be (T, {h}*{w}, {self.cfg.dim}) for grid {grid_hw}, "
                f"got {tuple(x.shape)}"
            )
        if h % k or w % k:
            raise ValueError(
                f"grid {h}x{w} is not divisible by the {k}x{k} window of compression ratio {ratio}"
            )
        t, _, c = x.shape
        hk, wk = h // k, w // k
        grid = x.view(t, h, w, c).permute(0, 3, 1, 2)  # (T, C, h, w)
        pooled = F.avg_pool2d(grid, k, k) if k > 1 else grid  # (T, C, h/k, w/k)
        pooled = pooled.flatten(2).transpose(1, 2)  # (T, n, C), n = h/k * w/k, row-major
        window = (  # (T, n, k*k, C): the window's raw tokens, row-major inside the window
            x.view(t, hk, k, wk, k, c).permute(0, 1, 3, 2, 4, 5).reshape(t, hk * wk, k * k, c)
        )
        q = self.vlm_query_projector(pooled)  # (T, n, mid)
        keys = self.vlm_key_projector(window)  # (T, n, k*k, mid)
        keys = keys / keys.shape[-1] ** 0.5  # the reference scales K by 1/sqrt(mid) before the product
        logits = (q.unsqueeze(2) @ keys.transpose(-1, -2)).squeeze(2)  # (T, n, k*k)
        attn = logits.nan_to_num().softmax(dim=-1)  # (T, n, k*k)
        attended = (attn.unsqueeze(2) @ window).squeeze(2)  # (T, n, C); values are the raw features
        return pooled + attended, (hk, wk)
