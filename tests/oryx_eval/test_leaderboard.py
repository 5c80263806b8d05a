"""Leaderboard: rows from real run folders, reference rows, exports that parse back, HTML in Chromium."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from oryx_eval.leaderboard import REPORTED, LeaderboardError, build
from oryx_eval.leaderboard_export import to_latex, to_markdown, write_all
from oryx_eval.run_summary import summarise_run
from tests.oryx_eval.browser import Elements, dump_dom, needs_chromium
from tests.oryx_eval.fixtures import make_task
from tests.oryx_eval.runs import make_run, niah_task

REF = """\
reported:
  - model: Oryx-7B
    setting: paper 64 frames
    source: arXiv 2409.12961 Table 2
    scores: {niah_small: 91.5}
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("lb")
    niah = niah_task(tmp)
    mc = make_task(tmp / "mc")
    make_run(tmp, [niah], "test-oracle", "oracle", compressions=["4", "16"])
    make_run(tmp, [niah, mc], "test-blind", "blind")
    (tmp / "ref.yaml").write_text(REF)
    return tmp


def _lb(results: Path, **kw):
    return build([results / "results"], reference=results / "ref.yaml", **kw)


def test_rows_cells_and_missing_task(results: Path) -> None:
    lb = _lb(results)
    assert lb.tasks == ["niah_small", "fixture_mc"]
    keys = [(r.model, r.setting, r.reported) for r in lb.rows]
    assert keys == [
        ("test-blind", "c4", False), ("test-oracle", "c4", False), ("test-oracle", "c16", False),
        ("Oryx-7B", "paper 64 frames", True),
    ]  # fmt: skip
    oracle = lb.rows[1]
    assert oracle.cells["niah_small"].value == 1.0 and "fixture_mc" not in oracle.cells  # empty cell
    blind = summarise_run(results / "results" / "blind")
    cell = next(r for r in blind.rows if r.task == "fixture_mc")
    assert lb.rows[0].cells["fixture_mc"].value == cell.ci.value and lb.rows[0].cells["fixture_mc"].n == 12
    assert cell.ci.low <= cell.ci.value <= cell.ci.high
    assert (cell.ci.cluster, cell.ci.n_clusters, cell.ci.n) == ("media", 6, 12)  # 2 questions per video
    assert lb.rows[3].cells["niah_small"].value == pytest.approx(0.915)


def test_selection_and_errors(results: Path) -> None:
    lb = _lb(results, tasks=["fixture_mc"], columns=["ci"], models="blind")
    assert lb.tasks == ["fixture_mc"] and [r.model for r in lb.rows] == ["test-blind"]
    with pytest.raises(LeaderboardError, match="--columns"):
        _lb(results, columns=["bogus"])
    with pytest.raises(LeaderboardError, match="not in any row"):
        _lb(results, tasks=["nope"])
    with pytest.raises(LeaderboardError, match="no such results folder"):
        build([results / "missing"])
    bad = results / "bad.yaml"
    bad.write_text("reported:\n  - model: x\n    source: y\n    scores: {a: 1}\n    colour: red\n")
    with pytest.raises(LeaderboardError, match="colour"):
        build([results / "results"], reference=bad)


def test_exports_parse_back(results: Path, tmp_path: Path) -> None:
    lb = _lb(results)
    paths = write_all(lb, tmp_path, ["md", "csv", "tex", "html"])
    assert [p.name for p in paths] == [
        "leaderboard.md",
        "leaderboard.csv",
        "leaderboard.tex",
        "leaderboard.html",
    ]
    df = pd.read_csv(tmp_path / "leaderboard.csv")
    assert list(df["model"]) == ["test-blind", "test-oracle", "test-oracle", "Oryx-7B"]
    assert df.loc[1, "niah_small"] == 1.0 and pd.isna(df.loc[1, "fixture_mc"])
    assert df.loc[0, "fixture_mc"] == lb.rows[0].cells["fixture_mc"].value
    assert list(df["reported"]) == [False, False, False, True]
    assert df.loc[0, "fixture_mc_ci_low"] <= df.loc[0, "fixture_mc"] <= df.loc[0, "fixture_mc_ci_high"]

    md = to_markdown(lb).splitlines()
    table = [ln for ln in md if ln.startswith("|")]
    cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in table]
    assert cells[0][:4] == ["model", "setting", "niah_small", "fixture_mc"]
    assert all(len(c) == len(cells[0]) for c in cells) and len(cells) == 2 + 4
    assert cells[3][2].startswith("100.0 [100.0, 100.0]") and cells[3][3] == ""  # oracle: no fixture_mc
    assert cells[5][0] == f"Oryx-7B ({REPORTED})" and cells[5][2] == "91.5"

    tex = to_latex(lb)
    lines = tex.strip().splitlines()
    assert lines[0].startswith(r"\begin{tabular}{ll") and lines[1] == r"\toprule" and lines[3] == r"\midrule"
    assert lines[-3] == r"\bottomrule" and lines[-2] == r"\end{tabular}"
    ncols = len(re.search(r"\{(l+r*)\}", lines[0]).group(1))
    body = [ln for ln in lines[2:-3] if ln.endswith(r"\\")]
    assert len(body) == 1 + 4
    for ln in body:  # every row has exactly ncols cells (escaped \& does not split)
        assert len(re.split(r"(?<!\\)&", ln)) == ncols
    assert r"\textit{Oryx-7B$^\dagger$}" in tex and r"niah\_small" in tex and r"\%" not in lines[2]


def _png_from_data_uri(src: str) -> Image.Image:
    assert src.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))


@needs_chromium
def test_html_in_chromium(results: Path, tmp_path: Path) -> None:
    lb = _lb(results)
    page = write_all(lb, tmp_path, ["html"])[0]
    text = page.read_text()
    assert "http://" not in text and "https://" not in text  # self-contained
    dom = Elements(dump_dom(page))
    heads = [t for _, t in dom.find("th")]
    assert heads[:4] == ["model", "setting", "niah_small", "fixture_mc"]
    rows = [a for a, _ in dom.find("tr") if a.get("title") is not None]
    assert len(rows) == 4
    tds = [t for _, t in dom.find("td")]
    assert "100.0 [100.0, 100.0]" in tds and f"Oryx-7B ({REPORTED})" in tds
    imgs = dom.find("img")
    assert len(imgs) == 2 and all(_png_from_data_uri(a["src"]).size[0] > 100 for a, _ in imgs)

    def first_col(query: str) -> list[str]:
        d = Elements(dump_dom(page, query))
        ths = [t for _, t in d.find("th")]
        tds = [t for _, t in d.find("td")]
        return [tds[i] for i in range(0, len(tds), len(ths))], [
            tds[i + 2] for i in range(0, len(tds), len(ths))
        ]

    models, niah = first_col("sort=niah_small&dir=desc")
    assert (
        niah[:2] == ["100.0 [100.0, 100.0]", "100.0 [100.0, 100.0]"] and models[2] == f"Oryx-7B ({REPORTED})"
    )
    models, niah = first_col("sort=niah_small")
    assert models[0] == "test-blind" and models[1] == f"Oryx-7B ({REPORTED})"
    models, _ = first_col("sort=fixture_mc&dir=desc")
    assert models[0] == "test-blind"  # rows without the task sort last either way
