"""The backend protocol: one `generate(requests) -> results` method (cf. inspect_ai's ModelAPI)."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from oryx_eval.records import Generation, Request


@runtime_checkable
class Backend(Protocol):
    """A model the runner can call.

    Requests passed in one call share their media (same ``media_key``) when the scheduler could group
    them, so a backend may encode the media and prefill the shared prefix once. A backend raises only
    for whole-backend failures; a per-request failure is a ``Generation`` with ``error`` set.
    """

    name: str

    def describe(self) -> dict[str, Any]:
        """Recorded arguments and checkpoint identity (JSON-serialisable)."""
        ...

    def generate(self, requests: list[Request]) -> list[Generation]:
        """Answer every request, in order."""
        ...
