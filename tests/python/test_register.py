"""Risks and registers: validation messages, horizons, correlations, files and DataFrames."""

from __future__ import annotations

import pickle
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from scipy import integrate, stats
from tolerances import CLOSED_FORM_RTOL

import fiscalrisk as fr


def risk(id: str = "a", p: float = 0.5, **kw: Any) -> fr.Risk:
    return fr.Risk(id, f"risk {id}", p, kw.pop("impact", fr.Uniform(10, 20)), **kw)


RISK_ERRORS = [
    (dict(p=1.5), r"probability: 1.5 is outside \[0, 1\]"),
    (dict(p=-0.1), r"probability: -0.1 is outside \[0, 1\]"),
    (dict(p=float("nan")), r"probability: NaN is outside \[0, 1\]"),
    (dict(share=2.0), r"share: 2.0 is outside \[0, 1\]"),
    (dict(cap=-5), "cap: -5.00 is negative"),
    (dict(impact=fr.Normal(0, 1), profile={"2019/20": 0.5, "2020/21": 0.4}), "profile: fractions sum to 0.9, not 1"),
    (dict(profile={"2019-20": 1.0}), 'profile: "2019-20" is not a financial year label like "2019/20"'),
    (dict(profile={"2019/21": 1.0}), 'profile: "2019/21" is not a financial year: 21 does not follow 2019'),
    (dict(profile={"2019/20": 1.5, "2020/21": -0.5}), r'profile\["2019/20"\]: 1.5 is outside \[0, 1\]'),
    (dict(profile={}), "profile: names no year"),
    (dict(recurring=True, profile={"2019/20": 0.5, "2020/21": 0.5}), "profile: a recurring risk starts in one year"),
    (dict(impact={"dist": "uniform", "low": 10, "high": 5}), "impact.high: 5.0 is below low 10.0"),
    (dict(impact="pert"), "impact: 'pert' is not a distribution"),
]


@pytest.mark.parametrize(("kwargs", "message"), RISK_ERRORS)
def test_risk_validates_its_own_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(fr.ValidationError, match=message):
        risk(**kwargs)


def test_empty_id_is_rejected() -> None:
    with pytest.raises(fr.ValidationError, match="id: must not be empty"):
        fr.Risk(" ", "x", 0.5, fr.Fixed(1))


REGISTER_ERRORS = [
    (lambda: fr.RiskRegister([risk("a"), risk("a")], first_year="2019/20"), r'risks\[1\].id: "a" is already the id of risks\[0\]'),
    (
        lambda: fr.RiskRegister(
            [risk("a"), risk("b"), risk("c"), {"id": "d", "name": "d", "probability": 0.1, "impact": {"dist": "uniform", "low": 10.0, "high": 5.0}}],
            first_year="2019/20",
        ),
        r"risks\[3\].impact.high: 5.0 is below low 10.0",
    ),
    (lambda: fr.RiskRegister([risk("a")]), "first_year: needed when no risk has a profile"),
    (lambda: fr.RiskRegister([risk("a"), 7], first_year="2019/20"), r"risks\[1\]: 7 is not a Risk or a dict"),
    (lambda: fr.RiskRegister([risk("a")], first_year="2019"), 'first_year: "2019" is not a financial year label'),
    (lambda: fr.RiskRegister([risk("a")], first_year="2019/20", years=0), "years: 0 is not between 1 and 100"),
    (
        lambda: fr.RiskRegister([risk("a", profile={"2024/25": 1.0})], first_year="2019/20", years=3),
        r'risks\[0\] \("a"\).profile: 2024/25 is outside the horizon 2019/20 to 2021/22',
    ),
    (lambda: fr.RiskRegister([risk("a"), risk("b")], [("a", "z", 0.5)], "2019/20"), r'correlations\[0\]: no risk has the id "z"'),
    (lambda: fr.RiskRegister([risk("a"), risk("b")], [("a", "b", -1.5)], "2019/20"), r"correlations\[0\].rho: -1.5 is outside \[-1, 1\]"),
    (lambda: fr.RiskRegister([risk("a"), risk("b")], [("a", "a", 0.5)], "2019/20"), r'correlations\[0\]: "a" is paired with itself'),
    (
        lambda: fr.RiskRegister([risk("a"), risk("b")], [("a", "b", 0.5), ("b", "a", 0.1)], "2019/20"),
        r'correlations\[1\]: "b" and "a" are already given rho 0.5',
    ),
    (lambda: fr.RiskRegister.from_dict({"risks": [], "first_year": "2019/20", "colour": "red"}), "`colour` is not a key here; the keys are first_year, years, strict, risks, correlations"),
    (
        lambda: fr.RiskRegister.from_dict({"first_year": "2019/20", "risks": [{"id": "a", "name": "a", "probability": "high", "impact": {"dist": "fixed", "value": 1}}]}),
        r"risks\[0\].probability: 'high' is not a number",
    ),
]


@pytest.mark.parametrize(("make", "message"), REGISTER_ERRORS)
def test_register_errors_name_the_path(make: Any, message: str) -> None:
    with pytest.raises(fr.ValidationError, match=message):
        make()


def test_toml_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('first_year = "2019/20"\n\n[[risks]]\nid = "a"\nname = "A"\nprobability = 0.5\nimpact = { dist = "pert", low = 10.0, mode = 5.0, high = 20.0 }\n')
    with pytest.raises(fr.ValidationError, match=r'risks\[0\] \("a"\).impact.mode: 5.0 is below low 10.0 \(line 7\)'):
        fr.RiskRegister.from_toml(path)
    path.write_text('first_year = "2019/20"\n[[risks]]\nid = "a"\nname = "A"\nprobability = "likely"\n')
    with pytest.raises(fr.ValidationError, match=r'(?s)risks\[0\].probability: .*line 5.*"likely" is not a number'):
        fr.RiskRegister.from_toml(path)
    path.write_text("first_year = [unclosed\n")
    with pytest.raises(fr.ValidationError, match="line 1"):
        fr.RiskRegister.from_toml(path)


def test_horizon_from_profiles() -> None:
    reg = fr.RiskRegister([risk("a", profile={"2021/22": 1.0}), risk("b", profile={"2019/20": 0.5, "2020/21": 0.5})])
    assert reg.periods == ["2019/20", "2020/21", "2021/22"]
    assert fr.RiskRegister([risk("a")], first_year="2019/20").periods == ["2019/20"]
    assert fr.RiskRegister([risk("a")], first_year="2019/20", years=3).periods == ["2019/20", "2020/21", "2021/22"]


def test_invalid_correlation_matrix_is_repaired_with_a_warning_or_rejected() -> None:
    risks = [risk("a"), risk("b"), risk("c")]
    corr = [("a", "b", 0.9), ("a", "c", 0.9), ("b", "c", -0.9)]
    with pytest.warns(fr.FiscalRiskWarning, match=r'"a".*"b".*"c"|"[abc]", "[abc]", "[abc]"'):
        fr.RiskRegister(risks, corr, "2019/20")
    with pytest.raises(fr.ValidationError, match="do not form a valid correlation matrix"):
        fr.RiskRegister(risks, corr, "2019/20", strict=True)
    fr.RiskRegister(risks, [("a", "b", 0.5), ("a", "c", 0.3)], "2019/20")  # valid: no warning


def test_correlations_as_pairs_or_tables() -> None:
    risks = [risk("a"), risk("b")]
    pairs = fr.RiskRegister(risks, [("a", "b", 0.4)], "2019/20")
    tables = fr.RiskRegister(risks, [{"risks": ["a", "b"], "rho": 0.4}], "2019/20")
    assert pairs == tables and pairs.correlations == [("a", "b", 0.4)]
    assert "[[correlations]]" in pairs.to_toml()
    with pytest.raises(fr.ValidationError, match=r"correlations\[0\]: .* is not \(risk_id, risk_id, rho\)"):
        fr.RiskRegister(risks, [("a", 0.4)], "2019/20")  # type: ignore[list-item]
    with pytest.raises(fr.ValidationError, match=r"correlations\[0\].rho: 'high' is not a number"):
        fr.RiskRegister(risks, [("a", "b", "high")], "2019/20")  # type: ignore[list-item]


def test_expected_values_exact() -> None:
    games = risk("games", 0.5, impact=fr.Uniform(0, 80e6), share=0.25, cap=10e6, profile={"2020/21": 0.2, "2021/22": 0.8})
    care = risk("care", 0.4, impact=fr.Normal(3e6, 1e6), recurring=True, profile={"2020/21": 1.0})
    reg = fr.RiskRegister([games, care], first_year="2019/20", years=4)
    ev = reg.expected_values()
    assert ev.columns == ["risk_id", "period", "expected"]
    got = {(r, p): v for r, p, v in ev.iter_rows()}
    # Games: 0.25 E[min(X, 40m)] for X ~ U(0, 80m) is 0.25 * 30m = 7.5m; times 0.5, split 20/80.
    assert got[("games", "2019/20")] == 0.0
    assert got[("games", "2020/21")] == pytest.approx(0.5 * 7.5e6 * 0.2, rel=CLOSED_FORM_RTOL)
    assert got[("games", "2021/22")] == pytest.approx(0.5 * 7.5e6 * 0.8, rel=CLOSED_FORM_RTOL)
    # Care: recurring 0.4 * 3m every year from 2020/21.
    for year in ["2020/21", "2021/22", "2022/23"]:
        assert got[("care", year)] == pytest.approx(0.4 * 3e6, rel=CLOSED_FORM_RTOL)
    assert got[("care", "2019/20")] == 0.0
    # A capped normal: E[min(X, c)] = mu - E[(X - c)+], checked with scipy's expect.
    capped = risk("n", 1.0, impact=fr.Normal(3e6, 1e6), cap=3.5e6)
    n = stats.norm(3e6, 1e6)
    truth = integrate.quad(lambda x: x * n.pdf(x), 3e6 - 12e6, 3.5e6)[0] + 3.5e6 * n.sf(3.5e6)
    assert capped.expected_cost_if_occurs() == pytest.approx(truth, rel=1e-7)


def test_risk_properties_and_exact_cap() -> None:
    r = risk("g", 0.25, cap=Decimal("12345678.91"), share=0.25, category="major project", owner="CFO")
    assert r.cap == Decimal("12345678.91")
    assert (r.id, r.probability, r.share, r.category, r.owner) == ("g", 0.25, 0.25, "major project", "CFO")
    assert r.impact == fr.Uniform(10, 20)
    assert pickle.loads(pickle.dumps(r)) == r


def example() -> fr.RiskRegister:
    return fr.datasets.example_register()


def test_toml_dict_and_pickle_round_trips() -> None:
    reg = example()
    assert fr.RiskRegister.from_toml_str(reg.to_toml()) == reg
    assert fr.RiskRegister.from_dict(reg.to_dict()) == reg
    assert fr.RiskRegister.from_json_str(reg.to_json()) == reg
    with pytest.raises(fr.ValidationError, match="line 1, column 2"):
        fr.RiskRegister.from_json_str("{,}")
    assert pickle.loads(pickle.dumps(reg)) == reg
    assert reg.correlations[0] == ("waste_dispute", "contagion", 0.6)
    assert len(reg) == 8 and reg.risk_ids[0] == "equal_pay"


def test_frame_round_trip_and_files(tmp_path: Path) -> None:
    reg = example()
    df = reg.to_frame()
    assert df.columns == fr.risk.FRAME_COLUMNS
    back = fr.RiskRegister.from_frame(df, reg.correlations, first_year="2019/20", years=4)
    assert back == reg
    csv = tmp_path / "register.csv"
    df.write_csv(csv)
    assert fr.RiskRegister.from_frame(pl.read_csv(csv), reg.correlations, "2019/20", 4) == reg
    parquet = tmp_path / "register.parquet"
    df.write_parquet(parquet)
    assert fr.RiskRegister.from_frame(pl.read_parquet(parquet), reg.correlations, "2019/20", 4) == reg
    xlsx = tmp_path / "register.xlsx"
    df.write_excel(xlsx)
    assert fr.RiskRegister.from_frame(pl.read_excel(xlsx), reg.correlations, "2019/20", 4) == reg


def test_frame_errors_name_row_and_column() -> None:
    df = pl.DataFrame(
        {
            "id": ["a", "b"],
            "name": ["A", "B"],
            "probability": [0.5, 1.2],
            "dist": ["pert", "pert"],
            "low": [1.0, 1.0],
            "mode": [2.0, 2.0],
            "high": [3.0, 3.0],
            "notes": ["x", "y"],
        }
    )
    with pytest.warns(fr.FiscalRiskWarning, match="columns not read by RiskRegister.from_frame: notes"):
        with pytest.raises(fr.ValidationError, match=r"risks\[1\].probability: 1.2 is outside \[0, 1\]"):
            fr.RiskRegister.from_frame(df, first_year="2019/20")
    with pytest.raises(fr.ValidationError, match="columns: missing dist"):
        fr.RiskRegister.from_frame(df.drop("dist", "notes"), first_year="2019/20")
    bad_profile = df.drop("notes").with_columns(probability=pl.lit(0.5), profile=pl.lit("2019/20 0.5"))
    with pytest.raises(fr.ValidationError, match=r"risks\[0\].profile: '2019/20 0.5' is not 'year: fraction'"):
        fr.RiskRegister.from_frame(bad_profile, first_year="2019/20")
    bad_dist = df.drop("notes").with_columns(probability=pl.lit(0.5), dist=pl.lit("normal"))
    with pytest.raises(fr.ValidationError, match=r"risks\[0\].impact: `low` is not a key here; the keys are mean, sd"):
        fr.RiskRegister.from_frame(bad_dist, first_year="2019/20")


def test_repr_html() -> None:
    html = example()._repr_html_()
    assert "RiskRegister" in html and "2019/20 to 2022/23" in html and "£" in html
