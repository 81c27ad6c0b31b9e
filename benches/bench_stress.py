"""Benchmark: the reverse stress test on 18 capped PERT risks over 5 years, 20,000 trials (the
case that took 422 s before the search computed the expected costs and the central case once;
the target is under 1 s). Reserves are set so that about half the risks must occur together in
the central case, so the exhaustive search runs through every set size up to that. Prints the
simulation's time and the reverse stress test's (best of --repeat), and what the search found.
A benchmark, not a test: it asserts nothing.

    python benches/bench_stress.py
"""

from __future__ import annotations

import argparse
import time

import fiscalrisk as fr


def scenario(risks: int = 18) -> fr.Scenario:
    years = [f"{2019 + k}/{(20 + k) % 100:02d}" for k in range(5)]
    return fr.Scenario.from_dict(
        {
            "plan": {"name": "Stress benchmark", "first_year": years[0], "years": 5, "net_budget": [500e6] * 5},
            "risks": [
                {
                    "id": f"R{i:02d}",
                    "name": f"capped risk {i}",
                    "probability": 0.3 + 0.02 * i,
                    "impact": {"dist": "pert", "low": 0.0, "mode": 4e6 + 0.5e6 * i, "high": 30e6},
                    "cap": 12e6,
                    "profile": {years[i % 5]: 1.0},
                }
                for i in range(risks)
            ],
            "reserves": {
                "general_fund": 40e6,
                "earmarked": [{"name": "Financial resilience", "balance": 30e6, "usable": True, "draw_order": 1}],
            },
        }
    )


def best(f: object, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = f()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    s = scenario()
    t_sim, result = best(lambda: s.simulate(trials=args.trials, seed=1, progress=False), args.repeat)
    t_stress, stress = best(lambda: result.reverse_stress("exhausted"), args.repeat)  # type: ignore[attr-defined]
    print(f"18 capped PERT risks, 5 years, {args.trials:,} trials; best of {args.repeat}")
    print(f"simulate:       {t_sim:8.3f} s")
    print(f"reverse_stress: {t_stress:8.3f} s (target: under 1 s; 422 s before)")
    print(f"P(exhausted) {stress.probability:.3f}; smallest set of {len(stress.smallest_set or [])} risks, "  # type: ignore[attr-defined]
          f"exhaustive search: {stress.smallest_exact}")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
