"""Resolution-free position embeddings of OryxViT (Oryx, arXiv 2409.12961).

Reproduces the pos-embed rescaling in the reference `oryx/model/multimodal_encoder/oryx_vit.py`: the
learned (1, G*G, C) table (G = 128 for the released ViT) is viewed as a G x G grid and bilinearly resized to
the patch grid of each image, computed in the table's own dtype (bf16 at inference in the reference).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def resample_pos_embed(table: Tensor, grid_hw: tuple[int, int]) -> Tensor:
    """Resize a square position table to an (h, w) patch grid.

    Args:
        table: `(1, G*G, C)` learned table, row-major (index = row * G + col).
        grid_hw: target patch grid (h, w), both >= 1.

    Returns:
        `(h*w, C)` position embeddings in the table's dtype, row-major. The table itself (as a view) when
        (h, w) == (G, G); otherwise bilinear, align_corners=False, no antialias.

    Raises:
        ValueError: if the table is not `(1, G*G, C)` for an integer G, or the grid is empty.
    """
    if table.dim() != 3 or table.shape[0] != 1:
        raise ValueError(f"pos_embed table must be (1, G*G, C), got {tuple(table.shape)}")
    n, c = table.shape[1], table.shape[2]
    g = int(round(n**0.5))
    if g * g != n:
        raise ValueError(f"pos_embed table has {n} positions, not a square grid")
    h, w = int(grid_hw[0]), int(grid_hw[1])
    if h < 1 or w < 1:
        raise ValueError(f"grid_hw must be positive, got {grid_hw}")
    if (h, w) == (g, g):
        return table[0]  # (G*G, C)
    grid = table.reshape(1, g, g, c).permute(0, 3, 1, 2)  # (1, C, G, G)
    out = F.interpolate(
        grid, size=(h, w), mode="bilinear", align_corners=False, antialias=False
    )  # (1, C, h, w)
    return out[0].permute(1, 2, 0).reshape(h * w, c)  # (h*w, C)
