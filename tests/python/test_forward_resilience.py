"""Forward-looking resilience indicators of a plan: at zero uncertainty they equal the
published-returns indicators of the plan's exact ledger; with uncertainty, their percentiles
agree with the reserves distribution the plan reports."""

from __future__ import annotations

import polars as pl
import pytest

import fiscalrisk as fr
from fiscalrisk import resilience

from tolerances import ARITHMETIC_RTOL, SKETCH_RTOL, MC_SIGMAS

CERTAIN = {
    "plan": {"name": "Certain", "first_year": "2019/20", "years": 4, "net_budget": [200e6, 205e6, 210e6, 215e6]},
    "pressures": [
        {"name": "Care", "amount": {"dist": "fixed", "value": 4e6}, "first_year": "2019/20"},
        {"name": "Inquiry", "amount": {"dist": "fixed", "value": 3e6}, "first_year": "2020/21", "recurring": False},
    ],
    "risks": [{"id": "EP", "name": "Equal pay", "probability": 1.0, "impact": {"dist": "fixed", "value": 5e6},
               "profile": {"2021/22": 1.0}}],
    "reserves": {"general_fund": 12e6, "earmarked": [{"name": "Smoothing", "balance": 15e6, "usable": True},
                                                    {"name": "Schools", "balance": 9e6, "usable": False}]},
}


def ledger_as_returns(scenario: fr.Scenario) -> pl.DataFrame:
    """The plan's exact ledger written as published returns: 1 April is the previous 31 March."""
    ledger = scenario.ledger()
    d = scenario.to_dict()
    gf, em = 12e6, 15e6
    rows = []
    for i, row in enumerate(ledger.iter_rows(named=True)):
        rows.append({
            "ecode": "PLAN", "year": row["year"],
            "net_revenue_expenditure": d["plan"]["net_budget"][i], "council_tax_requirement": None,
            "earmarked_reserves_1apr": em, "unallocated_reserves_1apr": gf,
            "earmarked_reserves_31mar": float(row["usable_earmarked"]),
            "unallocated_reserves_31mar": float(row["general_fund"]),
            "interest_payable": None, "provision_repayment_principal": None, "leasing_payments": None,
        })
        gf, em = float(row["general_fund"]), float(row["usable_earmarked"])
    return pl.DataFrame(rows, schema_overrides={c: pl.Float64 for c in rows[0] if c not in ("ecode", "year")})


def test_forward_indicators_at_zero_uncertainty_equal_the_deterministic_ones() -> None:
    s = fr.Scenario.from_dict(CERTAIN)
    published = resilience.indicators(ledger_as_returns(s), peer_group="all")
    forward = s.simulate(trials=100, seed=5).resilience()
    assert forward["indicator"].unique().len() == 5
    for row in forward.iter_rows(named=True):
        want = published.filter(pl.col("year") == row["year"])[row["indicator"]][0]
        assert row["p50"] == pytest.approx(want, rel=ARITHMETIC_RTOL), row
        assert row["p10"] == row["p50"] == row["p90"]
        assert row["defined"] == 1.0


def test_reserve_ratio_percentiles_match_the_reserves_distribution() -> None:
    s = fr.examples.birmingham_2019()
    r = s.simulate(trials=50_000, seed=11)
    by_year = r.by_year()
    budget = s.net_budget
    ratio = r.resilience().filter(pl.col("indicator") == "reserves_to_nre")
    for i, (year, p50) in enumerate(by_year.select("year", "reserves_p50").rows()):
        got = ratio.filter(pl.col("year") == year)["p50"][0]
        assert got == pytest.approx(p50 / float(budget[i]), rel=ARITHMETIC_RTOL)
    # P(usable reserves below their own P5) is about 5%: the probability reads the same sketch.
    year, p5 = by_year.select("year", "reserves_p5").row(2)
    p = r.probability_below("reserves_to_nre", p5 / float(budget[2]), year)
    se = (0.05 * 0.95 / r.trials) ** 0.5
    assert abs(p - 0.05) < MC_SIGMAS * se + SKETCH_RTOL


def test_probability_below_is_monotone_and_bounded() -> None:
    r = fr.examples.birmingham_2019().simulate(trials=20_000, seed=2)
    ps = [r.probability_below("reserves_sustainability", t, "2021/22") for t in (0.5, 1, 2, 5, 100, 101)]
    assert ps == sorted(ps) and ps[0] >= 0 and ps[-1] == 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("interest_payable_to_nre", 1.0, "2021/22"), "not simulated for a plan"),
        (("reserves_level", 1.0, "2021/22"), '"reserves_level" is not one of'),
        (("reserves_to_nre", 1.0, "2031/32"), '"2031/32" is not a year of the plan'),
        (("reserves_to_nre", float("nan"), "2021/22"), "threshold: NaN"),
    ],
)
def test_errors(args: tuple[str, float, str], message: str) -> None:
    # A plan without a capital section: debt and interest are not simulated for it.
    data = fr.examples.birmingham_2019().to_dict()
    data.pop("capital")
    r = fr.Scenario.from_dict(data).simulate(trials=1000, seed=2)
    with pytest.raises(fr.ValidationError) as e:
        r.probability_below(*args)
    assert message in str(e.value)
