"""Every user mistake is one line naming the argument and what is accepted, exit 2, nothing written
(issue 7 item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from tests.oryx_eval.fixtures import make_task

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def task(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_task(tmp_path_factory.mktemp("t"), n_videos=2, questions_per_video=1, bad=False)


CASES = [
    ("resume-missing", ["--model", "test-blind", "--run-id", "nope", "--resume"], "--resume: no run folder"),
    ("limit-0", ["--model", "test-blind", "--limit", "0"], "has 0 samples (--limit 0)"),
    ("device-cuda", ["--model", "oryx-tiny", "--device", "cuda"], "--device cuda: CUDA is not available"),
    ("attn-flash", ["--model", "oryx-tiny", "--attn", "flash"], "pip install 'oryx-eval[flash]'"),
    ("model-arg-type", ["--model", "oryx-tiny", "--model-arg", "video_max_side=big"], "video_max_side='big'"),
    ("frames-0", ["--model", "test-blind", "--frames", "0"], "--frames 0: expected a frame count >= 1"),
    ("frames-fixed", ["--model", "test-blind", "--frames", "8", "--tasks", "niah"], "cannot change them"),
    ("compression-dup", ["--model", "test-blind", "--compression", "4,4"], "4 given twice"),
    ("compression-bad", ["--model", "test-blind", "--compression", "8"], "expected 1, 4, 16 or auto"),
    ("model-path", ["--model", "oryx", "--model-path", "/no/such/ckpt"], "/no/such/ckpt: no such directory"),
    ("dtype", ["--model", "oryx-tiny", "--dtype", "fp8"], "argument dtype='fp8'"),
    ("max-failures", ["--model", "test-blind", "--max-failures", "lots"], "--max-failures 'lots'"),
    ("retry-no-resume", ["--model", "test-blind", "--retry-failed"], "--retry-failed needs --resume"),
]


@pytest.mark.parametrize(("case", "args", "message"), CASES, ids=[c[0] for c in CASES])
def test_user_mistake(task: Path, tmp_path: Path, case: str, args: list[str], message: str) -> None:
    out = tmp_path / "out"
    base = ["run", "--output", str(out), "--cache-dir", str(tmp_path / "cache")]
    if "--tasks" not in args:
        base += ["--tasks", str(task)]
    res = CliRunner().invoke(app, base + args)
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0], res.output
    assert "Traceback" not in res.output
    assert not out.exists() or not any(out.iterdir())  # no run folder left behind
