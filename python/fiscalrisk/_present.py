"""Figures in finance language, defined once: each column a person reads gets a label (which
balance, against what, cumulative or in the year) and a format (percentages, £m with thousands
separators, deficits called deficits). The DataFrames keep their names; this is the layer that
prints them."""

from __future__ import annotations

from typing import Optional

import polars as pl

#: Column -> (label, format). Formats: ``text``; ``pct`` (a probability); ``m`` (£, shown in £m);
#: ``balance`` (£m, a negative balance shown as a deficit).
LABELS: dict[str, tuple[str, str]] = {
    "year": ("Year", "text"),
    "period": ("Year", "text"),
    "kind": ("Kind", "text"),
    "id": ("Id", "text"),
    "risk_id": ("Risk", "text"),
    "name": ("Name", "text"),
    "gap_mean": ("Mean gap (£m)", "m"),
    "gap_p90": ("Gap, 1 in 10 worst (£m)", "m"),
    "p_s114": ("Statutory test fails, in the year", "pct"),
    "p_s114_in_year": ("Reserves end below the floor, s114(3)", "pct"),
    "p_s114_budget": ("Next budget cannot balance, s31A", "pct"),
    "reserves_p5": ("Usable reserves, 1 in 20 worst (£m)", "balance"),
    "reserves_p50": ("Usable reserves, median (£m)", "balance"),
    "reserves_p95": ("Usable reserves, 1 in 20 best (£m)", "balance"),
    "p_exhausted": ("Usable reserves exhausted, by this year (cumulative)", "pct"),
    "general_fund_p5": ("General fund, 1 in 20 worst (£m)", "balance"),
    "general_fund_p50": ("General fund, median (£m)", "balance"),
    "general_fund_p95": ("General fund, 1 in 20 best (£m)", "balance"),
    "minimum": ("Policy minimum (£m)", "m"),
    "p_below_minimum": ("General fund below its minimum, in the year", "pct"),
    "mean": ("Mean over the plan (£m)", "m"),
    "exhausted_mean": ("Mean when reserves are exhausted (£m)", "m"),
    "p50": ("Median (£m)", "m"),
    "p90": ("1 in 10 (£m)", "m"),
    "p95": ("1 in 20 (£m)", "m"),
    "p99": ("1 in 100 (£m)", "m"),
    "es95": ("Mean of the worst 1 in 20 (£m)", "m"),
    "tail_mean": ("Mean in the worst 1 in 20 (£m)", "m"),
    "dsg_deficit_p50": ("DSG deficit held under the override, median, year end (£m)", "m"),
    "dsg_deficit_p90": ("DSG deficit held under the override, 1 in 10 worst, year end (£m)", "m"),
    "provision": ("Provision", "text"),
    "charge_mean": ("Charged to the general fund, mean, in the year (£m)", "m"),
    "charge_p50": ("Charged to the general fund, median, in the year (£m)", "m"),
    "charge_p90": ("Charged to the general fund, 1 in 10 worst, in the year (£m)", "m"),
    "payments": ("Paid out of the provision, in the year (£m)", "m"),
    "balance_p50": ("Provision's balance, median, year end (£m)", "m"),
    "balance_p90": ("Provision's balance, 1 in 10 highest, year end (£m)", "m"),
}

#: Column -> heading where a workbook sheet holds the whole table: every column labelled, amounts
#: in pounds (the cells hold pounds, formatted ``£#,##0``). Keyed by sheet where a name means
#: something else there (a reserve's ``p5`` is a balance, not a cost).
SHEET_HEADINGS: dict[str, dict[str, str]] = {
    "By year": {
        "gap_p10": "Gap, 1 in 10 best (£)",
        "gap_p50": "Gap, median (£)",
        "gap_p95": "Gap, 1 in 20 worst (£)",
        "reserves_p25": "Usable reserves, lower quartile (£)",
        "reserves_p75": "Usable reserves, upper quartile (£)",
        "one_off_reliance": "One-off savings planned for the year (£)",
        "underlying_gap_mean": "Mean gap without one-off savings (£)",
        "p_efs": "Exceptional financial support needed, in the year",
        "efs_p50": "Exceptional financial support, median (£)",
        "efs_p90": "Exceptional financial support, 1 in 10 worst (£)",
        "unidentified": "Savings still to be identified, due in the year (£)",
    },
    "Reserves": {
        "reserve": "Reserve",
        "p5": "Balance, 1 in 20 worst (£)",
        "p50": "Balance, median (£)",
        "p95": "Balance, 1 in 20 best (£)",
        "minimum": "Minimum (£)",
        "p_below_minimum": "Below its minimum, in the year",
    },
    "Policy checks": {
        "probability": "Reserves needed to fund a recurring gap, in the year (probability)",
        "mean_amount": "Recurring gap funded from reserves, mean over all trials (£)",
    },
    "Inputs": {"input": "Input", "assumption": "Assumption"},
    "ASSUMPTION comments": {"line": "Line", "key": "Key", "comment": "Comment"},
    "Audit": {"item": "Item", "value": "Value"},
}


def heading(sheet: str, column: str) -> str:
    """``column``'s heading on a workbook ``sheet``: the sheet's own, else the presentation
    label with its unit in pounds (the cells hold pounds), else the name in words."""
    own = SHEET_HEADINGS.get(sheet, {})
    if column in own:
        return own[column]
    if column in LABELS:
        return LABELS[column][0].replace("(£m)", "(£)")
    words = column.replace("_", " ")
    return words[:1].upper() + words[1:]


def percent(p: Optional[float]) -> str:
    """A probability as a percentage: one decimal, and "<0.1%" for a small one that is not 0."""
    if p is None:
        return ""
    if 0 < p < 0.0005:
        return "<0.1%"
    if 0.9995 < p < 1:
        return ">99.9%"
    return f"{p:.1%}"


def millions(x: Optional[float], deficit: bool = False) -> str:
    """£ as £m with thousands separators (one decimal); with ``deficit``, a negative balance
    is called a deficit."""
    if x is None:
        return ""
    m = x / 1e6
    if deficit and m < -0.05:
        return f"deficit {-m:,.1f}"
    return f"{m:,.1f}"


def present(df: pl.DataFrame, labels: Optional[dict[str, tuple[str, str]]] = None) -> pl.DataFrame:
    """``df`` as text for a person (``fr.present``): each known column labelled and formatted
    (others as they are); ``labels`` maps a column to its ``(label, format)`` where it means
    something else here or is not known: ``"pct"`` (a probability), ``"m"`` (£, shown in £m),
    ``"balance"`` (£m, a negative balance called a deficit) or ``"text"``. For reading, in a
    notebook or a paper; compute with the DataFrame it came from.

    >>> import polars as pl, fiscalrisk as fr
    >>> t = pl.DataFrame({"year": ["2020/21"], "reserves_p5": [-6.7e6], "p_exhausted": [0.0587]})
    >>> fr.present(t).row(0, named=True)
    {'Year': '2020/21', 'Usable reserves, 1 in 20 worst (£m)': 'deficit 6.7', 'Usable reserves exhausted, by this year (cumulative)': '5.9%'}
    """
    known = {**LABELS, **(labels or {})}
    out: dict[str, list[str]] = {}
    for column in df.columns:
        label, kind = known.get(column, (column, "text"))
        values = df[column].to_list()
        if kind == "pct":
            out[label] = [percent(v) for v in values]
        elif kind in ("m", "balance"):
            out[label] = [millions(v, deficit=kind == "balance") for v in values]
        else:
            out[label] = ["" if v is None else str(v) for v in values]
    return pl.DataFrame(out)


def text_table(df: pl.DataFrame, width: int = 40, labels: Optional[dict[str, tuple[str, str]]] = None) -> str:
    """``df`` as a plain text table for a terminal: labels and formats from :data:`LABELS`,
    text left-aligned and figures right-aligned; a text cell longer than ``width`` characters
    wraps onto further lines of its row (up to three, then "…"), so a name is read whole, and
    headers wrap rather than being cut."""
    import textwrap

    known = {**LABELS, **(labels or {})}
    kinds = [known.get(c, (c, "text"))[1] for c in df.columns]
    shown = present(df, labels)

    def wrap(v: str) -> list[str]:
        if len(v) <= width:
            return [v]
        lines = textwrap.wrap(v, width, break_long_words=True) or [""]
        if len(lines) > 3:
            lines = lines[:3]
            lines[2] = lines[2][: width - 1] + "…"
        return lines

    cells = [[wrap(v) for v in shown[c].to_list()] for c in shown.columns]
    widths = []
    for header, column, kind in zip(shown.columns, cells, kinds):
        longest = max([len(part) for v in column for part in v] + [0])
        # Figures take narrow columns under wrapped headers; text its own width.
        room = 16 if kind != "text" else min(len(header), width)
        widths.append(max(longest, room, max((len(w) for w in header.split()), default=0)))
    heads = [textwrap.wrap(h, w) or [""] for h, w in zip(shown.columns, widths)]
    depth = max(len(h) for h in heads)
    lines = []
    for k in range(depth):
        parts = []
        for h, w, kind in zip(heads, widths, kinds):
            part = h[k] if k < len(h) else ""
            parts.append(part.ljust(w) if kind == "text" else part.rjust(w))
        lines.append("  ".join(parts).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for r in range(shown.height):
        height = max(len(cells[i][r]) for i in range(len(widths)))
        for k in range(height):
            parts = []
            for i, (w, kind) in enumerate(zip(widths, kinds)):
                part = cells[i][r][k] if k < len(cells[i][r]) else ""
                parts.append(part.ljust(w) if kind == "text" else part.rjust(w))
            lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)
