"""``bench gate``: the latency gate from the command line (bench.gate.interleaved does the work)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.errors import InputError
from bench.shipped import shipped_path
from bench.store.results import DEFAULT_RESULTS


def register(commands) -> None:
    gate = commands.add_parser(
        "gate",
        help="fail when the code makes a model slower than at the baseline revision",
        description="Time each model of a suite with the baseline revision's code and the working tree's, "
        "interleaved pair by pair on the same cores. Exit 0 when every model's slowdown interval lies at or below "
        "the threshold, 1 when one lies wholly above it (a regression), 3 when a model stays too noisy to judge "
        "after extra rounds and none regressed. Entries may be scaled or your own models; the suite's latency: "
        "block sets threads, batch, precision and memory format. Outside git: --save-timings once, then --timings.",
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
    gate.add_argument(
        "--pairs", type=int, default=10, help="uncontended interleaved forward pairs per round (default 10)"
    )
    gate.add_argument(
        "--extra-rounds",
        type=int,
        default=12,
        metavar="N",
        help="rounds a model may get beyond --rounds (--rounds at a time) while its interval straddles the "
        "threshold, before it is too noisy to judge (exit 3; default 12)",
    )
    gate.add_argument(
        "--threshold",
        type=float,
        help="largest allowed slowdown: a regression when the ratio's whole 90%% interval lies above 1 + this "
        "(default: the baseline file's, else 0.08; 0.30 with --timings)",
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
    gate.set_defaults(handler=_gate)


def _gate_models(suite, cache_dir: Path) -> tuple[list, str]:
    """The suite's entries as the gate times them (solved entries solved), and their conditions in words."""
    from bench.gate.interleaved import GateModel
    from bench.scaling.plan import plan_suite
    from bench.specs import LatencyConditions
    from bench.store.count_cache import ComplexityCache

    conditions = suite.latency or LatencyConditions(threads=1)
    if conditions.threads is None:
        raise InputError(f"{suite.path}: the gate pins its workers, so latency.threads must be a number")
    planned = plan_suite(suite, ComplexityCache(cache_dir / "complexity-cache.json"))
    models = [GateModel(item.entry.name, item.spec, conditions) for item in planned]
    words = f"{conditions.threads} thread(s), batch {conditions.batch_size}, {conditions.precision}, "
    return models, words + f"{conditions.memory_format}, {conditions.device}"


def _slowdowns(items: list[str], names: list[str], suite: Path) -> dict[str, float]:
    slowdowns = {}
    for item in items:
        name, _, fraction = item.partition("=")
        if name not in names:
            raise InputError(f"--inject-slowdown {item}: {name!r} is not a model of {suite} ({', '.join(names)})")
        try:
            slowdowns[name] = float(fraction)
        except ValueError:
            raise InputError(f"--inject-slowdown {item}: expected MODEL=FRACTION, e.g. resnet18=0.15") from None
        if not 0 < slowdowns[name] < 10:
            raise InputError(f"--inject-slowdown {item}: the fraction must be between 0 and 10")
    return slowdowns


def _gate(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from bench.gate import interleaved as gate
    from bench.gate import timings as gate_timings
    from bench.gate.sources import project_root
    from bench.suites import load_suite

    for option, python in (("--baseline-python", args.baseline_python), ("--candidate-python", args.candidate_python)):
        if python is not None:  # before the suite is planned: an interpreter that cannot start is one line now
            gate.check_python(python, option)
    if not args.suite.is_absolute() and not args.suite.exists() and shipped_path(args.suite) is not None:
        args.suite = shipped_path(args.suite)  # a shipped suite, named from another folder
    baseline_file = args.baseline or args.suite.with_name(f"{args.suite.stem}.baseline.json")
    if args.set_baseline:
        root = project_root(Path.cwd())
        commit = gate.resolve_revision(args.set_baseline, root)
        data = {
            "revision": commit,
            "threshold": args.threshold or gate.DEFAULT_THRESHOLD,
            "note": f"refresh with: python -m bench gate --suite {args.suite} --set-baseline HEAD",
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
        raise InputError(
            f"{baseline_file}: no gate baseline yet; record one with `bench gate --suite {args.suite} "
            "--set-baseline HEAD` (and commit it), or give --against REVISION"
        )
    baseline = gate.read_baseline(baseline_file) if by_revision else {}
    settings = gate.GateSettings(
        rounds=args.rounds,
        pairs=args.pairs,
        extra_rounds=args.extra_rounds,
        threshold=args.threshold
        or (gate_timings.STORED_THRESHOLD if args.timings else baseline.get("threshold", gate.DEFAULT_THRESHOLD)),
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
    return report.exit_code
