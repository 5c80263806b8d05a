"""Viewer load time for a 2,700-sample run: paginated (50 rows) vs every row rendered, same page, same run.

Builds a NIAH run with the ``test-blind`` backend (per_cell replicates up to 2,700 samples), writes the view
(thumbnails included) and times headless Chromium's load + script + dump of the page with the default
page size and with ``per_page`` = all samples (the baseline: what a page without pagination does).
Prints seconds and the ratio. Needs Debian ``chromium``.

    python bench/bench_viewer.py [--samples 2700] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from oryx_eval.runner import RunOptions, run  # noqa: E402
from oryx_eval.viewer import write_view  # noqa: E402
from tests.oryx_eval.browser import CHROMIUM, dump_dom  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=2700)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    if CHROMIUM is None:
        sys.exit("chromium not installed (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        raw = yaml.safe_load((ROOT / "tasks" / "niah.yaml").read_text())
        raw["name"] = "niah_bench"
        cells = 5 * 5 * 4  # frame counts x depths x needles of the shipped grid
        raw["dataset"]["args"].update(frame_size=[64, 64], per_cell=-(-a.samples // cells))
        task = tmp / "niah_bench.yaml"
        task.write_text(yaml.safe_dump(raw))
        opts = RunOptions(
            tasks=[str(task)], backend="test-blind", output_dir=tmp, run_id="r", limit=a.samples,
            cache_dir=tmp / "cache", progress=False,
        )  # fmt: skip
        t0 = time.perf_counter()
        run_dir = run(opts).run_dir
        t1 = time.perf_counter()
        page = write_view(run_dir)
        t2 = time.perf_counter()
        size = page.stat().st_size
        thumbs = len(list((page.parent / "thumbs").iterdir()))
        print(f"run {t1 - t0:.1f} s; write_view {t2 - t1:.1f} s ({a.samples} samples, {thumbs} thumbnails, "
              f"page {size / 1e6:.1f} MB)")  # fmt: skip

        def load(query: str) -> float:
            ts = []
            for _ in range(a.repeats):
                s = time.perf_counter()
                dom = dump_dom(page, query)
                ts.append(time.perf_counter() - s)
                assert 'class="sample' in dom
            return statistics.median(ts)

        paged, full = load(""), load(f"per_page={a.samples}")
        print(f"chromium load+render+dump, median of {a.repeats}: paginated {paged:.2f} s, "
              f"all rows {full:.2f} s, ratio all/paginated {full / paged:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
