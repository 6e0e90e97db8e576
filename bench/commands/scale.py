"""``bench scale --latency-ratio 2``: compound-scaling coefficients whose measured latency on this machine
grows by the ratio per phi (bench.scaling.hardware), and how they compare with the paper's FLOPs-derived ones."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from bench.commands.args import at_least_one
from bench.errors import InputError
from bench.store.results import DEFAULT_RESULTS
from bench.zoo.budgets import check_threads


def _floats(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers such as 1.0,1.1, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("give at least one number")
    return values


def _phis(text: str) -> tuple[int, ...]:
    values = _floats(text)
    if any(v != int(v) or not 1 <= v <= 6 for v in values):
        raise argparse.ArgumentTypeError(f"phis are whole numbers from 1 to 6, got {text!r}")
    return tuple(int(v) for v in values)


def register(commands) -> None:
    scale = commands.add_parser(
        "scale",
        help="compound-scaling coefficients whose measured latency here grows by a ratio per phi",
        description="For each (alpha, beta) of a small grid, solve gamma so that the phi = 1 network runs "
        "RATIO times as long as the base on this machine (readings are stored in the results file and "
        "reused), keep one point by a stated rule, then time the paper's FLOPs-derived networks and the "
        "latency-derived ones at phi = 1, 2, 3 interleaved with the base. No accuracy is measured here.",
    )
    scale.add_argument("model", nargs="?", default="efficientnet_b0", help="a scalable base (default efficientnet_b0)")
    scale.add_argument("--latency-ratio", type=float, required=True, help="latency growth per +1 of phi, e.g. 2")
    scale.add_argument("--alphas", type=_floats, default=(1.0, 1.1, 1.2, 1.3, 1.4), help="depth bases to try")
    scale.add_argument("--betas", type=_floats, default=(1.0, 1.05, 1.1, 1.15, 1.2), help="width bases to try")
    scale.add_argument("--max-gamma", type=float, default=2.0, help="largest resolution base searched (default 2)")
    scale.add_argument(
        "--tolerance", type=float, default=0.05, help="a ratio within this fraction is hit (default 0.05)"
    )
    scale.add_argument(
        "--select",
        choices=("direction", "macs"),
        default="direction",
        help="which solved point to keep: closest to the paper's balance (default) or the most MACs",
    )
    scale.add_argument("--phis", type=_phis, default=(1, 2, 3), help="phis to compare at (default 1,2,3)")
    scale.add_argument(
        "--pair-rounds",
        type=at_least_one,
        default=2,
        help="rounds of each search reading, network and base (default 2)",
    )
    scale.add_argument("--rounds", type=at_least_one, default=3, help="rounds of the final comparison (default 3)")
    scale.add_argument("--no-compare", action="store_true", help="search only; skip the interleaved comparison")
    scale.add_argument(
        "--threads", type=int, default=1, help="CPU threads to time with, at most the logical CPUs (default 1)"
    )
    scale.add_argument("--batch", type=at_least_one, default=1, help="batch size to time with (default 1)")
    scale.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    scale.add_argument("--min-time", type=float, default=1.0, help="seconds of forwards per reading (default 1)")
    scale.add_argument(
        "--results", type=Path, default=DEFAULT_RESULTS, help=f"results file (default {DEFAULT_RESULTS})"
    )
    scale.set_defaults(handler=_scale)


def suite_names(ratio: float) -> tuple[str, str]:
    """The results-store suites of a search for ``ratio``: its grid readings and its interleaved comparison."""
    return f"hw_scaling_x{ratio:g}", f"hw_scaling_x{ratio:g}_compare"


def _say(text: str) -> None:
    print(text, flush=True)


def _scale(args: argparse.Namespace) -> int:
    from bench.models.families import scalable_family
    from bench.models.registry import make_spec
    from bench.scaling.hardware import Grid, direction_angle, search_grid
    from bench.scaling.paired_timer import PairedTimer
    from bench.specs import LatencyConditions
    from bench.store.count_cache import ComplexityCache
    from bench.store.results import check_writable, read_results

    scalable_family(args.model)  # one line for a model that cannot be scaled, before any timing
    check_threads("--threads", args.threads)
    grid = Grid(args.alphas, args.betas, args.max_gamma, args.tolerance)
    if not (math.isfinite(args.latency_ratio) and 1.0 < args.latency_ratio <= 16.0):
        raise InputError(f"--latency-ratio must lie in (1, 16], got {args.latency_ratio!r}")
    if not (math.isfinite(args.min_time) and 0 < args.min_time <= 60):
        raise InputError(f"--min-time must lie in (0, 60] seconds, got {args.min_time!r}")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise InputError("--device cuda: this machine has no CUDA GPU (torch.cuda.is_available() is False)")
    read_results(args.results)
    check_writable(args.results)
    conditions = LatencyConditions(
        device=args.device, batch_size=args.batch, threads=args.threads, min_time_s=args.min_time
    )
    counts = ComplexityCache(args.results.parent / "complexity-cache.json")
    grid_suite, compare_suite = suite_names(args.latency_ratio)
    timer = PairedTimer(args.results, grid_suite, make_spec(args.model), conditions, counts, rounds=args.pair_rounds)
    where = f"{args.device}, {args.threads} thread(s), batch {args.batch}"
    _say(f"timing {args.model} and its phi = 1 variants on this machine ({where}); readings stored in {args.results}")
    _say(
        f"  {'alpha':>6}{'beta':>6}{'gamma':>7}{'px':>5}{'ms':>9}{'x base':>8}{'GMACs':>7}"
        f"{'a*b^2*g^2':>10}{'angle':>7}  status"
    )

    def show(c) -> None:
        _say(
            f"  {c.alpha:>6.2f}{c.beta:>6.2f}{c.gamma:>7.3f}{c.spec.input_size:>5}{c.reading.ms:>9.2f}"
            f"{c.ratio:>8.2f}{counts.macs(c.spec) / 1e9:>7.3f}{c.coefficients.flops_base:>10.2f}"
            f"{direction_angle(c.coefficients):>6.1f}°  {c.status} ({c.probes} sizes)"
        )

    found = search_grid(args.model, target_ratio=args.latency_ratio, timer=timer, grid=grid, on_candidate=show)
    chosen = _report_selection(args, found, timer.measured, counts)
    if not args.no_compare:
        _compare(args, chosen.coefficients, conditions, counts, compare_suite)
    return 0


def _report_selection(args: argparse.Namespace, found, timed_now: int, counts):
    """Print the base and the point the rule keeps; return it."""
    from bench.scaling.hardware import select
    from bench.scaling.rules import PAPER_COEFFICIENTS

    counts.save()
    base_ms = sorted(c.reading.base_ms for c in found.candidates)[len(found.candidates) // 2]
    _say(
        f"base {found.base.name} {found.base.input_size}px: {base_ms:.2f} ms (median of its readings); each ratio "
        f"was timed interleaved with the base, {args.pair_rounds} rounds ({timed_now} pairs timed now, the "
        f"rest read from {args.results})"
    )
    chosen = select(found.candidates, args.select, counts.macs)
    rule = {
        "direction": "the solved point closest to the paper's balance (log alpha, log beta, log gamma)",
        "macs": "the solved point with the most MACs at the latency",
    }[args.select]
    c = chosen.coefficients
    _say(
        f"selected ({rule}): alpha={c.alpha:.4g} beta={c.beta:.4g} gamma={c.gamma:.4g} "
        f"(MACs grow {c.flops_base:.2f}x per phi; the paper's 1.2, 1.1, 1.15 grow them "
        f"{PAPER_COEFFICIENTS.flops_base:.2f}x)"
    )
    _say(
        f"the resulting model: {chosen.spec.name}: w={chosen.spec.width:.4g} d={chosen.spec.depth:.4g} "
        f"r={chosen.spec.resolution:.4g} input {chosen.spec.input_size}px"
    )
    return chosen


def _compare(args: argparse.Namespace, chosen, conditions, counts, compare_suite: str) -> None:
    from bench.measure.environment import environment, machine_fingerprint
    from bench.models.registry import make_spec
    from bench.scaling.hardware import comparison_table, scaling_paths
    from bench.scaling.paired_timer import store_interleaved, time_interleaved
    from bench.store.results import read_results

    flops, latency = scaling_paths(args.model, chosen, args.phis)
    specs = [make_spec(args.model, name="base"), *[s for pair in zip(flops.specs, latency.specs) for s in pair]]
    _say(f"timing the base and both paths at phi = {', '.join(map(str, args.phis))}, interleaved, {args.rounds} rounds")
    timed = time_interleaved(specs, conditions, args.rounds, on_round=lambda i: print(f"  round {i}", file=sys.stderr))
    store_interleaved(args.results, compare_suite, timed, specs, counts)
    counts.save()
    rows = read_results(args.results)
    machine = machine_fingerprint(environment())
    rows = rows[(rows["suite"] == compare_suite) & (rows["machine"] == machine)]
    table = comparison_table(rows)
    header = f"{'d':>7}{'w':>7}{'px':>5}{'GMACs':>8}{'M params':>10}{'ms':>9}{'x base':>8}{'MACs x':>8}"
    _say(f"  {'phi':>3}  {'path':<8}{header}")
    for r in table.to_dict("records"):
        _say(
            f"  {r['phi']:>3}  {r['path']:<8}{r['depth']:>7.3f}{r['width']:>7.3f}{r['input_size']:>5}"
            f"{r['macs_g']:>8.3f}"
            f"{r['params_m']:>10.2f}{r['latency_ms']:>9.2f}{r['latency_x']:>8.2f}{r['macs_x']:>8.2f}"
        )
    _say(
        "flops = the paper's alpha, beta, gamma (B1-B3-like, MACs ~2^phi); latency = the coefficients above. "
        "Accuracy is not measured here."
    )
