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
