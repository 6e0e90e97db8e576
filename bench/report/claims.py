"""Each testable claim of the paper as one row: claim, our evidence, verdict, numbers.

Verdicts: ``reproduced``, ``not reproduced`` or ``inconclusive``, each with its scope: the data,
geometry, cost point and seeds of a proxy verdict, the machine of a latency one. Count and latency
claims compare our ratio with the paper's. Proxy v2 claims (``bench.report.proxy_v2``) follow the
protocol fixed before their runs; the v1 proxy claims (the 1x1-map regime) compare means over seeds with
Welch's t-test, Holm-corrected across the alternatives of one claim (``bench.report.stats``), with
intervals at Holm's levels and the smallest difference the pooled seed spread could detect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.reference import claim_value, paper_claims, paper_rows
from bench.report import frames
from bench.report.proxy_v2 import FLAG, flagged
from bench.report.stats import (
    ALPHA,
    DETECTABLE_NOTE,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    Comparison,
    PooledVariance,
    Sample,
    all_negative_verdict,
    beats_all_verdict,
    t_test,
    welch,
    with_holm,
)
from bench.specs import SINGLE_DIMENSION_METHODS

#: A counted ratio within this fraction of the paper's reproduces it.
RATIO_TOLERANCE = 0.15


COUNTED_SCOPE = "exact counts (meta device); accuracies from the paper"
V1_SCOPE = "v1, the 1x1-map regime"


def _claim(number: str, claim: str, evidence: str, verdict: str, source: str, scope: str = COUNTED_SCOPE) -> dict:
    """One claims-table row; ``scope`` says what the verdict speaks for (data, geometry, cost point, machine)."""
    return {
        "claim": number,
        "statement": claim,
        "scope": scope,
        "evidence": evidence,
        "verdict": verdict,
        "source": source,
    }


def v1_scope(rows: pd.DataFrame, compound: str | None = None, cost: str = "several cost points") -> str:
    """The scope of a v1 proxy verdict: its regime, data, geometry, cost point and seeds."""
    from bench.report.proxy_v2 import scope

    if rows.empty:
        return V1_SCOPE
    base = rows[rows["method"] == "baseline"]
    row = rows[rows["entry"] == compound] if compound else rows.iloc[0:0]
    if not base.empty and not row.empty:
        same = base[base["base"] == row.iloc[0]["base"]]
        if not same.empty:
            cost = f"{row.iloc[0]['macs'] / same.iloc[0]['macs']:.2f}x the unscaled network's MACs"
    fewest, most = int(rows["n_seeds"].min()), int(rows["n_seeds"].max())
    return f"{V1_SCOPE}: " + scope(rows, cost, fewest if fewest == most else f"{fewest}-{most}")


def _ratio_verdict(ours: float, paper: float, at_least: bool = False) -> str:
    if ours != ours:
        return INCONCLUSIVE
    if at_least:
        return REPRODUCED if ours >= paper * (1 - RATIO_TOLERANCE) else NOT_REPRODUCED
    return REPRODUCED if abs(ours / paper - 1) <= RATIO_TOLERANCE else NOT_REPRODUCED


def _counts(results: pd.DataFrame, suite: str) -> dict[str, dict]:
    rows = frames.rows_of(results, suite, "complexity")
    return {r["paper_ref"]: r for r in rows.to_dict("records") if isinstance(r.get("paper_ref"), str)}


def scaling_law_claim(results: pd.DataFrame) -> dict:
    counts = _counts(results, "paper_table7")
    base = counts.get("table7/baseline")
    parts, ok = [], True
    for ref, label in (("table7/depth", "d=4"), ("table7/width", "w=2"), ("table7/resolution", "r=2")):
        row = counts.get(ref)
        if base is None or row is None:
            return _claim(
                "3",
                "FLOPs grow as d * w^2 * r^2 (d=4, w=2 and r=2 each ~4x B0)",
                "missing: python -m bench run suites/paper_table7.yaml",
                INCONCLUSIVE,
                "counted",
            )
        ratio = row["macs"] / base["macs"]
        ok &= abs(ratio / 4 - 1) <= RATIO_TOLERANCE
        parts.append(f"{label}: {ratio:.2f}x")
    return _claim(
        "3",
        "FLOPs grow as d * w^2 * r^2 (d=4, w=2 and r=2 each ~4x B0)",
        "; ".join(parts) + " (channel and repeat rounding move them off 4x)",
        REPRODUCED if ok else NOT_REPRODUCED,
        "counted",
    )


def _timed_here_or_named(results: pd.DataFrame, suite: str, current: str | None) -> tuple[pd.DataFrame, str]:
    """A latency suite's rows from one machine (this one where it has rows), and how to name that machine."""
    rows = frames.latency(results, suite)
    chosen = frames.timing_machine(rows, current)
    if chosen is None:
        return rows, ""
    return frames.latency(results, suite, chosen.machine), chosen.label


def efficiency_claims(results: pd.DataFrame, current: str | None = None) -> list[dict]:
    """Claims 7, 8 and 9: params / MACs ratios against the comparison models, and the latency ratio."""
    counts = _counts(results, "paper_table2")
    timed, machines = _timed_here_or_named(results, "paper_table4", current)
    latency = {r["model"]: r["latency_ms_p50"] for r in timed.to_dict("records")}
    claims = []
    for number in ("7", "8", "9"):
        stated = paper_claims()[number]
        text, small, big = stated["text"], stated["small"], stated["big"]
        paper_params, paper_macs = claim_value(number, "params_ratio"), claim_value(number, "macs_ratio")
        paper_latency = claim_value(number, "latency_ratio")
        a, b = counts.get(small), counts.get(big)
        if a is None or b is None:
            claims.append(
                _claim(number, text, "missing: python -m bench run suites/paper_table2.yaml", INCONCLUSIVE, "counted")
            )
            continue
        params, macs = b["params"] / a["params"], b["macs"] / a["macs"]
        verdicts, evidence = [], []
        if paper_macs:
            verdicts.append(_ratio_verdict(macs, paper_macs))
            evidence.append(f"MACs {macs:.1f}x (paper {paper_macs:g}x)")
        if paper_params:
            verdicts.append(_ratio_verdict(params, paper_params))
            evidence.insert(0, f"params {params:.1f}x (paper {paper_params:g}x)")
        if paper_latency:
            fast, slow = latency.get(paper_rows()[small]["timm_name"]), latency.get(paper_rows()[big]["timm_name"])
            if fast and slow:
                verdicts.append(_ratio_verdict(slow / fast, paper_latency, at_least=True))
                evidence.append(
                    f"CPU bs1 latency {slow / fast:.2f}x (paper {paper_latency:g}x; {fast:.0f} vs {slow:.0f} ms)"
                )
            else:
                evidence.append("latency missing: python -m bench run suites/paper_table4.yaml")
                verdicts.append(INCONCLUSIVE)
        verdict = (
            NOT_REPRODUCED if NOT_REPRODUCED in verdicts else INCONCLUSIVE if INCONCLUSIVE in verdicts else REPRODUCED
        )
        scope = COUNTED_SCOPE + (f"; CPU latency timed on {machines}" if paper_latency and machines else "")
        claims.append(
            _claim(number, text, "; ".join(evidence) + "; top-1 from the paper", verdict, "counted + reported", scope)
        )
    claims.append(gpipe_claim(results, counts, current))
    return claims


def gpipe_claim(results: pd.DataFrame, counts: dict[str, dict], current: str | None = None) -> dict:
    """Claim 11: B7 vs GPipe. GPipe is not in timm: params against the paper's 557M; latency untestable."""
    stated = paper_claims()["11"]
    text, gpipe_params = stated["text"], float(stated["big_params_m"]) * 1e6
    b7 = counts.get(stated["small"])
    if b7 is None:
        return _claim(
            "11", text, "missing: python -m bench run suites/paper_table2.yaml", INCONCLUSIVE, "counted + reported"
        )
    ratio = gpipe_params / b7["params"]
    evidence = (
        f"params: GPipe's reported {gpipe_params / 1e6:g}M / our B7 count {b7['params'] / 1e6:.1f}M = {ratio:.1f}x "
        f"(paper {claim_value('11', 'params_ratio'):g}x)"
    )
    rows, machine = _timed_here_or_named(results, "paper_table4", current)
    timed = {r["model"]: r for r in rows.to_dict("records")}
    largest = frames.gpipe_stand_in(rows)
    if "efficientnet_b7" in timed and largest:
        speed = largest["latency_ms_p50"] / timed["efficientnet_b7"]["latency_ms_p50"]
        evidence += (
            f"; latency: GPipe cannot be timed here; against the largest comparison model timed "
            f"({largest['entry']}) B7 is {speed:.2f}x as fast ({machine})"
        )
    return _claim("11", text, evidence, INCONCLUSIVE, "counted + reported")


def sample(row: dict | pd.Series) -> Sample:
    """A results row's top-1 over seeds as a ``Sample``."""
    return Sample(float(row["top1"]), float(row["top1_std"]), int(row["n_seeds"]))


def _test_note() -> str:
    return f"Welch's t-test, Holm-corrected, alpha {ALPHA:g}, CIs at Holm's levels; {DETECTABLE_NOTE}"


def pooled_detectable(arms: list[Sample]):
    """The detectable difference of a comparison, from the seed spread pooled over all of the claim's arms
    (N - k degrees of freedom) rather than from one pair's Welch df (about 2 with 3 seeds a side)."""
    variance = PooledVariance.of(arms)
    n = min(a.n for a in arms)
    return lambda _comparison, level: variance.detectable(n, n, level)


def matched_singles(rows: pd.DataFrame, compound: str) -> pd.DataFrame:
    """The single-dimension rows at the compound entry's cost: solved to the compound's MACs, or solved to
    the same target as the compound (and that target itself, when it is a single-dimension entry)."""
    row = rows[rows["entry"] == compound]
    if row.empty:
        return rows.iloc[0:0]
    anchor = row.iloc[0]["match_of"]
    anchors = {compound} | ({anchor} if isinstance(anchor, str) else set())
    group = rows[rows["match_of"].isin(anchors) | rows["entry"].isin(anchors)]
    return group[group["method"].isin(SINGLE_DIMENSION_METHODS) & (group["entry"] != compound)]


def compound_test(rows: pd.DataFrame, compound: str) -> tuple[str, str]:
    """(evidence, verdict) of "the compound entry beats every single dimension at its cost"."""
    singles = matched_singles(rows, compound)
    if singles.empty:
        return "", INCONCLUSIVE
    c = rows[rows["entry"] == compound].iloc[0]
    arms = [sample(c), *(sample(s) for s in singles.to_dict("records"))]
    tests = with_holm(
        {s["entry"]: welch(sample(c), sample(s)) for s in singles.to_dict("records")}, pooled_detectable(arms)
    )
    parts = [
        f"vs {s['method']} {s['top1']:.2f}+-{s['top1_std']:.2f} ({s['macs'] / 1e6:.1f}M): "
        f"{tests[s['entry']].describe()}"
        for s in singles.sort_values("top1", ascending=False).to_dict("records")
    ]
    evidence = (
        f"{compound} {c['top1']:.2f}+-{c['top1_std']:.2f} over {int(c['n_seeds'])} seeds at "
        f"{c['macs'] / 1e6:.1f}M MACs; " + "; ".join(parts) + f" ({_test_note()})"
    )
    base = rows[(rows["method"] == "baseline") & (rows["base"] == c["base"])]
    if not base.empty and flagged(c, base.iloc[0]):  # under-trained: its gap says nothing about scaling
        b = base.iloc[0]
        failure = (
            f"{FLAG}: {compound}'s final training loss {c['train_loss']:.3f} is above the unscaled "
            f"{b['entry']}'s {b['train_loss']:.3f}, so its gap is not a scaling result; "
        )
        return failure + evidence, INCONCLUSIVE
    return evidence, beats_all_verdict(tests)


def proxy_compound_claims(results: pd.DataFrame) -> list[dict]:
    """Claims 5 and 6 on the proxy task."""
    claims = []
    rows = frames.measured_accuracy(results, "proxy_table3")
    for family, name in (
        ("MobileNetV1", "mobilenetv1-compound"),
        ("MobileNetV2", "mobilenetv2-compound"),
        ("ResNet-18 (for ResNet-50)", "resnet18-compound"),
    ):
        evidence, verdict = compound_test(rows, name) if not rows.empty else ("", INCONCLUSIVE)
        claims.append(
            _claim(
                "5",
                f"{family}: compound beats each single dimension at equal MACs (Table 3)",
                evidence or "missing: python -m bench run suites/proxy_table3.yaml",
                verdict,
                "measured (proxy v1)",
                v1_scope(rows[rows["base"] == _base_of(rows, name)] if not rows.empty else rows, name),
            )
        )
    rows = frames.measured_accuracy(results, "proxy_fig8_table7")
    evidence, verdict = compound_test(rows, "b0-compound") if not rows.empty else ("", INCONCLUSIVE)
    claims.append(
        _claim(
            "6",
            "B0: compound beats width-, depth- and resolution-only scaling at equal MACs (Fig. 8, Table 7)",
            evidence or "missing: python -m bench run suites/proxy_fig8_table7.yaml",
            verdict,
            "measured (proxy v1)",
            v1_scope(rows, "b0-compound"),
        )
    )
    return claims


def _base_of(rows: pd.DataFrame, entry: str) -> str | None:
    hit = rows[rows["entry"] == entry]
    return None if hit.empty else hit.iloc[0]["base"]


def curvature_test(log2_macs: list[float], points: list[Sample]) -> Comparison:
    """The curvature c of the least-squares fit top1 = a + b x + c x^2 (x = log2 MACs), a fixed linear
    combination of the points' means, as a t-test: its variance is the sum of each mean's variance times
    its squared weight, with Welch-Satterthwaite degrees of freedom."""
    x = np.asarray(log2_macs, dtype=float)
    design = np.stack([np.ones_like(x), x, x * x], axis=1)
    weights = np.linalg.pinv(design)[2]  # c = weights @ means
    estimate = float(weights @ np.array([p.mean for p in points]))
    return t_test(estimate, [float(w * w) * p.variance_of_mean for w, p in zip(weights, points)], [p.n for p in points])


def saturation_claim(results: pd.DataFrame) -> dict:
    """Claim 1: single-dimension gains shrink as the coefficient grows (Fig. 3), tested per doubling of
    MACs: a straight line in log MACs already gains less per MAC, so only a concave curve in log MACs
    (negative curvature, by a t-test Holm-corrected over the three dimensions) counts as saturating."""
    rows = frames.measured_accuracy(results, "proxy_fig3_single_dim")
    text = "Single-dimension scaling of B0 gains less and less (Fig. 3)"
    if rows.empty:
        return _claim(
            "1",
            text,
            "missing: python -m bench run suites/proxy_fig3_single_dim.yaml",
            INCONCLUSIVE,
            "measured (proxy v1)",
            v1_scope(rows),
        )
    base = rows[rows["method"] == "baseline"].head(1)  # one point, though each dimension's list may name it
    tests, slopes = {}, {}
    for method in SINGLE_DIMENSION_METHODS:
        curve = pd.concat([base, rows[rows["method"] == method]]).sort_values("macs").drop_duplicates("entry")
        if len(curve) < 4:
            continue
        x = np.log2(curve["macs"].to_numpy(float) / curve["macs"].iloc[0])
        a = curve["top1"].to_numpy(float)
        tests[method] = curvature_test(list(x), [sample(r) for r in curve.to_dict("records")])
        half = len(curve) // 2
        slopes[method] = ((a[half] - a[0]) / (x[half] - x[0]), (a[-1] - a[half]) / (x[-1] - x[half]))
    if not tests:
        return _claim(
            "1",
            text,
            "too few points (4 per dimension, baseline included)",
            INCONCLUSIVE,
            "measured (proxy v1)",
            V1_SCOPE,
        )
    tests = with_holm(tests)
    parts = [
        f"{m} {slopes[m][0]:+.2f} then {slopes[m][1]:+.2f} pt per doubling, curvature {tests[m].describe()}"
        for m in tests
    ]
    return _claim(
        "1",
        text,
        "; ".join(parts) + " (the first half of each range, then the second; saturating = "
        f"curvature in log2 MACs below zero; {_test_note()})",
        all_negative_verdict(tests),
        "measured (proxy v1)",
        v1_scope(rows),
    )


def grid_search_claim(results: pd.DataFrame) -> dict:
    """The alpha, beta, gamma search: does the proxy pick the paper's (1.2, 1.1, 1.15)?

    The paper's split against every other point, Welch's test Holm-corrected over the alternatives:
    reproduced when it beats every one of them, not reproduced when any beats it, inconclusive otherwise."""
    rows = frames.measured_accuracy(results, "proxy_grid_search")
    text = "The grid search at phi=1 picks alpha=1.2, beta=1.1, gamma=1.15 (Sec. 3.3)"
    if rows.empty:
        return _claim(
            "4b",
            text,
            "missing: python -m bench run suites/proxy_grid_search.yaml",
            INCONCLUSIVE,
            "measured (proxy v1)",
            V1_SCOPE,
        )
    paper = rows[rows["entry"] == frames.GRID_PAPER_ENTRY]
    others = rows[rows["entry"] != frames.GRID_PAPER_ENTRY]
    if paper.empty or others.empty:
        return _claim(
            "4b",
            text,
            f"{len(rows)} points; the paper's point or the alternatives were not trained",
            INCONCLUSIVE,
            "measured (proxy v1)",
            v1_scope(rows, cost="2x B0's MACs"),
        )
    p = paper.iloc[0]
    label = lambda r: f"{r['entry']} {r['top1']:.2f}+-{r['top1_std']:.2f} ({r['macs'] / 1e6:.1f}M MACs)"  # noqa: E731
    tested, screened = others[others["n_seeds"] >= 2], others[others["n_seeds"] < 2]
    screen = (
        "; screened with one seed, not tested: "
        + ", ".join(
            f"{r['entry']} {r['top1']:.2f}" for r in screened.sort_values("top1", ascending=False).to_dict("records")
        )
        if not screened.empty
        else ""
    )
    if tested.empty:
        return _claim(
            "4b",
            text,
            f"paper's split {label(p)}; no alternative has 2+ seeds yet{screen}",
            INCONCLUSIVE,
            "measured (proxy v1)",
            v1_scope(rows, cost="2x B0's MACs"),
        )
    arms = [sample(p), *(sample(o) for o in tested.to_dict("records"))]
    tests = with_holm(
        {o["entry"]: welch(sample(p), sample(o)) for o in tested.to_dict("records")}, pooled_detectable(arms)
    )
    parts = [
        f"vs {label(o)}: {tests[o['entry']].describe()}"
        for o in tested.sort_values("top1", ascending=False).to_dict("records")
    ]
    verdict = beats_all_verdict(tests)
    check, verdict = _without_screen_seeds(p, tested, rows, verdict)
    return _claim(
        "4b",
        text,
        f"paper's split {label(p)}; " + "; ".join(parts) + screen + check + f" ({_test_note()})",
        verdict,
        "measured (proxy v1)",
        v1_scope(rows, cost="2x B0's MACs"),
    )


def per_seed_top1(row: dict | pd.Series) -> dict[int, float]:
    """A results row's top-1 by seed, from its ``seeds`` and ``top1_per_seed`` columns (space-separated);
    empty when either is missing or they do not pair up."""
    seeds, values = row.get("seeds"), row.get("top1_per_seed")
    if not isinstance(seeds, str) or not isinstance(values, str):
        return {}
    seed_list, value_list = seeds.split(), values.split()
    if len(seed_list) != len(value_list):
        return {}
    try:
        pairs = {int(float(s)): float(v) for s, v in zip(seed_list, value_list)}
    except ValueError:
        return {}
    return pairs if len(pairs) == len(seed_list) else {}  # a seed named twice: no pairing


def _without_screen_seeds(paper: pd.Series, tested: pd.DataFrame, rows: pd.DataFrame, verdict: str) -> tuple[str, str]:
    """The leaders were picked on the screen's seeds (the seeds every point of the grid has), so their
    mean over seeds that include them is biased upwards (the winner's curse). The same tests on the
    leaders' other seeds only; a verdict stands only where that agrees. Returns the evidence and the
    verdict."""
    by_entry = {r["entry"]: per_seed_top1(r) for r in rows.to_dict("records")}
    if not all(by_entry.values()):
        return "", verdict
    screen = set.intersection(*(set(s) for s in by_entry.values()))
    if not screen:
        return "", verdict
    held_out = {}
    for o in tested.to_dict("records"):
        values = [v for s, v in sorted(by_entry[o["entry"]].items()) if s not in screen]
        if len(values) >= 2:
            held_out[o["entry"]] = welch(sample(paper), Sample.of(values))
    if not held_out:
        return "", verdict
    tests = with_holm(held_out)
    agrees = beats_all_verdict(tests) == verdict
    seeds = ", ".join(map(str, sorted(screen)))
    parts = "; ".join(f"vs {entry} {test.describe()}" for entry, test in tests.items())
    return (
        f"; without the screen's seed{'s' if len(screen) > 1 else ''} {seeds} (the leaders were picked on "
        f"{'them' if len(screen) > 1 else 'it'}): {parts}"
        + ("" if agrees else f"; the verdict ({verdict}) does not hold without them"),
        verdict if agrees else INCONCLUSIVE,
    )


#: Fewest timed models for a verdict on which cost metric ranks runtime.
MIN_ZOO_MODELS = 20
_ACTIVATIONS_TEXT = "Activations predict runtime better than FLOPs (Dollar et al. 2021, on GPUs; tested on a CPU)"


def activations_claim(results: pd.DataFrame, current: str | None = None) -> dict:
    """Dollár et al. (2021): activations predict (GPU) runtime better than FLOPs. Tested on the zoo timed
    here: the difference of Spearman's rho (activations minus MACs) with a 95 % bootstrap interval."""
    from bench.zoo import select as zoo

    timed = results[(results["suite"] == zoo.ZOO_SUITE) & (results["measurement"] == "latency")]
    chosen = frames.timing_machine(timed, current)
    points = zoo.zoo_points(results, machine=chosen.machine) if chosen else timed
    timed = timed[frames.machine_ids(timed) == chosen.machine] if chosen else timed
    return _rank_claim(
        "D1",
        points,
        timed,
        "counted + measured (zoo), not the EfficientNet paper",
        "missing: python -m bench pick --latency-ms 30 (times the zoo)",
        current,
    )


def activations_scaled_claim(results: pd.DataFrame, current: str | None = None) -> dict:
    """The same claim over scaled networks (suite scaled_cost_cpu), closer to what Dollár et al. studied: one
    family scaled by width, depth, resolution and compound phi."""
    from bench.report.scaling_cost_section import SCALED_SUITE
    from bench.zoo import predictors

    timed = results[(results["suite"] == SCALED_SUITE) & (results["measurement"] == "latency")]
    chosen = frames.timing_machine(timed, current)
    points = predictors.suite_points(results, SCALED_SUITE, chosen.machine) if chosen else timed
    timed = timed[frames.machine_ids(timed) == chosen.machine] if chosen else timed
    return _rank_claim(
        "D1b",
        points,
        timed,
        "counted + measured (scaled EfficientNet/ResNet/MobileNet), not the EfficientNet paper",
        f"missing: python -m bench run suites/{SCALED_SUITE}.yaml",
        current,
    )


def _rank_claim(
    claim: str, points: pd.DataFrame, timed: pd.DataFrame, source: str, missing: str, current: str | None
) -> dict:
    from bench.zoo import predictors

    if len(points) < MIN_ZOO_MODELS:
        return _claim(claim, _ACTIVATIONS_TEXT, missing, INCONCLUSIVE, source, "latency (pending)")
    diff, low, high = predictors.rho_difference(points, "activations_m", "macs_g")
    where = timed.iloc[0]
    verdict = NOT_REPRODUCED if high < 0 else REPRODUCED if low > 0 else INCONCLUSIVE
    chosen = frames.timing_machine(timed, current)
    scope = f"latency timed on {chosen.label if chosen else frames.machine_label(timed.iloc[0])}"
    rho = {m: predictors.spearman(points[m], points["latency_ms"]) for m in ("activations_m", "macs_g")}
    evidence = (
        f"{len(points)} models, {where['device']} batch {int(where['batch_size'])}, {int(where['threads'])} "
        f"thread(s): Spearman rho with latency: activations {rho['activations_m']:.2f}, MACs {rho['macs_g']:.2f}; "
        f"difference {diff:+.3f}, 95% bootstrap CI [{low:+.3f}, {high:+.3f}]"
    )
    return _claim(claim, _ACTIVATIONS_TEXT, evidence, verdict, source, scope)


def claims_table(results: pd.DataFrame, current: str | None = None) -> pd.DataFrame:
    """Every claim's row; ``current`` (this machine's fingerprint) decides whose timings a latency claim reads:
    this machine's where it has them, else the named machine with the most."""
    from bench.report import proxy_v2

    rows = [
        *proxy_v2.claims(results),
        saturation_claim(results),
        scaling_law_claim(results),
        grid_search_claim(results),
        *proxy_compound_claims(results),
        *efficiency_claims(results, current),
        activations_claim(results, current),
        activations_scaled_claim(results, current),
    ]
    return pd.DataFrame(rows)
