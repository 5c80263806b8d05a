"""Backend arguments are checked by name and type before any work (issue 6 item 17, issue 7 item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from oryx_eval.errors import BackendError
from oryx_eval.runner import build_backend


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("oryx-tiny", {"model_path": "/x"}, "backend 'oryx-tiny': unknown argument 'model_path'"),
        ("oryx-tiny", {"random_weights": True}, "unknown argument 'random_weights'"),
        ("oryx-tiny", {"video_max_sid": 320}, "did you mean 'video_max_side'"),
        (
            "oryx-tiny",
            {"video_max_side": "abc"},
            "argument video_max_side='abc': Input should be a valid integer",
        ),
        (
            "oryx-tiny",
            {"dtype": "fp8"},
            "argument dtype='fp8': Input should be 'float32', 'bfloat16' or 'float16'",
        ),
        ("oryx", {}, "backend 'oryx' needs --model-path DIR"),
        ("test-blind", {"seed": "x"}, "argument seed='x'"),
    ],
)
def test_bad_backend_arguments_are_one_line(tmp_path: Path, name: str, args: dict, message: str) -> None:
    with pytest.raises(BackendError) as info:
        build_backend(name, args, tmp_path)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_values_are_coerced_to_the_declared_type(tmp_path: Path) -> None:
    b = build_backend("test-blind", {"seed": "3"}, tmp_path)
    assert b.seed == 3
