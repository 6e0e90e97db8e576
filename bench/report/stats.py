"""Statistics for accuracy over seeds: pooled-variance and Welch t-tests, Holm's correction, confidence
intervals that agree with it, power.

Why these: a proxy accuracy is a mean over a handful of seeds (3-5), so its error is t-distributed with
few degrees of freedom. A claim tests several alternatives at once (compound against width, depth and
resolution), so its p-values are corrected with Holm's step-down method, which holds the family-wise
error at ``alpha`` and never loses to Bonferroni.

Two tests. The primary one of the v2 proxy (``pooled``, fixed in reports/measured/proxy_v2_protocol.md):
every arm of a claim is trained with the same budget and seeds, so their seed-to-seed variances estimate
one variance; pooling them over all arms gives N - k degrees of freedom (16 for 4 arms x 5 seeds) instead
of Welch's 4-8 per pair, and a detectable difference that means something. Welch's test (``welch``), which
lets each arm have its own variance, is reported beside it as a sensitivity analysis (and stays the test
of the v1 proxy, as v1 fixed it).

Confidence intervals agree with the decisions (``holm_consistent``): each comparison's interval is at the
level Holm judged it by, 1 - alpha / (m - j + 1) at its step j, or, for one Holm did not reject, at the
step where Holm stopped. An interval then excludes 0 exactly when its comparison is rejected. (A 95 %
interval beside a Holm decision does not: v1's claim 6 had a 95 % CI excluding 0 at Holm p = 0.064.)

Every function here is pure: summaries in, numbers out. ``Sample`` is a mean, a sample standard
deviation (ddof=1) and a count, which is what a results row stores.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from scipy import stats

#: The family-wise error rate of every verdict.
ALPHA = 0.05
#: The power at which the smallest detectable difference is stated.
POWER = 0.8
#: What a claim's 'detectable' figure means, as its evidence states it (see ``with_holm``).
DETECTABLE_NOTE = (
    f"'detectable' = the smallest difference found with {POWER:.0%} power at Holm's strictest level, from the "
    "seed SD pooled over the claim's arms"
)
#: The three verdicts. A claim is never "refuted" outright: a proxy result speaks for its scope only.
REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE = "reproduced", "not reproduced", "inconclusive"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE)


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
    """``a - b`` by a t-test: the difference, its standard error and degrees of freedom, the confidence
    interval (at ``ci_level``), the two-sided p-value (and Holm-adjusted within its claim), and the smallest
    difference these seeds would detect with ``POWER`` at the claim's corrected level."""

    diff: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p: float
    p_adjusted: float
    detectable: float
    ci_level: float = 1 - ALPHA

    @property
    def testable(self) -> bool:
        return self.p == self.p

    def describe(self) -> str:
        if not self.testable:
            return f"{self.diff:+.2f} pt (untestable: needs 2+ seeds with some spread on both sides)"
        level = f"{100 * self.ci_level:.4g}%"
        return (
            f"{self.diff:+.2f} pt, {level} CI [{self.ci_low:+.2f}, {self.ci_high:+.2f}], "
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


@dataclass(frozen=True)
class PooledVariance:
    """The seed-to-seed variance pooled over the arms of one claim: its SD and degrees of freedom (N - k)."""

    sd: float
    df: int

    @classmethod
    def of(cls, arms: Sequence[Sample]) -> PooledVariance:
        df = sum(a.n - 1 for a in arms)
        if df < 1 or any(a.n > 1 and a.std != a.std for a in arms):
            return cls(float("nan"), max(df, 0))
        return cls(math.sqrt(sum((a.n - 1) * a.std**2 for a in arms if a.n > 1) / df), df)

    def detectable(self, n_a: int, n_b: int, level: float = ALPHA) -> float:
        """The smallest true difference between two arms of ``n_a`` and ``n_b`` seeds found with ``POWER``."""
        return detectable_difference(self.sd * math.sqrt(1 / n_a + 1 / n_b), self.df, level)


def pooled(a: Sample, b: Sample, variance: PooledVariance, *, level: float = ALPHA) -> Comparison:
    """Student's t-test of ``a.mean - b.mean`` with the claim's pooled variance (``PooledVariance.of`` over all
    of its arms, these two included), on its N - k degrees of freedom."""
    nan = float("nan")
    se = variance.sd * math.sqrt(1 / a.n + 1 / b.n)
    diff = a.mean - b.mean
    if not (se == se and se > 0 and variance.df >= 1):
        return Comparison(diff, nan, nan, nan, nan, nan, nan, nan)
    half = stats.t.ppf(1 - ALPHA / 2, variance.df) * se
    p = float(2 * stats.t.sf(abs(diff) / se, variance.df))
    return Comparison(
        diff, se, variance.df, diff - half, diff + half, p, p, detectable_difference(se, variance.df, level)
    )


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


def holm_levels(p_values: Sequence[float], alpha: float = ALPHA) -> list[float]:
    """The per-test level Holm judges each p-value at: alpha / (m - j + 1) at its step j (j-th smallest p)
    while Holm rejects, and the level of the step where it stopped for every test after it (NaN: untestable,
    judged at the stopping level)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: (p_values[i] != p_values[i], p_values[i]))
    levels = [alpha / max(1, m)] * m
    stopped = None
    for step, i in enumerate(order):
        level = alpha / (m - step)
        if stopped is None and not p_values[i] < level:  # rejected iff the Holm-adjusted p < alpha
            stopped = level
        levels[i] = level if stopped is None else stopped
    return levels


def holm_consistent(comparison: Comparison, level: float) -> Comparison:
    """The comparison with its interval at confidence ``1 - level`` (see module docstring)."""
    if not comparison.testable:
        return comparison
    half = float(stats.t.ppf(1 - level / 2, comparison.df)) * comparison.se
    return replace(comparison, ci_low=comparison.diff - half, ci_high=comparison.diff + half, ci_level=1 - level)


def with_holm(
    comparisons: Mapping[str, Comparison], detectable: Callable[[Comparison, float], float] | None = None
) -> dict[str, Comparison]:
    """The same comparisons with Holm-adjusted p-values, intervals at the levels Holm judged them by (they
    exclude 0 exactly where Holm rejects), and each detectable difference stated at the most stringent level
    of the family (alpha / m), so it is what every one of them could detect: by ``detectable(comparison,
    level)`` where given (a pooled SD), else from each comparison's own standard error and df."""
    names = list(comparisons)
    raw = [comparisons[n].p for n in names]
    adjusted, levels = holm(raw), holm_levels(raw)
    strictest = ALPHA / max(1, len(names))
    out = {}
    for name, p_adj, level in zip(names, adjusted, levels):
        c = comparisons[name]
        power = detectable(c, strictest) if detectable else detectable_difference(c.se, c.df, strictest)
        out[name] = holm_consistent(replace(c, p_adjusted=p_adj, detectable=power), level)
    return out


def beats_all_verdict(comparisons: Mapping[str, Comparison], alpha: float = ALPHA) -> str:
    """Verdict of "A beats every alternative", from ``A - alternative`` comparisons (Holm-adjusted):
    reproduced when every corrected test finds A ahead; not reproduced when any finds an alternative ahead;
    inconclusive otherwise (including when any comparison cannot be tested)."""
    if not comparisons:
        return INCONCLUSIVE
    significant = {n: c.p_adjusted < alpha for n, c in comparisons.items() if c.testable}
    if any(significant[n] and comparisons[n].diff < 0 for n in significant):
        return NOT_REPRODUCED
    if len(significant) == len(comparisons) and all(significant[n] and comparisons[n].diff > 0 for n in significant):
        return REPRODUCED
    return INCONCLUSIVE


def all_negative_verdict(tests: Mapping[str, Comparison], alpha: float = ALPHA) -> str:
    """Verdict of "every estimate is below zero" (e.g. every curve is concave), Holm-adjusted: reproduced
    when all are significantly negative, not reproduced when any is significantly positive, else inconclusive."""
    flipped = {n: replace(c, diff=-c.diff, ci_low=-c.ci_high, ci_high=-c.ci_low) for n, c in tests.items()}
    return beats_all_verdict(flipped, alpha)
