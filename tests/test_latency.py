"""Latency measurement: conditions, restored global state, statistics, batch halving, rows."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bench.measure import latency
from bench.measure.latency import Runner, TimingStats, measure_latency, measure_throughput, measurement_state
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
    from bench.measure.latency import PRECISIONS
    from bench.specs import PRECISION_NAMES

    assert tuple(PRECISIONS) == PRECISION_NAMES


def test_a_negative_time_budget_is_refused(capsys) -> None:
    from bench.cli import main
    from bench.specs import LatencyConditions

    with pytest.raises(ValueError, match="min_time_s must be >= 0"):
        LatencyConditions(min_time_s=-1)
    assert main(["latency", "mobilenetv2_050", "--min-time", "-1", "--input-size", "32"]) == 2
    assert "min_time_s must be >= 0" in capsys.readouterr().err


def _result(cv_samples: tuple[float, ...], ratio: float | None):
    from bench.measure.latency import LatencyResult, TimingStats
    from bench.specs import LatencyConditions

    return LatencyResult(LatencyConditions(), 224, 1, 1, TimingStats(cv_samples), 1, None, 1, ratio)


def test_a_noisy_or_contended_reading_is_named_with_its_cv_and_the_usual_causes() -> None:
    from bench.measure.latency import noise_warnings

    quiet = _result((10.0, 10.1, 9.9, 10.0), 0.99)
    assert not quiet.noisy and not quiet.contended and noise_warnings(quiet) == []
    noisy = _result((0.13, 0.13, 0.14, 28.0), 0.98)  # a CV of hundreds of percent, as the issue saw
    (line,) = noise_warnings(noisy)
    assert "above the 5% target" in line and "busy machine" in line and "not pinned" in line
    steady_but_shared = _result((20.0, 20.2, 19.8, 20.0), 0.5)  # low CV, but the core was shared half the time
    (line,) = noise_warnings(steady_but_shared)
    assert "contended" in line and "CPU/wall 0.50" in line


def test_until_stable_repeats_while_noisy_and_keeps_the_first_quiet_round(monkeypatch) -> None:
    import bench.measure.latency
    from bench.commands.one_model import _measure_until_stable
    from bench.models.registry import make_spec

    rounds = iter([_result((1.0, 3.0, 1.0), 0.99), _result((2.0, 2.0, 2.0), 0.4), _result((2.0, 2.01, 2.0), 0.97)])
    monkeypatch.setattr(bench.measure.latency, "measure_latency", lambda *a: next(rounds))
    result, n = _measure_until_stable(None, make_spec("lcnet_050"), None, 60.0)
    assert n == 3 and not result.noisy and not result.contended
    always = iter([_result((1.0, 3.0, 1.0), 0.99)] * 3)
    monkeypatch.setattr(bench.measure.latency, "measure_latency", lambda *a: next(always))
    assert _measure_until_stable(None, make_spec("lcnet_050"), None, None)[1] == 1  # no limit: one round
