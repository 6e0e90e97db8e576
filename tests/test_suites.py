"""Suite files: every shipped suite loads; every malformed one fails with one line naming file and field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.suites import SuiteError, load_suite, parse_number
from tests.conftest import ROOT, SUITES


@pytest.mark.parametrize("path", SUITES, ids=lambda p: p.stem)
def test_shipped_suites_validate(path: Path) -> None:
    suite = load_suite(path)
    assert suite.name == path.stem
    assert suite.entries and "complexity" in suite.metrics
    assert set(suite.metrics) <= {"complexity", "latency", "throughput", "accuracy"}
    assert (suite.train is not None) == ("accuracy" in suite.metrics)
    assert (suite.latency is not None) == ("latency" in suite.metrics)


def test_required_suites_are_shipped() -> None:
    names = {p.stem for p in SUITES}
    assert {
        "smoke",
        "paper_table2",
        "paper_table3",
        "fig3_single_dim",
        "fig8_compound_vs_single",
        "ci_latency",
        "paper_table4",
        "throughput_cpu",
    } <= names


def test_sweeps_expand_and_names_derive() -> None:
    suite = load_suite(ROOT / "suites" / "fig3_single_dim.yaml")
    names = [e.name for e in suite.entries]
    # The three sweeps all start at the base (w = d = r = 1): it is one entry, kept once.
    assert names[:2] == ["efficientnet_b0", "efficientnet_b0-w1.4"]
    assert names.count("efficientnet_b0") == 1
    assert "efficientnet_b0-r2.5" in names and len(names) == 17
    r25 = next(e for e in suite.entries if e.name == "efficientnet_b0-r2.5")
    assert r25.spec.input_size == 560


def test_table2_suite_covers_b0_to_b7_with_paper_rows() -> None:
    suite = load_suite(ROOT / "suites" / "paper_table2.yaml")
    refs = {e.paper for e in suite.entries}
    assert {f"table2/efficientnet-b{i}" for i in range(8)} <= refs
    assert all(e.paper for e in suite.entries)


BAD = {
    "unknown_top_key": ("modles: []\n", "top level: unknown key 'modles' (did you mean 'models'?)"),
    "no_models": ("name: x\n", "models: must be a non-empty list"),
    "unknown_entry_key": (
        "models:\n  - {model: resnet50, sacle: {w: 2}}\n",
        "models[0]: unknown key 'sacle' (did you mean 'scale'?)",
    ),
    "unknown_model": (
        "models:\n  - model: efficentnet_b0\n",
        "models[0].model: unknown model 'efficentnet_b0'; did you mean 'efficientnet_b0'",
    ),
    "wrong_type": (
        "models:\n  - {model: resnet50, scale: {w: wide}}\n",
        "models[0].scale.w: must be a number, got 'wide'",
    ),
    "negative": (
        "models:\n  - {model: resnet50, scale: {d: -1}}\n",
        "models[0].scale.d: must be a positive number, got -1",
    ),
    "zero": ("models:\n  - {model: resnet50, scale: {r: 0}}\n", "models[0].scale.r: must be a positive number, got 0"),
    "not_scalable": (
        "models:\n  - {model: densenet169, scale: {w: 2}}\n",
        "models[0].scale: densenet169 has no scalable family",
    ),
    "preset_scaled": (
        "models:\n  - {model: efficientnet_b4, scale: {w: 2}}\n",
        "models[0].scale: efficientnet_b4 is a preset of efficientnet_b0",
    ),
    "duplicate": ("models:\n  - model: resnet50\n  - model: resnet50\n", "models[1]: duplicate entry name 'resnet50'"),
    "match_unknown": (
        "models:\n  - {model: resnet50, name: base}\n  - {model: resnet50, scale: {method: width, match: bsae}}\n",
        "models[1].scale.match: no entry named 'bsae' (did you mean 'base'?)",
    ),
    "match_cycle": (
        "models:\n  - {model: resnet50, name: a, scale: {method: width, match: b}}\n"
        "  - {model: resnet50, name: b, scale: {method: depth, match: a}}\n",
        "circular match: a -> b -> a",
    ),
    "match_without_method": (
        "models:\n  - {model: resnet50, name: a}\n  - {model: resnet50, scale: {match: a}}\n",
        "models[1].scale.method: a solved entry needs method",
    ),
    "match_with_coefficient": (
        "models:\n  - {model: resnet50, name: a}\n  - {model: resnet50, scale: {method: width, w: 2, match: a}}\n",
        "models[1].scale.w: a solved entry gets its coefficients from the solver",
    ),
    "two_sweeps": ("models:\n  - {model: resnet50, scale: {w: [1, 2], d: [1, 2]}}\n", "only one value may be a list"),
    "method_mismatch": (
        "models:\n  - {model: resnet50, scale: {method: depth, w: 2}}\n",
        "models[0].scale.method: says 'depth'",
    ),
    "bad_metric": ("metrics: [latncy]\nmodels:\n  - model: resnet50\n", "metrics[0]: unknown metric 'latncy'"),
    "bad_paper_ref": (
        "models:\n  - {model: resnet50, paper: table2/resnet50}\n",
        "models[0].paper: no reported row 'table2/resnet50' (did you mean 'table2/resnet-50'?)",
    ),
    "bad_tolerance": (
        "models:\n  - {model: resnet50, name: a}\n"
        "  - {model: resnet50, scale: {method: width, match: a, tolerance: 3}}\n",
        "models[1].scale.tolerance: must be a fraction below 1",
    ),
    "bad_alpha": ("compound: {alpha: 0.5}\nmodels:\n  - model: resnet50\n", "compound.alpha: must be >= 1"),
    "not_yaml": ("models: [\n", "line 2: not valid YAML"),
    "entry_not_mapping": ("models:\n  - resnet50\n", "models[0]: must be a mapping, got str"),
    "latency_block_without_metric": (
        "latency: {threads: 1}\nmodels:\n  - model: resnet50\n",
        "latency: settings given but 'latency' is not in metrics",
    ),
    "latency_unknown_key": (
        "metrics: [latency]\nlatency: {thread: 1}\nmodels:\n  - model: resnet50\n",
        "latency: unknown key 'thread' (did you mean 'threads'?)",
    ),
    "latency_bad_type": (
        "metrics: [latency]\nlatency: {channels_last: 1}\nmodels:\n  - model: resnet50\n",
        "latency.channels_last: must be true or false, got 1",
    ),
    "latency_fp16_cpu": (
        "metrics: [latency]\nlatency: {precision: fp16}\nmodels:\n  - model: resnet50\n",
        "latency: fp16 autocast is a CUDA path",
    ),
    "throughput_batches": (
        "metrics: [throughput]\nthroughput: {batch_sizes: [0, 8]}\nmodels:\n  - model: resnet50\n",
        "throughput.batch_sizes: must be a non-empty list of positive integers",
    ),
    "size_and_r": (
        "models:\n  - {model: resnet50, input_size: 256, scale: {r: 2}}\n",
        "models[0].scale: give either a resolution coefficient or an input_size",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_suite_gives_one_line_naming_file_and_field(tmp_path: Path, case: str) -> None:
    text, expected = BAD[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    with pytest.raises(SuiteError) as error:
        load_suite(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_latency_and_throughput_blocks() -> None:
    suite = load_suite(ROOT / "suites" / "throughput_cpu.yaml")
    assert suite.throughput.batch_sizes == (1, 8, 32)
    assert suite.throughput.conditions.threads is None and suite.throughput.conditions.channels_last
    ci = load_suite(ROOT / "suites" / "ci_latency.yaml")
    assert ci.latency.threads == 1 and ci.latency.batch_size == 1


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="no such suite file"):
        load_suite(tmp_path / "nope.yaml")


def test_cli_reports_a_bad_suite_in_one_line_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("models:\n  - {model: resnet50, scale: {w: -2}}\n")
    results = tmp_path / "out" / "results.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "run", str(path), "--results", str(results)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: {path}: models[0].scale.w: must be a positive number, got -2"]
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("text", "value"), [("1.8G", 1.8e9), ("1.8e9", 1.8e9), ("300M", 3e8), (2, 2.0), ("x", None), (True, None)]
)
def test_numbers_accept_yaml_strings_and_units(text, value) -> None:
    assert parse_number(text) == value


def test_a_learning_curve_trains_each_entry_at_each_epoch_count(tmp_path: Path) -> None:
    from bench.run import suite_tasks
    from bench.scaling.plan import plan_suite
    from bench.store.count_cache import ComplexityCache

    path = tmp_path / "curve.yaml"
    path.write_text(
        "metrics: [complexity, accuracy]\nresolution_divisor: 1\n"
        "train: {base_resolution: 16, epochs: [4, 8, 16]}\nseeds: [0]\n"
        "models: [{model: efficientnet_b0}, {model: efficientnet_b0, scale: {w: 1.2}}]\n"
    )
    suite = load_suite(path)
    assert suite.curve_epochs == (4, 8, 16)
    assert [b.epochs for b in suite.budgets] == [4, 8, 16]
    tasks = [t for t in suite_tasks(suite, plan_suite(suite, ComplexityCache(None), 1)) if t.measurement == "accuracy"]
    assert sorted((t.planned.entry.name, t.budget.epochs) for t in tasks) == sorted(
        (name, e) for name in ("efficientnet_b0", "efficientnet_b0-w1.2") for e in (4, 8, 16)
    )
    assert len({t.key for t in tasks}) == 6  # each point its own row


@pytest.mark.parametrize(
    "epochs, message",
    [
        ("[]", "train.epochs: must be a positive integer or a non-empty list"),
        ("[4, 0]", "train.epochs: must be a positive integer or a non-empty list"),
        ("[4, 4]", "train.epochs: has repeated values"),
    ],
)
def test_a_bad_learning_curve_is_one_line(tmp_path: Path, epochs: str, message: str) -> None:
    path = tmp_path / "curve.yaml"
    path.write_text(
        f"metrics: [complexity, accuracy]\ntrain: {{epochs: {epochs}}}\nmodels: [{{model: efficientnet_b0}}]\n"
    )
    with pytest.raises(SuiteError, match=message.replace("[", r"\[")):
        load_suite(path)


def test_an_entry_may_name_its_own_seeds(tmp_path: Path) -> None:
    from bench.run import suite_tasks
    from bench.scaling.plan import plan_suite
    from bench.store.count_cache import ComplexityCache

    path = tmp_path / "grid.yaml"
    path.write_text(
        "metrics: [complexity, accuracy]\nresolution_divisor: 1\ntrain: {base_resolution: 14}\nseeds: [0]\n"
        "models: [{model: efficientnet_b0, seeds: [0, 1, 2]}, {model: efficientnet_b0, scale: {w: 1.2}}]\n"
    )
    suite = load_suite(path)
    tasks = [t for t in suite_tasks(suite, plan_suite(suite, ComplexityCache(None), 1)) if t.measurement == "accuracy"]
    assert [t.seeds for t in tasks] == [(0, 1, 2), (0,)]
    path.write_text(path.read_text().replace("seeds: [0, 1, 2]", "seeds: [1, 1]"))
    with pytest.raises(SuiteError, match=r"models\[0\]\.seeds: has repeated seeds"):
        load_suite(path)


def test_a_suites_name_alone_is_read_as_load_suite_reads_it(tmp_path) -> None:
    from bench.suites import SuiteError, load_suite, suite_name

    named, unnamed = tmp_path / "named.yaml", tmp_path / "noname.yaml"
    named.write_text("name: mine\nmetrics: [complexity]\nmodels:\n  - model: resnet18\n")
    unnamed.write_text("metrics: [complexity]\nmodels:\n  - model: resnet18\n")
    for path in (named, unnamed):
        assert suite_name(path) == load_suite(path).name
    (tmp_path / "bad.yaml").write_text("name: [1]\n")
    with pytest.raises(SuiteError, match="name"):
        suite_name(tmp_path / "bad.yaml")


def test_the_validator_refuses_a_field_annotation_it_has_no_rule_for() -> None:
    """A tuple or Literal field is a TypeError naming the annotation, not checked as an integer."""
    from dataclasses import dataclass

    from bench.suites import _Validator, field_kind

    assert field_kind("int") == ("int", False)
    assert field_kind("float | None") == ("float", True)
    for annotation in ("tuple[int, ...]", "Literal['a', 'b']", "int | str"):
        with pytest.raises(TypeError, match="no rule for a field annotated"):
            field_kind(annotation)

    @dataclass(frozen=True)
    class WithTuple:
        size: int = 1
        batches: tuple[int, ...] = (1,)

    with pytest.raises(TypeError, match=r"tuple\[int, \.\.\.\]"):
        _Validator("s.yaml").dataclass_from(WithTuple, {"size": 2}, "x")
