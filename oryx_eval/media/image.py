"""Image loading for image tasks (OCRBench-style inputs): a file path -> a fully decoded PIL RGB image.

Mirrors what Oryx's image adapter feeds its preprocessing (``PIL.Image.open(...).convert("RGB")``), with
failures raised as ``MediaError`` naming the file instead of surfacing later inside the model.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from oryx_eval.errors import MediaError


def load_image(path: str | os.PathLike[str]) -> Image.Image:
    """Open and fully decode an image file as RGB.

    Palette/alpha/grayscale/CMYK images are converted with PIL's ``convert("RGB")`` (alpha is dropped,
    not composited), as in the reference.

    Args:
        path: Image file (any format Pillow reads).

    Returns:
        A loaded ``PIL.Image.Image`` in mode ``RGB`` (detached from the file).

    Raises:
        MediaError: missing file, unknown format, or truncated/corrupt image data.
    """
    p = Path(path)
    if not p.is_file():
        raise MediaError(f"{path}: image file not found")
    try:
        with Image.open(p) as img:
            img.load()  # decode now: truncated data raises here, not later in preprocessing
            return img.convert("RGB")
    except UnidentifiedImageError as e:
        raise MediaError(f"{path}: not a readable image ({e})") from e
    except (OSError, SyntaxError, ValueError) as e:  # Pillow reports truncated/corrupt data as these
        raise MediaError(f"{path}: corrupt or truncated image: {e}") from e
