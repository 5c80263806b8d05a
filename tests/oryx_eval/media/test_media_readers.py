"""The video reader registry: known names build their reader, unknown names and modes are refused."""

from __future__ import annotations

import pytest

from oryx_eval.errors import TaskConfigError
from oryx_eval.media.readers import READERS, get_reader


def test_get_reader_rejects_unknown_backend_and_mode() -> None:
    assert sorted(READERS) == ["decord", "pyav", "torchcodec"]
    assert get_reader("pyav", "keyframe_snap").name == "pyav"
    valid = "valid: decord, pyav, torchcodec"
    with pytest.raises(TaskConfigError, match=f"unknown video backend 'opencv'; {valid}"):
        get_reader("opencv")
    with pytest.raises(TaskConfigError, match="mode 'uniform_fast' is not supported by video backend 'pyav'"):
        get_reader("pyav", "uniform_fast")
