"""``oryx-eval serve``: the OpenAI request shape mapped onto a backend, errors as HTTP statuses, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

from oryx_eval.backends.openai_chat import OpenAIChatBackend
from oryx_eval.backends.openai_media import jpeg_data_uri
from oryx_eval.records import Generation, GenerationSettings, LoadedMedia, Request
from oryx_eval.serve import ChatService, parse_chat_request, running

ROOT = Path(__file__).resolve().parents[2]


class _Echo:
    """Answers with what it was given (media kind, frame count, settings)."""

    name = "echo"

    def __init__(self) -> None:
        self.seen: list[Request] = []

    def describe(self) -> dict:
        return {"name": self.name}

    def generate(self, requests: list[Request]) -> list[Generation]:
        self.seen.extend(requests)
        out = []
        for r in requests:
            m = r.media[0] if r.media else None
            n = 0 if m is None else (len(m.frames) if m.kind == "video" else 1)
            if "overflow" in r.prompt:
                out.append(Generation(error="prompt too long", error_kind="overflow"))
                continue
            out.append(Generation(text=f"{m.kind if m else 'none'}:{n}", compression=r.compression))
        return out


def _uri(w: int = 32, h: int = 24, v: int = 90) -> str:
    return jpeg_data_uri(Image.new("RGB", (w, h), (v, v, v)), 90)[0]


def _post(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(
        url + "/chat/completions", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _user(*parts: dict) -> dict:
    return {"model": "echo", "messages": [{"role": "user", "content": list(parts)}]}


def test_images_become_image_or_video_and_settings_map() -> None:
    img = {"type": "image_url", "image_url": {"url": _uri()}}
    body = {**_user(img, img, img, {"type": "text", "text": "what?"}), "max_tokens": 7, "temperature": 0.5,
            "top_p": 0.9, "seed": 3, "compression": "16"}  # fmt: skip
    req, ignored = parse_chat_request(body, "4")
    m = req.media[0]
    assert m.kind == "video" and m.frames.shape == (3, 24, 32, 3) and req.prompt == "what?"
    assert req.generation == GenerationSettings(max_new_tokens=7, temperature=0.5, top_p=0.9, seed=3)
    assert req.compression == "16" and ignored == []
    req, _ = parse_chat_request(_user(img, {"type": "text", "text": "q"}), "4")
    assert req.media[0].kind == "image" and req.media[0].image.size == (32, 24) and req.compression == "4"


def test_http_errors_and_statuses() -> None:
    echo = _Echo()
    with running(ChatService(echo, "echo")) as url:
        with urllib.request.urlopen(url + "/models", timeout=10) as r:
            assert json.loads(r.read())["data"][0]["id"] == "echo"
        status, out = _post(url, _user({"type": "image_url", "image_url": {"url": "http://x/a.jpg"}}))
        assert status == 400 and "no remote URLs" in out["error"]["message"]
        two = {"model": "echo", "messages": [{"role": "user", "content": "a"}, {"role": "assistant",
               "content": "b"}]}  # fmt: skip
        assert _post(url, two)[0] == 400
        assert _post(url, {**_user({"type": "text", "text": "a"}), "stream": True})[0] == 400
        img = {"type": "image_url", "image_url": {"url": _uri(32, 24)}}
        other = {"type": "image_url", "image_url": {"url": _uri(16, 16)}}
        assert _post(url, _user(img, other))[0] == 400  # frames of different sizes
        status, out = _post(url, _user({"type": "text", "text": "overflow please"}))
        assert status == 400 and out["error"]["type"] == "overflow"
        body = {"model": "echo", "messages": [{"role": "system", "content": "be brief"},
                                              {"role": "user", "content": "hi"}]}  # fmt: skip
        status, out = _post(url, body)
        assert status == 200 and out["choices"][0]["message"]["content"] == "none:0"
        assert out["oryx_eval"]["ignored"] == ["system message"]


def test_openai_backend_round_trip_keeps_frames() -> None:
    echo = _Echo()
    frames = np.stack([np.full((40, 60, 3), 10 * i, np.uint8) for i in range(6)])
    media = LoadedMedia(kind="video", frames=frames, indices=list(range(6)), size_wh=(60, 40))
    with running(ChatService(echo, "echo")) as url:
        b = OpenAIChatBackend(base_url=url, max_frames=4, timeout_s=5, max_retries=0)
        g = b.generate([Request(sample_id="a", prompt="p", media=[media], generation=GenerationSettings())])[
            0
        ]
    assert g.error is None and g.text == "video:4"
    got = echo.seen[0].media[0].frames  # (4, 40, 60, 3) after JPEG: close to the frames sent
    want = frames[[0, 2, 3, 5]].astype(int)
    assert got.shape == (4, 40, 60, 3) and np.abs(got.astype(int) - want).max() <= 3


def test_cli_serve_command(tmp_path: Path) -> None:
    """``oryx-eval serve --model test-oracle --port 0`` prints its URL and answers /v1 requests."""
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "serve", "--model", "test-oracle", "--port", "0",
         "--served-name", "oracle", "--cache-dir", str(tmp_path / "cache")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert "oracle at http://127.0.0.1:" in line, proc.stderr.read()
        url = line.strip().rsplit(" ", 1)[1]
        with urllib.request.urlopen(url + "/models", timeout=10) as r:
            assert [m["id"] for m in json.loads(r.read())["data"]] == ["oracle"]
        status, out = _post(url, _user({"type": "text", "text": "hello"}))
        assert status == 200 and out["choices"][0]["message"]["content"] == "no marker"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_oryx_tiny(tmp_path: Path) -> None:
    """Our model behind /v1/chat/completions: usage = its own token counts, its stage latencies."""
    from oryx_eval.runner import build_backend

    backend = build_backend("oryx-tiny-random", {}, tmp_path / "cache")
    with running(ChatService(backend, "oryx-tiny-random")) as url:
        img = {"type": "image_url", "image_url": {"url": _uri(64, 64)}}
        body = {**_user(img, img, {"type": "text", "text": "What is shown?"}), "max_tokens": 3}
        status, out = _post(url, body)
    assert status == 200, out
    ox = out["oryx_eval"]
    assert out["usage"]["prompt_tokens"] == ox["tokens"]["text"] + ox["tokens"]["visual"]
    assert ox["tokens"]["visual"] > 0 and out["usage"]["completion_tokens"] == ox["tokens"]["output"] <= 3
    assert ox["compression_used"] == "4" and ox["latency_s"]["vision"] > 0
