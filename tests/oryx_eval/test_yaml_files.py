"""`load_yaml` / `yaml_problem`: the strict reader of every user YAML file (tasks, sweeps, references)."""

from __future__ import annotations

import pytest
import yaml

from oryx_eval.leaderboard import LeaderboardError, load_reference
from oryx_eval.yaml_files import load_yaml, yaml_problem


def test_equal_keys_in_one_mapping_are_refused_at_any_depth() -> None:
    assert load_yaml("a: {b: 1, c: 2}\nd: [1, {b: 1}]\n") == {"a": {"b": 1, "c": 2}, "d": [1, {"b": 1}]}
    with pytest.raises(yaml.YAMLError) as e:
        load_yaml("a:\n  b: 1\n  b: 2\n")
    assert yaml_problem(e.value) == "line 3, column 3: key 'b' appears twice in one mapping"


def test_syntax_errors_become_one_line() -> None:
    with pytest.raises(yaml.YAMLError) as e:
        load_yaml("a: [unclosed\n")
    line = yaml_problem(e.value)
    assert "\n" not in line and line.startswith("line 2, column 1:")


def test_a_reference_file_with_a_repeated_key_is_one_line(tmp_path) -> None:
    f = tmp_path / "ref.yaml"
    f.write_text("reported: []\nreported: []\n")
    with pytest.raises(LeaderboardError, match=r"ref.yaml: invalid YAML: line 2, column 1: key 'reported'"):
        load_reference(f)
