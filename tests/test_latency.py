"""Latency measurement: conditions, restored global state, statistics, batch halving, rows."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bench import latency
from bench.latency import Runner, TimingStats, measure_latency, measure_throughput, measurement_state
from bench.specs import LatencyConditions

TINY = LatencyConditions(threads=1, warmup_iterations=1, min_iterations=3, min_time_s=0.0)


def _tiny_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4)
    )


def test_statistics() -> None:
    stats = TimingStats(tuple(float(v) for v in range(1, 101)))
    assert stats.iterations == 100
    assert stats.p50 == pytest.approx(50.5) and stats.p90 == pytest.approx(90.1) and stats.p99 == pytest.approx(99.01)
    assert stats.mean == pytest.approx(50.5)
    assert stats.cv == pytest.approx(stats.std / 50.5)
    assert TimingStats((2.0,)).std == 0.0


def test_global_state_is_restored() -> None:
    before_threads, before_grad = torch.get_num_threads(), torch.is_grad_enabled()
    with measurement_state(LatencyConditions(threads=1)):
        assert torch.get_num_threads() == 1
        assert torch.is_inference_mode_enabled()
    assert torch.get_num_threads() == before_threads and torch.is_grad_enabled() == before_grad
    with pytest.raises(RuntimeError), measurement_state(LatencyConditions(threads=1)):
        raise RuntimeError("a failing measurement")
    assert torch.get_num_threads() == before_threads


def test_measure_latency_records_conditions_and_iterations() -> None:
    result = measure_latency(_tiny_model(), (3, 16, 16), TINY)
    assert result.stats.iterations >= 3
    assert result.batch_requested == result.batch_used == 1 and result.input_size == 16
    assert result.throughput == pytest.approx(1000.0 / result.stats.mean)
    assert result.peak_memory_mb is None  # CPU


def test_min_time_extends_iterations() -> None:
    conditions = LatencyConditions(
        threads=1, warmup_iterations=0, min_iterations=2, min_time_s=0.05, max_iterations=10_000
    )
    assert measure_latency(_tiny_model(), (3, 16, 16), conditions).stats.iterations > 2


def test_throughput_sweep_and_channels_last_bf16() -> None:
    results = measure_throughput(_tiny_model(), (3, 16, 16), [1, 4], TINY)
    assert [r.batch_used for r in results] == [1, 4]
    runner = Runner(_tiny_model(), (3, 16, 16), LatencyConditions(channels_last=True, precision="bf16"))
    assert runner.input.is_contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        assert runner.forward().dtype == torch.bfloat16


def test_invalid_conditions() -> None:
    with pytest.raises(ValueError, match="fp16"):
        LatencyConditions(precision="fp16")
    with pytest.raises(ValueError, match="device"):
        LatencyConditions(device="tpu")
    with pytest.raises(ValueError, match="min_iterations"):
        LatencyConditions(min_iterations=0)


def test_out_of_memory_halves_the_batch_and_records_both(monkeypatch) -> None:
    """The CUDA OOM path, driven on CPU: a runner that 'runs out of memory' above batch 2."""
    real_runner = latency.Runner

    class FussyRunner(real_runner):
        def __init__(self, model, input_shape, conditions, batch_size=None):
            if (batch_size or conditions.batch_size) > 2:
                raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
            super().__init__(model, input_shape, conditions, batch_size)

    monkeypatch.setattr(latency, "Runner", FussyRunner)
    result = measure_latency(_tiny_model(), (3, 16, 16), LatencyConditions(batch_size=16, **_quick()))
    assert (result.batch_requested, result.batch_used) == (16, 2)


def _quick() -> dict:
    return {"threads": 1, "warmup_iterations": 0, "min_iterations": 2, "min_time_s": 0.0}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_path_times_with_events_and_reports_peak_memory() -> None:
    result = measure_latency(_tiny_model(), (3, 64, 64), LatencyConditions(device="cuda", precision="bf16", **_quick()))
    assert result.peak_memory_mb > 0 and result.stats.iterations >= 2


@pytest.mark.slow
def test_torch_compile_path() -> None:
    result = measure_latency(_tiny_model(), (3, 16, 16), LatencyConditions(compile=True, **_quick()))
    assert result.stats.iterations >= 2


def test_a_one_thread_cpu_measurement_is_pinned_to_one_core_and_says_which() -> None:
    import os

    before = os.sched_getaffinity(0)
    model = torch.nn.Conv2d(3, 4, 3)
    result = measure_latency(model, (3, 16, 16), LatencyConditions(threads=1, min_iterations=3, min_time_s=0.0))
    assert result.core == max(before) and os.sched_getaffinity(0) == before  # restored after
    unpinned = measure_latency(
        model, (3, 16, 16), LatencyConditions(threads=1, pin_core=False, min_iterations=3, min_time_s=0.0)
    )
    assert unpinned.core is None
    assert not LatencyConditions(threads=2).pins and LatencyConditions(threads=2, pin_core=True).pins


def test_every_precision_name_has_a_dtype() -> None:
    from bench.latency import PRECISIONS
    from bench.specs import PRECISION_NAMES

    assert tuple(PRECISIONS) == PRECISION_NAMES


def test_a_negative_time_budget_is_refused(capsys) -> None:
    from bench.cli import main
    from bench.specs import LatencyConditions

    with pytest.raises(ValueError, match="min_time_s must be >= 0"):
        LatencyConditions(min_time_s=-1)
    assert main(["latency", "mobilenetv2_050", "--min-time", "-1", "--input-size", "32"]) == 2
    assert "min_time_s must be >= 0" in capsys.readouterr().err
