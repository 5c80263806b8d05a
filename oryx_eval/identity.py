"""Run identity: everything that changes a number, how two identities differ, and secret redaction.

A resumed run must match the recorded identity exactly, or it would mix two measurements in one run.
The identity has two parts, checked at two moments:

- the spec part (task digests, backend name and arguments, compression settings as a set, limit, seed,
  frames, media sharing), known before any work and checked before the model loads;
- the backend part (``Backend.describe()``: resolved arguments, checkpoint content digest, resolved
  generation settings), checked right after the backend is built, before any sample runs.
"""

from __future__ import annotations

import json
import re
from typing import Any

REDACTED = "<redacted>"
SECRET_WORDS = {"key", "apikey", "token", "secret", "password", "passwd", "pwd", "credential", "credentials"}


def is_secret_name(name: str) -> bool:
    """Whether an argument name says it holds a secret: its last word is key/token/secret/password/...
    (``api_key``, ``hf_token``, ``--api-key``); ``auto_token_budget``, ``max_new_tokens`` and
    ``api_key_env`` (the *name* of the variable holding the key) are not secrets."""
    words = [w for w in re.split(r"[_\-\s.]+", name.lower()) if w]
    return bool(words) and words[-1] in SECRET_WORDS


def redact(obj: Any) -> Any:
    """A copy of ``obj`` with the values of secret-looking mapping keys replaced by ``<redacted>``."""
    if isinstance(obj, dict):
        return {k: (REDACTED if is_secret_name(str(k)) else redact(v)) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [redact(v) for v in obj]
    return obj


def redact_argv(argv: list[str]) -> list[str]:
    """A command line with secret values hidden: ``--api-key X``, ``--api-key=X`` and ``api_key=X`` items."""
    out: list[str] = []
    hide_next = False
    for a in argv:
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        if a.startswith("--"):
            flag, eq, _ = a.partition("=")
            if is_secret_name(flag[2:]):
                if eq:
                    out.append(f"{flag}={REDACTED}")
                else:
                    out.append(a)
                    hide_next = True
                continue
        elif "=" in a:
            k, _, _ = a.partition("=")
            if is_secret_name(k):
                out.append(f"{k}={REDACTED}")
                continue
        out.append(a)
    return out


def canonical(obj: Any) -> Any:
    """JSON round trip: tuples become lists, keys strings, so recorded and live identities compare equal."""
    return json.loads(json.dumps(obj, sort_keys=True, default=str))


def diff(recorded: Any, now: Any, path: str = "") -> list[str]:
    """Human-readable differences between two identities (``[]`` when equal), deepest paths first named."""
    if isinstance(recorded, dict) and isinstance(now, dict):
        out: list[str] = []
        for k in sorted(set(recorded) | set(now), key=str):
            p = f"{path}.{k}" if path else str(k)
            if k not in now:
                out.append(f"{p}: recorded {_short(recorded[k])}, now absent")
            elif k not in recorded:
                out.append(f"{p}: recorded absent, now {_short(now[k])}")
            else:
                out += diff(recorded[k], now[k], p)
        return out
    if recorded != now:
        return [f"{path or '(identity)'}: recorded {_short(recorded)}, now {_short(now)}"]
    return []


def _short(v: Any, limit: int = 80) -> str:
    s = json.dumps(v, sort_keys=True, default=str)
    return s if len(s) <= limit else s[: limit - 3] + "..."
