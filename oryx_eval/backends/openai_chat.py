"""``openai``: any OpenAI-compatible chat endpoint (OpenAI, vLLM, SGLang, ``oryx-eval serve``).

Each request becomes one ``/chat/completions`` call: a user turn with the media as base64 JPEG
``image_url`` parts (a video: up to ``max_frames`` frames spread uniformly over the frames the runner
decoded, longer side scaled to ``max_side``) followed by the prompt text. Calls of one ``generate`` run
in a thread pool of ``concurrency`` workers. 429/5xx/timeouts are retried with exponential backoff; a
request that still fails (or gets a malformed answer) fails only its sample (``Generation.error``).

Tokens: ``tokens.text`` = the server's ``usage.prompt_tokens`` (ALL input tokens, images included: the
visual share is not reported by the API, so ``visual``/``visual_raw`` stay 0 = unknown) and
``tokens.output`` = ``usage.completion_tokens``. Latency: ``preprocess`` = JPEG encoding (split over the
requests sharing it), ``generate`` = the HTTP call including retries. ``compression`` does not apply
to an API model (``compression_used`` stays empty) unless ``send_compression`` forwards it to
``oryx-eval serve``, which reports the ratio it used. ``top_k`` is not an OpenAI parameter: not sent.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from oryx_eval.backends.openai_client import (
    Endpoint,
    MalformedResponse,
    RequestFailed,
    call_with_retries,
    chat_create,
    describe_error,
    make_client,
    make_endpoint,
    redact,
)
from oryx_eval.backends.openai_media import EncodedMedia, encode_media
from oryx_eval.errors import BackendError
from oryx_eval.records import Generation, Latency, Request, TokenCounts
from oryx_eval.registry import BACKENDS

TOKENS_NOTE = (
    "API backend: tokens.text is the server's prompt_tokens (text AND images); visual tokens are not "
    "reported by the API, so tokens.visual/visual_raw are 0 meaning unknown"
)


def parse_completion(resp: Any) -> tuple[str, TokenCounts, dict[str, Any]]:
    """``(text, tokens, usage record)`` of a chat completion; ``MalformedResponse`` if unusable."""
    choices = getattr(resp, "choices", None)
    if not isinstance(choices, list) or not choices:
        raise MalformedResponse(f"no choices in the response: {str(resp)[:200]!r}")
    msg = getattr(choices[0], "message", None)
    text = getattr(msg, "content", None)
    if not isinstance(text, str):
        raise MalformedResponse(f"choices[0].message.content is not a string: {str(choices[0])[:200]!r}")
    usage = getattr(resp, "usage", None)
    pt = getattr(usage, "prompt_tokens", None)
    ct = getattr(usage, "completion_tokens", None)
    rec = {"prompt_tokens": pt, "completion_tokens": ct, "reported": usage is not None}
    tok = TokenCounts(text=pt if isinstance(pt, int) else 0, output=ct if isinstance(ct, int) else 0)
    return text, tok, rec


class OpenAIChatBackend:
    """Chat-completions client with bounded concurrency, retries and per-request failure.

    ``base_url`` (else ``OPENAI_BASE_URL``), ``model`` (else the only one served), key from
    ``OPENAI_API_KEY`` (or ``api_key_env=VAR`` / ``api_key_file=PATH``; never a literal argument).
    """

    name = "openai"

    def __init__(
        self, model: str | None = None, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY",
        api_key_file: str | None = None, max_frames: int = 32,
        max_side: int = 768, jpeg_quality: int = 85, timeout_s: float = 60.0, max_retries: int = 4,
        backoff_s: float = 1.0, backoff_max_s: float = 30.0, concurrency: int = 4,
        system_prompt: str | None = None, send_seed: bool = True, send_compression: bool = False,
        check_endpoint: bool = True,
    ) -> None:  # fmt: skip
        if max_frames < 1 or max_side < 16 or not 1 <= jpeg_quality <= 95 or concurrency < 1:
            raise BackendError(
                f"openai backend: max_frames={max_frames} (>= 1), max_side={max_side} (>= 16), "
                f"jpeg_quality={jpeg_quality} (1..95), concurrency={concurrency} (>= 1)"
            )
        self.endpoint: Endpoint
        self.endpoint, self._key = make_endpoint(
            base_url, None, api_key_env, api_key_file, timeout_s, max_retries, backoff_s, backoff_max_s
        )  # no literal key argument: backend arguments are recorded (and would sit in shell history)
        self.client = make_client(self.endpoint, self._key)
        self.served = self._served_models() if (check_endpoint or model is None) else None
        self.model = model or self._only_model()
        self.max_frames, self.max_side, self.jpeg_quality = max_frames, max_side, jpeg_quality
        self.concurrency = concurrency
        self.system_prompt = system_prompt
        self.send_seed = send_seed
        self.send_compression = send_compression
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="oryx-openai")

    def _served_models(self) -> list[str] | None:
        """``GET /models`` once at start: an unreachable server or a refused key fails the whole backend
        (systemic, not per sample); a server without the route gives ``None``."""
        import openai

        try:
            return [m.id for m in self.client.models.list().data]
        except (openai.APIConnectionError, openai.AuthenticationError, openai.PermissionDeniedError) as e:
            msg = f"openai backend: {self.endpoint.base_url} is not usable: {type(e).__name__}: {e}"
            raise BackendError(redact(" ".join(msg.split()), self._key)) from None
        except Exception:  # noqa: BLE001 - /models is optional for chat servers; chat calls decide
            return None

    def _only_model(self) -> str:
        """The served model when the server lists exactly one (vLLM, SGLang, oryx-eval serve)."""
        ids = self.served
        if ids is None or len(ids) != 1:
            raise BackendError(
                f"openai backend: pass model=NAME; {self.endpoint.base_url}/models lists {ids}"
            )
        return ids[0]

    def describe(self) -> dict[str, Any]:
        """Model, endpoint (no key), frame encoding and concurrency settings."""
        return {
            "name": self.name,
            "args": {
                "model": self.model, **self.endpoint.describe(), "max_frames": self.max_frames,
                "max_side": self.max_side, "jpeg_quality": self.jpeg_quality,
                "concurrency": self.concurrency, "system_prompt": self.system_prompt,
                "send_seed": self.send_seed, "send_compression": self.send_compression,
                "model_listed": None if self.served is None else self.model in self.served,
            },
            "tokens_note": TOKENS_NOTE,
        }  # fmt: skip

    def _messages(self, req: Request, enc: EncodedMedia) -> list[dict[str, Any]]:
        msgs: list[dict[str, Any]] = []
        if self.system_prompt is not None:
            msgs.append({"role": "system", "content": self.system_prompt})
        msgs.append({"role": "user", "content": [*enc.parts, {"type": "text", "text": req.prompt}]})
        return msgs

    def _params(self, req: Request) -> dict[str, Any]:
        g = req.generation
        p: dict[str, Any] = {
            "model": self.model,
            "max_tokens": g.max_new_tokens,
            "temperature": g.temperature,
        }
        if g.top_p is not None:
            p["top_p"] = g.top_p
        if self.send_seed:
            p["seed"] = g.seed
        if self.send_compression:  # oryx-eval serve's non-standard field
            p["extra_body"] = {"compression": req.compression}
        return p

    def _one(self, req: Request, enc: EncodedMedia, encode_s: float) -> Generation:
        t0 = time.perf_counter()
        attempts = 0
        extra: dict[str, Any] = {"sent": enc.info()}
        try:
            msgs, params = self._messages(req, enc), self._params(req)
            resp, attempts = call_with_retries(
                lambda: chat_create(self.client, messages=msgs, **params), self.endpoint
            )
            text, tok, usage = parse_completion(resp)
        except RequestFailed as e:
            extra["attempts"] = e.attempts
            return self._failed(req, describe_error(e, self._key), t0, encode_s, extra)
        except MalformedResponse as e:
            extra["attempts"] = attempts
            return self._failed(req, redact(f"malformed response: {e}", self._key), t0, encode_s, extra)
        wall = time.perf_counter() - t0
        extra.update(attempts=attempts, usage=usage)
        lat = Latency(preprocess=encode_s, generate=wall, total=encode_s + wall)
        ox = getattr(resp, "oryx_eval", None)  # present when the server is oryx-eval serve
        used = ox.get("compression_used") if isinstance(ox, dict) and self.send_compression else None
        return Generation(text=text, tokens=tok, latency_s=lat, compression=used, extra=extra)

    def _failed(self, req: Request, msg: str, t0: float, encode_s: float, extra: dict) -> Generation:
        wall = time.perf_counter() - t0
        lat = Latency(preprocess=encode_s, generate=wall, total=encode_s + wall)
        return Generation(error=msg, error_kind="sample", latency_s=lat, compression=None, extra=extra)

    def generate(self, requests: list[Request]) -> list[Generation]:
        """All requests, ``concurrency`` at a time; media shared by requests is encoded once (the
        distinct media of the call are encoded in parallel first: PIL's JPEG encoder releases the GIL)."""
        keys = [tuple(id(m) for m in r.media) for r in requests]
        first: dict[tuple, Request] = {}
        for r, k in zip(requests, keys, strict=True):
            first.setdefault(k, r)

        def encode(r: Request) -> tuple[EncodedMedia, float]:
            t0 = time.perf_counter()
            enc = encode_media(r.media, self.max_frames, self.max_side, self.jpeg_quality)
            return enc, time.perf_counter() - t0

        encoded = dict(zip(first, self._pool.map(encode, first.values()), strict=True))
        users = {k: keys.count(k) for k in first}
        futs = [
            self._pool.submit(self._one, r, encoded[k][0], encoded[k][1] / users[k])
            for r, k in zip(requests, keys, strict=True)
        ]
        return [f.result() for f in futs]


BACKENDS.register("openai")(OpenAIChatBackend)
