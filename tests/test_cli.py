"""`python -m bench ...` end to end on the smoke suite: rows, skip on rerun, --force, other commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from bench.cli import main
from bench.measure.environment import ENVIRONMENT_COLUMNS
from tests.conftest import ROOT

SMOKE = str(ROOT / "suites" / "smoke.yaml")


def test_run_writes_one_row_per_entry_then_skips_then_forces(results_path: Path, capsys) -> None:
    assert main(["run", SMOKE, "--results", str(results_path), "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "smoke: 5 rows written, 0 already done" in out and "efficientnet_b1" in out
    frame = pd.read_csv(results_path)
    assert len(frame) == 5 and set(frame["measurement"]) == {"complexity"}
    conditions = [c for c in ENVIRONMENT_COLUMNS if c not in ("gpu", "git_commit")]  # empty without a GPU / git
    assert frame[conditions].notna().all().all()
    assert set(frame["torch"]) == {torch.__version__} and (frame["torch_threads"] > 0).all()
    assert frame.loc[frame["entry"] == "efficientnet_b1", "macs"].item() == 686802832
    solved = frame[frame["target_macs"].notna()]
    assert len(solved) == 1 and abs(solved["macs"].item() / solved["target_macs"].item() - 1) <= 0.03
    assert (results_path.parent / "complexity-cache.json").exists()

    assert main(["run", SMOKE, "--results", str(results_path), "--quiet"]) == 0
    assert len(pd.read_csv(results_path)) == 5
    capsys.readouterr()
    assert main(["run", SMOKE, "--results", str(results_path), "--json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out)["suites"]
    assert (summary["suite"], summary["written"], summary["skipped"], len(summary["rows"])) == ("smoke", 0, 5, 5)
    b1 = next(row for row in summary["rows"] if row["entry"] == "efficientnet_b1")
    assert b1["macs"] == 686802832 and "target_macs" not in b1  # blank columns are left out
    assert main(["run", SMOKE, "--results", str(results_path), "--force"]) == 0
    assert "5 rows written" in capsys.readouterr().out
    assert len(pd.read_csv(results_path)) == 5


def test_parquet_results(tmp_path: Path) -> None:
    path = tmp_path / "results.parquet"
    assert main(["run", SMOKE, "--results", str(path), "--quiet", "--no-cache"]) == 0
    assert len(pd.read_parquet(path)) == 5
    assert not (tmp_path / "complexity-cache.json").exists()


def test_count_solve_models_validate(capsys) -> None:
    assert main(["count", "efficientnet_b0", "--phi", "1"]) == 0
    out = capsys.readouterr().out
    assert "efficientnet_b0-phi1: compound" in out and "859,853,760" in out
    assert main(["solve", "resnet50", "--method", "width", "--macs-ratio", "4"]) == 0
    assert "resnet50-w2.03" in capsys.readouterr().out
    assert main(["models"]) == 0
    assert "efficientnet_b7: w=2.0 d=3.1 input 600px" in capsys.readouterr().out
    assert main(["validate", SMOKE]) == 0
    assert "5 entries (1 solved)" in capsys.readouterr().out


def test_count_says_what_r_is_relative_to(capsys) -> None:
    """r is the paper's (input / the family's base size), so a B3 at 320 px is r = 320/224, which the header says."""
    assert main(["count", "efficientnet_b3", "--input-size", "320"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        "efficientnet_b3@320: preset, w=1.2 d=1.4 r=1.429 input 320px (r = input / the family's 224 px)"
    )
    assert main(["count", "resnet50", "--w", "2"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "resnet50-w2: width, w=2 d=1 r=1 input 224px"


def test_input_errors_exit_2_in_one_line(capsys) -> None:
    assert main(["count", "resnet5O"]) == 2
    assert main(["solve", "efficientnet_b0", "--method", "depth", "--match-phi", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith("error: unknown model 'resnet5O'")
    assert "depth-only scaling" in err[1]


def test_every_command_has_help(capsys) -> None:
    for command in ("run", "validate", "count", "solve", "models"):
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0
        assert "usage:" in capsys.readouterr().out


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_the_gpu_suite_is_refused_in_one_line_without_cuda(tmp_path: Path, capsys) -> None:
    results = tmp_path / "r.csv"
    assert main(["run", str(ROOT / "suites" / "throughput_gpu.yaml"), "--results", str(results)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "throughput_gpu.yaml: throughput.device: needs a CUDA GPU" in err
    assert not results.exists()


def test_latency_command_prints_percentiles_and_stores_a_row(tmp_path: Path, capsys) -> None:
    import json

    results = tmp_path / "r.csv"
    args = [
        "latency",
        "mobilenetv2_100",
        "--w",
        "0.5",
        "--input-size",
        "64",
        "--iterations",
        "3",
        "--min-time",
        "0",
        "--warmup",
        "1",
    ]
    assert main(args + ["--results", str(results)]) == 0
    out = capsys.readouterr().out
    assert "mobilenetv2_100-w0.5" in out and "p50 " in out and "p99 " in out and "CV " in out and "images/s" in out
    row = pd.read_csv(results).iloc[0]
    assert (row["suite"], row["measurement"], row["threads"], row["batch_size"]) == ("cli", "latency", 1, 1)
    assert row["latency_ms_p50"] > 0 and isinstance(row["machine"], str) and len(row["machine"]) == 10
    assert main(args + ["--json", "--batch", "2", "--channels-last"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["batch_size"] == 2 and data["memory_format"] == "channels_last" and data["input_size"] == 64


def test_rows_another_run_stored_meanwhile_are_not_counted_as_written(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three runs of one suite at once each said "23 rows written", though together they wrote 23. The count is
    the rows this process wrote; rows another run stored between this run's planning and its writes are
    already done, and left as that run wrote them. Simulated: right after this run reads the store to plan,
    another run stores 3 of the suite's 5 rows."""
    from bench import run as run_module
    from bench.store.results import append_rows

    other, results = tmp_path / "other.csv", tmp_path / "results.csv"
    assert main(["run", SMOKE, "--results", str(other), "--quiet"]) == 0
    theirs = pd.read_csv(other).head(3).assign(hostname="the-other-run").to_dict("records")
    planning_read = run_module.read_results

    def read_then_another_run_writes(path: Path):
        stored = planning_read(path)
        if path == results:
            append_rows(results, theirs)
        return stored

    monkeypatch.setattr(run_module, "read_results", read_then_another_run_writes)
    assert main(["run", SMOKE, "--results", str(results), "--jobs", "1"]) == 0
    assert "smoke: 2 rows written, 3 already done, 3 of them by another run meanwhile (" in capsys.readouterr().out
    stored = pd.read_csv(results)
    assert len(stored) == 5 and not stored.duplicated(["entry", "measurement", "workload_key"]).any()
    assert (stored["hostname"] == "the-other-run").sum() == 3  # theirs, not replaced by this run's copies
    results.unlink()
    assert main(["run", SMOKE, "--results", str(results), "--json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out)["suites"]
    assert (summary["written"], summary["skipped"], summary["stored_meanwhile"]) == (2, 3, 3)


def test_count_and_solve_print_json(capsys) -> None:
    import json

    assert main(["count", "efficientnet_b0", "--phi", "1", "--json"]) == 0
    counted = json.loads(capsys.readouterr().out)
    assert counted["macs"] == 859_853_760 and counted["input_size"] == 256 and counted["head"] == 1408
    assert main(["solve", "efficientnet_b0", "--method", "width", "--macs-ratio", "2", "--json"]) == 0
    solved = json.loads(capsys.readouterr().out)
    assert solved["method"] == "width" and abs(solved["rel_error"]) <= 0.03


def test_shards_of_a_suite_are_disjoint_and_together_the_whole_run(tmp_path: Path, capsys) -> None:
    """A sweep across machines: shard i/N of every suite runs its share; merged, the stores equal one run."""
    whole = tmp_path / "whole.csv"
    assert main(["run", SMOKE, "--results", str(whole), "--quiet"]) == 0
    parts = [tmp_path / f"shard{i}.csv" for i in (1, 2, 3)]
    for i, part in enumerate(parts, start=1):
        assert main(["run", SMOKE, "--results", str(part), "--quiet", "--shard", f"{i}/3"]) == 0
    entries = [set(pd.read_csv(p)["entry"]) if p.exists() else set() for p in parts]
    assert sum(len(e) for e in entries) == len(set().union(*entries)) == 5  # no overlap, nothing missing
    merged = tmp_path / "merged.csv"
    assert main(["merge", *[str(p) for p in parts if p.exists()], "-o", str(merged)]) == 0
    columns = ["suite", "entry", "measurement", "workload_key", "params", "macs"]
    ordered = [pd.read_csv(p)[columns].sort_values("entry").reset_index(drop=True) for p in (whole, merged)]
    pd.testing.assert_frame_equal(*ordered)
    assert main(["run", SMOKE, "--results", str(merged), "--shard", "4/3"]) == 2
    assert "need 1 <= I <= N" in capsys.readouterr().err


def test_validating_a_suite_of_family_models_does_not_import_torch(tmp_path: Path) -> None:
    suite = tmp_path / "bases.yaml"
    suite.write_text(
        "name: bases_only\nmetrics: [complexity, latency, accuracy]\nlatency: {threads: 2, batch_size: 4}\n"
        "train: {dataset: fashion_mnist, base_resolution: 20, epochs: 2}\n"
        "models:\n  - model: efficientnet_b0\n    scale: {phi: 1}\n  - model: resnet50\n    scale: {w: 2}\n"
        "  - model: efficientnet_b3\n"
    )
    probe = (
        "import sys\nfrom bench.cli import main\n"
        f"code = main(['validate', '--no-solve', {str(suite)!r}])\n"
        "print(code, 'torch' in sys.modules, 'timm' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "0 False False", done.stdout + done.stderr


def test_validate_prints_json(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nmodels: []\nsurprise: 1\n")
    assert main(["validate", SMOKE, str(bad), "--no-solve", "--json"]) == 2
    verdicts = json.loads(capsys.readouterr().out)
    assert verdicts["ok"] is False
    smoke, broken = verdicts["suites"]
    assert (smoke["ok"], smoke["suite"], smoke["entries"], smoke["solved"]) == (True, "smoke", 5, 1)
    assert broken["ok"] is False and any("surprise" in problem for problem in broken["problems"])


def test_only_input_errors_exit_2_and_a_librarys_value_error_keeps_its_traceback(monkeypatch, capsys) -> None:
    """An InputError (a bad argument or file) is one line and exit 2; a ValueError from a library (a pandas or
    numpy bug) is not taken for one: exit 1, named, its traceback behind --debug."""
    import bench.commands.one_model as one_model
    from bench.cli import EXIT_FAILURE, EXIT_INPUT_ERROR, main
    from bench.errors import InputError

    def raise_(error: Exception):
        def handler(args) -> int:
            raise error

        return handler

    monkeypatch.setattr(one_model, "_count", raise_(InputError("--w -1: must be positive")))
    assert main(["count", "resnet18"]) == EXIT_INPUT_ERROR
    assert capsys.readouterr().err == "error: --w -1: must be positive\n"
    monkeypatch.setattr(one_model, "_count", raise_(ValueError("cannot reshape array of size 3")))
    assert main(["count", "resnet18"]) == EXIT_FAILURE
    assert "ValueError: cannot reshape array of size 3 (run with --debug" in capsys.readouterr().err
    with pytest.raises(ValueError, match="cannot reshape"):
        main(["--debug", "count", "resnet18"])
