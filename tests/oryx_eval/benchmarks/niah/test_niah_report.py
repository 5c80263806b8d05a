"""NIAH report: LongVA all_accuracies.json / avg_accuracy.txt, a real heatmap PNG, per-compression files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from oryx_eval.benchmarks.niah.heatmap import CHANCE
from oryx_eval.benchmarks.niah.report import frame_label, niah_report
from oryx_eval.records import FramesInfo, SampleRecord
from oryx_eval.registry import REPORTS


def _rec(
    n: int,
    depth: int,
    score: float | None,
    comp: str = "4",
    error: str | None = None,
    indices: list[int] | None = None,
    needle: str = "shape",
    task: str = "niah",
) -> SampleRecord:
    pos = int(depth / 100 * n)
    return SampleRecord(
        sample_id=f"niah/n{n}/d{depth}/{needle}/{score}/{error}",
        task=task,
        compression=comp,
        score=score,
        error=error,
        frames=FramesInfo(count=n + 1, indices=list(range(n + 1)) if indices is None else indices),
        metadata={"num_frames": n, "depth": depth, "needle": needle, "needle_indices": [pos]},
    )


RECORDS = [
    _rec(8, 0, 1.0),
    _rec(8, 0, 0.0, needle="code_word"),
    _rec(8, 50, 1.0),
    _rec(8, 50, None, error="MediaError: boom", needle="code_word"),
    _rec(1200, 0, 1.0),
    _rec(1200, 0, 1.0, needle="code_word"),
    _rec(1200, 50, 0.0, indices=[0, 1, 2]),  # the sampler skipped the needle at 600
    _rec(1200, 50, 0.0, needle="code_word"),
    _rec(8, 0, 1.0, task="other_task"),  # ignored
]


def test_longva_files(tmp_path: Path) -> None:
    assert REPORTS.get("niah_heatmap") is niah_report
    paths = niah_report(RECORDS, tmp_path, "niah")
    names = sorted(p.name for p in paths)
    assert names == [
        "all_accuracies.json", "avg_accuracy.txt", "heatmap.json", "heatmap.png", "heatmap.svg",
        "niah_summary.json",
    ]  # fmt: skip
    assert all(p.is_file() for p in paths)
    acc = json.loads((tmp_path / "all_accuracies.json").read_text())
    assert acc == [
        {"Num. Frame": 8, "Frame Depth": 0.0, "Score": 0.5},
        {"Num. Frame": 8, "Frame Depth": 50.0, "Score": 0.5},
        {"Num. Frame": 1200, "Frame Depth": 0.0, "Score": 1.0},
        {"Num. Frame": 1200, "Frame Depth": 50.0, "Score": 0.0},
    ]
    assert all(isinstance(r["Frame Depth"], float) and isinstance(r["Num. Frame"], int) for r in acc)
    avg = (tmp_path / "avg_accuracy.txt").read_text().splitlines()
    assert avg[0] == "Average Accuracy: 0.5"  # LongVA's line; the failure count follows it
    assert avg[1:] == ["(1 failed samples counted as wrong; see niah_summary.json)"]
    summary = json.loads((tmp_path / "niah_summary.json").read_text())
    assert summary["errors"] == 1 and summary["error_ids"] == [RECORDS[3].sample_id]
    assert summary["needle_missed"] == 1 and summary["needle_missed_ids"] == [RECORDS[6].sample_id]
    assert summary["n_samples"] == 8 and summary["n_cells"] == 4
    assert summary["by_depth"] == {"0": 0.75, "50": 0.25}
    assert summary["by_num_frames"] == {"8": 0.5, "1200": 0.5}


def _has_colour(img: np.ndarray, rgb: tuple[int, int, int], tol: int = 6) -> bool:
    return bool((np.abs(img[..., :3].astype(int) - np.array(rgb)).max(axis=-1) <= tol).any())


def test_heatmap_png_and_svg(tmp_path: Path) -> None:
    from matplotlib import colormaps
    from matplotlib.colors import TwoSlopeNorm

    recs = RECORDS + [_rec(1200, 100, None, error="BackendError: prompt longer than max_length 32768")]
    niah_report(recs, tmp_path, "niah")
    with Image.open(tmp_path / "heatmap.png") as im:
        im.verify()
    with Image.open(tmp_path / "heatmap.png") as im:
        assert im.format == "PNG"
        pix = np.asarray(im.convert("RGB"))
    # score 0 and 1 cells carry the diverging map's ends; the scale is centred on chance
    norm, cmap = TwoSlopeNorm(vmin=0.0, vcenter=CHANCE, vmax=1.0), colormaps["RdBu"]
    for v in (0.0, 1.0):
        rgb = tuple(int(round(255 * c)) for c in cmap(norm(v))[:3])
        assert _has_colour(pix, rgb), v
    svg = (tmp_path / "heatmap.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    assert "max_length 32768" in svg  # the failure reason is in the legend (SVG text kept as text)


def test_heatmap_json_equals_metrics(tmp_path: Path) -> None:
    """The cells the figure draws, read back from heatmap.json, equal the accuracy metric per cell."""
    from oryx_eval.scoring.metrics import accuracy

    recs = [r.model_copy(update={"compression": c}) for c in ("1", "16") for r in RECORDS[:8]]
    recs += [_rec(64, 0, None, comp="16", error="BackendError: prompt longer than max_length 32768")]
    niah_report(recs, tmp_path, "niah")
    data = json.loads((tmp_path / "heatmap.json").read_text())
    assert [p["compression"] for p in data["panels"]] == ["1", "16"]  # side by side, numeric order
    for panel in data["panels"]:
        comp = panel["compression"]
        for cell in panel["cells"]:
            mine = [
                r for r in recs
                if r.compression == comp and r.metadata["num_frames"] == cell["num_frames"]
                and r.metadata["depth"] == cell["depth"]
            ]  # fmt: skip
            assert cell["value"] == accuracy(mine) and cell["n"] == len(mine)
            assert cell["failed"] == sum(r.error is not None for r in mine)
    failed = [c for c in data["panels"][1]["cells"] if c["num_frames"] == 64]
    assert failed == [
        {"num_frames": 64, "depth": 0, "value": 0.0, "n": 1, "failed": 1,
         "reason": "BackendError: prompt longer than max_length 32768", "fed": [], "does_not_fit": 0}
    ]  # fmt: skip
    assert "compression 16" in data["panels"][1]["label"] and data["title"].startswith("niah: ")


def test_per_compression_suffixes(tmp_path: Path) -> None:
    recs = [r.model_copy(update={"compression": "1"}) for r in RECORDS[:4]]
    recs += [r.model_copy(update={"compression": "16"}) for r in RECORDS[4:8]]
    paths = niah_report(recs, tmp_path, "niah")
    per_comp = [
        f"{stem}_c{c}.{ext}"
        for c in ("1", "16")
        for stem, ext in (("all_accuracies", "json"), ("avg_accuracy", "txt"), ("niah_summary", "json"))
    ]
    assert sorted(p.name for p in paths) == sorted(per_comp + ["heatmap.json", "heatmap.png", "heatmap.svg"])
    assert not (tmp_path / "all_accuracies.json").exists()
    assert (tmp_path / "avg_accuracy_c1.txt").read_text().startswith("Average Accuracy: 0.5\n")
    assert (tmp_path / "avg_accuracy_c16.txt").read_text().startswith("Average Accuracy: 0.5\n")
    c16 = json.loads((tmp_path / "all_accuracies_c16.json").read_text())
    assert [r["Num. Frame"] for r in c16] == [1200, 1200]


def test_frame_labels() -> None:
    assert [frame_label(n) for n in (200, 999, 1000, 1200, 3000)] == ["200", "999", "1.0K", "1.2K", "3.0K"]


def test_bad_records(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="neither a score nor an error"):
        niah_report([_rec(8, 0, None)], tmp_path, "niah")
    no_meta = SampleRecord(sample_id="x", task="niah", compression="4", score=1.0)
    with pytest.raises(ValueError, match="'x' lacks metadata 'num_frames'"):
        niah_report([no_meta], tmp_path, "niah")
    with pytest.raises(ValueError, match="no records of task"):
        niah_report(RECORDS, tmp_path, "missing_task")
    with pytest.raises(ValueError, match="unknown options"):
        niah_report(RECORDS, tmp_path, "niah", annotate=True)


def test_cells_that_do_not_fit_are_not_scored(tmp_path: Path) -> None:
    """niah_long columns longer than the model's context: "does not fit", never a 0 (issue 6 item 15)."""

    def rec(n: int, d: float, ok: bool) -> SampleRecord:
        meta = {"num_frames": n, "depth": d, "needle": "shape", "needle_indices": [0], "replicate": 0}
        if ok:
            return SampleRecord(sample_id=f"{n}-{d}", task="t", compression="1", score=1.0, extracted="A",
                                metadata=meta)  # fmt: skip
        err = "prompt longer than max_length 64: 90 tokens"
        return SampleRecord(sample_id=f"{n}-{d}", task="t", compression="1", metadata=meta, error=err,
                            error_kind="overflow")  # fmt: skip

    recs = [rec(8, 0.0, True), rec(8, 1.0, True), rec(3000, 0.0, False), rec(3000, 1.0, False)]
    niah_report(recs, tmp_path, "t")
    rows = json.loads((tmp_path / "all_accuracies.json").read_text())
    assert {r["Num. Frame"] for r in rows} == {8}  # the 3000-frame column is not scored at all
    avg = (tmp_path / "avg_accuracy.txt").read_text()
    assert avg.startswith("Average Accuracy: 1.0\n") and "do not fit the model's context: 3000 frames" in avg
    cells = json.loads((tmp_path / "heatmap.json").read_text())
    flat = json.dumps(cells)
    assert '"does_not_fit": 1' in flat and "does not fit: prompt longer" in flat


def test_heatmap_by_needle_has_a_row_per_kind_and_a_panel_per_setting(tmp_path: Path) -> None:
    recs = [
        _rec(8, 0, 1.0, comp, needle=kind)
        for comp in ("1", "16")
        for kind in ("shape", "count")
        for _ in range(2)
    ]
    recs[-1] = _rec(8, 0, 0.0, "16", needle="count")  # count at 16x: one of two right
    written = niah_report(recs, tmp_path, "niah", by="needle")
    panels = json.loads((tmp_path / "heatmap.json").read_text())["panels"]
    assert [(p["label"].split(",")[0], p["compression"]) for p in panels] == [
        ("shape", "1"), ("shape", "16"), ("count", "1"), ("count", "16"),
    ]  # fmt: skip
    assert [p["cells"][0]["value"] for p in panels] == [1.0, 1.0, 1.0, 0.5]
    assert "count, compression 16: average 0.500" in panels[3]["label"]
    assert (tmp_path / "avg_accuracy_c16.txt").read_text().startswith("Average Accuracy: 0.75")  # all kinds
    png = np.asarray(Image.open(next(p for p in written if p.suffix == ".png")))
    assert png.shape[0] > png.shape[1] * 0.5  # two rows of panels: taller than one row


def test_heatmap_by_an_unknown_key_names_the_accepted_values(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="by='depth'; accepted values: needle"):
        niah_report([_rec(8, 0, 1.0)], tmp_path, "niah", by="depth")
