"""Shared OpenAI-client plumbing: endpoint and key resolution, retries with backoff, key redaction.

Used by the ``openai`` chat backend and the LLM judge. The key is read from an environment variable
(``OPENAI_API_KEY`` by default) or a file and is never returned by ``describe()``, never put into an
error message (``redact``) and never passed through recorded backend arguments.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from oryx_eval.errors import BackendError, PrerequisiteError

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.openai.com/v1"
NO_KEY = "EMPTY"
"""Sent when no key is configured (the vLLM/SGLang convention for servers started without one)."""


class MalformedResponse(Exception):
    """The server answered 2xx but not with a usable chat completion (not retried)."""


class RequestFailed(Exception):
    """Every attempt of one request failed; ``cause`` is the last error."""

    def __init__(self, cause: BaseException, attempts: int) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.attempts = attempts


@dataclass(frozen=True)
class Endpoint:
    """Where requests go and how they are retried (everything but the key is recorded)."""

    base_url: str
    base_url_source: str
    api_key_source: str
    timeout_s: float = 60.0
    max_retries: int = 4
    backoff_s: float = 1.0
    backoff_max_s: float = 30.0

    def describe(self) -> dict[str, Any]:
        """Recorded endpoint settings; the key itself is never included."""
        return {
            "base_url": self.base_url, "base_url_source": self.base_url_source,
            "bearer_from": self.api_key_source, "timeout_s": self.timeout_s, "max_retries": self.max_retries,
            "backoff_s": self.backoff_s, "backoff_max_s": self.backoff_max_s,
        }  # fmt: skip


def resolve_key(api_key: str | None, api_key_env: str, api_key_file: str | None) -> tuple[str, str]:
    """``(key, source description)``: an explicit key (Python API), a file, the env var, else ``EMPTY``."""
    if api_key:
        return api_key, "given (Python API)"
    if api_key_file:
        p = Path(api_key_file).expanduser()
        if not p.is_file():
            raise BackendError(f"api_key_file={api_key_file}: no such file")
        return p.read_text().strip(), f"file {p}"
    val = os.environ.get(api_key_env)
    if val:
        return val, f"env {api_key_env}"
    return NO_KEY, f"none (env {api_key_env} unset; sent {NO_KEY!r})"


def make_endpoint(
    base_url: str | None, api_key: str | None, api_key_env: str, api_key_file: str | None,
    timeout_s: float, max_retries: int, backoff_s: float, backoff_max_s: float,
) -> tuple[Endpoint, str]:  # fmt: skip
    """The endpoint (base URL: argument, else ``OPENAI_BASE_URL``, else OpenAI's) and the key."""
    if timeout_s <= 0 or max_retries < 0 or backoff_s < 0 or backoff_max_s < 0:
        raise BackendError(
            f"timeout_s={timeout_s} must be > 0 and max_retries={max_retries}, backoff_s={backoff_s}, "
            f"backoff_max_s={backoff_max_s} must be >= 0"
        )
    if base_url:
        url, src = base_url, "argument"
    elif os.environ.get("OPENAI_BASE_URL"):
        url, src = os.environ["OPENAI_BASE_URL"], "env OPENAI_BASE_URL"
    else:
        url, src = DEFAULT_BASE_URL, "default"
    key, key_src = resolve_key(api_key, api_key_env, api_key_file)
    ep = Endpoint(url.rstrip("/"), src, key_src, timeout_s, max_retries, backoff_s, backoff_max_s)
    return ep, key


def make_client(ep: Endpoint, key: str) -> Any:
    """An ``openai.OpenAI`` client with its own retries off (``call_with_retries`` does them)."""
    try:
        import openai
    except ImportError:  # pragma: no cover - openai is a core dependency
        raise PrerequisiteError("the openai backend needs the openai package: pip install openai") from None
    return openai.OpenAI(base_url=ep.base_url, api_key=key, timeout=ep.timeout_s, max_retries=0)


def chat_create(client: Any, **params: Any) -> Any:
    """``client.chat.completions.create(**params)``; a 2xx body that is not a chat completion (not
    JSON, wrong shape) raises ``MalformedResponse``."""
    import openai

    try:
        return client.chat.completions.create(**params)
    except (ValueError, openai.APIResponseValidationError) as e:
        raise MalformedResponse(f"{type(e).__name__}: {e}") from e


def redact(text: str, key: str) -> str:
    """``text`` with the key (if it is a real one) replaced by ``***``."""
    return text.replace(key, "***") if key and key != NO_KEY else text


def is_retryable(exc: BaseException) -> bool:
    """429, 5xx, timeouts and connection failures are retried; other errors are not."""
    import openai

    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError))


def _retry_after(exc: BaseException) -> float | None:
    resp = getattr(exc, "response", None)
    try:
        return float(resp.headers["retry-after"]) if resp is not None else None
    except (KeyError, TypeError, ValueError):
        return None


def call_with_retries(
    fn: Callable[[], T], ep: Endpoint, sleep: Callable[[float], None] = time.sleep
) -> tuple[T, int]:
    """``(fn(), attempts)``; retries retryable errors ``ep.max_retries`` times with exponential backoff
    ``backoff_s * 2**i`` (or the server's ``Retry-After``), each capped at ``backoff_max_s``.
    Raises ``RequestFailed`` (the last error, the attempts made) when no attempt succeeded, and
    ``MalformedResponse`` as is."""
    for attempt in range(ep.max_retries + 1):
        try:
            return fn(), attempt + 1
        except MalformedResponse:
            raise
        except Exception as e:
            if attempt == ep.max_retries or not is_retryable(e):
                raise RequestFailed(e, attempt + 1) from e
            wait = _retry_after(e)
            wait = ep.backoff_s * 2**attempt if wait is None else wait
            sleep(min(wait, ep.backoff_max_s))
    raise AssertionError("unreachable")  # pragma: no cover


def describe_error(err: RequestFailed, key: str) -> str:
    """One line naming the failure and the attempts made, key redacted."""
    exc = err.cause
    status = getattr(exc, "status_code", None)
    head = f"HTTP {status}" if status is not None else type(exc).__name__
    msg = " ".join(str(exc).split())[:500]
    return redact(f"{head} after {err.attempts} attempt(s): {type(exc).__name__}: {msg}", key)
