"""``bench export`` and ``bench merge``: rows between results stores."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.errors import InputError
from bench.store.results import DEFAULT_RESULTS


def register(commands) -> None:
    merge = commands.add_parser(
        "merge",
        help="merge results stores (e.g. from several machines) into one",
        description="Merge results stores into OUT: every row of each, one per identity "
        "(suite, entry, measurement, workload key, machine); where two stores "
        "hold the same identity the newer row (timestamp) wins, and on a tie the store named later wins "
        "(OUT's own rows count as named first; a note says how many tied rows differed and which store won).",
    )
    merge.add_argument("stores", nargs="+", type=Path, help="results files (.csv or .parquet)")
    merge.add_argument("-o", "--out", type=Path, required=True, help="the merged store (merged into if it exists)")
    merge.set_defaults(handler=_merge)

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
    export.set_defaults(handler=_export)


def _export(args: argparse.Namespace) -> int:
    from bench.store.results import append_rows, check_writable, newest_budget, read_results

    read_results(args.target)  # the target must be a results store (or not exist yet) ...
    check_writable(args.target)  # ... that can be written, before anything is locked or copied
    if not args.results.exists():  # not "no rows": the source itself is not there (a typo, another folder)
        raise FileNotFoundError(f"no such results store: {args.results}")
    rows = read_results(args.results)
    chosen = rows[rows["suite"].isin(args.suite) & rows["measurement"].isin(args.measurement)]
    if not args.all_budgets:
        chosen = current_entries(newest_budget(chosen), args.suites_dir)
    if chosen.empty:
        raise InputError(f"no {'/'.join(args.measurement)} rows of {', '.join(args.suite)} in {args.results}")
    append_rows(args.target, chosen.to_dict("records"))
    print(f"{len(chosen)} rows -> {args.target}")
    return 0


def _merge(args: argparse.Namespace) -> int:
    from bench.store.results import check_writable, merge_stores

    missing = [str(path) for path in args.stores if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"no such results store: {', '.join(missing)}")
    check_writable(args.out)
    existed = args.out.exists()
    outcome = merge_stores(args.stores, args.out)
    into = f" and {args.out}, merged into" if existed else ""
    print(f"{outcome.read} rows read from {len(args.stores)} stores{into}; {outcome.written} rows -> {args.out}")
    if outcome.ties:
        won = ", ".join(f"{n} from {store}" for store, n in outcome.ties.items())
        print(
            f"note: {sum(outcome.ties.values())} rows tied on timestamp with different values in two stores; "
            f"the store named later won ({won})",
            file=sys.stderr,
        )
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
