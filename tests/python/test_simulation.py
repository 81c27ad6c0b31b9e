"""The Monte Carlo engine from Python: a second method (numpy over the trial table), exact
answers, reproducibility, interruption, pickling and random registers (hypothesis)."""

from __future__ import annotations

import itertools
import math
import pickle
import threading
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tolerances import MC_SIGMAS, SKETCH_RTOL

import fiscalrisk as fr

SUMMARY_COLUMNS = ["period", "mean", "std", "p5", "p10", "p50", "p90", "p95", "p99", "var95", "es95", "se_mean", "se_p95"]


@pytest.fixture(scope="module")
def example() -> fr.RiskRegister:
    return fr.datasets.example_register()


@pytest.fixture(scope="module")
def kept(example: fr.RiskRegister) -> fr.SimulationResult:
    return fr.simulate(example, trials=30_000, seed=5, keep_trials=True)


def test_summary_shape(kept: fr.SimulationResult) -> None:
    s = kept.summary()
    assert isinstance(s, pl.DataFrame)
    assert s.columns == SUMMARY_COLUMNS
    assert s["period"].to_list() == ["2019/20", "2020/21", "2021/22", "2022/23", "total"]
    assert s.select(pl.all().exclude("period").is_nan().any()).row(0) == (False,) * 12


def test_summary_against_numpy_over_the_trial_table(kept: fr.SimulationResult) -> None:
    """Every statistic recomputed by numpy from the trial-level table."""
    trials = kept.trial_table()
    assert trials.height == 30_000
    s = kept.summary()
    for row in s.iter_rows(named=True):
        x = trials[row["period"]].to_numpy()
        assert row["mean"] == pytest.approx(x.mean(), rel=1e-12)
        assert row["std"] == pytest.approx(x.std(ddof=1), rel=1e-9)
        assert row["se_mean"] == pytest.approx(x.std(ddof=1) / math.sqrt(len(x)), rel=1e-9)
        for col, p in [("p5", 0.05), ("p10", 0.1), ("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)]:
            exact = np.quantile(x, p, method="inverted_cdf")
            assert row[col] == pytest.approx(exact, rel=SKETCH_RTOL, abs=1e-6), (row["period"], col)
        worst = np.sort(x)[-math.ceil(0.05 * len(x)) :]
        assert row["es95"] == pytest.approx(worst.mean(), rel=SKETCH_RTOL)
        assert row["var95"] == row["p95"]
        for amount in np.quantile(x, [0.3, 0.8, 0.97]):
            # Off by at most the values within one bucket of the amount.
            near = (np.abs(x - amount) <= SKETCH_RTOL * abs(amount)).mean() + 1 / len(x)
            assert kept.exceedance(float(amount), row["period"]) == pytest.approx((x > amount).mean(), abs=near)
    # Years add up to the plan, trial by trial.
    years = trials.select(kept.periods[:-1]).to_numpy().sum(axis=1)
    np.testing.assert_allclose(years, trials["total"].to_numpy(), rtol=1e-12)


def test_contributions_against_numpy(kept: fr.SimulationResult) -> None:
    trials = kept.trial_table()
    c = kept.contributions()
    assert c.columns == ["risk_id", "mean", "se_mean", "tail_mean"]
    total = trials["total"].to_numpy()
    tail = total >= kept.tail_threshold
    # The tail starts at the smallest total in the P95's sketch bucket: at most the exact P95
    # and within one bucket of it.
    p95 = np.quantile(total, 0.95, method="inverted_cdf")
    assert p95 * (1 - SKETCH_RTOL) <= kept.tail_threshold <= p95
    for rid, mean, _, tail_mean in c.iter_rows():
        x = trials[f"risk:{rid}"].to_numpy()
        assert mean == pytest.approx(x.mean(), rel=1e-9, abs=1e-6)
        assert tail_mean == pytest.approx(x[tail].mean(), rel=1e-9, abs=1e-6)
    assert c["tail_mean"].sum() == pytest.approx(total[tail].mean(), rel=1e-9)
    by_period = kept.contributions(by_period=True)
    assert by_period.columns == ["risk_id", "period", "mean", "se_mean", "tail_mean"]
    sums = by_period.group_by("risk_id", maintain_order=True).agg(pl.col("mean").sum())
    np.testing.assert_allclose(sums["mean"].to_numpy(), c["mean"].to_numpy(), rtol=1e-9)


def test_simulated_means_match_expected_values(example: fr.RiskRegister) -> None:
    res = fr.simulate(example, trials=100_000, seed=8)
    sim = res.contributions(by_period=True)
    exact = res.expected_values()
    joined = sim.join(exact, on=["risk_id", "period"])
    assert joined.height == exact.height == len(example) * 4
    for rid, period, mean, se, _, expected in joined.iter_rows():
        assert abs(mean - expected) <= MC_SIGMAS * se + 1e-9, (rid, period, mean, expected, se)


def test_independent_fixed_risks_match_exact_convolution() -> None:
    spec = [(0.3, 1e6), (0.1, 5e6), (0.5, 2e6), (0.05, 20e6), (0.2, 3e6)]
    reg = fr.RiskRegister([fr.Risk(f"r{i}", "r", p, fr.Fixed(v)) for i, (p, v) in enumerate(spec)], first_year="2019/20")
    n = 100_000
    res = fr.simulate(reg, trials=n, seed=3)
    # The exact distribution by enumerating all 2^5 outcomes.
    atoms: dict[float, float] = {}
    for outcome in itertools.product([0, 1], repeat=len(spec)):
        value = sum(v for o, (_, v) in zip(outcome, spec) if o)
        prob = math.prod(p if o else 1 - p for o, (p, _) in zip(outcome, spec))
        atoms[value] = atoms.get(value, 0.0) + prob
    values = np.array(sorted(atoms))
    cdf = np.cumsum([atoms[v] for v in values])

    def exact_quantile(p: float) -> float:
        return float(values[np.searchsorted(cdf, p - 1e-15)])

    total = res.summary().filter(pl.col("period") == "total").row(0, named=True)
    for col, p in [("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)]:
        d = MC_SIGMAS * math.sqrt(p * (1 - p) / n)
        assert exact_quantile(p - d) <= total[col] <= exact_quantile(p + d), col
        assert total[col] in atoms
    for amount in [0.0, 2.5e6, 6e6, 21e6]:
        exact = sum(q for v, q in atoms.items() if v > amount)
        se = math.sqrt(exact * (1 - exact) / n)
        assert abs(res.exceedance(amount) - exact) <= MC_SIGMAS * se + 1e-12


def test_same_seed_bit_identical_on_one_and_two_threads(example: fr.RiskRegister) -> None:
    one = fr.simulate(example, trials=20_000, seed=99, threads=1)
    two = fr.simulate(example, trials=20_000, seed=99, threads=2)
    assert one.summary().equals(two.summary())
    assert one.contributions().equals(two.contributions())
    other = fr.simulate(example, trials=20_000, seed=100, threads=2)
    assert not one.summary().equals(other.summary())


def test_rank_correlation_of_certain_risks() -> None:
    risks = [fr.Risk("a", "a", 1.0, fr.Pert(0, 1, 10)), fr.Risk("b", "b", 1.0, fr.LogNormal(0, 1))]
    reg = fr.RiskRegister(risks, [("a", "b", 0.6)], first_year="2019/20")
    t = fr.simulate(reg, trials=30_000, seed=2, keep_trials=True).trial_table()
    from scipy import stats

    rho = stats.spearmanr(t["risk:a"].to_numpy(), t["risk:b"].to_numpy()).statistic
    assert abs(rho - 0.6) < MC_SIGMAS / math.sqrt(30_000 - 3)


def test_pickle_round_trip(kept: fr.SimulationResult) -> None:
    back = pickle.loads(pickle.dumps(kept))
    assert back.summary().equals(kept.summary())
    assert back.trial_table().equals(kept.trial_table())
    assert back.register == kept.register


def test_trial_table_needs_keep_trials(example: fr.RiskRegister) -> None:
    res = fr.simulate(example, trials=1000, seed=1)
    with pytest.raises(fr.FiscalRiskError, match="keep_trials=True"):
        res.trial_table()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(trials=0), "trials: 0 is not between 1 and 1000000000"),
        (dict(trials=-5), "trials: -5 is not a non-negative whole number"),
        (dict(trials=2.5), "trials: 2.5 is not a non-negative whole number"),
        (dict(seed=2**64), "seed: 18446744073709551616 is not below 2\\*\\*64"),
        (dict(threads=0), "threads: 0 is not between 1 and 1024"),
        (dict(trials=10**8, keep_trials=True), "keep_trials: .* cells"),
    ],
)
def test_run_arguments_are_validated(example: fr.RiskRegister, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(fr.ValidationError, match=message):
        fr.simulate(example, **kwargs)


def test_query_arguments_are_validated(kept: fr.SimulationResult) -> None:
    with pytest.raises(fr.ValidationError, match=r'period: "2030/31" is not one of 2019/20, .*, total'):
        kept.exceedance(1e6, "2030/31")
    with pytest.raises(fr.ValidationError, match="amount: NaN is not a finite number"):
        kept.exceedance(float("nan"))
    with pytest.raises(fr.ValidationError, match="amount: 'lots' is not a number"):
        kept.exceedance("lots")  # type: ignore[arg-type]


def test_progress_and_interrupt(example: fr.RiskRegister) -> None:
    seen: list[tuple[int, int]] = []
    fr.simulate(example, trials=50_000, seed=1, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] and all(a[0] < b[0] for a, b in zip(seen, seen[1:]))

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fr.simulate(example, trials=1_000_000, seed=1, progress=stop)
    assert threading.active_count() == 1


def test_ctrl_c_interrupts_a_long_run(example: fr.RiskRegister) -> None:
    import os
    import signal
    import time

    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        fr.simulate(example, trials=200_000_000, seed=1)
    assert time.perf_counter() - start < 10


def test_repr_html(kept: fr.SimulationResult) -> None:
    html = kept._repr_html_()
    assert "30,000" in html and "£" in html and "P50 / P95 / P99" in html


impacts = st.one_of(
    st.builds(lambda v: fr.Fixed(round(v)), st.floats(0, 1e8)),
    st.builds(lambda a, w: fr.Uniform(a, a + w), st.floats(0, 1e7), st.floats(0, 1e8)),
    st.builds(lambda a, t, w: fr.Pert(a, a + t * w, a + w), st.floats(0, 1e7), st.floats(0, 1), st.floats(0, 1e8)),
    st.builds(lambda m, r: fr.LogNormal.from_quantiles(m, m * r), st.floats(1e3, 1e7), st.floats(1.01, 5)),
    st.builds(lambda m, s: fr.Normal(m, s), st.floats(-1e6, 1e7), st.floats(1, 1e6)),
)
risks = st.lists(
    st.tuples(st.floats(0, 1), impacts, st.floats(0, 1), st.one_of(st.none(), st.floats(0, 5e7)), st.booleans()),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(risks, st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.floats(-1, 1)), max_size=4), st.integers(0, 2**64 - 1))
def test_random_valid_registers_never_fail_or_give_nan(spec: list[Any], corr: list[Any], seed: int) -> None:
    rs = [
        fr.Risk(f"r{i}", "r", p, impact, share=share, cap=cap, recurring=rec, profile={"2020/21": 1.0} if rec else None)
        for i, (p, impact, share, cap, rec) in enumerate(spec)
    ]
    pairs = {}
    for a, b, rho in corr:
        if a < len(rs) and b < len(rs) and a != b:
            pairs[(min(a, b), max(a, b))] = rho
    correlations = [(f"r{a}", f"r{b}", rho) for (a, b), rho in pairs.items()]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fr.FiscalRiskWarning)
        reg = fr.RiskRegister(rs, correlations, first_year="2019/20", years=3)
    res = fr.simulate(reg, trials=2_000, seed=seed)
    s = res.summary()
    assert not s.select(pl.all().exclude("period").is_nan().any() | pl.all().exclude("period").is_infinite().any()).row(0)[0]
    assert (s["p5"] <= s["p50"]).all() and (s["p50"] <= s["p99"]).all()
    c = res.contributions()
    assert np.isfinite(c["tail_mean"].to_numpy()).all()
