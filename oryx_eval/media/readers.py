"""The video reader registry: backend name -> reader class (PyAV built in; torchcodec and decord import
their optional package only when a reader is built)."""

from __future__ import annotations

from oryx_eval.errors import TaskConfigError
from oryx_eval.media.optional_readers import DecordReader, TorchcodecReader
from oryx_eval.media.pyav_reader import PyAVReader
from oryx_eval.media.video import VideoReader

READERS: dict[str, type[PyAVReader] | type[TorchcodecReader] | type[DecordReader]] = {
    "pyav": PyAVReader,
    "torchcodec": TorchcodecReader,
    "decord": DecordReader,
}


def get_reader(backend: str, mode: str = "exact") -> VideoReader:
    """Build the reader for a backend name, checking it supports ``mode``.

    Args:
        backend: ``pyav``, ``torchcodec`` or ``decord``.
        mode: Sampling mode that will be requested.

    Raises:
        TaskConfigError: unknown backend, or a mode the backend does not implement.
        PrerequisiteError: the backend's optional package is not installed (with the pip command).
    """
    if backend not in READERS:
        raise TaskConfigError(f"unknown video backend {backend!r}; valid: {', '.join(sorted(READERS))}")
    cls = READERS[backend]
    reader: VideoReader = cls()
    modes = cls.modes
    if mode not in modes:
        raise TaskConfigError(
            f"frame sampling mode {mode!r} is not supported by video backend {backend!r} "
            f"(supported: {', '.join(modes)})"
        )
    return reader
