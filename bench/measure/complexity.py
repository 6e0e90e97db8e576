"""Exact complexity: parameters, MACs and activations of any model at any input size.

Counts run on the ``meta`` device: the network is built and run on shapes only, so even
EfficientNet-B7 at 600x600 costs no memory and under a second (0.6-0.8 s measured on a busy
2-core machine, after the first count's one-off start). MACs come from
``torch.utils.flop_counter.FlopCounterMode`` (which counts FLOPs = 2 x MACs for convolutions
and matrix products; element-wise work such as batch norm, activations, SE gating and
residual adds is not counted, as in the paper and timm). Activations are the output
elements of every convolution and matrix product, as timm's ``infer_macts`` and pycls'
``acts``.

Where the time goes: on ``meta`` most of it is spent in Python reference kernels that only
compute output shapes — batch norm decomposes into a dozen prims, every ``normal_`` /
``uniform_`` weight initialiser runs its reference implementation — and in building the
modules. ``_MetaShortcuts`` answers those shape-only ops directly (an in-place op returns its
input; batch norm and activations return a tensor shaped like their input), which halves
the cost while leaving every counted operator untouched; the tests check that counts are
identical with and without it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode, flop_registry

from bench.errors import InputError
from bench.measure.parallel import imap_unordered
from bench.models.registry import build_model, network_key
from bench.specs import ModelSpec

if TYPE_CHECKING:
    from torch import nn

aten = torch.ops.aten

#: Operators whose outputs are the activations counted (timm infer_macts / pycls acts).
ACTIVATION_OPS = frozenset({aten.convolution, aten._convolution, aten.mm, aten.addmm, aten.bmm, aten.baddbmm})

_BATCH_NORM_EVAL = frozenset(
    {
        aten.native_batch_norm.default,
        aten._native_batch_norm_legit_no_training.default,
    }
)
_SHAPE_PRESERVING = frozenset(
    {
        aten.relu.default,
        aten.relu6.default,
        aten.silu.default,
        aten.sigmoid.default,
        aten.tanh.default,
        aten.hardswish.default,
        aten.hardsigmoid.default,
        aten.gelu.default,
        aten.hardtanh.default,
        aten.elu.default,
        aten.leaky_relu.default,
        aten.mish.default,
    }
)
_COUNTED = frozenset(flop_registry)


def _no_macs(*args: object, **kwargs: object) -> int:
    return 0


setattr(_no_macs, "_get_raw", True)  # noqa: B010 (FlopCounterMode: call with raw arguments, not shapes)
#: Registering the shortcut ops as "zero MACs" stops FlopCounterMode from decomposing them
#: into element-wise prims (which it would then not count anyway).
_ZERO_MAC_OPS = {op: _no_macs for op in _BATCH_NORM_EVAL | _SHAPE_PRESERVING}


@dataclass(frozen=True)
class Complexity:
    """Exact per-image cost of a network at one input size."""

    params: int
    macs: int
    activations: int

    @property
    def flops(self) -> int:
        """FLOPs = 2 x MACs (the paper's "FLOPS" column is MACs)."""
        return 2 * self.macs


class _MetaShortcuts(TorchDispatchMode):
    """Answers shape-only operators on meta tensors directly and counts activations."""

    def __init__(self, ledger: Callable[[torch._ops.OpOverload, object], None] | None = None) -> None:
        super().__init__()
        self.activations = 0
        self.ledger = ledger  # told of every operator and its output (bench.measure.layers: per-layer counts)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = self._answer(func, args, kwargs or {})
        if func.overloadpacket in ACTIVATION_OPS:
            self.activations += out.numel()
        if self.ledger is not None:
            self.ledger(func, out)
        return out

    def _answer(self, func, args, kwargs):
        first = args[0] if args else None
        if isinstance(first, torch.Tensor) and first.is_meta:
            if func in _BATCH_NORM_EVAL:
                empty = first.new_empty((0,))
                return torch.empty_like(first), empty, empty
            if func in _SHAPE_PRESERVING:
                return torch.empty_like(first)
            if _mutates_first_argument(func) and func.overloadpacket not in _COUNTED:
                return first
        return func(*args, **kwargs)


def _mutates_first_argument(func: torch._ops.OpOverload) -> bool:
    arguments = func._schema.arguments
    alias = arguments[0].alias_info if arguments else None
    return alias is not None and alias.is_write


class ModelInputError(InputError):
    """A model whose forward refuses the input it is given (a fixed-size model at another size, say)."""


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def count_module(model: nn.Module, input_shape: tuple[int, ...]) -> Complexity:
    """Count a (meta or real) module for one input of ``input_shape`` = (C, H, W); a forward that fails
    on that input is a ModelInputError (one line)."""
    return run_counted(model, input_shape)[0]


def run_counted(
    model: nn.Module,
    input_shape: tuple[int, ...],
    ledger: Callable[[torch._ops.OpOverload, object], None] | None = None,
) -> tuple[Complexity, FlopCounterMode]:
    """``count_module``'s forward, returning its FlopCounterMode too (its per-module counts) and telling
    ``ledger`` of every operator (bench.measure.layers attributes them to modules)."""
    params = sum(p.numel() for p in model.parameters())
    device = next(model.parameters(), torch.empty(0, device="meta")).device
    x = torch.empty((1, *input_shape), device=device)
    shortcuts = _MetaShortcuts(ledger)
    counter = FlopCounterMode(display=False, custom_mapping=_ZERO_MAC_OPS)
    was_training = model.training
    model.eval()
    try:
        with shortcuts, counter, torch.no_grad():
            model(x)
    except (RuntimeError, AssertionError, ValueError, IndexError, TypeError) as error:
        shape = "x".join(str(n) for n in x.shape)
        raise ModelInputError(f"the model's forward fails on a {shape} input ({first_line(error)})") from None
    finally:
        model.train(was_training)
    return Complexity(params=params, macs=counter.get_total_flops() // 2, activations=shortcuts.activations), counter


def build_meta(spec: ModelSpec) -> nn.Module:
    """``spec`` built on the meta device, as every count builds it (no memory, no weight init)."""
    with _MetaShortcuts():
        return build_model(spec, device="meta")


@contextmanager
def named_input_errors(spec: ModelSpec) -> Iterator[None]:
    """A forward that fails on the input is reported with the variant's name in front."""
    try:
        yield
    except ModelInputError as error:
        raise ModelInputError(f"{spec.name}: {error}") from None


def count_complexity(spec: ModelSpec) -> Complexity:
    """Exact params / MACs / activations of ``spec`` at its input size (meta device)."""
    model = build_meta(spec)
    with named_input_errors(spec):
        return count_module(model, spec.input_shape)


def count_macs_reference(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """MACs from a plain FlopCounterMode, with no shortcuts: the yardstick for ``count_module``."""
    device = next(model.parameters()).device
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(torch.empty((1, *input_shape), device=device))
    return counter.get_total_flops() // 2


def ptflops_macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """MACs by ptflops' ``aten`` backend: an independent implementation to cross-check against."""
    import io

    from ptflops import get_model_complexity_info

    macs, _ = get_model_complexity_info(
        model,
        tuple(input_shape),
        as_strings=False,
        print_per_layer_stat=False,
        backend="aten",
        ost=io.StringIO(),
    )
    return int(macs)


@dataclass(frozen=True)
class Counted:
    """One spec's counts and how long they took (seconds, in the worker that counted)."""

    spec: ModelSpec
    complexity: Complexity
    seconds: float


def count_network_at_sizes(specs: list[ModelSpec]) -> list[Counted]:
    """Count specs that share one network (differing only in input size), building it once."""
    start = time.perf_counter()
    with _MetaShortcuts():
        model = build_model(specs[0], device="meta")
    built = time.perf_counter()
    counted = []
    for spec in specs:
        begin = time.perf_counter()
        try:
            complexity = count_module(model, spec.input_shape)
        except ModelInputError as error:
            raise ModelInputError(f"{spec.name}: {error}") from None
        counted.append(Counted(spec, complexity, time.perf_counter() - begin))
    share = (built - start) / len(specs)
    return [Counted(c.spec, c.complexity, c.seconds + share) for c in counted]


def _cost_hint(specs: list[ModelSpec]) -> float:
    return sum(s.width**2 * s.depth * s.input_size**2 for s in specs)


def count_many(specs: Iterable[ModelSpec], jobs: int = 1) -> Iterator[Counted]:
    """Count many specs, in ``jobs`` worker processes when > 1; yields each as it is counted.

    Each distinct network is built once for all its input sizes; the costliest go first so
    the workers finish together.
    """
    groups: dict[str, list[ModelSpec]] = {}
    for spec in specs:
        groups.setdefault(network_key(spec), []).append(spec)
    ordered = sorted(groups.values(), key=_cost_hint, reverse=True)
    for _, counted in imap_unordered(count_network_at_sizes, ordered, jobs):
        yield from counted
