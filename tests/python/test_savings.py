"""Savings programmes: the programme view against closed forms, calibration from a synthetic
track record, and the fallback to defaults."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from tolerances import MC_SIGMAS

import fiscalrisk as fr

N = 40_000


def test_view_matches_the_delivery_model_in_expectation() -> None:
    value = 10e6
    programme = fr.SavingsProgramme(
        [
            {"id": "A", "name": "amber, recurring", "year": "2019/20", "value": value, "rag": "amber", "directorate": "Place"},
            {"id": "B", "name": "red, one-off", "year": "2020/21", "value": value, "rag": "red", "recurring": False, "directorate": "Adults"},
        ]
    )
    view = programme.view(trials=N, seed=5)
    assert view["target"].to_list() == [value, 2 * value]
    # Amber (default): due year 1 - 0.8 * (0.6 + 0.4 * 0.5) = 0.36 short; later years 1 - 0.8 = 0.2.
    # Red one-off in 2020/21: 1 - 0.6 * (0.25 + 0.75 * 0.25) = 0.7375 short, that year only.
    expected = [0.36 * value, 0.2 * value + 0.7375 * value]
    for got, want in zip(view["shortfall_mean"].to_list(), expected):
        assert abs(got - want) < MC_SIGMAS * value / np.sqrt(N), (got, want)
    assert (view["shortfall_p10"] <= view["shortfall_p50"]).all() and (view["shortfall_p50"] <= view["shortfall_p90"]).all()
    assert view["expected_delivery"].to_list() == pytest.approx([t - s for t, s in zip(view["target"], view["shortfall_mean"])])
    by_dir = programme.by_directorate(trials=N, seed=5)
    assert set(by_dir["directorate"]) == {"Place", "Adults"}
    assert by_dir["shortfall_mean"].sum() == pytest.approx(view["shortfall_mean"].sum(), rel=1e-9)


def synthetic_history(seed: int) -> tuple[pl.DataFrame, dict[str, tuple[float, float]]]:
    rng = np.random.default_rng(seed)
    truth = {"green": (0.85, 0.05), "amber": (0.55, 0.25), "red": (0.2, 0.45)}
    rows = []
    for rag, (p_full, p_slip) in truth.items():
        for _ in range(400):
            full = rng.random() < p_full
            rows.append({"rag": rag, "fraction_delivered": 1.0 if full else float(rng.uniform(0, 1) * 0.999), "slipped": bool(rng.random() < p_slip)})
    return pl.DataFrame(rows), truth


def test_calibration_recovers_known_rates() -> None:
    history, truth = synthetic_history(3)
    fitted = fr.SavingsProgramme.calibrate(history)
    for row in fitted.iter_rows(named=True):
        if row["rag"] not in truth:
            assert row["method"] == "default"
            continue
        p_full, p_slip = truth[row["rag"]]
        assert row["method"] == "history" and row["n"] == 400
        # Within twice the half-width of the stated 90% interval (about 3.3 standard errors).
        assert abs(row["p_full"] - p_full) <= row["p_full_high"] - row["p_full_low"], row
        assert abs(row["p_slip"] - p_slip) <= row["p_slip_high"] - row["p_slip_low"], row
        assert row["p_full_low"] < row["p_full"] < row["p_full_high"]
        assert row["partial_mean"] == pytest.approx(0.5, abs=0.08)
    # The fitted models drive a programme.
    delivery = {r["rag"]: r["delivery"] for r in fitted.iter_rows(named=True) if r["delivery"] is not None}
    programme = fr.SavingsProgramme([{"id": "A", "name": "A", "year": "2019/20", "value": 1e6, "rag": "amber"}], delivery)
    short = programme.view(trials=N, seed=1)["shortfall_mean"][0]
    amber = fitted.filter(pl.col("rag") == "amber").row(0, named=True)
    want = 1e6 * (1 - (1 - amber["p_slip"]) * (amber["p_full"] + (1 - amber["p_full"]) * amber["partial_mean"]))
    assert abs(short - want) < MC_SIGMAS * 1e6 / np.sqrt(N)


def test_too_little_history_keeps_defaults_with_a_warning() -> None:
    history = pl.DataFrame({"rag": ["green", "green", "amber"], "fraction_delivered": [1.0, 0.5, 0.2]})
    with pytest.warns(fr.FiscalRiskWarning) as record:
        fitted = fr.SavingsProgramme.calibrate(history)
    messages = [str(w.message) for w in record]
    assert any("2 past green savings is fewer than 5" in m for m in messages), messages
    assert any("0 past red savings" in m for m in messages), messages
    assert fitted.filter(pl.col("rag") != "delivered")["method"].to_list() == ["default"] * 3


@pytest.mark.parametrize(
    ("history", "message"),
    [
        (pl.DataFrame({"rag": ["amberish"], "fraction_delivered": [0.5]}), "history row 1: rag 'amberish' is not one of"),
        (pl.DataFrame({"rag": ["red"], "fraction_delivered": [1.5]}), "history row 1: fraction_delivered 1.5 is outside"),
        (pl.DataFrame({"rag": ["red"]}), "columns: missing fraction_delivered"),
    ],
)
def test_calibration_errors(history: pl.DataFrame, message: str) -> None:
    with pytest.raises(fr.ValidationError, match=message):
        fr.SavingsProgramme.calibrate(history)


# -- issue 12: calibration a finance team can defend ---------------------------------------------


def _three(rows: list[dict[str, object]]) -> pl.DataFrame:
    """The same rows for green, amber and red (so no status falls back to its default)."""
    return pl.DataFrame([{**r, "rag": rag} for rag in ("green", "amber", "red") for r in rows])


def _amber(table: pl.DataFrame) -> dict[str, object]:
    return table.filter(pl.col("rag") == "amber").row(0, named=True)


def test_a_slip_is_counted_once() -> None:
    rows = [{"fraction_delivered": 1.0, "slipped": False}] * 8 + [{"fraction_delivered": 0.0, "slipped": True}] * 2
    row = _amber(fr.SavingsProgramme.calibrate(_three(rows)))
    # 8 of 10 delivered in their due year: the model must expect 80%, not 0.8 * 0.8 = 64%.
    assert row["expected_due_year"] == pytest.approx(0.8)
    assert (row["p_slip"], row["p_full"]) == (0.2, 1.0)
    # And the programme view agrees: a £1m amber saving with the fitted model falls short by 20%.
    programme = fr.SavingsProgramme([{"id": "A", "name": "A", "year": "2019/20", "value": 1e6, "rag": "amber"}],
                                    delivery=fr.SavingsProgramme.calibrate(_three(rows)))
    assert float(programme.view(trials=N, seed=2)["shortfall_mean"][0]) == pytest.approx(0.2e6, abs=MC_SIGMAS * 0.4e6 / np.sqrt(N))


def test_what_a_slipped_saving_delivered_later_counts_for_its_fraction() -> None:
    rows = [{"fraction_delivered": 1.0, "slipped": False, "fraction_delivered_later": None}] * 6 + [
        {"fraction_delivered": 0.0, "slipped": True, "fraction_delivered_later": 0.5}
    ] * 4
    row = _amber(fr.SavingsProgramme.calibrate(_three(rows)))
    assert row["p_slip"] == pytest.approx(0.4) and row["p_full"] == pytest.approx(0.6)
    assert row["partial_mean"] == pytest.approx(0.5)
    bad = _three([{"fraction_delivered": 1.0, "slipped": False, "fraction_delivered_later": 0.5}] * 5)
    with pytest.raises(fr.ValidationError, match="fraction_delivered_later is given but the saving did not slip"):
        fr.SavingsProgramme.calibrate(bad)


def test_value_weighting_changes_the_answer_when_a_large_saving_fails() -> None:
    rows = [{"fraction_delivered": 1.0, "slipped": False, "value": 1e6}] * 9 + [
        {"fraction_delivered": 0.0, "slipped": True, "value": 20e6}
    ]
    row = _amber(fr.SavingsProgramme.calibrate(_three(rows)))
    assert row["p_slip_unweighted"] == pytest.approx(0.1)
    assert row["p_slip"] == pytest.approx(20 / 29)  # £20m of £29m slipped
    assert row["value"] == pytest.approx(29e6)
    # Effective count (Kish): 29^2 / (9 + 400) = 2.06 savings, so the interval is wide.
    n_eff = 29**2 / (9 + 400)
    from scipy import stats

    # Wilson's 90% interval on the effective count, by its definition (solve |p - x| = z sqrt(x(1-x)/n)).
    z = stats.norm.ppf(0.95)
    p = 20 / 29
    roots = np.roots([1 + z**2 / n_eff, -(2 * p + z**2 / n_eff), p**2])
    assert (row["p_slip_low"], row["p_slip_high"]) == pytest.approx(tuple(sorted(roots)), rel=1e-9)


def test_intervals_cover_the_truth_nine_times_in_ten() -> None:
    # Synthetic histories drawn from a known model, recovered within their 90% intervals.
    rng = np.random.default_rng(12)
    p_full, p_slip, n, reps = 0.55, 0.25, 60, 300
    covered_full = covered_slip = 0
    for _ in range(reps):
        slipped = rng.random(n) < p_slip
        full = rng.random(n) < p_full
        eventual = np.where(full, 1.0, rng.uniform(0, 1, n) * 0.999)
        history = pl.DataFrame({
            "rag": ["amber"] * n + ["green"] * 5 + ["red"] * 5,
            "fraction_delivered": [float(x) for x in np.where(slipped, 0.0, eventual)] + [1.0] * 10,
            "slipped": [bool(x) for x in slipped] + [False] * 10,
            "fraction_delivered_later": [float(e) if s else None for s, e in zip(slipped, eventual)] + [None] * 10,
        })
        row = _amber(fr.SavingsProgramme.calibrate(history))
        covered_full += row["p_full_low"] <= p_full <= row["p_full_high"]
        covered_slip += row["p_slip_low"] <= p_slip <= row["p_slip_high"]
    # Binomial(300, 0.9) lies within 0.9 +/- 0.06 with probability above 0.999 (Wilson's
    # coverage is close to nominal at these sizes).
    for covered in (covered_full, covered_slip):
        assert 0.84 <= covered / reps <= 0.96, covered / reps


def test_the_fitted_model_goes_straight_into_a_scenario() -> None:
    rows = [{"fraction_delivered": 1.0, "slipped": False}] * 7 + [{"fraction_delivered": 0.0, "slipped": True}] * 3
    fitted = fr.SavingsProgramme.calibrate(_three(rows))
    s = fr.examples.birmingham_2019().with_savings_delivery(fitted)
    delivery = s.to_dict()["savings_delivery"]
    assert delivery["amber"]["p_slip"] == pytest.approx(0.3) and delivery["programme_correlation"] == 0.3
    assert fr.Scenario.from_toml_str(s.to_toml()) == s
    with pytest.raises(fr.ValidationError, match="calibration table or a dict"):
        fr.examples.birmingham_2019().with_savings_delivery([1, 2])
