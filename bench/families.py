"""Scalable model families: each base architecture's numbers, and how timm builds a scaled one.

A family knows two things about its bases: the architecture numbers (stem, per-stage
channels and repeats, head) that scaling acts on, as data, and the timm builder that
turns (width, depth) into a network. ``Architecture`` is computed here with the pure
rounding rules of :mod:`bench.scaling`; the tests build every family through timm and
check that the network has exactly these numbers, so the two can never drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench.scaling import round_channels, round_repeats

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class Architecture:
    """The numbers that width and depth scaling change (0 means "no head conv")."""

    stem: int
    channels: tuple[int, ...]
    repeats: tuple[int, ...]
    head: int

    @property
    def blocks(self) -> int:
        return sum(self.repeats)


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

    def scaled(self, width: float, depth: float) -> Architecture:
        """Architecture numbers at (width, depth), rounded by the rules in ``bench.scaling``."""
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
        )


Builder = Callable[[str, BaseArchitecture, float, float, dict], "nn.Module"]


@dataclass(frozen=True)
class Family:
    """A scalable family: its bases (timm names) and one timm builder for all of them."""

    name: str
    bases: dict[str, BaseArchitecture]
    build: Builder = field(repr=False)
    base_resolution: int = 224
    note: str = ""


def _build_efficientnet(base: str, arch: BaseArchitecture, width: float, depth: float, kwargs: dict) -> nn.Module:
    from timm.models.efficientnet import _gen_efficientnet

    return _gen_efficientnet(base, channel_multiplier=width, depth_multiplier=depth, pretrained=False, **kwargs)


def _build_mobilenetv2(base: str, arch: BaseArchitecture, width: float, depth: float, kwargs: dict) -> nn.Module:
    from timm.models.efficientnet import _gen_mobilenet_v2

    return _gen_mobilenet_v2(base, channel_multiplier=width, depth_multiplier=depth, pretrained=False, **kwargs)


def _build_mobilenetv1(base: str, arch: BaseArchitecture, width: float, depth: float, kwargs: dict) -> nn.Module:
    from timm.models.efficientnet import _gen_mobilenet_v1

    return _gen_mobilenet_v1(base, channel_multiplier=width, depth_multiplier=depth, pretrained=False, **kwargs)


def _build_resnet(base: str, arch: BaseArchitecture, width: float, depth: float, kwargs: dict) -> nn.Module:
    from timm.models import resnet as timm_resnet

    scaled = arch.scaled(width, depth)
    block = getattr(timm_resnet, arch.block)
    return timm_resnet._create_resnet(
        base, pretrained=False, block=block, layers=scaled.repeats, channels=scaled.channels, **kwargs
    )


_EFFICIENTNET_B0 = BaseArchitecture(
    stem=32, channels=(16, 24, 40, 80, 112, 192, 320), repeats=(1, 2, 2, 3, 3, 4, 1), head=1280
)
_MOBILENETV2 = BaseArchitecture(
    stem=32, channels=(16, 24, 32, 64, 96, 160, 320), repeats=(1, 2, 3, 4, 3, 3, 1), head=1280, head_floor=True
)
_MOBILENETV1 = BaseArchitecture(stem=32, channels=(64, 128, 256, 512, 1024), repeats=(1, 2, 2, 6, 2), head=0)


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
    )


FAMILIES: dict[str, Family] = {
    "efficientnet": Family(
        "efficientnet",
        {"efficientnet_b0": _EFFICIENTNET_B0},
        _build_efficientnet,
        note="timm _gen_efficientnet(channel_multiplier=w, depth_multiplier=d); stem, stages and head scaled",
    ),
    "mobilenetv2": Family(
        "mobilenetv2",
        {"mobilenetv2_100": _MOBILENETV2},
        _build_mobilenetv2,
        note="timm _gen_mobilenet_v2; head conv never narrower than 1280 (as in the MobileNetV2 paper)",
    ),
    "mobilenetv1": Family(
        "mobilenetv1",
        {"mobilenetv1_100": _MOBILENETV1},
        _build_mobilenetv1,
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
        _build_resnet,
        note="timm ResNet(layers=ceil(d*layers), channels=round8(w*channels)); the 7x7 stem stays 64 wide "
        "because timm's plain ResNet stem has no width parameter",
    ),
}


def scalable_family(base: str) -> Family:
    """The family of a scalable base; ValueError for any other name."""
    family = family_of_base(base)
    if family is None:
        raise ValueError(f"{base} is not a scalable base")
    return family


def family_of_base(base: str) -> Family | None:
    """The family whose scalable bases include ``base``, if any."""
    for family in FAMILIES.values():
        if base in family.bases:
            return family
    return None
