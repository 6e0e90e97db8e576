"""Arguments several commands share, and turning them into a ModelSpec."""

from __future__ import annotations

import argparse


def at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def at_least_zero(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


def add_coefficient_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model",
        help="timm name: a scalable base (efficientnet_b0, resnet50, ...), "
        "a preset (efficientnet_b1..b7), any timm model, or your own package.module:function",
    )
    parser.add_argument(
        "--model-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a keyword argument for your own model's function (repeatable)",
    )
    parser.add_argument("--w", type=float, help="width coefficient")
    parser.add_argument("--d", type=float, help="depth coefficient")
    parser.add_argument("--r", type=float, help="resolution coefficient (input = base size * r, multiple of 4)")
    parser.add_argument("--input-size", type=int, help="input size in pixels (instead of --r)")
    parser.add_argument("--phi", type=float, help="compound coefficient: d, w, r = alpha^phi, beta^phi, gamma^phi")
    parser.add_argument("--alpha", type=float, help="depth base for --phi (default 1.2)")
    parser.add_argument("--beta", type=float, help="width base for --phi (default 1.1)")
    parser.add_argument("--gamma", type=float, help="resolution base for --phi (default 1.15)")
    add_total_stride_arg(parser)


def add_total_stride_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--total-stride",
        type=at_least_one,
        help="build a scalable base with fewer strides (e.g. 8: the proxy's geometry; default its own, 32)",
    )


def inputs_from_args(args: argparse.Namespace):
    """The InputSpec of ``--total-stride`` (ImageNet's otherwise)."""
    from bench.specs import imagenet_at

    return imagenet_at(args.total_stride)


def spec_from_args(args: argparse.Namespace):
    from bench.models.registry import make_spec
    from bench.models.user import parse_arg
    from bench.scaling.rules import compound_bases

    return make_spec(
        args.model,
        width=args.w,
        depth=args.d,
        resolution=args.r,
        phi=args.phi,
        coefficients=compound_bases(args.phi, args.alpha, args.beta, args.gamma, flag="--"),
        input_size=args.input_size,
        inputs=inputs_from_args(args),
        model_args=dict(parse_arg(item) for item in args.model_arg),
    )


def spec_json(spec) -> dict:
    """A variant as JSON fields (the results store's spec columns)."""
    from bench.store.results import spec_columns

    return spec_columns(spec)
