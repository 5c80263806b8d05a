"""Statistics that make comparisons honest: cluster bootstrap CIs and the paired McNemar test.

``bootstrap_ci`` resamples whole clusters (all questions of one video together, as VideoMME's three
questions per video), so correlated questions do not shrink the interval. ``mcnemar`` compares two
settings on the same samples from their discordant pairs: exact two-sided binomial for fewer than
``EXACT_BELOW`` discordant pairs, else the continuity-corrected chi-square (df 1), as statsmodels does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from oryx_eval.records import SampleRecord

CLUSTER_METADATA_KEYS = ("video_id", "videoID", "video", "media_key")
"""Metadata fields that name a sample's video, tried in order before falling back to the sample id."""
EXACT_BELOW = 25
"""McNemar uses the exact binomial test below this many discordant pairs."""


@dataclass(frozen=True)
class CI:
    """A point estimate with its bootstrap interval and how it was computed (recorded beside it)."""

    value: float
    low: float
    high: float
    level: float
    n: int
    """Samples."""
    n_clusters: int
    n_boot: int
    seed: int
    cluster: str
    """What clustered the samples: a metadata key, ``media`` or ``sample``."""
    method: str = "percentile cluster bootstrap"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)


def cluster_key(rec: SampleRecord, media_keys: dict[tuple[str, str], str] | None = None) -> tuple[str, str]:
    """``(kind, key)`` clustering a record: its media key if known, a video metadata field, or itself."""
    if media_keys is not None and (rec.task, rec.sample_id) in media_keys:
        return "media", media_keys[(rec.task, rec.sample_id)]
    for k in CLUSTER_METADATA_KEYS:
        if rec.metadata.get(k) is not None:
            return k, str(rec.metadata[k])
    return "sample", rec.sample_id


def bootstrap_ci(
    values: Sequence[float],
    clusters: Sequence[str] | None = None,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    cluster_name: str = "sample",
) -> CI:
    """Percentile bootstrap CI of the mean of ``values``, resampling clusters with replacement.

    Args:
        values: Per-sample values (e.g. scores 0/1), shape ``(n,)``.
        clusters: Cluster label per value (``None``: each sample is its own cluster).
        n_boot: Bootstrap replicates.
        seed: Seed of the resampling (recorded in the result).
        level: Coverage, e.g. 0.95.
        cluster_name: Recorded description of the clustering.

    Returns:
        ``CI`` whose ``value`` is the plain mean; NaNs when ``values`` is empty.
    """
    x = np.asarray(values, dtype=float)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if x.size == 0:
        nan = float("nan")
        return CI(nan, nan, nan, level, 0, 0, n_boot, seed, cluster_name)
    labels = (
        np.arange(x.size) if clusters is None else np.unique(np.asarray(clusters), return_inverse=True)[1]
    )
    k = int(labels.max()) + 1
    sums = np.bincount(labels, weights=x, minlength=k)  # (k,) per-cluster sum
    counts = np.bincount(labels, minlength=k).astype(float)  # (k,) per-cluster size
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, k, size=(n_boot, k))  # (B, k) clusters drawn per replicate
    means = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)  # ratio estimator: mean over samples
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    name = "sample" if clusters is None else cluster_name
    return CI(float(x.mean()), float(low), float(high), level, int(x.size), k, n_boot, seed, name)


def bootstrap_metric(
    records: Sequence[SampleRecord],
    metric: Callable[[list[SampleRecord]], float],
    clusters: Sequence[str],
    *,
    n_boot: int = 500,
    seed: int = 0,
    level: float = 0.95,
    cluster_name: str = "sample",
) -> CI:
    """Cluster bootstrap of any metric (``list[SampleRecord] -> float``), recomputed per replicate."""
    recs = list(records)
    value = float(metric(recs)) if recs else float("nan")
    if not recs:
        return CI(value, value, value, level, 0, 0, n_boot, seed, cluster_name)
    by: dict[str, list[SampleRecord]] = {}
    for r, c in zip(recs, clusters, strict=True):
        by.setdefault(c, []).append(r)
    groups = list(by.values())
    rng = np.random.default_rng(seed)
    reps = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(groups), size=len(groups))
        v = metric([r for i in pick for r in groups[i]])
        if not math.isnan(v):
            reps.append(v)
    alpha = (1 - level) / 2
    low, high = np.quantile(reps, [alpha, 1 - alpha]) if reps else (float("nan"), float("nan"))
    return CI(value, float(low), float(high), level, len(recs), len(groups), n_boot, seed, cluster_name)


@dataclass(frozen=True)
class McNemar:
    """Paired comparison of two settings on the same samples (correct/incorrect each)."""

    n: int
    """Paired samples."""
    both: int
    a_only: int
    """Correct under A, wrong under B (discordant)."""
    b_only: int
    neither: int
    p_value: float
    method: str
    """``exact binomial`` or ``chi-square (continuity corrected)``."""
    statistic: float | None = None

    @property
    def delta(self) -> float:
        """Accuracy of B minus accuracy of A over the paired samples."""
        return (self.b_only - self.a_only) / self.n if self.n else float("nan")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (with ``delta``)."""
        return {**asdict(self), "delta": self.delta}


def binom_two_sided(k: int, n: int) -> float:
    """Exact two-sided p of ``k`` successes in ``n`` fair trials: ``min(1, 2 * P(X <= min(k, n-k)))``."""
    if n == 0:
        return 1.0
    m = min(k, n - k)
    tail = sum(math.comb(n, i) for i in range(m + 1)) / 2**n
    return min(1.0, 2 * tail)


def mcnemar(a: Sequence[bool], b: Sequence[bool], exact_below: int = EXACT_BELOW) -> McNemar:
    """McNemar's test of paired correctness vectors ``a`` and ``b`` (same samples, same order).

    Exact binomial on the discordant pairs when there are fewer than ``exact_below`` of them, else
    ``(|n01 - n10| - 1)^2 / (n01 + n10)`` against chi-square with 1 degree of freedom.
    """
    if len(a) != len(b):
        raise ValueError(f"mcnemar: {len(a)} vs {len(b)} outcomes; the samples must be paired")
    both = sum(1 for x, y in zip(a, b, strict=True) if x and y)
    a_only = sum(1 for x, y in zip(a, b, strict=True) if x and not y)
    b_only = sum(1 for x, y in zip(a, b, strict=True) if y and not x)
    neither = len(a) - both - a_only - b_only
    disc = a_only + b_only
    if disc < exact_below:
        return McNemar(len(a), both, a_only, b_only, neither, binom_two_sided(a_only, disc), "exact binomial")
    stat = (abs(a_only - b_only) - 1) ** 2 / disc
    p = math.erfc(math.sqrt(stat / 2))  # chi-square df=1 survival function
    return McNemar(len(a), both, a_only, b_only, neither, p, "chi-square (continuity corrected)", stat)


def correct(rec: SampleRecord) -> bool:
    """A sample counts as correct iff it ran and scored at least 0.5 (failures are wrong)."""
    return rec.error is None and (rec.score or 0.0) >= 0.5


def paired_mcnemar(a: Sequence[SampleRecord], b: Sequence[SampleRecord]) -> McNemar | None:
    """McNemar over the (task, sample_id) pairs present in both record lists (``None`` if none are)."""
    ia = {(r.task, r.sample_id): r for r in a}
    ib = {(r.task, r.sample_id): r for r in b}
    keys = sorted(set(ia) & set(ib))
    if not keys:
        return None
    return mcnemar([correct(ia[k]) for k in keys], [correct(ib[k]) for k in keys])
