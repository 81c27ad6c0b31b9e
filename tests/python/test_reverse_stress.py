"""Reverse stress tests: a plan that runs out only when two risks occur together names that
pair; the trials described are the result's own; errors."""

from __future__ import annotations

import pytest

import fiscalrisk as fr

from tolerances import MC_SIGMAS


def plan(**risk_c: object) -> fr.Scenario:
    uniform = {"dist": "uniform", "low": 5e6, "high": 7e6}
    return fr.Scenario.from_dict({
        "plan": {"name": "Pair", "first_year": "2019/20", "years": 2, "net_budget": [100e6, 100e6]},
        "risks": [
            {"id": "A", "name": "Equal pay", "probability": 0.4, "impact": uniform},
            {"id": "B", "name": "Games", "probability": 0.25, "impact": uniform, "profile": {"2020/21": 1.0}},
            {"id": "C", "name": "Strike", "probability": 0.5, "impact": {"dist": "fixed", "value": 3e6}, **risk_c},
        ],
        "reserves": {"general_fund": 10e6},
    })


def test_the_pair_whose_joint_occurrence_exhausts_reserves_is_named() -> None:
    result = plan().simulate(trials=50_000, seed=4)
    stress = result.reverse_stress("exhausted")
    assert stress.smallest_sets == [["A", "B"]] and stress.smallest_exact
    # Reserves of 10m run out only if A and B both occur (10m to 14m); with C alone, at most 10m.
    se = (0.1 * 0.9 / result.trials) ** 0.5
    assert abs(stress.probability - 0.4 * 0.25) < MC_SIGMAS * se
    assert stress.probability == result.p_exhausted
    assert all({"A", "B"} <= set(r) for r in stress.combinations["risks"].to_list())
    assert stress.combinations["trials"].sum() == round(stress.probability * result.trials)
    shares = stress.combinations["share"].to_list()
    assert shares == sorted(shares, reverse=True) and sum(shares) == pytest.approx(1.0)
    inputs = {row["id"]: row for row in stress.inputs.iter_rows(named=True)}
    # A always occurs in those trials: its mean there is its conditional mean, 6m.
    assert inputs["A"]["mean_when_met"] == pytest.approx(6e6, rel=0.02)
    # C is independent of the pair: its mean is the same there (within Monte Carlo error).
    sd_c = 3e6 * 0.5 / (stress.probability * result.trials) ** 0.5
    assert abs(inputs["C"]["mean_when_met"] - 1.5e6) < MC_SIGMAS * sd_c
    assert "Reverse stress test" in stress._repr_html_()


def test_a_larger_third_risk_makes_a_single_risk_enough() -> None:
    stress = plan(impact={"dist": "fixed", "value": 11e6}).simulate(trials=5_000, seed=1).reverse_stress()
    assert stress.smallest_sets == [["C"]]


def test_below_minimum_and_errors() -> None:
    result = plan().simulate(trials=2_000, seed=1)
    assert result.reverse_stress("below_minimum").threshold == "below_minimum"
    with pytest.raises(fr.ValidationError, match='threshold: "broke" is not one of exhausted, below_minimum'):
        result.reverse_stress("broke")
    with pytest.raises(fr.ValidationError, match="top: 0"):
        result.reverse_stress(top=0)
