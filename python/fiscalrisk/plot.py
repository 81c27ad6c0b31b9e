"""Figures for committees: each function returns a :class:`matplotlib.figure.Figure` and never
shows it (call ``fig.savefig`` or let Jupyter display it). Amounts are in £m with one decimal,
years as ``2019/20``. Needs matplotlib (``pip install fiscalrisk[plot]``).

Examples
--------
>>> import fiscalrisk as fr
>>> r = fr.examples.birmingham_2019().simulate(trials=20_000, seed=1)
>>> fig = fr.plot.reserves_fan(r)
>>> [ax.get_title() for ax in fig.axes]
['Usable reserves, against exhaustion (zero)', 'General fund, against its policy minimum']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import polars as pl

from ._convert import pounds
from .exceptions import ValidationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .monitoring import Calibration
    from .plan import PlanResult
    from .savings import SavingsProgramme

__all__ = [
    "reserves_fan",
    "gap_exceedance",
    "drivers_tornado",
    "sensitivity_tornado",
    "bridge_waterfall",
    "savings_delivery",
    "monitoring_track",
    "millions",
]

MILLION = 1e6


millions = pounds
"""An amount as finance people read it: ``£12.3m``, ``-£4.0m`` (the package's one money formatter,
:func:`fiscalrisk._convert.pounds`, usable as a tick formatter).

>>> millions(12_345_678), millions(-4e6)
('£12.3m', '-£4.0m')
"""


def _figure(figsize: tuple[float, float] = (8.0, 4.5)) -> tuple[Figure, Axes]:
    try:
        from matplotlib.figure import Figure
    except ModuleNotFoundError as e:  # a dependency; only a broken or trimmed install lacks it
        from .exceptions import MissingDependency

        raise MissingDependency("matplotlib", "plot") from e
    # A bare Figure (not pyplot): nothing is shown or kept by a global figure manager.
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _money_axis(ax: Axes, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(millions))


def reserves_fan(result: PlanResult) -> Figure:
    """Reserves by year, each balance against its own threshold, in two panels:

    - **usable reserves** (the general fund plus uncommitted usable earmarked reserves):
      P5-P95 and P25-P75 bands and the median, against zero, with the probability that they
      are exhausted by each year annotated;
    - **the general fund** alone: its P5-P95 band and median against the policy minimum, with
      the probability that it ends each year below the minimum annotated.

    Examples
    --------
    >>> import fiscalrisk as fr
    >>> r = fr.examples.birmingham_2019().simulate(trials=5_000, seed=1, progress=False)
    >>> [ax.get_title() for ax in reserves_fan(r).axes]
    ['Usable reserves, against exhaustion (zero)', 'General fund, against its policy minimum']
    """
    y = result.by_year()
    years = y["year"].to_list()
    x = list(range(len(years)))
    fig, ax = _figure((11.0, 4.5))
    ax.remove()
    usable, general = fig.subplots(1, 2, sharey=True)
    usable.fill_between(x, y["reserves_p5"].to_list(), y["reserves_p95"].to_list(), alpha=0.2, color="C0", label="P5-P95")
    usable.fill_between(x, y["reserves_p25"].to_list(), y["reserves_p75"].to_list(), alpha=0.4, color="C0", label="P25-P75")
    usable.plot(x, y["reserves_p50"].to_list(), color="C0", marker="o", label="median")
    usable.axhline(0.0, color="black", linewidth=0.8, label="exhausted below zero")
    for xi, p, top in zip(x, y["p_exhausted"].to_list(), y["reserves_p95"].to_list()):
        usable.annotate(f"exhausted by now\n{p:.1%}", (xi, top), textcoords="offset points", xytext=(0, 6), ha="center",
                        fontsize=8)
    usable.set_title("Usable reserves, against exhaustion (zero)")
    usable.set_ylabel("balance at the end of the year")
    general.fill_between(x, y["general_fund_p5"].to_list(), y["general_fund_p95"].to_list(), alpha=0.2, color="C2", label="P5-P95")
    general.plot(x, y["general_fund_p50"].to_list(), color="C2", marker="o", label="median")
    general.plot(x, y["minimum"].to_list(), color="C3", linestyle="--", label="policy minimum (general fund)")
    general.axhline(0.0, color="black", linewidth=0.8)
    for xi, p, top in zip(x, y["p_below_minimum"].to_list(), y["general_fund_p95"].to_list()):
        general.annotate(f"P(below minimum)\n{p:.1%}", (xi, top), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    general.set_title("General fund, against its policy minimum")
    # Room for the annotations: half a year either side, and headroom above the bands.
    low, high = usable.get_ylim()
    for ax_ in (usable, general):
        ax_.set_xticks(x, years)
        ax_.set_xlim(-0.5, len(x) - 0.5)
        ax_.set_ylim(low, high + 0.25 * (high - low))
        _money_axis(ax_)
        ax_.legend(loc="lower left", fontsize=8)
    return fig


def gap_exceedance(result: PlanResult, year: Optional[str] = None) -> Figure:
    """The probability that the gap exceeds each amount: one curve per year, or one year's.

    Examples
    --------
    >>> import fiscalrisk as fr
    >>> r = fr.examples.birmingham_2019().simulate(trials=5_000, seed=1, progress=False)
    >>> [line.get_label() for line in gap_exceedance(r, year="2020/21").axes[0].get_lines()]
    ['2020/21']
    """
    curves = result.gap_exceedance()
    years = curves["year"].unique(maintain_order=True).to_list()
    if year is not None:
        if year not in years:
            raise ValidationError(f"year: {year!r} is not a year of the plan ({years[0]} to {years[-1]})")
        years = [year]
    fig, ax = _figure()
    for label in years:
        c = curves.filter(pl.col("year") == label)
        ax.step(c["amount"].to_list(), c["probability"].to_list(), where="post", label=label)
    _money_axis(ax, "x")
    ax.set_ylim(0, 1)
    ax.set_xlabel("gap")
    ax.set_ylabel("probability the gap exceeds it")
    ax.set_title("Budget gap exceedance")
    ax.legend(fontsize=8)
    return fig


def driver_label(kind: str, id_: str, name: str) -> str:
    """A driver as a committee reads it: its kind and name, with the id where it differs."""
    return f"{kind}: {name}" if name == id_ else f"{kind}: {name} ({id_})"


def drivers_tornado(result: PlanResult, top: int = 12) -> Figure:
    """Risks, pressures and saving shortfalls ranked by their contribution to the gap over the
    plan: the mean over all trials, and the mean in the trials that exhaust reserves.

    Examples
    --------
    >>> import fiscalrisk as fr
    >>> r = fr.examples.birmingham_2019().simulate(trials=5_000, seed=1, progress=False)
    >>> drivers_tornado(r, top=3).axes[0].get_yticklabels()[-1].get_text()  # the largest, on top, wrapped
    'risk: Equal pay claims beyond the\\nprovision (equal_pay)'
    """
    import textwrap

    from matplotlib.ticker import MaxNLocator

    d = result.drivers().head(top).reverse()
    # Long names wrap (two lines at most, then "..."), so that they never squeeze the bars.
    labels = [textwrap.shorten(driver_label(k, i, n), 80, placeholder="…") for k, i, n in zip(d["kind"], d["id"], d["name"])]
    labels = ["\n".join(textwrap.wrap(label, 42)) for label in labels]
    fig, ax = _figure((9.0, 0.45 * max(len(labels), 4) + 1.8))
    pos = list(range(len(labels)))
    ax.barh([p + 0.2 for p in pos], d["exhausted_mean"].to_list(), height=0.4, color="C3", label="in trials that exhaust reserves")
    ax.barh([p - 0.2 for p in pos], d["mean"].to_list(), height=0.4, color="C0", label="all trials")
    ax.set_yticks(pos, labels, fontsize=8)
    _money_axis(ax, "x")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.set_xlabel("mean contribution to the gap over the plan (£)")
    ax.set_title("What drives the gap, and exhaustion")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def _year_of(table: pl.DataFrame, year: Optional[str], empty: str) -> str:
    """``year``, or the table's last; an error naming the years there are."""
    years = table["year"].unique(maintain_order=True).to_list()
    if not years:
        raise ValidationError(empty)
    if year is None:
        return str(years[-1])
    if year not in years:
        raise ValidationError(f"year: {year!r} is not a year of the table ({', '.join(years)})")
    return year


def sensitivity_tornado(sensitivities: pl.DataFrame, year: Optional[str] = None) -> Figure:
    """The gap after savings' change per 1% of each input in ``year`` (default: the plan's last
    year), largest first: the tornado a section 25 report carries. ``sensitivities`` is
    :meth:`fiscalrisk.Scenario.sensitivities`.

    Examples
    --------
    >>> import fiscalrisk as fr
    >>> t = fr.examples.birmingham_2019().sensitivities()
    >>> fig = sensitivity_tornado(t)
    >>> fig.axes[0].get_title()
    'Change in the 2022/23 gap after savings per 1% of each input'
    """
    year = _year_of(sensitivities, year, "sensitivities: the table is empty")
    t = sensitivities.filter(pl.col("year") == year).with_columns(pl.col("change_per_1pct").cast(pl.Float64).alias("x"))
    t = t.sort(pl.col("x").abs())
    fig, ax = _figure((8.0, 0.35 * max(t.height, 4) + 1.5))
    colours = ["C3" if x > 0 else "C2" for x in t["x"]]
    ax.barh(t["input"].to_list(), t["x"].to_list(), color=colours)
    ax.axvline(0.0, color="black", linewidth=0.8)
    _money_axis(ax, "x")
    ax.set_xlabel("change in the gap after savings (positive: a larger gap)")
    ax.set_title(f"Change in the {year} gap after savings per 1% of each input")
    return fig


def bridge_waterfall(bridge: pl.DataFrame, year: Optional[str] = None, old_gap: Optional[float] = None) -> Figure:
    """A waterfall of :func:`fiscalrisk.bridge` for ``year`` (default: the last): each input's
    change in the gap after savings, from the old version's gap (``old_gap``, default 0: the
    changes alone) to the new one's.

    Examples
    --------
    >>> import fiscalrisk as fr
    >>> old = fr.examples.birmingham_2019()
    >>> d = old.to_dict(); d["drivers"][0]["rate"] = 0.035
    >>> fig = bridge_waterfall(fr.bridge(old, fr.Scenario.from_dict(d)))
    >>> fig.axes[0].get_title()
    'Bridge of the 2022/23 gap after savings, old version to new'
    """
    year = _year_of(bridge, year, "bridge: the two versions have the same gap in every year")
    t = bridge.filter(pl.col("year") == year)
    changes = [float(x) for x in t["change"]]
    labels = ["old"] + t["input"].to_list() + ["new"]
    start = 0.0 if old_gap is None else float(old_gap)
    fig, ax = _figure((max(6.0, 0.9 * len(labels) + 2.0), 4.5))
    level = start
    ax.bar(0, start, color="grey")
    for i, c in enumerate(changes, start=1):
        ax.bar(i, c, bottom=level, color="C3" if c > 0 else "C2")
        level += c
    ax.bar(len(labels) - 1, level, color="grey")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.axhline(0.0, color="black", linewidth=0.8)
    _money_axis(ax)
    ax.set_ylabel("gap after savings" if old_gap is not None else "change in the gap after savings")
    ax.set_title(f"Bridge of the {year} gap after savings, old version to new")
    return fig


def savings_delivery(programme: SavingsProgramme, trials: int = 20_000, seed: int = 42) -> Figure:
    """Target against expected delivery by year, for each RAG status in the programme and for
    the savings still to be identified, with the delivery's P10-P90 as error bars, and above
    each year the whole programme's P90 shortfall (its correlations included).

    Examples
    --------
    >>> import fiscalrisk as fr
    >>> savings = fr.examples.birmingham_2019().to_dict()["savings"]
    >>> fig = savings_delivery(fr.SavingsProgramme(savings), trials=2_000)
    >>> fig.axes[0].get_title()
    'Savings delivery by RAG status and year, against the target'
    """
    rags = [r for r in ("delivered", "green", "amber", "red") if any(s.get("rag") == r for s in programme.savings)]
    whole = programme.view(trials=trials, seed=seed)
    years = whole["year"].to_list()
    groups: list[tuple[str, list[dict[str, Any]]]] = [
        (rag, [s for s in programme.savings if s.get("rag") == rag]) for rag in rags
    ]
    if programme.unidentified:
        # Still to be identified: recurring savings with the programme's model for them.
        never = {"p_full": 0.0, "partial": {"dist": "fixed", "value": 0.0}, "p_slip": 0.0}
        model = programme.delivery.get("unidentified", never)
        groups.append(("unidentified", [
            {"id": f"unidentified {y}", "name": "still to be identified", "year": y, "value": v, "rag": "red",
             "delivery": model}
            for y, v in programme.unidentified.items()
        ]))
    delivery = {k: v for k, v in programme.delivery.items() if k != "unidentified"}
    fig, ax = _figure()
    width = 0.8 / max(len(groups), 1)
    tallest = [0.0] * len(years)
    colours = {"delivered": "C2", "green": "green", "amber": "orange", "red": "red", "unidentified": "grey"}
    for k, (name, savings) in enumerate(groups):
        part = type(programme)(savings, delivery=delivery)
        v = {row["year"]: row for row in part.view(trials=trials, seed=seed, until=years[-1]).iter_rows(named=True)}
        zero = {"target": 0.0, "expected_delivery": 0.0, "shortfall_p10": 0.0, "shortfall_p90": 0.0}
        rows = [v.get(y, zero) for y in years]
        x = [i + (k - (len(groups) - 1) / 2) * width for i in range(len(years))]
        target = [float(r["target"]) for r in rows]
        delivered = [float(r["expected_delivery"]) for r in rows]
        # Delivery's P10 is the target less the shortfall's P90, and the other way round.
        low = [max(d - (t - float(r["shortfall_p90"])), 0.0) for t, d, r in zip(target, delivered, rows)]
        high = [max((t - float(r["shortfall_p10"])) - d, 0.0) for t, d, r in zip(target, delivered, rows)]
        colour = colours[name]
        tallest = [max(a, b) for a, b in zip(tallest, target)]
        ax.bar(x, target, width=width, fill=False, edgecolor=colour, label=f"{name}: target")
        ax.bar(x, delivered, width=width * 0.6, color=colour, alpha=0.7, yerr=[low, high], capsize=3,
               label=f"{name}: expected delivery (P10-P90)")
    top = max(tallest + [1.0])
    for i, p90 in enumerate(whole["shortfall_p90"].to_list()):
        ax.annotate(f"P90 shortfall\n{millions(float(p90))}", (i, tallest[i] + top * 0.04), ha="center", fontsize=8)
    ax.set_ylim(top=top * 1.7)  # room for the notes and the legend
    ax.set_xticks(range(len(years)), years)
    _money_axis(ax)
    ax.set_title("Savings delivery by RAG status and year, against the target")
    ax.legend(fontsize=7, ncols=2, loc="upper left")
    return fig


def monitoring_track(history: pl.DataFrame, year: str, calibration: Optional[Calibration] = None) -> Figure:
    """One year's forecast outturn month by month, with the calibrated P10-P90 band around
    each forecast, the budget, and the actual outturn when known.

    ``history`` has ``year``, ``month``, ``budget``, ``forecast_outturn`` and ``outturn`` (as
    for :func:`fiscalrisk.monitoring.calibrate`); ``calibration`` defaults to the documented
    default.

    Examples
    --------
    >>> import fiscalrisk as fr
    >>> history = fr.datasets.monitoring_history()
    >>> fig = monitoring_track(history, "2016/17", fr.monitoring.calibrate(history))
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['forecast outturn', 'budget', 'actual outturn']
    """
    from .monitoring import Calibration

    for column in ("year", "month", "budget", "forecast_outturn"):
        if column not in history.columns:
            raise ValidationError(f"history: no column {column!r} (has {', '.join(history.columns)})")
    rows = history.filter(pl.col("year").cast(pl.String) == year)
    if rows.height == 0:
        raise ValidationError(f"year: {year!r} is not in the history")
    rows = rows.with_columns(pl.col("month").cast(pl.Int64)).sort("month")
    cal = calibration or Calibration.default()
    months = rows["month"].to_list()
    budget = [float(b) for b in rows["budget"].to_list()]
    forecast = [float(f) for f in rows["forecast_outturn"].to_list()]
    bands = [cal.interval(m, b, f) for m, b, f in zip(months, budget, forecast)]
    fig, ax = _figure()
    ax.fill_between(months, [b[0] for b in bands], [b[2] for b in bands], alpha=0.3, color="C0", label="calibrated P10-P90")
    ax.plot(months, forecast, marker="o", color="C0", label="forecast outturn")
    ax.plot(months, budget, color="grey", linestyle=":", label="budget")
    if "outturn" in rows.columns and rows["outturn"].drop_nulls().len() > 0:
        ax.axhline(float(rows["outturn"].drop_nulls()[0]), color="C3", linestyle="--", label="actual outturn")
    ax.set_xticks(months, [f"M{m}" for m in months])
    _money_axis(ax)
    ax.set_title(f"Forecast outturn by month, {year}")
    ax.legend(fontsize=8)
    return fig
