"""Small explicit registries of named objects; unknown names raise, listing the valid ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from oryx_eval.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> object table filled by a decorator in an explicitly imported module."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering ``obj`` under ``name``; a duplicate name is a programming error."""

        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return deco

    def get(self, name: str) -> T:
        """Return the object registered as ``name`` or raise ``UnknownNameError``."""
        try:
            return self._items[name]
        except KeyError:
            valid = ", ".join(sorted(self._items)) or "(none)"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; valid: {valid}") from None

    def names(self) -> list[str]:
        """Sorted registered names."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items


DATASETS: Registry[Callable] = Registry("dataset")
SCORERS: Registry[Callable] = Registry("scorer")
METRICS: Registry[Callable] = Registry("metric")
EXTRACTORS: Registry[Callable] = Registry("extractor")
BACKENDS: Registry[Callable] = Registry("backend")
REPORTS: Registry[Callable] = Registry("report")
GENERATORS: Registry[Callable] = Registry("media generator")
CONTEXTS: Registry[Callable] = Registry("prompt context")
"""``(sample, media: list[LoadedMedia], **args) -> dict[str, str]``: template fields computed after the media
are loaded (e.g. the subtitles of the frames the model sees); its ``fields`` attribute names them."""
DATA_CHECKS: Registry[Callable] = Registry("data check")
"""Per reader name: ``(samples, **reader_args) -> benchmarks.checks.DataExpectations`` (expected rows, extra
files such as subtitles) used by ``oryx-eval data check``."""
