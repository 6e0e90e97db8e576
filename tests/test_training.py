"""Proxy training: datasets, resolution, the fast depthwise gradient, budgets, resume, rows."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from bench.accuracy import data as datasets
from bench.accuracy.datasets import dataset_shape
from bench.accuracy.fastconv import depthwise_weight_grad, use_fast_depthwise, use_fast_matmul_convs
from bench.accuracy.train import augment, train_model, zero_init_residual_branches
from bench.models.registry import build_model, make_spec
from bench.specs import InputSpec, TrainBudget
from bench.store.rows import accuracy_columns
from tests.conftest import write_idx

GREY_10 = InputSpec(28, resolution_divisor=1, in_chans=1, num_classes=10)


def test_idx_files_round_trip_and_bad_files_are_refused(tmp_path: Path) -> None:
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", array)
    assert np.array_equal(datasets.read_idx(tmp_path / "a.gz"), array)
    (tmp_path / "bad").write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x02ab")  # float idx
    with pytest.raises(ValueError, match="not an unsigned-byte idx"):
        datasets.read_idx(tmp_path / "bad")


def test_fashion_mnist_layout_and_missing_message(fashion_mnist: Path, tmp_path: Path) -> None:
    train = datasets.load_fashion_mnist("train", fashion_mnist)
    assert train.images.shape == (2048, 1, 28, 28) and train.images.dtype == torch.uint8
    assert train.num_classes == 10 and train.in_chans == 1
    with pytest.raises(datasets.DatasetMissingError, match="apt-get install dataset-fashion-mnist"):
        datasets.load_fashion_mnist("train", tmp_path / "nowhere")


@pytest.mark.skipif(
    not (datasets.FASHION_MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists(),
    reason="the Debian package dataset-fashion-mnist is not installed",
)
def test_the_real_fashion_mnist() -> None:
    test = datasets.load_fashion_mnist("test")
    assert test.images.shape == (10000, 1, 28, 28)
    assert torch.bincount(test.labels).tolist() == [1000] * 10
    assert abs(test.images.float().mean().item() / 255 - test.mean[0]) < 0.01


def test_resolution_scaling_changes_the_training_input(fashion_mnist: Path) -> None:
    train = datasets.load_fashion_mnist("train", fashion_mnist).subset(100, seed=0)
    big = train.resized(36)
    assert big.images.shape == (100, 1, 36, 36) and torch.equal(big.labels, train.labels)
    assert train.resized(28) is train
    spec = make_spec("efficientnet_b0", resolution=1.3, inputs=GREY_10)
    assert spec.input_size == 36 and spec.input_shape == (1, 36, 36)
    # a fixed subset: the same images for every model and seed
    again = datasets.load_fashion_mnist("train", fashion_mnist).subset(100, seed=0)
    assert torch.equal(again.images, train.images)


def test_one_channel_models_have_a_one_channel_stem() -> None:
    model = build_model(make_spec("efficientnet_b0", inputs=GREY_10))
    assert model.conv_stem.in_channels == 1 and model.classifier.out_features == 10
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_image_folder_dataset(tmp_path: Path) -> None:
    for split in ("train", "val"):
        for index, name in enumerate(("a", "b")):
            (tmp_path / split / name).mkdir(parents=True)
            for i in range(3):
                Image.fromarray(np.full((20, 30, 3), 60 * index + i, np.uint8)).save(
                    tmp_path / split / name / f"{i}.png"
                )
    train = datasets.load_dataset(f"folder:{tmp_path}", "train", size=16)
    test = datasets.load_dataset(f"folder:{tmp_path}", "test", size=16)  # falls back to val/
    assert train.images.shape == (6, 3, 16, 16) and test.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert dataset_shape(f"folder:{tmp_path}") == (3, 2)
    with pytest.raises(ValueError, match="unknown dataset"):
        datasets.load_dataset("imagenet21k", "train")


def _crop_and_flip(image: torch.Tensor, dy: int, dx: int, flip: bool) -> torch.Tensor:
    """The expected view: shift by (dy, dx) with zeros coming in, then mirror if ``flip``."""
    size, pad = image.shape[-1], max(1, image.shape[-1] // 8)
    padded = F.pad(image, (pad, pad, pad, pad))
    view = padded[..., pad + dy : pad + dy + size, pad + dx : pad + dx + size]
    return view.flip(-1) if flip else view


def test_augmentation_crops_and_flips_each_image() -> None:
    images = torch.randint(1, 255, (64, 1, 28, 28), dtype=torch.uint8)  # no zeros: the padding shows
    out = augment(images, torch.Generator().manual_seed(0))
    assert out.shape == images.shape and out.dtype == torch.uint8
    assert torch.equal(out, augment(images, torch.Generator().manual_seed(0)))  # seeded: reproducible
    pad, views = 28 // 8, []
    for image, seen in zip(images, out):
        matches = [
            (dy, dx, flip)
            for dy in range(-pad, pad + 1)
            for dx in range(-pad, pad + 1)
            for flip in (False, True)
            if torch.equal(_crop_and_flip(image, dy, dx, flip), seen)
        ]
        assert len(matches) == 1, "every output is exactly one crop (and flip) of its own input"
        views.append(matches[0])
    flips = sum(flip for _, _, flip in views)
    assert 16 <= flips <= 48  # about half are mirrored (64 fair coins: P(outside) < 1e-4)
    assert len({(dy, dx) for dy, dx, _ in views}) >= 20  # offsets spread over the 7 x 7 window
    assert sum(dy == dx == 0 for dy, dx, _ in views) < 8


@pytest.mark.parametrize("size,stride,kernel", [(4, 1, 3), (4, 2, 5), (2, 1, 5), (1, 1, 3), (3, 2, 3)])
def test_tapwise_depthwise_weight_grad_equals_aten(size: int, stride: int, kernel: int) -> None:
    torch.manual_seed(0)
    channels, padding = 6, kernel // 2
    x = torch.randn(5, channels, size, size, requires_grad=True)
    weight = torch.randn(channels, 1, kernel, kernel, requires_grad=True)
    out = F.conv2d(x, weight, stride=stride, padding=padding, groups=channels)
    grad_out = torch.randn_like(out)
    out.backward(grad_out)
    ours = depthwise_weight_grad(x.detach(), grad_out, kernel, stride, padding)
    assert torch.allclose(ours, weight.grad, rtol=1e-4, atol=1e-5)


def test_fast_depthwise_model_has_the_same_forward_and_gradients() -> None:
    spec = make_spec("efficientnet_b0", inputs=GREY_10)
    torch.manual_seed(0)
    plain = build_model(spec).train()
    fast = build_model(spec).train()
    fast.load_state_dict(plain.state_dict())
    x = torch.randn(4, 1, 28, 28)
    assert use_fast_depthwise(fast, x) > 0
    for model in (plain, fast):
        model(x).square().mean().backward()
    for (name, a), b in zip(plain.named_parameters(), fast.parameters()):
        # float sums in another order: equal to a millionth-ish of the gradient's scale
        assert (a.grad - b.grad).abs().max() <= 1e-4 * a.grad.abs().max(), name


@pytest.mark.parametrize("model, blocks", [("efficientnet_b0", 9), ("mobilenetv2_100", 10)])
def test_zero_init_residual_makes_every_residual_block_the_identity(model: str, blocks: int) -> None:
    net = build_model(make_spec(model, inputs=GREY_10)).eval()
    residual = [m for m in net.modules() if getattr(m, "has_skip", False)]
    channels = [next(m for m in b.modules() if isinstance(m, torch.nn.Conv2d)).in_channels for b in residual]
    x = torch.randn(2, channels[0], 8, 8)
    assert not torch.allclose(residual[0](x), x)  # timm's own init: the branch adds to the input
    assert zero_init_residual_branches(net) == blocks == len(residual)
    for block, width in zip(residual, channels):
        x = torch.randn(2, width, 8, 8)
        torch.testing.assert_close(block(x), x)


def test_budget_validation_and_description() -> None:
    with pytest.raises(ValueError, match="optimizer"):
        TrainBudget(optimizer="lamb")
    with pytest.raises(ValueError, match="device"):
        TrainBudget(device="tpu")
    budget = TrainBudget(epochs=2, data_root="/somewhere", threads=1)
    assert '"epochs": 2' in budget.describe() and "somewhere" not in budget.describe()


def _tiny_budget(root: Path, **overrides) -> TrainBudget:
    settings = dict(
        data_root=str(root),
        base_resolution=28,
        train_images=512,
        test_images=256,
        epochs=2,
        batch_size=64,
        optimizer="adamw",
        lr=1e-2,
        weight_decay=0.05,
        augment=False,
    )  # a flip turns one synthetic grating class into another
    return TrainBudget(**{**settings, **overrides})


def test_a_killed_run_resumes_to_the_same_result(
    fashion_mnist: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.accuracy import train as train_module

    spec = make_spec("mobilenetv2_100", width=0.5, inputs=GREY_10)
    budget = _tiny_budget(fashion_mnist)
    whole = train_model(spec, budget, seed=3)

    saves = []
    real_save = train_module._save

    def save_then_die(path: Path, payload: dict) -> None:
        real_save(path, payload)
        saves.append(payload["epoch"])
        raise KeyboardInterrupt  # the machine goes away right after the first epoch's checkpoint

    monkeypatch.setattr(train_module, "_save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_model(spec, budget, seed=3, checkpoint_dir=tmp_path)
    assert saves == [0] and (tmp_path / "last.pt").exists() and not (tmp_path / "result.json").exists()
    monkeypatch.setattr(train_module, "_save", real_save)
    resumed = train_model(spec, budget, seed=3, checkpoint_dir=tmp_path)
    # Model, optimizer, schedule and data-order RNG all come back from the checkpoint, so the resumed
    # run repeats the uninterrupted one (bitwise on this machine; 1e-6 allows for kernel reordering).
    for epoch in (0, 1):
        assert resumed.history[epoch]["train_loss"] == pytest.approx(whole.history[epoch]["train_loss"], rel=1e-6)
    assert (resumed.top1, resumed.top5) == (whole.top1, whole.top5)
    # finished: a third call reads result.json and trains nothing
    assert train_model(spec, budget, seed=3, checkpoint_dir=tmp_path) == resumed


class _Terminal(io.StringIO):
    """stdout and stderr of a terminal, written to one screen."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [True, False])
def test_an_epoch_line_is_a_whole_line_and_off_a_terminal_has_no_escape_codes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, terminal: bool
) -> None:
    """A resumed run's epoch line came out glued to the cursor-up code (``\\x1b[A``) that an epoch's progress
    bar leaves behind, over the run's own bar. On a terminal the line now starts a cleared line (tqdm clears
    the bars, writes it, draws them again); off a terminal there are no bars and no escape codes at all."""
    from tqdm import tqdm

    from bench.accuracy.distributed import DistContext
    from bench.accuracy.train import _Run
    from bench.run import LineProgress, _bar

    screen = _Terminal()
    if terminal:
        monkeypatch.setattr(sys, "stdout", screen)
        monkeypatch.setattr(sys, "stderr", screen)
    spec, budget = make_spec("resnet18"), TrainBudget(epochs=3)
    run = _Run(
        spec, budget, 0, torch.device("cpu"), DistContext(), None, True, True, train_seconds=2.0, images_seen=1000
    )
    with _bar(1, "measuring", progress=True) as outer:
        for _ in tqdm(range(2), desc="resnet18 s0 e2/3", leave=False, disable=None):  # as _Run.epoch draws it
            pass
        run.log(1, 0.5, None, "test")
        outer.update()
    line = "resnet18 seed 0: epoch 2/3, loss 0.500, 500 images/s, 0.0 min left\n"
    if terminal:
        out = screen.getvalue()
        assert "\x1b[A" in out and out.count(line) == 1  # the bars drew, and moved the cursor
        assert out.split(line)[0].endswith("\r"), repr(out)  # the line starts a line of its own
        assert isinstance(_bar(1, "measuring", True, plain=True), LineProgress)  # training workers print too
    else:
        out, err = capsys.readouterr()
        assert out == line and "\x1b" not in err and "\r" not in err


def test_learning_happens_and_rows_summarise_seeds(fashion_mnist: Path) -> None:
    spec = make_spec("mobilenetv2_100", width=0.5, inputs=GREY_10)
    budget = _tiny_budget(fashion_mnist, train_images=1024, epochs=3)
    results = [train_model(spec, budget, seed=s) for s in (0, 1)]
    assert all(r.top1 > 40 for r in results)  # chance is 10%
    row = accuracy_columns(budget, (0, 1), results, input_size=32)
    assert row["accuracy_source"] == "measured" and row["n_seeds"] == 2 and row["seeds"] == "0 1"
    assert row["top1_per_seed"] == " ".join(f"{r.top1:g}" for r in results)
    assert row["upsampled"] is (budget.dataset == "fashion_mnist")  # 32 px from 28 px images
    assert accuracy_columns(budget, (0, 1), results, input_size=28)["upsampled"] is False
    assert row["top1"] == pytest.approx(np.mean([r.top1 for r in results]))
    assert row["top1_std"] == pytest.approx(np.std([r.top1 for r in results], ddof=1))
    assert row["budget"] == budget.describe()


@pytest.mark.parametrize(
    "model, size, stride",
    [
        ("efficientnet_b0", 16, None),
        ("resnet18", 16, None),
        ("mobilenetv1_100", 18, None),
        ("mobilenetv2_100", 28, None),
        ("efficientnet_b0", 14, 8),  # the v2 proxy's geometry: late stages on 2x2 maps
    ],
)
def test_matmul_convs_compute_the_same_forward_and_gradients(model: str, size: int, stride: int | None) -> None:
    """In float64, so the comparison is of the mathematics, not of float32 summation order."""
    spec = make_spec(model, inputs=InputSpec(size, 1, 1, 10, total_stride=stride))
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        torch.manual_seed(0)
        plain = build_model(spec).train().to(memory_format=torch.channels_last)
        fast = build_model(spec).train().to(memory_format=torch.channels_last)
        fast.load_state_dict(plain.state_dict())
        x = torch.randn(6, 1, size, size).contiguous(memory_format=torch.channels_last)
        use_fast_depthwise(fast, x)
        assert use_fast_matmul_convs(fast) > 0
        outputs = []
        for net in (plain, fast):
            torch.manual_seed(1)  # the same dropout draws
            outputs.append(net(x))
            outputs[-1].square().mean().backward()
    finally:
        torch.set_default_dtype(default)
    torch.testing.assert_close(outputs[1], outputs[0], rtol=1e-10, atol=1e-10)
    scale = max(p.grad.abs().max().item() for p in plain.parameters() if p.grad is not None)
    for (name, a), b in zip(plain.named_parameters(), fast.parameters()):
        assert (a.grad - b.grad).abs().max().item() <= 1e-10 * scale, name


def test_a_single_pixel_conv_takes_the_matmul_path_and_a_larger_map_does_not() -> None:
    conv = torch.nn.Conv2d(8, 16, 3, padding=1, bias=False)
    assert use_fast_matmul_convs(conv) == 1
    calls = []
    original = torch.nn.functional.linear
    torch.nn.functional.linear = lambda *a, **k: calls.append(1) or original(*a, **k)
    try:
        conv(torch.randn(2, 8, 1, 1))
        assert calls == [1]
        conv(torch.randn(2, 8, 4, 4))
        assert calls == [1]
    finally:
        torch.nn.functional.linear = original


def test_a_rows_time_is_when_its_seeds_finished_not_when_it_was_written(tmp_path: Path) -> None:
    import json
    import os

    from bench.accuracy.train import TrainResult, finished_result

    old = tmp_path / "result.json"
    old.write_text(
        json.dumps({"top1": 90.0, "top5": 99.0, "train_loss": 0.6, "epochs": 8, "seconds": 1.0, "images_per_s": 1.0})
    )  # from before runs recorded their end
    os.utime(old, (1_790_000_000, 1_790_000_000))
    result = finished_result(tmp_path)
    assert result.finished.startswith("2026-09-21")
    newer = TrainResult(91.0, 99.0, 0.6, 8, 1.0, 1.0, finished="2026-12-01T10:00:00+00:00")
    row = accuracy_columns(TrainBudget(), (0, 1), [result, newer])
    assert row["timestamp"] == "2026-12-01T10:00:00+00:00"


def test_a_subset_larger_than_the_images_there_is_refused_not_shrunk(fashion_mnist: Path) -> None:
    """Issue 28, case 9, for data whose size only loading tells (an image folder, a smaller copy): the row
    would record the count asked for while training on fewer images."""
    from bench.accuracy.data import load_dataset

    data = load_dataset("fashion_mnist", "test", root=fashion_mnist, size=28)
    assert len(data.subset(len(data.labels)).labels) == len(data.labels)
    with pytest.raises(ValueError, match=f"asked for {len(data.labels) + 1} images of .*which has only"):
        data.subset(len(data.labels) + 1)
