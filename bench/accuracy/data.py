"""Proxy-task datasets held in memory as uint8 tensors, resized once to the training resolution.

Sources (nothing is downloaded unless the caller passes ``download=True``):

* ``fashion_mnist``: the Debian package ``dataset-fashion-mnist``
  (``/usr/share/datasets/fashion-mnist/*-idx*-ubyte.gz``, the standard idx files), read here;
* ``cifar10`` / ``cifar100``: torchvision's loaders from a local ``root``;
* ``folder:<path>``: any ImageFolder tree (``<path>/train/<class>/*``, ``<path>/val/<class>/*``).

Resolution scaling really changes the input: images are resized (bilinear, antialiased) to
``input_size`` once per run, so a model scaled by r trains on r-times larger images.
One-channel images stay one channel: the model is built with ``in_chans=1`` (timm adapts
the stem), so no compute is spent on three copies of a grey image.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bench.accuracy.datasets import DatasetMissingError
from bench.errors import InputError

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_HINT = "apt-get install dataset-fashion-mnist"
_FASHION_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


@dataclass(frozen=True)
class ImageTensors:
    """A split in memory: ``images`` uint8 (N, C, H, W), ``labels`` int64 (N,)."""

    name: str
    images: torch.Tensor
    labels: torch.Tensor
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4 or len(self.images) != len(self.labels):
            raise ValueError("images must be uint8 (N, C, H, W) with one label each")

    @property
    def in_chans(self) -> int:
        return self.images.shape[1]

    @property
    def size(self) -> int:
        return self.images.shape[-1]

    def subset(self, count: int | None, seed: int = 0) -> ImageTensors:
        """A fixed, class-balanced-in-expectation random subset of ``count`` images (all if None)."""
        if count is not None and count > len(self.labels):  # the row would record images never trained on
            raise InputError(f"asked for {count} images of {self.name}, which has only {len(self.labels)} here")
        if count is None or count == len(self.labels):
            return self
        index = torch.randperm(len(self.labels), generator=torch.Generator().manual_seed(seed))[:count]
        return ImageTensors(self.name, self.images[index], self.labels[index], self.num_classes, self.mean, self.std)

    def held_out(self, count: int, seed: int = 0) -> tuple[ImageTensors, ImageTensors]:
        """(the rest, ``count`` held-out images): a fixed split, stratified by class. Each class gives
        ``count // classes`` images (the first ``count % classes`` classes one more), drawn from a
        permutation fixed by ``seed``; both parts keep the images' original order."""
        if not 0 < count < len(self.labels):
            raise InputError(f"cannot hold out {count} of {len(self.labels)} images")
        order = torch.randperm(len(self.labels), generator=torch.Generator().manual_seed(seed))
        chosen = torch.zeros(len(self.labels), dtype=torch.bool)
        for label in range(self.num_classes):
            want = count // self.num_classes + (1 if label < count % self.num_classes else 0)
            members = order[self.labels[order] == label]
            if len(members) < want:
                raise InputError(f"class {label} has {len(members)} images, fewer than the {want} to hold out")
            chosen[members[:want]] = True
        return self._where(~chosen), self._where(chosen)

    def _where(self, mask: torch.Tensor) -> ImageTensors:
        return ImageTensors(self.name, self.images[mask], self.labels[mask], self.num_classes, self.mean, self.std)

    def resized(self, size: int) -> ImageTensors:
        """The same images at ``size`` x ``size`` (bilinear with antialiasing, in chunks)."""
        if size == self.size:
            return self
        chunks = []
        for start in range(0, len(self.images), 4096):
            chunk = self.images[start : start + 4096].float()
            chunk = F.interpolate(chunk, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
            chunks.append(chunk.round_().clamp_(0, 255).to(torch.uint8))
        return ImageTensors(self.name, torch.cat(chunks), self.labels, self.num_classes, self.mean, self.std)


def read_idx(path: Path) -> np.ndarray:
    """An idx file (gzipped or not) as a numpy array, checking its magic number and sizes."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise InputError(f"{path}: not an unsigned-byte idx file")
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != int(np.prod(shape)):
        raise InputError(f"{path}: expected {shape} values, found {array.size}")
    return array.reshape(shape)


def load_fashion_mnist(split: str, root: Path = FASHION_MNIST_DIR) -> ImageTensors:
    """Fashion-MNIST ``train`` (60k) or ``test`` (10k), 1 x 28 x 28."""
    images_file, labels_file = _FASHION_FILES[split]
    if not (root / images_file).exists():
        raise DatasetMissingError(f"Fashion-MNIST not found in {root}; install it with: {FASHION_MNIST_HINT}")
    images = torch.from_numpy(read_idx(root / images_file).copy()).unsqueeze(1)
    labels = torch.from_numpy(read_idx(root / labels_file).astype(np.int64))
    return ImageTensors("fashion_mnist", images, labels, 10, (0.2860,), (0.3530,))


def load_cifar(name: str, split: str, root: Path, download: bool = False) -> ImageTensors:
    """CIFAR-10 / CIFAR-100 through torchvision from ``root`` (no download unless asked)."""
    from torchvision import datasets

    cls = {"cifar10": datasets.CIFAR10, "cifar100": datasets.CIFAR100}[name]
    try:
        data = cls(str(root), train=split == "train", download=download)
    except RuntimeError as error:
        raise DatasetMissingError(
            f"{name} not found in {root} ({error}); pass download=True "
            f"(--download) to fetch it, or point root at a local copy"
        ) from None
    images = torch.from_numpy(data.data).permute(0, 3, 1, 2).contiguous()
    mean, std = (
        ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
        if name == "cifar10"
        else ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762))
    )
    return ImageTensors(name, images, torch.tensor(data.targets, dtype=torch.int64), len(data.classes), mean, std)


def load_image_folder(root: Path, split: str, size: int) -> ImageTensors:
    """An ImageFolder split (``root/split/<class>/<image>``), every image resized to ``size``."""
    from torchvision import datasets, transforms

    folder = root / split
    if split == "test" and not folder.is_dir():
        folder = root / "val"  # ImageNet-style layout
    if not folder.is_dir():
        raise DatasetMissingError(f"no ImageFolder split at {folder} (expected {folder}/<class>/<image>)")
    to_tensor = transforms.Compose([transforms.Resize(size), transforms.CenterCrop(size), transforms.PILToTensor()])
    data = datasets.ImageFolder(str(folder), transform=to_tensor)
    images = torch.stack([image for image, _ in data])
    labels = torch.tensor(data.targets, dtype=torch.int64)
    return ImageTensors(
        f"folder:{root}", images, labels, len(data.classes), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    )


def load_dataset(
    name: str, split: str, *, root: Path | None = None, size: int = 32, download: bool = False
) -> ImageTensors:
    """Dispatch on the dataset name used in suites (``fashion_mnist``, ``cifar10``, ``cifar100``, ``folder:PATH``)."""
    if name == "fashion_mnist":
        return load_fashion_mnist(split, root or FASHION_MNIST_DIR)
    if name in ("cifar10", "cifar100"):
        return load_cifar(name, split, root or Path("data") / name, download)
    if name.startswith("folder:"):
        return load_image_folder(Path(name.split(":", 1)[1]), split, size)
    raise InputError(f"unknown dataset {name!r}; use fashion_mnist, cifar10, cifar100 or folder:PATH")
