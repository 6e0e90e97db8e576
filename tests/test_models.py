"""The registry: names to specs, specs to timm networks with exactly the numbers scaling promised."""

from __future__ import annotations

import pytest
import timm
import torch

from bench.models.families import FAMILIES
from bench.models.registry import (
    NotScalableError,
    UnknownModelError,
    architecture,
    build_model,
    check_name,
    default_input_size,
    make_spec,
    network_key,
    workload_key,
)
from bench.specs import InputSpec


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("index", range(8))
def test_presets_have_exactly_timms_parameter_counts(index: int) -> None:
    name = f"efficientnet_b{index}"
    spec = make_spec(name)
    assert spec.family == "efficientnet" and spec.base == "efficientnet_b0"
    ours = build_model(spec, device="meta")
    theirs = timm.create_model(name, pretrained=False, device="meta")
    assert _params(ours) == _params(theirs)
    assert [len(stage) for stage in ours.blocks] == [len(stage) for stage in theirs.blocks]


def _efficientnet_numbers(model) -> tuple:
    channels = tuple(
        stage[-1].conv_pwl.out_channels if hasattr(stage[-1], "conv_pwl") else stage[-1].conv_pw.out_channels
        for stage in model.blocks
    )
    head = model.conv_head.out_channels if hasattr(model.conv_head, "out_channels") else 0
    return model.conv_stem.out_channels, channels, tuple(len(s) for s in model.blocks), head


def _resnet_numbers(model) -> tuple:
    stages = [model.layer1, model.layer2, model.layer3, model.layer4]
    block = stages[0][0]
    planes = [
        (s[0].conv3 if hasattr(block, "conv3") else s[0].conv2).out_channels // (4 if hasattr(block, "conv3") else 1)
        for s in stages
    ]
    return model.conv1.out_channels, tuple(planes), tuple(len(s) for s in stages), model.num_features


@pytest.mark.parametrize("base", ["efficientnet_b0", "mobilenetv2_100", "mobilenetv1_100", "resnet18", "resnet50"])
@pytest.mark.parametrize(("width", "depth"), [(1.0, 1.0), (0.5, 1.0), (1.37, 1.0), (1.0, 2.3), (2.0, 3.1), (1.1, 0.5)])
def test_built_network_has_the_scaled_architecture(base: str, width: float, depth: float) -> None:
    spec = make_spec(base, width=width, depth=depth)
    model = build_model(spec, device="meta")
    arch = architecture(spec)
    if spec.family == "resnet":
        assert _resnet_numbers(model) == (arch.stem, arch.channels, arch.repeats, arch.head)
    else:
        stem, channels, repeats, head = _efficientnet_numbers(model)
        assert (stem, channels, repeats) == (arch.stem, arch.channels, arch.repeats)
        if spec.family == "mobilenetv1":
            assert model.num_features == arch.channels[-1] and arch.head == 0
        else:
            assert head == arch.head


def test_unscaled_family_bases_equal_timm_models() -> None:
    for family in FAMILIES.values():
        for base in family.bases:
            ours = build_model(make_spec(base), device="meta")
            assert _params(ours) == _params(timm.create_model(base, device="meta")), base


def test_method_and_name_follow_the_coefficients_given() -> None:
    assert make_spec("efficientnet_b0").method == "baseline"
    assert make_spec("efficientnet_b3").method == "preset"
    assert make_spec("efficientnet_b0", width=1.4).name == "efficientnet_b0-w1.4"
    # A coefficient of 1 is no scaling: the name and method say what actually changed.
    unit = make_spec("efficientnet_b0", width=1.0)
    assert (unit.name, unit.method) == ("efficientnet_b0", "baseline")
    assert make_spec("resnet50", depth=4).method == "depth"
    res = make_spec("mobilenetv2_100", resolution=1.3)
    assert (res.method, res.input_size, res.name) == ("resolution", 292, "mobilenetv2_100-r1.3")
    explicit = make_spec("efficientnet_b0", width=1.2, depth=1.4, resolution=1.3)
    assert (explicit.method, explicit.name) == ("compound", "efficientnet_b0-w1.2-d1.4-r1.3")
    phi = make_spec("efficientnet_b0", phi=1.5)
    assert (phi.method, phi.phi, phi.name) == ("compound", 1.5, "efficientnet_b0-phi1.5")
    assert phi.width == pytest.approx(1.1**1.5) and phi.depth == pytest.approx(1.2**1.5)
    assert make_spec("inception_v3").input_size == 299  # timm's default for unscaled models
    assert make_spec("resnet50", input_size=320).method == "resolution"
    both = make_spec("resnet50", width=2, input_size=320)
    assert (both.name, both.method) == ("resnet50-w2@320", "compound")  # a size given is named as a size


def test_bad_requests_are_refused_with_a_reason() -> None:
    with pytest.raises(UnknownModelError, match="did you mean 'efficientnet_b0'"):
        check_name("efficentnet_b0")
    with pytest.raises(NotScalableError, match="preset of efficientnet_b0"):
        make_spec("efficientnet_b3", width=1.1)
    with pytest.raises(NotScalableError, match="no scalable family"):
        make_spec("densenet169", depth=2)
    with pytest.raises(ValueError, match="phi or explicit"):
        make_spec("efficientnet_b0", phi=1, width=1.1)
    with pytest.raises(ValueError, match="positive"):
        make_spec("efficientnet_b0", width=-1.0)


def test_workload_key_identifies_the_network_and_input() -> None:
    assert workload_key(make_spec("efficientnet_b0", width=1.401)) == workload_key(
        make_spec("efficientnet_b0", width=1.4)
    )
    assert workload_key(make_spec("efficientnet_b0", phi=0)) == workload_key(make_spec("efficientnet_b0"))
    assert workload_key(make_spec("efficientnet_b0", resolution=1.3)) != workload_key(make_spec("efficientnet_b0"))
    assert workload_key(make_spec("resnet50"), batch=1) != workload_key(make_spec("resnet50"), batch=8)
    assert workload_key(make_spec("efficientnet_b3")) == workload_key(
        make_spec("efficientnet_b0", width=1.2, depth=1.4, input_size=300)
    )


def test_default_input_sizes() -> None:
    assert default_input_size("efficientnet_b7") == 600
    assert default_input_size("resnet50") == 224
    assert default_input_size("nasnetalarge") == 331


def test_build_on_cpu_gives_a_working_network() -> None:
    spec = make_spec("mobilenetv2_100", width=0.35, depth=0.5, input_size=64)
    model = build_model(spec)
    assert not model.training
    with torch.no_grad():
        out = model(torch.randn(2, *spec.input_shape))
    assert out.shape == (2, 1000)


def test_a_fixed_size_timm_model_is_built_for_the_size_asked() -> None:
    """ViT-like models (timm's ``fixed_input_size``) are built with ``img_size``: another size is another
    network (its position embedding grows), with its own network key."""
    from bench.measure.complexity import count_complexity

    at_224, at_320 = make_spec("vit_tiny_patch16_224"), make_spec("vit_tiny_patch16_224", input_size=320)
    assert network_key(at_224) != network_key(at_320)
    assert network_key(make_spec("resnet50")) == network_key(make_spec("resnet50", input_size=320))
    extra_tokens = (320 // 16) ** 2 - (224 // 16) ** 2
    assert count_complexity(at_320).params - count_complexity(at_224).params == extra_tokens * 192


def test_an_input_size_given_is_named_as_a_size_and_a_coefficient_as_a_ratio() -> None:
    """``input_size: 64`` is ``resnet18@64`` (not ``resnet18-r0.2857``); ``r: 2`` stays ``-r2``; the stride
    suffix comes before the size."""
    assert make_spec("resnet18", input_size=64).name == "resnet18@64"
    assert make_spec("resnet18", resolution=2).name == "resnet18-r2"
    assert make_spec("resnet18", input_size=224).name == "resnet18"  # the base size: nothing to name
    stride8 = make_spec("efficientnet_b0", input_size=12, inputs=InputSpec(base_resolution=14, total_stride=8))
    assert stride8.name == "efficientnet_b0-stride8@12" and stride8.method == "resolution"


def test_the_presets_are_read_once() -> None:
    """make_spec asks for them several times per spec, and solving builds hundreds of specs."""
    from bench.models.registry import presets

    assert presets() is presets()
