"""Judge a run folder's MLVU generation records (``oryx-eval judge RUN_DIR``), resumably, into G-avg.

Per task with generation records: ``judge/<task>/judgements.jsonl`` (one line per (sample, compression),
see ``judgements``) and ``judge/<task>/g_avg.json`` (SSC, VS, G-avg per compression, counts, the judge),
both written atomically; the lines are rewritten after every batch, so an interrupted call loses at most
one batch. A later call sends only what has no reply yet for the same judge input (failed judgements,
new or changed predictions); lines judged by another model, prompt or temperature make it refuse unless
``rejudge``. Samples that failed in the run are never sent and are counted apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from oryx_eval.benchmarks.mlvu.judging import judge_item, judge_task
from oryx_eval.errors import JudgeError
from oryx_eval.judge.judgements import (
    REPLIED,
    Judgement,
    from_record,
    input_digest,
    not_judged,
    read_judgements,
    write_judgements,
)
from oryx_eval.judge.mlvu import JudgeItem, LLMJudge, aggregate
from oryx_eval.judge.mlvu_prompts import JudgeTask
from oryx_eval.records import SampleRecord
from oryx_eval.results import RUN_FILE, write_json_atomic
from oryx_eval.store import read_run_records

JUDGE_DIR = "judge"
JUDGEMENTS = "judgements.jsonl"
G_AVG = "g_avg.json"

Key = tuple[str, str]


@dataclass
class TaskOutcome:
    """What one call did for one task."""

    task: str
    out_dir: Path
    sent: int
    reused: int
    not_judged: int
    summary: dict[str, Any]


def generation_records(run_dir: Path) -> dict[str, list[tuple[SampleRecord, JudgeTask]]]:
    """The run's MLVU generation records per task (with their judge task), in the run's order."""
    if not (run_dir / RUN_FILE).is_file():
        raise JudgeError(f"{run_dir}: no {RUN_FILE}; give a run folder (results/<run_id>)")
    by: dict[str, list[tuple[SampleRecord, JudgeTask]]] = {}
    for r in read_run_records(run_dir):
        if (t := judge_task(r)) is not None:
            by.setdefault(r.task, []).append((r, t))
    if not by:
        raise JudgeError(
            f"{run_dir}: no MLVU generation records (sub-scene captioning, summary) to judge; "
            "run a generation task first (e.g. --tasks mlvu_dev_generation)"
        )
    return by


def _identity(desc: dict[str, Any]) -> dict[str, Any]:
    return {"judge_model": desc["model"], "prompt_sha256": desc["prompt_sha256"],
            "temperature": desc["temperature"]}  # fmt: skip


def _check_same_judge(path: Path, old: dict[Key, Judgement], desc: dict[str, Any]) -> None:
    now = _identity(desc)
    for j in old.values():
        if j.status in REPLIED and j.identity() != now:
            was = ", ".join(f"{k}={v}" for k, v in j.identity().items())
            ask = ", ".join(f"{k}={v}" for k, v in now.items())
            raise JudgeError(
                f"{path} was judged with {was}; this call asks for {ask}: pass --rejudge to judge every "
                "sample again, or call with the recorded judge"
            )


def _score(lines: list[Judgement], judge: LLMJudge) -> dict[str, Any]:
    """SSC, VS, G-avg and counts of one compression setting: the official averages over every reply
    (``calculate.py`` divides by the judged files, so an unparsed reply counts at its official 0), and,
    as a labelled diagnostic, the same over the parsed replies only."""
    score = aggregate([j.to_record() for j in lines if j.status != "not_judged"], judge)
    tasks = score.tasks
    n = {s: sum(j.status == s for j in lines) for s in ("judged", "unparsed", "judge_failed", "not_judged")}
    verdict = score.verdict
    judged = [j for j in lines if j.status == "judged"]
    parsed = {t: [sum(j.scores) for j in judged if j.task == t] for t in ("ssc", "summary")}
    only = {t: sum(v) / len(v) if v else None for t, v in parsed.items()}
    if n["not_judged"]:
        verdict += f"; {n['not_judged']} sample(s) failed in the run, not judged"
    return {
        "verdict": verdict, "g_avg": score.g_avg,
        "ssc": tasks["ssc"].total if "ssc" in tasks else None,
        "vs": tasks["summary"].total if "summary" in tasks else None,
        "n_judged": n["judged"] + n["unparsed"], "n_unparsed": n["unparsed"],
        "n_judge_failed": n["judge_failed"], "n_sample_failed": n["not_judged"],
        "tasks": {k: v.model_dump() for k, v in tasks.items()},
        # diagnostic, not official: unparsed replies left out instead of counted at their official 0
        "ssc_parsed_only": only["ssc"], "vs_parsed_only": only["summary"],
        "g_avg_parsed_only": None if None in only.values() else (only["ssc"] + only["summary"]) / 2,
    }  # fmt: skip


def summarise(task: str, lines: list[Judgement], judge: LLMJudge) -> dict[str, Any]:
    """The ``g_avg.json`` document: per compression setting, and the judge that produced the replies."""
    desc = judge.describe()
    comps = list(dict.fromkeys(j.compression for j in lines))
    urls = sorted({j.base_url for j in lines if j.status in REPLIED and j.base_url})
    return {
        "task": task, **_identity(desc), "base_url": desc["base_url"],
        **({"base_urls": urls} if len(urls) > 1 else {}),
        "by_compression": {c: _score([j for j in lines if j.compression == c], judge) for c in comps},
        "updated": datetime.now(timezone.utc).isoformat(), "judgements": JUDGEMENTS, "judge": desc,
    }  # fmt: skip


def judge_task_records(
    run_dir: Path, task: str, pairs: list[tuple[SampleRecord, JudgeTask]], judge: LLMJudge,
    rejudge: bool = False, batch: int = 16, on_progress: Callable[[int, int], None] | None = None,
) -> TaskOutcome:  # fmt: skip
    """Judge one task's records (see the module docstring); returns what was sent and the summary."""
    out_dir = run_dir / JUDGE_DIR / task
    path = out_dir / JUDGEMENTS
    desc = judge.describe()
    old = {} if rejudge else read_judgements(path)
    _check_same_judge(path, old, desc)
    order: list[Key] = []
    lines: dict[Key, Judgement] = {}
    pending: list[tuple[JudgeItem, str]] = []
    for r, t in pairs:
        key = (r.sample_id, r.compression)
        order.append(key)
        item = judge_item(r, t)
        if isinstance(item, str):
            lines[key] = not_judged(r.sample_id, r.compression, t, item)
        elif (prev := old.get(key)) and prev.status in REPLIED and prev.input_sha256 == input_digest(item):
            lines[key] = prev
        else:
            pending.append((item, r.compression))
    skipped = sum(j.status == "not_judged" for j in lines.values())
    reused = len(lines) - skipped
    out_dir.mkdir(parents=True, exist_ok=True)

    def flush() -> None:
        write_judgements(path, [lines[k] for k in order if k in lines], judge.redact)

    flush()
    for i in range(0, len(pending), max(1, batch)):
        part = pending[i : i + max(1, batch)]
        for (item, comp), rec in zip(part, judge.judge([it for it, _ in part]), strict=True):
            lines[(item.sample_id, comp)] = from_record(rec, item, comp, desc)
        flush()
        if on_progress is not None:
            on_progress(min(i + len(part), len(pending)), len(pending))
    summary = summarise(task, [lines[k] for k in order], judge)
    write_json_atomic(out_dir / G_AVG, summary)
    return TaskOutcome(task, out_dir, len(pending), reused, skipped, summary)


def judge_run(
    run_dir: Path, judge: LLMJudge, rejudge: bool = False, batch: int = 16,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> list[TaskOutcome]:  # fmt: skip
    """Judge every generation task of a run folder."""
    out = []
    for task, pairs in generation_records(Path(run_dir)).items():
        prog = None if on_progress is None else (lambda d, n, t=task: on_progress(t, d, n))
        out.append(judge_task_records(Path(run_dir), task, pairs, judge, rejudge, batch, prog))
    return out


def g_avg_lines(run_dir: Path) -> list[str]:
    """One line per (task, compression) judged in a run folder (``oryx-eval show``)."""
    out = []
    for p in sorted((Path(run_dir) / JUDGE_DIR).glob(f"*/{G_AVG}")):
        doc = json.loads(p.read_text())
        for comp, s in doc["by_compression"].items():
            g = f"- [{s['verdict']}]" if s["g_avg"] is None else f"{s['g_avg']:.3f}"
            parts = [f"SSC {s['ssc']:.3f}" if s["ssc"] is not None else "SSC -",
                     f"VS {s['vs']:.3f}" if s["vs"] is not None else "VS -"]  # fmt: skip
            counts = (f"{s['n_judged']} judged ({s['n_unparsed']} unparsed), {s['n_judge_failed']} judge "
                      f"failures, {s['n_sample_failed']} failed samples")  # fmt: skip
            out.append(
                f"G-avg {doc['task']} comp {comp}: {g} ({', '.join(parts)}; {counts}; judge "
                f"{doc['judge_model']} at {doc['base_url']}, prompt {doc['prompt_sha256']})"
            )
    return out
