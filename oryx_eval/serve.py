"""``oryx-eval serve``: a registered backend behind an OpenAI-compatible ``/v1/chat/completions``.

Request shape (the OpenAI one): ``messages`` with one user turn whose content is text parts and
``image_url`` parts holding ``data:image/...;base64`` URIs (remote URLs are refused: no network).
One image is an image; two or more are the frames of one video (equal sizes). ``max_tokens`` /
``max_completion_tokens``, ``temperature``, ``top_p``, ``seed`` map to ``GenerationSettings``; the
non-standard fields ``top_k`` and ``compression`` (``1``/``4``/``16``/``auto``) are accepted too.
System messages are ignored (the backend applies its own template); the response says so in
``oryx_eval.ignored``. Multi-turn conversations are refused (400).

The response carries ``usage`` (prompt = text + visual tokens, completion = output tokens) and an
``oryx_eval`` block with the backend's own token counts, stage latencies and the ratio used. Requests
are answered one at a time (a lock around the backend: models are not thread-safe).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from oryx_eval.backends.openai_media import decode_data_uri
from oryx_eval.records import GenerationSettings, LoadedMedia, Request


class BadRequest(Exception):
    """A client error answered with HTTP 400."""


def media_of(images: list[Any]) -> list[LoadedMedia]:
    """One image -> an image; several -> one video of their frames ``(T, H, W, 3)``."""
    if not images:
        return []
    if len(images) == 1:
        return [LoadedMedia(kind="image", image=images[0], size_wh=images[0].size)]
    sizes = {im.size for im in images}
    if len(sizes) != 1:
        raise BadRequest(f"video frames must share one size, got {sorted(sizes)}")
    frames = np.stack([np.asarray(im) for im in images])
    n = len(images)
    return [LoadedMedia(kind="video", frames=frames, indices=list(range(n)), source_frames=n,
                        size_wh=images[0].size)]  # fmt: skip


def parse_chat_request(body: dict[str, Any], default_compression: str) -> tuple[Request, list[str]]:
    """An OpenAI chat request as a harness ``Request`` plus the names of ignored parts."""
    if body.get("stream"):
        raise BadRequest("stream=true is not supported")
    if int(body.get("n") or 1) != 1:
        raise BadRequest("n > 1 is not supported")
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise BadRequest("'messages' must be a non-empty list")
    ignored: list[str] = []
    users = []
    for m in msgs:
        role = m.get("role") if isinstance(m, dict) else None
        if role == "system":
            ignored.append("system message")
        elif role == "user":
            users.append(m)
        else:
            raise BadRequest(f"unsupported message role {role!r}: one user turn (plus system) is accepted")
    if len(users) != 1:
        raise BadRequest(f"exactly one user message is accepted, got {len(users)}")
    content = users[0].get("content")
    parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
    if not isinstance(parts, list):
        raise BadRequest("user content must be a string or a list of parts")
    texts, images = [], []
    for p in parts:
        kind = p.get("type") if isinstance(p, dict) else None
        if kind == "text":
            texts.append(str(p.get("text", "")))
        elif kind == "image_url":
            url = p.get("image_url", {}).get("url") if isinstance(p.get("image_url"), dict) else None
            try:
                images.append(decode_data_uri(str(url)))
            except ValueError as e:
                raise BadRequest(f"image_url: {e}") from None
        else:
            raise BadRequest(f"unsupported content part type {kind!r} (text, image_url)")
    gen = GenerationSettings(
        max_new_tokens=int(body.get("max_completion_tokens") or body.get("max_tokens") or 16),
        temperature=float(body.get("temperature") or 0.0),
        top_k=body.get("top_k", 50),
        top_p=body.get("top_p"),
        seed=int(body.get("seed") or 0),
    )
    media = media_of(images)
    req = Request(
        sample_id=f"serve-{uuid.uuid4().hex[:12]}", prompt="\n".join(texts), media=media, generation=gen,
        compression=str(body.get("compression", default_compression)),
        media_key=None,
    )  # fmt: skip
    return req, ignored


class ChatService:
    """The backend, its served model id and the lock that serialises calls into it."""

    def __init__(self, backend: Any, model_id: str, compression: str = "4") -> None:
        self.backend = backend
        self.model_id = model_id
        self.compression = compression
        self._lock = threading.Lock()

    def models(self) -> dict[str, Any]:
        return {"object": "list", "data": [{"id": self.model_id, "object": "model", "owned_by": "oryx-eval"}]}

    def chat(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """``(HTTP status, JSON body)`` for one chat completion request."""
        try:
            req, ignored = parse_chat_request(body, self.compression)
        except (BadRequest, TypeError, ValueError) as e:
            return 400, _error(str(e), "invalid_request_error")
        with self._lock:
            gen = self.backend.generate([req])[0]
        if gen.error is not None:
            status = 400 if gen.error_kind in ("media", "overflow") else 500
            return status, _error(gen.error, gen.error_kind or "server_error")
        t = gen.tokens
        prompt = t.text + t.visual
        return 200, {
            "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model_id,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": gen.text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": t.output,
                      "total_tokens": prompt + t.output},
            "oryx_eval": {"tokens": t.model_dump(), "latency_s": gen.latency_s.model_dump(),
                          "compression_used": gen.compression, "ignored": ignored},
        }  # fmt: skip


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": None}}


class _Handler(BaseHTTPRequestHandler):
    service: ChatService
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

    def _send(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, self.service.models())
        else:
            self._send(404, _error(f"no route {self.path}", "not_found"))

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, _error(f"no route {self.path}", "not_found"))
            return
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as e:
            self._send(400, _error(f"request body is not JSON: {e}", "invalid_request_error"))
            return
        if not isinstance(body, dict):
            self._send(400, _error("request body must be a JSON object", "invalid_request_error"))
            return
        try:
            status, out = self.service.chat(body)
        except Exception as e:  # noqa: BLE001 - a backend crash is this request's 500, the server lives on
            status, out = 500, _error(f"{type(e).__name__}: {e}", "server_error")
        self._send(status, out)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server API
        pass  # quiet: one line per request would flood the console during an evaluation


def make_server(service: ChatService, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A bound (not yet serving) HTTP server for ``service``; ``port=0`` picks a free port."""
    handler = type("Handler", (_Handler,), {"service": service})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


@contextmanager
def running(service: ChatService, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``service`` from a background thread; yields the base URL (``http://HOST:PORT/v1``)."""
    server = make_server(service, host, port)
    thread = threading.Thread(target=server.serve_forever, name="oryx-serve", daemon=True)
    thread.start()
    h, p = server.server_address[:2]
    try:
        yield f"http://{h}:{p}/v1"
    finally:
        server.shutdown()
        server.server_close()
