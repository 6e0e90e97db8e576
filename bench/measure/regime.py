"""Where a network's work happens: the map size of each stage and the share of MACs on 1x1 maps.

A proxy task's small images can leave a network's late stages on 1x1 maps, where a k x k convolution
only ever multiplies its centre tap and a block adds no receptive field; resolution then costs far less
than r^2. These are exact counts (meta device, like :mod:`bench.measure.complexity`), so a study can show which
regime its models train in: ``regime(spec)`` gives the total stride, each stage's map, the final map,
the share of MACs computed on 1x1 maps and the measured cost exponent of resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bench.models.families import FAMILIES
from bench.models.registry import build_model
from bench.specs import ModelSpec

if TYPE_CHECKING:
    import torch
    from torch import nn

#: The resolution factor whose cost the exponent is measured at: MACs at twice the input size.
R_COST_FACTOR = 2


@dataclass(frozen=True)
class LayerMacs:
    """One convolution or linear layer: its output map (side, 0 for a linear layer) and its MACs per image."""

    name: str
    out_map: int
    macs: int


@dataclass(frozen=True)
class Regime:
    """The geometry a model runs at (see module docstring); ``stage_maps`` is empty for non-family models."""

    total_stride: int | None
    input_size: int
    stage_maps: tuple[int, ...]
    final_map: int
    macs: int
    macs_share_1x1: float
    r_cost_exponent: float

    def as_row(self) -> dict:
        return {
            "total_stride": self.total_stride,
            "input_size": self.input_size,
            "stage_maps": " ".join(map(str, self.stage_maps)),
            "final_map": self.final_map,
            "macs": self.macs,
            "macs_share_1x1": self.macs_share_1x1,
            "r_cost_exponent": self.r_cost_exponent,
        }


def layer_macs(model: nn.Module, input_shape: tuple[int, ...]) -> tuple[list[LayerMacs], list[int]]:
    """Every Conv2d and Linear layer's MACs and output map for one input (forward order), and the map side
    after each of the family's stages where ``model`` is a family network (else empty)."""
    import torch
    from torch import nn

    layers: list[LayerMacs] = []
    names = {module: name for name, module in model.named_modules()}

    def conv_hook(module: nn.Conv2d, _: object, out: torch.Tensor) -> None:
        kernel = math.prod(module.kernel_size) * module.in_channels // module.groups
        layers.append(LayerMacs(names[module], out.shape[-1], out[0].numel() * kernel))

    def linear_hook(module: nn.Linear, _: object, out: torch.Tensor) -> None:
        layers.append(LayerMacs(names[module], 0, out[0].numel() * module.in_features))

    hooks = [
        m.register_forward_hook(conv_hook if isinstance(m, nn.Conv2d) else linear_hook)
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    maps: list[int] = []
    stages = _stages(model)
    hooks += [stage.register_forward_hook(lambda _m, _i, out: maps.append(out.shape[-1])) for stage in stages]
    device = next(model.parameters()).device
    try:
        with torch.no_grad():
            model.eval()(torch.empty((1, *input_shape), device=device))
    finally:
        for hook in hooks:
            hook.remove()
    return layers, maps


def _stages(model: nn.Module) -> list[nn.Module]:
    for family in FAMILIES.values():
        try:
            stages = family.stages(model)
        except AttributeError:
            continue
        if len(stages) == len(next(iter(family.bases.values())).strides):
            return stages
    return []


def regime(spec: ModelSpec) -> Regime:
    """The regime of ``spec`` at its input size (built once on the meta device)."""
    model = build_model(spec, device="meta")
    layers, maps = layer_macs(model, spec.input_shape)
    doubled, _ = layer_macs(model, replace(spec, input_size=spec.input_size * R_COST_FACTOR).input_shape)
    macs = sum(layer.macs for layer in layers)
    convs = [layer for layer in layers if layer.out_map]
    return Regime(
        total_stride=spec.total_stride if spec.family in FAMILIES else None,
        input_size=spec.input_size,
        stage_maps=tuple(maps),
        final_map=convs[-1].out_map if convs else 0,
        macs=macs,
        macs_share_1x1=sum(layer.macs for layer in convs if layer.out_map == 1) / macs if macs else 0.0,
        r_cost_exponent=math.log(sum(layer.macs for layer in doubled) / macs) / math.log(R_COST_FACTOR),
    )
