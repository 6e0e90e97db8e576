"""The zoo's exact counts, shipped as data: params, MACs and activations are the same on every machine, so a
MACs or params budget is answered from them alone, with nothing timed (``bench pick --macs 1G``).

``bench/reference/zoo_counts.csv`` is written once by ``python -m bench.zoo.counts`` with the project's own
counter (:func:`bench.measure.complexity.count_many`, the meta device) from the zoo suite's model list; its comment
lines say which timm and torch counted it and when. A test recounts a few models and compares.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

ZOO_COUNTS = "zoo_counts.csv"
FIELDS = ("entry", "model", "input_size", "workload_key", "params", "macs", "activations")
PROJECT = Path(__file__).resolve().parents[1]
ZOO_SUITE_FILE = PROJECT / "suites" / "zoo_frontier.yaml"


@cache
def _text() -> str:
    return resources.files("bench.reference").joinpath(ZOO_COUNTS).read_text()


def counts_origin() -> str:
    """The file's comment lines, joined: which counter, timm and torch, and when."""
    return " ".join(line.lstrip("# ").strip() for line in _text().splitlines() if line.startswith("#"))


def shipped_counts() -> pd.DataFrame:
    """One row per zoo entry: entry, model, input_size, workload_key, params, macs, activations."""
    body = "\n".join(line for line in _text().splitlines() if not line.startswith("#"))
    frame = pd.read_csv(io.StringIO(body), dtype={"workload_key": str})
    return frame[list(FIELDS)]


def counts_versions() -> str | None:
    """The torch and timm versions that counted the shipped file, named as a ComplexityCache names its own."""
    found = re.search(r"timm (\S+), torch (\S+),", counts_origin())
    return None if found is None else f"torch-{found.group(2)}/timm-{found.group(1)}"


def seed_cache(cache) -> int:
    """Put the shipped counts into ``cache`` (a ComplexityCache) where they were counted with its torch and timm
    versions, which makes them what counting would give: a fresh clone then counts none of the zoo again.
    Returns how many it added."""
    from bench.measure.complexity import Complexity

    if counts_versions() != cache.versions:
        return 0
    counts = shipped_counts()
    entries = {
        str(r["workload_key"]): Complexity(int(r["params"]), int(r["macs"]), int(r["activations"]))
        for r in counts.to_dict("records")
    }
    before = len(cache.entries())
    cache.merge(entries)
    return len(cache.entries()) - before


def suite_counts(suite, stored: pd.DataFrame, count=None) -> tuple[pd.DataFrame, list[str]]:
    """Counts of every entry of ``suite``: entry, base, input_size, params, macs, activations. Taken from the
    shipped counts and ``stored`` complexity rows by workload key (so a changed network is never answered
    from stale counts), else from ``count(spec)`` (a ComplexityCache's ``count``: the meta device, nothing
    timed); entries with neither are left out and named in the second value."""
    from bench.models.registry import workload_key

    known = {str(r["workload_key"]): r for r in shipped_counts().to_dict("records")}
    if not stored.empty:
        rows = stored[stored["measurement"] == "complexity"].dropna(subset=["macs", "params"])
        known.update({str(r["workload_key"]): r for r in rows.to_dict("records")})
    out, missing = [], []
    for entry in suite.entries:
        if entry.spec is None:  # a solved entry: its network is known only once solved
            missing.append(entry.name)
            continue
        found = known.get(workload_key(entry.spec))
        if found is None and count is not None:
            c = count(entry.spec)
            found = {"params": c.params, "macs": c.macs, "activations": c.activations}
        if found is None:
            missing.append(entry.name)
            continue
        base = entry.model.split("@")[0]
        counts = {k: found[k] for k in ("params", "macs", "activations")}
        out.append({"entry": entry.name, "base": base, "input_size": entry.spec.input_size, **counts})
    columns = ["entry", "base", "input_size", "params", "macs", "activations"]
    return pd.DataFrame(out, columns=columns), missing


def count_suite(suite_file: Path = ZOO_SUITE_FILE, jobs: int = 2) -> list[dict]:
    """Count every entry of the suite with the project's counter; rows in the suite's order."""
    from bench.measure.complexity import count_many
    from bench.models.registry import workload_key
    from bench.suites import load_suite

    specs = {e.name: (e.model, e.spec) for e in load_suite(suite_file).entries if e.spec is not None}
    counted = {workload_key(c.spec): c.complexity for c in count_many([s for _, s in specs.values()], jobs=jobs)}
    rows = []
    for name, (model, spec) in specs.items():
        counts = counted[workload_key(spec)]
        rows.append(
            {
                "entry": name,
                "model": model,
                "input_size": spec.input_size,
                "workload_key": workload_key(spec),
                "params": counts.params,
                "macs": counts.macs,
                "activations": counts.activations,
            }
        )
    return rows


def write_counts(rows: list[dict], target: Path) -> None:
    import datetime

    import timm
    import torch

    from bench.store.rows import COUNTER

    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    out = io.StringIO()
    out.write(f"# counted by effbench's {COUNTER} counter from suites/zoo_frontier.yaml\n")
    out.write(f"# timm {timm.__version__}, torch {torch.__version__}, on {today}\n")
    writer = csv.DictWriter(out, fieldnames=list(FIELDS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    target.write_text(out.getvalue())


def main() -> int:
    target = Path(__file__).resolve().parent / "reference" / ZOO_COUNTS
    rows = count_suite()
    write_counts(rows, target)
    print(f"wrote {len(rows)} rows to {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
