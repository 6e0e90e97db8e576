"""What the built-in datasets are, known without loading them (and without torch): shapes, native sizes."""

from __future__ import annotations

from pathlib import Path

from bench.errors import InputError


class DatasetMissingError(FileNotFoundError):
    """A dataset that is not on this machine; the message says how to get it."""


#: (channels, classes) of the built-in datasets, known without loading them.
DATASET_SHAPES = {"fashion_mnist": (1, 10), "cifar10": (3, 10), "cifar100": (3, 100)}


#: The side of each built-in dataset's own images: an input larger than this is upsampled, not more detail.
NATIVE_SIZES = {"fashion_mnist": 28, "cifar10": 32, "cifar100": 32}


#: Images in the (train, test) splits of each built-in dataset: a budget asking for more is refused.
SPLIT_SIZES = {"fashion_mnist": (60_000, 10_000), "cifar10": (50_000, 10_000), "cifar100": (50_000, 10_000)}


def native_size(name: str) -> int | None:
    """The images' own size of a dataset name, or None where it varies (image folders)."""
    return NATIVE_SIZES.get(name)


def dataset_shape(name: str) -> tuple[int, int]:
    """(in_chans, num_classes) of a dataset name; an ImageFolder counts its class folders (RGB assumed)."""
    if name in DATASET_SHAPES:
        return DATASET_SHAPES[name]
    if name.startswith("folder:"):
        train = Path(name.split(":", 1)[1]) / "train"
        if not train.is_dir():
            raise DatasetMissingError(f"no ImageFolder split at {train} (expected {train}/<class>/<image>)")
        return 3, sum(1 for p in train.iterdir() if p.is_dir())
    raise InputError(f"unknown dataset {name!r}; use fashion_mnist, cifar10, cifar100 or folder:PATH")
