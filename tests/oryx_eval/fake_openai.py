"""A minimal, scriptable OpenAI-compatible server on loopback for fault tests (no network).

``FakeOpenAI(rule)`` answers ``POST /v1/chat/completions`` by calling ``rule(text, attempt)`` with the
request's user text and how many times that text was seen (1-based). The rule returns an ``Action``:
answer text (200 with usage), an HTTP status, a delay before answering, or a raw body. It records
every request (headers, body) and the most requests it ever had in flight at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Action:
    text: str = "The answer is A."
    status: int = 200
    delay_s: float = 0.0
    raw: bytes | None = None
    usage: dict[str, int] | None = None


def user_text(body: dict[str, Any]) -> str:
    parts = [m for m in body["messages"] if m["role"] == "user"][0]["content"]
    if isinstance(parts, str):
        return parts
    return "\n".join(p["text"] for p in parts if p["type"] == "text")


class FakeOpenAI:
    def __init__(self, rule: Callable[[str, int], Action] | None = None, key: str | None = None) -> None:
        self.rule = rule or (lambda text, attempt: Action())
        self.key = key
        self.requests: list[dict[str, Any]] = []
        self.seen: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *a: Any) -> None:
                pass

            def _send(self, status: int, raw: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                try:
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:  # noqa: N802
                if fake.key is not None and self.headers.get("Authorization") != f"Bearer {fake.key}":
                    self._send(401, b'{"error": {"message": "bad key", "type": "auth"}}')
                    return
                self._send(200, json.dumps({"object": "list", "data": [{"id": "fake-model"}]}).encode())

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake._lock:
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                    text = user_text(body)
                    fake.seen[text] += 1
                    attempt = fake.seen[text]
                    fake.requests.append(
                        {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                    )
                try:
                    if fake.key is not None and self.headers.get("Authorization") != f"Bearer {fake.key}":
                        self._send(401, b'{"error": {"message": "bad key", "type": "auth"}}')
                        return
                    act = fake.rule(text, attempt)
                    if act.delay_s:
                        time.sleep(act.delay_s)
                    if act.raw is not None:
                        self._send(act.status, act.raw)
                    elif act.status != 200:
                        err = {"error": {"message": f"injected {act.status}", "type": "server_error"}}
                        self._send(act.status, json.dumps(err).encode())
                    else:
                        usage = act.usage or {"prompt_tokens": 100 + len(text), "completion_tokens": 5}
                        usage = {**usage, "total_tokens": sum(usage.values())}
                        out = {
                            "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": act.text}}],
                            "usage": usage,
                        }  # fmt: skip
                        self._send(200, json.dumps(out).encode())
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
