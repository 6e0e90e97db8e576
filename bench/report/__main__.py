"""``python -m bench.report``: measure what is missing and cheap, then write the report.

Default run (fresh checkout, a few minutes on 2 cores): exact counts of the paper suites,
batch-1 CPU latency of the Table 2 and Table 4 models, the paper's reported accuracies, and
any measured / pretrained-eval rows already in the results store. Proxy training is never
started here (it takes hours): run its suites with ``python -m bench run``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.errors import InputError
from bench.report.build import DEFAULT_SUITES
from bench.shipped import MEASURED, SUITES, shipped_path
from bench.store.results import DEFAULT_RESULTS

#: Rows that took hours to measure (proxy training, pretrained evaluation), checked in so that a
#: fresh checkout's report shows them; each row keeps the machine, commit and date it came from.
#: Suite names and the checked-in rows resolve to the shipped copies (bench.shipped), from any working directory.
MEASURED_DIR = MEASURED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help=f"results file (default {DEFAULT_RESULTS}, which may not exist yet); with --no-measure a file given "
        "here must exist (there is nothing to report from otherwise), else the suites are measured into it",
    )
    parser.add_argument("--out", type=Path, default=Path("reports"), help="output folder (default reports/)")
    parser.add_argument(
        "--suites",
        nargs="+",
        default=list(DEFAULT_SUITES),
        metavar="NAME",
        help="suites to measure first, by name in suites/ or path (default: the paper suites); a suite no "
        "paper section covers gets a section of its own (a table, and figures with the frontier)",
    )
    parser.add_argument(
        "--include",
        nargs="*",
        type=Path,
        default=None,
        metavar="FILE",
        help="more results files to report beside --results (default: the measured rows checked in "
        f"under {MEASURED_DIR}/)",
    )
    parser.add_argument("--no-measure", action="store_true", help="only plot and tabulate the rows already stored")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def _suite_path(name: str) -> Path:
    """A suite file as given, or a shipped suite by name (``paper_table2``), from any working directory."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml"):
        return path if path.exists() or path.is_absolute() else (shipped_path(path) or path)
    return SUITES / f"{name}.yaml"


def measure(suite_names: Sequence[str], results: Path, progress: bool) -> None:
    """Run each suite (rows already stored are skipped)."""
    from bench.run import run_suite
    from bench.store.count_cache import ComplexityCache
    from bench.suites import load_suite

    suites = [load_suite(_suite_path(name)) for name in suite_names]
    cache = ComplexityCache(results.parent / "complexity-cache.json")
    for suite in suites:
        start = time.perf_counter()
        summary = run_suite(suite, results, cache, progress=progress)
        if progress:
            print(
                f"measured {suite.name}: {summary.written} rows new, {summary.skipped} stored "
                f"({time.perf_counter() - start:.1f} s)",
                file=sys.stderr,
            )


def check_out_folder(out: Path) -> None:
    """ValueError now, before any work, if the report could not be written into ``out``."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file; give a folder for the report")
    existing = next((p for p in [out, *out.parents] if p.exists()), Path("."))
    if not os.access(existing, os.W_OK):
        raise InputError(f"--out {out}: cannot write in {existing}")


def check_results(results: Path | None, measure: bool) -> Path:
    """The results store to report (and measure into), checked before any work. The default may be missing (a
    fresh clone: the report says what is missing); a store named with --no-measure must be there, or the
    report would be built from the shipped rows alone without a word; one measured into must be writable."""
    from bench.store.results import check_writable, read_results

    if results is not None and not measure and not results.exists():
        raise FileNotFoundError(f"no such results store: {results}")
    results = results or DEFAULT_RESULTS
    read_results(results)  # a bad results path fails before any work
    if measure:
        check_writable(results)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from bench.measure.environment import environment
    from bench.report.build import build_report
    from bench.store.results import concat_tables, read_results
    from bench.suites import load_suite, suite_name

    start = time.perf_counter()
    try:
        check_out_folder(args.out)
        args.results = check_results(args.results, measure=not args.no_measure)
        missing = [str(path) for path in args.include or () if not path.is_file()]
        if missing:
            raise InputError(f"--include: no such results store: {', '.join(missing)}")
        # measuring checks each suite whole; plotting stored rows needs only its name (so a suite of your
        # own models is reported from anywhere, without importing their code)
        suite_names = [
            suite_name(_suite_path(name)) if args.no_measure else load_suite(_suite_path(name)).name
            for name in args.suites
        ]
        if not args.no_measure:
            measure(args.suites, args.results, progress=not args.quiet)
    except (InputError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    included = sorted(MEASURED_DIR.glob("*.csv")) if args.include is None else args.include
    tables = [read_results(args.results)] + [read_results(path) for path in included]
    results = concat_tables(tables)
    report = build_report(results, args.out, environment(), suites=suite_names)
    if not args.quiet:
        print(
            f"report: {args.out / 'index.html'} ({len(report.figures)} figures, {len(report.tables)} tables, "
            f"{time.perf_counter() - start:.1f} s; rows from {args.results}"
            f"{''.join(', ' + str(p) for p in included)})"
        )
        for item in report.missing:
            print(f"  missing: {item}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
