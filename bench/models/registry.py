"""The model registry: a name (or a name plus scaling coefficients) to a ModelSpec to a network.

Names are timm names everywhere. Three kinds exist:

* scalable bases (``efficientnet_b0``, ``resnet18/34/50/101/152``, ``mobilenetv1_100``,
  ``mobilenetv2_100``): accept width / depth / resolution / compound scaling;
* EfficientNet presets ``efficientnet_b1``..``b7``: the paper's published (w, d, size),
  built by scaling B0, identical to timm's models of the same name;
* any other timm model: built as timm defines it, at its default input size;
* a researcher's own ``package.module:function`` (bench.models.user): built as its code says,
  at the input size given (224 by default), with ``model_args`` passed to the function.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from bench.errors import InputError
from bench.models.families import FAMILIES, Architecture, Family, family_of_base, scalable_family
from bench.models.user import FAMILY as USER_FAMILY
from bench.models.user import UserModelError, check_args, is_reference, own_defaults, resolve
from bench.scaling.rules import PAPER_COEFFICIENTS, CompoundCoefficients, check_scale, compound, round_resolution
from bench.specs import IMAGENET, InputSpec, ModelSpec

if TYPE_CHECKING:
    import torch
    from torch import nn

TIMM_FAMILY = "timm"


class UnknownModelError(InputError):
    """A model name that neither timm nor the presets know."""


class NotScalableError(InputError):
    """Scaling coefficients given for a model that has no scalable family."""


@dataclass(frozen=True)
class Preset:
    """A published variant: fixed (w, d) and input size, scaled from a family base."""

    name: str
    base: str
    width: float
    depth: float
    input_size: int


def not_scalable(model: str) -> str:
    """Why ``model`` cannot be scaled or solved, with the base to use where it is a preset."""
    preset = presets().get(model)
    hint = f"; it is a preset of {preset.base}: scale {preset.base} instead" if preset is not None else ""
    return f"{model} is not a scalable base{hint}"


@lru_cache(maxsize=1)
def presets() -> dict[str, Preset]:
    """EfficientNet B0..B7 as published (bench/reference/efficientnet_presets.csv)."""
    text = resources.files("bench.reference").joinpath("efficientnet_presets.csv").read_text()
    rows = csv.DictReader(text.splitlines())
    return {
        row["model"]: Preset(
            row["model"],
            "efficientnet_b0",
            float(row["width"]),
            float(row["depth"]),
            int(row["input_size"]),
        )
        for row in rows
    }


def scalable_bases() -> dict[str, Family]:
    """Every scalable base name and its family."""
    return {base: family for family in FAMILIES.values() for base in family.bases}


@lru_cache(maxsize=1)
def _timm_names() -> frozenset[str]:
    import timm

    return frozenset(timm.list_models())


def known_names() -> list[str]:
    """All names a suite may use (presets, scalable bases, every timm model)."""
    return sorted(set(presets()) | set(scalable_bases()) | _timm_names())


def check_name(name: str) -> None:
    """Raise UnknownModelError with a did-you-mean when ``name`` is not a known model (a user model
    reference must import and name a callable; its error is a UserModelError)."""
    if is_reference(name):
        resolve(name)
        return
    if name in presets() or name in scalable_bases() or name in _timm_names():
        return
    close = difflib.get_close_matches(name, known_names(), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownModelError(f"unknown model {name!r}{hint}")


def default_input_size(name: str) -> int:
    """The input size a name is evaluated at by default: published size, family base, timm's cfg, or
    224 for a user model."""
    if is_reference(name):
        return 224
    if name in presets():
        return presets()[name].input_size
    family = family_of_base(name)
    if family is not None:
        return family.base_resolution
    import timm

    cfg = timm.models.get_pretrained_cfg(name)
    return int(cfg.input_size[-1]) if cfg is not None else 224


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def make_spec(
    model: str,
    *,
    width: float | None = None,
    depth: float | None = None,
    resolution: float | None = None,
    phi: float | None = None,
    coefficients: CompoundCoefficients = PAPER_COEFFICIENTS,
    input_size: int | None = None,
    name: str | None = None,
    inputs: InputSpec = IMAGENET,
    model_args: dict[str, object] | None = None,
) -> ModelSpec:
    """The ModelSpec for ``model`` scaled by the given coefficients (none given: unscaled).

    ``phi`` means compound scaling (d, w, r = alpha^phi, beta^phi, gamma^phi); otherwise the
    method follows from which of width / depth / resolution are given. ``inputs`` says what
    r = 1 means and how sizes round (see InputSpec). ``model_args`` are for a user model's function.
    """
    check_name(model)
    check_scale(width=width, depth=depth, resolution=resolution, phi=phi, input_size=input_size)
    scaled = any(v is not None for v in (width, depth, resolution, phi))
    if is_reference(model):
        if scaled or inputs.total_stride is not None:
            what = "takes no total stride" if not scaled else "is measured as built"
            raise NotScalableError(f"{model} is your own model: it {what}; change it through its model_args")
        return _user_spec(model, name, input_size, inputs, model_args or {})
    if model_args:
        raise UserModelError(f"model_args are for your own package.module:function models, not {model}")
    if model in presets() and presets()[model].base != model:
        if scaled:
            base = presets()[model].base
            raise NotScalableError(f"{model} is a preset of {base}; scale {base} instead")
        return _preset_spec(presets()[model], name, input_size, inputs)
    family = family_of_base(model)
    if family is None:
        if scaled or inputs.total_stride is not None:
            what = "total stride" if not scaled else "scaling"
            raise NotScalableError(
                f"{model} has no scalable family, so it takes no {what}; "
                f"scalable bases are {', '.join(sorted(scalable_bases()))}"
            )
        size = input_size or inputs.base_resolution or default_input_size(model)
        label = name or (model if input_size is None else f"{model}@{size}")
        return ModelSpec(
            label,
            model,
            TIMM_FAMILY,
            "timm",
            input_size=size,
            in_chans=inputs.in_chans,
            num_classes=inputs.num_classes,
        )
    return _scaled_spec(
        model,
        family,
        width=width,
        depth=depth,
        resolution=resolution,
        phi=phi,
        coefficients=coefficients,
        input_size=input_size,
        name=name,
        inputs=inputs,
    )


def _user_spec(
    reference: str, name: str | None, input_size: int | None, inputs: InputSpec, model_args: dict[str, object]
) -> ModelSpec:
    args = check_args(model_args)
    size = input_size or inputs.base_resolution or default_input_size(reference)
    function = reference.split(":")[1]
    label = "-".join([function, *(f"{k}{v}" for k, v in args)]) + ("" if input_size is None else f"@{size}")
    # No dataset imposes classes or channels (ImageNet's defaults): the model keeps its own defaults,
    # and model_args that set them win either way; the spec says what the model is built with.
    own = {**(own_defaults(reference) if inputs == IMAGENET else {}), **dict(args)}
    in_chans, num_classes = own.get("in_chans", inputs.in_chans), own.get("num_classes", inputs.num_classes)
    return ModelSpec(
        name or label,
        reference,
        USER_FAMILY,
        "user",
        input_size=size,
        in_chans=in_chans if isinstance(in_chans, int) else inputs.in_chans,
        num_classes=num_classes if isinstance(num_classes, int) else inputs.num_classes,
        source=resolve(reference).source,
        model_args=args,
    )


def _preset_spec(preset: Preset, name: str | None, input_size: int | None, inputs: InputSpec) -> ModelSpec:
    family = scalable_family(preset.base)
    base = inputs.base_resolution or family.base_resolution
    published_r = preset.input_size / family.base_resolution
    size = input_size or (
        preset.input_size
        if inputs.base_resolution is None
        else round_resolution(base, published_r, inputs.resolution_divisor)
    )
    stride = _total_stride(family, preset.base, inputs)
    label = (preset.name if input_size is None else f"{preset.name}@{size}") + _stride_suffix(
        family, preset.base, stride
    )
    return ModelSpec(
        name or label,
        preset.base,
        family.name,
        "preset",
        width=preset.width,
        depth=preset.depth,
        resolution=size / base,
        input_size=size,
        in_chans=inputs.in_chans,
        num_classes=inputs.num_classes,
        total_stride=stride,
    )


def _total_stride(family: Family, base: str, inputs: InputSpec) -> int:
    """The total stride a family model is built with: the inputs' (checked against what the base allows) or
    the base's own."""
    arch = family.bases[base]
    arch.strides_for(inputs.total_stride)  # ValueError naming the strides allowed
    return inputs.total_stride or arch.total_stride


def _stride_suffix(family: Family, base: str, stride: int) -> str:
    """``-stride8`` in the name of a network built with fewer strides than its family's own; nothing otherwise."""
    return "" if stride == family.bases[base].total_stride else f"-stride{stride}"


def _scaled_spec(
    model: str,
    family: Family,
    *,
    width: float | None,
    depth: float | None,
    resolution: float | None,
    phi: float | None,
    coefficients: CompoundCoefficients,
    input_size: int | None,
    name: str | None,
    inputs: InputSpec,
) -> ModelSpec:
    """A scaled family model. Its method and name follow from which coefficients differ from 1, an
    explicit input size included (as r = size / base): one dimension is that dimension, more than
    one (or phi) is ``compound``."""
    if phi is not None:
        if any(v is not None for v in (width, depth, resolution)):
            raise InputError("give either phi or explicit width/depth/resolution, not both")
        if input_size is not None:
            raise InputError(
                "phi sets the input size (the base's size times gamma^phi), so an input size cannot be given "
                "with it; for another size, give the width and depth coefficients with the input size"
            )
        point = compound(phi, coefficients)
        width, depth, resolution = point.width, point.depth, point.resolution
    if resolution is not None and input_size is not None:
        raise InputError("give either a resolution coefficient or an input_size, not both")
    base = inputs.base_resolution or family.base_resolution
    if input_size is not None:
        resolution = input_size / base
    size = input_size or round_resolution(base, resolution or 1.0, inputs.resolution_divisor)
    w, d, r = width or 1.0, depth or 1.0, resolution or 1.0
    check_scale(width=w, depth=d, input_size=size)  # what phi or r came to, before anything is built
    differing = [dim for dim, v in (("width", w), ("depth", d), ("resolution", r)) if abs(v - 1.0) > 1e-9]
    method = "compound" if phi is not None or len(differing) > 1 else (differing[0] if differing else "baseline")
    stride = _total_stride(family, model, inputs)
    # an explicit input size is named as a size (``resnet18@64``), not as the ratio it comes to (``-r0.2857``)
    by_size = input_size is not None and "resolution" in differing
    named = [dim for dim in differing if not (by_size and dim == "resolution")]
    label = name or (
        _variant_name(model, named, w, d, r, phi, coefficients)
        + _stride_suffix(family, model, stride)
        + (f"@{size}" if by_size else "")
    )
    return ModelSpec(
        label,
        model,
        family.name,
        method,
        width=w,
        depth=d,
        resolution=r,
        input_size=size,
        phi=phi,
        in_chans=inputs.in_chans,
        num_classes=inputs.num_classes,
        total_stride=stride,
    )


def _variant_name(
    model: str,
    differing: list[str],
    w: float,
    d: float,
    r: float,
    phi: float | None,
    coefficients: CompoundCoefficients,
) -> str:
    """``model`` with every coefficient that differs from 1 (``-w2-r1.429``), or its phi."""
    if phi is not None:
        suffix = f"phi{_fmt(phi)}"
        if coefficients != PAPER_COEFFICIENTS:
            c = coefficients
            suffix += f"-a{_fmt(c.alpha)}-b{_fmt(c.beta)}-g{_fmt(c.gamma)}"
        return f"{model}-{suffix}"
    values = {"width": ("w", w), "depth": ("d", d), "resolution": ("r", r)}
    return "-".join([model, *(f"{values[dim][0]}{_fmt(values[dim][1])}" for dim in differing)])


def described_method(spec: ModelSpec) -> str:
    """The method as ``bench count`` and ``bench.count`` say it: several dimensions scaled by hand, without
    phi, are named by those dimensions (``width+resolution``), not "compound" (the results store's
    ``method`` column keeps "compound" for them, as its stored rows have it)."""
    if spec.method != "compound" or spec.phi is not None:
        return spec.method
    values = (("width", spec.width), ("depth", spec.depth), ("resolution", spec.resolution))
    return "+".join(dim for dim, value in values if abs(value - 1.0) > 1e-9)


def architecture(spec: ModelSpec) -> Architecture | None:
    """The scaled architecture numbers of a family model (None for plain timm and user models)."""
    if spec.family in (TIMM_FAMILY, USER_FAMILY):
        return None
    return FAMILIES[spec.family].bases[spec.base].scaled(spec.width, spec.depth, spec.total_stride)


def _hash(payload: dict) -> str:
    return hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _resized(spec: ModelSpec) -> bool:
    """A timm model built for one input size (``fixed_input_size``: ViTs, Swin, ...) asked for another."""
    if spec.family != TIMM_FAMILY:
        return False
    import timm

    cfg = timm.models.get_pretrained_cfg(spec.base)
    return bool(cfg is not None and cfg.fixed_input_size and spec.input_size != int(cfg.input_size[-1]))


def _network(spec: ModelSpec) -> dict:
    arch = architecture(spec)
    own_strides = arch is None or arch.strides == FAMILIES[spec.family].bases[spec.base].strides
    return {
        "family": spec.family,
        "base": spec.base,
        "arch": None if arch is None else [arch.stem, arch.channels, arch.repeats, arch.head],
        # a network with fewer strides is another network; the family's own strides leave every key as it was
        **({} if own_strides or arch is None else {"strides": list(arch.strides)}),
        "in_chans": spec.in_chans,
        "num_classes": spec.num_classes,
        **({"source": spec.source, "args": [list(a) for a in spec.model_args]} if spec.family == USER_FAMILY else {}),
        **({"img_size": spec.input_size} if _resized(spec) else {}),  # built for its size: another network
    }


def network_key(spec: ModelSpec) -> str:
    """A short stable hash of the built network alone (resolution variants of one network share it)."""
    return _hash(_network(spec))


def workload_key(spec: ModelSpec, **conditions: object) -> str:
    """A short stable hash of what determines a measurement: the built network, its input, conditions.

    Two specs that round to the same architecture (w=1.40 and w=1.41, say) share a key.
    """
    return _hash({**_network(spec), "input": list(spec.input_shape), **{k: conditions[k] for k in sorted(conditions)}})


def _build(spec: ModelSpec, kwargs: dict) -> nn.Module:
    if spec.family == USER_FAMILY:
        from bench.models.user import build

        return build(spec.base, spec.model_args, {k: v for k, v in kwargs.items() if k != "device"})
    if spec.family == TIMM_FAMILY:
        import timm

        if _resized(spec):  # a ViT-like model at another size: timm builds it for that size (img_size)
            kwargs = {**kwargs, "img_size": spec.input_size}
        return timm.create_model(spec.base, pretrained=False, **kwargs)
    return FAMILIES[spec.family].build_scaled(spec.base, spec.width, spec.depth, spec.total_stride, kwargs)


def _all_on(model: nn.Module, device: torch.device) -> bool:
    return all(t.device == device for t in (*model.parameters(), *model.buffers()))


def build_model(spec: ModelSpec, device: str | torch.device | None = None, **regularization: float) -> nn.Module:
    """Build the network of ``spec`` without pretrained weights, in eval mode.

    With ``device='meta'`` no memory is allocated: enough for counting parameters and MACs.
    timm builders take ``device=`` directly (cheaper than a ``torch.device`` context, which
    intercepts every tensor factory call); a model that ignores it is rebuilt under the context.
    ``regularization`` passes timm's ``drop_rate`` / ``drop_path_rate`` for training.
    """
    import torch

    unknown = set(regularization) - {"drop_rate", "drop_path_rate"}
    if unknown:
        raise TypeError(f"build_model takes drop_rate and drop_path_rate, not {sorted(unknown)}")
    device = torch.device(device or "cpu")
    kwargs = {"num_classes": spec.num_classes, "in_chans": spec.in_chans, **regularization}
    try:
        model = None if spec.family == USER_FAMILY else _build(spec, {**kwargs, "device": device})
    except TypeError:
        model = None
    if model is None or not _all_on(model, device):
        with device:
            model = _build(spec, kwargs)
    return model.eval()
