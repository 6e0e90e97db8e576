"""effbench: accuracy-versus-efficiency benchmarks for ConvNets.

The Python API (``bench.api``), for notebooks and scripts::

    import bench
    b0 = bench.count("efficientnet_b0")          # Count(model='efficientnet_b0', ..., macs=...)
    b0.macs, b0.params, b0.activations, b0.to_dict(), b0.to_frame()
    bench.count("resnet50", w=2, input_size=320)  # scaled as on the command line
    bench.solve("efficientnet_b0", "depth", match_phi=2)
    bench.latency("efficientnet_b0")              # p50/p90/p99 ms, one pinned CPU thread
    bench.read_results("reports/measured/zoo_frontier_cpu.csv")  # a DataFrame

Importing ``bench`` is light: torch, timm and pandas load on the first call.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["count", "latency", "read_results", "solve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("bench.api"), name)
    raise AttributeError(f"module 'bench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
