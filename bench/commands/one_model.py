"""One model at a time: ``bench count``, ``bench latency``, ``bench solve``, ``bench models``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bench.commands.args import (
    add_coefficient_args,
    add_total_stride_arg,
    at_least_one,
    inputs_from_args,
    spec_from_args,
    spec_json,
)
from bench.errors import InputError
from bench.zoo.budgets import check_threads

#: ``bench count --per-layer``'s module depth when --depth is not given.
PER_LAYER_DEPTH = 2


def register(commands) -> None:
    count = commands.add_parser(
        "count",
        help="exact params / MACs / activations of one model",
        description="Count one (optionally scaled) model on the meta device.",
    )
    add_coefficient_args(count)
    count.add_argument("--json", action="store_true", help="print the counts as JSON")
    count.add_argument(
        "--per-layer",
        action="store_true",
        help="params / MACs / activations per module and per operator, and the operators not counted",
    )
    count.add_argument("--depth", type=at_least_one, help="with --per-layer: modules down to this depth (default 2)")
    count.set_defaults(handler=_count)
    add_latency(commands)

    solve = commands.add_parser(
        "solve",
        help="the single-dimension or compound variant that hits a MAC target",
        description="Find the coefficient of one scaling method that matches a MAC target.",
    )
    solve.add_argument("model", help="a scalable base, e.g. efficientnet_b0")
    solve.add_argument("--method", required=True, choices=("width", "depth", "resolution", "compound"))
    target = solve.add_mutually_exclusive_group(required=True)
    target.add_argument("--macs", help="target MACs, e.g. 1.8G or 1.8e9")
    target.add_argument("--macs-ratio", type=float, help="target as a multiple of the unscaled model's MACs")
    target.add_argument("--match-phi", type=float, help="target = MACs of compound scaling at this phi")
    solve.add_argument("--tolerance", type=float, default=0.03, help="largest relative miss allowed (default 0.03)")
    add_total_stride_arg(solve)
    solve.add_argument("--json", action="store_true", help="print the solved variant as JSON")
    solve.set_defaults(handler=_solve)

    models = commands.add_parser(
        "models",
        help="list scalable bases and presets",
        description="List the scalable families, their bases, and the EfficientNet presets.",
    )
    models.set_defaults(handler=_models)


def _of_base(spec) -> str:
    """Where r is not 1, what it is relative to: the paper's r is input size / the family's base size (B0's 224 px
    for every EfficientNet, so a B3 at 320 px reads r=1.429, not 320 / 300)."""
    from bench.models.families import family_of_base

    family = family_of_base(spec.base)
    if family is None or spec.resolution == 1:
        return ""
    return f" (r = input / the family's {family.base_resolution} px)"


def _count(args: argparse.Namespace) -> int:
    from bench.measure.complexity import count_complexity
    from bench.models.registry import architecture, described_method

    if args.depth is not None and not args.per_layer:
        raise InputError("--depth only applies with --per-layer (modules down to that depth); to scale depth, use --d")
    spec = spec_from_args(args)
    if args.per_layer:
        return _count_per_layer(spec, args.depth or PER_LAYER_DEPTH, args.json)
    counts = count_complexity(spec)
    arch = architecture(spec)
    if args.json:
        shape = (
            {}
            if arch is None
            else {"stem": arch.stem, "channels": list(arch.channels), "repeats": list(arch.repeats), "head": arch.head}
        )
        print(
            json.dumps(
                {
                    **spec_json(spec),
                    "method": described_method(spec),
                    **shape,
                    "params": counts.params,
                    "macs": counts.macs,
                    "activations": counts.activations,
                }
            )
        )
        return 0
    if spec.method == "timm":
        coefficients = "a timm model (any coefficients are timm's own)"
    elif spec.method == "user":
        coefficients = f"your model ({spec.source}{''.join(f', {k}={v!r}' for k, v in spec.model_args)})"
    else:
        coefficients = f"{described_method(spec)}, w={spec.width:.4g} d={spec.depth:.4g} r={spec.resolution:.4g}"
    print(f"{spec.name}: {coefficients} input {spec.input_size}px{_of_base(spec)}")
    if spec.method == "user":
        print(f"  called as {user_call(spec)}")
    if arch is not None:
        print(f"  stem {arch.stem}, channels {list(arch.channels)}, repeats {list(arch.repeats)}, head {arch.head}")
    print(f"  params      {counts.params:>16,d}  ({counts.params / 1e6:.3f} M)")
    print(f"  MACs        {counts.macs:>16,d}  ({counts.macs / 1e9:.4f} G; FLOPs = 2 x MACs)")
    print(f"  activations {counts.activations:>16,d}  ({counts.activations / 1e6:.3f} M)")
    return 0


def _count_per_layer(spec, depth: int, as_json: bool) -> int:
    """``bench count --per-layer``: the entries of each depth sum exactly to their parent (bench.measure.layers)."""
    from bench.measure.layers import count_spec_layers

    breakdown = count_spec_layers(spec)
    total, layers = breakdown.total, breakdown.to(depth)
    if as_json:
        payload = {
            **spec_json(spec),
            "params": total.params,
            "macs": total.macs,
            "activations": total.activations,
            "layers": [vars(layer) for layer in layers],
            "operators": [vars(op) for op in breakdown.operators],
            "not_counted": [{"op": op, "calls": calls} for op, calls in breakdown.not_counted],
        }
        print(json.dumps(payload))
        return 0
    print(f"{spec.name}: input {spec.input_size}px, per module down to depth {depth} (FLOPs = 2 x MACs)")
    width = max([len("  " * (layer.depth - 1) + layer.name) for layer in layers] + [5])
    print(f"  {'module':<{width}}  {'params':>12}  {'MACs':>14}  {'MACs %':>6}  {'activations':>12}")
    for layer in [*layers, None]:
        name, row = ("total", total) if layer is None else ("  " * (layer.depth - 1) + layer.name, layer)
        share = row.macs / total.macs if total.macs else 0.0
        print(f"  {name:<{width}}  {row.params:>12,d}  {row.macs:>14,d}  {share:>6.1%}  {row.activations:>12,d}")
    print("per operator:")
    for op in breakdown.operators:
        print(f"  {op.op:<14} {op.calls:>5} calls  {op.macs:>14,d} MACs  {op.activations:>12,d} activations")
    uncounted = ", ".join(f"{op} x{calls}" for op, calls in breakdown.not_counted)
    print(f"not counted (no MACs by the paper's and timm's convention): {uncounted or 'none'}")
    return 0


def user_call(spec) -> str:
    """How a user model's function is called (its own defaults for what it is not given)."""
    from bench.models.user import call_kwargs

    kwargs = call_kwargs(spec.base, spec.model_args, {"num_classes": spec.num_classes, "in_chans": spec.in_chans})
    return f"{spec.base}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


def _latency(args: argparse.Namespace) -> int:
    from bench.measure.complexity import count_complexity
    from bench.measure.environment import environment
    from bench.measure.latency import noise_warnings
    from bench.models.registry import build_model
    from bench.specs import LatencyConditions
    from bench.store.results import append_rows, check_writable, read_results
    from bench.store.rows import single_latency_row

    check_threads("--threads", args.threads)
    conditions = LatencyConditions(
        device=args.device,
        batch_size=args.batch,
        threads=None if args.all_threads else args.threads,
        precision=args.precision,
        channels_last=args.channels_last,
        compile=args.compile,
        warmup_iterations=args.warmup,
        min_iterations=args.iterations,
        min_time_s=args.min_time,
        max_iterations=max(1000, args.iterations),
        pin_core=False if args.no_pin else None,
    )
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise InputError("--device cuda: this machine has no CUDA GPU (torch.cuda.is_available() is False)")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if args.device == "cpu" and conditions.threads is not None and conditions.threads > cores:
        print(
            f"note: {conditions.threads} threads on the {cores} cores this process may use: the threads share "
            "cores, so this times oversubscription",
            file=sys.stderr,
        )
    if args.until_stable is not None and not (args.until_stable > 0 and args.until_stable < float("inf")):
        raise InputError(f"--until-stable {args.until_stable}: must be a positive number of seconds")
    if args.results is not None:
        read_results(args.results)  # a bad results path fails before the measurement
        check_writable(args.results)
    spec = spec_from_args(args)
    count_complexity(spec)  # a model that cannot take this input fails here in one line, on the meta device
    result, rounds = _measure_until_stable(build_model(spec), spec, conditions, args.until_stable)
    row = single_latency_row(spec, result, environment())
    if args.results is not None:
        append_rows(args.results, [row])
    if args.json:
        print(json.dumps({k: v for k, v in row.items() if v is not None}, default=str))
        return 0
    stats = result.stats
    where = f"core {result.core}" if result.core is not None else "not pinned"
    print(
        f"{spec.name}: {args.device}, batch {result.batch_used}, {result.threads} thread(s) ({where}), "
        f"{args.precision}, {conditions.memory_format}{', compiled' if args.compile else ''}, input {spec.input_size}px"
    )
    print(
        f"  p50 {stats.p50:.3f} ms  p90 {stats.p90:.3f} ms  p99 {stats.p99:.3f} ms  mean {stats.mean:.3f} ms  "
        f"CV {stats.cv:.1%}  ({stats.iterations} forwards)"
        + ("" if result.cpu_wall_ratio is None else f"  CPU/wall {result.cpu_wall_ratio:.2f}")
        + ("" if rounds == 1 else f"  (best of {rounds} rounds)")
    )
    print(
        f"  {result.throughput:.1f} images/s"
        + (f"  peak memory {result.peak_memory_mb:.0f} MB" if result.peak_memory_mb is not None else "")
    )
    if args.results is not None:
        print(f"stored a latency row in {args.results}")
    for line in noise_warnings(result):
        hint = "" if args.until_stable else "; --until-stable 60 repeats until it is met"
        print(f"warning: {line}{hint}", file=sys.stderr)
    return 0


def _measure_until_stable(model, spec, conditions, limit_s: float | None):
    """One measurement; with ``limit_s``, repeated while it is noisy or contended and time is left. Returns the
    first quiet round, else the round with the lowest CV, and how many rounds ran."""
    import time

    from bench.measure.latency import measure_latency

    started = time.monotonic()
    results = [measure_latency(model, spec.input_shape, conditions)]
    while limit_s and (results[-1].noisy or results[-1].contended) and time.monotonic() - started < limit_s:
        results.append(measure_latency(model, spec.input_shape, conditions))
    quiet = [r for r in results if not (r.noisy or r.contended)]
    return (quiet[0] if quiet else min(results, key=lambda r: r.stats.cv)), len(results)


def _solve(args: argparse.Namespace) -> int:
    from bench.models.registry import make_spec
    from bench.scaling.solver import solve
    from bench.store.count_cache import ComplexityCache
    from bench.suites import parse_number

    cache = ComplexityCache(None)
    inputs = inputs_from_args(args)
    if args.macs is not None:
        target = parse_number(args.macs)
        if target is None or target <= 0:
            raise InputError(f"--macs must be a positive number like 1.8G, got {args.macs!r}")
    elif args.macs_ratio is not None:
        target = args.macs_ratio * cache.macs(make_spec(args.model, inputs=inputs))
    else:
        target = cache.macs(make_spec(args.model, phi=args.match_phi, inputs=inputs))
    if not 0 < args.tolerance < 1:  # NaN fails this too
        raise InputError(f"--tolerance must be a fraction between 0 and 1 (0.03 = 3%), got {args.tolerance!r}")
    match = solve(args.model, args.method, target, cache.macs, tolerance=args.tolerance, inputs=inputs)
    spec = match.spec
    if args.json:
        print(
            json.dumps(
                {
                    **spec_json(spec),
                    "macs": match.macs,
                    "target_macs": target,
                    "rel_error": match.rel_error,
                    "networks_counted": match.evaluations,
                }
            )
        )
        return 0
    print(
        f"{spec.name}: w={spec.width:.4g} d={spec.depth:.4g} r={spec.resolution:.4g} input {spec.input_size}px"
        f"{'' if spec.phi is None else f' phi={spec.phi:.4g}'}"
    )
    print(
        f"  MACs {match.macs / 1e9:.4f} G vs target {target / 1e9:.4f} G ({match.rel_error:+.2%}), "
        f"{match.evaluations} networks counted"
    )
    return 0


def _models(args: argparse.Namespace) -> int:
    from bench.models.families import FAMILIES
    from bench.models.registry import presets

    for family in FAMILIES.values():
        print(f"{family.name}: bases {', '.join(family.bases)} (base input {family.base_resolution}px)")
        print(f"  {family.note}")
    print("presets (paper Table 2, tensorflow/tpu coefficients):")
    for preset in presets().values():
        print(f"  {preset.name}: w={preset.width} d={preset.depth} input {preset.input_size}px")
    print("any other timm model name is measured unscaled at its default input size")
    return 0


def add_latency(commands) -> None:
    """``bench latency``: the conditions of a suite's latency block, as options."""
    latency = commands.add_parser(
        "latency",
        help="time one (optionally scaled) model: p50/p90/p99, CV, images/s",
        description="Time forwards of one model under the conditions a suite's latency: "
        "block sets; store a row with --results.",
    )
    add_coefficient_args(latency)
    latency.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    latency.add_argument(
        "--threads", type=int, default=1, help="CPU intra-op threads, at most the machine's logical CPUs (default 1)"
    )
    latency.add_argument("--all-threads", action="store_true", help="leave torch's default thread count (all cores)")
    latency.add_argument("--batch", type=at_least_one, default=1, help="batch size (default 1)")
    latency.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    latency.add_argument("--channels-last", action="store_true")
    latency.add_argument("--compile", action="store_true", help="torch.compile the model first")
    latency.add_argument("--warmup", type=int, default=5, help="untimed forwards first (default 5)")
    latency.add_argument("--iterations", type=at_least_one, default=20, help="at least this many forwards (default 20)")
    latency.add_argument("--min-time", type=float, default=1.0, help="and at least this many seconds (default 1)")
    latency.add_argument("--no-pin", action="store_true", help="do not pin a one-thread CPU measurement to one core")
    latency.add_argument(
        "--until-stable",
        type=float,
        metavar="SECONDS",
        help="repeat the measurement while its CV is above 5%% or the process was preempted, up to this many seconds",
    )
    latency.add_argument("--results", type=Path, help="also store the row in this results file")
    latency.add_argument("--json", action="store_true", help="print the row as JSON instead of text")
    latency.set_defaults(handler=_latency)
