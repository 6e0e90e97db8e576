"""``bench pick``: the best model for a budget on this machine (timm's zoo, timed here)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from bench.errors import InputError
from bench.shipped import MEASURED, SUITES
from bench.store.results import DEFAULT_RESULTS
from bench.zoo.budgets import check_count, check_threads, parse_latency_ms, parse_macs_g, parse_params_m


def register(commands) -> None:
    pick = commands.add_parser(
        "pick",
        help="the Pareto-best timm models for a latency / MACs / params budget on this machine",
        description="Measure what is missing of the zoo suite (counts, batch-1 latency here; resumable), then "
        "print the models within the budget that no other beats in both top-1 and cost, with their latency "
        "measured here and timm's published ImageNet top-1 (source reported-timm), and how the paper's "
        "EfficientNet at that budget compares. For a latency budget every model gets a quick look first (a few "
        "forwards), and only those that could be in the answer are timed with the full protocol; each row says "
        "which protocol timed it.",
    )
    pick.add_argument("--latency-ms", metavar="MS", help="at most this median latency here: 30, 30ms or 0.03s")
    pick.add_argument("--macs", help="at most this many MACs: 1G, 500M or 1.5e9")
    pick.add_argument("--params", help="at most this many parameters: 10 (millions) or 25M")
    pick.add_argument("--device", choices=("cpu", "cuda"), help="time on this device (default: the suite's, cpu)")
    pick.add_argument(
        "--threads", type=int, help="CPU threads to time with, 1 to the logical CPUs (default: the suite's, 1)"
    )
    pick.add_argument("--batch", type=int, help="batch size to time with, at least 1 (default: the suite's, 1)")
    pick.add_argument("--suite", type=Path, default=SUITES / "zoo_frontier.yaml", help="models to choose from")
    pick.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help=f"results file (default {DEFAULT_RESULTS})")
    pick.add_argument("--no-measure", action="store_true", help="choose among the rows already stored")
    pick.add_argument(
        "--pretrain",
        choices=("in1k", "any"),
        default="in1k",
        help="weights trained on ImageNet-1k only, as the paper's (default), or also with extra data (in22k, "
        "in12k, jft, ig, laion, ...; each labelled)",
    )
    pick.add_argument("--remeasure", action="store_true", help="time every model again, even those stored")
    protocol = pick.add_mutually_exclusive_group()
    protocol.add_argument(
        "--quick",
        action="store_true",
        help="answer from the quick look alone (1 warm-up and up to 5 forwards a model): faster, each row marked quick",
    )
    protocol.add_argument(
        "--full",
        action="store_true",
        help="time every model with the full protocol before answering, not only those that could be in the answer",
    )
    pick.add_argument(
        "--retimes",
        type=int,
        default=2,
        help="re-time rows above the 5%% CV target or taken while preempted up to this many times (default 2)",
    )
    pick.add_argument(
        "--refuse-noisy",
        action="store_true",
        help="exit 3 (one line) instead of answering when a pick rests on a noisy or contended row",
    )
    pick.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    pick.add_argument("--top", type=int, default=10, help="show at most this many (default 10)")
    pick.set_defaults(handler=_pick)  # '-5ms' reaches budget_from_args as a value (bench.cli.OneLineParser)


def budget_from_args(args: argparse.Namespace):
    """The budget, every value checked (positive, finite, units parsed) before anything is measured."""
    from bench.zoo.select import Budget

    budget = Budget(
        None if args.latency_ms is None else parse_latency_ms(args.latency_ms),
        None if args.macs is None else parse_macs_g(args.macs),
        None if args.params is None else parse_params_m(args.params),
    )
    budget.metric  # noqa: B018  (no budget at all: one line now, before any work)
    check_threads("--threads", args.threads)
    check_count("--batch", args.batch)
    check_count("--top", args.top)
    if args.retimes < 0:
        raise InputError(f"--retimes {args.retimes}: must be at least 0")
    return budget


def _conditions(suite, args: argparse.Namespace):
    from bench.specs import LatencyConditions

    base = suite.latency or LatencyConditions()
    chosen = (("device", args.device), ("threads", args.threads), ("batch_size", args.batch))
    changes = {k: v for k, v in chosen if v is not None}
    return replace(base, **changes)


SHIPPED = MEASURED


def stored_rows(results: Path):
    """The results store's rows after the rows that ship in reports/measured/ (a row of this machine
    timed there is as good as one timed now), newest last; and the stores read, for messages."""

    from bench.store.results import concat_tables, read_results

    shipped = [p for p in sorted(SHIPPED.glob("*.csv")) if p.resolve() != results.resolve()]
    frames = [read_results(p) for p in [*shipped, results]]
    rows = concat_tables(frames)
    if "timestamp" in rows:
        rows = rows.sort_values("timestamp", kind="stable").reset_index(drop=True)
    return rows, [str(results), f"{SHIPPED}/ (shipped)"]


def where_timed(conditions) -> str:
    return f"{conditions.device}, {conditions.threads} thread(s), batch {conditions.batch_size}"


def same_conditions(conditions) -> dict:
    """The columns a timed row must match to be of these conditions (bench.zoo.select.zoo_points)."""
    return {"device": conditions.device, "threads": conditions.threads, "batch_size": conditions.batch_size}


def _pick(args: argparse.Namespace) -> int:
    from bench.commands.pick_timing import current_points, elapsed, time_for_pick
    from bench.run import check_machine
    from bench.store.count_cache import ComplexityCache
    from bench.store.results import check_writable, read_results
    from bench.suites import load_suite
    from bench.zoo.counts import suite_counts
    from bench.zoo.select import counted_points, pick

    budget = budget_from_args(args)
    suite = load_suite(args.suite)
    conditions = _conditions(suite, args)
    suite = replace(suite, latency=conditions)
    timing = budget.latency_ms is not None  # MACs and params budgets are answered from counts alone
    cache = ComplexityCache(args.results.parent / "complexity-cache.json")
    measured = None
    if budget.latency_ms is not None and not args.no_measure:
        check_machine(suite)
        read_results(args.results)
        check_writable(args.results)
        measured = time_for_pick(suite, args, cache, budget.latency_ms)
    rows, stores = stored_rows(args.results)
    timed = current_points(args, suite, conditions)
    if timing:
        points = timed
        if points.empty:
            raise InputError(
                f"no timed rows of {suite.name} for this machine ({where_timed(conditions)}) in {', '.join(stores)}; "
                "run without --no-measure to time them here"
            )
        note = f"on this machine ({where_timed(conditions)}; {_timed_note(points, measured)})"
    else:
        counts, missing = suite_counts(suite, rows, None if args.no_measure else cache.count)
        if not args.no_measure:
            cache.save()
        points = counted_points(counts, timed, args.pretrain)
        n_timed = int(points["latency_ms"].notna().sum())
        note = f"by exact counts, the same on every machine ({len(points)} models counted, nothing timed"
        note += f"; latency shown for the {n_timed} timed on this machine, {where_timed(conditions)})"
        if missing:
            note += f"; {len(missing)} entries not counted yet (run without --no-measure to count them)"
    if timing and args.refuse_noisy:
        resting = pick(points, budget)
        resting = resting[unsure(resting)]
        if not resting.empty:
            names = ", ".join(resting["entry"])
            what = "noisy, contended or quick" if (resting["timing"] == "quick").any() else "noisy or contended"
            print(
                f"error: the answer would rest on {len(resting)} {what} rows ({names}); "
                "time them on a quiet machine (--remeasure, without --quick) or answer without --refuse-noisy",
                file=sys.stderr,
            )
            return EXIT_CANNOT_JUDGE
    if measured is not None:
        started = getattr(args, "started", time.monotonic())
        print(f"answer ready after {elapsed(time.monotonic() - started)}: {measured.describe()}", file=sys.stderr)
    if args.json:
        answer = answer_json(budget, points, note, args.top, args.pretrain)
        answer["timed_now"] = None if measured is None else measured.as_dict()
        print(json.dumps(answer, default=_plain, allow_nan=False))
    else:
        _print_answer(budget, points, note, args.top)
    return 0


def _timed_note(points, measured) -> str:
    """How many models the answer saw timed, by protocol, and those not timed as out of reach."""
    quick = int((points["timing"] == "quick").sum())
    note = f"{len(points)} models timed" + (f", {quick} of them only quickly" if quick else "")
    if measured is not None and measured.out_of_reach:
        note += f"; {len(measured.out_of_reach)} out of reach by their MACs, not timed now"
    return note


def unsure(points):
    """Rows an answer cannot rest on with --refuse-noisy: noisy or contended (bench.zoo.select.shaky), or quick."""
    from bench.zoo.select import shaky

    return shaky(points) | (points["timing"] == "quick")


#: Exit status when the rows cannot support an answer (noisy or contended timings and --refuse-noisy).
EXIT_CANNOT_JUDGE = 3


def answer_json(budget, points, note: str, top: int, pretrain: str) -> dict:
    """The answer as data: the budget, what it rests on, the picks (NaN as null) and the paper's model."""
    from bench.reference import TIMM_RESULTS_ORIGIN
    from bench.zoo.select import paper_model_within, pick, shaky

    chosen = pick(points, budget)
    fields = ["entry", "base", "tag", "pretrain", "input_size", "top1", "latency_ms", "latency_cv", "cpu_wall_ratio"]
    head = chosen.head(top)
    picks = head[[*fields, "timing", "iterations", "macs_g", "params_m"]].assign(
        precision=[_precision(r) for r in head.to_dict("records")], noisy_or_contended=shaky(head)
    )
    picks = picks.astype(object)
    picks["iterations"] = [None if n != n else int(n) for n in picks["iterations"]]  # a count: 10, not 10.0
    paper = paper_model_within(points, budget)
    in1k = pick(points[points["pretrain"] == "in1k"], budget)
    return {
        "budget": {k: v for k, v in vars(budget).items() if v is not None},
        "metric": budget.metric,
        "basis": note,
        "pretrain": pretrain,
        "models_considered": len(points),
        "picks": picks.where(picks.notna(), None).to_dict("records"),
        "paper_model": None
        if paper is None
        else {
            "base": paper["base"],
            "tag": "in1k",
            "top1": paper["top1"],
            "latency_ms": _finite(paper["latency_ms"]),
            "macs_g": paper["macs_g"],
            "comparison": compare_with_paper(chosen, in1k, paper) if not chosen.empty else None,
        },
        "top1_source": f"reported-timm ({TIMM_RESULTS_ORIGIN})",
    }


def _precision(row: dict) -> str | None:
    """``quick (n=5, CV 3.1%)`` or ``full (n=14, CV 2.0%)``; None where the model is not timed here."""
    from bench.zoo.quick import precision

    timing = row.get("timing")
    return None if not isinstance(timing, str) else precision(timing, row["iterations"], row["latency_cv"])


def _plain(value: object) -> object:
    """numpy scalars as Python numbers (JSON has no numpy)."""
    return value.item() if hasattr(value, "item") else str(value)


def _finite(value: float) -> float | None:
    """None for a missing number (a model not timed here): JSON has no NaN."""
    return None if value != value else float(value)


def _print_answer(budget, points, note: str, top: int) -> None:
    from bench.reference import TIMM_RESULTS_ORIGIN
    from bench.zoo.select import pick, shaky

    chosen = pick(points, budget)
    print(f"within {budget.describe()} {note}:")
    if chosen.empty:
        print("  none: no model fits; loosen the budget")
        return
    header = f"  {'model':<46}{'pretrain':>11}{'px':>5}{'top-1':>8}{'ms':>10}{'CV':>7}{'timing':>13}"
    print(header + f"{'GMACs':>8}{'M params':>10}")
    marks = shaky(chosen)
    for r, mark in zip(chosen.head(top).to_dict("records"), marks.head(top)):
        cv = "-" if r["latency_cv"] != r["latency_cv"] else f"{r['latency_cv']:.1%}"
        print(
            f"  {r['base'] + '.' + r['tag']:<46}{r['pretrain']:>11}{r['input_size']:>5}{r['top1']:>8.2f}"
            f"{_num(r['latency_ms'], 2):>10}{cv:>7}{_timing(r):>13}{r['macs_g']:>8.2f}{r['params_m']:>10.2f}"
            + ("  noisy/contended" if mark else "")
        )
    if budget.metric == "latency_ms" and marks.any():
        names = ", ".join(chosen.loc[marks, "entry"])
        print(
            f"  this answer rests on {int(marks.sum())} noisy or contended rows ({names}): CV above 5% or timed "
            "while the process waited for a core; time them on a quiet machine (--remeasure)"
        )
    quick = chosen["timing"] == "quick"
    if budget.metric == "latency_ms" and quick.any():
        print(
            f"  {int(quick.sum())} of these rows are quick looks (1 warm-up, at most 5 timed forwards), not the full "
            "protocol; run without --quick to time those that could be in the answer in full"
        )
    _print_paper(points, chosen, budget)
    print(f"top-1: reported-timm ({TIMM_RESULTS_ORIGIN}); latency measured here; counts exact")


def _print_paper(points, chosen, budget) -> None:
    from bench.zoo.select import paper_model_within, pick

    paper = paper_model_within(points, budget)
    if paper is None:
        print("  the paper's EfficientNets: none of B0-B7 fits this budget")
        return
    cost = f"{paper['latency_ms']:.1f} ms" if budget.metric == "latency_ms" else f"{paper['macs_g']:.2f} G MACs"
    print(f"  the paper's model at this budget: {paper['base']} (its own weights, in1k) {paper['top1']:.2f}% in {cost}")
    in1k = pick(points[points["pretrain"] == "in1k"], budget)
    print(f"    {compare_with_paper(chosen, in1k, paper)}")


def compare_with_paper(chosen, in1k, paper: dict) -> str:
    """The best pick against the paper's model, like with like: only ImageNet-1k weights (``in1k``: the picks
    among those alone) are compared, and a pick trained with extra data is named, with no difference in points."""
    text = "no pick has ImageNet-1k-only weights to compare"
    if not in1k.empty:
        best = in1k.iloc[0]
        text = f"the best ImageNet-1k pick, {best['base']}.{best['tag']}, is {best['top1'] - paper['top1']:+.2f} pt"
    top = chosen.iloc[0]
    if top["pretrain"] != "in1k":
        text += f"; {top['base']}.{top['tag']} used extra data ({top['pretrain']}): not compared"
    return text


def _timing(row: dict) -> str:
    """The timing column: ``full n=14``, ``quick n=5``, or '-' for a model not timed here."""
    n = row.get("iterations")
    if not isinstance(row.get("timing"), str):
        return "-"
    return f"{row['timing']} n={int(n)}" if n == n and n is not None else str(row["timing"])


def _num(value: float, digits: int) -> str:
    """A number, or '-' where there is none (a model not timed on this machine)."""
    return "-" if value != value else f"{value:.{digits}f}"
