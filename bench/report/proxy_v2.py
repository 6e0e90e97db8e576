"""The v2 proxy study (issue 25): what its protocol decides from the rows, and claims 6 and 4b by its
pre-registered test. Pure functions over a results table.

The protocol (reports/measured/proxy_v2_protocol.md, committed before the first v2 run) fixes every rule
used here: the probe's headroom and stride checks, the augmentation and epoch decisions (on the
validation split), the claim arms and their cost point, the primary test (pooled-variance t-tests over a
claim's arms, Holm over its comparisons, intervals at Holm's levels), Welch as a sensitivity analysis,
the optimisation-failure flag and the verdict wording. Each constant below is named after its rule.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd

from bench.report import frames
from bench.report.stats import (
    ALPHA,
    DETECTABLE_NOTE,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    Comparison,
    PooledVariance,
    Sample,
    pooled,
    welch,
    with_holm,
)
from bench.specs import SINGLE_DIMENSION_METHODS

PROTOCOL = "reports/measured/proxy_v2_protocol.md"
PROBE, AUGMENT, CURVE = "proxy_v2_probe", "proxy_v2_augment", "proxy_v2_learning_curve"
FIG8, GRID = "proxy_v2_fig8_table7", "proxy_v2_grid_search"
SUITES = (PROBE, AUGMENT, CURVE, FIG8, GRID)

#: Validation top-1 at twice the base (28 px) must beat the base by this much for resolution to add information.
HEADROOM_MIN = 0.3
#: Augmentation is used when its mean validation top-1 (2 seeds) beats no augmentation's by at least this much.
AUGMENT_GAIN = 0.25
#: E is the smallest of CURVE_EPOCHS at which doubling gains at most this much validation top-1 for every model.
CURVE_GAIN = 0.3
CURVE_EPOCHS = (4, 8)
FALLBACK_EPOCHS = 16
#: The claims' cost point (2x B0's MACs) and how close an arm must be to it to count as matched (the protocol's
#: 3 %); an arm further off is named in the verdict's scope with its excess.
COST_POINT = 2.0
MATCH_TOLERANCE = 0.03
#: A claim is judged on the seeds every arm of its family has, if there are at least this many.
MIN_SEEDS = 3
#: The grid's screen seed (excluded from the finals) and the finals' entry names.
SCREEN_SEED = 0
FINAL_PREFIX = "final-"
GRID_PAPER = "grid-paper"
#: The screen's points (suites/proxy_v2_grid_search.yaml's entries other than its finals): no leaders until
#: every one of them has its screen row.
GRID_POINTS = 10
#: What makes a final the same network as its screen point.
_NETWORK = ("macs", "width", "depth", "input_size", "total_stride")
FLAG = "optimisation failure"


def _budget(row: pd.Series | dict) -> dict:
    return json.loads(row["budget"]) if isinstance(row.get("budget"), str) else {}


def _rows(results: pd.DataFrame, suite: str) -> pd.DataFrame:
    return frames.measured_accuracy(results, suite)


def _probe_point(rows: pd.DataFrame, size: int, stride: int) -> pd.Series | None:
    hit = rows[(rows["input_size"] == size) & (rows["total_stride"] == stride) & (rows["method"] != "compound")]
    return None if hit.empty else hit.iloc[0]


def _decision(name: str, rule: str, measured: str, outcome: str) -> dict:
    return {"decision": name, "rule (protocol)": rule, "measured (validation top-1)": measured, "outcome": outcome}


def decisions(results: pd.DataFrame) -> pd.DataFrame:
    """What the protocol's rules decide from the v2 rows so far: headroom, stride check, augmentation,
    epochs and the grid's leaders (a row per decision; 'pending' where its rows are missing)."""
    probe, augment = _rows(results, PROBE), _rows(results, AUGMENT)
    out = []
    base, top = _probe_point(probe, 14, 8), _probe_point(probe, 28, 8)
    if base is not None and top is not None:
        gain = top["val_top1"] - base["val_top1"]
        outcome = "resolution adds information" if gain >= HEADROOM_MIN else "no usable headroom: stated in scopes"
        out.append(
            _decision(
                "headroom",
                f"28 px minus 14 px (stride 8) >= {HEADROOM_MIN:g} pt",
                f"{top['val_top1']:.2f} - {base['val_top1']:.2f} = {gain:+.2f}",
                outcome,
            )
        )
    else:
        out.append(_decision("headroom", f"28 px minus 14 px (stride 8) >= {HEADROOM_MIN:g} pt", "", "pending"))
    v1 = _probe_point(probe, 14, 32)
    if base is not None and v1 is not None:
        out.append(
            _decision(
                "stride check",
                "stride 8 minus stride 32 at 14 px (reported)",
                f"{base['val_top1']:.2f} - {v1['val_top1']:.2f} = {base['val_top1'] - v1['val_top1']:+.2f}",
                "reported",
            )
        )
    with_aug = augment.iloc[0] if not augment.empty else None
    if base is not None and with_aug is not None:
        gain = with_aug["val_top1"] - base["val_top1"]
        out.append(
            _decision(
                "augmentation",
                f"crop+flip minus none (2 seeds each) >= {AUGMENT_GAIN:g} pt",
                f"{with_aug['val_top1']:.2f} - {base['val_top1']:.2f} = {gain:+.2f}",
                "use crop+flip" if gain >= AUGMENT_GAIN else "no augmentation",
            )
        )
    else:
        out.append(_decision("augmentation", f"crop+flip minus none >= {AUGMENT_GAIN:g} pt", "", "pending"))
    out.append(epochs_decision(results))
    out.append(leaders_decision(results))
    return pd.DataFrame(out)


def curve_gains(results: pd.DataFrame) -> pd.DataFrame:
    """Validation top-1 of each learning-curve model at E and 2E epochs, and the gain."""
    rows = frames.measured_accuracy(results, CURVE, curve=True)
    out = []
    for entry, group in rows.groupby("entry", sort=False):
        by_epochs = dict(zip(group["epochs"].astype(int), group["val_top1"]))
        out += [
            {
                "entry": entry,
                "epochs": e,
                "val_top1": v,
                "val_top1_doubled": by_epochs[2 * e],
                "gain": by_epochs[2 * e] - v,
            }
            for e, v in sorted(by_epochs.items())
            if 2 * e in by_epochs
        ]
    return pd.DataFrame(out, columns=["entry", "epochs", "val_top1", "val_top1_doubled", "gain"])


def chosen_epochs(gains: pd.DataFrame, models: int) -> int | None:
    """The protocol's E: the smallest of CURVE_EPOCHS at which all ``models`` gain at most CURVE_GAIN; the
    fallback when neither does; None while a needed point is missing."""
    for epochs in CURVE_EPOCHS:
        at = gains[gains["epochs"] == epochs]
        if len(at) < models:
            return None
        if (at["gain"] <= CURVE_GAIN).all():
            return epochs
    return FALLBACK_EPOCHS


def epochs_decision(results: pd.DataFrame) -> dict:
    gains = curve_gains(results)
    rule = f"smallest E in {CURVE_EPOCHS} where doubling gains <= {CURVE_GAIN:g} pt for all 4 models, else 16"
    models = frames.measured_accuracy(results, CURVE, curve=True)["entry"].nunique()
    chosen = chosen_epochs(gains, 4) if models >= 4 else None
    measured = "; ".join(
        f"{g['entry']} {int(g['epochs'])}->{2 * int(g['epochs'])}: {g['gain']:+.2f}" for g in gains.to_dict("records")
    )
    return _decision("epochs", rule, measured, "pending" if chosen is None else f"E = {chosen}")


def screen(results: pd.DataFrame) -> pd.DataFrame:
    """The grid's screen: the points' rows of the screen seed alone, by validation top-1 (best first)."""
    rows = _rows(results, GRID)
    rows = rows[~rows["entry"].str.startswith(FINAL_PREFIX) & (rows["seeds"].astype(str) == str(SCREEN_SEED))]
    return rows.sort_values(["val_top1", "macs"], ascending=[False, True], kind="stable")


def leaders(results: pd.DataFrame) -> list[str]:
    """The two screen points other than the paper's split with the highest validation top-1 (ties: fewer MACs);
    none until all GRID_POINTS points are screened (a partial screen could name others)."""
    points = screen(results)
    if len(points) < GRID_POINTS:
        return []
    return [e for e in points["entry"] if e != GRID_PAPER][:2]


def leaders_decision(results: pd.DataFrame) -> dict:
    points = screen(results)
    rule = "the two best points besides the paper's split by screen validation top-1 (seed 0; ties: fewer MACs)"
    measured = "; ".join(f"{r['entry']} {r['val_top1']:.2f}" for r in points.to_dict("records"))
    if len(points) < GRID_POINTS:
        partly = f" ({len(points)} of {GRID_POINTS} points screened)" if len(points) else ""
        return _decision("grid leaders", rule, measured, "pending" + partly)
    return _decision("grid leaders", rule, measured, ", ".join(leaders(results)))


def _not_its_network(final: pd.Series, point: pd.DataFrame) -> str | None:
    """Why a final is not its screen point's network (None when it is)."""
    if point.empty:
        return "no screen row"
    differ = [c for c in _NETWORK if not _same(final.get(c), point.iloc[0].get(c))]
    return f"{', '.join(differ)} differ" if differ else None


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return bool(a == b)


def _per_seed(row: pd.Series | dict) -> dict[int, float]:
    from bench.report.claims import per_seed_top1

    return per_seed_top1(row)


def _common(arms: dict[str, pd.Series]) -> tuple[dict[str, Sample], list[int]]:
    """Each arm's test top-1 over the seeds every arm has (the protocol's rule for a short run)."""
    by_arm = {name: _per_seed(row) for name, row in arms.items()}
    seeds = sorted(set.intersection(*(set(s) for s in by_arm.values()))) if by_arm else []
    return {name: Sample.of([values[s] for s in seeds]) for name, values in by_arm.items() if seeds}, seeds


def flagged(arm: pd.Series | dict, baseline: pd.Series | dict | None) -> bool:
    """An arm whose mean final training loss is above its unscaled network's: an optimisation failure."""
    if baseline is None:
        return False
    loss, base = arm.get("train_loss"), baseline.get("train_loss")
    return bool(loss == loss and base == base and loss is not None and base is not None and loss > base)


def unmatched(arms: dict[str, pd.Series], base_macs: float) -> str:
    """The arms whose MACs are off the cost point by more than MATCH_TOLERANCE, as "<arm> arm +9 %" (empty when
    all are matched)."""
    target = COST_POINT * base_macs
    off = {name: float(row["macs"]) / target - 1 for name, row in arms.items()}
    return ", ".join(f"{name} arm {_percent(x)}" for name, x in off.items() if abs(x) > MATCH_TOLERANCE)


def _percent(fraction: float) -> str:
    """+9 %, or +3.4 % where whole percent would read as within the 3 % match."""
    whole = f"{100 * fraction:+.0f}"
    return f"{whole} %" if abs(round(100 * fraction)) > 100 * MATCH_TOLERANCE else f"{100 * fraction:+.1f} %"


def scope(rows: pd.DataFrame, cost: str, seeds: int | str) -> str:
    """The verdict's scope: data, base, total stride, cost point, seeds, split."""
    budget = _budget(rows.iloc[0]) if not rows.empty else {}
    strides = "/".join(str(s) for s in sorted({int(s) for s in rows["total_stride"].dropna()})) or "?"
    return (
        f"{budget.get('dataset', '?')}, {budget.get('base_resolution', '?')} px base, total stride {strides}, "
        f"{cost}, {seeds} seeds, test split"
    )


def _tests(
    reference: str,
    samples: dict[str, Sample],
    test: Callable[[Sample, Sample], Comparison],
    detectable: Callable[[Comparison, float], float] | None = None,
) -> dict[str, Comparison]:
    """``reference`` minus every other arm by ``test``, Holm-corrected (intervals at Holm's levels)."""
    return with_holm({n: test(samples[reference], s) for n, s in samples.items() if n != reference}, detectable)


def judged(
    reference: str, arms: dict[str, pd.Series], baseline: pd.Series | None
) -> tuple[dict[str, Comparison], dict[str, Comparison], list[int], set[str]] | None:
    """(primary tests, Welch tests, seeds used, flagged arms) of ``reference`` against every other arm, or
    None when the arms share fewer than MIN_SEEDS seeds."""
    samples, seeds = _common(arms)
    if len(seeds) < MIN_SEEDS:
        return None
    variance = PooledVariance.of(list(samples.values()))
    tests = _tests(
        reference,
        samples,
        lambda a, b: pooled(a, b, variance),
        lambda _, level: variance.detectable(len(seeds), len(seeds), level),
    )
    sensitivity = _tests(reference, samples, welch)
    return tests, sensitivity, seeds, {n for n, row in arms.items() if flagged(row, baseline)}


def verdict(tests: dict[str, Comparison], flags: set[str], reference: str) -> str:
    """The protocol's rule: reproduced when the reference is ahead of every arm (Holm); not reproduced when an
    arm is ahead of it (Holm); else inconclusive. A verdict resting on an arm flagged as an optimisation
    failure (the reference, every arm for 'reproduced', the arms ahead for 'not reproduced') is inconclusive."""
    if reference in flags:
        return INCONCLUSIVE
    ahead = [n for n, c in tests.items() if c.testable and c.p_adjusted < ALPHA and c.diff < 0]
    if ahead:
        return NOT_REPRODUCED if any(n not in flags for n in ahead) else INCONCLUSIVE
    behind = [n for n, c in tests.items() if c.testable and c.p_adjusted < ALPHA and c.diff > 0]
    if len(behind) == len(tests) and tests:
        return INCONCLUSIVE if flags else REPRODUCED
    return INCONCLUSIVE


def _arm_text(name: str, row: pd.Series, sample: Sample, base_macs: float, flags: set[str]) -> str:
    flag = f" [{FLAG}: train loss {row['train_loss']:.3f}]" if name in flags else ""
    return f"{name} {sample.mean:.2f}+-{sample.std:.2f} ({row['macs'] / base_macs:.2f}x){flag}"


def _claim_row(number: str, statement: str, scope_text: str, evidence: str, verdict_text: str) -> dict:
    return {
        "claim": number,
        "statement": statement,
        "scope": scope_text,
        "evidence": evidence,
        "verdict": verdict_text,
        "source": "measured (proxy v2)",
    }


def _evidence(
    reference: str,
    arms: dict[str, pd.Series],
    tests: dict[str, Comparison],
    sensitivity: dict[str, Comparison],
    flags: set[str],
    base_macs: float,
    samples: dict[str, Sample],
) -> str:
    parts = [f"{_arm_text(reference, arms[reference], samples[reference], base_macs, flags)}"]
    parts += [
        f"minus {_arm_text(n, arms[n], samples[n], base_macs, flags)}: {tests[n].describe()}; Welch p "
        f"{sensitivity[n].p_adjusted:.2g} (Holm)"
        for n in sorted(tests, key=lambda n: tests[n].diff)
    ]
    return (
        "; ".join(parts) + f" (primary: pooled-variance t-tests over the claim's arms, Holm, alpha {ALPHA:g}, CIs "
        f"at Holm's levels; {DETECTABLE_NOTE}; sensitivity: Welch; protocol: {PROTOCOL})"
    )


CLAIM6 = "B0: compound beats width-, depth- and resolution-only scaling at equal MACs (Fig. 8, Table 7)"
CLAIM4B = "The grid search at phi=1 picks alpha=1.2, beta=1.1, gamma=1.15 (Sec. 3.3)"


def claim6(results: pd.DataFrame) -> dict:
    """Claim 6 on v2: compound against each single dimension at 2x B0's MACs."""
    rows = _rows(results, FIG8)
    compound = rows[rows["method"] == "compound"]
    singles = rows[rows["method"].isin(SINGLE_DIMENSION_METHODS)]
    baseline = rows[rows["method"] == "baseline"]
    if compound.empty or singles.empty or baseline.empty:
        missing = f"missing: python -m bench run suites/{FIG8}.yaml --train-jobs 2"
        return _claim_row("6", CLAIM6, "proxy v2 (pending)", missing, INCONCLUSIVE)
    arms = {"compound": compound.iloc[0], **{r["method"]: r for _, r in singles.iterrows()}}
    base = baseline.iloc[0]
    result = judged("compound", arms, base)
    costs = ", ".join(f"{n} {r['macs'] / base['macs']:.2f}x" for n, r in arms.items())
    off = unmatched(arms, float(base["macs"]))
    costs += f"; {off}" if off else ""
    if result is None:
        return _claim_row(
            "6", CLAIM6, scope(rows, costs, 0), f"not judged: fewer than {MIN_SEEDS} seeds in common", INCONCLUSIVE
        )
    tests, sensitivity, seeds, flags = result
    samples, _ = _common(arms)
    evidence = _evidence("compound", arms, tests, sensitivity, flags, base["macs"], samples)
    cost = f"2x B0's MACs ({costs})"
    return _claim_row("6", CLAIM6, scope(rows, cost, len(seeds)), evidence, verdict(tests, flags, "compound"))


def claim4b(results: pd.DataFrame) -> dict:
    """Claim 4b on v2: the paper's split against the screen's two leaders, on fresh seeds."""
    rows = _rows(results, GRID)
    finals = rows[rows["entry"].str.startswith(FINAL_PREFIX)]
    chosen = leaders(results)
    names = [GRID_PAPER, *chosen]
    found = {n: finals[finals["entry"] == FINAL_PREFIX + n] for n in names}
    if len(chosen) < 2 or any(f.empty for f in found.values()):
        waiting = (
            f"the screen of suites/{GRID}.yaml ({len(screen(results))} of {GRID_POINTS} points)"
            if len(chosen) < 2
            else ", ".join(FINAL_PREFIX + n for n, f in found.items() if f.empty) + f" (suites/{GRID}.yaml)"
        )
        return _claim_row("4b", CLAIM4B, "proxy v2 (pending)", f"missing: {waiting}", INCONCLUSIVE)
    arms = {n: f.iloc[0] for n, f in found.items()}
    points = screen(results)
    mismatched = {n: _not_its_network(arm, points[points["entry"] == n]) for n, arm in arms.items()}
    mismatched = {n: why for n, why in mismatched.items() if why}
    if mismatched:
        why = "; ".join(f"{FINAL_PREFIX}{n} is not the network of {n} ({w})" for n, w in mismatched.items())
        return _claim_row("4b", CLAIM4B, scope(finals, "2x B0's MACs", 0), f"not judged: {why}", INCONCLUSIVE)
    base = _rows(results, FIG8)
    base_row = base[base["method"] == "baseline"]
    base_macs = float(base_row.iloc[0]["macs"]) if not base_row.empty else float("nan")
    result = judged(GRID_PAPER, arms, base_row.iloc[0] if not base_row.empty else None)
    if result is None:
        return _claim_row("4b", CLAIM4B, scope(finals, "2x B0's MACs", 0), "not judged: too few seeds", INCONCLUSIVE)
    tests, sensitivity, seeds, flags = result
    samples, _ = _common(arms)
    off = unmatched(arms, base_macs)
    cost = f"2x B0's MACs ({off})" if off else "2x B0's MACs"
    evidence = _evidence(GRID_PAPER, arms, tests, sensitivity, flags, base_macs, samples)
    evidence += f"; leaders picked on the screen's seed {SCREEN_SEED} (validation top-1), finals on seeds " + " ".join(
        map(str, seeds)
    )
    return _claim_row("4b", CLAIM4B, scope(finals, cost, len(seeds)), evidence, verdict(tests, flags, GRID_PAPER))


def claims(results: pd.DataFrame) -> list[dict]:
    return [claim6(results), claim4b(results)]
