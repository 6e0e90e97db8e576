"""The best model for *this* machine: timm's zoo, timed here, with timm's published ImageNet accuracy.

Pure functions over a results table. Accuracy is source ``reported-timm`` (bench.reference.timm_results:
timm's own validation of each pretrained tag), joined to a model by timm's default tag for it at that
tag's eval size; latency and counts are measured here (the ``zoo_frontier`` suite). Nothing here is
mixed with the paper's ``reported`` numbers or our ``measured`` ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from bench.accuracy import REPORTED_TIMM
from bench.errors import InputError
from bench.reference import timm_results
from bench.zoo.pareto import pareto_mask
from bench.zoo.quick import QUICK_MEASUREMENT

ZOO_SUITE = "zoo_frontier"
SOURCE = REPORTED_TIMM
#: The paper's own models as timm ports them (TensorFlow weights): the "B-model at that budget".
PAPER_MODELS = tuple(f"tf_efficientnet_b{i}" for i in range(8))


@lru_cache(maxsize=1)
def reported_timm() -> pd.DataFrame:
    """timm's results, one row per (tag, eval size): arch, tag, img_size, top1, top5, params_m."""
    frame = pd.DataFrame(timm_results())
    frame["arch"] = frame["model"].str.split(".").str[0]
    frame["tag"] = frame["model"].str.split(".", n=1).str[1].fillna("")
    for column in ("img_size", "top1", "top5"):
        frame[column] = pd.to_numeric(frame[column])
    frame["params_m"] = pd.to_numeric(frame["param_count"].str.replace(",", ""), errors="coerce")
    frame["accuracy_source"] = SOURCE
    frame["pretrain"] = frame["tag"].map(pretraining)
    return frame[
        [
            "arch",
            "tag",
            "img_size",
            "top1",
            "top5",
            "params_m",
            "crop_pct",
            "interpolation",
            "accuracy_source",
            "pretrain",
        ]
    ]


#: Words of a timm tag that name data the weights saw beyond ImageNet-1k, and the label each gets. Every
#: result is an ImageNet-1k top-1 (fine-tuned there last); a tag naming none of these is ImageNet-1k only.
EXTRA_DATA = {
    "in22k": "in22k",
    "in21k": "in22k",
    "in12k": "in12k",
    "jft": "jft",
    "ns": "jft",  # Noisy Student: JFT-300M pseudo-labels
    "ig1b": "ig",
    "swsl": "ig",
    "wsl": "ig",
    "swag": "ig",
    "seer": "ig",
    "ssl": "yfcc100m",
    "yfcc100m": "yfcc100m",
    "laion2b": "laion",
    "laiona": "laion",
    "openai": "openai-wit",
    "clip": "clip",
    "m38m": "merged-38m",
    "m30m": "merged-30m",
    "webli": "webli",
    "ssld": "ssld-in22k",  # PaddleClas SSLD distils on unlabeled ImageNet-22k images
}
IN1K = "in1k"


def pretraining(tag: str) -> str:
    """The pretraining data of a timm tag: 'in1k', or the extra data it names ('jft', 'in22k+laion', ...)."""
    found = sorted({EXTRA_DATA[word] for word in str(tag).split("_") if word in EXTRA_DATA})
    if "clip" in found and len(found) > 1:  # 'clip' says only how: the data is named beside it
        found.remove("clip")
    return "+".join(found) or IN1K


def reported_for(arch: str, size: int, pretrain: str = IN1K) -> dict | None:
    """timm's result for ``arch`` at eval ``size`` with ImageNet-1k-only weights (``pretrain`` 'in1k') or any
    weights ('any'): timm's default tag where it qualifies, else the most accurate tag that does."""
    default = default_reported(arch, size)
    if default is not None and (pretrain == "any" or default["pretrain"] == IN1K):
        return default
    rows = [r for (a, _, s), r in _by_key().items() if a == arch and s == size]
    rows = [r for r in rows if pretrain == "any" or r["pretrain"] == IN1K]
    return max(rows, key=lambda r: r["top1"]) if rows else None


#: The tag of the paper's own weights among timm's ports of B0-B7 (their default tag is Noisy Student's).
PAPER_TAG = "in1k"


def default_reported(arch: str, size: int | None = None, tag: str | None = None) -> dict | None:
    """timm's published result for ``arch`` with ``tag`` (default: timm's default pretrained tag) at
    ``size`` (default: the tag's own eval size), or None where timm publishes none."""
    import timm

    cfg = timm.models.get_pretrained_cfg(arch)
    if cfg is None:
        return None
    size = size or int(cfg.input_size[-1])
    wanted = tag if tag is not None else (cfg.tag or "")
    return _by_key().get((arch, wanted, size))


@lru_cache(maxsize=1)
def _by_key() -> dict[tuple[str, str, int], dict]:
    """timm's results by (arch, tag, eval size); the first row where one repeats."""
    index: dict[tuple[str, str, int], dict] = {}
    for row in reported_timm().to_dict("records"):
        index.setdefault((row["arch"], row["tag"], int(row["img_size"])), row)
    return index


POINT_COLUMNS = (
    "entry",
    "base",
    "input_size",
    "params_m",
    "macs_g",
    "activations_m",
    "latency_ms",
    "throughput_ips",
    "latency_cv",
    "cpu_wall_ratio",
    "timing",
    "iterations",
    "top1",
    "tag",
    "pretrain",
    "paper_top1",
)


def zoo_points(
    results: pd.DataFrame,
    suite: str = ZOO_SUITE,
    *,
    machine: str | None = None,
    pretrain: str = IN1K,
    quick: bool = False,
    **conditions,
) -> pd.DataFrame:
    """One row per timed entry of ``suite`` (on ``machine`` and under ``conditions`` such as threads=1,
    where given): counts, median latency, throughput, and timm's reported top-1 (``reported_for``: ImageNet-1k
    weights unless ``pretrain`` is 'any'), with the tag and its pretraining data. Full readings only, unless
    ``quick``: then each entry's last reading of either protocol (``results`` oldest first), its ``timing``
    saying which ('full' or 'quick', bench.zoo.quick)."""
    columns = list(POINT_COLUMNS)
    if results.empty:
        return pd.DataFrame(columns=columns)
    kinds = ["latency", QUICK_MEASUREMENT] if quick else ["latency"]
    timed = results[(results["suite"] == suite) & results["measurement"].isin(kinds)]
    if machine is not None:
        timed = timed[timed["machine"] == machine]
    for key, value in conditions.items():
        timed = timed[timed[key] == value]
    counted = results[(results["suite"] == suite) & (results["measurement"] == "complexity")]
    counted = counted.drop_duplicates("entry", keep="last").set_index("entry")
    rows = []
    for r in timed.drop_duplicates("entry", keep="last").to_dict("records"):
        count = counted.loc[r["entry"]] if r["entry"] in counted.index else r
        timing = {
            "latency_ms": r["latency_ms_p50"],
            "throughput_ips": r["throughput_ips"],
            "latency_cv": r.get("latency_cv", math.nan),
            "cpu_wall_ratio": r.get("cpu_wall_ratio", math.nan),
            "timing": "quick" if r["measurement"] == QUICK_MEASUREMENT else "full",
            "iterations": r.get("iterations", math.nan),
        }
        rows.append(_point(r["entry"], _arch(r), int(r["input_size"]), count, timing, pretrain))
    return pd.DataFrame(rows, columns=columns)


def _point(entry: str, base: str, size: int, count, timing: dict, pretrain: str) -> dict:
    """One model's point: counts (a row with params, macs, activations), timing, timm's reported top-1."""
    reported = reported_for(base, size, pretrain)
    return {
        "entry": entry,
        "base": base,
        "input_size": size,
        "params_m": count["params"] / 1e6,
        "macs_g": count["macs"] / 1e9,
        "activations_m": count["activations"] / 1e6,
        **timing,
        "top1": None if reported is None else reported["top1"],
        "tag": None if reported is None else reported["tag"],
        "pretrain": None if reported is None else reported["pretrain"],
        "paper_top1": _paper_top1(base, size),
    }


def counted_points(counts: pd.DataFrame, timed: pd.DataFrame | None = None, pretrain: str = IN1K) -> pd.DataFrame:
    """One point per counted entry (``counts``: entry, base, input_size, params, macs, activations), for a
    MACs or params budget, which needs no timing: latency is filled in from ``timed`` (``zoo_points`` of this
    machine) where an entry has been timed, else left empty."""
    by_entry = {} if timed is None or timed.empty else timed.set_index("entry").to_dict("index")
    rows = []
    for c in counts.to_dict("records"):
        t = by_entry.get(c["entry"], {})
        names = ("latency_ms", "throughput_ips", "latency_cv", "cpu_wall_ratio", "iterations")
        timing = {name: t.get(name, math.nan) for name in names}
        timing["timing"] = t.get("timing")
        rows.append(_point(c["entry"], c["base"], int(c["input_size"]), c, timing, pretrain))
    return pd.DataFrame(rows, columns=list(POINT_COLUMNS))


def _arch(row: dict) -> str:
    """The timm architecture a row measured: its base, except that an EfficientNet preset (built by scaling
    B0, identical to timm's model of that name) is named by the preset (``efficientnet_b2@256``)."""
    if row.get("method") == "preset":
        return str(row["model"]).split("@")[0]
    return str(row["base"])


def _paper_top1(arch: str, size: int) -> float | None:
    """timm's result for the paper's own weights (tag ``in1k``) of one of B0-B7; None for other models."""
    if arch not in PAPER_MODELS:
        return None
    reported = default_reported(arch, size, tag=PAPER_TAG)
    return None if reported is None else reported["top1"]


@dataclass(frozen=True)
class Budget:
    """At most this much of each cost given (None: no limit); ``metric`` is the one the frontier is over."""

    latency_ms: float | None = None
    macs_g: float | None = None
    params_m: float | None = None

    def __post_init__(self) -> None:
        for name in ("latency_ms", "macs_g", "params_m"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise InputError(f"a budget must be a positive, finite number; {name} is {value!r}")

    @property
    def metric(self) -> str:
        for name in ("latency_ms", "macs_g", "params_m"):
            if getattr(self, name) is not None:
                return name
        raise InputError("give a budget: --latency-ms, --macs or --params")

    def admits(self, points: pd.DataFrame) -> pd.Series:
        keep = points["top1"].notna()
        for name in ("latency_ms", "macs_g", "params_m"):
            limit = getattr(self, name)
            if limit is not None:
                keep &= points[name] <= limit
        return keep

    def describe(self) -> str:
        units = {"latency_ms": " ms", "macs_g": " G MACs", "params_m": "M params"}
        return ", ".join(f"<= {getattr(self, n):g}{unit}" for n, unit in units.items() if getattr(self, n) is not None)


def shaky(points: pd.DataFrame) -> pd.Series:
    """Rows whose timing is not to be trusted as it stands: CV above the target, or taken while the process
    waited for a core (bench.measure.latency)."""
    from bench.measure.latency import is_contended, is_noisy

    noisy = points["latency_cv"].map(lambda v: is_noisy(float(v)))
    contended = points["cpu_wall_ratio"].map(lambda v: is_contended(float(v)))
    return (noisy | contended).astype(bool)


def pick(points: pd.DataFrame, budget: Budget) -> pd.DataFrame:
    """The models within ``budget`` that no other within it beats in both top-1 and the budget's metric,
    most accurate first."""
    within = points[budget.admits(points)]
    if within.empty:
        return within
    frontier = pareto_mask(within[budget.metric].tolist(), within["top1"].tolist())
    return within[frontier].sort_values("top1", ascending=False).reset_index(drop=True)


def paper_model_within(points: pd.DataFrame, budget: Budget) -> dict | None:
    """The largest of the paper's B0-B7 (timm's TensorFlow ports) that fits ``budget``, with the top-1 of
    the paper's own weights (tag ``in1k``) as ``top1``; None if none fits."""
    paper = points[points["base"].isin(PAPER_MODELS) & points["paper_top1"].notna()]
    paper = paper.assign(top1=paper["paper_top1"])
    within = paper[budget.admits(paper)]
    if within.empty:
        return None
    return within.sort_values("top1").iloc[-1].to_dict()
