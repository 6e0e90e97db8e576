"""The Pareto frontier of (cost, accuracy) points: lower cost and higher accuracy are better."""

from __future__ import annotations

from collections.abc import Sequence


def pareto_mask(costs: Sequence[float], accuracies: Sequence[float]) -> list[bool]:
    """True for each point that no other point dominates.

    A point is dominated when another costs no more and is no less accurate, and is strictly
    better in one of the two. Identical points do not dominate each other, so all copies of a
    frontier point stay on the frontier. NaN points are never on it.
    """
    if len(costs) != len(accuracies):
        raise ValueError("costs and accuracies must have the same length")
    points = [(float(c), float(a)) for c, a in zip(costs, accuracies)]
    valid = [c == c and a == a for c, a in points]  # NaN != NaN
    mask = []
    for i, (cost, acc) in enumerate(points):
        if not valid[i]:
            mask.append(False)
            continue
        dominated = any(
            valid[j] and c <= cost and a >= acc and (c < cost or a > acc) for j, (c, a) in enumerate(points) if j != i
        )
        mask.append(not dominated)
    return mask


def frontier(costs: Sequence[float], accuracies: Sequence[float]) -> list[tuple[float, float]]:
    """The frontier points sorted by cost (duplicates kept once), ready to draw as a step line."""
    mask = pareto_mask(costs, accuracies)
    return sorted({(float(c), float(a)) for c, a, keep in zip(costs, accuracies, mask) if keep})
