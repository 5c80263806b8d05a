"""The ``openai`` backend against real HTTP servers on loopback: our ``serve`` and a scripted fake."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from oryx_eval.backends.openai_chat import OpenAIChatBackend
from oryx_eval.errors import BackendError
from oryx_eval.records import GenerationSettings, LoadedMedia, Request
from oryx_eval.runner import RunOptions, build_backend, run
from oryx_eval.serve import ChatService, running
from tests.oryx_eval.fake_openai import Action, FakeOpenAI
from tests.oryx_eval.fixtures import make_task

ROOT = Path(__file__).resolve().parents[3]
FAST = {"timeout_s": 2.0, "max_retries": 2, "backoff_s": 0.01, "backoff_max_s": 0.05}
KEY = "sk-test-DO-NOT-LEAK-7f3a9c"


def _niah(tmp: Path) -> Path:
    raw = yaml.safe_load((ROOT / "tasks" / "niah.yaml").read_text())
    raw["name"] = "niah_api"
    raw["reports"] = []  # the heatmap (matplotlib) is not what this test is about
    raw["dataset"]["args"].update(frame_counts=[4, 8], depths=[0.0, 1.0], frame_size=[64, 64], marker=True)
    path = tmp / "niah_api.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _run(task: Path, tmp: Path, base_url: str, **args) -> list:
    opts = RunOptions(
        tasks=[str(task)], backend="openai", backend_args={"base_url": base_url, **FAST, **args},
        output_dir=tmp / "out", run_id="api", cache_dir=tmp / "cache", progress=False,
        max_failures="100%",  # the fault tests fail samples on purpose
    )  # fmt: skip
    return run(opts)


def _request(sid: str, frames: int = 3) -> Request:
    f = np.full((frames, 32, 48, 3), 128, np.uint8)
    m = LoadedMedia(kind="video", frames=f, indices=list(range(frames)), size_wh=(48, 32))
    return Request(sample_id=sid, prompt=f"question {sid}", media=[m], generation=GenerationSettings())


def test_niah_round_trip_through_serve(tmp_path: Path) -> None:
    """Runner -> openai backend -> HTTP -> serve -> test-oracle: the needle marker survives JPEG."""
    service = ChatService(build_backend("test-oracle", {}, tmp_path), "oracle")
    with running(service) as url:
        res = _run(_niah(tmp_path), tmp_path, url, max_frames=16, jpeg_quality=90)
    samples = res.samples
    assert len(samples) == 2 * 2 * 4 and all(r.error is None for r in samples)
    assert all(r.score == 1.0 for r in samples)
    r = samples[0]
    sent = r.extra["sent"]
    assert sent["frames_sent"] == r.frames.count and sent["size"] == [64, 64] and sent["jpeg_bytes"] > 0
    # usage from the response: serve reports prompt = text + visual tokens of the backend behind it
    assert r.tokens.text == len(r.prompt.split()) + r.frames.count and r.tokens.output == 4
    assert r.extra["attempts"] == 1 and r.latency_s.generate > 0
    spec = json.loads((res.run_dir / "run.json").read_text())["spec"]["backend"]
    assert spec["args"]["model"] == "oracle" and spec["args"]["base_url"] == url  # the only model served


def test_max_frames_and_max_side_limit_what_is_sent(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        b = OpenAIChatBackend(model="m", base_url=fake.base_url, max_frames=2, max_side=24, **FAST)
        g = b.generate([_request("s", frames=5)])[0]
    parts = fake.requests[0]["body"]["messages"][0]["content"]
    assert [p["type"] for p in parts] == ["image_url", "image_url", "text"]
    assert g.extra["sent"] == {**g.extra["sent"], "frames_sent": 2, "positions": [0, 4], "size": [24, 16]}


def test_500_then_success_is_retried(tmp_path: Path) -> None:
    task = make_task(tmp_path / "t", n_videos=4, questions_per_video=1)

    def rule(text: str, attempt: int) -> Action:
        return Action(status=500) if "clip 0" in text and attempt == 1 else Action()

    with FakeOpenAI(rule) as fake:
        res = _run(task, tmp_path, fake.base_url, model="m")
    by = {r.sample_id: r for r in res.samples}
    assert by["v0q0"].error is None and by["v0q0"].extra["attempts"] == 2 and by["v0q0"].score == 1.0
    assert by["v3q0"].extra["attempts"] == 1


def test_500_forever_fails_only_its_sample(tmp_path: Path) -> None:
    task = make_task(tmp_path / "t", n_videos=4, questions_per_video=2)

    def rule(text: str, attempt: int) -> Action:
        return Action(status=503) if "clip 3, question 1" in text else Action()

    with FakeOpenAI(rule) as fake:
        res = _run(task, tmp_path, fake.base_url, model="m")
    failed = {r.sample_id: r.error for r in res.samples if r.error}
    # v1 is a corrupt and v2 a missing video (the fixture's media failures); v3q1 is the server's
    assert set(failed) == {"v1q0", "v1q1", "v2q0", "v2q1", "v3q1"}
    assert failed["v3q1"].startswith("HTTP 503 after 3 attempt(s)")
    assert sum(n for t, n in fake.seen.items() if "clip 3, question 1" in t) == 3  # 1 + 2 retries
    assert all(r.error is None for r in res.samples if r.sample_id in {"v0q0", "v0q1", "v3q0"})


def test_timeout_fails_the_sample_after_retries() -> None:
    def rule(text: str, attempt: int) -> Action:
        return Action(delay_s=1.0) if "slow" in text else Action()

    with FakeOpenAI(rule) as fake:
        b = OpenAIChatBackend(
            model="m", base_url=fake.base_url, **{**FAST, "timeout_s": 0.2, "max_retries": 1}
        )
        slow, fast = b.generate([_request("slow"), _request("fast")])
    assert slow.error is not None and "APITimeoutError after 2 attempt(s)" in slow.error
    assert slow.error_kind == "sample" and fast.error is None and fast.text == "The answer is A."


@pytest.mark.parametrize(
    "raw", [b"this is not json", b'{"id": "x", "object": "chat.completion"}', b'{"choices": []}']
)
def test_malformed_response_fails_the_sample(raw: bytes) -> None:
    with FakeOpenAI(lambda text, attempt: Action(raw=raw)) as fake:
        b = OpenAIChatBackend(model="m", base_url=fake.base_url, **FAST)
        g = b.generate([_request("x")])[0]
    assert g.error is not None and g.error.startswith("malformed response") and g.text == ""
    assert len(fake.requests) == 1  # a malformed 200 is not retried


def test_concurrency_limit_is_respected() -> None:
    with FakeOpenAI(lambda text, attempt: Action(delay_s=0.3)) as fake:
        b = OpenAIChatBackend(model="m", base_url=fake.base_url, concurrency=3, **FAST)
        t0 = time.perf_counter()
        gens = b.generate([_request(f"s{i}") for i in range(7)])
        wall = time.perf_counter() - t0
    assert all(g.error is None for g in gens)
    assert fake.max_in_flight == 3  # several in flight, never more than the limit
    assert wall < 7 * 0.3 * 0.75  # 3 waves of 0.3 s, not 7 sequential calls


def test_usage_missing_is_recorded_as_unreported() -> None:
    raw = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": "B"}}]}).encode()
    with FakeOpenAI(lambda text, attempt: Action(raw=raw)) as fake:
        g = OpenAIChatBackend(model="m", base_url=fake.base_url, **FAST).generate([_request("x")])[0]
    assert g.error is None and g.text == "B" and g.extra["usage"]["reported"] is False


def test_key_is_sent_but_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    task = make_task(tmp_path / "t", n_videos=4, questions_per_video=1)

    def rule(text: str, attempt: int) -> Action:
        return Action(status=500) if "clip 3" in text else Action()

    with FakeOpenAI(rule, key=KEY) as fake:
        res = _run(task, tmp_path, fake.base_url, model="m")
    assert all(r["headers"]["authorization"] == f"Bearer {KEY}" for r in fake.requests)
    ok = sorted(r.sample_id for r in res.samples if r.error is None)
    assert ok == ["v0q0"]  # v1/v2: the fixture's bad media; v3: the server's 500s (messages recorded)
    files = [p for p in res.run_dir.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"run.json", "samples.jsonl"}
    for p in files:
        assert KEY.encode() not in p.read_bytes(), p
    spec = json.loads((res.run_dir / "run.json").read_text())["spec"]["backend"]["args"]
    assert spec["bearer_from"] == "env OPENAI_API_KEY"


def test_refused_key_or_dead_server_fails_the_backend_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-one")
    with FakeOpenAI(key=KEY) as fake:
        with pytest.raises(BackendError, match="AuthenticationError") as e:
            OpenAIChatBackend(model="m", base_url=fake.base_url, **FAST)
        assert "sk-wrong-one" not in str(e.value)
        # without the start check, the refusal fails each sample, without retries
        b = OpenAIChatBackend(model="m", base_url=fake.base_url, check_endpoint=False, **FAST)
        g = b.generate([_request("x")])[0]
    assert g.error.startswith("HTTP 401 after 1 attempt(s)") and "sk-wrong-one" not in g.error
    with pytest.raises(BackendError, match="is not usable: APIConnectionError"):
        OpenAIChatBackend(model="m", base_url=fake.base_url, **FAST)  # the server is gone now


def test_compression_is_forwarded_to_serve(tmp_path: Path) -> None:
    service = ChatService(build_backend("test-oracle", {}, tmp_path), "oracle")
    with running(service) as url:
        plain = OpenAIChatBackend(base_url=url, **FAST).generate([_request("a")])[0]
        fwd = OpenAIChatBackend(base_url=url, send_compression=True, **FAST)
        req = _request("b")
        req.compression = "16"
        g = fwd.generate([req])[0]
    assert plain.compression is None  # an API model has no compression setting
    assert g.error is None and g.compression == "16"


def test_literal_key_argument_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="unknown argument 'api_key' \\(did you mean 'api_key_env'"):
        build_backend("openai", {"api_key": "sk-x", "base_url": "http://127.0.0.1:9/v1"}, tmp_path)
    with pytest.raises(BackendError, match="unknown argument 'frames'"):
        build_backend("openai", {"model": "m", "frames": 3}, tmp_path)


def test_model_defaults_to_the_only_served_one() -> None:
    with FakeOpenAI() as fake:
        assert OpenAIChatBackend(base_url=fake.base_url, **FAST).model == "fake-model"
