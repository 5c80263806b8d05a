"""``oryx-eval view RUN_DIR``: write a self-contained HTML page of one run (thumbnails beside it)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from oryx_eval.errors import OryxEvalError


def view_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (results/<run_id>).")],
    output: Annotated[Path | None, typer.Option(help="Page folder (default: RUN_DIR/view).")] = None,
    max_thumbs: Annotated[int, typer.Option(help="Thumbnails per sample (0: every frame seen).")] = 8,
    thumb_px: Annotated[int, typer.Option(help="Thumbnail size (longest side, pixels).")] = 112,
) -> None:
    """Write RUN_DIR/view/index.html: summary, then every sample with the frames it saw."""
    from oryx_eval.viewer import write_view

    try:
        page = write_view(run_dir, output, max_thumbs=max_thumbs, thumb_px=thumb_px)
    except OryxEvalError as e:
        Console(stderr=True, soft_wrap=True).print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from None
    Console().print(f"wrote {page}")
