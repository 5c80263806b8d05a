"""glibc malloc tuning for the runner process: keep freed heap memory instead of handing it back.

Between two samples the runner frees the previous sample's frames and preprocessed arrays. With glibc's
default, dynamic thresholds the top of the heap is then trimmed (returned to the OS) and the next
sample's arrays fault their pages in again: on tiny models that made a backend's numpy preprocessing
~15% slower inside the harness than in a hand-written loop (bench/bench_backends.py, docs/benchmarks.md).
A high trim threshold and a top pad keep those pages mapped; memory already in use is unchanged, peak
resident memory is what the run needs anyway. Speed only: no number a run reports depends on it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from typing import Any

M_TRIM_THRESHOLD = -1  # malloc.h
M_TOP_PAD = -2
TRIM_THRESHOLD = 1 << 30  # bytes of free memory at the top of the heap kept before trimming
TOP_PAD = 256 << 20  # extra bytes asked for whenever the heap grows


@functools.lru_cache(maxsize=1)
def tune_malloc() -> dict[str, Any]:
    """Apply the settings once per process; returns what was done (recorded in the run's session)."""
    if not sys.platform.startswith("linux"):
        return {"allocator": "default", "reason": f"not glibc ({sys.platform})"}
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError) as e:  # musl and others have no mallopt
        return {"allocator": "default", "reason": f"no mallopt: {e}"}
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and mallopt(M_TOP_PAD, TOP_PAD) == 1
    if not ok:
        return {"allocator": "default", "reason": "mallopt refused the settings"}
    return {"allocator": "glibc", "trim_threshold": TRIM_THRESHOLD, "top_pad": TOP_PAD}
