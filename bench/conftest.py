"""pytest options for the benchmarks in bench/benchmarks (``pytest bench/ --benchmark-only``)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("effbench")
    group.addoption(
        "--suite",
        default=str(ROOT / "suites" / "ci_latency.yaml"),
        help="suite whose models the latency benchmarks time (default suites/ci_latency.yaml)",
    )
    group.addoption(
        "--studies",
        action="store_true",
        help="also run the harness studies (marked 'study'): agreement with torch's Timer, repeatability, "
        "training-speed ratios; minutes each, they fail only on gross errors",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "study: a study of the harness itself, run only with --studies")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Studies of the harness are opt-in: the user's benchmark run measures models, not the harness."""
    if config.getoption("--studies"):
        return
    skip = pytest.mark.skip(reason="a harness study: run with --studies")
    for item in items:
        if "study" in item.keywords:
            item.add_marker(skip)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One latency case per entry of the chosen suite."""
    if "suite_entry" not in metafunc.fixturenames:
        return
    from bench.scaling.plan import plan_suite
    from bench.store.count_cache import ComplexityCache
    from bench.suites import load_suite

    suite = load_suite(metafunc.config.getoption("--suite"))
    planned = plan_suite(suite, ComplexityCache(None))
    metafunc.parametrize("suite_entry", [(suite, item) for item in planned], ids=[item.entry.name for item in planned])
