"""An image folder for ``bench eval``: which files are images, what each one's label is, and which
files could not be read (skipped and counted, never a traceback).

Layouts:

* ``FOLDER/<class>/<image>`` (images may sit deeper): labelled. A class folder is named by ImageNet
  synset (``n01440764``), by output index (``0`` .. ``999``), by ImageNet class name (``tabby``,
  ``tiger_cat``, ``golden retriever``: any of the class's names, any case, ``_`` or ``-`` for
  spaces), or anything else when there are exactly as many folders as the model has outputs (then
  sorted folder order is output order).
* ``FOLDER/<image>``: unlabelled; predictions only.

Symbolic links are followed, a folder reached twice (a link loop) is scanned once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bench.errors import InputError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm", ".pgm"})


@dataclass(frozen=True)
class FolderImages:
    """The images found: paths, each one's model output index (None: unlabelled), and how classes were read."""

    paths: tuple[str, ...]
    labels: tuple[int | None, ...]
    naming: str  # "ImageNet synset", "output index", "ImageNet class name", "folder order", "unlabelled"
    classes: int
    loops: int = 0  # folders reached again through a link, scanned once
    ignored: int = 0  # loose images beside class folders, not scored

    @property
    def labelled(self) -> bool:
        return self.naming != "unlabelled"


def _images_under(folder: Path, seen: set[str]) -> tuple[list[str], int]:
    """Image files under ``folder`` (links followed, each real folder once), sorted; and the loops met."""
    found, loops = [], 0
    for here, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(here)
        if real in seen:
            loops += 1
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort()
        found += [os.path.join(here, f) for f in sorted(files) if Path(f).suffix.lower() in IMAGE_SUFFIXES]
    return found, loops


def _normal(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", name).strip().lower()


@lru_cache(maxsize=1)
def _imagenet_names() -> tuple[dict[str, int], dict[str, int], frozenset[str]]:
    """(synset -> index, class name -> index, names two classes share)."""
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    synsets = {name: index for index, name in enumerate(info.label_names())}
    names: dict[str, int] = {}
    shared: set[str] = set()
    for index in range(info.num_classes()):
        for name in info.index_to_description(index).split(","):
            key = _normal(name)
            if key in names and names[key] != index:
                shared.add(key)
            names.setdefault(key, index)
    return synsets, names, frozenset(shared)


def class_index_map(class_names: list[str], num_outputs: int) -> tuple[list[int], str]:
    """The model output index of each class folder (sorted folder order), and the naming recognised."""
    if all(re.fullmatch(r"n\d{8}", name) for name in class_names):
        synsets, _, _ = _imagenet_names()
        if num_outputs != len(synsets):
            raise InputError(f"ImageNet synset folders need a {len(synsets)}-class model, not {num_outputs}")
        unknown = [n for n in class_names if n not in synsets]
        if unknown:
            raise InputError(f"folder classes that are not ImageNet-1k synsets: {unknown[:5]}")
        return [synsets[name] for name in class_names], "ImageNet synset"
    if all(name.isdigit() for name in class_names):
        beyond = [n for n in class_names if int(n) >= num_outputs]
        if beyond:
            raise InputError(f"class folders {beyond[:5]} name outputs the {num_outputs}-output model does not have")
        return [int(name) for name in class_names], "output index"
    _, names, shared = _imagenet_names()
    if num_outputs == 1000 and all(_normal(n) in names for n in class_names):
        ambiguous = [n for n in class_names if _normal(n) in shared]
        if ambiguous:
            raise InputError(f"class folders {ambiguous[:3]} name more than one ImageNet class; use the synset (n0...)")
        return [names[_normal(n)] for n in class_names], "ImageNet class name"
    if len(class_names) != num_outputs:
        raise InputError(
            f"{len(class_names)} class folders for a {num_outputs}-output model; name the folders by ImageNet "
            "synset (n01440764), output index (0..999) or ImageNet class name (tabby), or give the model as "
            "many outputs as classes"
        )
    return list(range(num_outputs)), "folder order"


def scan(folder: Path, num_outputs: int, limit: int | None = None) -> FolderImages:
    """Every image of ``folder`` with its label (see the module docstring); ValueError in one line when
    there is nothing to score or the classes cannot be mapped to the model's outputs."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such image folder (expected FOLDER/<class>/<image> or FOLDER/<image>)")
    seen: set[str] = {os.path.realpath(folder)}
    class_dirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    loose = sorted(str(p) for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    per_class: list[tuple[str, list[str]]] = []
    loops = 0
    for directory in class_dirs:
        images, met = _images_under(directory, seen)
        loops += met
        if images:
            per_class.append((directory.name, images))
    if not per_class:
        if not loose:
            raise InputError(f"{folder}: no images (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
        paths = loose[:limit] if limit else loose
        return FolderImages(tuple(paths), (None,) * len(paths), "unlabelled", 0, loops)
    indices, naming = class_index_map([name for name, _ in per_class], num_outputs)
    pairs = [(path, index) for (_, images), index in zip(per_class, indices) for path in images]
    pairs = pairs[:limit] if limit else pairs
    return FolderImages(
        tuple(p for p, _ in pairs), tuple(i for _, i in pairs), naming, len(per_class), loops, len(loose)
    )
