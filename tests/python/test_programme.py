"""Issue 12, delivery that moves together: the one-factor programme model.

Independent truths: a single line's shortfall has a closed form (its delivery model); splitting a
saving into parts at correlation 1 changes nothing; correlation never changes a saving's own
distribution (so the mean is the same at any correlation); and the tail of a split programme
grows with the correlation."""

from __future__ import annotations

from typing import Optional

import numpy as np
import polars as pl
import pytest
from scipy import stats

import fiscalrisk as fr

TRIALS = 100_000


def programme(lines: int, rho: float = 0.0, rho_d: float = 0.0, directorates: Optional[list[str]] = None,
              explicit_zero: bool = False) -> fr.SavingsProgramme:
    savings = [
        {"id": f"S{i}", "name": f"line {i}", "year": "2019/20", "value": 100e6 / lines, "rag": "amber",
         **({"directorate": directorates[i % len(directorates)]} if directorates else {})}
        for i in range(lines)
    ]
    delivery: dict[str, float] = {}
    if rho or explicit_zero:
        delivery["programme_correlation"] = rho
    if rho_d or explicit_zero:
        delivery["directorate_correlation"] = rho_d
    return fr.SavingsProgramme(savings, delivery=delivery)


def p90(p: fr.SavingsProgramme, seed: int = 1) -> float:
    return float(p.view(trials=TRIALS, seed=seed)["shortfall_p90"][0])


def test_independent_lines_reproduce_the_issues_figures() -> None:
    # The issue's measurements of the independent model: £100m, £53m, £41m.
    assert p90(programme(1)) == pytest.approx(100e6, rel=1e-3)
    assert p90(programme(10)) == pytest.approx(53e6, rel=0.02)
    assert p90(programme(100)) == pytest.approx(41e6, rel=0.02)


def test_one_line_matches_its_closed_form() -> None:
    # Amber: slips with 0.2 (all short), else full with 0.6, else U(0, 1) delivered. The due-year
    # shortfall fraction S has P(S = 1) = 0.2, P(S = 0) = 0.48, and is 0.32 * U(0, 1) between.
    view = programme(1, rho=0.5).view(trials=TRIALS, seed=2)
    mean = 0.2 + 0.32 * 0.5
    se = np.sqrt((0.2 + 0.32 / 3 - mean**2) / TRIALS) * 100e6
    assert float(view["shortfall_mean"][0]) == pytest.approx(mean * 100e6, abs=4 * se)
    # The median: P(S <= s) = 0.48 + 0.32 s for s in [0, 1), so the median is s = 0.0625, with
    # a standard error of sqrt(0.25 / n) / 0.32 (the density there is 0.32).
    se_median = np.sqrt(0.25 / TRIALS) / 0.32 * 100e6
    assert float(view["shortfall_p50"][0]) == pytest.approx(0.0625 * 100e6, abs=4 * se_median)


def test_zero_correlation_is_todays_model_exactly() -> None:
    a = programme(50).view(trials=20_000, seed=3)
    b = programme(50, explicit_zero=True).view(trials=20_000, seed=3)
    assert a.equals(b)


def test_at_correlation_one_splitting_changes_nothing() -> None:
    one = programme(1, rho=1.0).view(trials=50_000, seed=4)
    for k in (2, 10, 100):
        split = programme(k, rho=1.0).view(trials=50_000, seed=4)
        for column in ("shortfall_mean", "shortfall_p10", "shortfall_p50", "shortfall_p90"):
            assert float(split[column][0]) == pytest.approx(float(one[column][0]), rel=1e-9, abs=1.0), (k, column)


def test_the_tail_rises_with_the_correlation_and_the_mean_does_not_move() -> None:
    rhos = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    views = [programme(100, rho=r).view(trials=TRIALS, seed=5) for r in rhos]
    tails = [float(v["shortfall_p90"][0]) for v in views]
    assert all(a < b for a, b in zip(tails, tails[1:])), tails
    means = np.array([float(v["shortfall_mean"][0]) for v in views])
    # The mean is 36% of £100m whatever the correlation (within Monte Carlo error: the
    # standard error of the mean is largest at correlation 1, about £0.13m at 100,000 trials).
    assert np.all(np.abs(means - 36e6) < 0.6e6), means


def test_directorates_add_correlation_within_them() -> None:
    dirs = ["A", "B", "C", "D", "E"]
    programme_only = p90(programme(100, rho=0.2, directorates=dirs))
    with_directorates = p90(programme(100, rho=0.2, rho_d=0.3, directorates=dirs))
    everything = p90(programme(100, rho=0.5))
    # A directorate factor adds correlation within directorates only: between the two.
    assert programme_only < with_directorates < everything


def test_the_programme_level_rate_matches_the_gaussian_copula() -> None:
    # With many lines, the share delivered in the due year is a function of the year's factor
    # alone: P(share of lines not slipped <= x) = P(Phi((sqrt(rho) F + sqrt(1-rho) e)) >= 0.2 ...)
    # Checked here through the slip rate of a programme of green savings that either slip or are
    # delivered in full (p_full = 1): the due-year shortfall is the share slipped.
    rho, lines = 0.4, 400
    savings = [{"id": f"S{i}", "name": "x", "year": "2019/20", "value": 1e6, "rag": "green"} for i in range(lines)]
    model = {"p_full": 1.0, "partial": {"dist": "fixed", "value": 1.0}, "p_slip": 0.1}
    p = fr.SavingsProgramme(savings, delivery={"green": model, "programme_correlation": rho})
    view = p.view(trials=50_000, seed=6)
    # Vasicek: the share slipped given F is Phi((Phi^-1(0.1) - sqrt(rho) F) / sqrt(1 - rho)); its
    # P90 is at F = -Phi^-1(0.9) (a bad year).
    z = stats.norm.ppf(0.9)
    share = stats.norm.cdf((stats.norm.ppf(0.1) + np.sqrt(rho) * z) / np.sqrt(1 - rho))
    assert float(view["shortfall_p90"][0]) == pytest.approx(share * lines * 1e6, rel=0.03)


@pytest.mark.parametrize(
    "delivery, says",
    [
        ({"programme_correlation": 1.5}, "savings_delivery.programme_correlation: 1.5 is outside [0, 1]"),
        ({"directorate_correlation": -0.1}, "savings_delivery.directorate_correlation: -0.1 is outside [0, 1]"),
        ({"programme_correlation": 0.7, "directorate_correlation": 0.5}, "is more than 1"),
        ({"programme_corelation": 0.3}, '"programme_corelation" is not one of delivered, green, amber, red, unidentified, programme_correlation'),
    ],
)
def test_bad_correlations_are_refused_naming_the_key(delivery: dict[str, float], says: str) -> None:
    with pytest.raises(fr.ValidationError, match=None) as e:
        programme(10, directorates=None).__class__(
            [{"id": "S", "name": "x", "year": "2019/20", "value": 1e6, "rag": "amber"}], delivery=delivery
        )
    assert says in str(e.value)


def test_the_reference_plan_states_its_correlation() -> None:
    s = fr.examples.birmingham_2019()
    d = s.to_dict()["savings_delivery"]
    assert d["programme_correlation"] == 0.3 and d["directorate_correlation"] == 0.2
    assert fr.Scenario.from_toml_str(s.to_toml()) == s
    rows = fr.report.assumptions(s).filter(pl.col("input") == "programme correlation")
    # Issue 37: "0.5 within a directorate" read as a contradiction of the file's 0.2; the
    # sentence now shows the sum it comes from.
    assert rows["assumption"][0] == ("0.3 between savings due in one year (programme_correlation), 0.5 between two of "
                                     "one directorate (0.3 plus directorate_correlation 0.2)")


# -- savings still to be identified ---------------------------------------------------------------

MARCH_2015 = """
[plan]
name = "Birmingham, March 2015: the programme and what is still to be identified"
first_year = "2015/16"
years = 3
net_budget = [850e6, 850e6, 850e6]

[[savings]]
id = "BR-2015"
name = "Budget reductions approved by Council on 3 March 2015"
year = "2015/16"
value = 105.4e6
rag = "delivered"

# "£253.3m of year-on-year reductions for 2016-18 still to be identified": Birmingham Independent
# Improvement Panel, "Draft Assessment of Birmingham City Council's Improvement Plan", 18 March
# 2015, paras 1.28-1.29 (£166.7m in 2016/17 and £86.6m in 2017/18).
[unidentified]
"2016/17" = 166.7e6
"2017/18" = 86.6e6

[reserves]
general_fund = 100e6
"""


def test_unidentified_savings_are_undelivered_and_shown_apart() -> None:
    s = fr.Scenario.from_toml_str(MARCH_2015)
    view = fr.SavingsProgramme(s.to_dict()["savings"], unidentified=s.to_dict()["unidentified"]).view(trials=2_000, seed=1)
    # The published total still to be identified, to the pound.
    assert view["unidentified"].to_list() == [0.0, 166.7e6, 253.3e6]
    assert view["shortfall_mean"].to_list() == [0.0, 166.7e6, 253.3e6]
    # The exact ledger: each year's gap is what is still to be found, recurring.
    ledger = s.ledger()
    assert [float(x) for x in ledger["gap"]] == [0.0, 166.7e6, 253.3e6]
    r = s.simulate(trials=2_000, seed=1, progress=False)
    assert r.by_year()["unidentified"].to_list() == [0.0, 166.7e6, 86.6e6]
    drivers = r.drivers().filter(pl.col("kind") == "unidentified")
    assert set(drivers["id"]) == {"unidentified 2016/17", "unidentified 2017/18"}
    # Over the plan: 166.7 in two years plus 86.6 in one.
    assert float(drivers["mean"].sum()) == pytest.approx(2 * 166.7e6 + 86.6e6)
    html = r.to_html()
    assert "still to be identified, 2016/17" in html and "never delivered" in html


def test_a_delivery_model_for_unidentified_savings() -> None:
    found = MARCH_2015.replace("[unidentified]", """[savings_delivery]
unidentified = { p_full = 1.0, partial = { dist = "fixed", value = 1.0 }, p_slip = 0.0 }

[unidentified]""")
    s = fr.Scenario.from_toml_str(found)
    assert [float(x) for x in s.ledger()["gap"]] == [0.0, 0.0, 0.0]
    assert fr.Scenario.from_toml_str(s.to_toml()) == s
    half = found.replace('p_full = 1.0, partial = { dist = "fixed", value = 1.0 }', 'p_full = 0.5, partial = { dist = "fixed", value = 0.0 }')
    mean = fr.Scenario.from_toml_str(half).simulate(trials=40_000, seed=2, progress=False).by_year()["gap_mean"]
    # Each year's amount is found in full with probability 0.5, else not at all, independently
    # (no programme correlation here): the standard error of the mean is amount * 0.5 / 200.
    for got, amounts in zip(mean.to_list(), ([], [166.7e6], [166.7e6, 86.6e6])):
        se = np.sqrt(sum((a * 0.5) ** 2 for a in amounts) / 40_000)
        assert got == pytest.approx(0.5 * sum(amounts), abs=4 * se + 1.0)


@pytest.mark.parametrize(
    "change, says",
    [
        (('"2016/17" = 166.7e6', '"2016/17" = -166.7e6'), 'unidentified."2016/17": value: -166700000'),
        (('"2017/18" = 86.6e6', '"2019/20" = 86.6e6'), 'unidentified."2019/20": 2019/20 is outside the horizon'),
    ],
)
def test_unidentified_errors_name_the_year(change: tuple[str, str], says: str) -> None:
    with pytest.raises(fr.ValidationError) as e:
        fr.Scenario.from_toml_str(MARCH_2015.replace(*change))
    assert says in str(e.value)


# -- slippage over more than a year, and late one-off savings --------------------------------------

THREE_YEARS = """
[plan]
name = "delay"
first_year = "2020/21"
years = 4
net_budget = [100e6, 100e6, 100e6, 100e6]
"""


def _saving(recurring: bool, delay: str, late: bool = False) -> str:
    return f"""
[[savings]]
id = "S"
name = "late"
year = "2020/21"
value = 10e6
rag = "amber"
recurring = {str(recurring).lower()}
delivery = {{ p_full = 1.0, partial = {{ dist = "fixed", value = 1.0 }}, p_slip = 1.0, delay = {delay}, one_off_late = {str(late).lower()} }}
"""


def test_a_recurring_saving_two_years_late_is_missing_for_both() -> None:
    s = fr.Scenario.from_toml_str(THREE_YEARS + _saving(True, '{ dist = "fixed", value = 2 }'))
    assert [float(x) for x in s.ledger()["gap"]] == [10e6, 10e6, 0.0, 0.0]
    r = s.simulate(trials=1_000, seed=1, progress=False)
    assert r.by_year()["gap_mean"].to_list() == pytest.approx([10e6, 10e6, 0.0, 0.0])


def test_a_late_one_off_saving_arrives_when_the_model_says() -> None:
    lost = fr.Scenario.from_toml_str(THREE_YEARS + _saving(False, '{ dist = "fixed", value = 2 }'))
    # A one-off saving falls out of the base budget after its year (the same is needed again):
    # 10 missing in its year, then 10 a year.
    assert [float(x) for x in lost.ledger()["gap"]] == [10e6, 10e6, 10e6, 10e6]
    late = fr.Scenario.from_toml_str(THREE_YEARS + _saving(False, '{ dist = "fixed", value = 2 }', late=True))
    # Delivered two years late: a one-off receipt of 10 in 2022/23.
    assert [float(x) for x in late.ledger()["gap"]] == [10e6, 10e6, 0.0, 10e6]
    r = late.simulate(trials=1_000, seed=1, progress=False)
    assert r.by_year()["gap_mean"].to_list() == pytest.approx([10e6, 10e6, 0.0, 10e6])


def test_a_distribution_of_delay_matches_its_closed_form() -> None:
    delay = {"dist": "discrete", "values": [1, 2, 3], "weights": [0.5, 0.3, 0.2]}
    model = {"p_full": 0.6, "partial": {"dist": "uniform", "low": 0.0, "high": 1.0}, "p_slip": 0.4, "delay": delay}
    p = fr.SavingsProgramme([{"id": "S", "name": "x", "year": "2020/21", "value": 10e6, "rag": "amber", "delivery": model}])
    view = p.view(trials=200_000, seed=3, until="2024/25")
    e_f = 0.6 + 0.4 * 0.5
    p_beyond = {0: 1.0, 1: 0.5, 2: 0.2, 3: 0.0, 4: 0.0}  # P(delay > k)
    for k, got in enumerate(view["shortfall_mean"].to_list()):
        late = 0.4 * p_beyond[k]
        want = 10e6 * ((1 - e_f) + e_f * late)
        # Bounded by 10e6: the standard error is at most 10e6 / 2 / sqrt(n).
        assert got == pytest.approx(want, abs=4 * 5e6 / np.sqrt(200_000)), (k, got, want)


@pytest.mark.parametrize(
    "delay, says",
    [
        ('{ dist = "fixed", value = 0 }', "a slipped saving is 1 to 30 years late"),
        ('{ dist = "uniform", low = 1, high = 40 }', "a slipped saving is 1 to 30 years late"),
        ('3', "is not a distribution"),
    ],
)
def test_bad_delays_are_refused(delay: str, says: str) -> None:
    with pytest.raises(fr.ValidationError) as e:
        fr.Scenario.from_toml_str(THREE_YEARS + _saving(True, delay))
    assert says in str(e.value) and "savings[0]" in str(e.value)


# -- the star chamber --------------------------------------------------------------------------------


def test_a_star_chamber_turns_undeliverable_savings_into_a_certain_need() -> None:
    savings = [
        {"id": "G", "name": "green", "year": "2020/21", "value": 10e6, "rag": "green"},
        {"id": "R1", "name": "red", "year": "2020/21", "value": 4e6, "rag": "red"},
        {"id": "R2", "name": "red one-off", "year": "2021/22", "value": 2e6, "rag": "red", "recurring": False},
    ]
    before = fr.SavingsProgramme(savings)
    after = before.without(rag="red", contingency={"2020/21": 1e6})
    assert after.removed["id"].to_list() == ["R1", "R2"]
    b = before.view(trials=200_000, seed=7, until="2022/23")
    a = after.view(trials=200_000, seed=7, until="2022/23")
    # Red (default): short by 1 - 0.6 * 0.4375 = 0.7375 in its due year, 1 - 0.4375 = 0.5625 after.
    # After: R1 is needed in full less the £1m contingency released, from 2020/21 on; R2's
    # one-off £2m is missing in 2021/22 and falls out of the base from 2022/23 either way.
    expected_change = [
        (4e6 - 1e6) - 0.7375 * 4e6,
        (4e6 - 1e6) - 0.5625 * 4e6 + 2e6 - 0.7375 * 2e6,
        (4e6 - 1e6) - 0.5625 * 4e6,
    ]
    se = 4 * 6e6 / 2 / np.sqrt(200_000)
    for got, want in zip((a["shortfall_mean"] - b["shortfall_mean"]).to_list(), expected_change):
        assert got == pytest.approx(want, abs=2 * se), (got, want)
    # The same, as the effect the star chamber reports.
    effect = after.effect(trials=200_000, seed=7, until="2022/23")
    assert effect["change"].to_list() == pytest.approx((a["shortfall_mean"] - b["shortfall_mean"]).to_list())
    with pytest.raises(fr.ValidationError, match="did not come from without"):
        before.effect()
    # The plan too: the reference plan without its red savings needs their value for certain.
    s = fr.examples.birmingham_2019().without(ids=["S-006"])
    assert s.to_dict()["unidentified"] == {"2020/21": 7e6}
    assert "S-006" not in [x["id"] for x in s.to_dict()["savings"]]


@pytest.mark.parametrize(
    "kwargs, says",
    [
        ({}, "name the savings to remove"),
        ({"ids": ["S-999"]}, "no saving has the id 'S-999'"),
        ({"rag": "purple"}, "not one of delivered, green, amber, red"),
        ({"rag": "red", "contingency": {"2020/21": 50e6}}, "is more than the recurring savings removed"),
    ],
)
def test_star_chamber_errors(kwargs: dict[str, object], says: str) -> None:
    with pytest.raises(fr.ValidationError, match=None) as e:
        fr.examples.birmingham_2019().without(**kwargs)  # type: ignore[arg-type]
    assert says in str(e.value)


# -- savings correlated with risks and pressures -------------------------------------------------

LINKED = """
[plan]
name = "links"
first_year = "2019/20"
years = 1
net_budget = [100e6]

[[pressures]]
name = "Demand"
amount = { dist = "uniform", low = 0.0, high = 10e6 }
first_year = "2019/20"

[[savings]]
id = "WF"
name = "Workforce savings"
year = "2019/20"
value = 10e6
rag = "amber"

[[risks]]
id = "strike"
name = "Industrial dispute"
probability = 0.5
impact = { dist = "fixed", value = 10e6 }
"""


def gap_variance(correlations: str, trials: int = 200_000) -> tuple[float, pl.DataFrame]:
    s = fr.Scenario.from_toml_str(correlations + LINKED)
    t = s.simulate(trials=trials, seed=11, progress=False, keep_trials=True).trial_table()
    return float(t["gap"].var()), t


def test_a_dispute_that_delays_workforce_savings_widens_the_gap() -> None:
    base, t0 = gap_variance("")
    # Independent: the variances add. Strike: Bernoulli(0.5) x £10m, variance 25e12; demand
    # U(0, 10m), variance 1e14 / 12; amber saving, shortfall S: P(S = 1) = 0.2, else 0 with 0.48,
    # else 0.32 U(0, 1) between (of £10m): E S = 0.36, E S^2 = 0.2 + 0.32 / 3.
    s_var = (0.2 + 0.32 / 3 - 0.36**2) * 1e14
    assert base == pytest.approx(25e12 + 1e14 / 12 + s_var, rel=0.02)
    together, t1 = gap_variance('correlations = [["WF", "strike", 0.8]]\n')
    against, _ = gap_variance('correlations = [{ risks = ["strike", "WF"], rho = -0.8 }]\n')
    assert together > base * 1.15 and against < base * 0.85
    # The means do not move: only how they go wrong together.
    assert float(t1["gap"].mean()) == pytest.approx(float(t0["gap"].mean()), rel=0.01)
    with_pressure, _ = gap_variance('correlations = [["WF", "Demand", 0.8]]\n')
    assert with_pressure > base * 1.1


def test_a_zero_link_changes_nothing_and_links_round_trip() -> None:
    base, t0 = gap_variance("", trials=20_000)
    zero, t1 = gap_variance('correlations = [["WF", "strike", 0.0]]\n', trials=20_000)
    assert t0["gap"].equals(t1["gap"])
    s = fr.Scenario.from_toml_str('correlations = [["WF", "strike", 0.5]]\n' + LINKED)
    assert fr.Scenario.from_toml_str(s.to_toml()) == s


@pytest.mark.parametrize(
    "correlations, says",
    [
        ('[["WF", "nobody", 0.5]]', 'correlations[0]: no risk, pressure or driver has the id or name "nobody"'),
        ('[["Demand", "strike", 0.5]]', "a pressure can be correlated with a saving, not with a risk"),
        ('[["WF", "strike", 1.5]]', "rho: 1.5 is outside [-1, 1]"),
        ('[["WF", "strike", 0.9], ["WF", "Demand", 0.9]]', "add to more than 1"),
    ],
)
def test_links_that_cannot_hold_are_refused(correlations: str, says: str) -> None:
    with pytest.raises(fr.ValidationError) as e:
        fr.Scenario.from_toml_str(f"correlations = {correlations}\n" + LINKED)
    assert says in str(e.value)


def test_two_savings_are_linked_through_the_programme_not_the_table() -> None:
    two = LINKED + '\n[[savings]]\nid = "P2"\nname = "x"\nyear = "2019/20"\nvalue = 1e6\nrag = "green"\n'
    with pytest.raises(fr.ValidationError, match="are both savings"):
        fr.Scenario.from_toml_str('correlations = [["WF", "P2", 0.5]]\n' + two)


def test_one_savings_shortfall_in_the_programme_view_the_plan_and_the_report() -> None:
    # Issue 32, item 6: the programme table said £14.9m/£17.4m/£19.2m and the plan's £10.0m/
    # £12.6m/£14.4m for the same years: the programme counted one-off savings' fall-out.
    one_off = [{"id": "S1", "name": "Sale", "year": "2019/20", "value": 5e6, "rag": "delivered", "recurring": False}]
    view = fr.SavingsProgramme(one_off).view(trials=2_000, seed=1, until="2021/22")
    assert view["shortfall_mean"].to_list() == [0.0, 0.0, 0.0]
    assert view["target"].to_list() == [5e6, 0.0, 0.0]
    # A red recurring saving: the shortfall is target less delivered, as the plan reads it.
    s = fr.examples.birmingham_2019()
    r = s.simulate(trials=20_000, seed=1, progress=False)
    plan = r.savings_shortfall()
    d = s.to_dict()
    programme = fr.SavingsProgramme(d["savings"], delivery=d["savings_delivery"]).view(trials=20_000, seed=1, until="2022/23")
    planned = s.mtfs()["savings"].cast(pl.Float64).to_list()
    assert plan["target"].to_list() == planned == programme["target"].to_list()
    assert np.allclose(plan["target"] - plan["expected_delivery"], plan["shortfall_mean"])
    assert np.allclose(plan["expected_delivery"], r.mtfs()["savings"], rtol=1e-12)
    # The same programme in two simulations (the plan's links its savings to risks): within
    # Monte Carlo error of each other, here 1% of the target.
    assert np.allclose(plan["shortfall_mean"], programme["shortfall_mean"], atol=0.01 * max(planned))
    html = r.to_html()
    assert f"{plan['shortfall_mean'][1] / 1e6:.1f}" in html
