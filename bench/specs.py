"""The one description of a model variant that every stage of the pipe passes along."""

from __future__ import annotations

import math
from dataclasses import dataclass

#: How a variant was derived from its base model.
#: ``baseline``: the base unchanged; ``preset``: a published variant (EfficientNet-B1..B7);
#: ``width`` / ``depth`` / ``resolution``: one dimension scaled; ``compound``: several at once;
#: ``timm``: a timm model as timm builds it, which may be scaled by coefficients of its own
#: (efficientnet_b8, mobilenetv2_140): its rows leave width, depth and resolution blank;
#: ``user``: a researcher's own ``package.module:function``, built as its code says.
METHODS = ("baseline", "preset", "width", "depth", "resolution", "compound", "timm", "user")
SINGLE_DIMENSION_METHODS = ("width", "depth", "resolution")


@dataclass(frozen=True)
class InputSpec:
    """What networks are fed: the size r = 1 stands for, the pixel grid sizes snap to, channels, classes.

    ``base_resolution=None`` keeps each model's own (224 for the scalable families, the published
    size for presets, timm's default otherwise); a proxy task sets it (e.g. 32 for Fashion-MNIST).
    """

    base_resolution: int | None = None
    resolution_divisor: int = 4
    in_chans: int = 3
    num_classes: int = 1000

    def __post_init__(self) -> None:
        if (self.base_resolution is not None and self.base_resolution < 1) or self.resolution_divisor < 1:
            raise ValueError("base_resolution and resolution_divisor must be >= 1")
        if self.in_chans < 1 or self.num_classes < 1:
            raise ValueError("in_chans and num_classes must be >= 1")


IMAGENET = InputSpec()


@dataclass(frozen=True)
class ModelSpec:
    """A concrete, buildable model: base architecture, scaling coefficients and input.

    ``resolution`` is the coefficient r (input size / the family's base size); ``input_size``
    is the pixel size actually fed to the model (r rounded by ``scaling.round_resolution``,
    or the published size for presets).
    """

    name: str
    base: str
    family: str
    method: str
    width: float = 1.0
    depth: float = 1.0
    resolution: float = 1.0
    input_size: int = 224
    phi: float | None = None
    in_chans: int = 3
    num_classes: int = 1000
    #: A user model's ``reference@digest`` (bench.user_models), None for everything else.
    source: str | None = None
    #: Keyword arguments for a user model's function, sorted (name, scalar) pairs.
    model_args: tuple[tuple[str, bool | int | float | str], ...] = ()

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown scaling method {self.method!r}; expected one of {METHODS}")
        for field_name in ("width", "depth", "resolution"):
            value = getattr(self, field_name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{field_name} must be a positive number, got {value!r}")
        for field_name in ("input_size", "in_chans", "num_classes"):
            if getattr(self, field_name) < 1:
                raise ValueError(f"{field_name} must be >= 1, got {getattr(self, field_name)!r}")

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of one input image."""
        return (self.in_chans, self.input_size, self.input_size)
