"""Funding, drivers and the MTFS view from Python: the reference plan balances as the council
set it, published council tax figures, exact identities (hypothesis), sensitivities against
re-evaluated scenarios, exact bridges, simulated distributions against closed forms."""

from __future__ import annotations

import copy
import pickle
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import norm

import fiscalrisk as fr
from tolerances import ARITHMETIC_RTOL, MC_SIGMAS, SKETCH_RTOL

YEARS = ["2019/20", "2020/21", "2021/22", "2022/23"]


def test_the_reference_plan_balances_in_every_year_as_the_council_set_it() -> None:
    # "A balanced four-year budget (2019/20-2022/23) with no reliance on reserves for savings"
    # (Birmingham City Council, Improvement Stock-take Report, March 2019).
    s = fr.examples.birmingham_2019()
    t = s.mtfs()
    assert t["year"].to_list() == YEARS
    assert [str(x) for x in t["gap_after_savings"]] == ["0.00"] * 4
    # Its tax base is the published one (Report to Cabinet, "Council Tax Tax-base for 2019/20",
    # 22 January 2019), and its 2019/20 increase is within the referendum principles.
    ct = s.council_tax()
    assert ct["tax_base"][0] == Decimal("251580")
    assert not ct["flagged"].any()
    # The net budget is the central case's funding.
    assert s.net_budget == list(t["funding"])


def test_the_increases_actually_set_give_the_published_band_d() -> None:
    # Rolling the 2018/19 Band D forward by the increases Birmingham set (4.99% in 2019/20,
    # 3.99% in 2020/21, 4.99% with 3% for social care in 2021/22, 2.99% in 2022/23) gives
    # £1,748.19 in 2021/22 and £1,800.46 in 2022/23 (Express & Star, "Council tax set to rise
    # in Birmingham ...", 19 January 2022).
    d = fr.examples.birmingham_2019().to_dict()
    ct = d["funding"]["council_tax"]
    ct["core_increase"] = {"2019/20": 0.0299, "2020/21": 0.0199, "2021/22": 0.0199, "2022/23": 0.0199}
    ct["asc_precept"] = {"2019/20": 0.02, "2020/21": 0.02, "2021/22": 0.03, "2022/23": 0.01}
    band_d = fr.Scenario.from_dict(d).council_tax()["band_d"]
    assert [str(x) for x in band_d[2:]] == ["1748.19", "1800.46"]


def test_a_bridge_from_plan_to_what_was_set_attributes_council_tax() -> None:
    # The plan of February 2019 assumed 1.99% a year after 2019/20; the council set more.
    old = fr.examples.birmingham_2019()
    d = old.to_dict()
    ct = d["funding"]["council_tax"]
    ct["asc_precept"] = {"2019/20": 0.02, "2020/21": 0.02, "2021/22": 0.03, "2022/23": 0.01}
    ct["tax_base"] = {"2019/20": 251580, "2021/22": 253995}  # Report to Cabinet, 19 January 2021
    new = fr.Scenario.from_dict(d)
    b = fr.bridge(old, new)
    assert set(b["input"]) == {"council_tax"}
    total = b.group_by("year", maintain_order=True).agg(pl.col("change").sum())
    change = new.mtfs()["gap_after_savings"] - old.mtfs()["gap_after_savings"]
    assert total["change"].to_list() == change.to_list()
    assert total["change"][0] == 0  # 2019/20 did not change
    assert all(x < 0 for x in total["change"][1:])  # more council tax: a smaller gap


def _funded(draw: Any) -> dict[str, Any]:
    years = draw(st.integers(1, 4))
    rate = st.decimals(min_value=Decimal("-0.05"), max_value=Decimal("0.10"), places=4).map(float)
    drivers = [{"name": f"d{i}", "rate": draw(rate)} for i in range(draw(st.integers(1, 3)))]
    names = [x["name"] for x in drivers]
    lines = []
    for i in range(draw(st.integers(1, 4))):
        base = draw(st.integers(1, 500)) * 1e6
        chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
        shares = {n: 1.0 / (len(chosen) + 1) for n in chosen}
        lines.append({"name": f"L{i}", "base": base, "drivers": shares})
    data: dict[str, Any] = {
        "plan": {"name": "h", "first_year": "2024/25", "years": years},
        "drivers": drivers,
        "funding": {
            "council_tax": {"tax_base": draw(st.integers(1_000, 400_000)), "band_d": draw(st.integers(800, 2500)),
                            # Years beyond the shipped principles: limits as 2025/26's.
                            "referendum_limits": {y: {"core": 0.03, "asc": 0.02} for y in ("2026/27", "2027/28")},
                            "core_increase": draw(st.sampled_from([0.0, 0.0199, 0.0299])),
                            "asc_precept": draw(st.sampled_from([0.0, 0.01, 0.02])),
                            "tax_base_growth": draw(st.sampled_from(names + [0.0, 0.01]))},
            "grants": [{"name": "G", "amount": draw(st.integers(0, 100)) * 1e6}],
            "fees": [{"name": "F", "price": 2.5, "volume": draw(st.integers(0, 10)) * 1e6, "price_driver": names[0]}],
        },
        "spending": lines,
        "savings": [{"id": f"S{k}", "name": "s", "year": "2024/25", "value": draw(st.integers(0, 20)) * 1e6,
                     "rag": "green", "recurring": draw(st.booleans())} for k in range(draw(st.integers(0, 3)))],
    }
    return data


@given(st.data())
def test_mtfs_identities_hold_exactly(data: st.DataObject) -> None:
    s = fr.Scenario.from_dict(_funded(data.draw))
    t = s.mtfs()
    sources = t["council_tax"] + t["business_rates"] + t["grants"] + t["fees_and_charges"] + t["other_funding"]
    assert (sources == t["funding"]).all()
    assert (t["spending_lines"] + t["pressures"] == t["spending"]).all()
    assert (t["funding"] - t["spending"] == -t["gap_before_savings"]).all()
    assert (t["gap_before_savings"] - t["savings"] == t["gap_after_savings"]).all()
    lines = s.mtfs_lines().filter(side="spending", kind="line").group_by("year", maintain_order=True).agg(pl.col("amount").sum())
    assert lines["amount"].to_list() == t["spending_lines"].to_list()


@given(st.data())
def test_each_driver_sensitivity_is_the_ledgers_change(data: st.DataObject) -> None:
    spec = _funded(data.draw)
    s = fr.Scenario.from_dict(spec)
    sens = s.sensitivities()
    base = s.mtfs()["gap_after_savings"]
    for k, d in enumerate(spec["drivers"]):
        bumped = copy.deepcopy(spec)
        bumped["drivers"][k]["rate"] = float(Decimal(str(d["rate"])) + Decimal("0.01"))
        change = fr.Scenario.from_dict(bumped).mtfs()["gap_after_savings"] - base
        got = sens.filter(input=d["name"])["change_per_1pct"]
        assert got.to_list() == change.to_list()


@given(st.data())
def test_a_bridge_sums_exactly(data: st.DataObject) -> None:
    spec = _funded(data.draw)
    new = copy.deepcopy(spec)
    new["drivers"][0]["rate"] = data.draw(st.sampled_from([0.0, 0.02, 0.07]))
    new["spending"][0]["base"] = spec["spending"][0]["base"] + 5e6
    if data.draw(st.booleans()):
        new["funding"]["grants"].append({"name": "Extra", "amount": 3e6})
    if data.draw(st.booleans()):
        new["savings"] = []
    old_s, new_s = fr.Scenario.from_dict(spec), fr.Scenario.from_dict(new)
    b = fr.bridge(old_s, new_s)
    expected = new_s.mtfs()["gap_after_savings"] - old_s.mtfs()["gap_after_savings"]
    for year, change in zip(new_s.mtfs()["year"], expected):
        assert sum(b.filter(year=year)["change"].to_list(), Decimal(0)) == change


def _uncertain_pay(sd: float = 0.01) -> fr.Scenario:
    return fr.Scenario.from_dict({
        "plan": {"name": "u", "first_year": "2023/24", "years": 2},
        "drivers": [{"name": "pay", "rate": {"dist": "normal", "mean": 0.03, "sd": sd}}],
        "funding": {"council_tax": {"tax_base": 100_000, "band_d": 2100}},
        "spending": [{"name": "Pay", "base": 200e6, "drivers": {"pay": 1.0}}],
        "reserves": {"general_fund": 30e6},
    })


def test_simulated_spending_follows_the_drivers_distribution() -> None:
    # One line indexed to a normal rate: in the first year, 200m x (1 + r), r ~ N(3%, 1%); the
    # rate is one draw per trial for every year, so the second year is 200m x (1 + r)^2.
    r = _uncertain_pay().simulate(trials=50_000, seed=3, progress=False)
    for p in (10, 50, 90):
        t = r.mtfs(f"p{p}")
        z = norm.ppf(p / 100)
        first = 200e6 * (1 + 0.03 + z * 0.01)
        second = 200e6 * (1 + 0.03 + z * 0.01) ** 2
        # Sampling error of a quantile: sd x sqrt(p(1-p)/n) / density, plus the sketch's bucket.
        se = 200e6 * 0.01 * np.sqrt(p / 100 * (1 - p / 100) / r.trials) / norm.pdf(z)
        assert t["spending_lines"][0] == pytest.approx(first, abs=MC_SIGMAS * se + SKETCH_RTOL * first)
        assert t["spending_lines"][1] == pytest.approx(second, abs=2 * MC_SIGMAS * se + SKETCH_RTOL * second)
    mean = r.mtfs()
    assert mean["spending_lines"][0] == pytest.approx(206e6, abs=MC_SIGMAS * 2e6 / np.sqrt(r.trials))


def test_simulated_means_keep_the_identities_and_add_up_to_the_gap() -> None:
    r = fr.examples.birmingham_2019().simulate(trials=20_000, seed=5, progress=False)
    t = r.mtfs()
    scale = 1e9
    for a, b in [
        (t["funding"] - t["spending"], -t["gap_before_savings"]),
        (t["gap_before_savings"] - t["savings"], t["gap_after_savings"]),
        (t["council_tax"] + t["business_rates"] + t["grants"] + t["fees_and_charges"], t["funding"]),
    ]:
        assert np.allclose(a.to_numpy(), b.to_numpy(), rtol=0, atol=ARITHMETIC_RTOL * scale * 100)
    # Each trial's gap is its gap after savings plus its risks, less what the budgets set from
    # 2020/21 closed (none in the first year, whose budget is the plan's).
    gap = r.by_year()["gap_mean"].to_numpy()
    assert np.allclose(gap, (t["gap_after_savings"] + t["risks"] - t["closed_by_budget"]).to_numpy(), rtol=1e-9)
    closed = t["closed_by_budget"].to_list()
    assert closed[0] == 0 and all(c > 1e6 for c in closed[1:])


def test_a_result_keeps_its_mtfs_through_pickle_and_json() -> None:
    r = _uncertain_pay().simulate(trials=5_000, seed=1, progress=False)
    again = pickle.loads(pickle.dumps(r))
    assert again.mtfs("p90").equals(r.mtfs("p90"))


def test_cases_and_bad_arguments() -> None:
    s = _uncertain_pay()
    o, c, p = (s.mtfs(k)["gap_after_savings"] for k in ("optimistic", "central", "pessimistic"))
    assert (o < c).all() and (c < p).all()
    # The pessimistic pay award is the 90th percentile of N(3%, 1%).
    z = float(norm.ppf(0.9))
    pay = s.mtfs_lines("pessimistic").filter(name="Pay")["amount"][0]
    assert float(pay) == pytest.approx(200e6 * (1.03 + z * 0.01), abs=0.01)
    with pytest.raises(fr.ValidationError, match="case: \"likely\" is not one of central"):
        s.mtfs("likely")
    r = s.simulate(trials=2_000, seed=1, progress=False)
    with pytest.raises(fr.ValidationError, match="statistic: \"p100\" is not mean or a percentile"):
        r.mtfs("p100")


def test_bad_funding_from_python_names_the_field() -> None:
    d = _uncertain_pay().to_dict()
    d["spending"][0]["drivers"] = {"wages": 1.0}
    with pytest.raises(fr.ValidationError, match=r"spending\[0\]\.drivers\.wages: \"wages\" is not the name of a driver"):
        fr.Scenario.from_dict(d)
    d = _uncertain_pay().to_dict()
    d["funding"]["council_tax"]["collection_rate"] = float("nan")
    with pytest.raises(fr.ValidationError, match="collection_rate"):
        fr.Scenario.from_dict(d)
    d = _uncertain_pay().to_dict()
    d["drivers"][0]["rate"] = {"dist": "normal", "mean": 0.0, "sd": 0.5}
    with pytest.raises(fr.ValidationError, match=r"drivers\[0\]\.rate: the distribution reaches"):
        fr.Scenario.from_dict(d)


def test_referendum_table_and_flags() -> None:
    t = fr.referendum_principles()
    assert t["year"].to_list()[0] == "2016/17"
    assert t.filter(year="2022/23")["asc_limit"][0] == Decimal("0.01")
    d = _uncertain_pay().to_dict()
    d["funding"]["council_tax"].update(core_increase=0.0799, asc_precept=0.02)
    with pytest.warns(fr.FiscalRiskWarning, match="excessive under the referendum principles"):
        s = fr.Scenario.from_dict(d)
    assert s.council_tax()["flagged"].all()
    # A list of years waives them (the form before 0.7.0), and says so.
    d["funding"]["council_tax"]["dispensation"] = ["2023/24", "2024/25"]
    with pytest.warns(fr.FiscalRiskWarning, match="is waived in full"):
        waived = fr.Scenario.from_dict(d)
    assert not waived.council_tax()["flagged"].any()
    # A bespoke principle is a limit: +2.5 points makes 7.5%, which 9.99% still exceeds.
    d["funding"]["council_tax"]["dispensation"] = {"2023/24": 0.025, "2024/25": 0.025}
    with pytest.warns(fr.FiscalRiskWarning, match="excessive"):
        bespoke = fr.Scenario.from_dict(d)
    t = bespoke.council_tax()
    assert t["flagged"].all() and t["dispensation"].all()
    assert str(t["threshold"][0]) == "0.075000"
    assert fr.datasets.dispensations().height == 6


def test_figures_say_which_balance_they_show() -> None:
    s = fr.examples.birmingham_2019()
    fig = fr.plot.sensitivity_tornado(s.sensitivities(), year="2020/21")
    assert "gap after savings" in fig.axes[0].get_title()
    d = s.to_dict()
    d["drivers"][0]["rate"] = 0.035
    fig = fr.plot.bridge_waterfall(fr.bridge(s, fr.Scenario.from_dict(d)), year="2022/23")
    assert fig.axes[0].get_title() == "Bridge of the 2022/23 gap after savings, old version to new"
    with pytest.raises(fr.ValidationError, match="year: '2030/31' is not a year"):
        fr.plot.sensitivity_tornado(s.sensitivities(), year="2030/31")


def test_the_report_shows_the_mtfs_sensitivities_and_bridge() -> None:
    s = fr.examples.birmingham_2019()
    d = s.to_dict()
    d["drivers"][0]["rate"] = 0.03
    new = fr.Scenario.from_dict(d)
    html = new.simulate(trials=3_000, seed=1, progress=False).to_html(previous=s)
    assert "<h2>Medium-term financial strategy</h2>" in html
    assert "change per 1% of each input" in html
    assert f"Bridge from the previous version ({s.name})" in html
    assert "driver: pay_award" in html
    # Without a previous version there is no bridge.
    assert "Bridge from" not in s.simulate(trials=3_000, seed=1, progress=False).to_html()


CAPITAL = {
    "plan": {"name": "EFS", "first_year": "2020/21", "years": 7, "net_budget": [1000e6] * 7},
    "reserves": {"general_fund": 100e6},
    "capital": {
        "opening_cfr": 3000e6, "opening_debt": 2500e6, "debt_rate": 0.04, "borrowing_rate": 0.045,
        "mrp": {"method": "annuity", "years": 40, "rate": 0.03},
        "authorised_limit": 4000e6, "operational_boundary": 3800e6,
        # The direction in principle of 29 February 2024 (Local Government Lawyer, 29 February 2024).
        "directions": [{"name": "EFS", "amount": {"2020/21": 288.4e6, "2021/22": 109.5e6, "2022/23": 172.2e6,
                                                  "2024/25": 685.0e6}, "premium": 0.01}],
    },
}


def test_capital_tables_and_indicators_from_python() -> None:
    s = fr.Scenario.from_dict(CAPITAL)
    c = s.capital()
    assert c["capitalised"].sum() == Decimal("1255100000")
    # CFR identity, every year: start + borrowing - MRP = end; debt moves by the same.
    assert (c["cfr_start"] + c["borrowing"] - c["mrp"] == c["cfr_end"]).all()
    # The annuity MRP on the opening CFR: 3,000m x 3% / (1.03^40 - 1) in the first year.
    first = 3000e6 * 0.03 / (1.03**40 - 1)
    assert float(c["mrp"][0]) == pytest.approx(first, abs=0.01)
    p = s.prudential_indicators()
    assert p["above_authorised_limit"].to_list() == [False] * 7
    assert (p["gross_debt"] == c["debt_end"]).all()
    # The MTFS carries the cost: capital financing is its own column inside spending.
    t = s.mtfs()
    assert (t["spending"] == t["spending_lines"] + t["pressures"] + t["capital_financing"]).all()
    # Its financing column is the capital table's gap effect, except that a direction funds at
    # most its year's gap (the plan has no other gap here): what it cannot fund stays.
    funded = s.ledger()["capitalised"]
    assert (t["capital_financing"] == c["gap_effect"] + c["capitalised"] - funded).all()
    assert (t["capital_financing"] >= 0).all()


def test_the_cost_of_exceptional_support_lands_in_later_years() -> None:
    # The deficit the 2024/25 direction funds (equal pay and the budget gap): a one-off £685m.
    deficit = {"name": "Deficit funded by EFS", "amount": {"dist": "fixed", "value": 685e6},
               "first_year": "2024/25", "recurring": False}
    s = fr.Scenario.from_dict({**CAPITAL, "pressures": [deficit]})
    ledger = s.ledger()
    gap = ledger["gap"]
    c = s.capital()
    # In 2024/25 the direction funds the £685m; from 2025/26 its MRP and interest are a gap
    # the plan must close, year after year.
    assert ledger["capitalised"][4] == Decimal("685000000")
    assert gap[4] == c["financing_cost"][4]
    assert all(g > 0 for g in gap[5:])
    assert (gap[5:] == c["financing_cost"][5:]).all()
    # Without that deficit the direction funds only the year's own gap and makes no surplus
    # (Local Government Act 2003, s16(2)(b): it treats revenue spending as capital): the
    # general fund never rises above where it started.
    alone = fr.Scenario.from_dict(CAPITAL).ledger()
    assert alone["capitalised"][4] == min(Decimal("685000000"), c["financing_cost"][4])
    assert (alone["general_fund"] <= Decimal("100000000")).all()


def test_the_report_has_a_capital_and_treasury_section() -> None:
    html = fr.Scenario.from_dict(CAPITAL).simulate(trials=2_000, seed=1, progress=False).to_html()
    assert "<h2>Capital and treasury</h2>" in html and "Prudential indicators" in html
    data = fr.examples.birmingham_2019().to_dict()
    assert "Capital and treasury" in fr.Scenario.from_dict(data).simulate(trials=2_000, seed=1, progress=False).to_html()
    data.pop("capital")
    assert "Capital and treasury" not in fr.Scenario.from_dict(data).simulate(trials=2_000, seed=1, progress=False).to_html()


def _slipping(extra: dict[str, Any]) -> dict[str, Any]:
    """A three-year plan with a £10m library, all borrowed and repaid over one year at 5%."""
    return {
        "plan": {"name": "Slip", "first_year": "2024/25", "years": 3, "net_budget": [500e6] * 3},
        "reserves": {"general_fund": 100e6},
        "capital": {
            "opening_cfr": 0, "opening_debt": 0, "debt_rate": 0.04, "borrowing_rate": 0.05,
            "mrp": {"method": "straight_line", "years": 50},
            "programme": [{"name": "Library", "spend": {"2024/25": 10e6},
                           "mrp": {"method": "straight_line", "years": 1}, **extra}],
        },
    }


def test_capital_slippage_and_overrun_match_a_numpy_twin() -> None:
    # A second method: numpy draws slippage s ~ PERT(0, 0.1, 0.5) (a scaled Beta) and overrun
    # o ~ U(0, 0.3), and runs the year arithmetic by hand: 2025/26 costs
    # 1.05 x 10m x (1 - s)(1 + o); 2026/27 costs 1.05 x 10m x s (1 - s)(1 + o).
    s = fr.Scenario.from_dict(_slipping({
        "slippage": {"dist": "pert", "low": 0, "mode": 0.1, "high": 0.5},
        "overrun": {"dist": "uniform", "low": 0, "high": 0.3},
    }))
    r = s.simulate(trials=40_000, seed=5, progress=False)
    mean = r.mtfs("mean")
    rng = np.random.default_rng(5)
    alpha, beta = 1 + 4 * 0.1 / 0.5, 1 + 4 * 0.4 / 0.5
    slip = 0.5 * rng.beta(alpha, beta, 400_000)
    over = rng.uniform(0, 0.3, 400_000)
    for y, cost in [(1, 10.5e6 * (1 - slip) * (1 + over)), (2, 10.5e6 * slip * (1 - slip) * (1 + over))]:
        se = MC_SIGMAS * cost.std() * np.sqrt(1 / 40_000 + 1 / 400_000)
        assert float(mean["capital_financing"][y]) == pytest.approx(cost.mean(), abs=se)
    # The exact table takes the means: E[s] = 0.5 x alpha / (alpha + beta), E[o] = 0.15.
    es = 0.5 * alpha / (alpha + beta)
    assert float(s.capital()["gap_effect"][1]) == pytest.approx(10.5e6 * (1 - es) * 1.15, abs=0.01)
    # Capital financing is an input of the drivers table.
    d = r.drivers().filter(pl.col("kind") == "capital")
    assert d.height == 1 and d["id"][0] == "capital financing"


def test_flexible_receipts_and_mrp_relief_from_python() -> None:
    spec = _slipping({})
    spec["capital"]["flexible_receipts"] = [{"name": "Transformation", "amount": {"2024/25": 2e6}}]
    spec["capital"]["commercial"] = [{"name": "Rent", "income": 3e6, "risk": "tenant", "mrp_relief": 0.5e6}]
    spec["risks"] = [{"id": "tenant", "name": "Tenant default", "probability": 1.0, "category": "commercial",
                      "impact": {"dist": "fixed", "value": 1e6}, "recurring": True, "profile": {"2025/26": 1.0}}]
    s = fr.Scenario.from_dict(spec)
    c = s.capital()
    assert c["flexible_receipts"].to_list() == [Decimal("2000000.00"), Decimal("0.00"), Decimal("0.00")]
    again = fr.Scenario.from_dict(s.to_dict())
    assert again.to_dict() == s.to_dict()
    without = copy.deepcopy(spec)
    without["risks"][0]["probability"] = 0.0
    change = s.ledger()["gap"] - fr.Scenario.from_dict(without).ledger()["gap"]
    # The lost £1m of rent less the £0.5m of MRP relief, from 2025/26.
    assert change.to_list() == [Decimal("0.00"), Decimal("500000.00"), Decimal("500000.00")]
    with pytest.raises(fr.ValidationError, match=r"capital\.commercial\[0\]\.risk"):
        bad = copy.deepcopy(spec)
        bad["capital"]["commercial"][0]["risk"] = "nope"
        fr.Scenario.from_dict(bad)


def test_the_report_shows_the_spread_of_a_capital_plan_that_varies() -> None:
    fixed = fr.Scenario.from_dict(_slipping({}))
    varies = fr.Scenario.from_dict(_slipping({"slippage": {"dist": "uniform", "low": 0, "high": 0.5}}))
    title = "Capital financing and debt over the trials"
    assert title not in fixed.simulate(trials=2_000, seed=1, progress=False).to_html()
    html = varies.simulate(trials=2_000, seed=1, progress=False).to_html()
    assert title in html and "capital_financing_to_nre" in html
    assert "p debt above authorised limit" not in html


def test_the_chance_of_debt_above_the_authorised_limit_is_read_from_the_trials() -> None:
    # 10m of spend, all borrowed, of which U(0, 1) slips a year: debt at the end of 2024/25 is
    # 10m x (1 - s), above an authorised limit of 7.5m when s < 0.25, a chance of 0.25.
    spec = _slipping({"slippage": {"dist": "uniform", "low": 0, "high": 1}})
    spec["capital"]["authorised_limit"] = 7.5e6
    r = fr.Scenario.from_dict(spec).simulate(trials=20_000, seed=4, progress=False)
    p = 1.0 - r.probability_below("gross_debt_to_nre", 7.5e6 / 500e6, "2024/25")
    assert p == pytest.approx(0.25, abs=MC_SIGMAS * np.sqrt(0.25 * 0.75 / 20_000) + 1 / 1024)
    html = r.to_html()
    assert "p debt above authorised limit" in html


def _capital(draw: Any) -> dict[str, Any]:
    """A random capital plan: projects with their financing (never more than the spend) and
    fixed slippage, overrun and receipts shortfall, a direction, flexible receipts, refinancing
    and a borrowing rate by year."""
    years = draw(st.integers(1, 5))
    labels = [f"{2024 + k}/{(25 + k) % 100:02d}" for k in range(years)]
    share = st.sampled_from([0.0, 0.1, 0.25, 0.5])
    mrp = st.one_of(
        st.builds(lambda n: {"method": "straight_line", "years": n}, st.integers(1, 40)),
        st.builds(lambda n, r: {"method": "annuity", "years": n, "rate": r}, st.integers(1, 40),
                  st.sampled_from([0.0, 0.02, 0.035])),
        st.builds(lambda a: {"method": "fixed", "amount": a * 1e5}, st.integers(1, 50)),
        st.builds(lambda r: {"method": "reducing_balance", "rate": r}, st.sampled_from([0.02, 0.04])),
    )
    projects = []
    for i in range(draw(st.integers(0, 3))):
        spend = {y: draw(st.integers(0, 40)) * 1e6 for y in labels}
        grants = {y: draw(st.integers(0, int(spend[y] // 1e6))) * 1e6 for y in labels}
        receipts = {y: draw(st.integers(0, int((spend[y] - grants[y]) // 1e6))) * 1e6 for y in labels}
        projects.append({"name": f"P{i}", "spend": spend, "grants": grants, "receipts": receipts, "mrp": draw(mrp),
                         "slippage": {"dist": "fixed", "value": draw(share)},
                         "overrun": {"dist": "fixed", "value": draw(share)},
                         "receipts_shortfall": {"dist": "fixed", "value": draw(share)}})
    debt = draw(st.integers(0, 500)) * 1e6
    return {
        "plan": {"name": "c", "first_year": labels[0], "years": years, "net_budget": [800e6] * years},
        "capital": {
            "opening_cfr": debt + draw(st.integers(0, 200)) * 1e6, "opening_debt": debt, "debt_rate": 0.04,
            "supported_cfr": draw(st.integers(0, int(debt // 1e6))) * 1e6, "supported_mrp": draw(mrp),
            "borrowing_rate": {y: draw(st.sampled_from([0.03, 0.045, 0.06])) for y in labels},
            "refinancing": {labels[-1]: draw(st.integers(0, int(debt // 1e6))) * 1e6},
            "mrp": draw(mrp), "investments": 50e6, "investment_rate": 0.03,
            "budgeted": {labels[0]: draw(st.integers(0, 30)) * 1e6},
            "programme": projects,
            "directions": [{"name": "D", "amount": {labels[0]: draw(st.integers(0, 100)) * 1e6}, "premium": 0.01}],
            "flexible_receipts": [{"name": "F", "amount": {labels[-1]: draw(st.integers(0, 10)) * 1e6}}],
            "commercial": [{"name": "Rent", "income": draw(st.integers(0, 5)) * 1e6}],
        },
    }


@given(st.data())
def test_the_capital_plan_keeps_its_identities(data: st.DataObject) -> None:
    # Each column is rounded to the penny on its own, so sums of columns agree to a few pence.
    penny = Decimal("0.03")
    spec = _capital(data.draw)
    c = fr.Scenario.from_dict(spec).capital()
    assert ((c["cfr_start"] + c["borrowing"] - c["mrp"] - c["cfr_end"]).abs() <= penny).all()
    assert (c["cfr_start"][1:] == c["cfr_end"][:-1]).all()
    assert (c["cfr_end"] >= 0).all()
    debt = [Decimal(str(spec["capital"]["opening_debt"])), *c["debt_end"].to_list()]
    for y in range(c.height):
        assert abs(debt[y] + c["borrowing"][y] - c["mrp"][y] - debt[y + 1]) <= penny
    cost = c["mrp"] + c["interest"] + c["revenue_contributions"] - c["investment_income"] - c["commercial_income"]
    assert ((cost - c["financing_cost"]).abs() <= penny).all()
    effect = c["financing_cost"] - c["budgeted"] - c["capitalised"] - c["flexible_receipts"]
    assert ((effect - c["gap_effect"]).abs() <= penny).all()
    # Slippage only defers (and past the last year, drops) borrowing: never more in total.
    still = copy.deepcopy(spec)
    for p in still["capital"]["programme"]:
        p["slippage"]["value"] = 0.0
    assert c["borrowing"].sum() <= fr.Scenario.from_dict(still).capital()["borrowing"].sum() + penny


def test_the_mtfs_shows_what_later_budgets_closed_by_source() -> None:
    # Issue 32, item 2: a £20m recurring gap on £210m of council tax (100,000 Band D at £2,100).
    # The 2020/21 budget rises to the referendum limit: core below 2% plus the 2% adult social
    # care precept (the 2020/21 referendum principles), 3.99% of £210m = £8,379,000; then new
    # savings of 2% of the £210m net budget, £4.2m. The 2021/22 budget closes the £7,421,000
    # left with council tax alone.
    s = fr.Scenario.from_dict({
        "plan": {"name": "Closures", "first_year": "2019/20", "years": 4},
        "funding": {"council_tax": {"tax_base": 100_000, "band_d": 2100}},
        "spending": [{"name": "Services", "base": 230e6}],
        "reserves": {"general_fund": 200e6},
        "budget_setting": {"council_tax": "to_limit", "new_savings_capacity": 0.02,
                           "new_savings_delivery": {"p_full": 1.0, "partial": {"dist": "fixed", "value": 1}, "p_slip": 0.0}},
    })
    ledger = s.ledger()
    assert [float(x) for x in ledger["closed_by_council_tax"]] == [0, 8_379_000, 7_421_000, 0]
    assert [float(x) for x in ledger["closed_by_new_savings"]] == [0, 4_200_000, 0, 0]
    # The simulated MTFS is cumulative: what all budgets so far take off each year's gap.
    t = s.simulate(trials=100, seed=1, progress=False).mtfs()
    assert t["closed_by_council_tax"].to_list() == [0, 8_379_000, 15_800_000, 15_800_000]
    assert t["closed_by_new_savings"].to_list() == [0, 4_200_000, 4_200_000, 4_200_000]
    assert (t["closed_by_council_tax"] + t["closed_by_new_savings"]).to_list() == t["closed_by_budget"].to_list()


def test_mrp_relief_beyond_the_income_is_refused() -> None:
    # Issue 38, item 3: relief of 1e9 on £2m of income made each default gain about £1bn.
    spec = _slipping({})
    spec["capital"]["commercial"] = [{"name": "Rent", "income": 2e6, "risk": "tenant", "mrp_relief": 1e9}]
    spec["risks"] = [{"id": "tenant", "name": "Tenant default", "probability": 0.5, "category": "commercial",
                      "impact": {"dist": "fixed", "value": 2e6}, "profile": {"2025/26": 1.0}}]
    with pytest.raises(fr.ValidationError, match=r"capital\.commercial\[0\]\.mrp_relief: .*more than the income"):
        fr.Scenario.from_dict(spec)
    spec["capital"]["commercial"][0]["mrp_relief"] = 2e6
    fr.Scenario.from_dict(spec)
