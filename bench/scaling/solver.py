"""Cost-matched scaling: the coefficient of one scaling method that hits a MAC target.

The paper compares scaling methods at equal cost (Tables 3 and 7, Figure 8). Given a
base model, a method (width-only, depth-only, resolution-only, or compound phi) and a
target in MACs, ``solve`` returns a variant whose exact MAC count is within
``GOOD_ENOUGH`` of it, or else the closest one there is.

MACs grow monotonically but in steps with each coefficient (channels round to 8, repeats
round up, input sizes snap to multiples of 4 and every stride-2 layer rounds up), so the
search works on t = log(coefficient) (phi itself for compound), brackets the target with
power-law steps (MACs ~ w^2, d, r^2, 1.92^phi), then narrows the bracket by false position
(Illinois variant, which cannot stall on a staircase). Counting is the only costly part and
happens once per distinct network: coefficients that round to the same architecture share
a workload key, so narrowing inside one step of the staircase counts nothing new.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from bench.errors import InputError
from bench.models.families import family_of_base, scalable_family
from bench.models.registry import make_spec, not_scalable, workload_key
from bench.scaling.rules import PAPER_COEFFICIENTS, CompoundCoefficients, round_resolution
from bench.specs import IMAGENET, InputSpec, ModelSpec
from bench.units import giga

MATCHABLE_METHODS = ("width", "depth", "resolution", "compound")
DEFAULT_TOLERANCE = 0.03
#: Narrowing stops once a bracket end is this close (relative) to the target: closer than any
#: comparison needs, and each further step would count a new network.
GOOD_ENOUGH = 0.0025
_GOOD_LOG = math.log1p(GOOD_ENOUGH)
_T_EPSILON = 1e-3  # a 0.1% change of a coefficient: below one step of any staircase here
#: How far t may wander: w, d, r in [e^-6, e^6] (1/400 .. 400), phi in [-30, 30].
_T_LIMITS = {"width": 6.0, "depth": 6.0, "resolution": 6.0, "compound": 30.0}


class SolverError(InputError):
    """No variant of the requested method lands within tolerance of the target."""


@dataclass(frozen=True)
class Match:
    """The solved variant, its exact MACs, the target, and how many networks were counted."""

    spec: ModelSpec
    macs: int
    target_macs: float
    evaluations: int

    @property
    def rel_error(self) -> float:
        return self.macs / self.target_macs - 1.0


def _slope(method: str, coefficients: CompoundCoefficients) -> float:
    """d log(MACs) / dt of the power law each method follows (paper: FLOPs ~ d w^2 r^2)."""
    return {"width": 2.0, "depth": 1.0, "resolution": 2.0, "compound": math.log(coefficients.flops_base)}[method]


def _variant_maker(
    model: str, method: str, coefficients: CompoundCoefficients, inputs: InputSpec
) -> Callable[[float], ModelSpec]:
    """t -> ModelSpec, for t = log(w), log(d), log(r) or phi."""
    if method == "compound":
        return lambda t: make_spec(model, phi=t, coefficients=coefficients, inputs=inputs)
    if method == "resolution":
        base = inputs.base_resolution or scalable_family(model).base_resolution
        return lambda t: make_spec(
            model, input_size=round_resolution(base, math.exp(t), inputs.resolution_divisor), inputs=inputs
        )
    if method == "width":
        return lambda t: make_spec(model, width=math.exp(t), inputs=inputs)
    return lambda t: make_spec(model, depth=math.exp(t), inputs=inputs)


def solve(
    model: str,
    method: str,
    target_macs: float,
    macs_of: Callable[[ModelSpec], int],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    coefficients: CompoundCoefficients = PAPER_COEFFICIENTS,
    name: str | None = None,
    inputs: InputSpec = IMAGENET,
) -> Match:
    """A ``method`` variant of ``model`` whose MACs hit ``target_macs`` (see module docstring).

    ``macs_of`` counts a spec (pass a caching counter). Raises SolverError when the best
    variant found is more than ``tolerance`` (relative) away.
    """
    if method not in MATCHABLE_METHODS:
        raise InputError(f"method must be one of {MATCHABLE_METHODS}, got {method!r}")
    if family_of_base(model) is None:
        raise InputError(not_scalable(model))
    if not target_macs > 0:
        raise InputError(f"target MACs must be positive, got {target_macs!r}")
    search = _Search(_variant_maker(model, method, coefficients, inputs), macs_of, target_macs)
    try:
        lo, hi = search.bracket(_slope(method, coefficients), _T_LIMITS[method])
        lo, hi = search.narrow(lo, hi, math.log1p(min(GOOD_ENOUGH, tolerance)))
    except _PastLimit as past:
        raise out_of_reach(model, method, target_macs, _past_range(method, search, past)) from None
    except SolverError:
        raise
    except InputError as error:  # the coefficient the target needs is past the range limits (ScaleLimits)
        raise out_of_reach(model, method, target_macs, str(error)) from None
    best = min((lo, hi), key=lambda t: abs(search.log_ratio(t)))
    spec = _final_spec(
        model, method, search.make(_shortest_within_step(best, search, method)), coefficients, name, inputs
    )
    match = Match(spec, search.macs(best), float(target_macs), search.evaluations)
    if abs(match.rel_error) > tolerance:
        raise SolverError(_unreachable(model, method, target_macs, tolerance, search, (lo, hi), coefficients, inputs))
    return match


_LETTER = {"width": "w", "depth": "d", "compound": "phi"}


def _scaling(method: str) -> str:
    return "compound scaling" if method == "compound" else f"{method}-only scaling"


def out_of_reach(model: str, method: str, target_macs: float, reason: str) -> SolverError:
    """The one wording for a target no coefficient within the limits reaches, with the reason."""
    return SolverError(f"target {giga(target_macs)} G MACs is out of reach of {_scaling(method)} of {model}: {reason}")


def _point(t: float, search: _Search, method: str) -> str:
    """A search point as a user reads it: ``24 px`` for resolution, else ``w=1.45`` (the coefficient in full)."""
    if method == "resolution":
        return f"{search.make(t).input_size} px"
    shortest = _shortest_within_step(t, search, method)
    return f"{_LETTER[method]}={shortest if method == 'compound' else math.exp(shortest):.6g}"


def _past_range(method: str, search: _Search, past: _PastLimit) -> str:
    """From the last network counted, where the power law puts the target: past a coefficient limit (ScaleLimits,
    checked when a spec is made; nothing is counted), else past the range searched (``_T_LIMITS``)."""
    counted = f"{_point(past.t, search, method)} gives {giga(search.macs(past.t))} G"
    try:
        search.make(past.needed)
    except InputError as error:
        return f"{counted}, and by the power law {error}"
    letter = _LETTER.get(method, "r")
    bound = math.copysign(_T_LIMITS[method], past.needed)
    as_value = (lambda t: t) if method == "compound" else math.exp
    return (
        f"{counted}, so by the power law it needs about {letter}={as_value(past.needed):.4g}, past the range "
        f"searched ({letter} {'<=' if bound > 0 else '>='} {as_value(bound):.4g})"
    )


def _unreachable(
    model: str,
    method: str,
    target_macs: float,
    tolerance: float,
    search: _Search,
    bracket: tuple[float, float],
    coefficients: CompoundCoefficients,
    inputs: InputSpec,
) -> str:
    """Why no variant is within tolerance: the two variants either side of the target, a step of the staircase."""
    sides = []
    for t in bracket:  # named by the coefficient in full: two neighbouring steps can share a short model name
        macs = search.macs(t)
        sides.append(f"{_point(t, search, method)} ({giga(macs)} G, {macs / target_macs - 1:+.1%})")
    return (
        f"{_scaling(method)} of {model} cannot reach {giga(target_macs)} G MACs within {tolerance * 100:g}%: its "
        f"MACs step over it, from {sides[0]} to {sides[1]}, as repeats, channels and sizes round to whole numbers"
    )


def _final_spec(
    model: str, method: str, spec: ModelSpec, coefficients: CompoundCoefficients, name: str | None, inputs: InputSpec
) -> ModelSpec:
    """The solved spec, renamed if asked; resolution variants carry r = size / base exactly."""
    if name is None and method != "resolution":
        return spec
    if method == "compound":
        return make_spec(model, phi=spec.phi, coefficients=coefficients, name=name, inputs=inputs)
    if method == "resolution":
        return make_spec(model, input_size=spec.input_size, name=name, inputs=inputs)
    if method == "width":
        return make_spec(model, width=spec.width, name=name, inputs=inputs)
    return make_spec(model, depth=spec.depth, name=name, inputs=inputs)


class _PastLimit(Exception):
    """The bracket search's next step from ``t`` (counted) leaves its range (``_T_LIMITS``); the power law puts
    the target near ``needed``."""

    def __init__(self, t: float, needed: float) -> None:
        super().__init__(t, needed)
        self.t, self.needed = t, needed


class _Search:
    """g(t) = log(MACs(t) / target), counted once per distinct workload key."""

    def __init__(self, make: Callable[[float], ModelSpec], macs_of: Callable[[ModelSpec], int], target: float):
        self.make, self.macs_of, self.target = make, macs_of, target
        self._by_key: dict[str, int] = {}

    @property
    def evaluations(self) -> int:
        return len(self._by_key)

    def key(self, t: float) -> str:
        return workload_key(self.make(t))

    def macs(self, t: float) -> int:
        spec = self.make(t)
        key = workload_key(spec)
        if key not in self._by_key:
            self._by_key[key] = self.macs_of(spec)
        return self._by_key[key]

    def log_ratio(self, t: float) -> float:
        return math.log(self.macs(t) / self.target)

    def bracket(self, slope: float, limit: float) -> tuple[float, float]:
        """lo < hi with g(lo) < 0 <= g(hi), by power-law (Newton) steps from t = 0.

        A step that lands on the same side again doubles the next one (a plateau of the
        staircase, or a flatter curve than the power law says).
        """
        t, lo, hi, growth = 0.0, -math.inf, math.inf, 1.0
        g = self.log_ratio(t)
        while True:
            if g < 0:
                lo = max(lo, t)
            else:
                hi = min(hi, t)
            if not (math.isinf(lo) or math.isinf(hi)):
                return lo, hi
            step = -g / slope if g else -0.01
            t_next = t + math.copysign(max(abs(step), 0.01), step) * growth
            if abs(t_next) > limit:
                raise _PastLimit(t, t - g / slope)
            t = t_next
            g_next = self.log_ratio(t)
            growth = growth * 2 if (g_next < 0) == (g < 0) else 1.0
            g = g_next

    def narrow(self, lo: float, hi: float, good_log: float = _GOOD_LOG) -> tuple[float, float]:
        """Shrink [lo, hi] by Illinois false position until an end is within ``good_log`` (GOOD_ENOUGH, or a finer
        tolerance) or the bracket is one step."""
        g_lo, g_hi = self.log_ratio(lo), self.log_ratio(hi)
        w_lo, w_hi, last = g_lo, g_hi, 0  # interpolation weights; Illinois halves a stale end's
        while hi - lo > _T_EPSILON and min(-g_lo, g_hi) > good_log:
            t = (lo * w_hi - hi * w_lo) / (w_hi - w_lo)
            margin = 0.01 * (hi - lo)
            t = min(max(t, lo + margin), hi - margin)
            g = self.log_ratio(t)
            if g < 0:
                lo, g_lo, w_lo = t, g, g
                w_hi, last = (w_hi / 2 if last < 0 else w_hi), -1
            else:
                hi, g_hi, w_hi = t, g, g
                w_lo, last = (w_lo / 2 if last > 0 else w_lo), 1
        return lo, hi


def _shortest_within_step(t: float, search: _Search, method: str) -> float:
    """The shortest decimal coefficient that builds the same network as ``t`` (1.8734 -> 1.87)."""
    if method == "resolution":
        return t
    key = search.key(t)
    to_t = (lambda x: x) if method == "compound" else math.log
    value = t if method == "compound" else math.exp(t)
    for digits in range(1, 7):
        candidate = round(value, digits)
        if candidate > 0 and search.key(to_t(candidate)) == key:
            return to_t(candidate)
    return t
