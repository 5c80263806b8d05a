"""Cluster bootstrap CIs and McNemar's test: hand-computed cases and scipy.stats cross-checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oryx_eval.records import SampleRecord
from oryx_eval.stats import (
    binom_two_sided,
    bootstrap_ci,
    bootstrap_metric,
    cluster_key,
    mcnemar,
    paired_mcnemar,
)

scipy_stats = pytest.importorskip("scipy.stats")


def test_mcnemar_exact_hand_cases() -> None:
    # 1 vs 5 discordant: p = 2 * P(X <= 1 | n=6, 1/2) = 2 * (1 + 6) / 64
    a = [True] * 4 + [True] + [False] * 5 + [False] * 2
    b = [True] * 4 + [False] + [True] * 5 + [False] * 2
    m = mcnemar(a, b)
    assert (m.n, m.both, m.a_only, m.b_only, m.neither) == (12, 4, 1, 5, 2)
    assert m.method == "exact binomial" and m.p_value == 14 / 64
    assert m.delta == pytest.approx(4 / 12)
    assert binom_two_sided(3, 6) == 1.0  # symmetric: 2 * 42/64 capped at 1
    assert binom_two_sided(0, 0) == 1.0  # no discordant pair: no evidence
    assert binom_two_sided(0, 10) == 2 / 1024


@pytest.mark.parametrize("k,n", [(0, 5), (1, 6), (2, 11), (7, 20), (12, 24), (5, 24)])
def test_mcnemar_exact_matches_scipy_binomtest(k: int, n: int) -> None:
    assert binom_two_sided(k, n) == pytest.approx(scipy_stats.binomtest(k, n, 0.5).pvalue, rel=1e-12)


def test_mcnemar_chi_square_large_counts() -> None:
    a = [True] * 10 + [False] * 30 + [True] * 50
    b = [False] * 10 + [True] * 30 + [True] * 50
    m = mcnemar(a, b)
    assert m.method.startswith("chi-square") and m.statistic == pytest.approx((30 - 10 - 1) ** 2 / 40)
    assert m.p_value == pytest.approx(scipy_stats.chi2.sf(361 / 40, 1), rel=1e-10)
    assert m.p_value < 0.01


def test_mcnemar_rejects_unpaired() -> None:
    with pytest.raises(ValueError, match="paired"):
        mcnemar([True], [True, False])


def _rec(sid: str, score: float | None, error: str | None = None, **meta) -> SampleRecord:
    return SampleRecord(sample_id=sid, task="t", compression="4", score=score, error=error, metadata=meta)


def test_paired_mcnemar_pairs_by_sample_and_counts_failures_wrong() -> None:
    a = [_rec("x", 1.0), _rec("y", 1.0), _rec("z", 0.0), _rec("only_a", 1.0)]
    b = [_rec("y", None, error="boom"), _rec("x", 1.0), _rec("z", 1.0)]
    m = paired_mcnemar(a, b)
    assert m is not None and (m.n, m.both, m.a_only, m.b_only) == (3, 1, 1, 1)
    assert paired_mcnemar(a, [_rec("other", 1.0)]) is None


def test_bootstrap_degenerate_and_seeded() -> None:
    ci = bootstrap_ci([1.0] * 20)
    assert (ci.value, ci.low, ci.high, ci.n, ci.n_clusters) == (1.0, 1.0, 1.0, 20, 20)
    x = np.random.default_rng(0).random(50)  # continuous values: quantiles differ between seeds
    one, same, other = bootstrap_ci(x, seed=3), bootstrap_ci(x, seed=3), bootstrap_ci(x, seed=4)
    assert one == same and (one.low, one.high) != (other.low, other.high)
    assert one.seed == 3 and one.n_boot == 2000 and one.level == 0.95
    empty = bootstrap_ci([])
    assert math.isnan(empty.value) and empty.n == 0


def test_bootstrap_matches_scipy_unclustered() -> None:
    rng = np.random.default_rng(0)
    x = (rng.random(200) < 0.6).astype(float)
    ours = bootstrap_ci(x, n_boot=4000, seed=1)
    ref = scipy_stats.bootstrap((x,), np.mean, n_resamples=4000, method="percentile", random_state=1)
    assert ours.low == pytest.approx(ref.confidence_interval.low, abs=0.012)
    assert ours.high == pytest.approx(ref.confidence_interval.high, abs=0.012)


def test_clustering_widens_the_interval_as_theory_says() -> None:
    # 10 videos x 10 questions; a video's questions are all right or all wrong (5 and 5)
    x = np.repeat([1.0, 0.0] * 5, 10)
    clusters = np.repeat(np.arange(10), 10).astype(str)
    flat = bootstrap_ci(x, n_boot=4000, seed=0)
    clus = bootstrap_ci(x, clusters, n_boot=4000, seed=0, cluster_name="video_id")
    # half-widths ~ 1.96 * sd: unclustered sqrt(.25/100) = .05; clustered sqrt(.25/10) = .158
    assert (flat.high - flat.low) / 2 == pytest.approx(1.96 * 0.05, rel=0.15)
    assert (clus.high - clus.low) / 2 == pytest.approx(1.96 * math.sqrt(0.025), rel=0.15)
    assert clus.n_clusters == 10 and clus.cluster == "video_id" and flat.cluster == "sample"


def test_unequal_clusters_use_the_sample_mean() -> None:
    # cluster a: 3 questions all right; cluster b: 1 question wrong -> mean over samples is 0.75
    ci = bootstrap_ci([1, 1, 1, 0], ["a", "a", "a", "b"], n_boot=1000, seed=0)
    assert ci.value == 0.75 and ci.low == 0.0 and ci.high == 1.0
    # each replicate draws 2 clusters: aa -> 1, bb -> 0, ab/ba -> 0.75; P(aa) = P(bb) = 1/4


def test_cluster_key_order() -> None:
    assert cluster_key(_rec("s", 1.0, video_id="v1")) == ("video_id", "v1")
    assert cluster_key(_rec("s", 1.0)) == ("sample", "s")
    assert cluster_key(_rec("s", 1.0, video_id="v1"), {("t", "s"): "abc"}) == ("media", "abc")


def test_bootstrap_metric_generic() -> None:
    recs = [_rec(str(i), float(i % 2)) for i in range(40)]
    ci = bootstrap_metric(recs, lambda rs: sum(r.score for r in rs) / len(rs), [r.sample_id for r in recs])
    assert ci.value == 0.5 and ci.low < 0.5 < ci.high and ci.n_clusters == 40
