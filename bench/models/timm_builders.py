"""The one place timm's private builders are called.

The scalable families are built by timm's own code, with the width and depth multipliers its public
model names fix: ``_gen_efficientnet``, ``_gen_mobilenet_v2``, ``_gen_mobilenet_v1`` (timm.models.efficientnet)
and ``_create_resnet`` (timm.models.resnet). They are private, so timm may change them in any release:
``PRIVATE_API`` names each with the keyword arguments passed here, and a test checks them against the
installed timm (as well as the exact counts of the networks they build, against checked-in references).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

    from bench.models.families import BaseArchitecture

#: (timm module, private function) -> the keyword arguments this module passes it.
PRIVATE_API: dict[tuple[str, str], tuple[str, ...]] = {
    ("timm.models.efficientnet", "_gen_efficientnet"): ("channel_multiplier", "depth_multiplier", "pretrained"),
    ("timm.models.efficientnet", "_gen_mobilenet_v2"): ("channel_multiplier", "depth_multiplier", "pretrained"),
    ("timm.models.efficientnet", "_gen_mobilenet_v1"): ("channel_multiplier", "depth_multiplier", "pretrained"),
    ("timm.models.resnet", "_create_resnet"): ("pretrained",),  # block, layers, channels go to ResNet(**kwargs)
}


def build_efficientnet(base: str, arch: BaseArchitecture, width: float, depth: float, kwargs: dict) -> nn.Module:
    from timm.models.efficientnet import _gen_efficientnet

    return _gen_efficientnet(base, channel_multiplier=width, depth_multiplier=depth, pretrained=False, **kwargs)


def build_mobilenetv2(base: str, arch: BaseArchitecture, width: float, depth: float, kwargs: dict) -> nn.Module:
    from timm.models.efficientnet import _gen_mobilenet_v2

    return _gen_mobilenet_v2(base, channel_multiplier=width, depth_multiplier=depth, pretrained=False, **kwargs)


def build_mobilenetv1(base: str, arch: BaseArchitecture, width: float, depth: float, kwargs: dict) -> nn.Module:
    from timm.models.efficientnet import _gen_mobilenet_v1

    return _gen_mobilenet_v1(base, channel_multiplier=width, depth_multiplier=depth, pretrained=False, **kwargs)


def build_resnet(base: str, arch: BaseArchitecture, width: float, depth: float, kwargs: dict) -> nn.Module:
    from timm.models import resnet as timm_resnet

    scaled = arch.scaled(width, depth)
    block = getattr(timm_resnet, arch.block)
    return timm_resnet._create_resnet(
        base, pretrained=False, block=block, layers=scaled.repeats, channels=scaled.channels, **kwargs
    )
