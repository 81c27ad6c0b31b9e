"""Writes the bundled, illustrative 2018/19 monitoring example (python/fiscalrisk/data/).

The story is Birmingham City Council's December 2018 report (seeds: notes of the Birmingham Independent Improvement Panel meeting with the council, 19 December 2018,
item 16; Birmingham City Council, "Improvement Stock-take Report", March 2019): a forecast overspend of £27m at month 7 that fell to £3m at
month 8, "in part using one-off savings". The directorates, budgets, monthly actuals, the split
of the variances and the five years of history are illustrative assumptions, not the council's
figures. Deterministic: running it again writes the same files.
"""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "python" / "fiscalrisk" / "data"
MONTHS = [f"m{m:02d}" for m in range(1, 13)]
CENT = Decimal("0.01")
M = Decimal(1_000_000)

# line_id, directorate, service, budget (£m), recurring
LINES = [
    ("ADU-01", "Adults Social Care", "Care packages", Decimal(330), True),
    ("CHI-01", "Children and Young People", "Children's Trust", Decimal(250), True),
    ("PLA-01", "Place", "Waste management", Decimal(150), False),
    ("ECO-01", "Economy", "Planning and regeneration", Decimal(60), False),
    ("FIN-01", "Finance and Governance", "Corporate services", Decimal(65), False),
]
# Month 7 and month 8: (variance £m, one-off mitigations £m, reserves use £m, explanation)
POSITION = {
    7: {
        "ADU-01": (Decimal(12), Decimal(0), Decimal(0), "demand for care packages above budget"),
        "CHI-01": (Decimal(8), Decimal(0), Decimal(0), "placements above budget"),
        "PLA-01": (Decimal(6), Decimal(0), Decimal(0), "waste dispute: agency and contractor costs"),
        "ECO-01": (Decimal("0.5"), Decimal(0), Decimal(0), ""),
        "FIN-01": (Decimal("0.5"), Decimal(0), Decimal(0), ""),
    },
    8: {
        "ADU-01": (Decimal(4), Decimal(5), Decimal(0), "one-off: Better Care Fund grant applied"),
        "CHI-01": (Decimal(1), Decimal(4), Decimal(0), "one-off: grant reprofiled into 2018/19"),
        "PLA-01": (Decimal("-2.5"), Decimal(0), Decimal("1.5"), "waste dispute settled; costs to date from the resilience reserve"),
        "ECO-01": (Decimal("0.3"), Decimal(0), Decimal(0), ""),
        "FIN-01": (Decimal("0.2"), Decimal(0), Decimal(0), ""),
    },
}
SEASON = [Decimal(x) for x in ("0.078", "0.082", "0.084", "0.083", "0.081", "0.085", "0.086", "0.084", "0.083", "0.085", "0.082", "0.087")]


def money(x: Decimal) -> str:
    return str(x.quantize(CENT, ROUND_HALF_UP))


def month_table(k: int) -> list[dict[str, str]]:
    rows = []
    for line_id, directorate, service, budget_m, recurring in LINES:
        variance, one_off, reserves, why = POSITION[k][line_id]
        budget = budget_m * M
        forecast = budget + variance * M
        row = {"line_id": line_id, "directorate": directorate, "service": service, "budget": money(budget)}
        for m, name in enumerate(MONTHS):
            # Spend runs at the pace of the forecast of its time (months 1-7 at month 7's,
            # month 8 at month 8's: closed months do not change), shaped by a seasonal profile.
            pace = budget + POSITION[min(max(m + 1, 7), k)][line_id][0] * M
            row[name] = money(pace * SEASON[m]) if m < k else ""
        row.update(
            forecast_outturn=money(forecast),
            one_off_mitigations=money(one_off * M),
            reserves_use=money(reserves * M),
            recurring="true" if recurring else "false",
            explanation=why,
        )
        rows.append(row)
    total: dict[str, str] = {"line_id": "TOTAL", "directorate": "", "service": ""}
    for col in ["budget", *MONTHS, "forecast_outturn", "one_off_mitigations", "reserves_use"]:
        cells = [r[col] for r in rows]
        total[col] = money(sum((Decimal(c) for c in cells), Decimal(0))) if all(cells) else ""
    total.update(recurring="", explanation="")
    return rows + [total]


def history() -> list[dict[str, str]]:
    """Five past years of month-by-month total forecasts and outturns: forecasts were
    optimistic early in the year (a bias of 1.2% of budget at month 1 shrinking to zero) with
    errors of 2.5% of budget at month 1 shrinking to 0.4% at month 12."""
    rng = np.random.default_rng(2018)
    rows = []
    for y, (budget_m, overspend_m) in enumerate([(905, 14), (890, -3), (874, 21), (866, 9), (861, 6)]):
        year = f"{2013 + y}/{(14 + y) % 100:02d}"
        budget = Decimal(budget_m) * M
        outturn = budget + Decimal(overspend_m) * M
        for k in range(1, 13):
            bias = 0.012 * (12 - k) / 11
            spread = 0.004 + 0.021 * (12 - k) / 11
            error = Decimal(str(round(float(budget) * (bias + spread * rng.standard_normal()), 2)))
            rows.append(
                {"year": year, "month": str(k), "budget": money(budget), "forecast_outturn": money(outturn - error), "outturn": money(outturn)}
            )
    return rows


def write(name: str, rows: list[dict[str, str]]) -> None:
    with open(OUT / name, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    write("monitoring_2018_19_m07.csv", month_table(7))
    write("monitoring_2018_19_m08.csv", month_table(8))
    write("monitoring_history.csv", history())
