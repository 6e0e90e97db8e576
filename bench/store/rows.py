"""Every row the results store holds is built here: the columns a suite row shares, a latency or
throughput row's figures and conditions, a training entry's accuracy columns, the single rows of
``bench latency`` and ``bench eval``, and the workload key of a timing. Columns and reading live in
:mod:`bench.store.results`; the driver (:mod:`bench.run`) and the commands only call these."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bench.accuracy import MEASURED, PRETRAINED_EVAL
from bench.accuracy.datasets import native_size
from bench.measure.complexity import Complexity
from bench.measure.environment import machine_fingerprint, now
from bench.models.registry import workload_key
from bench.specs import LatencyConditions, ModelSpec, TrainBudget
from bench.store.count_cache import ComplexityCache
from bench.store.results import spec_columns

if TYPE_CHECKING:
    from bench.accuracy.run_state import TrainResult
    from bench.measure.latency import LatencyResult
    from bench.scaling.plan import PlannedModel

#: How the counts in a row were taken.
COUNTER = "FlopCounterMode(meta)"


def suite_row(
    suite: str, planned: PlannedModel, measurement: str, key: str, counts: Complexity, env: dict, *, timed: bool
) -> dict:
    """Columns every suite row has: identity, model, exact counts, match, paper row, environment. A measured
    (``timed``) row carries its machine in its identity and the time it was measured."""
    measured = {"machine": machine_fingerprint(env), "timestamp": now()} if timed else {"machine": ""}
    return {
        "suite": suite,
        "entry": planned.entry.name,
        "measurement": measurement,
        "workload_key": key,
        **spec_columns(planned.spec),
        "params": counts.params,
        "macs": counts.macs,
        "activations": counts.activations,
        "counter": COUNTER,
        "target_macs": planned.target_macs,
        "match_of": planned.match_of,
        "paper_ref": planned.entry.paper,
        **env,
        **measured,
    }


def latency_columns(result: LatencyResult) -> dict:
    """The measured columns of a latency or throughput row, with the conditions next to the figures."""
    c, stats = result.conditions, result.stats
    return {
        "device": c.device,
        "precision": c.precision,
        "memory_format": c.memory_format,
        "compile": c.compile,
        "threads": result.threads,
        "batch_size": result.batch_used,
        "batch_requested": result.batch_requested,
        "warmup_iterations": c.warmup_iterations,
        "iterations": stats.iterations,
        "latency_ms_p50": stats.p50,
        "latency_ms_p90": stats.p90,
        "latency_ms_p99": stats.p99,
        "latency_ms_mean": stats.mean,
        "latency_ms_std": stats.std,
        "latency_cv": stats.cv,
        "throughput_ips": result.throughput,
        "peak_memory_mb": result.peak_memory_mb,
        "cpu_core": result.core,
        "cpu_wall_ratio": result.cpu_wall_ratio,
    }


def _shared(values: set[int]) -> int | None:
    """The value every seed shares, or None where they differ or none was recorded."""
    return next(iter(values)) if len(values) == 1 else None


def accuracy_columns(
    budget: TrainBudget, seeds: tuple[int, ...], results: list[TrainResult], *, input_size: int | None = None
) -> dict:
    """The accuracy columns of one entry's row: mean and std over seeds, each seed's top-1, the budget, and
    whether the entry's input is larger than the dataset's own images (``upsampled``: no new detail)."""
    top1 = np.array([r.top1 for r in results])
    native = native_size(budget.dataset)
    top5 = np.array([r.top5 for r in results], dtype=float)
    val = np.array([r.val_top1 for r in results], dtype=float)

    def spread(values: np.ndarray) -> float:
        return float(values.std(ddof=1)) if len(values) > 1 else 0.0

    validated = budget.val_images is not None and not np.isnan(val).any()
    return {
        "accuracy_source": MEASURED,
        "dataset": budget.dataset,
        "top1": float(top1.mean()),
        "top1_std": spread(top1),
        "top5": float(np.nanmean(top5)) if not np.isnan(top5).all() else None,
        "top5_std": spread(top5) if not np.isnan(top5).any() else None,
        "top1_per_seed": " ".join(f"{v:g}" for v in top1),
        "val_images": budget.val_images,
        "val_top1": float(val.mean()) if validated else None,
        "val_top1_std": spread(val) if validated else None,
        "val_top1_per_seed": " ".join(f"{v:g}" for v in val) if validated else None,
        "train_loss": float(np.mean([r.train_loss for r in results])),
        "upsampled": None if native is None or input_size is None else bool(input_size > native),
        "seeds": " ".join(map(str, seeds)),
        "n_seeds": len(seeds),
        "epochs": budget.epochs,
        "budget": budget.describe(),
        "train_seconds": float(sum(r.seconds for r in results)),
        "train_images_per_s": float(np.mean([r.images_per_s for r in results])),
        "timestamp": max((r.finished for r in results if r.finished), default=now()),  # when the last seed ended
        "device": budget.device,
        "threads": _shared({r.threads for r in results} - {0}),
        "train_jobs": _shared({r.concurrent for r in results} - {0}),
        "train_processes": _shared({r.processes for r in results}),
    }


def latency_key(spec: ModelSpec, measurement: str, c: LatencyConditions) -> str:
    """The workload key of a latency or throughput row: the network, its input, every timing condition."""
    return workload_key(
        spec,
        measurement=measurement,
        device=c.device,
        batch=c.batch_size,
        threads=c.threads,
        precision=c.precision,
        memory_format=c.memory_format,
        compile=c.compile,
    )


def single_latency_row(
    spec: ModelSpec, result: LatencyResult, env: dict, suite: str = "cli", counts: Complexity | None = None
) -> dict:
    """The row ``bench latency`` stores: as a suite's latency row, under suite ``cli``, entry = the variant
    (``counts``: the network's counts where the caller has them, else counted here)."""
    counts = counts or ComplexityCache(None).count(spec)
    return {
        "suite": suite,
        "entry": spec.name,
        "measurement": "latency",
        "workload_key": latency_key(spec, "latency", result.conditions),
        **spec_columns(spec),
        "params": counts.params,
        "macs": counts.macs,
        "activations": counts.activations,
        "counter": COUNTER,
        **env,
        "machine": machine_fingerprint(env),
        "timestamp": now(),
        **latency_columns(result),
    }


def pretrained_eval_row(
    model_name: str,
    checkpoint: Path,
    folder: Path,
    result,
    env: dict,
    suite: str = "pretrained_eval",
    *,
    model_args: dict | None = None,
    num_classes: int | None = None,
    in_chans: int | None = None,
) -> dict:
    """One ``pretrained-eval`` row: the checkpoint (by digest), the folder, top-1/top-5 and the model's counts
    (of the model as scored: its args, classes and input channels)."""
    from bench.accuracy.pretrained import file_digest
    from bench.models.registry import make_spec
    from bench.specs import InputSpec

    size = result.data_config["input_size"][-1]
    inputs = InputSpec(in_chans=in_chans or 3, num_classes=num_classes or 1000)
    spec = make_spec(model_name, input_size=size, model_args=model_args or {}, inputs=inputs)
    counts = ComplexityCache(None).count(spec)
    digest = file_digest(checkpoint)
    config = result.data_config
    transform = {k: config.get(k) for k in ("mean", "std", "interpolation", "crop_pct", "crop_mode")}
    key = workload_key(
        spec,
        measurement="pretrained-eval",
        checkpoint=digest,
        folder=str(folder.resolve()),
        images=result.images,
        transform=json.dumps(transform, sort_keys=True, default=str),  # another normalisation, another row
    )
    return {
        "suite": suite,
        "entry": model_name,
        "measurement": "accuracy",
        "workload_key": key,
        "machine": machine_fingerprint(env),
        **spec_columns(spec),
        "params": counts.params,
        "macs": counts.macs,
        "activations": counts.activations,
        "counter": COUNTER,
        "accuracy_source": PRETRAINED_EVAL,
        "dataset": f"folder:{folder}",
        "top1": result.top1,
        "top5": result.top5,
        "eval_images": result.images,
        "device": result.device,
        "checkpoint": f"{checkpoint.name} sha256:{digest}",
        **env,
    }
