"""Headless Chromium for DOM checks: ``dump_dom(page, query)`` returns the DOM after the page's scripts ran.

Chromium is the Debian package (``apt-get install -y chromium``; .ci/run installs it). Tests marked
``browser`` skip with a visible reason when it is missing. The network is closed, so every flag that
would reach out is off, and each call gets a fresh profile.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--virtual-time-budget=10000",
]  # fmt: skip


def needs_chromium(fn):  # noqa: ANN001, ANN201 - a pytest decorator
    """Mark a test ``browser`` and skip it, with the reason, when Chromium is not installed."""
    skip = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
    return pytest.mark.browser(skip(fn))


def dump_dom(page: Path, query: str = "") -> str:
    """The rendered DOM of ``page`` (a local file) opened with ``?query``."""
    assert CHROMIUM is not None
    url = page.resolve().as_uri() + (f"?{query}" if query else "")
    with tempfile.TemporaryDirectory() as prof:
        out = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={prof}", "--dump-dom", url],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
    return out.stdout


class Elements(HTMLParser):
    """Flat list of (tag, attrs, text) of a DOM dump; text is its text content (descendants included)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.items: list[tuple[str, dict[str, str | None], list[str]]] = []
        self._stack: list[int] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.items.append((tag, dict(attrs), []))
        if tag not in ("img", "br", "meta", "input", "link"):
            self._stack.append(len(self.items) - 1)

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            i = self._stack.pop()
            if self.items[i][0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for i in self._stack:
            self.items[i][2].append(data)

    def find(self, tag: str, **attrs: str) -> list[tuple[dict[str, str | None], str]]:
        """Elements ``tag`` whose attributes include ``attrs`` (``class_`` for class), with their text."""
        want = {k.rstrip("_"): v for k, v in attrs.items()}
        out = []
        for t, a, text in self.items:
            if t == tag and all(
                a.get(k) == v or (k == "class" and v in (a.get(k) or "").split()) for k, v in want.items()
            ):
                out.append((a, "".join(text)))
        return out
