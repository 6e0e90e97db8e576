"""Statistics for accuracy over seeds: Welch's t-test, Holm's correction, confidence intervals, power.

Why these: a proxy accuracy is a mean over a handful of seeds (3-5), so its error is
t-distributed with few degrees of freedom, and the two arms of a comparison need not share a
variance (a deeper network can be noisier). Welch's test with the Welch-Satterthwaite degrees of
freedom fits that; a normal "two standard errors" rule does not (with 4 degrees of freedom it
gives a 6% one-sided false-positive rate, not 2.3%). A claim tests several alternatives at
once (compound against width, depth and resolution), so its p-values are corrected with Holm's
step-down method, which holds the family-wise error at ``alpha`` and never loses to Bonferroni.

Every function here is pure: summaries in, numbers out. ``Sample`` is a mean, a sample standard
deviation (ddof=1) and a count, which is what a results row stores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scipy import stats

#: The family-wise error rate of every verdict.
ALPHA = 0.05
#: The power at which the smallest detectable difference is stated.
POWER = 0.8
REPRODUCED, REFUTED, INCONCLUSIVE = "reproduced", "refuted", "inconclusive"


@dataclass(frozen=True)
class Sample:
    """One configuration over seeds: the mean, the sample standard deviation (ddof=1), the count."""

    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Sample:
        n = len(values)
        mean = sum(values) / n
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else float("nan")
        return cls(mean, std, n)

    @property
    def variance_of_mean(self) -> float:
        return self.std**2 / self.n if self.n > 1 else float("nan")

    def ci_half_width(self, confidence: float = 1 - ALPHA) -> float:
        """Half the width of the mean's t confidence interval (NaN with fewer than two seeds)."""
        if self.n < 2 or self.std != self.std:
            return float("nan")
        return float(stats.t.ppf(0.5 + confidence / 2, self.n - 1)) * math.sqrt(self.variance_of_mean)


@dataclass(frozen=True)
class Comparison:
    """``a - b`` by Welch's test: the difference, its standard error and degrees of freedom, the 95%
    confidence interval, the two-sided p-value (and Holm-adjusted within its claim), and the smallest
    difference these seeds would detect with ``POWER`` at the claim's corrected level."""

    diff: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p: float
    p_adjusted: float
    detectable: float

    @property
    def testable(self) -> bool:
        return self.p == self.p

    def describe(self) -> str:
        if not self.testable:
            return f"{self.diff:+.2f} pt (untestable: needs 2+ seeds with some spread on both sides)"
        return (
            f"{self.diff:+.2f} pt, 95% CI [{self.ci_low:+.2f}, {self.ci_high:+.2f}], "
            f"p={_p(self.p_adjusted)} (Holm), detectable {self.detectable:.2f} pt"
        )


def _p(p: float) -> str:
    return f"{p:.2g}" if p >= 1e-3 else f"{p:.1e}"


def welch_df(variances_of_means: Sequence[float], counts: Sequence[int]) -> float:
    """Welch-Satterthwaite degrees of freedom of a sum of independent means' variances."""
    total = sum(variances_of_means)
    denominator = sum(v * v / (n - 1) for v, n in zip(variances_of_means, counts))
    return total * total / denominator if denominator > 0 else float("nan")


def detectable_difference(se: float, df: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """The smallest true difference a two-sided level-``alpha`` t-test detects with ``power``:
    (t_{1-alpha/2} + t_{power}) standard errors, both with ``df`` degrees of freedom."""
    if not (se == se and df == df and df > 0):
        return float("nan")
    return (stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) * se


def t_test(
    estimate: float,
    variances_of_means: Sequence[float],
    counts: Sequence[int],
    *,
    level: float = ALPHA,
    confidence: float = 1 - ALPHA,
) -> Comparison:
    """A t-test of a linear combination of means (``estimate``) whose variance is the sum of
    ``variances_of_means`` (each already multiplied by its squared weight), Welch-Satterthwaite df.
    ``level`` is the per-test level used for the detectable difference (the claim's corrected one)."""
    nan = float("nan")
    if any(n < 2 for n in counts) or any(v != v for v in variances_of_means) or sum(variances_of_means) <= 0:
        return Comparison(estimate, nan, nan, nan, nan, nan, nan, nan)
    se = math.sqrt(sum(variances_of_means))
    df = welch_df(variances_of_means, counts)
    half = stats.t.ppf(0.5 + confidence / 2, df) * se
    p = float(2 * stats.t.sf(abs(estimate) / se, df))
    return Comparison(estimate, se, df, estimate - half, estimate + half, p, p, detectable_difference(se, df, level))


def welch(a: Sample, b: Sample, *, level: float = ALPHA) -> Comparison:
    """Welch's two-sample t-test of ``a.mean - b.mean``."""
    return t_test(a.mean - b.mean, [a.variance_of_mean, b.variance_of_mean], [a.n, b.n], level=level)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (monotone, capped at 1); NaN stays NaN and counts as a test."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: (p_values[i] != p_values[i], p_values[i]))
    adjusted = [float("nan")] * m
    running = 0.0
    for rank, i in enumerate(order):
        p = p_values[i]
        if p != p:
            continue
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def with_holm(comparisons: Mapping[str, Comparison]) -> dict[str, Comparison]:
    """The same comparisons with Holm-adjusted p-values, and each detectable difference stated at the
    most stringent level of the family (alpha / m), so it is what every one of them could detect."""
    names = list(comparisons)
    adjusted = holm([comparisons[n].p for n in names])
    level = ALPHA / max(1, len(names))
    out = {}
    for name, p_adj in zip(names, adjusted):
        c = comparisons[name]
        out[name] = Comparison(
            c.diff, c.se, c.df, c.ci_low, c.ci_high, c.p, p_adj, detectable_difference(c.se, c.df, level)
        )
    return out


def beats_all_verdict(comparisons: Mapping[str, Comparison], alpha: float = ALPHA) -> str:
    """Verdict of "A beats every alternative", from ``A - alternative`` comparisons (Holm-adjusted):
    reproduced when every corrected test finds A ahead; refuted when any finds an alternative ahead;
    inconclusive otherwise (including when any comparison cannot be tested)."""
    if not comparisons:
        return INCONCLUSIVE
    significant = {n: c.p_adjusted < alpha for n, c in comparisons.items() if c.testable}
    if any(significant[n] and comparisons[n].diff < 0 for n in significant):
        return REFUTED
    if len(significant) == len(comparisons) and all(significant[n] and comparisons[n].diff > 0 for n in significant):
        return REPRODUCED
    return INCONCLUSIVE


def all_negative_verdict(tests: Mapping[str, Comparison], alpha: float = ALPHA) -> str:
    """Verdict of "every estimate is below zero" (e.g. every curve is concave), Holm-adjusted: reproduced
    when all are significantly negative, refuted when any is significantly positive, else inconclusive."""
    flipped = {
        n: Comparison(-c.diff, c.se, c.df, -c.ci_high, -c.ci_low, c.p, c.p_adjusted, c.detectable)
        for n, c in tests.items()
    }
    return beats_all_verdict(flipped, alpha)
