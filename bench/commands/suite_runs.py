"""``bench run`` and ``bench validate``: suite files in, rows out."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bench.commands.args import at_least_one
from bench.store.results import DEFAULT_RESULTS


def register(commands) -> None:
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
    run.add_argument("--jobs", type=at_least_one, default=2, help="worker processes for counting (default 2)")
    run.add_argument(
        "--train-jobs",
        type=at_least_one,
        default=1,
        metavar="N",
        help="proxy training runs (network x seed) at once on CPU, each with threads // N threads "
        "(default 1; 2 on a 2-core machine trains about 1.49x faster)",
    )
    run.add_argument(
        "--by-seed",
        action="store_true",
        help="train seed by seed (every entry's seed s before any entry's seed s+1, costliest first within a "
        "seed) instead of costliest run first, so that a stop leaves every entry with the same seeds",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary table")
    run.add_argument(
        "--json",
        action="store_true",
        help="print the summary as JSON instead (per suite: rows written / skipped, and its stored rows); "
        "no progress bar",
    )
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
    run.add_argument(
        "--shard",
        metavar="I/N",
        help="measure only shard I of N (entries split by a hash of their name): N machines, e.g. a Slurm "
        "array, each run one shard; `bench merge` joins their stores",
    )
    run.set_defaults(handler=_run)

    validate = commands.add_parser(
        "validate",
        help="check suite files without running them",
        description="Check suite files without running them: every problem of each file on a line of its "
        "own (exit 2 if any), and every solved entry solved, so an unreachable MAC target shows now.",
    )
    validate.add_argument("suites", nargs="+", type=Path)
    validate.add_argument("--no-solve", action="store_true", help="skip solving matched entries (no counting; instant)")
    validate.add_argument("--jobs", type=at_least_one, default=2, help="worker processes for counting (default 2)")
    validate.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_RESULTS.parent / "complexity-cache.json",
        help="complexity cache to count through (default reports/complexity-cache.json)",
    )
    validate.add_argument(
        "--json", action="store_true", help="print one JSON object per run: each file's verdict and problems"
    )
    validate.set_defaults(handler=_validate)


def _run(args: argparse.Namespace) -> int:
    from bench.commands.summary import accuracy_table, complexity_table, latency_table
    from bench.run import Shard, check_machine, run_suite
    from bench.store.count_cache import ComplexityCache
    from bench.store.results import check_writable, read_results
    from bench.suites import load_suite

    shard = Shard.parse(args.shard) if args.shard is not None else None  # "" is a bad shard, not none
    suites = [load_suite(path) for path in args.suites]  # validate every file before running any
    for suite in suites:
        check_machine(suite)
    read_results(args.results)  # a bad results path fails here, before any work
    check_writable(args.results)
    cache_path = None if args.no_cache else (args.cache or args.results.parent / "complexity-cache.json")
    cache = ComplexityCache(cache_path)
    summaries = []
    for suite in suites:
        start = time.perf_counter()
        summary = run_suite(
            suite,
            args.results,
            cache,
            force=args.force,
            jobs=args.jobs,
            train_jobs=args.train_jobs,
            progress=not (args.quiet or args.json),
            restart_broken=args.restart_broken,
            seed_archive=args.seed_archive,
            shard=shard,
            by_seed=args.by_seed,
        )
        elapsed = time.perf_counter() - start
        if args.json:
            summaries.append(_summary_json(suite.name, summary, elapsed, args.results))
        elif not args.quiet:
            print(
                f"\n== {suite.name}: {summary.written} rows written"
                + (f" ({summary.reused} copied from rows of the same training: reused_from)" if summary.reused else "")
                + f", {summary.skipped} already done"
                + (f", {summary.stored_meanwhile} of them by another run meanwhile" if summary.stored_meanwhile else "")
                + f" ({elapsed:.1f} s) -> {args.results}"
            )
            stored, names = read_results(args.results), [p.entry.name for p in summary.planned]
            print(complexity_table(stored, suite.name, names))
            for table in (latency_table(stored, suite.name, names), accuracy_table(stored, suite.name, names)):
                if table:
                    print(table)
    if args.json:
        print(json.dumps({"results": str(args.results), "suites": summaries}))
    return 0


def _summary_json(suite: str, summary, seconds: float, results: Path) -> dict:
    """One suite's run as JSON: counts of rows, and its entries' stored rows (blank columns left out)."""
    from bench.store.results import read_results

    names = [p.entry.name for p in summary.planned]
    stored = read_results(results)
    rows = stored[(stored["suite"] == suite) & stored["entry"].isin(names)]
    records = json.loads(rows.to_json(orient="records"))
    return {
        "suite": suite,
        "written": summary.written,
        "reused": summary.reused,
        "skipped": summary.skipped,
        "stored_meanwhile": summary.stored_meanwhile,
        "seconds": round(seconds, 3),
        "rows": [{k: v for k, v in record.items() if v is not None} for record in records],
    }


def _validate(args: argparse.Namespace) -> int:
    """Every problem of every file, a line each (exit 2 if any); solved entries are solved (counting on
    the meta device, cached) so a MAC target out of reach shows here, not hours into a run. Checking
    the files alone does not import torch: only solving (counting) does."""
    from bench.suites import SuiteError, load_suite

    cache = None
    failed = False
    verdicts: list[dict] = []
    for path in args.suites:
        try:
            suite = load_suite(path)
            solved = sum(1 for e in suite.entries if e.target is not None)
            if not args.no_solve and solved:
                from bench.scaling.plan import plan_suite
                from bench.store.count_cache import ComplexityCache

                cache = cache or ComplexityCache(args.cache)
                plan_suite(suite, cache, jobs=args.jobs)
        except SuiteError as error:
            failed = True
            for problem in error.problems:
                print(f"error: {problem}", file=sys.stderr)
            verdicts.append({"path": str(path), "ok": False, "problems": list(error.problems)})
            continue
        reached = " (all solved within tolerance)" if not args.no_solve and solved else ""
        verdicts.append(
            {
                "path": str(path),
                "ok": True,
                "suite": suite.name,
                "entries": len(suite.entries),
                "solved": solved,
                "solved_within_tolerance": bool(not args.no_solve and solved),
                "metrics": list(suite.metrics),
            }
        )
        if args.json:
            continue
        print(
            f"{path}: ok, suite {suite.name!r}, {len(suite.entries)} entries ({solved} solved){reached}, "
            f"metrics {', '.join(suite.metrics)}"
        )
    if args.json:
        print(json.dumps({"ok": not failed, "suites": verdicts}))
    return 2 if failed else 0
