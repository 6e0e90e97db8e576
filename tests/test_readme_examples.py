"""Every shell example of the README and the docs runs as written, or is named here with the reason it is not run.

The examples are read from the ```bash blocks of README.md and docs/*.md; each ``.venv/bin/python -m bench ...`` line is
run (through bash, so globs work) in a scratch folder that sees the project's ``suites/`` and checked-in
``reports/measured/``, with ``mylab/nets.py`` written from the README's own Python example. A new
example that is neither cheap enough to run nor named below fails this test, so the README cannot
grow an example nobody ran.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = "\n".join(path.read_text() for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])
PREFIX = ".venv/bin/python -m bench "
#: Subcommands whose examples are not run here, and why (each is tested elsewhere on small inputs).
NOT_RUN = {
    "run": "counts or trains for minutes to hours; `bench run` is tested on the smoke suites (test_cli, test_runs)",
    "eval": "needs an image folder such as ~/imagenet/val; eval is tested on photographs (test_pretrained)",
    "gate": "tens of seconds to minutes of interleaved timing; tested in test_gate and test_gate_suites",
    "merge": "merges the user's own stores (machine-a.csv ...); tested in test_results",
    "pick --latency-ms": "times the 155-model zoo suite first (minutes on 2 cores); tested on two or three models "
    "in test_zoo and test_pick_quick",
    "scale": "times about 80 networks, each paired with B0 (about 25 minutes on one core); the search is tested "
    "on synthetic latency laws and the stored pairs on a tiny model in test_hw_scaling",
}


#: Examples that run, in the slow tier (pytest -m slow): about a minute each on 2 busy cores.
SLOW = {
    "validate suites/*.yaml": "solves every matched entry of every suite",
    "latency resnet50 --threads 2 --batch 8": "20 forwards of ResNet-50 at batch 8",
}


def _examples() -> list[str]:
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        lines += [line.split("  #")[0].strip() for line in block.splitlines() if line.startswith(PREFIX)]
    return list(dict.fromkeys(lines))  # an example shown in the README and again in a docs page runs once


def _subcommand(example: str) -> str:
    return example[len(PREFIX) :].split()[0]


def _not_run(example: str) -> bool:
    """Named in NOT_RUN by its subcommand, or by the start of its arguments (``pick --latency-ms``)."""
    return any(example[len(PREFIX) :].startswith(key) for key in NOT_RUN)


#: Examples that answer from the rows shipped in reports/measured/, timed on the project's own machine:
#: elsewhere they must say, in one line, that this machine has no such rows.
#: (None now: ``pick --macs 1G --no-measure`` answers from the shipped counts on any machine.)
MACHINE_BOUND: dict[str, str] = {}


#: What each example must print (a regex searched in its stdout), by the start of its arguments; the first key
#: that matches is used, and every runnable example must match one (a new example says what it should print).
EXPECT = {
    "--help": r"usage: python -m bench",
    "models": r"efficientnet: bases efficientnet_b0",
    "count efficientnet_b0 --per-layer": r"per operator:\n\s+convolution",
    "count mylab.nets:tiny": r"params\s+[\d,]+",
    "count": r"MACs\s+[\d,]+ +\(",
    "solve resnet50 --method width --macs 16G --json": r'^\{"model": "resnet50-w2\.015"',
    "solve": r"MACs [\d.]+ G vs target",
    "latency": r"p50",
    "validate": r": ok, suite '",
    "pick --macs 1G --no-measure": r"within <= 1 G MACs by exact counts",
    "export": r"\d+ rows -> ",
}


def _expected(example: str) -> str:
    args = example[len(PREFIX) :]
    return next(pattern for key, pattern in EXPECT.items() if args.startswith(key))


def _runnable() -> list:
    return [
        pytest.param(e, marks=pytest.mark.slow) if any(e[len(PREFIX) :].startswith(k) for k in SLOW) else e
        for e in _examples()
        if not _not_run(e)
    ]


def test_the_readme_has_examples_and_every_skipped_one_has_a_reason() -> None:
    examples = _examples()
    assert len(examples) >= 20
    ran = {_subcommand(e) for e in examples if not _not_run(e)}
    assert ran >= {"count", "solve", "latency", "validate", "export", "pick"}
    assert all(any(e[len(PREFIX) :].startswith(k) for e in examples) for k in NOT_RUN), "a reason for nothing"
    unexpected = [e for e in examples if not _not_run(e) and not any(e[len(PREFIX) :].startswith(k) for k in EXPECT)]
    assert not unexpected, f"say what these print (EXPECT): {unexpected}"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme")
    (folder / "suites").symlink_to(ROOT / "suites")
    (folder / "reports").mkdir()
    (folder / "reports" / "measured").symlink_to(ROOT / "reports" / "measured")
    match = re.search(r"```python\n(# mylab/nets\.py.*?)```", README, re.S)
    assert match, "the README's 'Your own models' example (mylab/nets.py) is gone"
    (folder / "mylab").mkdir()
    (folder / "mylab" / "__init__.py").write_text("")
    (folder / "mylab" / "nets.py").write_text(match.group(1))
    return folder


@pytest.mark.integration  # each example is a process of its own (seconds each)
@pytest.mark.parametrize("example", _runnable())
def test_a_readme_example_runs_as_written_and_prints_what_it_should(scratch: Path, example: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = example.replace(".venv/bin/python", sys.executable, 1)
    proc = subprocess.run(["bash", "-c", command], cwd=scratch, env=env, capture_output=True, text=True, timeout=600)
    assert "Traceback" not in proc.stderr
    bound = next((message for key, message in MACHINE_BOUND.items() if example.endswith(key)), None)
    if bound is not None and proc.returncode == 2 and not _shipped_rows_are_from_this_machine():
        assert bound in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        return
    assert proc.returncode == 0, f"{example}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    assert re.search(_expected(example), proc.stdout, re.M), f"{example} printed:\n{proc.stdout[-2000:]}"


def _shipped_rows_are_from_this_machine() -> bool:
    from bench.measure.environment import environment, machine_fingerprint
    from bench.store.results import read_results

    machines = set(read_results(ROOT / "reports" / "measured" / "zoo_frontier_cpu.csv")["machine"])
    return machine_fingerprint(environment()) in machines
