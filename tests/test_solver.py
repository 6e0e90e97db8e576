"""Cost-matched solving: hits targets within tolerance, fails clearly when a target cannot be hit."""

from __future__ import annotations

import pytest

from bench.models.registry import make_spec, workload_key
from bench.scaling.plan import plan_suite
from bench.scaling.solver import SolverError, solve
from bench.store.count_cache import ComplexityCache
from bench.suites import SuiteError, load_suite
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def cache() -> ComplexityCache:
    return ComplexityCache(None)


@pytest.mark.parametrize("method", ["width", "depth", "resolution", "compound"])
def test_solver_matches_the_b0_compound_model_within_3_percent(cache: ComplexityCache, method: str) -> None:
    target = cache.macs(make_spec("efficientnet_b0", width=1.2, depth=1.4, resolution=1.3))
    match = solve("efficientnet_b0", method, target, cache.macs)
    assert abs(match.rel_error) <= 0.03
    assert match.spec.method == method
    assert match.macs == cache.macs(match.spec)  # the reported MACs are the spec's own
    assert match.evaluations <= 12


@pytest.mark.parametrize("base", ["resnet50", "mobilenetv1_100", "mobilenetv2_100"])
@pytest.mark.parametrize("method", ["width", "depth", "resolution"])
def test_solver_hits_four_times_the_baseline(cache: ComplexityCache, base: str, method: str) -> None:
    target = 4 * cache.macs(make_spec(base))
    assert abs(solve(base, method, target, cache.macs).rel_error) <= 0.03


def test_solved_coefficients_are_short_decimals_of_the_same_network(cache: ComplexityCache) -> None:
    target = 2.5 * cache.macs(make_spec("resnet50"))
    match = solve("resnet50", "width", target, cache.macs)
    assert len(f"{match.spec.width}".split(".")[-1]) <= 4
    assert workload_key(match.spec) == workload_key(make_spec("resnet50", width=match.spec.width))


def test_resolution_solution_is_on_the_4px_grid_with_exact_r(cache: ComplexityCache) -> None:
    match = solve("mobilenetv2_100", "resolution", 2.2e9, cache.macs, tolerance=0.05)
    assert match.spec.input_size % 4 == 0
    assert match.spec.resolution == match.spec.input_size / 224


def test_compound_solution_reproduces_a_preset_cost(cache: ComplexityCache) -> None:
    target = cache.macs(make_spec("efficientnet_b3"))
    match = solve("efficientnet_b0", "compound", target, cache.macs)
    assert abs(match.rel_error) <= 0.03 and match.spec.phi is not None
    assert 1.5 < match.spec.phi < 2.5  # B3 is about 4.7x B0: phi ~ log(4.7) / log(1.92)


def test_depth_staircase_gap_is_reported_not_fudged(cache: ComplexityCache) -> None:
    """Just above d = 2 every stage gains a block: depth-only B0 jumps from 0.78 G to 0.97 G MACs, and the
    error names the variants either side of the target."""
    target = cache.macs(make_spec("efficientnet_b0", phi=1.0))  # 0.86 G
    with pytest.raises(SolverError) as raised:
        solve("efficientnet_b0", "depth", target, cache.macs)
    assert str(raised.value) == (
        "depth-only scaling of efficientnet_b0 cannot reach 0.8599 G MACs within 3%: its MACs step over it, from "
        "d=2 (0.7823 G, -9.0%) to d=2.001 (0.9661 G, +12.4%), as repeats, channels and sizes round to whole numbers"
    )


def test_any_phi_above_0_adds_a_block_to_every_stage(cache: ComplexityCache) -> None:
    """ceil(d * repeats) with d = 1.2^phi > 1 rounds every stage up, so compound B0 has no variant between 1x and
    1.48x its MACs; asking for 1.2x says so instead of answering with B0 itself."""
    base = cache.macs(make_spec("efficientnet_b0"))
    assert make_spec("efficientnet_b0", phi=0.01).depth > 1
    with pytest.raises(SolverError, match=r"compound scaling of efficientnet_b0 cannot reach .* from phi=0 \(0.3858 G"):
        solve("efficientnet_b0", "compound", 1.2 * base, cache.macs)


def test_a_tolerance_finer_than_the_search_is_searched_for(cache: ComplexityCache) -> None:
    """Below GOOD_ENOUGH (0.25 %) the search narrows on to the tolerance: a miss is then a real step, and the two
    neighbours are told apart by their coefficients in full (their short names would both read w1.45)."""
    base = cache.macs(make_spec("efficientnet_b0"))
    assert abs(solve("efficientnet_b0", "width", 2 * base, cache.macs, tolerance=0.002).rel_error) <= 0.002
    with pytest.raises(SolverError, match=r"within 0.05%: its MACs step over it, from w=1.44997 .* to w=1.45 "):
        solve("efficientnet_b0", "width", 2 * base, cache.macs, tolerance=0.0005)


def test_unreachable_and_invalid_targets(cache: ComplexityCache) -> None:
    with pytest.raises(SolverError, match="out of reach") as below:
        solve("mobilenetv1_100", "depth", 1e3, cache.macs)
    assert str(below.value) == (
        "target 0.000001 G MACs is out of reach of depth-only scaling of mobilenetv1_100: d=1 gives 0.5687 G, so by "
        "the power law it needs about d=1.758e-06, past the range searched (d >= 0.002479)"
    )
    with pytest.raises(ValueError, match="positive"):
        solve("resnet50", "width", -1, cache.macs)
    with pytest.raises(ValueError, match="not a scalable base"):
        solve("densenet169", "width", 1e9, cache.macs)


@pytest.mark.parametrize("suite", ["paper_table3", "paper_table7"])
def test_paper_suites_single_dimension_rows_match_their_compound_within_3_percent(cache, suite: str) -> None:
    planned = plan_suite(load_suite(ROOT / "suites" / f"{suite}.yaml"), cache)
    solved = [p for p in planned if p.target_macs is not None]
    assert len(solved) >= 3
    for item in solved:
        assert abs(cache.macs(item.spec) / item.target_macs - 1) <= 0.03, item.entry.name
        if item.entry.target.entry is not None:  # matched to another entry: same MACs as it, as we count them
            other = next(p for p in planned if p.entry.name == item.entry.target.entry)
            assert item.target_macs == cache.macs(other.spec)


def test_unreachable_match_in_a_suite_is_a_one_line_suite_error(tmp_path, cache: ComplexityCache) -> None:
    path = tmp_path / "gap.yaml"
    path.write_text(
        "models:\n  - {model: efficientnet_b0, name: c, scale: {phi: 1}}\n"
        "  - {model: efficientnet_b0, scale: {method: depth, match: c}}\n"
    )
    with pytest.raises(SuiteError) as error:
        plan_suite(load_suite(path), cache)
    message = str(error.value)
    assert message.startswith(f"{path}: models[1]: depth-only scaling") and "\n" not in message


def test_solving_a_preset_names_its_base(cache: ComplexityCache) -> None:
    with pytest.raises(ValueError, match=r"^efficientnet_b3 is not a scalable base; it is a preset of efficientnet_b0"):
        solve("efficientnet_b3", "depth", 1e9, cache.macs)


@pytest.mark.parametrize(
    ("method", "reason"),
    [
        ("resolution", "224 px gives 0.3858 G, and by the power law input size 342120 px is outside 8-2048 px"),
        ("compound", "phi=22.47251573677918 is outside -4 <= phi <= 12"),
    ],
)
def test_a_target_past_a_coefficient_limit_is_out_of_reach_in_one_wording(
    cache: ComplexityCache, method: str, reason: str
) -> None:
    """Past the range limits (ScaleLimits) or past the range searched, every method says it the same way."""
    scaling = "compound scaling" if method == "compound" else f"{method}-only scaling"
    with pytest.raises(SolverError) as error:
        solve("efficientnet_b0", method, 900e12, cache.macs)
    assert str(error.value) == f"target 900,000 G MACs is out of reach of {scaling} of efficientnet_b0: {reason}"
