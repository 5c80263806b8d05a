"""A VideoMME-shaped fixture through `oryx-eval run` (in-process, the real CLI) at several worker counts.

The backend is the Oryx backend with its model swapped for the random-weight Oryx-7B the check already
built (registered here as `gpu-check-random`; tokenizer and loader from the tiny checkpoint). Each
backend call is timed, so the GPU's idle time between calls (waiting for decoded media) is measured.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from oryx_eval.backends.oryx import OryxBackend
from oryx_eval.errors import BackendError
from oryx_eval.registry import BACKENDS

NAME = "gpu-check-random"
CALLS: list[tuple[float, float]] = []  # (start, end) of every backend.generate call
READY: list[float] = []  # when each backend finished construction
STATE: dict[str, Any] = {}  # "model" (the prebuilt OryxModel) and "tiny_ckpt", set by the check

TASK = """\
name: gpu_check_videomme_shaped
version: 1
dataset:
  reader: table
  source: {{path: {data}, media_dir: {media}}}
  args: {{media_kind: video}}
media:
  kind: video
  sampling: {{num_frames: {frames}, mode: exact, backend: pyav}}
prompt:
  template: "{{question}}\\n{{options}}\\nAnswer with the option's letter from the given choices directly."
generation: {{max_new_tokens: {answer_tokens}}}
"""


class _TimedRandomBackend(OryxBackend):
    """OryxBackend around the prebuilt random model; records the wall interval of every generate call."""

    def __init__(self, device: str, dtype: str, attn_backend: str) -> None:
        super().__init__(model_path=STATE["tiny_ckpt"], dtype=dtype, device=device, attn_backend=attn_backend)  # type: ignore[arg-type]
        m = STATE["model"]
        if str(m.device).split(":")[0] != device.split(":")[0]:
            raise BackendError(f"{NAME}: the prebuilt model is on {m.device}, not {device}")
        self.model = m
        self.name = NAME
        self._random = True
        self._identity = {
            "random_init": "Oryx-7B dims" if m.config.llm["hidden_size"] == 3584 else "tiny dims"
        }
        READY.append(time.perf_counter())

    def generate(self, requests):  # noqa: ANN001, ANN201 - same contract as OryxBackend.generate
        t0 = time.perf_counter()
        try:
            return super().generate(requests)
        finally:
            CALLS.append((t0, time.perf_counter()))


if NAME not in BACKENDS:

    @BACKENDS.register(NAME)
    def _factory(device: str = "cuda", dtype: str = "bfloat16", attn_backend: str = "sdpa") -> OryxBackend:
        if "model" not in STATE:
            raise BackendError(f"{NAME}: no prebuilt model (only bench/gpu_check.py sets one)")
        return _TimedRandomBackend(device, dtype, attn_backend)


def prepare(fixture: Path, work: Path, videos: int, frames: int, answer_tokens: int) -> tuple[Path, dict]:
    """Copy the fixture clips to `videos` distinct files, 3 questions each; write the table and task YAML."""
    meta = json.loads((fixture / "fixture.json").read_text())
    media = work / "videos"
    media.mkdir(parents=True, exist_ok=True)
    rows = []
    for v in range(videos):
        clip = meta["clips"][v % len(meta["clips"])]["file"]
        shutil.copyfile(fixture / clip, media / f"v{v}.mp4")  # a distinct file: decoded, never a cache hit
        for q in range(3):
            rows.append(
                {
                    "id": f"v{v}-q{q}",
                    "question": f"Question {q} about video {v}: what happens?",
                    "choices": ["a bicycle", "a bus", "a dog", "a tree"],
                    "target": "ABCD"[q],
                    "media": f"v{v}.mp4",
                }
            )
    data = work / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = work / "gpu_check_videomme_shaped.yaml"
    task.write_text(TASK.format(data=data, media=media, frames=frames, answer_tokens=answer_tokens))
    return task, meta


def _run_cli(args: list[str]) -> int:
    """The `oryx-eval` command in this process; its exit code (non-standalone click returns it)."""
    import typer

    from cli import app

    try:
        rv = typer.main.get_command(app).main(args=args, standalone_mode=False)
    except SystemExit as e:
        return int(e.code or 0)
    except Exception as e:  # an Exit that some click/typer versions raise instead of returning
        code = getattr(e, "exit_code", None)
        if code is None:
            raise
        return int(code)
    return rv if isinstance(rv, int) else 0


def one_run(task: Path, out: Path, workers: int, device: str, dtype: str) -> dict[str, Any]:
    """`oryx-eval run` with `workers` decode workers (prefetch window = max(4, workers)); timings."""
    CALLS.clear()
    READY.clear()
    prefetch = max(4, workers)
    args = [
        "run",
        "--tasks",
        str(task),
        "--model",
        NAME,
        "--device",
        device,
        "--dtype",
        dtype,
        "--workers",
        str(workers),
        "--prefetch",
        str(prefetch),
        "--output",
        str(out),
        "--run-id",
        f"w{workers}",
        "--cache-dir",
        str(out / "cache"),
    ]
    t0 = time.perf_counter()
    rc = _run_cli(args)
    wall = time.perf_counter() - t0
    if rc != 0:
        raise RuntimeError(f"oryx-eval {' '.join(args)} exited {rc}")
    recs = [json.loads(x) for x in (out / f"w{workers}" / "samples.jsonl").read_text().splitlines() if x]
    errors = [r["error"] for r in recs if r.get("error")]
    ready, calls = READY[-1], list(CALLS)
    span = calls[-1][1] - ready
    busy = sum(b - a for a, b in calls)
    pre = sum(r["latency_s"]["preprocess"] for r in recs)
    dec = sum(r["latency_s"]["decode"] for r in recs)
    n_videos = len({r["sample_id"].split("-")[0] for r in recs})
    return {
        "workers": workers,
        "prefetch": prefetch,
        "questions": len(recs),
        "videos": n_videos,
        "failed": len(errors),
        "first_error": errors[0] if errors else None,
        "cli_wall_s": wall,
        "span_s": span,
        "questions_per_s": len(recs) / span,
        "gpu_waited_for_media_share": 1 - busy / span,
        "first_media_wait_s": calls[0][0] - ready,
        "main_thread_preprocess_share": pre / span,
        "backend_busy_s_per_video": busy / n_videos,
        "decode_s_per_video": dec / n_videos,
    }


def run_all(
    fixture: Path,
    work: Path,
    workers: tuple[int, ...],
    frames: int,
    answer_tokens: int,
    videos: int,
    device: str,
    dtype: str,
    time_left: Any,
    first_estimate_s: float = 30.0,
) -> dict[str, Any]:
    """Every worker count in turn while the budget lasts; one failing setting does not stop the others."""
    if not (fixture / "fixture.json").exists():
        raise FileNotFoundError(
            f"{fixture}/fixture.json missing: run bench/make_gpu_fixture.py --out {fixture}"
        )
    task, meta = prepare(fixture, work / "data", videos, frames, answer_tokens)
    runs: list[dict[str, Any]] = []
    for w in workers:
        last = runs[-1].get("cli_wall_s", first_estimate_s) if runs else first_estimate_s
        if time_left() < 1.5 * last + 10:
            runs.append({"workers": w, "status": f"skipped: time budget ({time_left():.0f} s left)"})
            continue
        try:
            runs.append(one_run(task, work / "runs", w, device, dtype))
        except Exception as e:  # noqa: BLE001 - recorded, the next setting still runs
            runs.append({"workers": w, "status": f"error: {type(e).__name__}: {str(e)[:300]}"})
    ok = [r for r in runs if "questions_per_s" in r]
    best = max(ok, key=lambda r: r["questions_per_s"]) if ok else None
    return {
        "fixture": meta,
        "videos": videos,
        "frames": frames,
        "answer_tokens": answer_tokens,
        "runs": runs,
        "best": best,
    }
