"""The risk-assessed minimum general fund balance, itemised (issue 32, item 7), against an
independent numpy simulation of the same exposures: the minimum is the quantile of the one-off
exposure beyond the budget, and each line the input's mean exposure in the trials reaching it."""

from __future__ import annotations

import numpy as np
import pytest

import fiscalrisk as fr

from tolerances import MC_SIGMAS, SKETCH_RTOL

TRIALS = 100_000


def plan(policy: dict[str, object] | None = None) -> fr.Scenario:
    return fr.Scenario.from_dict({
        "plan": {"name": "Exposure", "first_year": "2019/20", "years": 3, "net_budget": [100e6] * 3},
        "risks": [
            {"id": "R1", "name": "Claims", "probability": 0.3, "impact": {"dist": "uniform", "low": 2e6, "high": 6e6}},
            {"id": "R2", "name": "Games", "probability": 0.1, "impact": {"dist": "uniform", "low": 10e6, "high": 20e6},
             "profile": {"2020/21": 0.5, "2021/22": 0.5}},
            # Recurring: the budget set each year closes it; it has no line.
            {"id": "R3", "name": "Demand", "probability": 0.5, "impact": {"dist": "fixed", "value": 1e6}, "recurring": True},
        ],
        "pressures": [
            # Budgeted at its mean (3m): only its departure calls on the minimum.
            {"name": "Winter", "amount": {"dist": "triangular", "low": 1e6, "mode": 2e6, "high": 6e6},
             "first_year": "2020/21", "recurring": False},
            {"name": "Pay award", "amount": {"dist": "fixed", "value": 4e6}, "first_year": "2019/20", "recurring": True},
        ],
        "in_year": {"overspend": {"dist": "normal", "mean": 3e6, "sd": 1e6}},
        "reserves": {"general_fund": 60e6},
        "policy": policy or {"minimum_general_fund": {"amount": 0}},
    })


def numpy_twin(confidence: float) -> tuple[float, dict[str, tuple[float, float]], float]:
    """The same exposures drawn independently: the quantile (numpy's inverted cdf, as the
    result reads its sketch), each input's mean and sd in the trials at or beyond it, and
    their mean total there."""
    rng = np.random.default_rng(20261207)
    n = 2_000_000
    items = {
        "R1": np.where(rng.random(n) < 0.3, rng.uniform(2e6, 6e6, n), 0.0),
        "R2": np.where(rng.random(n) < 0.1, rng.uniform(10e6, 20e6, n), 0.0),
        "Winter": rng.triangular(1e6, 2e6, 6e6, n) - 3e6,
        "underlying in-year overspend": rng.normal(3e6, 1e6, n),
    }
    total = sum(items.values())
    q = float(np.quantile(total, confidence, method="inverted_cdf"))
    tail = total >= q
    return q, {k: (float(v[tail].mean()), float(v[tail].std())) for k, v in items.items()}, float(total[tail].mean())


@pytest.mark.parametrize("confidence", [0.8, 0.95])
def test_the_minimum_and_its_lines_agree_with_a_numpy_twin(confidence: float) -> None:
    result = plan().simulate(trials=TRIALS, seed=3)
    m = result.minimum_statement(confidence, progress=False)
    q, means, tail_mean = numpy_twin(confidence)
    assert m.confidence == confidence and m.trials == TRIALS and m.seed == 3
    assert m.minimum == result.risk_assessed_minimum(confidence)
    # The sample quantile's standard error, from the twin's density at q (a kernel estimate).
    rng = np.random.default_rng(1)
    twin = sum([np.where(rng.random(400_000) < 0.3, rng.uniform(2e6, 6e6, 400_000), 0.0),
                np.where(rng.random(400_000) < 0.1, rng.uniform(10e6, 20e6, 400_000), 0.0),
                rng.triangular(1e6, 2e6, 6e6, 400_000) - 3e6, rng.normal(3e6, 1e6, 400_000)])
    h = 0.25e6
    density = float(np.mean(np.abs(twin - q) < h)) / (2 * h)
    se_q = (confidence * (1 - confidence) / TRIALS) ** 0.5 / density
    assert abs(m.minimum - q) < MC_SIGMAS * se_q + SKETCH_RTOL * q
    tail = TRIALS * (1 - confidence)
    assert abs(m.tail_trials - tail) < MC_SIGMAS * (tail * confidence) ** 0.5 + 1
    lines = {row["id"]: row for row in m.table.iter_rows(named=True)}
    # Recurring items have no line; every one-off input has one.
    assert set(lines) == set(means)
    for key, (expected, sd) in means.items():
        # Its standard error in the tail, and the threshold's own error moving the tail.
        tol = MC_SIGMAS * sd / m.tail_trials**0.5 + se_q
        assert abs(lines[key]["mean_in_tail"] - expected) < tol, (key, lines[key]["mean_in_tail"], expected)
    assert abs(m.tail_mean - tail_mean) < MC_SIGMAS * 20e6 / m.tail_trials ** 0.5 + se_q
    # The lines add up to the minimum; shares to one.
    assert m.table["provision"].sum() == pytest.approx(m.minimum, rel=1e-9)
    assert m.table["share"].sum() == pytest.approx(1.0, rel=1e-9)
    provisions = m.table["provision"].to_list()
    assert provisions == sorted(provisions, reverse=True)
    # Overall means: a risk's is probability times mean impact; the pressure's departure 0.
    assert lines["R1"]["mean"] == pytest.approx(0.3 * 4e6, abs=MC_SIGMAS * 2e6 / TRIALS**0.5)
    assert abs(lines["Winter"]["mean"]) < MC_SIGMAS * 1.1e6 / TRIALS**0.5


def test_the_policy_minimum_is_the_statements_figure_and_the_budget_carries_pressures() -> None:
    c = 0.9
    assessed = plan({"minimum_general_fund": {"risk_assessed": c}}).simulate(trials=20_000, seed=5)
    m = assessed.minimum_statement(c, progress=False)
    assert assessed.by_year()["minimum"].to_list() == [m.minimum] * 3
    # A pressure that is certain and budgeted moves nothing; the same amount as a certain
    # one-off risk moves the minimum by all of it.
    base = plan().simulate(trials=20_000, seed=5).risk_assessed_minimum(c)
    data = plan().to_dict()
    data["pressures"].append({"name": "Budgeted", "amount": {"dist": "fixed", "value": 9e6},
                              "first_year": "2019/20", "recurring": False})
    # (Trial by trial the same exposure, summed in another order: within the sketch's accuracy.)
    budgeted = fr.Scenario.from_dict(data).simulate(trials=20_000, seed=5).risk_assessed_minimum(c)
    assert budgeted == pytest.approx(base, rel=SKETCH_RTOL)


def test_a_bad_confidence_is_named() -> None:
    result = plan().simulate(trials=100, seed=1)
    for c in (0.3, 1.0, float("nan")):
        with pytest.raises(fr.ValidationError, match="confidence"):
            result.minimum_statement(c, progress=False)


def test_the_statement_names_its_inputs_and_reads_as_a_statement() -> None:
    m = plan().simulate(trials=2_000, seed=1).minimum_statement(progress=False)
    assert m.table.columns == ["kind", "id", "name", "mean", "mean_in_tail", "provision", "share"]
    assert dict(zip(m.table["id"], m.table["name"]))["R2"] == "Games"
    assert "95% quantile" in m._repr_html_() and "beyond the budget" in m._repr_html_()
    assert repr(m).startswith("MinimumStatement(confidence 0.95, minimum £")
