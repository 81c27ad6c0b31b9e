"""Benchmark: the reference scenario scaled to 60 risks (10 correlated), 250 savings (their
delivery correlated through the reference plan's programme factor), 20 pressures and 5 years,
a budget set every year (or, with ``--response management``, the management response),
with the reference plan's funding side (six correlated PERT drivers, council tax, business
rates, grants, fees and spending lines, balanced in the central case), 200,000 trials, in
fiscalrisk and in an equivalent vectorised numpy implementation written for this benchmark. Prints both times (best of --repeat, after --warmup untimed runs), the ratio,
each one's peak memory in its own process, and the probability of exhausting reserves each
found. A benchmark, not a test: it asserts nothing.

    python benches/bench_plan.py
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from typing import Any
from pathlib import Path

import numpy as np
import polars as pl
from scipy.special import ndtr
from scipy.stats import beta as beta_dist

import fiscalrisk as fr

sys.path.insert(0, str(Path(__file__).parent))
from bench_register import WARMUP_HELP, YEARS, measure_rounds, numpy_simulate, standard_register, year  # noqa: E402

RAGS = ["delivered", "green", "amber", "red"]
DEFAULTS = {"delivered": (1.0, 1.0, 1.0, 0.0), "green": (0.9, 0.5, 1.0, 0.05), "amber": (0.6, 0.0, 1.0, 0.2), "red": (0.25, 0.0, 0.5, 0.4)}


#: How the plan closes the gap it carries into each year: ``budget`` (a budget set every year:
#: new savings of U(1%, 5%) of the net budget delivered as amber savings are, the default since
#: 0.7.0) or ``management`` (the costless management response of 0.5 that the figures before
#: 0.7.0 were measured with). Workers read it from the environment the main process sets.
RESPONSE = os.environ.get("FISCALRISK_BENCH_RESPONSE", "budget")


def scaled_scenario() -> fr.Scenario:
    rng = np.random.default_rng(2019)
    base = fr.examples.birmingham_2019().to_dict()
    register = standard_register().to_dict()
    savings = []
    for i in range(250):
        savings.append(
            {
                "id": f"S-{i:03d}",
                "name": f"saving {i}",
                "year": year(int(rng.integers(0, YEARS))),
                "value": float(round(rng.uniform(0.2e6, 5e6))),
                "rag": RAGS[int(rng.integers(0, 4))],
                "recurring": bool(rng.random() < 0.8),
            }
        )
    pressures = [
        {
            "name": f"pressure {i}",
            "amount": {"dist": "triangular", "low": 0.5e6, "mode": 1e6 + 0.1e6 * i, "high": 4e6},
            "first_year": year(i % YEARS),
            "recurring": i % 3 != 0,
        }
        for i in range(20)
    ]
    # The reference plan's funding side, carried to a fifth year: six PERT drivers (prices and
    # pay correlated), council tax with a growing tax base, business rates under retention with
    # a reset, an uncertain grant and a cliff edge, fees, and spending lines indexed to drivers
    # or population x unit cost. The balancing line is set so that the central case balances
    # in every year, as the reference plan does: the tail comes from risk and delivery.
    last, new = year(YEARS - 2), year(YEARS - 1)
    ct = base["funding"]["council_tax"]
    ct["core_increase"][new] = ct["core_increase"][last]
    ct["asc_precept"][new] = ct["asc_precept"][last]
    for g in base["funding"]["grants"]:
        if last in g["amount"]:
            g["amount"][new] = g["amount"][last]
    balancing = base["spending"][-1]
    balancing["amount"] = {year(k): 0.0 for k in range(YEARS)}
    drivers = {d["name"] for d in base["drivers"]}
    driver_links = [c for c in base["correlations"] if set(c["risks"]) <= drivers]
    # The benchmark's plan as it was before the reference plan set a budget every year and
    # gained its published reserves and capital section (0.7.0): the costless management
    # response, no capital, the earlier reserves, so that its figures stay comparable.
    base.pop("budget_setting", None)
    base.pop("capital", None)
    base["reserves"]["earmarked"] = [
        {"name": "Financial resilience reserve", "balance": 100e6, "usable": True, "draw_order": 1},
        {"name": "Corporate contingency", "balance": 40e6, "committed": 15e6, "minimum": 10e6, "usable": True, "draw_order": 2},
        {"name": "Schools balances", "balance": 60e6, "usable": False},
    ]
    if RESPONSE == "budget":
        base["plan"].update(years=YEARS)
        base["budget_setting"] = {"new_savings_capacity": {"dist": "uniform", "low": 0.01, "high": 0.05}}
    else:
        base["plan"].update(years=YEARS, management_response=0.5)
    base.update(savings=savings, pressures=pressures, risks=register["risks"],
                correlations=list(register.get("correlations", [])) + driver_links)
    base["reserves"]["general_fund"] = 320e6  # with the reference plan's earmarked reserves: P(exhausted) about 0.36
    gap = fr.Scenario.from_dict(base).mtfs()["gap_after_savings"]
    balancing["amount"] = {year(k): -float(gap[k]) for k in range(YEARS)}
    return fr.Scenario.from_dict(base)


def _pert_at(d: dict[str, Any], z: np.ndarray) -> np.ndarray:
    """A PERT's quantile at the cdf of latent normals: Beta quantiles tabulated in z, then
    interpolated (the way a numpy user makes a Gaussian copula of PERTs affordable)."""
    lo, mode, hi = float(d["low"]), float(d["mode"]), float(d["high"])
    lamb = float(d.get("lamb", 4.0))
    a, b = 1 + lamb * (mode - lo) / (hi - lo), 1 + lamb * (hi - mode) / (hi - lo)
    grid = np.linspace(-8.0, 8.0, 4097)
    table = lo + (hi - lo) * beta_dist.ppf(np.clip(ndtr(grid), 1e-15, 1 - 1e-15), a, b)
    return np.interp(z, grid, table)


def numpy_structural(spec: dict[str, Any], rng: np.random.Generator, trials: int) -> np.ndarray:
    """The funding side by trial and year: drivers as a Gaussian copula of their PERT rates
    (one latent per driver and trial, the same every year), council tax, business rates under
    retention, grants (an uncertain one by its own latent), fees and spending lines; returns
    spending lines less funding less every saving due by the year."""
    first = int(spec["plan"]["first_year"][:4])
    names = [d["name"] for d in spec["drivers"]]
    corr = np.eye(len(names))
    for c in spec["correlations"]:
        a, b = c["risks"]
        if a in names and b in names:
            corr[names.index(a), names.index(b)] = corr[names.index(b), names.index(a)] = c["rho"]
    z = rng.standard_normal((trials, len(names))) @ np.linalg.cholesky(corr).T
    rate = {n: _pert_at(d["rate"], z[:, k]) for k, (n, d) in enumerate(zip(names, spec["drivers"]))}
    steps = np.arange(1, YEARS + 1)
    index = {n: (1 + r)[:, None] ** steps[None, :] for n, r in rate.items()}  # trials x years
    f = spec["funding"]
    ct = f["council_tax"]
    band_d, bands = float(ct["band_d"]), []
    for k in range(YEARS):
        band_d = round(band_d * (1 + ct["core_increase"][year(k)] + ct["asc_precept"][year(k)]), 2)
        bands.append(band_d)
    growth = rate[ct["tax_base_growth"]]
    base = float(ct["tax_base"]) * (1 + growth)[:, None] ** (steps - 1)[None, :]
    funding = np.round(base * np.array(bands)[None, :], 2)
    br = f["business_rates"]
    up = rate[br["uprating"]]
    bfl = float(br["baseline_funding_level"]) * (1 + up)[:, None] ** (steps - 1)[None, :]
    baseline = float(br["baseline_rates"]) * (1 + up)[:, None] ** (steps - 1)[None, :]
    reset = int(br["reset_year"][:4]) - first
    g = rate[br["growth"]]
    since = np.array([k - reset if k >= reset else k for k in range(YEARS)])
    grown = (1 + g)[:, None] ** since[None, :]
    growth_income = float(br["retention_share"]) * baseline * (grown - 1)
    income = bfl + growth_income - float(br["levy_rate"]) * np.maximum(growth_income, 0)
    funding += np.round(np.maximum(income, float(br["safety_net"]) * bfl), 2)
    for grant in f["grants"]:
        latent = None
        for k in range(YEARS):
            a = grant["amount"].get(year(k), 0.0)
            if isinstance(a, dict):
                latent = rng.standard_normal(trials) if latent is None else latent
                funding[:, k] += _pert_at(a, latent)
            else:
                funding[:, k] += float(a)
    for fee in f["fees"]:
        funding += np.round(float(fee["price"]) * index[fee["price_driver"]] * float(fee["volume"]), 2)
    lines = np.zeros((trials, YEARS))
    for line in spec["spending"]:
        if "base" in line:
            m = sum(share * index[d] for d, share in line["drivers"].items())
            lines += np.round(float(line["base"]) * m, 2)
        elif "population" in line:
            lines += np.round(float(line["population"]) * index[line["population_driver"]]
                              * float(line["unit_cost"]) * index[line["unit_cost_driver"]], 2)
        else:
            lines += np.array([float(line["amount"].get(year(k), 0.0)) for k in range(YEARS)])[None, :]
    # Every saving due by the year is assumed in the base budget (a one-off one falls out the
    # year after and is needed again: see the savings below).
    need = np.zeros(YEARS)
    for sv in spec["savings"]:
        need[int(sv["year"][:4]) - first :] += float(sv["value"])
    return lines - funding - need[None, :]


def numpy_plan(s: fr.Scenario, trials: int, seed: int) -> float:
    """The plan model vectorised over trials: risks as in bench_register (split into recurring
    and one-off parts by year), pressures, savings with their delivery draws (one-off savings
    falling out of the base budget), the accumulating management response, then the reserves
    drawn in order year by year. Returns P(exhausted by the end)."""
    spec = s.to_dict()
    rng = np.random.default_rng(seed + 1)
    first = int(spec["plan"]["first_year"][:4])
    recurring = np.zeros((trials, YEARS))
    one_off = np.zeros((trials, YEARS))
    driver_names = [d["name"] for d in spec.get("drivers", [])]
    risk_links = [c for c in spec.get("correlations", []) if not set(c["risks"]) & set(driver_names)]
    reg = fr.RiskRegister.from_dict(
        {"risks": spec["risks"], "correlations": risk_links, "first_year": year(0), "years": YEARS}
    )
    out = numpy_simulate(reg, trials, seed, keep_costs=True)
    for i, r in enumerate(spec["risks"]):
        c = out["costs"][:, i]
        target = recurring if r.get("recurring") else one_off
        if r.get("recurring"):
            (label,) = r["profile"]
            target[:, int(label[:4]) - first :] += c[:, None]
        else:
            for label, f in r.get("profile", {year(0): 1.0}).items():
                target[:, int(label[:4]) - first] += f * c
    for p in spec["pressures"]:
        a = p["amount"]
        x = rng.triangular(a["low"], a["mode"], a["high"], trials)
        t = int(p["first_year"][:4]) - first
        if p.get("recurring", True):
            recurring[:, t:] += x[:, None]
        else:
            one_off[:, t] += x
    if spec.get("funding"):
        recurring += numpy_structural(spec, rng, trials)
    # Deliveries move together: the one-factor model with a common factor per year (the
    # benchmark's savings have no directorate, so no directorate factor).
    rho = float(spec.get("savings_delivery", {}).get("programme_correlation", 0.0))
    factor = rng.standard_normal((trials, YEARS))
    for sv in spec["savings"]:
        p_full, low, high, p_slip = DEFAULTS[sv["rag"]]
        value = float(sv["value"])
        t = int(sv["year"][:4]) - first
        if rho > 0:
            u = ndtr(np.sqrt(rho) * factor[:, t] + np.sqrt(1 - rho) * rng.standard_normal(trials))
            slipped = u < p_slip
            w = np.where(slipped, u / max(p_slip, 1e-300), (u - p_slip) / (1 - p_slip))
            short = 1 - p_full
            partial = low + (high - low) * w / short if short > 0 else np.ones(trials)
            fraction = np.where(w >= short, 1.0, partial)
        else:
            slipped = rng.random(trials) < p_slip
            full = rng.random(trials) < p_full
            fraction = np.where(full, 1.0, rng.uniform(low, high, trials))
        lasting = value * (1 - fraction) if sv.get("recurring", True) else np.zeros(trials)
        first_short = np.where(slipped, value, value * (1 - fraction))
        recurring[:, t] += lasting
        one_off[:, t] += first_short - lasting
        recurring[:, t + 1 :] += lasting[:, None]
        if not sv.get("recurring", True):
            recurring[:, t + 1 :] += value  # a one-off saving falls out of the base budget
    # The management response closes m of the recurring gap still open, accumulating; or a
    # budget set every year closes what each year carries into the next (below, with reserves).
    m = spec["plan"].get("management_response", 0.0)
    setting = spec.get("budget_setting")
    closed = np.zeros(trials)
    open_prev = np.zeros(trials)
    pending_rec = np.zeros(trials)
    pending_def = np.zeros(trials)
    # One-off savings of each year fall out of the next year's base budget: carried with the
    # open recurring gap into the next budget.
    fallout = np.zeros(YEARS)
    for sv in spec["savings"]:
        if not sv.get("recurring", True):
            fallout[int(sv["year"][:4]) - first] += float(sv["value"])
    budgets = s.mtfs()["funding"].cast(pl.Float64).to_numpy()
    # Reserves in the order a section 151 officer draws them: earmarked above their minimums in
    # draw order, the general fund, then the minimums; ring-fenced reserves never.
    res = spec["reserves"]
    usable = [e for e in res.get("earmarked", []) if e["usable"]]
    usable.sort(key=lambda e: e.get("draw_order", 0))
    gf = np.full(trials, float(res["general_fund"]))
    em = [np.full(trials, float(e["balance"]) - float(e.get("committed", 0))) for e in usable]
    floors = [float(e.get("minimum", 0)) for e in usable]
    exhausted = np.zeros(trials, dtype=bool)
    for t in range(YEARS):
        if setting:
            # New savings set by this year's budget, delivered as amber savings are: in full
            # with probability 0.6, else U(0, 1); nothing in the year when they slip (0.2).
            if t > 0:
                slipped = rng.random(trials) < 0.2
                fraction = np.where(rng.random(trials) < 0.6, 1.0, rng.random(trials))
                due = np.where(slipped, 0.0, fraction)
            else:
                fraction = due = np.ones(trials)
            closed = closed + pending_rec * fraction
            late = pending_rec * (fraction - due) - pending_def * due
            open_prev = recurring[:, t] - closed
            g = open_prev + one_off[:, t] + late
        else:
            if t > 0:
                closed = closed + m * np.maximum(open_prev, 0)
            open_prev = recurring[:, t] - closed
            g = open_prev + one_off[:, t]
        need = np.maximum(g, 0)
        for k in range(len(em)):
            take = np.minimum(need, np.maximum(em[k] - floors[k], 0))
            em[k] -= take
            need -= take
        take = np.minimum(need, np.maximum(gf, 0))
        gf -= take
        need -= take
        for k in range(len(em)):
            take = np.minimum(need, np.maximum(em[k], 0))
            em[k] -= take
            need -= take
        gf -= need + np.minimum(g, 0)
        total = gf + sum(em)
        exhausted |= total < 0
        if setting:
            # The next budget closes the recurring gap carried in, then the deficit, with new
            # savings up to U(1%, 5%) of its net budget.
            capacity = rng.uniform(0.01, 0.05, trials) * budgets[min(t + 1, YEARS - 1)]
            pending_rec = np.minimum(np.maximum(open_prev + fallout[t], 0), capacity)
            pending_def = np.minimum(np.maximum(-total, 0), capacity - pending_rec)
        # percentiles as the by-year and reserves-by-year tables report them
        np.quantile(g, [0.1, 0.5, 0.9, 0.95], method="inverted_cdf")
        np.quantile(total, [0.05, 0.25, 0.5, 0.75, 0.95], method="inverted_cdf")
        for b in (gf, *em):
            np.quantile(b, [0.05, 0.5, 0.95], method="inverted_cdf")
    return float(exhausted.mean())


def worker(which: str, trials: int, seed: int, repeat: int, warmup: int = 1) -> None:
    s = scaled_scenario()
    best = np.inf
    p = 0.0
    for k in range(warmup + repeat):
        start = time.perf_counter()
        if which == "fiscalrisk":
            r = s.simulate(trials=trials, seed=seed)
            r.by_year()
            p = r.p_exhausted
        else:
            p = numpy_plan(s, trials, seed)
        if k >= warmup:
            best = min(best, time.perf_counter() - start)
    print(json.dumps({"seconds": best, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "p_exhausted": p}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of each measurement; the best is kept")
    parser.add_argument("--warmup", type=int, default=1, help=WARMUP_HELP)
    parser.add_argument("--worker", choices=["fiscalrisk", "numpy"])
    parser.add_argument("--response", choices=["budget", "management"], default="budget",
                        help="budget: a budget set every year (since 0.7.0); management: the management response of 0.5 "
                             "the figures before 0.7.0 were measured with")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.trials, args.seed, args.repeat, args.warmup)
        return
    os.environ["FISCALRISK_BENCH_RESPONSE"] = args.response
    print(f"response: {args.response}")
    print(f"scaled reference scenario: 60 risks, 250 savings, 20 pressures, 6 drivers and the funding side, {YEARS} years; "
          f"{args.trials:,} trials; best of {args.rounds} interleaved rounds of {args.repeat} (after {args.warmup} untimed)")
    ours, theirs = measure_rounds(["fiscalrisk", "numpy"], args.trials, args.seed, args.repeat, args.rounds, __file__, args.warmup)
    for name, m in [("fiscalrisk", ours), ("numpy", theirs)]:
        print(f"  {name:<10} {m['seconds']:7.3f} s   peak RSS {m['peak_mb']:6.1f} MB   P(exhausted) {m['p_exhausted']:.4f}")
    print(f"  speed-up: {theirs['seconds'] / ours['seconds']:.1f}x")


if __name__ == "__main__":
    main()
