"""Per-layer counts: params, MACs and activations per module and per operator type.

The same forward as ``bench.measure.complexity.count_module`` (meta device, the same FlopCounterMode), so
the totals are the ones ``bench count`` prints. MACs per module are FlopCounterMode's own per-module
counts; activations are attributed to the modules running when each convolution or matrix product
runs (``torch.utils.module_tracker.ModuleTracker``, the tracker FlopCounterMode uses).

Work a module does itself, outside its submodules (a functional ``x @ w`` in ``forward``, a
parameter such as a position embedding), is an entry of its own, ``NAME.(own)`` (``(own)`` for
the top-level model), so the entries of one depth sum exactly to their parent. Operators that add
no MACs by the convention of the paper and timm (batch norm, activations, adds, pooling, ...) are
listed by name with how often they ran; view and shape operators, which compute nothing, are not.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.module_tracker import ModuleTracker

from bench.measure.complexity import (
    _COUNTED,
    _ZERO_MAC_OPS,
    ACTIVATION_OPS,
    Complexity,
    build_meta,
    named_input_errors,
    run_counted,
)
from bench.specs import ModelSpec

OWN = "(own)"


@dataclass(frozen=True)
class LayerCount:
    """One module's (or one module's own work's) params, MACs and activations; depth 1 = the model's children."""

    name: str
    depth: int
    params: int
    macs: int
    activations: int


@dataclass(frozen=True)
class OperatorCount:
    """One aten operator's calls and what it counted over the whole forward."""

    op: str
    calls: int
    macs: int
    activations: int


@dataclass(frozen=True)
class LayerBreakdown:
    total: Complexity
    layers: tuple[LayerCount, ...]  # every depth, in module order, each module before its children
    operators: tuple[OperatorCount, ...]  # counted operators, most MACs first
    not_counted: tuple[tuple[str, int], ...]  # (operator, calls) of operators that add no MACs

    def to(self, depth: int) -> list[LayerCount]:
        return [layer for layer in self.layers if layer.depth <= depth]


class _Ledger:
    """Told of every operator by ``_MetaShortcuts``: calls per operator, activations per module."""

    def __init__(self, tracker: ModuleTracker) -> None:
        self.tracker = tracker
        self.calls: Counter[str] = Counter()
        self.op_activations: Counter[str] = Counter()
        self.module_activations: Counter[str] = Counter()
        self.not_counted: Counter[str] = Counter()

    def __call__(self, func: torch._ops.OpOverload, out: object) -> None:
        packet = func.overloadpacket
        name = str(packet).removeprefix("aten.")
        if packet in ACTIVATION_OPS and isinstance(out, torch.Tensor):
            self.op_activations[name] += out.numel()
            for parent in set(self.tracker.parents):
                self.module_activations[parent] += out.numel()
        if packet in _COUNTED and func not in _ZERO_MAC_OPS:
            self.calls[name] += 1
        elif not func.is_view and not _is_shape_only(func):
            self.not_counted[name] += 1


#: Operators that allocate or copy and compute nothing: not listed among the uncounted.
_SHAPE_ONLY = frozenset(
    getattr(torch.ops.aten, name) for name in ("empty", "empty_like", "new_empty", "detach", "clone", "_to_copy")
)


def _is_shape_only(func: torch._ops.OpOverload) -> bool:
    return func.overloadpacket in _SHAPE_ONLY


def count_layers(model: nn.Module, input_shape: tuple[int, ...]) -> LayerBreakdown:
    """Per-module and per-operator counts of ``model`` for one input of ``input_shape`` (C, H, W)."""
    tracker = ModuleTracker()
    ledger = _Ledger(tracker)
    with tracker:
        total, counter = run_counted(model, input_shape, ledger)
    flops = counter.get_flop_counts()
    root = next((name for name in flops if name != "Global" and "." not in name), type(model).__name__)
    macs = {name: sum(per_op.values()) // 2 for name, per_op in flops.items()}
    layers: list[LayerCount] = []
    _walk(model, "", 0, f"{root}", macs, ledger.module_activations, layers)
    layers.pop(0)  # the model itself: the totals
    operators = sorted(
        (
            OperatorCount(str(op).removeprefix("aten."), ledger.calls[str(op).removeprefix("aten.")], n // 2, 0)
            for op, n in flops.get("Global", {}).items()
            if op not in {f.overloadpacket for f in _ZERO_MAC_OPS}
        ),
        key=lambda o: -o.macs,
    )
    operators = [
        OperatorCount(o.op, o.calls, o.macs, ledger.op_activations[o.op]) for o in operators if o.calls or o.macs
    ]
    return LayerBreakdown(total, tuple(layers), tuple(operators), tuple(sorted(ledger.not_counted.items())))


def _walk(
    module: nn.Module,
    name: str,
    depth: int,
    tracked: str,
    macs: dict[str, int],
    activations: Counter[str],
    out: list[LayerCount],
) -> LayerCount:
    """Append ``module``'s entry, then its children's and its own work's; returns its entry."""
    entry = LayerCount(
        name or "(model)",
        depth,
        sum(p.numel() for p in module.parameters()),
        macs.get(tracked, 0),
        activations.get(tracked, 0),
    )
    out.append(entry)
    children = [
        _walk(child, f"{name}.{key}" if name else key, depth + 1, f"{tracked}.{key}", macs, activations, out)
        for key, child in module.named_children()
    ]
    if children:
        own = LayerCount(
            f"{name}.{OWN}" if name else OWN,
            depth + 1,
            entry.params - sum(c.params for c in children),
            entry.macs - sum(c.macs for c in children),
            entry.activations - sum(c.activations for c in children),
        )
        if own.params or own.macs or own.activations:
            out.append(own)
    return entry


def count_spec_layers(spec: ModelSpec) -> LayerBreakdown:
    """``count_layers`` of a spec at its input size, built on the meta device as ``bench count`` builds it."""
    model = build_meta(spec)
    with named_input_errors(spec):
        return count_layers(model, spec.input_shape)
