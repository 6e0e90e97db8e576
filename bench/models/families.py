"""Scalable model families: each base architecture's numbers, and how timm builds a scaled one.

A family knows two things about its bases: the architecture numbers (stem, per-stage
channels and repeats, head) that scaling acts on, as data, and the timm builder that
turns (width, depth) into a network. ``Architecture`` is computed here with the pure
rounding rules of :mod:`bench.scaling.rules`; the tests build every family through timm and
check that the network has exactly these numbers, so the two can never drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench.errors import InputError
from bench.models.timm_builders import build_efficientnet, build_mobilenetv1, build_mobilenetv2, build_resnet
from bench.scaling.rules import round_channels, round_repeats

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class Architecture:
    """The numbers that width and depth scaling change (0 means "no head conv"), and the stride of each
    stage (the first block of a stage strides; ``stem_stride`` is the stem's, a ResNet's max-pool included)."""

    stem: int
    channels: tuple[int, ...]
    repeats: tuple[int, ...]
    head: int
    stem_stride: int = 2
    strides: tuple[int, ...] = ()

    @property
    def blocks(self) -> int:
        return sum(self.repeats)

    @property
    def total_stride(self) -> int:
        """Input size over the last stage's map size (for sizes the strides divide)."""
        return self.stem_stride * math.prod(self.strides)

    def stage_maps(self, input_size: int) -> tuple[int, ...]:
        """The map size after each stage at ``input_size``: every stride-2 layer here pads so that its
        output is ceil(input / 2) (3x3, 5x5 and 7x7 convolutions and 3x3 max-pools with "same" padding)."""
        size = input_size
        for _ in range(self.stem_stride.bit_length() - 1):
            size = -(-size // 2)
        maps = []
        for stride in self.strides:
            size = -(-size // stride)
            maps.append(size)
        return tuple(maps)


@dataclass(frozen=True)
class BaseArchitecture:
    """An unscaled architecture and the family's rules for scaling its stem and head."""

    stem: int
    channels: tuple[int, ...]
    repeats: tuple[int, ...]
    head: int
    scale_stem: bool = True
    head_floor: bool = False  # head width never drops below its base width (MobileNetV2)
    head_from_last_stage: int = 0  # head = last stage channels * this (ResNet expansion)
    block: str = ""
    stem_stride: int = 2
    strides: tuple[int, ...] = ()

    @property
    def total_stride(self) -> int:
        """The family's own total stride (32 for every base here)."""
        return self.stem_stride * math.prod(self.strides)

    def total_strides(self) -> tuple[int, ...]:
        """Every total stride this base can be built with, largest first: its own, then with its last
        stride-2 stages set to stride 1 one by one (down to the stem's)."""
        halvings = sum(1 for s in self.strides if s == 2)
        return tuple(self.total_stride >> k for k in range(halvings + 1))

    def strides_for(self, total_stride: int | None) -> tuple[int, ...]:
        """The stage strides that give ``total_stride`` (None: the base's own): the last stride-2
        stages run at stride 1, with fewer strides rather than dilation, so late stages see larger maps."""
        if total_stride is None or total_stride == self.total_stride:
            return self.strides
        if total_stride not in self.total_strides():
            allowed = ", ".join(map(str, self.total_strides()))
            raise InputError(f"total stride {total_stride} is not one this network can be built with ({allowed})")
        strides, excess = list(self.strides), self.total_stride // total_stride
        for i in reversed(range(len(strides))):
            if excess > 1 and strides[i] == 2:
                strides[i], excess = 1, excess // 2
        return tuple(strides)

    def scaled(self, width: float, depth: float, total_stride: int | None = None) -> Architecture:
        """Architecture numbers at (width, depth) and a total stride (rules: ``bench.scaling.rules``)."""
        channels = tuple(round_channels(c, width) for c in self.channels)
        if self.head_from_last_stage:
            head = channels[-1] * self.head_from_last_stage
        elif self.head == 0:
            head = 0
        else:
            head = round_channels(self.head, width)
            head = max(self.head, head) if self.head_floor else head
        return Architecture(
            stem=round_channels(self.stem, width) if self.scale_stem else self.stem,
            channels=channels,
            repeats=tuple(round_repeats(r, depth) for r in self.repeats),
            head=head,
            stem_stride=self.stem_stride,
            strides=self.strides_for(total_stride),
        )


Builder = Callable[[str, BaseArchitecture, float, float, dict], "nn.Module"]
#: The stage modules of a built network, in forward order (the first block of each strides).
Stages = Callable[["nn.Module"], list["nn.Module"]]


@dataclass(frozen=True)
class Family:
    """A scalable family: its bases (timm names), one timm builder for all of them, and where a built
    network's stages are (to set their strides)."""

    name: str
    bases: dict[str, BaseArchitecture]
    build: Builder = field(repr=False)
    stages: Stages = field(repr=False)
    base_resolution: int = 224
    note: str = ""

    def build_scaled(self, base: str, width: float, depth: float, total_stride: int | None, kwargs: dict) -> nn.Module:
        """The network of ``base`` at (width, depth), its stage strides set for ``total_stride``."""
        arch = self.bases[base]
        model = self.build(base, arch, width, depth, kwargs)
        wanted = arch.strides_for(total_stride)
        if wanted != arch.strides:
            set_stage_strides(self.stages(model), arch.strides, wanted)
        return model


def set_stage_strides(stages: list[nn.Module], own: tuple[int, ...], wanted: tuple[int, ...]) -> None:
    """Set each stage whose own stride is 2 and wanted stride 1 to stride 1: every stride-2 convolution of its
    first block (the depthwise or 3x3 convolution and a ResNet's 1x1 shortcut). Their padding is symmetric
    and the same at both strides, so the stage keeps its input's map size; no dilation is added."""
    from torch import nn

    if len(stages) != len(own):
        raise ValueError(f"expected {len(own)} stages, found {len(stages)}")
    for stage, before, after in zip(stages, own, wanted):
        if before == after:
            continue
        first = next(iter(stage.children()))
        convs = [m for m in first.modules() if isinstance(m, nn.Conv2d) and m.stride == (2, 2)]
        if not convs:
            raise ValueError(f"stage {type(first).__name__} has no stride-2 convolution to set to stride 1")
        for conv in convs:
            conv.stride = (1, 1)


def _effnet_stages(model: nn.Module) -> list[nn.Module]:
    return list(model.blocks.children())  # type: ignore[union-attr]  # timm EfficientNet: blocks is a Sequential


def _resnet_stages(model: nn.Module) -> list[nn.Module]:
    return [getattr(model, f"layer{i}") for i in range(1, 5)]


_EFFICIENTNET_B0 = BaseArchitecture(
    stem=32,
    channels=(16, 24, 40, 80, 112, 192, 320),
    repeats=(1, 2, 2, 3, 3, 4, 1),
    head=1280,
    strides=(1, 2, 2, 2, 1, 2, 1),
)
_MOBILENETV2 = BaseArchitecture(
    stem=32,
    channels=(16, 24, 32, 64, 96, 160, 320),
    repeats=(1, 2, 3, 4, 3, 3, 1),
    head=1280,
    head_floor=True,
    strides=(1, 2, 2, 2, 1, 2, 1),
)
_MOBILENETV1 = BaseArchitecture(
    stem=32, channels=(64, 128, 256, 512, 1024), repeats=(1, 2, 2, 6, 2), head=0, strides=(1, 2, 2, 2, 2)
)


def _resnet(block: str, layers: tuple[int, ...]) -> BaseArchitecture:
    expansion = 4 if block == "Bottleneck" else 1
    return BaseArchitecture(
        stem=64,
        channels=(64, 128, 256, 512),
        repeats=layers,
        head=0,
        scale_stem=False,
        head_from_last_stage=expansion,
        block=block,
        stem_stride=4,  # the 7x7 stride-2 convolution, then a stride-2 max-pool
        strides=(1, 2, 2, 2),
    )


FAMILIES: dict[str, Family] = {
    "efficientnet": Family(
        "efficientnet",
        {"efficientnet_b0": _EFFICIENTNET_B0},
        build_efficientnet,
        _effnet_stages,
        note="timm _gen_efficientnet(channel_multiplier=w, depth_multiplier=d); stem, stages and head scaled",
    ),
    "mobilenetv2": Family(
        "mobilenetv2",
        {"mobilenetv2_100": _MOBILENETV2},
        build_mobilenetv2,
        _effnet_stages,
        note="timm _gen_mobilenet_v2; head conv never narrower than 1280 (as in the MobileNetV2 paper)",
    ),
    "mobilenetv1": Family(
        "mobilenetv1",
        {"mobilenetv1_100": _MOBILENETV1},
        build_mobilenetv1,
        _effnet_stages,
        note="timm _gen_mobilenet_v1; no head conv, the classifier reads the last stage",
    ),
    "resnet": Family(
        "resnet",
        {
            "resnet18": _resnet("BasicBlock", (2, 2, 2, 2)),
            "resnet34": _resnet("BasicBlock", (3, 4, 6, 3)),
            "resnet50": _resnet("Bottleneck", (3, 4, 6, 3)),
            "resnet101": _resnet("Bottleneck", (3, 4, 23, 3)),
            "resnet152": _resnet("Bottleneck", (3, 8, 36, 3)),
        },
        build_resnet,
        _resnet_stages,
        note="timm ResNet(layers=ceil(d*layers), channels=round8(w*channels)); the 7x7 stem stays 64 wide "
        "because timm's plain ResNet stem has no width parameter",
    ),
}


def scalable_family(base: str) -> Family:
    """The family of a scalable base; ValueError for any other name."""
    family = family_of_base(base)
    if family is None:
        raise InputError(f"{base} is not a scalable base")
    return family


def family_of_base(base: str) -> Family | None:
    """The family whose scalable bases include ``base``, if any."""
    for family in FAMILIES.values():
        if base in family.bases:
            return family
    return None
