"""Identity helpers: differences are named, secrets never reach run.json (issue 6 item 16)."""

from __future__ import annotations

import sys
from pathlib import Path

from oryx_eval.identity import REDACTED, diff, redact, redact_argv
from oryx_eval.records import Generation, Request
from oryx_eval.registry import BACKENDS
from oryx_eval.runner import RunOptions, run

SECRET = "sk-test-0123456789abcdef"


class _KeyedBackend:
    name = "test-keyed"

    def __init__(self, api_key: str, base_url: str = "http://localhost") -> None:
        self.api_key, self.base_url = api_key, base_url

    def describe(self) -> dict:
        return {"name": self.name, "args": {"api_key": self.api_key, "base_url": self.base_url}}

    def generate(self, requests: list[Request]) -> list[Generation]:
        return [Generation(text="A", compression=r.compression) for r in requests]


BACKENDS.register("test-keyed")(_KeyedBackend)


def test_diff_names_every_difference() -> None:
    a = {"x": 1, "y": {"z": [1, 2], "w": "k"}}
    b = {"x": 2, "y": {"z": [1, 2]}, "v": True}
    assert diff(a, b) == [
        "v: recorded absent, now true",
        "x: recorded 1, now 2",
        'y.w: recorded "k", now absent',
    ]
    assert diff(a, a) == []


def test_redaction_rules() -> None:
    assert redact({"api_key": "s", "nested": {"hf_token": "t", "max_side": 3}}) == {
        "api_key": REDACTED, "nested": {"hf_token": REDACTED, "max_side": 3},
    }  # fmt: skip
    argv = [
        "run",
        "--model-arg",
        f"api_key={SECRET}",
        "--api-key",
        SECRET,
        f"--password={SECRET}",
        "--frames",
        "8",
    ]
    assert SECRET not in " ".join(redact_argv(argv))
    assert redact_argv(argv)[-2:] == ["--frames", "8"]
    assert redact({"api_key_env": "MY_KEY", "max_new_tokens": 8}) == {
        "api_key_env": "MY_KEY",
        "max_new_tokens": 8,
    }


def test_secrets_appear_nowhere_in_the_run_folder(mc_task: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["oryx-eval", "run", "--model-arg", f"api_key={SECRET}"])
    res = run(
        RunOptions(
            tasks=[str(mc_task)], backend="test-keyed", backend_args={"api_key": SECRET},
            output_dir=tmp_path / "out", run_id="k", cache_dir=tmp_path / "cache", max_failures="100%",
        )
    )  # fmt: skip
    files = [p for p in res.run_dir.rglob("*") if p.is_file()]
    assert files and all(SECRET.encode() not in p.read_bytes() for p in files)
    assert res.record.spec["options"]["backend_args"]["api_key"] == REDACTED
