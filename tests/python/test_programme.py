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
        ({"programme_corelation": 0.3}, '"programme_corelation" is not one of delivered, green, amber, red, programme_correlation'),
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
    assert "0.3 between savings due in one year, 0.5 within a directorate" in rows["assumption"][0]
