"""Distributions against scipy.stats and numpy on a grid of parameters."""

from __future__ import annotations

import math
import pickle
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from tolerances import CLOSED_FORM_RTOL, INTEGRATION_RTOL, KS_PVALUE, MC_SIGMAS, QUANTILE_RTOL

import fiscalrisk as fr

PS = [0.001, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999]


def pert_scipy(low: float, mode: float, high: float, lamb: float = 4.0) -> Any:
    a = 1 + lamb * (mode - low) / (high - low)
    b = 1 + lamb * (high - mode) / (high - low)
    return stats.beta(a, b, loc=low, scale=high - low)


CONTINUOUS = [
    (fr.Uniform(0, 1), stats.uniform(0, 1)),
    (fr.Uniform(-5e6, 2e7), stats.uniform(-5e6, 2.5e7)),
    (fr.Triangular(0, 0, 1), stats.triang(0.0, 0, 1)),
    (fr.Triangular(1e6, 3e6, 1e7), stats.triang(2 / 9, 1e6, 9e6)),
    (fr.Triangular(-1, 1, 1), stats.triang(1.0, -1, 2)),
    (fr.Pert(5e6, 1e7, 4e7), pert_scipy(5e6, 1e7, 4e7)),
    (fr.Pert(0, 0, 1), pert_scipy(0, 0, 1)),
    (fr.Pert(0, 9, 10, lamb=2), pert_scipy(0, 9, 10, 2)),
    (fr.Pert(2e6, 5e6, 15e6, lamb=8), pert_scipy(2e6, 5e6, 15e6, 8)),
    (fr.Normal(0, 1), stats.norm(0, 1)),
    (fr.Normal(3e6, 1e6), stats.norm(3e6, 1e6)),
    (fr.LogNormal(0, 1), stats.lognorm(1.0, scale=1.0)),
    (fr.LogNormal(15, 0.4), stats.lognorm(0.4, scale=math.exp(15))),
    (fr.LogNormal(17, 1.5), stats.lognorm(1.5, scale=math.exp(17))),
]


@pytest.mark.parametrize(("ours", "theirs"), CONTINUOUS, ids=repr)
def test_continuous_against_scipy(ours: fr.Distribution, theirs: Any) -> None:
    assert ours.mean() == pytest.approx(theirs.mean(), rel=CLOSED_FORM_RTOL)
    assert ours.std() == pytest.approx(theirs.std(), rel=CLOSED_FORM_RTOL)
    np.testing.assert_allclose(ours.quantile(PS), theirs.ppf(PS), rtol=QUANTILE_RTOL, atol=1e-9)
    xs = theirs.ppf(np.linspace(0.01, 0.99, 25))
    np.testing.assert_allclose(ours.cdf(xs), theirs.cdf(xs), rtol=QUANTILE_RTOL, atol=1e-12)
    for p in PS:
        assert ours.quantile(p) == pytest.approx(theirs.ppf(p), rel=QUANTILE_RTOL, abs=1e-9)


@pytest.mark.parametrize(("ours", "theirs"), CONTINUOUS, ids=repr)
def test_samples_follow_the_distribution(ours: fr.Distribution, theirs: Any) -> None:
    x = ours.sample(20_000, seed=3)
    assert stats.kstest(x, theirs.cdf).pvalue > KS_PVALUE
    se = theirs.std() / math.sqrt(len(x))
    assert abs(x.mean() - theirs.mean()) < MC_SIGMAS * se
    assert np.array_equal(x, ours.sample(20_000, seed=3))
    assert not np.array_equal(x, ours.sample(20_000, seed=4))


def test_discrete_against_scipy() -> None:
    values, weights = [10.0, -2.0, 5.0, 7.5], [1.0, 3.0, 0.0, 4.0]
    ours = fr.Discrete(values, weights)
    probs = np.array(weights) / sum(weights)
    theirs = stats.rv_discrete(values=([-2.0, 5.0, 7.5, 10.0], [probs[1], probs[2], probs[3], probs[0]]))
    assert ours.mean() == pytest.approx(theirs.mean(), rel=CLOSED_FORM_RTOL)
    assert ours.std() == pytest.approx(theirs.std(), rel=CLOSED_FORM_RTOL)
    for p in [0.1, 0.375, 0.376, 0.5, 0.875, 0.9, 1.0]:
        assert ours.quantile(p) == theirs.ppf(p), p
    for x in [-3.0, -2.0, 0.0, 5.0, 7.5, 9.99, 10.0, 11.0]:
        assert ours.cdf(x) == pytest.approx(theirs.cdf(x)), x
    draws = ours.sample(40_000, seed=1)
    for v, p in [(-2.0, 0.375), (7.5, 0.5), (10.0, 0.125)]:
        se = math.sqrt(p * (1 - p) / len(draws))
        assert abs((draws == v).mean() - p) < MC_SIGMAS * se
    assert not (draws == 5.0).any()


def test_empirical_against_numpy() -> None:
    rng = np.random.default_rng(0)
    samples = rng.gamma(2.0, 3e6, size=999)
    ours = fr.Empirical(samples)
    assert ours.mean() == pytest.approx(samples.mean(), rel=CLOSED_FORM_RTOL)
    assert ours.std() == pytest.approx(samples.std(), rel=CLOSED_FORM_RTOL)
    for p in PS + [0.0, 1.0]:
        assert ours.quantile(p) == np.quantile(samples, p, method="inverted_cdf"), p
    xs = np.quantile(samples, [0.1, 0.5, 0.9])
    np.testing.assert_array_equal(ours.cdf(xs), [(samples <= x).mean() for x in xs])
    assert set(ours.sample(1000, seed=2)) <= set(samples)


def test_fixed_is_exact_money() -> None:
    d = fr.Fixed(Decimal("1234567.89"))
    assert d.value == Decimal("1234567.89")
    assert d.mean() == 1234567.89 and d.std() == 0.0
    assert fr.Fixed(0.1).value == Decimal("0.1")
    assert fr.Fixed("£2,500,000").value == Decimal("2500000")
    assert d.quantile(0.3) == 1234567.89 and d.cdf(1234567.88) == 0.0 and d.cdf(1234567.89) == 1.0


def test_lognormal_from_quantiles() -> None:
    d = fr.LogNormal.from_quantiles(p50=40e6, p90=120e6)
    assert isinstance(d, fr.LogNormal)
    assert d.quantile(0.5) == pytest.approx(40e6, rel=1e-12)
    assert d.quantile(0.9) == pytest.approx(120e6, rel=1e-12)
    sigma = math.log(3) / stats.norm.ppf(0.9)
    assert d.to_dict() == {"dist": "lognormal", "mu": pytest.approx(math.log(40e6)), "sigma": pytest.approx(sigma)}


CAPPED = [
    (fr.Uniform(0, 80e6), stats.uniform(0, 80e6)),
    (fr.Triangular(5e6, 15e6, 60e6), stats.triang(10 / 55, 5e6, 55e6)),
    (fr.Pert(0, 40e6, 200e6), pert_scipy(0, 40e6, 200e6)),
    (fr.Normal(3e6, 1e6), stats.norm(3e6, 1e6)),
    (fr.LogNormal(17, 1.0), stats.lognorm(1.0, scale=math.exp(17))),
]


@pytest.mark.parametrize(("ours", "theirs"), CAPPED, ids=repr)
@pytest.mark.parametrize(("share", "cap"), [(1.0, None), (0.25, 10e6), (0.5, 2e6), (1.0, 30e6), (0.9, 1e12)])
def test_expected_capped_cost_against_quadrature(ours: fr.Distribution, theirs: Any, share: float, cap: float | None) -> None:
    """E[min(share X, cap)] by scipy's adaptive quadrature of the density."""
    lo, hi = theirs.ppf(1e-15), theirs.ppf(1 - 1e-15)
    if cap is None:
        truth = share * theirs.mean()
    else:
        k = cap / share
        below = integrate.quad(lambda x: share * x * theirs.pdf(x), lo, min(k, hi), limit=200)[0] if k > lo else 0.0
        truth = below + cap * theirs.sf(k)
    risk = fr.Risk("r", "r", 1.0, ours, share=share, cap=cap)
    assert risk.expected_cost_if_occurs() == pytest.approx(truth, rel=INTEGRATION_RTOL, abs=1e-3)


BAD = [
    (lambda: fr.Uniform(10, 5), "high: 5.0 is below low 10.0"),
    (lambda: fr.Triangular(0, -1, 5), "mode: -1.0 is below low 0.0"),
    (lambda: fr.Triangular(0, 6, 5), "high: 5.0 is below mode 6.0"),
    (lambda: fr.Pert(0, 1, 2, lamb=0), "lamb: 0.0 must be greater than 0"),
    (lambda: fr.Pert(float("nan"), 1, 2), "low: NaN is not a finite number"),
    (lambda: fr.Normal(0, -1), "sd: -1.0 must be greater than 0"),
    (lambda: fr.Normal(float("inf"), 1), "mean: inf is not a finite number"),
    (lambda: fr.LogNormal(0, 0), "sigma: 0.0 must be greater than 0"),
    (lambda: fr.LogNormal.from_quantiles(10, 5), "p90: 5.0 is not above p50"),
    (lambda: fr.LogNormal.from_quantiles(-1, 5), "p50: -1.0 must be greater than 0"),
    (lambda: fr.Discrete([1, 2], [1, -1]), r"weights\[1\]: -1.0 is negative"),
    (lambda: fr.Discrete([1, 2], [0, 0]), "weights: all weights are zero"),
    (lambda: fr.Discrete([1, 2], [1]), "weights: 1 weights for 2 values"),
    (lambda: fr.Discrete([], []), "values: needs at least one value"),
    (lambda: fr.Empirical([1.0, float("nan")]), r"samples\[1\]: NaN is not a finite number"),
    (lambda: fr.Fixed(float("nan")), "NaN is not a finite amount of money"),
    (lambda: fr.Fixed("12x"), '"12x" is not an amount of money'),
    (lambda: fr.Uniform(0, 1e300), "high: 1e300 is beyond the 1e15"),
    (lambda: fr.Uniform("low", 1), "low: 'low' is not a number"),
    (lambda: fr.Distribution.from_dict({"dist": "uniform", "low": "x", "high": 1}), "low: 'x' is not a number"),
    (lambda: fr.Distribution.from_dict({"dist": "gamma", "k": 1}), '"gamma" is not a distribution fiscalrisk knows; expected one of fixed, uniform'),
    (lambda: fr.Distribution.from_dict({"dist": "uniform", "low": 1}), "the key `high` is missing"),
    (lambda: fr.Distribution.from_dict({"dist": "uniform", "low": 1, "high": 2, "hgih": 3}), "`hgih` is not a key here; the keys are low, high"),
    (lambda: fr.Normal(0, 1).quantile(1.5), r"p: 1.5 is outside \[0, 1\]"),
    (lambda: fr.Normal(0, 1).sample(-1, seed=1), "n: -1 is negative"),
    (lambda: fr.Normal(0, 1).sample(2.5, seed=1), "n: 2.5 is not a whole number"),
    (lambda: fr.Normal(0, 1).sample(3, seed=-1), "seed: -1 is negative"),
    (lambda: fr.Normal(0, 1).sample(10**9, seed=1), "n: 1000000000 values is more than the 50000000 allowed"),
]


@pytest.mark.parametrize(("make", "message"), BAD)
def test_invalid_parameters_raise_validation_error_naming_the_field(make: Any, message: str) -> None:
    with pytest.raises(fr.ValidationError, match=message) as info:
        make()
    assert isinstance(info.value, ValueError) and isinstance(info.value, fr.FiscalRiskError)


@pytest.mark.parametrize("d", [c[0] for c in CONTINUOUS] + [fr.Fixed("12.34"), fr.Discrete([1, 2], [1, 3]), fr.Empirical([3, 1, 2])])
def test_round_trips(d: fr.Distribution) -> None:
    assert pickle.loads(pickle.dumps(d)) == d
    assert fr.Distribution.from_dict(d.to_dict()) == d
    assert type(fr.Distribution.from_dict(d.to_dict())) is type(d)
    assert repr(d).startswith(type(d).__name__ + "(")


finite = st.floats(allow_nan=True, allow_infinity=True)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["uniform", "triangular", "pert", "normal", "lognormal"]), finite, finite, finite)
def test_any_numbers_give_a_distribution_or_a_validation_error(kind: str, a: float, b: float, c: float) -> None:
    params = {
        "uniform": {"low": a, "high": b},
        "triangular": {"low": a, "mode": b, "high": c},
        "pert": {"low": a, "mode": b, "high": c},
        "normal": {"mean": a, "sd": b},
        "lognormal": {"mu": a, "sigma": b},
    }[kind]
    try:
        d = fr.Distribution.from_dict({"dist": kind, **params})
    except fr.ValidationError as e:
        assert str(e).split(":")[0] in {*params, "mean", "std"}
        return
    assert math.isfinite(d.mean()) and math.isfinite(d.std())
    q = d.quantile([0.1, 0.5, 0.9])
    assert np.all(np.diff(q) >= 0)
