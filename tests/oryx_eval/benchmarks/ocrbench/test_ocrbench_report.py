"""The OCRBench report on a full synthetic 1,000-record run and on subsets (no global tally, no division).

Table layout: the prints of ``MultimodalOCR/OCRBench/example.py`` ``__main__`` (``len(data)==1000`` branch).
"""

from __future__ import annotations

from pathlib import Path

from oryx_eval.benchmarks.ocrbench.report import ocrbench_report, summarise
from oryx_eval.benchmarks.ocrbench.rules import QUESTION_TYPES
from oryx_eval.records import SampleRecord


def _records(correct_every: int) -> list[SampleRecord]:
    recs = []
    i = 0
    for qtype, n in QUESTION_TYPES.items():
        hme = qtype.startswith("Handwritten Mathematical")
        for k in range(n):
            ok = k % correct_every == 0
            recs.append(
                SampleRecord(
                    sample_id=f"ocrbench/{i:04d}", task="ocrbench", compression="4",
                    output=("X^{2}" if hme else "word") if ok else "nothing",
                    metadata={"question_type": qtype, "dataset": "HME100k" if hme else "IIIT5K",
                              "answers": ["X ^ { 2 }"] if hme else ["WORD"]},
                )
            )  # fmt: skip
            i += 1
    return recs


def test_full_run_prints_the_official_table(tmp_path: Path) -> None:
    recs = _records(correct_every=2)  # half of every type correct
    paths = ocrbench_report(recs, tmp_path, "ocrbench")
    text = (tmp_path / "ocrbench_results.txt").read_text()
    assert "Text Recognition(Total 300): 150" in text
    assert "Regular Text Recognition(Total 50): 25" in text
    assert "Handwritten Mathematical Expression Recognition(Total 100): 50" in text
    assert "Final Score(Total 1000): 500" in text and "SUBSET" not in text
    s = summarise(recs)
    assert s["complete"] and s["rules"]["lmms_legacy"]["final"] == 450  # HME uppercase GT lost under legacy
    assert len(paths) == 2


def test_subset_and_second_call_are_stateless(tmp_path: Path) -> None:
    recs = _records(correct_every=1)[:7]  # 7 Regular Text Recognition items only
    s1 = summarise(recs)
    s2 = summarise(recs)
    assert s1 == s2 and s1["rules"]["official"]["final"] == 7 and not s1["complete"]
    ocrbench_report(recs, tmp_path, "ocrbench")
    text = (tmp_path / "ocrbench_results.txt").read_text()
    assert "Regular Text Recognition(7 of 50 run): 7" in text and "Doc-oriented VQA(0 of 200 run): 0" in text
    assert "SUBSET: 7 of 1000" in text
