"""Command line: ``python -m bench <command>`` (also installed as ``effbench``).

Commands are thin: they parse arguments, call the library, and print. Input problems
(a bad suite file, an unknown model, an unreachable MAC target, a bad results path) print
one line and exit with status 2; nothing is written.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence

from bench.results import DEFAULT_RESULTS

EXIT_INPUT_ERROR = 2


def _add_coefficient_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="timm name: a scalable base (efficientnet_b0, resnet50, ...), "
                                      "a preset (efficientnet_b1..b7) or any timm model")
    parser.add_argument("--w", type=float, help="width coefficient")
    parser.add_argument("--d", type=float, help="depth coefficient")
    parser.add_argument("--r", type=float, help="resolution coefficient (input = base size * r, multiple of 4)")
    parser.add_argument("--input-size", type=int, help="input size in pixels (instead of --r)")
    parser.add_argument("--phi", type=float, help="compound coefficient: d, w, r = alpha^phi, beta^phi, gamma^phi")
    parser.add_argument("--alpha", type=float, default=1.2, help="depth base for --phi (default 1.2)")
    parser.add_argument("--beta", type=float, default=1.1, help="width base for --phi (default 1.1)")
    parser.add_argument("--gamma", type=float, default=1.15, help="resolution base for --phi (default 1.15)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run suite files and store one row per entry",
                              description="Plan each suite, count what is not stored yet, append tidy rows.")
    run.add_argument("suites", nargs="+", type=Path, help="suite files, e.g. suites/paper_table2.yaml")
    run.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help=f"results file (.csv or .parquet; default {DEFAULT_RESULTS})")
    run.add_argument("--cache", type=Path, help="count cache (default: complexity-cache.json beside the results)")
    run.add_argument("--no-cache", action="store_true", help="count everything afresh, keep no cache")
    run.add_argument("--force", action="store_true", help="redo rows already in the results (they are replaced)")
    run.add_argument("--jobs", type=int, default=2, help="worker processes for counting (default 2)")
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary table")

    validate = commands.add_parser("validate", help="check suite files without running them",
                                   description="Validate suite files; print their entries.")
    validate.add_argument("suites", nargs="+", type=Path)

    count = commands.add_parser("count", help="exact params / MACs / activations of one model",
                                description="Count one (optionally scaled) model on the meta device.")
    _add_coefficient_args(count)

    solve = commands.add_parser("solve", help="the single-dimension or compound variant that hits a MAC target",
                                description="Find the coefficient of one scaling method that matches a MAC target.")
    solve.add_argument("model", help="a scalable base, e.g. efficientnet_b0")
    solve.add_argument("--method", required=True, choices=("width", "depth", "resolution", "compound"))
    target = solve.add_mutually_exclusive_group(required=True)
    target.add_argument("--macs", help="target MACs, e.g. 1.8G or 1.8e9")
    target.add_argument("--macs-ratio", type=float, help="target as a multiple of the unscaled model's MACs")
    target.add_argument("--match-phi", type=float, help="target = MACs of compound scaling at this phi")
    solve.add_argument("--tolerance", type=float, default=0.03, help="largest relative miss allowed (default 0.03)")

    commands.add_parser("models", help="list scalable bases and presets",
                        description="List the scalable families, their bases, and the EfficientNet presets.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from bench.models import UnknownModelError
    from bench.results import ResultsFormatError
    from bench.solver import SolverError
    from bench.suites import SuiteError

    handlers = {"run": _run, "validate": _validate, "count": _count, "solve": _solve, "models": _models}
    try:
        return handlers[args.command](args)
    except (SuiteError, UnknownModelError, ResultsFormatError, SolverError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR


def _run(args: argparse.Namespace) -> int:
    from bench.cache import ComplexityCache
    from bench.results import read_results
    from bench.run import run_suite
    from bench.suites import load_suite
    from bench.summary import complexity_table

    suites = [load_suite(path) for path in args.suites]  # validate every file before running any
    read_results(args.results)  # a bad results path fails here, before any work
    cache_path = None if args.no_cache else (args.cache or args.results.parent / "complexity-cache.json")
    cache = ComplexityCache(cache_path)
    for suite in suites:
        start = time.perf_counter()
        summary = run_suite(suite, args.results, cache, force=args.force, jobs=args.jobs, progress=not args.quiet)
        elapsed = time.perf_counter() - start
        if not args.quiet:
            print(f"\n== {suite.name}: {summary.written} rows written, {summary.skipped} already done "
                  f"({elapsed:.1f} s) -> {args.results}")
            print(complexity_table(read_results(args.results), suite.name, [p.entry.name for p in summary.planned]))
    return 0


def _validate(args: argparse.Namespace) -> int:
    from bench.suites import load_suite

    for path in args.suites:
        suite = load_suite(path)
        solved = sum(1 for e in suite.entries if e.target is not None)
        print(f"{path}: ok, suite {suite.name!r}, {len(suite.entries)} entries ({solved} solved), "
              f"metrics {', '.join(suite.metrics)}")
    return 0


def _spec_from_args(args: argparse.Namespace):
    from bench.models import make_spec
    from bench.scaling import CompoundCoefficients

    return make_spec(args.model, width=args.w, depth=args.d, resolution=args.r, phi=args.phi,
                     coefficients=CompoundCoefficients(args.alpha, args.beta, args.gamma), input_size=args.input_size)


def _count(args: argparse.Namespace) -> int:
    from bench.complexity import count_complexity
    from bench.models import architecture

    spec = _spec_from_args(args)
    counts = count_complexity(spec)
    arch = architecture(spec)
    print(f"{spec.name}: {spec.method}, w={spec.width:.4g} d={spec.depth:.4g} r={spec.resolution:.4g} "
          f"input {spec.input_size}px")
    if arch is not None:
        print(f"  stem {arch.stem}, channels {list(arch.channels)}, repeats {list(arch.repeats)}, head {arch.head}")
    print(f"  params      {counts.params:>16,d}  ({counts.params / 1e6:.3f} M)")
    print(f"  MACs        {counts.macs:>16,d}  ({counts.macs / 1e9:.4f} G; FLOPs = 2 x MACs)")
    print(f"  activations {counts.activations:>16,d}  ({counts.activations / 1e6:.3f} M)")
    return 0


def _solve(args: argparse.Namespace) -> int:
    from bench.cache import ComplexityCache
    from bench.models import make_spec
    from bench.solver import solve
    from bench.suites import parse_number

    cache = ComplexityCache(None)
    if args.macs is not None:
        target = parse_number(args.macs)
        if target is None or target <= 0:
            raise ValueError(f"--macs must be a positive number like 1.8G, got {args.macs!r}")
    elif args.macs_ratio is not None:
        target = args.macs_ratio * cache.macs(make_spec(args.model))
    else:
        target = cache.macs(make_spec(args.model, phi=args.match_phi))
    match = solve(args.model, args.method, target, cache.macs, tolerance=args.tolerance)
    spec = match.spec
    print(f"{spec.name}: w={spec.width:.4g} d={spec.depth:.4g} r={spec.resolution:.4g} input {spec.input_size}px"
          f"{'' if spec.phi is None else f' phi={spec.phi:.4g}'}")
    print(f"  MACs {match.macs / 1e9:.4f} G vs target {target / 1e9:.4f} G ({match.rel_error:+.2%}), "
          f"{match.evaluations} networks counted")
    return 0


def _models(args: argparse.Namespace) -> int:
    from bench.families import FAMILIES
    from bench.models import presets

    for family in FAMILIES.values():
        print(f"{family.name}: bases {', '.join(family.bases)} (base input {family.base_resolution}px)")
        print(f"  {family.note}")
    print("presets (paper Table 2, tensorflow/tpu coefficients):")
    for preset in presets().values():
        print(f"  {preset.name}: w={preset.width} d={preset.depth} input {preset.input_size}px")
    print("any other timm model name is measured unscaled at its default input size")
    return 0
