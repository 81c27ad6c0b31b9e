"""Issue 33: provisions, the DSG deficit and the collection fund, through the Python API, checked
against closed forms and properties (not the implementation's arithmetic)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fiscalrisk as fr
from fiscalrisk import excel


def plan(first: str = "2026/27", years: int = 3, **extra: Any) -> fr.Scenario:
    return fr.Scenario.from_dict({
        "plan": {"name": "sheet", "first_year": first, "years": years, "net_budget": [100e6] * years},
        "reserves": {"general_fund": 50e6}, **extra})


def test_a_dsg_deficit_growing_by_uniform_years_has_the_triangular_percentile() -> None:
    # £10m, then U(0, 20m) added each year: the second year's deficit is £10m plus a sum of two
    # uniforms, triangular on [0, 40m]: P(S > s) = (40 - s)^2 / 800 (in £m), so its 90th
    # percentile is 40 - sqrt(80) = 31.056, and the deficit's 41.056m. Its median after one
    # year is 10 + 10.
    u = {"dist": "uniform", "low": 0.0, "high": 20e6}
    r = plan(dsg={"deficit": 10e6, "in_year": [u, u, u], "override_ends": "2028/29"}).simulate(trials=20_000, seed=3)
    t = r.by_year()
    assert t["dsg_deficit_p50"][0] == pytest.approx(20e6, abs=0.5e6)
    assert t["dsg_deficit_p90"][1] == pytest.approx((10 + 40 - 80 ** 0.5) * 1e6, abs=0.5e6)


def test_the_dsg_interest_is_the_closed_form_on_the_average_deficit() -> None:
    # With the deficit fixed, the year's gap is the interest: rate x (open + close) / 2, exactly.
    s = plan(dsg={"deficit": 16.13e6, "in_year": [17.87e6, 0, 0], "interest_rate": 0.06})
    gap = s.ledger()["gap"].to_list()
    assert gap[0] == Decimal("0.06") * (Decimal("16130000") + Decimal("34000000")) / 2
    assert gap[1] == Decimal("0.06") * Decimal("34000000")


@settings(max_examples=40, deadline=None)
@given(
    pence=st.integers(min_value=-10**11, max_value=10**11),
    spread=st.integers(min_value=1, max_value=3),
)
def test_a_collection_fund_deficit_is_charged_in_full_to_the_penny(pence: int, spread: int) -> None:
    # Whatever the amount and spread, the parts add up to it exactly, differ by at most the
    # remainder's pennies, and fall on the `spread` years after it arises.
    amount = Decimal(pence) / 100
    s = plan(first="2021/22", years=4, collection_fund={"brought_forward": str(amount), "spread_years": spread})
    gap = s.ledger()["gap"].to_list()
    assert sum(gap) == amount
    assert all(g == 0 for g in gap[spread:])
    assert max(gap[:spread]) - min(gap[:spread]) <= Decimal("0.02")


def test_provisions_by_year_and_its_sheet(tmp_path: Path) -> None:
    accrual = {"dist": "uniform", "low": 5e6, "high": 14e6}
    s = plan(first="2023/24", provisions=[
        {"name": "equal pay", "opening": 650e6, "accrual_per_month": [accrual, 0, 0], "payments": [0, 100e6, 0]}])
    r = s.simulate(trials=10_000, seed=9)
    t = r.provisions_by_year()
    assert t.columns == ["provision", "year", "charge_mean", "charge_p50", "charge_p90", "payments",
                         "balance_p50", "balance_p90"]
    # Twelve months of one U(5m, 14m) rate: U(60m, 168m), median 114m, 90th percentile 157.2m.
    assert t["charge_p50"][0] == pytest.approx(114e6, abs=2e6)
    assert t["charge_p90"][0] == pytest.approx(157.2e6, abs=2e6)
    assert t["balance_p50"][1] == pytest.approx(650e6 + 114e6 - 100e6, abs=2e6)
    # The general fund meets the charge when recognised: £50m of reserves against £60m or more.
    assert r.by_year()["p_s114_in_year"][0] == 1.0
    out = r.to_excel(tmp_path / "r.xlsx")
    shown = pl.read_excel(out, sheet_name="Provisions").columns
    assert all("_" not in h and h[:1].isupper() for h in shown), shown
    assert excel.read(out, "Provisions")["charge_p90"][0] == pytest.approx(t["charge_p90"][0])
    # A plan without provisions has no such sheet.
    assert "Provisions" not in excel.sheets(plan().simulate(trials=200, seed=1))


@pytest.mark.parametrize(
    "extra, says",
    [
        ({"provisions": [{"name": "x", "recognised": [1, 2]}]},
         'provisions[0] ("x").recognised: 2 amounts for a plan of 3 years'),
        ({"dsg": {"deficit": -5, "in_year": [1, 1, 1]}}, "dsg.deficit: -5.00 is negative"),
        ({"dsg": {"deficit": 5, "in_year": [1, 1, 1], "write_off": {"probability": 1.5}}},
         "dsg.write_off.probability: 1.5 is not between 0 and 1"),
        ({"collection_fund": {"spread_years": 0}}, "collection_fund.spread_years: 0 is not between 1 and 3"),
    ],
)
def test_bad_balance_sheet_input_is_a_validation_error_naming_the_key(extra: dict[str, Any], says: str) -> None:
    with pytest.raises(fr.ValidationError, match=None) as e:
        plan(**extra)
    assert says in str(e.value)


@settings(max_examples=30, deadline=None)
@given(
    drawn=st.integers(min_value=100_000, max_value=100_000_000),
    internal=st.integers(min_value=0, max_value=150_000_000),
)
def test_treasury_interest_is_the_closed_form_in_every_case(drawn: int, internal: int) -> None:
    # £100m of cash, a one-off cost of `drawn` in the first year: the second year's gap is the
    # net interest lost, 5% beyond internal borrowing, 6% on the shortfall below it.
    def net(cash: Decimal) -> Decimal:
        over = max(cash - internal, Decimal(0))
        under = max(internal - cash, Decimal(0))
        return Decimal("0.05") * over - Decimal("0.06") * under

    s = fr.Scenario.from_dict({
        "plan": {"name": "t", "first_year": "2024/25", "years": 2, "net_budget": [100e6] * 2},
        "reserves": {"general_fund": 100e6},
        "pressures": [{"name": "P", "amount": {"dist": "fixed", "value": drawn}, "first_year": "2024/25",
                       "recurring": False}],
        "treasury": {"investment_rate": 0.05, "borrowing_rate": 0.06, "internal_borrowing": internal}})
    rows = s.ledger()
    cash = Decimal(100_000_000)
    assert rows["treasury_cost"][0] == 0
    assert rows["treasury_cost"][1] == (net(cash) - net(cash - drawn)).quantize(Decimal("0.01"))
