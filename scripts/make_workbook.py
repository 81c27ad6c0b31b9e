"""Writes python/fiscalrisk/data/risks_and_savings.xlsx: an illustrative risk register and
savings tracker as a finance team keeps them in Excel, with three deliberate mistakes for
notebooks/04_register_from_excel.ipynb to find and fix (a probability typed as 60 for 60%, an
impact range typed the wrong way round, a RAG status spelt "Amber/Red"). Amounts are
illustrative; the risks are those Birmingham City Council's 2018/19 papers name."""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

RISKS = [
    # id, name, probability, dist, low, mode, high, p50, p90, cap, profile, recurring, owner
    ("equal_pay", "Equal pay claims", 0.6, "lognormal", None, None, None, 40e6, 120e6, None, "2019/20: 0.5; 2020/21: 0.5", False, "Chief Finance Officer"),
    ("games", "Commonwealth Games contribution overrun (25% share, capped)", 60, "pert", 5e6, 20e6, 80e6, None, None, 25e6, "2021/22: 0.4; 2022/23: 0.6", False, "Director, Inclusive Growth"),
    ("amey_pfi", "Highways PFI contract dispute", 0.5, "triangular", 25e6, 10e6, 40e6, None, None, None, "2020/21: 1.0", False, "Director, Place"),
    ("waste_dispute", "Waste industrial action", 0.4, "triangular", 1e6, 4e6, 12e6, None, None, None, "2019/20: 1.0", False, "Director, Place"),
    ("paradise_circus", "Paradise Circus phase 2 overrun", 0.3, "pert", 2e6, 6e6, 18e6, None, None, None, "2020/21: 0.5; 2021/22: 0.5", False, "Director, Inclusive Growth"),
]
SAVINGS = [
    # id, name, year, value, rag, recurring, directorate
    ("S-001", "Waste service redesign", "2019/20", 4_500_000, "Amber", True, "Place"),
    ("S-002", "Adult social care: enablement", "2019/20", 8_000_000, "Green", True, "Adults"),
    ("S-003", "Children's placements: in-house fostering", "2020/21", 5_000_000, "Amber/Red", True, "Children"),
    ("S-004", "Corporate landlord: asset sales", "2020/21", 3_000_000, "Red", False, "Finance"),
    ("S-005", "Digital customer services", "2021/22", 6_000_000, "Amber", True, "Finance"),
]


def main() -> None:
    path = Path(__file__).resolve().parent.parent / "python" / "fiscalrisk" / "data" / "risks_and_savings.xlsx"
    book = xlsxwriter.Workbook(str(path))
    money = book.add_format({"num_format": "#,##0"})
    risks = book.add_worksheet("risks")
    head = ["id", "name", "probability", "dist", "low", "mode", "high", "p50", "p90", "cap", "profile", "recurring", "owner"]
    risks.write_row(0, 0, head)
    for i, row in enumerate(RISKS, start=1):
        for j, v in enumerate(row):
            if v is None:
                continue
            risks.write(i, j, v, money if isinstance(v, float) and v > 1000 else None)
    savings = book.add_worksheet("savings")
    savings.write_row(0, 0, ["id", "name", "year", "value", "rag", "recurring", "directorate"])
    for i, row in enumerate(SAVINGS, start=1):
        for j, v in enumerate(row):
            savings.write(i, j, v, money if j == 3 else None)
    book.close()
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
