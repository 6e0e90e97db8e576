"""The statistics behind every accuracy verdict, against hand-computed values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from bench.report.stats import (
    ALPHA,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    Comparison,
    PooledVariance,
    Sample,
    all_negative_verdict,
    beats_all_verdict,
    detectable_difference,
    holm,
    holm_levels,
    pooled,
    t_test,
    welch,
    with_holm,
)


def test_welch_by_hand() -> None:
    # a = 1, 2, 3: mean 2, var 1; b = 4, 5, 6, 7: mean 5.5, var 5/3.
    # var of means 1/3 + 5/12 = 0.75, se 0.8660; t = -3.5 / 0.8660 = -4.0415;
    # df = 0.75^2 / ((1/3)^2 / 2 + (5/12)^2 / 3) = 0.5625 / 0.113426 = 4.9592.
    c = welch(Sample.of([1, 2, 3]), Sample.of([4, 5, 6, 7]))
    assert c.diff == pytest.approx(-3.5)
    assert c.se == pytest.approx(math.sqrt(0.75))
    assert c.df == pytest.approx(4.9592, abs=1e-4)
    scipy = scipy_stats.ttest_ind([1, 2, 3], [4, 5, 6, 7], equal_var=False)
    assert c.p == pytest.approx(scipy.pvalue)
    assert c.diff / c.se == pytest.approx(scipy.statistic)
    half = scipy_stats.t.ppf(0.975, c.df) * c.se  # 2.5770 * 0.8660 = 2.2317
    assert half == pytest.approx(2.2317, abs=1e-3)
    assert (c.ci_low, c.ci_high) == pytest.approx((-3.5 - half, -3.5 + half))


def test_a_normal_two_standard_error_rule_would_be_too_loose_with_few_seeds() -> None:
    # With ~4 df the two-sided 5% threshold is 2.78 s.e., not 1.96: 2.2 s.e. is not significant.
    c = t_test(2.2, [0.5, 0.5], [3, 3])  # se 1, df 4
    assert c.df == pytest.approx(4.0)
    assert c.p > 0.05
    assert scipy_stats.t.ppf(0.975, 4) == pytest.approx(2.776, abs=1e-3)


@pytest.mark.parametrize(
    "p, adjusted",
    [
        ([0.01, 0.04, 0.03], [0.03, 0.06, 0.06]),  # step-down: 3x, 2x, 1x, kept monotone
        ([0.2, 0.001], [0.2, 0.002]),
        ([0.5, 0.6, 0.7, 0.8], [1.0, 1.0, 1.0, 1.0]),  # capped at 1, and never below an earlier step
        ([0.01, float("nan")], [0.02, float("nan")]),  # an untestable comparison still counts
    ],
)
def test_holm(p: list[float], adjusted: list[float]) -> None:
    got = holm(p)
    for g, want in zip(got, adjusted):
        assert (g != g and want != want) or g == pytest.approx(want)


def test_detectable_difference_by_hand() -> None:
    # se 1, df 8, alpha 0.05, power 0.8: t_0.975(8) + t_0.8(8) = 2.3060 + 0.8889 = 3.1949.
    assert detectable_difference(1.0, 8.0) == pytest.approx(3.1949, abs=1e-3)
    assert detectable_difference(0.5, 8.0) == pytest.approx(3.1949 / 2, abs=1e-3)


def test_untestable_without_spread_or_seeds() -> None:
    assert not welch(Sample(90.0, 0.0, 5), Sample(89.0, 0.0, 5)).testable
    assert not welch(Sample(90.0, 0.5, 1), Sample(89.0, 0.5, 5)).testable


def _c(diff: float, p: float) -> Comparison:
    return Comparison(diff, 0.3, 8.0, diff - 0.7, diff + 0.7, p, p, 1.0)


@pytest.mark.parametrize(
    "name, comparisons, verdict",
    [
        (
            "all three ahead, all significant",
            {"w": _c(1.0, 0.001), "d": _c(2.0, 0.002), "r": _c(0.8, 0.01)},
            REPRODUCED,
        ),
        ("one ahead but not significant", {"w": _c(1.0, 0.001), "d": _c(2.0, 0.002), "r": _c(0.3, 0.3)}, INCONCLUSIVE),
        (
            "significant alone, not after Holm",
            {"w": _c(1.0, 0.02), "d": _c(2.0, 0.03), "r": _c(0.8, 0.04)},
            INCONCLUSIVE,
        ),
        (
            "an alternative significantly ahead",
            {"w": _c(-1.0, 0.001), "d": _c(2.0, 0.002), "r": _c(0.8, 0.01)},
            NOT_REPRODUCED,
        ),
        ("behind but not significantly", {"w": _c(-1.0, 0.2), "d": _c(-0.5, 0.4)}, INCONCLUSIVE),
        ("one untestable", {"w": _c(1.0, 0.001), "d": Comparison(2.0, *[float("nan")] * 7)}, INCONCLUSIVE),
        ("nothing to compare", {}, INCONCLUSIVE),
    ],
)
def test_beats_all_verdict(name: str, comparisons: dict[str, Comparison], verdict: str) -> None:
    assert beats_all_verdict(with_holm(comparisons)) == verdict, name


def test_holm_family_states_detectable_difference_at_the_strictest_level() -> None:
    family = with_holm({"a": t_test(1.0, [0.1, 0.1], [5, 5]), "b": t_test(1.0, [0.1, 0.1], [5, 5])})
    single = t_test(1.0, [0.1, 0.1], [5, 5])
    assert family["a"].detectable > single.detectable  # alpha / 2 needs a larger difference
    # equal p-values: the first is doubled, the second kept monotone at the same value
    assert family["a"].p_adjusted == family["b"].p_adjusted == pytest.approx(min(1.0, 2 * single.p))


@pytest.mark.parametrize(
    "curvatures, verdict",
    [
        ({"width": _c(-1.0, 0.001), "depth": _c(-0.9, 0.004), "resolution": _c(-0.5, 0.01)}, REPRODUCED),
        ({"width": _c(-1.0, 0.001), "depth": _c(0.9, 0.004), "resolution": _c(-0.5, 0.01)}, NOT_REPRODUCED),
        ({"width": _c(-1.0, 0.001), "depth": _c(-0.2, 0.5), "resolution": _c(-0.5, 0.01)}, INCONCLUSIVE),
    ],
)
def test_all_negative_verdict(curvatures: dict[str, Comparison], verdict: str) -> None:
    assert all_negative_verdict(with_holm(curvatures)) == verdict


def test_pooled_variance_t_test_matches_students_test() -> None:
    a, b = [90.1, 90.4, 89.9, 90.3, 90.2], [89.5, 89.8, 89.7, 89.4, 89.9]
    variance = PooledVariance.of([Sample.of(a), Sample.of(b)])
    c = pooled(Sample.of(a), Sample.of(b), variance)
    scipy = scipy_stats.ttest_ind(a, b, equal_var=True)
    assert variance.df == 8 and c.df == 8
    assert c.p == pytest.approx(scipy.pvalue) and c.diff / c.se == pytest.approx(scipy.statistic)


def test_the_variance_is_pooled_over_every_arm_of_a_claim() -> None:
    # three arms of 5 seeds: SDs 0.1, 0.2, 0.3 -> pooled variance (0.01 + 0.04 + 0.09) / 3, df 12
    arms = [Sample(90.0, 0.1, 5), Sample(89.5, 0.2, 5), Sample(89.0, 0.3, 5)]
    variance = PooledVariance.of(arms)
    assert variance.df == 12 and variance.sd == pytest.approx(math.sqrt(0.14 / 3))
    c = pooled(arms[0], arms[2], variance)
    assert c.se == pytest.approx(variance.sd * math.sqrt(2 / 5))
    assert c.p == pytest.approx(2 * scipy_stats.t.sf(1.0 / c.se, 12))
    # the protocol's power: SD 0.18, 5 seeds a side, df 16, Holm's first step of 3 -> 0.41 points
    assert PooledVariance(0.18, 16).detectable(5, 5, ALPHA / 3) == pytest.approx(0.405, abs=0.005)


def test_holm_levels_follow_the_step_down_and_stop_where_holm_stops() -> None:
    # m = 3: the smallest p is judged at alpha/3, the next at alpha/2; 0.026 > 0.025 stops Holm there, and
    # the largest is then judged at that level too
    assert holm_levels([0.001, 0.03, 0.026]) == pytest.approx([ALPHA / 3, ALPHA / 2, ALPHA / 2])
    assert holm_levels([0.001, 0.03, 0.02]) == pytest.approx([ALPHA / 3, ALPHA, ALPHA / 2])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-2, 2), st.floats(0.02, 1.0), st.integers(3, 30)),
        min_size=1,
        max_size=5,
    )
)
def test_an_interval_excludes_zero_exactly_when_holm_rejects(tests: list[tuple[float, float, int]]) -> None:
    """The intervals agree with the decisions, whatever the p-values (v1's claim 6 had a 95 % CI that
    excluded 0 at Holm p = 0.064)."""
    comparisons = {f"c{i}": t_test(diff, [se * se], [df + 1, df + 1]) for i, (diff, se, df) in enumerate(tests)}
    for c in with_holm(comparisons).values():
        excludes = c.ci_low > 0 or c.ci_high < 0
        assert excludes == (c.p_adjusted < ALPHA) or abs(c.p_adjusted - ALPHA) < 1e-9
