"""Vision-to-LLM projector and visual-token layout of Oryx (arXiv 2409.12961).

Reproduces `SimpleMlp` (`mm_projector_type = simple_mlp_twoview`) of the reference
`oryx/model/multimodal_projector/builder.py`: Linear -> exact GELU -> Linear, plus four learned marker
vectors (`image_newline`, `image_begin`, `image_end`, `image_sep`) that are embeddings, not vocabulary
tokens. Layouts:

- image: [begin] low-res rows, each + newline, [sep], high-res rows, each + newline, [end]
  -> 3 + hl(wl+1) + hh(wh+1) tokens.
- video: [begin] {frame rows each + newline, then [sep]} x T [end] -> 2 + T(h(w+1)+1) tokens.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from model.config import ProjectorConfig


class Projector(nn.Module):
    """Two-layer GELU MLP and the token layout helpers.

    Args:
        cfg: input (vision) and output (LLM hidden) dims.
    """

    def __init__(self, cfg: ProjectorConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.out_dim
        self.proj = nn.Sequential(nn.Linear(cfg.in_dim, d), nn.GELU(), nn.Linear(d, d))
        std = d**-0.5  # reference init: N(0, 1) * D^-0.5
        self.image_newline = nn.Parameter(torch.randn(d) * std)
        self.image_begin = nn.Parameter(torch.randn(d) * std)
        self.image_end = nn.Parameter(torch.randn(d) * std)
        self.image_sep = nn.Parameter(torch.randn(d) * std)

    def forward(self, x: Tensor) -> Tensor:
        """Project `(..., in_dim)` vision features to `(..., out_dim)` LLM embeddings."""
        if x.shape[-1] != self.cfg.in_dim:
            raise ValueError(f"projector input must end in {self.cfg.in_dim}, got shape {tuple(x.shape)}")
        return self.proj(x)

    def _marker(self, p: nn.Parameter, like: Tensor) -> Tensor:
        return p.to(dtype=like.dtype, device=like.device)[None]  # (1, D)

    def _rows_with_newline(self, x: Tensor, grid: tuple[int, int], what: str) -> Tensor:
        """`(N, h*w, D)` -> `(N, h*(w+1), D)`: append `image_newline` after every grid row."""
        if x.dim() != 3:
            raise ValueError(f"{what}: expected a 3-D (N, h*w, D) tensor, got shape {tuple(x.shape)}")
        n, hw, d = x.shape
        h, w = int(grid[0]), int(grid[1])
        if hw != h * w or d != self.cfg.out_dim:
            raise ValueError(
                f"{what}: expected (.., {h}*{w}, {self.cfg.out_dim}) for grid {grid}, got {tuple(x.shape)}"
            )
        rows = x.reshape(n, h, w, d)  # (N, h, w, D)
        nl = self._marker(self.image_newline, x).expand(n, h, 1, d)  # (N, h, 1, D)
        return torch.cat([rows, nl], dim=2).reshape(n, h * (w + 1), d)

    def layout_image(
        self, low: Tensor, low_grid: tuple[int, int], high: Tensor, high_grid: tuple[int, int]
    ) -> Tensor:
        """Lay out the two projected views of one image.

        Args:
            low: `(hl*wl, D)` projected low-res view.
            low_grid: (hl, wl).
            high: `(hh*wh, D)` projected high-res view.
            high_grid: (hh, wh).

        Returns:
            `(3 + hl*(wl+1) + hh*(wh+1), D)`: [begin] low rows + newlines [sep] high rows + newlines [end].
        """
        if low.dim() != 2 or high.dim() != 2:
            raise ValueError(
                f"layout_image: low/high must be (N, D), got {tuple(low.shape)}, {tuple(high.shape)}"
            )
        lo = self._rows_with_newline(low[None], low_grid, "layout_image low")[0]  # (hl*(wl+1), D)
        hi = self._rows_with_newline(high[None], high_grid, "layout_image high")[0]  # (hh*(wh+1), D)
        begin, sep, end = (self._marker(p, low) for p in (self.image_begin, self.image_sep, self.image_end))
        return torch.cat([begin, lo, sep, hi, end], dim=0)

    def layout_video(self, frames: Tensor, grid: tuple[int, int]) -> Tensor:
        """Lay out the projected frames of one video.

        Args:
            frames: `(T, h*w, D)` projected (compressed) frame features in time order.
            grid: (h, w) of each frame.

        Returns:
            `(2 + T*(h*(w+1) + 1), D)`: [begin] {frame rows + newlines, [sep]} x T [end].
        """
        t = frames.shape[0]
        rows = self._rows_with_newline(frames, grid, "layout_video")  # (T, h*(w+1), D)
        sep = self._marker(self.image_sep, frames).expand(t, 1, rows.shape[-1])  # (T, 1, D)
        body = torch.cat([rows, sep], dim=1).reshape(-1, rows.shape[-1])  # (T*(h*(w+1)+1), D)
        begin, end = self._marker(self.image_begin, frames), self._marker(self.image_end, frames)
        return torch.cat([begin, body, end], dim=0)
