"""Run folder bookkeeping (issue 6 items 1-6): identity-checked resume, every shard read whatever the
world size, keyed merge, refusal of a folder holding records, torn-line repair agreeing with "done",
atomic retry, resume without --run-id."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oryx_eval.errors import RunStoreError
from oryx_eval.results import load_run, read_samples, repair_jsonl, save_run
from oryx_eval.runner import RunOptions, run
from oryx_eval.store import merge_records, record_key
from tests.oryx_eval.fixtures import make_task

ROOT = Path(__file__).resolve().parents[2]


def _opts(task: Path, out: Path, **kw) -> RunOptions:
    base = dict(
        tasks=[str(task)], backend="test-blind", output_dir=out, run_id="r", progress=False,
        cache_dir=out / "cache", max_failures="100%",
    )  # fmt: skip
    base.update(kw)
    return RunOptions(**base)


def _keys(recs) -> list[tuple]:
    return sorted(record_key(r) for r in recs)


def _split_into_shards(run_dir: Path, world: int, keep_every: int = 1) -> list:
    """Turn a finished run into what a killed ``world``-rank run leaves: per-rank shards, no samples.jsonl,
    status "started"; every ``keep_every``-th record per shard is kept (the rest were never written)."""
    recs = read_samples(run_dir / "samples.jsonl")
    (run_dir / "samples.jsonl").unlink()
    kept = []
    for r in range(world):
        mine = [x for i, x in enumerate(recs) if i % world == r][::keep_every]
        kept += mine
        (run_dir / f"samples.rank{r}.jsonl").write_text("".join(x.model_dump_json() + "\n" for x in mine))
    rec = load_run(run_dir)
    save_run(run_dir, rec.model_copy(update={"status": "started"}))
    return kept


def test_resume_reads_every_shard_of_another_world_size(mc_task: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    full = run(_opts(mc_task, out, compressions=["4", "16"]))
    kept = _split_into_shards(full.run_dir, world=3, keep_every=2)
    assert 0 < len(kept) < 24
    res = run(_opts(mc_task, out, compressions=["4", "16"], resume=True))
    assert _keys(res.samples) == _keys(full.samples)  # nothing redone twice, nothing lost
    assert len(res.samples) == len({record_key(r) for r in res.samples}) == 24
    assert not list(res.run_dir.glob("samples.rank*.jsonl"))  # merged and removed
    overall = [m for m in res.record.metrics if m.name == "accuracy" and m.group is None]
    assert {m.n for m in overall} == {12}
    kept_keys = {record_key(r): r.model_dump() for r in kept}
    again = {record_key(r): r.model_dump() for r in res.samples}
    assert all(again[k] == v for k, v in kept_keys.items())  # recorded samples were not rerun


def test_resume_a_three_rank_run_with_two_ranks(mc_task: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    full = run(_opts(mc_task, out, compressions=["4", "16"]))
    _split_into_shards(full.run_dir, world=3, keep_every=2)
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29541",
        str(ROOT / "cli.py"), "run", "--tasks", str(mc_task), "--model", "test-blind", "--output", str(out),
        "--run-id", "r", "--resume", "--cache-dir", str(out / "cache"), "--compression", "4,16",
        "--max-failures", "100%",
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    merged = read_samples(out / "r" / "samples.jsonl")
    assert len(merged) == len({record_key(r) for r in merged}) == 24
    assert _keys(merged) == _keys(full.samples)
    rec = load_run(out / "r")
    assert rec.status == "success" and rec.progress.recorded == 24
    assert [s["world_size"] for s in rec.sessions] == [1, 2]


def test_conflicting_duplicates_are_an_error(mc_task: Path, tmp_path: Path) -> None:
    res = run(_opts(mc_task, tmp_path / "out"))
    a = res.samples[0]
    b = a.model_copy(update={"output": a.output + " (other)"})
    assert len(merge_records([(Path("x"), [a]), (Path("y"), [a])])) == 1  # identical: dropped
    with pytest.raises(RunStoreError, match=r"conflicting records .* in x and y"):
        merge_records([(Path("x"), [a]), (Path("y"), [b])])
    (res.run_dir / "samples.rank1.jsonl").write_text(b.model_dump_json() + "\n")
    with pytest.raises(RunStoreError, match="conflicting records"):
        run(_opts(mc_task, tmp_path / "out", resume=True))


def test_new_run_refuses_a_folder_holding_shards(mc_task: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run(_opts(mc_task, out))
    _split_into_shards(res.run_dir, world=2)
    (res.run_dir / "run.json").unlink()  # even without run.json, the records are not adopted
    with pytest.raises(RunStoreError, match=r"already holds a run \(samples.rank0.jsonl"):
        run(_opts(mc_task, out, seed=7))
    assert not (res.run_dir / "samples.jsonl").exists()  # nothing was written


def test_repair_keeps_a_complete_last_record_without_newline(mc_task: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    full = run(_opts(mc_task, out))
    samples = full.run_dir / "samples.jsonl"
    data = samples.read_bytes()
    samples.write_bytes(data[:-1])  # the last record lacks only its newline
    assert len(read_samples(samples)) == 12  # counted as done ...
    repair_jsonl(samples)
    assert samples.read_bytes() == data  # ... and kept by the repair
    samples.write_bytes(data[:-20])  # a torn record: not done, and cut
    assert len(read_samples(samples)) == 11
    repair_jsonl(samples)
    assert len(read_samples(samples)) == 11 and samples.read_bytes().endswith(b"\n")
    samples.write_bytes(data[:-1])
    save_run(full.run_dir, load_run(full.run_dir).model_copy(update={"status": "started"}))
    res = run(_opts(mc_task, out, resume=True))
    assert _keys(res.samples) == _keys(full.samples)


def test_retry_failed_rewrites_by_rename(mc_task: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run(_opts(mc_task, out))
    inode = (first.run_dir / "samples.jsonl").stat().st_ino
    import oryx_eval.store as store_mod

    calls = []
    real = store_mod.write_text_atomic
    store_mod.write_text_atomic = lambda p, t: (calls.append(p), real(p, t))[1]
    try:
        again = run(_opts(mc_task, out, resume=True, retry_failed=True))
    finally:
        store_mod.write_text_atomic = real
    assert first.run_dir / "samples.jsonl" in calls  # the failed records were dropped by write + rename
    assert (again.run_dir / "samples.jsonl").stat().st_ino != inode
    assert len(again.samples) == 12 and sum(r.error is not None for r in again.samples) == 4


def test_resume_keeps_the_recorded_spec_and_adds_a_session(mc_task: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run(_opts(mc_task, out, compressions=["4", "16"]))
    spec = json.loads((first.run_dir / "run.json").read_text())["spec"]
    again = run(_opts(mc_task, out, compressions=["16", "4"], resume=True, workers=1))  # a set: same run
    rec = json.loads((again.run_dir / "run.json").read_text())
    assert rec["spec"] == spec and len(rec["sessions"]) == 2 and rec["sessions"][1]["resumed"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"seed": 3}, "seed: recorded null, now 3"),
        ({"backend_args": {"seed": 5}}, "backend_args.seed: recorded absent, now 5"),
        ({"compressions": ["4", "16"]}, "compressions"),
        ({"frames": 2}, "frames"),
    ],
)
def test_resume_refuses_another_identity(mc_task: Path, tmp_path: Path, change: dict, named: str) -> None:
    out = tmp_path / "out"
    run(_opts(mc_task, out))
    with pytest.raises(RunStoreError, match=rf"cannot resume .*{named}"):
        run(_opts(mc_task, out, resume=True, **change))


def test_task_file_change_refuses_resume(mc_task: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(_opts(mc_task, out))
    mc_task.write_text(mc_task.read_text().replace("max_new_tokens: 4", "max_new_tokens: 5"))
    with pytest.raises(RunStoreError, match=r"tasks\.fixture_mc\.digest"):
        run(_opts(mc_task, out, resume=True))


def test_resume_without_run_id_takes_the_latest_matching_run(mc_task: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(_opts(mc_task, out, run_id="old"))
    run(_opts(mc_task, out, run_id="other", seed=9))
    notes: list[str] = []
    res = run(_opts(mc_task, out, run_id=None, resume=True), log=notes.append)
    assert res.run_dir.name == "old" and "resuming" in notes[0] and "old" in notes[0]
    with pytest.raises(RunStoreError, match="no run under .* was made with these settings"):
        run(_opts(mc_task, out, run_id=None, resume=True, seed=4))


def test_resume_command_continues_a_run_dir(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    task = make_task(tmp_path / "t", n_videos=3, questions_per_video=2)
    out = tmp_path / "out"
    first = run(_opts(task, out, compressions=["4", "16"]))
    kept = _split_into_shards(first.run_dir, world=1)[:5]
    (first.run_dir / "samples.rank0.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in kept))
    res = CliRunner().invoke(app, ["resume", str(first.run_dir)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert _keys(read_samples(first.run_dir / "samples.jsonl")) == _keys(first.samples)
    missing = CliRunner().invoke(app, ["resume", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no run.json" in missing.output
