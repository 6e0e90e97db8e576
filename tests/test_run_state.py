"""Broken training-run folders: each is refused in one line naming the file, never executed, and
``--restart-broken`` moves it aside (nothing deleted) and trains the run again."""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import torch

from bench.accuracy.run_state import BrokenRunError, check_run, finished_result, read_checkpoint
from bench.accuracy.train import train_model
from bench.cli import main
from bench.models.registry import make_spec
from bench.specs import InputSpec, TrainBudget
from bench.store.results import read_results

GREY_10 = InputSpec(28, resolution_divisor=1, in_chans=1, num_classes=10)


def _budget(root: Path) -> TrainBudget:
    return TrainBudget(
        data_root=str(root),
        base_resolution=16,
        train_images=128,
        test_images=64,
        epochs=1,
        batch_size=64,
        optimizer="adamw",
        lr=1e-2,
        augment=False,
    )


class _Payload:
    """A pickle that would create a file if it were ever executed."""

    marker: Path

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _malicious(path: Path, marker: Path) -> None:
    payload = _Payload()
    payload.marker = marker
    path.write_bytes(pickle.dumps({"model": payload}))


def _valid(path: Path) -> dict:
    return torch.load(path, weights_only=True)


LAST_PT: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "truncated": (lambda p, _: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "not a readable checkpoint"),
    "zero_bytes": (lambda p, _: p.write_bytes(b""), "not a readable checkpoint"),
    "garbage": (lambda p, _: p.write_bytes(b"\x00garbage" * 100), "not a readable checkpoint"),
    "malicious_pickle": (_malicious, "not a readable checkpoint"),
    "not_a_dict": (lambda p, _: torch.save([1, 2], p), "expected a checkpoint dict, got list"),
    "missing_field": (lambda p, _: torch.save({k: v for k, v in _valid(p).items() if k != "rng"}, p), "no 'rng'"),
    "wrong_type": (lambda p, _: torch.save({**_valid(p), "epoch": "0"}, p), "'epoch' has the wrong type"),
    "does_not_fit": (
        lambda p, _: torch.save({**_valid(p), "model": {"conv.weight": torch.zeros(1)}}, p),
        "checkpoint does not fit",
    ),
}

RESULT_JSON: dict[str, tuple[str, str]] = {
    "empty_object": ("{}", "missing field(s)"),
    "wrong_types": (
        '{"top1": "high", "top5": null, "train_loss": 1, "epochs": 1, "seconds": 1, "images_per_s": 1}',
        "top1 must be a finite number",
    ),
    "garbage": ("not json", "not a readable result"),
    "a_list": ("[1, 2]", "expected a JSON object, got list"),
    "unknown_field": (
        '{"top1": 1, "top5": null, "train_loss": 1, "epochs": 1, "seconds": 1, "images_per_s": 1, "x": 2}',
        "unknown field(s) x",
    ),
}


@pytest.fixture(scope="module")
def interrupted(fashion_mnist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder cut off after its first epoch: ``last.pt`` and no ``result.json``."""
    folder = tmp_path_factory.mktemp("run")
    spec = make_spec("mobilenetv2_100", width=0.35, inputs=GREY_10)
    train_model(spec, _budget(fashion_mnist), seed=0, checkpoint_dir=folder)
    (folder / "result.json").unlink()
    return folder


@pytest.mark.parametrize("case", sorted(LAST_PT))
def test_a_broken_checkpoint_names_its_file_and_is_never_executed(
    case: str, interrupted: Path, fashion_mnist: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "last.pt").write_bytes((interrupted / "last.pt").read_bytes())
    marker = tmp_path / "pwned"
    corrupt, expected = LAST_PT[case]
    corrupt(folder / "last.pt", marker)
    spec = make_spec("mobilenetv2_100", width=0.35, inputs=GREY_10)
    with pytest.raises(BrokenRunError) as caught:
        train_model(spec, _budget(fashion_mnist), seed=0, checkpoint_dir=folder)
    message = str(caught.value)
    assert expected in message and str(folder / "last.pt") in message and "--restart-broken" in message
    assert "\n" not in message and not marker.exists()
    if case != "does_not_fit":  # found before any model is built
        assert check_run(folder) == message


@pytest.mark.parametrize("case", sorted(RESULT_JSON))
def test_a_broken_result_names_its_file(case: str, tmp_path: Path) -> None:
    text, expected = RESULT_JSON[case]
    (tmp_path / "result.json").write_text(text)
    with pytest.raises(BrokenRunError, match=re.escape(expected)) as caught:
        finished_result(tmp_path)
    assert str(tmp_path / "result.json") in str(caught.value)


def test_restart_broken_moves_the_folder_aside_and_trains_again(fashion_mnist: Path, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "last.pt").write_bytes(b"")
    spec = make_spec("mobilenetv2_100", width=0.35, inputs=GREY_10)
    result = train_model(spec, _budget(fashion_mnist), seed=0, checkpoint_dir=folder, restart_broken=True)
    assert result.epochs == 1 and finished_result(folder) == result
    (aside,) = [p for p in tmp_path.iterdir() if p.name.startswith("run.broken-")]
    assert (aside / "last.pt").read_bytes() == b""  # kept, not deleted
    assert read_checkpoint(folder / "last.pt")["epoch"] == 0


def _suite(tmp_path: Path, root: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(
        "name: tiny\nmetrics: [complexity, accuracy]\nresolution_divisor: 1\n"
        f"train: {{dataset: fashion_mnist, data_root: {root}, base_resolution: 16, train_images: 128, "
        "test_images: 64, epochs: 1, batch_size: 64, optimizer: adamw, lr: 1.0e-2, augment: false}\n"
        "seeds: [0]\nmodels:\n  - model: mobilenetv2_100\n    scale: {w: 0.35}\n"
    )
    return path


def test_the_cli_refuses_a_broken_run_in_one_line_then_restarts_it(
    fashion_mnist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite, results = _suite(tmp_path, fashion_mnist), tmp_path / "out" / "results.csv"
    assert main(["run", str(suite), "--results", str(results), "--quiet"]) == 0
    (folder,) = (results.parent / "checkpoints").iterdir()
    (folder / "result.json").write_text("{}")
    rows = results.read_text()
    capsys.readouterr()
    assert main(["run", str(suite), "--results", str(results), "--quiet", "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(folder / "result.json") in err and "--restart-broken" in err
    assert results.read_text() == rows  # nothing written
    command = ["run", str(suite), "--results", str(results), "--quiet", "--force", "--restart-broken"]
    assert main(command) == 0
    assert "moved aside" in capsys.readouterr().out
    assert json.loads((folder / "result.json").read_text())["epochs"] == 1
    assert len([p for p in folder.parent.iterdir() if ".broken-" in p.name]) == 1


def test_a_seed_archive_carries_finished_seeds_to_a_fresh_clone(fashion_mnist: Path, tmp_path: Path) -> None:
    """Finished seeds are copied to the archive as they finish; a machine with only the archive (no
    checkpoints, no results) writes the same row without training again."""
    suite, archive = _suite(tmp_path, fashion_mnist), tmp_path / "archive"
    first = tmp_path / "first" / "results.csv"
    assert main(["run", str(suite), "--results", str(first), "--quiet", "--seed-archive", str(archive)]) == 0
    (archived,) = archive.iterdir()
    (folder,) = (first.parent / "checkpoints").iterdir()
    assert archived.name == f"{folder.name}.json" and archived.read_text() == (folder / "result.json").read_text()

    fresh = tmp_path / "fresh" / "results.csv"
    assert main(["run", str(suite), "--results", str(fresh), "--quiet", "--seed-archive", str(archive)]) == 0
    (restored,) = (fresh.parent / "checkpoints").iterdir()
    assert not (restored / "last.pt").exists()  # nothing was trained: the archived result stands
    columns = ["entry", "top1", "top1_per_seed", "train_seconds", "workload_key"]
    before, after = (read_results(p) for p in (first, fresh))
    trained = before["measurement"] == "accuracy"
    assert before[trained][columns].to_dict("records") == after[after["measurement"] == "accuracy"][columns].to_dict(
        "records"
    )


def test_a_second_suite_copies_the_row_of_the_same_training_instead_of_training(
    fashion_mnist: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another suite's entry with the same network, budget and seeds takes the stored row's training
    columns (and where it trained), names it in reused_from, and trains nothing, though the checkpoints
    are gone; a rerun writes nothing; a retrained source is copied again; other seeds, or --force, train,
    and an entry keeps one row."""
    first, results = _suite(tmp_path, fashion_mnist), tmp_path / "out" / "results.csv"
    assert main(["run", str(first), "--results", str(results), "--quiet"]) == 0
    here = read_results(results)["machine"].dropna().iloc[0]
    results.write_text(results.read_text().replace(here, "0123456789"))  # trained on another machine
    checkpoints = results.parent / "checkpoints"
    for folder in checkpoints.iterdir():  # which keeps the checkpoints
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()
    second = tmp_path / "second.yaml"
    renamed = first.read_text().replace("name: tiny", "name: other")
    second.write_text(renamed.replace("{w: 0.35}\n", "{w: 0.35}\n    name: small\n"))
    assert main(["run", str(second), "--results", str(results)]) == 0
    assert "1 copied from rows of the same training" in capsys.readouterr().out
    assert not any(checkpoints.iterdir())  # nothing trained

    def trained() -> pd.DataFrame:
        rows = read_results(results)
        return rows[rows["measurement"] == "accuracy"]

    copy, source = (trained().set_index("suite").loc[s] for s in ("other", "tiny"))
    assert copy["reused_from"] == "tiny/mobilenetv2_100-w0.35" and copy["entry"] == "small"
    same = ["top1", "top1_per_seed", "top5", "train_seconds", "workload_key", "machine", "timestamp", "budget"]
    assert copy[same].to_dict() == source[same].to_dict() and copy["machine"] == "0123456789"  # text, not a number
    text = results.read_text()
    assert main(["run", str(second), "--results", str(results), "--quiet"]) == 0
    assert results.read_text() == text  # the copy is stored: nothing to do

    assert main(["run", str(first), "--results", str(results), "--quiet", "--force"]) == 0  # trained here
    assert main(["run", str(second), "--results", str(results), "--quiet"]) == 0
    rows = trained()
    (newest,) = rows[(rows["suite"] == "tiny") & (rows["machine"] == here)]["timestamp"]
    assert rows[rows["suite"] == "other"][["machine", "timestamp"]].values.tolist() == [[here, newest]]

    third = tmp_path / "third.yaml"  # the same network with another seed is another training
    third.write_text(second.read_text().replace("name: other", "name: third").replace("seeds: [0]", "seeds: [1]"))
    assert main(["run", str(third), "--results", str(results), "--quiet"]) == 0
    assert sorted(p.name.rsplit("-", 1)[1] for p in checkpoints.iterdir()) == ["s0", "s1"]
    assert main(["run", str(second), "--results", str(results), "--quiet", "--force"]) == 0
    rows = trained()
    assert rows[rows["suite"] == "other"]["reused_from"].isna().tolist() == [True]  # trained, the copy gone


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"\xff\xfe{", "not a readable result ('utf-8' codec can't decode"),
        (b'{"top1": 81.5, "top5": nu', "not a readable result (Expecting value"),
        (b"", "not a readable result (Expecting value"),
        (b'{"top1": 81.5, "colour": 1}', "missing field(s) epochs, images_per_s, seconds, top5, train_loss"),
    ],
)
def test_a_bad_seed_archive_file_is_named_not_the_run_folder(tmp_path: Path, content: bytes, why: str) -> None:
    """Issue 28, case 8: the error names the archive's file (not the run folder's result.json, not nothing),
    and nothing is copied into the run folder."""
    from bench.accuracy.run_state import BrokenRunError
    from bench.run import restore_seeds

    folder, archive = tmp_path / "checkpoints" / "run-s0", tmp_path / "archive"
    folder.mkdir(parents=True)
    archive.mkdir()
    (archive / "run-s0.json").write_bytes(content)
    with pytest.raises(BrokenRunError) as error:
        restore_seeds([folder], archive)
    message = str(error.value)
    assert message.startswith(f"{archive / 'run-s0.json'}: {why}") and "\n" not in message
    assert message.endswith("fix or delete this archived seed (it is then trained again)")
    assert not (folder / "result.json").exists()
