"""A researcher's own ``package.module:function`` model: counted, timed, trained and stored like a timm
model, with its source digest in the row, and every misuse one line."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from bench.cli import main
from bench.models.registry import build_model, make_spec, workload_key
from bench.models.user import UserModelError, parse_arg
from bench.specs import InputSpec
from bench.suites import SuiteError, load_suite

MODEL_FILE = """\
from torch import nn


def tiny(width: int = 8, num_classes: int = 1000, in_chans: int = 3):
    return nn.Sequential(
        nn.Conv2d(in_chans, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(width, num_classes),
    )


def anything(**kwargs):
    return nn.Sequential(nn.Conv2d(kwargs["in_chans"], 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(4, kwargs["num_classes"]))


def not_a_module():
    return 3


def raises():
    raise RuntimeError("no weights here")


def exits():
    import sys

    sys.exit(0)


NOT_CALLABLE = 3
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's folder holding a package with a model file, as the working directory."""
    package = tmp_path / f"lab_{tmp_path.name}"  # a fresh package name: sys.modules keeps earlier ones
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "nets.py").write_text(MODEL_FILE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def _ref(project: Path, function: str = "tiny") -> str:
    return f"lab_{project.name}.nets:{function}"


def test_a_user_model_is_built_counted_and_keyed_by_its_source(project: Path) -> None:
    spec = make_spec(_ref(project), input_size=32, model_args={"width": 16})
    assert (spec.family, spec.method, spec.name) == ("user", "user", "tiny-width16@32")
    assert spec.source is not None and spec.source.startswith(_ref(project) + "@")
    model = build_model(spec)
    assert model[0].out_channels == 16 and model[-1].out_features == 1000 and not model.training
    ten_classes = make_spec(_ref(project), model_args={"width": 16}, inputs=_inputs())
    assert build_model(ten_classes)[-1].out_features == 10 and build_model(ten_classes)[0].in_channels == 1
    assert build_model(make_spec(_ref(project, "anything"), inputs=_inputs()))[-1].out_features == 10

    key = workload_key(spec)
    assert workload_key(make_spec(_ref(project), input_size=32, model_args={"width": 8})) != key
    (project / f"lab_{project.name}" / "nets.py").write_text(MODEL_FILE.replace("padding=1", "padding=2"))
    edited = make_spec(_ref(project), input_size=32, model_args={"width": 16})
    assert edited.source != spec.source and workload_key(edited) != key  # an edit is a new workload
    assert build_model(edited)[0].padding == (2, 2)  # and the edited code is what gets built


def test_an_edit_to_any_file_of_the_users_code_is_a_new_workload(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model's module imports its layers from a sibling (relative, at module level) and a head
    from another (absolute, inside the function): editing either changes the digest and what is built,
    even within the second and at the same size, with bytecode caching on (as on a user's machine)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    package = project / f"lab_{project.name}"
    (package / "layers.py").write_text(
        "from torch import nn\n\nPAD = 1\n\ndef conv(c, w):\n    return nn.Conv2d(c, w, 3, padding=PAD)\n"
    )
    (package / "heads.py").write_text("from torch import nn\n\ndef head(w, n):\n    return nn.Linear(w, n)\n")
    (package / "split.py").write_text(
        "from torch import nn\n\nfrom .layers import conv\n\n\n"
        "def net(width: int = 8, num_classes: int = 10, in_chans: int = 3):\n"
        f"    from lab_{project.name}.heads import head\n\n"
        "    pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())\n"
        "    return nn.Sequential(conv(in_chans, width), *pool, head(width, num_classes))\n"
    )
    from bench.models.user import local_sources

    reference = f"lab_{project.name}.split:net"
    spec = make_spec(reference, input_size=32)
    assert [f.name for f in local_sources(package / "split.py", f"lab_{project.name}.split")] == [
        "__init__.py",
        "heads.py",
        "layers.py",
        "split.py",
    ]  # the package's other module (nets.py) is not imported, so not part of this model
    (package / "layers.py").write_text((package / "layers.py").read_text().replace("PAD = 1", "PAD = 2"))
    edited = make_spec(reference, input_size=32)
    assert edited.source != spec.source and workload_key(edited) != workload_key(spec)
    assert build_model(edited)[0].padding == (2, 2)  # the sibling module was imported afresh
    (package / "heads.py").write_text(
        (package / "heads.py").read_text().replace("nn.Linear(w, n)", "nn.Linear(w, n, bias=False)")
    )
    again = make_spec(reference, input_size=32)
    assert again.source not in (spec.source, edited.source) and build_model(again)[-1].bias is None


def test_a_linked_module_is_digested_with_the_helpers_beside_the_link(project: Path) -> None:
    """A model file linked in from elsewhere imports a helper that sits beside the link: the helper is
    part of the model's code, and a package's __init__ is part of every module in it."""
    from bench.models.user import local_sources

    shared = project / "shared"
    shared.mkdir()
    (shared / "linked.py").write_text("from helper import WIDTH\n")
    (project / "linked.py").symlink_to(shared / "linked.py")
    (project / "helper.py").write_text("WIDTH = 4\n")
    assert [f.name for f in local_sources(project / "linked.py", "linked")] == ["helper.py", "linked.py"]
    package = project / f"lab_{project.name}"
    (package / "__init__.py").write_text("from .nets import tiny  # noqa\n")
    names = [f.name for f in local_sources(package / "nets.py", f"lab_{project.name}.nets")]
    assert names == ["__init__.py", "nets.py"]


def _inputs():
    from bench.specs import InputSpec

    return InputSpec(base_resolution=28, in_chans=1, num_classes=10)


@pytest.mark.parametrize(
    ("reference", "args", "message"),
    [
        ("mylab.nowhere:tiny", {}, "cannot import 'mylab.nowhere'"),
        ("{module}:missing", {}, "has no 'missing'"),
        ("{module}:NOT_CALLABLE", {}, "is not callable"),
        ("{module}:not_a_module", {}, "returned int, not a torch.nn.Module"),
        ("{module}:raises", {}, "raised RuntimeError: no weights here"),
        ("{module}:exits", {}, "exits() called sys.exit(0); a model function must return a module"),
        ("{module}:tiny", {"depth": 3}, "unexpected keyword argument 'depth'"),
        ("{module}:tiny", {"width": [1, 2]}, "model_args.width must be a number"),
        ("my lab:tiny", {}, "is not a model reference"),
    ],
)
def test_user_model_errors_are_one_line(project: Path, reference: str, args: dict, message: str) -> None:
    reference = reference.format(module=f"lab_{project.name}.nets")
    with pytest.raises(UserModelError) as error:
        build_model(make_spec(reference, model_args=args))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_model_that_calls_sys_exit_is_one_line_not_a_silent_exit_0(project: Path, capsys) -> None:
    """Issue 28, case 5: ``bench count`` and ``bench run`` said nothing and exited 0; the row was missing."""
    assert main(["count", _ref(project, "exits")]) == 2
    suite = project / "exits.yaml"
    suite.write_text(
        f"name: exits\nmetrics: [complexity]\nmodels:\n  - model: {_ref(project)}\n"
        f"  - model: {_ref(project, 'exits')}\n"
    )
    assert main(["run", str(suite), "--results", str(project / "results.csv"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error: ") and "called sys.exit(0)" in line for line in err)


def test_scaling_and_model_args_are_refused_where_they_mean_nothing(project: Path) -> None:
    with pytest.raises(ValueError, match="measured as built"):
        make_spec(_ref(project), width=2)
    with pytest.raises(ValueError, match="your own model: it takes no total stride"):
        make_spec(_ref(project), inputs=InputSpec(total_stride=8))
    with pytest.raises(ValueError, match="model_args are for your own"):
        make_spec("resnet18", model_args={"width": 2})
    assert parse_arg("width=16") == ("width", 16) and parse_arg("p=0.5") == ("p", 0.5)
    assert parse_arg("act=relu") == ("act", "relu") and parse_arg("bn=false") == ("bn", False)
    with pytest.raises(UserModelError, match="KEY=VALUE"):
        parse_arg("width")


def test_cli_counts_and_times_a_user_model_and_stores_its_source(project: Path, capsys) -> None:
    assert main(["count", _ref(project), "--model-arg", "width=16", "--input-size", "32"]) == 0
    out = capsys.readouterr().out
    assert f"your model ({_ref(project)}@" in out and "width=16" in out and "17,448" in out
    results = project / "results.csv"
    args = ["latency", _ref(project), "--iterations", "5", "--min-time", "0", "--warmup", "1", "--no-pin"]
    assert main([*args, "--results", str(results)]) == 0
    row = pd.read_csv(results).iloc[0]
    assert row["family"] == "user" and row["model_source"].startswith(_ref(project) + "@")
    assert main(["count", _ref(project, "not_a_module")]) == 2
    assert main(["count", _ref(project), "--w", "2"]) == 2
    err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("warning: ")]
    assert len(err) == 2 and "not a torch.nn.Module" in err[0] and "measured as built" in err[1]


def test_a_suite_of_user_models_runs_and_trains(project: Path, fashion_mnist: Path, capsys) -> None:
    suite = project / "mine.yaml"
    suite.write_text(
        textwrap.dedent(
            f"""\
            name: mine
            metrics: [complexity, accuracy]
            train: {{dataset: fashion_mnist, data_root: {fashion_mnist}, base_resolution: 16, train_images: 256,
                    test_images: 128, epochs: 1, batch_size: 64, optimizer: adamw, lr: 3.0e-3, threads: 1}}
            seeds: [0]
            models:
              - {{model: {_ref(project)}, model_args: {{width: 8}}}}
              - {{model: {_ref(project)}, name: wide, model_args: {{width: 24}}}}
            """
        )
    )
    results = project / "results.csv"
    assert main(["run", str(suite), "--results", str(results)]) == 0  # checkpoints beside the results
    rows = pd.read_csv(results)
    trained = rows[rows["measurement"] == "accuracy"].set_index("entry")
    assert set(trained.index) == {"tiny-width8", "wide"} and trained["top1"].notna().all()
    assert (trained["model_source"].str.contains("width=24")).sum() == 1
    counted = rows[rows["measurement"] == "complexity"].set_index("entry")
    assert counted.loc["wide", "params"] > counted.loc["tiny-width8", "params"]

    # the report of those rows, from another folder where the models' package cannot be imported
    elsewhere = project / "elsewhere"
    elsewhere.mkdir()
    os.chdir(elsewhere)
    if str(project) in sys.path:  # the fixture put it there; effbench itself leaves sys.path as it was
        sys.path.remove(str(project))
    for name in [m for m in sys.modules if m.startswith(f"lab_{project.name}")]:
        del sys.modules[name]  # as in a fresh process: the package is not importable from here
    from bench.report.__main__ import main as report_main

    args = ["--no-measure", "--suites", str(suite), "--results", str(results), "--include", "--out", "out", "--quiet"]
    assert report_main(args) == 0
    assert "mine" in (elsewhere / "out" / "index.html").read_text()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{{model: {ref}, model_args: [1, 2]}}", "must be a mapping"),
        ("{{model: resnet18, model_args: {{width: 2}}}}", "model_args are for your own"),
        ("{{model: {ref}, scale: {{w: 2}}}}", "measured as built"),
        ("{{model: mylab.gone:tiny}}", "cannot import 'mylab.gone'"),
    ],
)
def test_bad_user_model_entries_name_the_place(project: Path, entry: str, message: str) -> None:
    suite = project / "bad.yaml"
    suite.write_text("name: bad\nmodels:\n  - " + entry.format(ref=_ref(project)) + "\n")
    with pytest.raises(SuiteError) as error:
        load_suite(suite)
    assert message in str(error.value) and "models[0]" in str(error.value)


def test_eval_scores_a_one_channel_few_class_user_model_as_trained(project: Path, capsys) -> None:
    """A grey, 2-class model of the user's, saved as a state dict: eval builds it with the checkpoint's
    classes and channels at the size asked, and the row records the model as scored. Left out, the
    classes or channels are one line that says which flag to pass."""
    import numpy as np
    import torch
    from PIL import Image

    from bench.store.results import read_results

    reference = _ref(project)
    model = build_model(make_spec(reference, model_args={"width": 4}, inputs=_inputs_of(1, 2)))
    checkpoint = project / "tiny.pt"
    torch.save(model.state_dict(), checkpoint)
    folder = project / "images"
    rng = np.random.default_rng(0)
    for label in ("0", "1"):
        (folder / label).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(folder / label / f"{i}.png")
    results = project / "eval.csv"
    common = ["eval", reference, str(folder), "--checkpoint", str(checkpoint), "--model-arg", "width=4"]
    args = [*common, "--num-classes", "2", "--in-chans", "1", "--input-size", "32", "--results", str(results)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "4 images" in out and "input 32px" in out and "mean 0.449 std 0.226" in out
    (row,) = read_results(results).to_dict("records")
    assert row["model_source"].endswith("(width=4)") and row["input_size"] == 32 and row["top1"] is not None
    assert main([*args, "--mean", "0.3", "--std", "0.3"]) == 0  # another normalisation is another row
    assert len(read_results(results)) == 2
    assert main([*common, "--in-chans", "1", "--no-store"]) == 2
    assert "pass --num-classes 2" in capsys.readouterr().err
    assert main([*common, "--num-classes", "2", "--no-store"]) == 2
    assert "pass --in-chans 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*common, "--show", "-1"])


def _inputs_of(in_chans: int, num_classes: int):
    from bench.specs import InputSpec

    return InputSpec(in_chans=in_chans, num_classes=num_classes)


@pytest.mark.parametrize(
    ("flags", "model_size", "expected"),
    [
        ({}, 288, {}),  # nothing asked: timm's config for the model decides
        ({"in_chans": 1}, 288, {"input_size": (1, 288, 288), "mean": (0.449,), "std": (0.226,)}),
        ({"in_chans": 3}, 288, {"input_size": (3, 288, 288)}),
        ({"input_size": 64}, 288, {"input_size": (3, 64, 64)}),
        (
            {"in_chans": 1, "mean": (0.3,), "std": (0.2,)},
            224,
            {"input_size": (1, 224, 224), "mean": (0.3,), "std": (0.2,)},
        ),
        ({"mean": (0.5,)}, 224, {"mean": (0.5, 0.5, 0.5)}),
    ],
)
def test_eval_transform_overrides(flags: dict, model_size: int, expected: dict) -> None:
    import argparse

    from bench.commands.evaluate import _data_overrides

    args = argparse.Namespace(**{"in_chans": None, "input_size": None, "mean": None, "std": None, **flags})
    assert _data_overrides(args, {}, model_size) == expected


def test_a_user_model_leaves_no_trace_on_the_users_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Imported and built from the working directory: no bytecode written there, a .pyc the user already
    has is neither deleted nor trusted over the source, and sys.path is as it was."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as on a user's machine
    package = tmp_path / f"trace_{tmp_path.name}"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "nets.py").write_text(MODEL_FILE)
    cache = package / "__pycache__"
    cache.mkdir()
    theirs = cache / "unrelated.cpython-311.pyc"
    theirs.write_bytes(b"the user's own file")
    monkeypatch.chdir(tmp_path)
    before = list(sys.path)
    reference = f"trace_{tmp_path.name}.nets:tiny"
    model = build_model(make_spec(reference, input_size=32, model_args={"width": 4}))
    assert model[0].out_channels == 4
    assert sys.path == before
    assert sorted(p.name for p in cache.iterdir()) == [theirs.name] and theirs.read_bytes() == b"the user's own file"
    assert sorted(p.name for p in package.iterdir()) == ["__init__.py", "__pycache__", "nets.py"]
