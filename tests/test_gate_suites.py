"""The gate serves a researcher's CI: their own models from their own git repository, scaled entries, a
suite's latency block, and stored timings where there is no git. Only gross, injected slowdowns are
asserted (a 12x wider layer), never a speed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import torch

from bench.cli import main
from bench.gate import interleaved as gate
from bench.gate import timings as gate_timings
from bench.gate.worker import _Worker
from bench.models.registry import make_spec
from bench.specs import LatencyConditions
from tests.conftest import ROOT

NETS = """\
from torch import nn


def small(width: int = 8, num_classes: int = 1000, in_chans: int = 3):
    return nn.Sequential(nn.Conv2d(in_chans, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, width, 3, padding=1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes))
"""
SUITE = """\
name: mine
metrics: [complexity, latency]
latency: {threads: 1, batch_size: 2, channels_last: true}
models:
  - {model: lab_%s.nets:small, model_args: {width: 16}, input_size: 64}
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A researcher's git repository: a package with a model, a suite, one commit; the working directory."""
    package = tmp_path / f"lab_{tmp_path.name}"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "nets.py").write_text(NETS)
    (tmp_path / "mine.yaml").write_text(SUITE % tmp_path.name)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "baseline")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def _slow_down(repo: Path) -> None:
    """The candidate's model: the same, with its middle conv 12x wider (the kind of edit a gate must catch)."""
    slow = NETS.replace(
        "nn.Conv2d(width, width, 3, padding=1)",
        "nn.Conv2d(width, 12 * width, 3, padding=1), nn.Conv2d(12 * width, width, 3, padding=1)",
    )
    (repo / f"lab_{repo.name}" / "nets.py").write_text(slow)


def test_the_gate_compares_a_users_model_at_the_baseline_revision_with_the_working_tree(repo: Path, capsys) -> None:
    assert main(["gate", "--suite", "mine.yaml", "--set-baseline", "HEAD"]) == 0
    assert (repo / "mine.baseline.json").exists()  # beside the suite, as suites/ci_latency.baseline.json
    _slow_down(repo)
    code = main(["gate", "--suite", "mine.yaml", "--rounds", "1", "--pairs", "6"])
    out = capsys.readouterr().out
    # a machine so busy that every round waited for its core may leave it unjudged, and then says so
    assert (code == 1 and "REGRESSED" in out) or (code == 3 and "shared the core" in out), out
    assert "small-width16@64" in out
    assert "1 thread(s), batch 2, fp32, channels_last, cpu" in out  # the suite's latency block, both sides


def test_outside_git_the_gate_says_what_to_do_and_stored_timings_catch_a_slower_model(repo: Path, capsys) -> None:
    subprocess.run(["rm", "-rf", str(repo / ".git")], check=True)
    assert main(["gate", "--suite", "mine.yaml"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not inside a git checkout" in err and "--save-timings" in err

    stored = repo / "timings.json"
    assert main(["gate", "--suite", "mine.yaml", "--save-timings", str(stored), "--rounds", "1"]) == 0
    assert "gate timings:" in capsys.readouterr().out
    _slow_down(repo)
    code = main(["gate", "--suite", "mine.yaml", "--timings", str(stored), "--rounds", "1", "--pairs", "6"])
    out = capsys.readouterr().out
    assert (code == 1 and "REGRESSED" in out) or (code == 3 and "shared the core" in out), out
    assert "not interleaved" in out and "interleaved pairs" not in out
    assert "fail above +30%" in out  # stored medians drift 20-30 % without a change: a coarser default
    data = gate_timings.read_timings(stored)
    data["machine"] = "elsewhere"
    stored.write_text(__import__("json").dumps(data))
    assert main(["gate", "--suite", "mine.yaml", "--timings", str(stored)]) == 2
    assert "compare on one machine only" in capsys.readouterr().err


def test_the_worker_builds_scaled_specs_under_the_suites_conditions() -> None:
    from dataclasses import asdict

    worker = _Worker({})
    spec = make_spec("resnet18", width=0.5, input_size=64)
    conditions = {"threads": 1, "batch_size": 3, "precision": "fp32", "channels_last": True, "device": "cpu"}
    assert worker.build(spec.name, asdict(spec), conditions) == {"ok": True}
    assert worker.runner is not None and worker.runner.input.shape == (3, 3, 64, 64)
    assert worker.runner.input.is_contiguous(memory_format=torch.channels_last)
    assert len(worker.time(2)["ms"]) == 2


def test_a_baseline_worker_that_predates_specs_refuses_scaled_entries_in_one_line() -> None:
    """The shipped CI baseline's worker builds plain names only: a scaled entry, or other conditions,
    would silently be timed differently on that side, so the gate refuses."""
    revision = gate.read_baseline(ROOT / gate.DEFAULT_BASELINE)["revision"]
    scaled = gate.GateModel("r18-half", make_spec("resnet18", width=0.5, input_size=64))
    with pytest.raises(ValueError, match="needs? a newer baseline"):
        gate.run_gate([scaled], revision, gate.GateSettings(rounds=1, pairs=1), root=ROOT, cwd=ROOT)
    two = gate.GateModel("resnet18", make_spec("resnet18"), LatencyConditions(threads=1, batch_size=2))
    assert not two.plain and gate.GateModel("resnet18", make_spec("resnet18")).plain


def test_a_suite_whose_models_live_elsewhere_is_refused_with_the_alternative(repo: Path) -> None:
    with pytest.raises(ValueError, match="--baseline-python"):
        gate.run_gate(["resnet18"], "HEAD", gate.GateSettings(rounds=1, pairs=1), cwd=repo)


def test_the_baseline_side_gets_the_helper_modules_the_model_imports(repo: Path) -> None:
    """A model in a top-level module that imports a top-level helper: the baseline worker is given the
    helper as it was at the baseline revision (a helper added since is simply not there)."""
    name = repo.name
    (repo / f"layers_{name}.py").write_text("WIDTH = 8\n")
    (repo / f"mynet_{name}.py").write_text(
        f"from torch import nn\n\nfrom layers_{name} import WIDTH\n\n\n"
        "def net(num_classes: int = 10, in_chans: int = 3):\n"
        "    return nn.Sequential(nn.Conv2d(in_chans, WIDTH, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(),\n"
        "                         nn.Linear(WIDTH, num_classes))\n"
    )
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a model in modules")
    (repo / f"extra_{name}.py").write_text("")  # imported by the candidate only
    source = (repo / f"mynet_{name}.py").read_text()
    (repo / f"mynet_{name}.py").write_text(
        source.replace("from torch import nn\n", f"from torch import nn\n\nimport extra_{name}  # noqa\n")
    )
    model = gate.GateModel(f"mynet_{name}:net", make_spec(f"mynet_{name}:net", input_size=16))
    report = gate.run_gate([model], "HEAD", gate.GateSettings(rounds=1, pairs=2, extra_rounds=0), cwd=repo)
    assert [v.model for v in report.verdicts] == [model.name] and report.verdicts[0].rounds == 1


NOISY_SUITE = """\
name: noisy
metrics: [complexity, latency]
latency: {threads: 1, batch_size: 1}
models:
  - {model: lab_%s.nets:small, model_args: {width: 64}, input_size: 128}
"""


def test_a_noisy_neighbour_on_the_gates_core_makes_it_too_noisy_to_judge_not_regressed(repo: Path, capsys) -> None:
    """A process spinning on the core the workers are pinned to (a noisy neighbour) while unchanged code is
    compared: every forward waits for the core (CPU/wall near 0.5), so the gate re-takes, then says it cannot
    judge (exit 3, one line why) instead of failing. Forwards of tens of ms, so the neighbour preempts each."""
    import json
    import os
    import sys

    (repo / "noisy.yaml").write_text(NOISY_SUITE % repo.name)
    assert main(["gate", "--suite", "noisy.yaml", "--set-baseline", "HEAD"]) == 0
    core = max(os.sched_getaffinity(0))  # the gate's core for one thread (bench.gate.interleaved.timing_cores)
    spin = f"import os\nos.sched_setaffinity(0, {{{core}}})\nwhile True:\n    pass\n"
    neighbour = subprocess.Popen([sys.executable, "-c", spin])
    try:
        args = ["--rounds", "2", "--pairs", "3", "--extra-rounds", "2", "--json", "gate.json"]
        code = main(["gate", "--suite", "noisy.yaml", *args])
    finally:
        neighbour.kill()
        neighbour.wait()
    out = capsys.readouterr().out
    last = out.strip().splitlines()[-1]
    assert code == 3 and last.startswith("latency gate: TOO NOISY TO JUDGE") and "shared the core" in last, out
    (verdict,) = json.loads((repo / "gate.json").read_text())["verdicts"]
    assert verdict["outcome"] == "too noisy" and verdict["rounds"] == 4 and verdict["contended_rounds"] >= 1
