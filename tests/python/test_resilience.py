"""Resilience indicators: hand calculations from the published CSV, ranks against scipy, the
loader's corrections of the source's known anomalies, and errors."""

from __future__ import annotations

import csv

import numpy as np
import polars as pl
import pytest
from scipy.stats import rankdata

import fiscalrisk as fr
from fiscalrisk import resilience
from fiscalrisk.datasets import mhclg_borrowing, mhclg_borrowing_path, mhclg_reserves, mhclg_reserves_path

from tolerances import ARITHMETIC_RTOL


def raw_rows() -> dict[tuple[str, str], dict[str, str]]:
    """The CSV as published, read with the csv module (not the loader under test)."""
    with open(mhclg_reserves_path(), newline="", encoding="utf-8") as f:
        return {(r["ecode"], r["year"]): r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    return resilience.indicators(mhclg_reserves(), peer_group="class")


def one(table: pl.DataFrame, ecode: str, year: str) -> dict[str, object]:
    rows = table.filter((pl.col("ecode") == ecode) & (pl.col("year") == year)).to_dicts()
    assert len(rows) == 1
    return rows[0]


def test_birmingham_2017_18_by_hand(table: pl.DataFrame) -> None:
    # RS 2017/18, Birmingham (E4601), £000: NRE 770,458.609; earmarked 31 Mar 296,750;
    # unallocated 31 Mar 170,469; interest payable 150,660 (checked against the raw row below).
    r = one(table, "E4601", "2017/18")
    raw = raw_rows()[("E4601", "2017/18")]
    assert float(raw["net_revenue_expenditure_k"]) == 770458.609
    assert r["reserves_to_nre"] == pytest.approx((296750 + 170469) / 770458.609, rel=ARITHMETIC_RTOL)
    assert r["unallocated_reserves_to_nre"] == pytest.approx(170469 / 770458.609, rel=ARITHMETIC_RTOL)
    assert r["earmarked_reserves_to_nre"] == pytest.approx(296750 / 770458.609, rel=ARITHMETIC_RTOL)
    interest = float(raw["interest_payable_k"])
    assert r["interest_payable_to_nre"] == pytest.approx(interest / 770458.609, rel=ARITHMETIC_RTOL)
    financing = interest + float(raw["provision_repayment_principal_k"]) + float(raw["leasing_payments_k"])
    assert r["capital_financing_to_nre"] == pytest.approx(financing / 770458.609, rel=ARITHMETIC_RTOL)
    assert r["council_tax_to_nre"] == pytest.approx(float(raw["council_tax_requirement_k"]) / 770458.609, rel=ARITHMETIC_RTOL)
    assert r["class"] == "MD" and r["history_years"] == 3


@pytest.mark.parametrize("ecode", ["E4601", "E2820", "E5030", "E0102", "E1702"])
def test_change_indicators_by_hand_for_several_authorities(table: pl.DataFrame, ecode: str) -> None:
    raw = raw_rows()
    usable = lambda r, when: float(r[f"earmarked_reserves_{when}_k"]) + float(r[f"unallocated_reserves_{when}_k"])  # noqa: E731
    years = ["2015/16", "2016/17", "2017/18"]
    rows = [raw[(ecode, y)] for y in years]
    # Year-end levels, as CIPFA's index reads them: 31 March 2018 against 1 April 2015 (the
    # sum is the same whichever way Bristol's 2015/16 columns are swapped).
    close = usable(rows[-1], "31mar")
    mean = (close - usable(rows[0], "1apr")) / 3
    expected = 0.0 if close <= 0 else (100.0 if mean >= 0 else min(100.0, close / -mean))
    got = one(table, ecode, "2017/18")
    assert got["reserves_sustainability"] == pytest.approx(expected, rel=ARITHMETIC_RTOL)
    assert got["change_in_reserves"] == pytest.approx(close / usable(rows[0], "1apr") - 1, rel=ARITHMETIC_RTOL)
    # 2015/16 has only its own year.
    first = one(table, ecode, "2015/16")
    assert first["history_years"] == 1
    assert first["change_in_reserves"] == pytest.approx(usable(rows[0], "31mar") / usable(rows[0], "1apr") - 1, rel=ARITHMETIC_RTOL)


def test_sustainability_reproduces_cipfas_twelve_councils_on_2017_18(table: pl.DataFrame) -> None:
    # CIPFA's Financial Resilience Index briefing (December 2018): 12 principal councils would
    # exhaust their reserves within four years at the rate of March 2015 to March 2018 (the BBC
    # named the county and single-tier ones from its own data: "English councils warned about
    # 'exhausting' reserve cash", BBC News, 29 May 2019). Reading each return's own movements,
    # the library found 8 (Greenwich 5.43, Medway 6.39, Kensington and Chelsea 100 after a
    # £93m restatement).
    principal = table.filter((pl.col("year") == "2017/18") & (pl.col("class") != "O"))
    under = principal.filter(pl.col("reserves_sustainability") < 4).sort("reserves_sustainability")
    assert under.height == 12, under.select("name", "reserves_sustainability")
    names = set(under["name"].to_list())
    assert {"Northamptonshire", "Somerset", "Rotherham", "Thurrock UA", "Croydon", "Stoke-on-Trent UA", "Greenwich",
            "Kensington & Chelsea", "The Medway Towns UA", "Knowsley"} <= names
    assert under.filter(pl.col("class") == "SD").height == 2  # Oadby & Wigston and Thanet


def test_change_in_reserves_agrees_with_the_bbcs_published_falls(table: pl.DataFrame) -> None:
    # "English councils at risk of exhausting reserves named" (Public Finance, 29 May 2019,
    # reporting the BBC Shared Data Unit's analysis): the fall in reserves between March 2015
    # and March 2018, in whole percent, where the BBC's data and these returns agree.
    published = {"Northamptonshire": -91, "Rotherham": -62, "Thurrock UA": -58, "Croydon": -55, "Stoke-on-Trent UA": -55}
    rows = table.filter(pl.col("year") == "2017/18")
    for name, pct in published.items():
        got = rows.filter(pl.col("name") == name)["change_in_reserves"][0]
        assert round(100 * got) == pct, (name, got)


def test_no_reserves_is_the_riskiest_sustainability() -> None:
    # An authority with no usable reserves that are not falling scored 100, the safest value
    # (West of England Combined Authority, 2016/17); it is now 0, the riskiest.
    df = pl.DataFrame({
        "ecode": ["E1", "E2"], "year": ["2017/18", "2017/18"],
        "net_revenue_expenditure": [100.0, 100.0], "council_tax_requirement": [40.0, 40.0],
        "earmarked_reserves_1apr": [0.0, 50.0], "earmarked_reserves_31mar": [0.0, 45.0],
        "unallocated_reserves_1apr": [-2.0, 10.0], "unallocated_reserves_31mar": [-1.0, 10.0],
        "interest_payable": [0.0, 0.0], "provision_repayment_principal": [0.0, 0.0], "leasing_payments": [0.0, 0.0]})
    out = resilience.indicators(df, peer_group="all", debt=False)
    assert out["reserves_sustainability"].to_list() == [0.0, 11.0]
    assert out["reserves_sustainability_percentile"].to_list() == [1.0, 0.0]


def test_the_2017_18_figures_are_marked_provisional(table: pl.DataFrame) -> None:
    marked = table.group_by("year").agg(pl.col("provisional").all()).sort("year")
    assert marked.rows() == [("2015/16", False), ("2016/17", False), ("2017/18", True)]


def test_a_falling_authority_has_a_finite_sustainability(table: pl.DataFrame) -> None:
    # Northamptonshire (E2820) ran its usable reserves down over 2015/16 to 2017/18.
    r = one(table, "E2820", "2017/18")
    assert r["reserves_sustainability"] is not None and 0 < float(r["reserves_sustainability"]) < 100  # type: ignore[arg-type]


@pytest.mark.parametrize("indicator", resilience.INDICATORS)
def test_percentiles_equal_scipy_average_ranks_with_ties_and_missing(table: pl.DataFrame, indicator: str) -> None:
    riskier, theme = resilience.catalogue().filter(pl.col("name") == indicator).select("riskier", "theme").row(0)
    # The indicators of change are ranked among windows of the same length (issue 35).
    keys = ["class", "year", "history_years"] if theme == "reserves trajectory" else ["class", "year"]
    for (cls, year, *_), g in table.group_by(keys):
        values = g[indicator].to_numpy().astype(float)
        present = ~np.isnan(values)
        pct = g[f"{indicator}_percentile"].to_numpy().astype(float)
        assert np.array_equal(np.isnan(pct), ~present), (cls, year)
        n = present.sum()
        if n == 0:
            continue
        signed = values[present] if riskier == "higher" else -values[present]
        expected = (rankdata(signed, method="average") - 1) / (n - 1) if n > 1 else np.array([0.5])
        np.testing.assert_allclose(pct[present], expected, rtol=0, atol=1e-12, err_msg=f"{cls} {year}")


def test_ties_at_the_cap_share_a_percentile(table: pl.DataFrame) -> None:
    md = table.filter((pl.col("class") == "MD") & (pl.col("year") == "2017/18"))
    capped = md.filter(pl.col("reserves_sustainability") == 100.0)
    assert capped.height > 1
    assert capped["reserves_sustainability_percentile"].n_unique() == 1


def test_score_is_in_unit_interval_and_driver_has_the_highest_percentile(table: pl.DataFrame) -> None:
    scored = table.filter(pl.col("risk_score").is_not_null())
    assert scored["risk_score"].min() >= 0 and scored["risk_score"].max() <= 1  # type: ignore[operator]
    pcols = [f"{i}_percentile" for i in resilience.INDICATORS]
    for row in scored.head(200).to_dicts():
        best = max(row[c] for c in pcols if row[c] is not None)
        assert row[f"{row['driver']}_percentile"] == best
        assert set(row["riskiest_decile"]) == {c[: -len("_percentile")] for c in pcols if row[c] is not None and row[c] >= 0.9}


def test_suppressed_returns_stay_missing_and_are_not_ranked(table: pl.DataFrame) -> None:
    reading = one(table, "E0303", "2017/18")  # data_flag I: RS figures suppressed in the source
    # Every indicator that needs the return is missing; the debt tables still have its borrowing.
    assert all(reading[i] is None for i in resilience.INDICATORS if i != "borrowing_growth")
    assert reading["borrowing_growth"] is not None
    assert reading["missing_indicators"] == [i for i in resilience.INDICATORS if i != "borrowing_growth"]
    assert reading["driver"] == "borrowing_growth"
    plain = resilience.indicators(mhclg_reserves(), debt=False)
    row = plain.filter((pl.col("ecode") == "E0303") & (pl.col("year") == "2017/18")).row(0, named=True)
    assert row["risk_score"] is None and row["driver"] is None


def test_loader_swaps_bristol_2015_16_back() -> None:
    raw = raw_rows()[("E0102", "2015/16")]
    assert raw["unallocated_reserves_31mar_k"] == "87311"  # as published
    fixed = mhclg_reserves().filter((pl.col("ecode") == "E0102") & (pl.col("year") == "2015/16")).row(0, named=True)
    assert str(fixed["earmarked_reserves_31mar_k"]) == "87311.000000"
    assert str(fixed["unallocated_reserves_31mar_k"]) == "20000.000000"
    assert str(fixed["approp_earmarked_reserves_k"]) == raw["approp_unallocated_reserves_k"] + ".000000"
    # It now continues into the 2016/17 return's opening balances.
    nxt = raw_rows()[("E0102", "2016/17")]
    assert float(fixed["earmarked_reserves_31mar_k"]) == float(nxt["earmarked_reserves_1apr_k"])
    assert "swapped" in fixed["note"]
    asis = mhclg_reserves(corrected=False).filter((pl.col("ecode") == "E0102") & (pl.col("year") == "2015/16"))
    assert str(asis["unallocated_reserves_31mar_k"][0]) == "87311.000000"


def test_loader_keeps_one_ecode_per_authority_and_its_latest_name() -> None:
    df = mhclg_reserves()
    # Tees Valley's balances carry on under one code (46,095 at 31 March 2017; 46,078 at 1 April).
    tv = df.filter(pl.col("ons_code") == "E47000006").sort("year")
    assert tv["ecode"].n_unique() == 1 and tv["name"].n_unique() == 1
    assert df.group_by("ecode").agg(pl.col("name").n_unique())["name"].max() == 1
    shepway = df.filter(pl.col("ecode") == "E2240")
    assert set(shepway["name"]) == {"Folkestone and Hythe"}
    assert "Shepway" in set(shepway["name_as_published"])
    # Nothing dropped, nothing duplicated; money exact as published.
    assert df.height == 1335 and df.select("ecode", "year").is_duplicated().sum() == 0
    # README check 1: Croydon 2017/18 holds 6351.98844 (which rounds to the published 6352).
    croydon = df.filter((pl.col("name") == "Croydon") & (pl.col("year") == "2017/18"))
    assert "6351.98844" in {str(croydon[c][0]).rstrip("0") for c in croydon.columns if c.endswith("_k")}


def test_loader_money_is_exact() -> None:
    df = mhclg_reserves(corrected=False)
    raw = raw_rows()
    for row in df.head(300).iter_rows(named=True):
        r = raw[(row["ecode"], row["year"])]
        for c in ("net_revenue_expenditure_k", "interest_payable_k", "earmarked_reserves_31mar_k"):
            if r[c] == "":
                assert row[c] is None
            else:
                from decimal import Decimal

                assert row[c] == Decimal(r[c])


def small(**over: object) -> pl.DataFrame:
    base: dict[str, object] = {
        "ecode": ["E1", "E2", "E3"],
        "year": ["2017/18"] * 3,
        "class": ["MD"] * 3,
        "net_revenue_expenditure": [100.0, 100.0, 100.0],
        "council_tax_requirement": [50.0, 50.0, 50.0],
        "earmarked_reserves_1apr": [30.0, 30.0, 30.0],
        "earmarked_reserves_31mar": [20.0, 30.0, None],
        "unallocated_reserves_1apr": [10.0, 10.0, 10.0],
        "unallocated_reserves_31mar": [10.0, 10.0, 10.0],
        "interest_payable": [1.0, 2.0, 3.0],
        "provision_repayment_principal": [0.0, 0.0, 0.0],
        "leasing_payments": [0.0, 0.0, 0.0],
    }
    base.update(over)
    return pl.DataFrame(base)


def test_peer_group_list_and_mapping() -> None:
    out = resilience.indicators(small(), peer_group=["E1", "E2"])
    assert out["ecode"].to_list() == ["E1", "E2"]
    assert out["interest_payable_to_nre_percentile"].to_list() == [0.0, 1.0]
    out = resilience.indicators(small(), peer_group={"E1": "a", "E2": "b", "E3": "b"})
    assert out["interest_payable_to_nre_percentile"].to_list() == [0.5, 0.0, 1.0]


@pytest.mark.parametrize(
    ("df", "peer", "message"),
    [
        (small().drop("interest_payable"), "class", "interest_payable: no column"),
        (small(year=["2017-18"] * 3), "class", 'rows[0].year: "2017-18"'),
        (small(ecode=["E1", "E1", "E3"]), "class", 'rows[1]: authority "E1" appears twice'),
        (small(interest_payable=["1", "x", "3"]), "class", "interest_payable[1]: 'x' is not a number"),
        # Issue 38, item 5: a decimal comma was read as a value ten times too big (123).
        (small(interest_payable=["1", "12,3", "3"]), "class", "interest_payable[1]: '12,3' is not a number"),
        (small(interest_payable=[1.0, float("inf"), 3.0]), "class", "rows[1].interest_payable: inf"),
        (small(), ["E9"], "peer_group: ['E9'] are not ecodes"),
        (small(), "region", "peer_group: 'region'"),
    ],
)
def test_errors_name_the_field_and_value(df: pl.DataFrame, peer: object, message: str) -> None:
    with pytest.raises(fr.ValidationError) as e:
        resilience.indicators(df, peer_group=peer)  # type: ignore[arg-type]
    assert message in str(e.value)


# --- debt (MHCLG borrowing and investment live tables) and the weakest-link score


def raw_debt() -> dict[tuple[str, str], dict[str, str]]:
    with open(mhclg_borrowing_path(), newline="") as f:
        return {(r["ecode"], r["year"]): r for r in csv.DictReader(f)}


@pytest.mark.parametrize(("ecode", "year"), [("E4601", "2017/18"), ("E3641", "2017/18"), ("E3637", "2016/17"), ("E5030", "2017/18")])
def test_debt_indicators_by_hand_from_the_raw_files(table: pl.DataFrame, ecode: str, year: str) -> None:
    rs, debt = raw_rows()[(ecode, year)], raw_debt()[(ecode, year)]
    nre = float(rs["net_revenue_expenditure_k"])
    borrowing, investments = float(debt["borrowing"]), float(debt["investments"])
    earlier = raw_debt()[(ecode, f"{int(year[:4]) - 2}/{int(year[5:]) - 2:02d}")] if year == "2017/18" else None
    row = one(table, ecode, year)
    assert row["gross_debt_to_nre"] == pytest.approx(borrowing / nre, rel=ARITHMETIC_RTOL)
    assert row["net_debt_to_nre"] == pytest.approx((borrowing - investments) / nre, rel=ARITHMETIC_RTOL)
    assert row["investments_to_nre"] == pytest.approx(investments / nre, rel=ARITHMETIC_RTOL)
    if earlier is not None and float(earlier["borrowing"]) > 0:
        assert row["borrowing_growth"] == pytest.approx(borrowing / float(earlier["borrowing"]) - 1, rel=ARITHMETIC_RTOL)
    else:
        assert row["borrowing_growth"] is None  # no borrowing two years before in the tables


def test_one_extreme_indicator_is_not_averaged_away(table: pl.DataFrame) -> None:
    # Woking, 2017/18: interest payable 234% of net revenue expenditure, borrowing 107 times it.
    woking = one(table, "E3641", "2017/18")
    assert woking["interest_payable_to_nre"] == pytest.approx(2.34, abs=0.01)
    assert woking["risk_score"] == 1.0
    assert woking["average_score"] < 0.6  # the averaged score would have hidden it
    assert {"interest_payable_to_nre", "capital_financing_to_nre", "gross_debt_to_nre"} <= set(woking["alarms"])
    # The headline is the worst theme's mean percentile, recomputed here from the percentiles.
    themes: dict[str, list[float]] = {}
    for ind in resilience.catalogue().iter_rows(named=True):
        p = woking[f"{ind['name']}_percentile"]
        if p is not None:
            themes.setdefault(ind["theme"], []).append(p)
    assert woking["risk_score"] == pytest.approx(max(sum(v) / len(v) for v in themes.values()))
    assert woking["average_score"] == pytest.approx(sum(sum(v) / len(v) for v in themes.values()) / len(themes))


def test_alarms_are_the_riskiest_decile_and_the_stated_thresholds(table: pl.DataFrame) -> None:
    cat = resilience.catalogue()
    thresholds = {r["name"]: (r["alarm"], r["riskier"]) for r in cat.iter_rows(named=True) if r["alarm"] is not None}
    for row in table.head(400).to_dicts():
        expected = []
        for name in resilience.INDICATORS:
            v, p = row[name], row[f"{name}_percentile"]
            beyond = False
            if v is not None and name in thresholds:
                t, riskier = thresholds[name]
                beyond = v < t if riskier == "lower" else v > t
            if (p is not None and p >= 0.9) or beyond:
                expected.append(name)
        assert row["alarms"] == expected


def test_borrowing_loader_is_exact_and_covers_every_principal_council() -> None:
    debt = mhclg_borrowing()
    raw = raw_debt()
    assert debt.height == len(raw) == 1310
    assert debt["borrowing_k"].dtype == pl.Decimal(precision=38, scale=6)
    woking = debt.filter((pl.col("ecode") == "E3641") & (pl.col("year") == "2017/18")).row(0, named=True)
    assert str(woking["borrowing_k"]) == "805393.000000" and raw[("E3641", "2017/18")]["borrowing"] == "805393.0"
    renamed = debt.filter(pl.col("name") != pl.col("name_as_published"))
    assert renamed.height > 0 and renamed["note"].is_not_null().all()
    assert debt.filter(pl.col("name") == pl.col("name_as_published"))["note"].is_null().all()
    principal = mhclg_reserves().filter(pl.col("class") != "O").select("ecode", "year").unique()
    assert principal.join(debt.select("ecode", "year"), on=["ecode", "year"], how="anti").height == 0


def test_a_debt_table_of_ones_own_joins_and_is_checked() -> None:
    df = small()
    debt = pl.DataFrame({"ecode": ["E1", "E2"], "year": ["2017/18", "2017/18"], "borrowing": [1200.0, 100.0],
                         "investments": [200.0, 0.0]})
    out = resilience.indicators(df, peer_group="all", debt=debt)
    # E3 is not in the debt table: its debt indicators are missing, and say so.
    assert out["gross_debt_to_nre"].to_list() == [12.0, 1.0, None]
    assert "gross_debt_to_nre" in out["missing_indicators"][2]
    assert "gross_debt_to_nre" in out["alarms"][0]  # beyond ten times net revenue expenditure
    # Returns in pounds are never joined to the bundled table in £ thousand.
    assert resilience.indicators(df, peer_group="all")["gross_debt_to_nre"].to_list() == [None] * 3
    with pytest.raises(fr.ValidationError, match="debt: authority 'E1' appears twice in 2017/18"):
        resilience.indicators(df, debt=pl.concat([debt, debt.head(1)]))
    with pytest.raises(fr.ValidationError, match="debt.borrowing: no column"):
        resilience.indicators(df, debt=debt.drop("borrowing"))


def test_a_plan_reports_debt_indicators_as_not_simulated() -> None:
    data = fr.examples.birmingham_2019().to_dict()
    data.pop("capital")  # a plan without a capital section
    r = fr.Scenario.from_dict(data).simulate(trials=2_000, seed=1, progress=False)
    with pytest.raises(fr.ValidationError, match="gross_debt_to_nre.*not simulated"):
        r.probability_below("gross_debt_to_nre", 10.0, "2020/21")


# --- backtest


def test_backtest_auc_equals_mann_whitney_and_known_answers() -> None:
    import datetime

    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(5)
    n = 300
    scores = rng.random(n).round(2)  # ties on purpose
    events = rng.random(n) < 0.1
    frame = pl.DataFrame({"ecode": [f"E{i}" for i in range(n)], "year": ["2017/18"] * n, "risk_score": scores})
    ev = pl.DataFrame({"ecode": [f"E{i}" for i in np.flatnonzero(events)], "date": [datetime.date(2019, 6, 1)] * int(events.sum())})
    b = resilience.backtest(frame, ev, k=20)
    u = mannwhitneyu(scores[events], scores[~events]).statistic
    assert b.auc == pytest.approx(u / (events.sum() * (~events).sum()), rel=1e-12)
    assert b.auc_low <= b.auc <= b.auc_high
    top = np.argsort(-scores, kind="stable")[:20]
    assert b.precision == pytest.approx(events[top].sum() / 20)
    assert b.recall == pytest.approx(events[top].sum() / events.sum())
    # A perfect ranking.
    perfect = frame.with_columns(risk_score=pl.Series(events.astype(float) + scores * 0.01))
    p = resilience.backtest(perfect, ev, k=int(events.sum()))
    assert (p.auc, p.precision, p.recall) == (1.0, 1.0, 1.0)


def test_backtest_recovers_a_known_separation() -> None:
    from math import sqrt

    from scipy.stats import norm

    # Scores of authorities that fail ~ N(1, 1), of others ~ N(0, 1): AUC = Phi(1 / sqrt 2).
    rng = np.random.default_rng(11)
    n0, n1 = 2000, 200
    scores = np.concatenate([rng.normal(0, 1, n0), rng.normal(1, 1, n1)])
    frame = pl.DataFrame({"ecode": [f"E{i}" for i in range(n0 + n1)], "year": ["2017/18"] * (n0 + n1), "risk_score": scores})
    ev = pl.DataFrame({"ecode": [f"E{i}" for i in range(n0, n0 + n1)], "date": ["2020-01-01"] * n1})
    b = resilience.backtest(frame, ev, level=0.99, bootstrap=500)
    truth = norm.cdf(1 / sqrt(2))
    assert b.auc_low <= truth <= b.auc_high


def test_backtest_judges_each_event_on_the_year_before_it() -> None:
    import datetime

    frame = pl.DataFrame({"ecode": ["A", "B", "C"] * 2, "year": ["2016/17"] * 3 + ["2017/18"] * 3,
                          "risk_score": [0.9, 0.1, 0.5, 0.1, 0.9, 0.5]})
    ev = pl.DataFrame({"ecode": ["A", "B"], "date": [datetime.date(2018, 2, 2), datetime.date(2020, 11, 11)]})
    b = resilience.backtest(frame, ev, k=1)
    # A's notice (February 2018) falls inside 2017/18: it is judged on 2016/17, where it ranked first.
    assert b.events.select("ecode", "year", "rank").rows() == [("A", "2016/17", 1), ("B", "2017/18", 1)]
    with pytest.raises(fr.ValidationError, match="events.date\\[0\\]: 'soon' is not a date"):
        resilience.backtest(frame, pl.DataFrame({"ecode": ["A"], "date": ["soon"]}))


def test_numbers_typed_as_text_follow_the_scenario_parsers_rule() -> None:
    # One rule for every reader: thousands separators between groups of three only.
    out = resilience.indicators(small(interest_payable=["1", "2,000", "3"]))
    assert out["interest_payable_to_nre"][1] == resilience.indicators(small(interest_payable=[1.0, 2000.0, 3.0]))["interest_payable_to_nre"][1]
    with pytest.raises(fr.ValidationError, match=r"interest_payable\[2\]: '1.234,5' is not a number"):
        resilience.indicators(small(interest_payable=["1", "2", "1.234,5"]))
    with pytest.raises(fr.ValidationError, match=r'"12,3" is not an amount of money'):
        fr.Scenario.from_toml_str('[plan]\nname = "x"\nfirst_year = "2019/20"\nyears = 1\nnet_budget = ["12,3"]\n')


def test_risk_order_breaks_the_weakest_links_ties_and_keeps_its_order(table: pl.DataFrame) -> None:
    # Issue 35, item 3: 13 principal councils tied at risk_score 1.0 on 2017/18.
    principal = table.filter((pl.col("year") == "2017/18") & (pl.col("class") != "O"))
    top = principal.filter(pl.col("risk_score") == 1.0)
    assert top.height == 13
    # Within a class the tied councils are ordered by their next-worst theme: at most the
    # councils equal on every theme still share a place.
    for _, g in top.group_by("class"):
        assert g["risk_order"].n_unique() == g.height, g.select("name", "risk_order")
    # risk_order never reverses risk_score: a higher worst theme is always riskier.
    for _, g in table.filter(pl.col("risk_score").is_not_null()).group_by("class", "year"):
        s, o = g["risk_score"].to_numpy(), g["risk_order"].to_numpy()
        higher = s[:, None] > s[None, :]
        assert (o[:, None] > o[None, :])[higher].all()
