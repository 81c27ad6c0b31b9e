"""The financial plan from Python: the reference scenario, round trips, errors, hand
calculations, and the command line's atomic outputs."""

from __future__ import annotations

import pickle
from decimal import Decimal
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import fiscalrisk as fr

from tolerances import MC_SIGMAS

DETERMINISTIC = """
[plan]
name = "Hand calculation"
first_year = "2019/20"
years = 3
net_budget = [100e6, 100e6, 100e6]

[[pressures]]
name = "Demand"
amount = { dist = "fixed", value = 4_000_000.37 }
first_year = "2019/20"

[[savings]]
id = "S1"
name = "Sale"
year = "2020/21"
value = 2e6
rag = "red"
recurring = false
delivery = { p_full = 0.0, partial = { dist = "fixed", value = 0.5 }, p_slip = 0.0 }

[reserves]
general_fund = 10e6
planned_use = { "2019/20" = 1e6 }
"""


def test_reference_scenario_is_stable() -> None:
    s = fr.examples.birmingham_2019()
    a = s.simulate(trials=20_000, seed=7, threads=1).by_year()
    b = s.simulate(trials=20_000, seed=7, threads=2).by_year()
    assert a.equals(b)
    assert a.columns[:13] == ["year", "gap_mean", "gap_p10", "gap_p50", "gap_p90", "gap_p95", "reserves_p5", "reserves_p25", "reserves_p50", "reserves_p75", "reserves_p95", "p_below_minimum", "p_exhausted"]
    assert (a["p_exhausted"].diff().drop_nulls() >= 0).all()  # cumulative
    assert not a.equals(s.simulate(trials=20_000, seed=8).by_year())


def test_round_trips() -> None:
    s = fr.examples.birmingham_2019()
    assert fr.Scenario.from_toml_str(s.to_toml()) == s
    assert fr.Scenario.from_dict(s.to_dict()) == s
    assert fr.Scenario.from_json_str(s.to_json()) == s
    assert pickle.loads(pickle.dumps(s)) == s


def test_hand_calculation() -> None:
    r = fr.Scenario.from_toml_str(DETERMINISTIC).simulate(trials=50, seed=1)
    y = r.by_year()
    # Gap: 4,000,000.37 a year, plus half of the 2m one-off sale in 2020/21 undelivered, plus
    # the whole sale in 2021/22 (a one-off saving falls out of the base budget).
    assert y["gap_mean"].to_list() == pytest.approx([4_000_000.37, 5_000_000.37, 6_000_000.37], abs=1e-6)
    # Reserves: 10m - 1m planned use - gaps.
    assert y["reserves_p50"].to_list() == pytest.approx([4_999_999.63, -0.74, -6_000_001.11], abs=1e-6)
    assert y["p_exhausted"].to_list() == [0.0, 1.0, 1.0]
    assert y["underlying_gap_mean"][1] == pytest.approx(7_000_000.37, abs=1e-6)
    # With no earmarked reserves the general fund is all of usable reserves.
    assert y["general_fund_p50"].to_list() == y["reserves_p50"].to_list()
    # 4,000,000.37 carried against 4,999,999.63 is fine; 5m carried against nothing is not.
    assert y["p_s114"].to_list() == [0.0, 1.0, 1.0]
    d = r.drivers()
    assert set(d["kind"]) == {"pressure", "saving"}
    res = r.reserves_by_year()
    assert res["reserve"].unique(maintain_order=True).to_list() == ["general_fund", "usable_reserves"]
    assert res.filter(pl.col("reserve") == "usable_reserves")["p_below_minimum"].to_list() == [0.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["savings"][0].update(rag="amberish"), 'savings\\[0\\].rag: "amberish" is not one of delivered, green, amber, red'),
        (lambda d: d["plan"].update(net_budget=[1.0]), "plan.net_budget: 1 values for 3 years"),
        (lambda d: d["pressures"][0].update(first_year="2030/31"), 'pressures\\[0\\] \\("Demand"\\).first_year: 2030/31 is outside the horizon'),
        (lambda d: d["reserves"].update(general_fund=-2e15), "reserves.general_fund: -2000000000000000(.00)? is beyond"),
        (lambda d: d["policy"].update(s114_floor=-5), "policy.s114_floor: -5.00 is negative"),
        (lambda d: d["plan"].update(management_response=2.0), "plan.management_response: 2.0 is outside \\[0, 1\\]"),
    ],
)
def test_errors_name_the_key_path(change: object, message: str) -> None:
    d = fr.Scenario.from_toml_str(DETERMINISTIC).to_dict()
    change(d)  # type: ignore[operator]
    with pytest.raises(fr.ValidationError, match=message):
        fr.Scenario.from_dict(d)


def test_risk_assessed_minimum_and_breaches() -> None:
    s = fr.examples.birmingham_2019()
    d = s.to_dict()
    d["policy"]["minimum_general_fund"] = {"risk_assessed": 0.95}
    r = fr.Scenario.from_dict(d).simulate(trials=20_000, seed=3)
    ram = r.risk_assessed_minimum(0.95)
    # One figure for the whole plan, applied in every year.
    assert r.by_year()["minimum"].to_list() == pytest.approx([ram] * 4)
    b = r.policy_breaches()
    assert b.columns == ["year", "probability", "mean_amount"] and (b["probability"] <= 1).all()
    with pytest.raises(fr.ValidationError, match="confidence"):
        r.risk_assessed_minimum(1.5)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fiscalrisk", *args], capture_output=True, text=True, timeout=120)


def test_simulate_command_writes_atomically(tmp_path: Path) -> None:
    scenario = tmp_path / "plan.toml"
    scenario.write_text(DETERMINISTIC)
    for suffix in (".parquet", ".csv", ".json"):
        out = tmp_path / f"by_year{suffix}"
        done = run("simulate", str(scenario), "--trials", "100", "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert out.exists() and not list(tmp_path.glob(".*.tmp"))
    table = pl.read_parquet(tmp_path / "by_year.parquet")
    assert table["year"].to_list() == ["2019/20", "2020/21", "2021/22"]
    # A failed run leaves the previous output as it was, and inputs are never overwritten.
    before = (tmp_path / "by_year.csv").read_bytes()
    bad = tmp_path / "bad.toml"
    bad.write_text(DETERMINISTIC.replace('rag = "red"', 'rag = "amberish"'))
    failed = run("simulate", str(bad), "--out", str(tmp_path / "by_year.csv"))
    assert failed.returncode == 2 and "amberish" in failed.stderr
    assert (tmp_path / "by_year.csv").read_bytes() == before
    refused = run("simulate", str(scenario), "--out", str(scenario))
    assert refused.returncode == 2 and "never overwritten" in refused.stderr
    assert scenario.read_text() == DETERMINISTIC


def test_in_year_monitoring_feeds_the_plan() -> None:
    m8 = fr.datasets.monitoring_example(8)
    calibration = fr.monitoring.calibrate(fr.datasets.monitoring_history())
    overspend = fr.monitoring.overspend_distribution(m8, calibration=calibration)
    plain = fr.Scenario.from_toml_str(DETERMINISTIC)
    fed = plain.with_opening_overspend(overspend)
    assert fed.to_dict()["opening_overspend"]["dist"] == "normal"
    a = plain.simulate(trials=40_000, seed=2).by_year()
    b = fed.simulate(trials=40_000, seed=2).by_year()
    # The plan's draws are unchanged; reserves fall by the overspend (mean about £3m here).
    shift = a["reserves_p50"][0] - b["reserves_p50"][0]
    assert shift == pytest.approx(overspend.mean(), rel=0.05)
    # The whole hand-over: the £9m of one-off mitigations behind month 8's headline recur, so
    # each year's gap rises by the underlying overspend (headline + 9m, about £12m).
    whole = plain.with_in_year(m8, calibration=calibration)
    assert whole.to_dict()["in_year"]["one_off_mitigations"] == Decimal("9000000")
    c = whole.simulate(trials=40_000, seed=2).by_year()
    rise = (c["gap_mean"] - a["gap_mean"]).to_list()
    assert rise == pytest.approx([overspend.mean() + 9e6] * 3, rel=0.02)
    # The same from a forecast table.
    table = fr.monitoring.forecast(m8, calibration=calibration)
    assert plain.with_in_year(table) == whole


def test_ledger_is_exact() -> None:
    ledger = fr.Scenario.from_toml_str(DETERMINISTIC).ledger()
    # 10m - 1m planned draw - 4,000,000.37 = 4,999,999.63; then - 5,000,000.37 = -0.74.
    assert ledger["usable_reserves"].to_list() == [Decimal("4999999.63"), Decimal("-0.74"), Decimal("-6000001.11")]
    assert ledger["exhausted"].to_list() == [False, True, True]
    # The sale falls out in 2021/22: -0.74 - 6,000,000.37.
    assert ledger["gap"].to_list()[2] == Decimal("6000000.37")
    assert ledger["s114"].to_list() == [False, True, True]
    with pytest.raises(fr.ValidationError, match="ledger: risks\\[0\\].probability is uncertain \\(0.5 is not 0 or 1\\)"):
        fr.examples.birmingham_2019().ledger()


def test_range_errors_in_a_file_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(DETERMINISTIC.replace('planned_use = { "2019/20" = 1e6 }', 'planned_use = { "2030/31" = 1e6 }'))
    with pytest.raises(fr.ValidationError, match=r'reserves.planned_use."2030/31": 2030/31 is outside .* \(line 24\)$'):
        fr.Scenario.from_toml(path)
    signed = DETERMINISTIC.replace('planned_use = { "2019/20" = 1e6 }', 'planned = { "2019/20" = -1e6 }')
    with pytest.raises(fr.ValidationError, match="reserves.planned: a bare signed number is ambiguous; write planned_use"):
        fr.Scenario.from_toml_str(signed)


@pytest.mark.parametrize("threads", [0, 1025])
def test_plan_runs_check_threads_like_registers(threads: int) -> None:
    s = fr.Scenario.from_toml_str(DETERMINISTIC)
    with pytest.raises(fr.ValidationError, match=f"threads: {threads} is not between 1 and 1024"):
        s.simulate(trials=10, seed=1, threads=threads)


def test_stored_results_that_do_not_hold_together_are_refused() -> None:
    import json

    r = fr.Scenario.from_toml_str(DETERMINISTIC).simulate(trials=100, seed=1)
    data = json.loads(r._native.to_json())
    for change, message in (({"years": []}, "years is empty"), ({"minimum": [1.0]}, "minimum has 1 values for 3 years")):
        with pytest.raises(fr.ValidationError, match=f"a plan result: {message}"):
            fr.plan._restore_result(json.dumps({**data, **change}), r.scenario)
    assert pickle.loads(pickle.dumps(r)) == r


def test_a_200000_trial_result_pickles_small_and_answers_the_same() -> None:
    """Issue 16: a pickled or JSON 200,000-trial result is under 2 MB, and reads back with the
    same percentiles, probabilities and tables."""
    r = fr.examples.birmingham_2019().simulate(trials=200_000, seed=11, progress=False)
    blob = pickle.dumps(r)
    assert len(blob) < 2_000_000
    assert len(r._native.to_json()) < 2_000_000
    back = pickle.loads(blob)
    assert back == r
    for table in ("by_year", "reserves_by_year", "gap_exceedance", "resilience", "drivers"):
        assert getattr(back, table)().equals(getattr(r, table)()), table
    assert back.exceedance(50e6) == r.exceedance(50e6)


def test_a_stored_sketch_that_is_cut_short_is_refused() -> None:
    import json

    r = fr.Scenario.from_toml_str(DETERMINISTIC).simulate(trials=100, seed=1)
    data = json.loads(r._native.to_json())
    import base64

    # One more bucket count than there are keys.
    counts = base64.b64decode(data["acc"]["gap"][0]["counts"]) + b"\x01"
    data["acc"]["gap"][0]["counts"] = base64.b64encode(counts).decode()
    with pytest.raises(fr.ValidationError, match="a sketch has"):
        fr.plan._restore_result(json.dumps(data), r.scenario)


def test_reverse_stress_reports_progress_and_can_be_stopped() -> None:
    r = fr.examples.birmingham_2019().simulate(trials=10_000, seed=1, progress=False)
    seen: list[tuple[int, int]] = []
    r.reverse_stress("exhausted", progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1]

    class Stop(Exception):
        pass

    def stop(done: int, total: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        r.reverse_stress("exhausted", progress=stop)


def _budget_setting_twin(trials: int, seed: int) -> dict[str, np.ndarray]:
    """The budget-setting loop of :mod:`fiscalrisk` written again in numpy, from its documented
    rules: a £10m recurring gap, £30m of reserves, new savings of U(1%, 5%) of £100m a year
    delivered by the amber model (slip 0.2; in full 0.6, else U(0, 1)), first against the
    recurring gap, then against a deficit as one-off measures."""
    rng = np.random.default_rng(seed)
    years = 4
    usable = np.full(trials, 30e6)
    closed = np.zeros(trials)
    pending_rec = np.zeros(trials)
    pending_def = np.zeros(trials)
    out = {k: np.zeros((years, trials)) for k in ("gap", "in_year", "budget")}
    for y in range(years):
        if y > 0:
            slipped = rng.random(trials) < 0.2
            fraction = np.where(rng.random(trials) < 0.6, 1.0, rng.random(trials))
            due, lasting = np.where(slipped, 0.0, fraction), fraction
        else:
            due = lasting = np.ones(trials)
        closed += pending_rec * lasting
        late = pending_rec * (lasting - due) - pending_def * due
        open_ = 10e6 - closed
        gap = open_ + late
        usable -= gap
        deficit = np.maximum(-usable, 0.0)
        capacity = rng.uniform(0.01, 0.05, trials) * 100e6
        pending_rec = np.minimum(np.maximum(open_, 0.0), capacity)
        pending_def = np.minimum(deficit, capacity - pending_rec)
        left = open_ + deficit - pending_rec - pending_def
        out["gap"][y] = gap
        out["in_year"][y] = usable < 0
        out["budget"][y] = (left > 0) & (left > np.maximum(usable, 0.0))
    return out


def test_a_budget_set_every_year_matches_a_numpy_twin() -> None:
    s = fr.Scenario.from_dict({
        "plan": {"name": "twin", "first_year": "2019/20", "years": 4, "net_budget": [100e6] * 4},
        "pressures": [{"name": "Demand", "amount": {"dist": "fixed", "value": 10e6}, "first_year": "2019/20"}],
        "reserves": {"general_fund": 30e6},
        "budget_setting": {"new_savings_capacity": {"dist": "uniform", "low": 0.01, "high": 0.05}},
    })
    trials = 100_000
    ours = s.simulate(trials=trials, seed=5, progress=False).by_year()
    twin = _budget_setting_twin(trials, 11)
    for y in range(4):
        gap = twin["gap"][y]
        se = np.hypot(gap.std() / np.sqrt(trials), gap.std() / np.sqrt(trials))
        assert abs(ours["gap_mean"][y] - gap.mean()) <= MC_SIGMAS * se + 1.0, y
        for column, key in (("p_s114_in_year", "in_year"), ("p_s114_budget", "budget")):
            p = twin[key][y].mean()
            se = np.sqrt(2 * max(p * (1 - p), 1 / trials) / trials)
            assert abs(ours[column][y] - p) <= MC_SIGMAS * se, (column, y)
    # The loop matters: without it the same plan fails far more often.
    plain = fr.Scenario.from_dict({**s.to_dict(), "budget_setting": None}).simulate(trials=20_000, seed=5, progress=False)
    assert plain.by_year()["p_s114"][3] > ours["p_s114"][3] + 0.2


def test_with_in_year_in_base_hands_over_only_the_years_overspend() -> None:
    # Issue 32, item 8: budgets set after month 8 already carry its underlying £12m; adding it
    # again took P(exhausted) from 24.5% to 37.0%.
    m8 = fr.datasets.monitoring_example(8)
    data = fr.examples.birmingham_2019().to_dict()
    # Without the budgets set every year, whose repayment of deficits would tie later gaps to
    # the reserves the overspend took.
    data.pop("budget_setting")
    s = fr.Scenario.from_dict(data)
    plain = s.simulate(trials=20_000, seed=1, progress=False)
    carried = s.with_in_year(m8).simulate(trials=20_000, seed=1, progress=False)
    in_base = s.with_in_year(m8, in_base=True)
    assert in_base.to_dict()["in_year"]["in_base"] is True
    based = in_base.simulate(trials=20_000, seed=1, progress=False)
    assert (based.by_year()["gap_mean"] - plain.by_year()["gap_mean"]).abs().max() < 1.0
    assert round((carried.by_year()["gap_mean"] - plain.by_year()["gap_mean"])[0] / 1e6) == 12
    assert plain.p_exhausted <= based.p_exhausted < carried.p_exhausted
