"""Task schema: every shipped task validates; typos and bad names fail naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from oryx_eval.errors import TaskConfigError
from oryx_eval.schema import TASKS_DIR, list_tasks, load_task, validate_all


@pytest.mark.parametrize("name", list_tasks())
def test_shipped_tasks_validate(name: str) -> None:
    spec = load_task(TASKS_DIR / f"{name}.yaml")
    assert spec.name == name


def test_validate_all_reports_nothing_for_shipped() -> None:
    assert [e for _, e in validate_all() if e] == []
    assert "niah" in list_tasks()


def _mutate(src: Path, dst: Path, fn) -> Path:
    raw = yaml.safe_load(src.read_text())
    fn(raw)
    dst.write_text(yaml.safe_dump(raw))
    return dst


CASES = [
    ("top-level typo", lambda r: r.update(breakdown=[["x"]]), "breakdown"),
    ("nested typo", lambda r: r["generation"].update(max_new_tokns=3), "generation.max_new_tokns"),
    ("sampling typo", lambda r: r["media"]["sampling"].update(num_frame=3), "media.sampling.num_frame"),
    ("bad literal", lambda r: r["media"]["sampling"].update(mode="fast"), "media.sampling.mode"),
    ("unknown scorer", lambda r: r.update(scorer={"name": "exact_mtch"}), "exact_match"),
    ("unknown metric", lambda r: r.update(metrics=[{"name": "acc"}]), "accuracy"),
    (
        "bad metric arg",
        lambda r: r.update(metrics=[{"name": "accuracy", "args": {"faild": "x"}}]),
        "metrics[0]",
    ),
    ("unknown reader", lambda r: r["dataset"].update(reader="nope"), "dataset.reader"),
    ("bad reader arg", lambda r: r["dataset"]["args"].update(colour=1), "dataset.args.colour"),
    ("bad template", lambda r: r["prompt"].update(template="{question"), "prompt.template"),
    ("two sources", lambda r: r["dataset"]["source"].update(hf="x/y"), "dataset.source"),
]


@pytest.mark.parametrize(("label", "fn", "needle"), CASES, ids=[c[0] for c in CASES])
def test_bad_task_files_fail_with_field(mc_task: Path, tmp_path: Path, label: str, fn, needle: str) -> None:
    bad = _mutate(mc_task, tmp_path / "fixture_mc.yaml", fn)
    with pytest.raises(TaskConfigError) as e:
        load_task(bad)
    msg = str(e.value)
    assert str(bad) in msg and needle in msg, msg


def test_name_must_match_file(mc_task: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(mc_task.read_text())
    with pytest.raises(TaskConfigError, match="must equal the file name"):
        load_task(other)


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "broken.yaml"
    p.write_text("name: [unclosed\n")
    with pytest.raises(TaskConfigError, match="invalid YAML"):
        load_task(p)
    with pytest.raises(TaskConfigError, match="no such task file"):
        load_task(tmp_path / "absent.yaml")


def test_a_repeated_key_is_one_line_naming_the_key_and_line(mc_task: Path) -> None:
    # PyYAML keeps the last of two equal keys without a word; a task file's first value would be ignored
    text = mc_task.read_text()
    mc_task.write_text(text.replace("dataset:\n", "dataset:\n  reader: a\n  reader: b\n", 1))
    with pytest.raises(TaskConfigError) as e:
        load_task(mc_task)
    msg = str(e.value)
    assert "key 'reader' appears twice" in msg and "line " in msg and "\n" not in msg
