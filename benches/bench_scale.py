"""Benchmark: how fiscalrisk scales. Prints

- peak memory (RSS of a process that runs only that simulation) for the reference scenario at
  10^5, 10^6 and 10^7 trials (the target: under 300 MB at 10^7);
- time against trials (10^4 to 10^6), risks (10 to 10^4) and savings (10 to 10^4), with the
  exponent of a least-squares fit of log time on log size (1 is linear);
- a sweep of a grid of scenarios run locally and on a dask.distributed LocalCluster of two
  worker processes (same table).

A benchmark, not a test: it asserts nothing. ``--quick`` runs small sizes (a smoke run in CI).

    python benches/bench_scale.py
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np

import fiscalrisk as fr


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scenario_with(risks: int, savings: int) -> fr.Scenario:
    d = fr.examples.birmingham_2019().to_dict()
    base_risks, base_savings = d["risks"], d["savings"]
    d["correlations"] = []
    d["risks"] = [dict(base_risks[i % len(base_risks)], id=f"r{i}") for i in range(risks)]
    d["savings"] = [dict(base_savings[i % len(base_savings)], id=f"s{i}") for i in range(savings)]
    return fr.Scenario.from_dict(d)


def worker(kind: str, size: int, trials: int) -> None:
    if kind == "trials":
        s = fr.examples.birmingham_2019()
        n = size
    elif kind == "risks":
        s, n = scenario_with(size, 10), trials
    else:
        s, n = scenario_with(10, size), trials
    before = peak_mb()
    t0 = time.perf_counter()
    r = s.simulate(trials=n, seed=1, progress=False)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "run_mb": peak_mb() - before, "p": r.p_exhausted}))


def measure(kind: str, size: int, trials: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--worker", kind, "--size", str(size), "--trials", str(trials)],
                         capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def exponent(sizes: list[int], seconds: list[float]) -> float:
    slope, _ = np.polyfit(np.log(sizes), np.log(seconds), 1)
    return float(slope)


def scaling(kind: str, sizes: list[int], trials: int) -> None:
    times = []
    for n in sizes:
        m = measure(kind, n, trials)
        times.append(m["seconds"])
        print(f"  {kind:>7} {n:>10,}   {m['seconds']:8.3f} s   peak {m['peak_mb']:7.1f} MB")
    print(f"  fitted exponent of time in {kind}: {exponent(sizes, times):.2f} over the range, "
          f"{exponent(sizes[-2:], times[-2:]):.2f} between the two largest (fixed costs fade)")


def sweep_times(trials: int) -> None:
    base = fr.examples.birmingham_2019()
    grid = {}
    for response in (0.0, 0.25, 0.5, 0.75):
        for gf in (100e6, 125e6, 150e6, 175e6):
            d = base.to_dict()
            d.pop("budget_setting")  # the costless response in its place (the two are alternatives)
            d["plan"]["management_response"] = response
            d["reserves"]["general_fund"] = gf
            grid[f"{response}-{gf}"] = fr.Scenario.from_dict(d)
    t0 = time.perf_counter()
    local = fr.sweep(grid, trials=trials, seed=1)
    t_local = time.perf_counter() - t0
    from dask.distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        t_start = time.perf_counter() - t0
        t1 = time.perf_counter()
        remote = fr.sweep(grid, trials=trials, seed=1, client=client)
        t_remote = time.perf_counter() - t1
    print(f"  sweep of {len(grid)} scenarios x {trials:,} trials: local {t_local:.2f} s; "
          f"LocalCluster (2 workers) {t_remote:.2f} s plus {t_start:.2f} s to start it; same table: {remote.equals(local)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker", choices=["trials", "risks", "savings"])
    parser.add_argument("--size", type=int, default=0)
    parser.add_argument("--trials", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.size, args.trials)
        return
    quick = args.quick
    print("peak memory of the reference scenario by trials (its own process):")
    for n in ([10_000, 100_000] if quick else [100_000, 1_000_000, 10_000_000]):
        m = measure("trials", n, n)
        print(f"  {n:>12,} trials   {m['seconds']:8.2f} s   peak RSS {m['peak_mb']:7.1f} MB "
              f"({m['run_mb']:+.1f} MB for the run)")
    print("time against size:")
    scaling("trials", [10_000, 30_000, 100_000] if quick else [10_000, 30_000, 100_000, 300_000, 1_000_000], 0)
    scaling("risks", [10, 100] if quick else [10, 100, 1_000, 10_000], 2_000 if quick else 20_000)
    scaling("savings", [10, 100] if quick else [10, 100, 1_000, 10_000], 2_000 if quick else 20_000)
    sweep_times(2_000 if quick else 100_000)


if __name__ == "__main__":
    main()
