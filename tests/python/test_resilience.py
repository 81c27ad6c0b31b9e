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
from fiscalrisk.datasets import mhclg_reserves, mhclg_reserves_path

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
    # Each year's own movement (31 March less 1 April of the same return); the sum is the same
    # whichever way Bristol's 2015/16 columns are swapped.
    moves = [usable(r, "31mar") - usable(r, "1apr") for r in rows]
    close = usable(rows[-1], "31mar")
    mean = sum(moves) / 3
    expected = 100.0 if mean >= 0 else (0.0 if close <= 0 else min(100.0, close / -mean))
    got = one(table, ecode, "2017/18")
    assert got["reserves_sustainability"] == pytest.approx(expected, rel=ARITHMETIC_RTOL)
    assert got["change_in_reserves"] == pytest.approx(close / usable(rows[0], "1apr") - 1, rel=ARITHMETIC_RTOL)
    # 2015/16 has only its own year.
    first = one(table, ecode, "2015/16")
    assert first["history_years"] == 1
    assert first["change_in_reserves"] == pytest.approx(usable(rows[0], "31mar") / usable(rows[0], "1apr") - 1, rel=ARITHMETIC_RTOL)


def test_a_falling_authority_has_a_finite_sustainability(table: pl.DataFrame) -> None:
    # Northamptonshire (E2820) ran its usable reserves down over 2015/16 to 2017/18.
    r = one(table, "E2820", "2017/18")
    assert r["reserves_sustainability"] is not None and 0 < float(r["reserves_sustainability"]) < 100  # type: ignore[arg-type]


@pytest.mark.parametrize("indicator", resilience.INDICATORS)
def test_percentiles_equal_scipy_average_ranks_with_ties_and_missing(table: pl.DataFrame, indicator: str) -> None:
    riskier = resilience.catalogue().filter(pl.col("name") == indicator)["riskier"][0]
    for (cls, year), g in table.group_by("class", "year"):
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
    reading = one(table, "E0303", "2017/18")  # data_flag I: figures suppressed in the source
    assert all(reading[i] is None for i in resilience.INDICATORS)
    assert reading["risk_score"] is None and reading["driver"] is None


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
        (small(interest_payable=[1.0, float("inf"), 3.0]), "class", "rows[1].interest_payable: inf"),
        (small(), ["E9"], "peer_group: ['E9'] are not ecodes"),
        (small(), "region", "peer_group: 'region'"),
    ],
)
def test_errors_name_the_field_and_value(df: pl.DataFrame, peer: object, message: str) -> None:
    with pytest.raises(fr.ValidationError) as e:
        resilience.indicators(df, peer_group=peer)  # type: ignore[arg-type]
    assert message in str(e.value)
