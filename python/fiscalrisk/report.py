"""A committee-ready report of a plan simulation: one self-contained HTML file (figures
embedded as SVG, no script or style from the network) with the headline figures, the by-year
table, what drives exhaustion, the reserves policy checks, the assumptions and their sources,
and an audit block (package version, seed, trials, a SHA-256 of the inputs) from which every
number can be reproduced.

Examples
--------
>>> import fiscalrisk as fr
>>> r = fr.examples.birmingham_2019().simulate(trials=5_000, seed=1, progress=False)
>>> html = fr.report.render(r)
>>> html.startswith("<!DOCTYPE html>") and "Audit" in html
True
"""

from __future__ import annotations

import hashlib
import html
import io
import platform
import re
from datetime import datetime, timezone
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Optional, Sequence, Union

import polars as pl

from ._convert import pounds
from ._io import atomic_write, check_output

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .plan import PlanResult, Scenario

__all__ = ["render", "write", "headline", "inputs_hash", "assumptions", "assumption_comments"]

#: Threshold of the reserves sustainability headline (years).
SUSTAINABILITY_YEARS = 2.0

_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Arial, sans-serif; margin: 2rem auto;
       max-width: 60rem; color: #1a1a1a; line-height: 1.4; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; border-bottom: 1px solid #ccc; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #e5e5e5; text-align: left; }
th.num, td.num { text-align: right; }
.headline { display: flex; flex-wrap: wrap; gap: 1rem; }
.figure-box { border: 1px solid #ddd; border-radius: 6px; padding: 0.6rem 1rem; min-width: 12rem; }
.figure-box .value { font-size: 1.6rem; font-weight: 600; }
.figure-box .label { font-size: 0.85rem; color: #444; }
pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }
.note { color: #555; font-size: 0.85rem; }
"""

# Marks the page as loaded, and records any script error, for headless checks.
_SCRIPT = """
window.addEventListener('error', function (e) {
  document.body.setAttribute('data-errors', (document.body.getAttribute('data-errors') || '') + e.message + ';');
});
window.addEventListener('load', function () { document.body.setAttribute('data-loaded', 'yes'); });
"""


def _m(x: float) -> str:
    return pounds(x)


def _pct(p: float) -> str:
    return f"{p:.1%}"


S114_NOTE = (
    "p_s114 is the probability, in each year (not cumulative), that either statutory test fails at the "
    "year's end. In year (p_s114_in_year; section 114(3) of the Local Government Finance Act 1988): the "
    "year's expenditure, one-off or recurring, exceeded the resources available to meet it, so usable "
    "reserves end the year below the statutory floor (policy.s114_floor, default £0). Budget "
    "(p_s114_budget; section 31A of the Local Government Finance Act 1992): the next budget cannot be "
    "balanced, because the recurring gap carried into it and any deficit brought forward exceed usable "
    "reserves above that floor. The general fund's policy minimum is a prudence level and decides "
    "neither test."
)


def inputs_hash(result: PlanResult) -> str:
    """SHA-256 of the scenario's canonical TOML (:meth:`Scenario.to_toml`): the same inputs give
    the same hash whatever the file's comments or layout."""
    return hashlib.sha256(result.scenario.to_toml().encode("utf-8")).hexdigest()


def headline(result: PlanResult) -> dict[str, str]:
    """The headline figures, formatted as the report shows them (label to value)."""
    y = result.by_year()
    years = y["year"].to_list()
    last = years[-1]
    drivers = result.drivers()
    first_driver = drivers.row(0, named=True) if drivers.height else None
    worst = int(y["p_s114"].arg_max() or 0)
    out = {
        f"Probability usable reserves are exhausted by {last}": _pct(result.p_exhausted),
        f"Probability the statutory test fails in {years[worst]}, the worst year (p_s114: in year or for the next budget)": _pct(
            float(y["p_s114"][worst])
        ),
        f"of which usable reserves end {years[worst]} below the statutory floor (in year, s114(3) of the 1988 Act)": _pct(
            float(y["p_s114_in_year"][worst])
        ),
        f"of which the budget for the year after {years[worst]} cannot be balanced (s31A of the 1992 Act)": _pct(
            float(y["p_s114_budget"][worst])
        ),
        f"Probability the general fund is below its policy minimum in {last}": _pct(float(y["p_below_minimum"][-1])),
        f"Mean budget gap in {years[0]}": _m(float(y["gap_mean"][0])),
        f"Median usable reserves at the end of {last}": _m(float(y["reserves_p50"][-1])),
        f"Probability reserves last under {SUSTAINABILITY_YEARS:g} years at the end of {last}": _pct(
            result.probability_below("reserves_sustainability", SUSTAINABILITY_YEARS, last)
        ),
    }
    if first_driver is not None:
        from .plot import driver_label  # no matplotlib needed for a label

        label = driver_label(first_driver["kind"], first_driver["id"], first_driver["name"])
        # Only a plan whose reserves run out in some trial has a driver of exhaustion.
        if result.p_exhausted > 0:
            out["Largest driver of exhaustion"] = label
        else:
            out["Largest driver of the gap beyond the budget (no trial exhausts reserves)"] = label
    return out


def _label(column: str, labels: Optional[dict[str, str]] = None) -> str:
    """A column's heading: the one presentation table's label (its unit left to the cells,
    which say £m), else the name in words."""
    from ._present import LABELS

    if labels and column in labels:
        return labels[column]
    if column in LABELS and column not in ("id", "kind", "name"):
        return LABELS[column][0].replace(" (£m)", "")
    return column.replace("_", " ")


def _table(df: pl.DataFrame, money: Iterable[str] = (), percent: Iterable[str] = (),
           labels: Optional[dict[str, str]] = None) -> str:
    money, percent = set(money), set(percent)
    # Text left-aligned, figures right-aligned (a column is a figure when it holds numbers).
    numeric = {c for c in df.columns if c in money or c in percent or df[c].dtype.is_numeric()}

    def cls(c: str) -> str:
        return " class='num'" if c in numeric else ""

    head = "".join(f"<th{cls(c)}>{html.escape(_label(c, labels))}</th>" for c in df.columns)
    rows = []
    for row in df.iter_rows(named=True):
        cells = []
        for c, v in row.items():
            if v is None:
                text = ""
            elif c in money:
                text = _m(float(v))
            elif c in percent:
                text = _pct(float(v))
            elif isinstance(v, float):
                text = f"{v:,.3g}"
            else:
                text = str(v)
            cells.append(f"<td{cls(c)}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    # Inline SVG: drop the XML prologue and doctype.
    return text[text.index("<svg") :]


def _describe(dist: Any) -> str:
    if not isinstance(dist, dict):
        return _m(float(dist)) if isinstance(dist, (int, float)) and abs(float(dist)) >= 1e4 else str(dist)
    kind = dist.get("dist", "?")
    params = ", ".join(f"{k} {_describe(v) if isinstance(v, (int, float)) else v}" for k, v in dist.items() if k != "dist")
    return f"{kind}({params})"


def _by_year(values: Any) -> str:
    if isinstance(values, dict):
        return ", ".join(f"{y} {_describe(v)}" for y, v in values.items())
    if isinstance(values, list):
        return ", ".join(_describe(v) for v in values)
    return _describe(values)


def _delivery(model: dict[str, Any]) -> str:
    parts = [f"{k.replace('_', ' ')} {_describe(v)}" for k, v in model.items()]
    return ", ".join(parts)


# Keys by unit, for the assumptions table (a key not named here is shown as _by_year shows it).
_MONEY_KEYS = {"baseline_funding_level", "baseline_rates", "base", "price", "unit_cost", "opening_cfr", "opening_debt",
               "investments", "supported_cfr", "limit", "authorised_limit", "operational_boundary", "income",
               "mrp_relief", "amount", "fixed_amount", "budgeted", "s114_floor", "minimum", "balance", "committed"}
_RATE_KEYS = {"core_increase", "asc_precept", "retention_share", "levy_rate", "safety_net", "debt_rate", "investment_rate",
              "borrowing_rate", "collection_rate", "premium", "percent_of_budget", "rate", "growth", "uprating",
              "tax_base_growth", "slippage", "overrun"}
_COUNT_KEYS = {"tax_base", "population", "volume"}


def _unit(key: str, v: Any) -> str:
    """A value as its unit says: £ (in £m from £10,000), a percentage, a count, yes or no; by
    year, each year so; a distribution or a name (a driver's) as it is."""
    if isinstance(v, dict) and "dist" not in v:
        return ", ".join(f"{y} {_unit(key, x)}" for y, x in v.items())
    if isinstance(v, bool):
        return "yes" if v else "no"
    if not isinstance(v, (int, float)):
        return _describe(v) if isinstance(v, dict) else str(v)
    x = float(v)
    if key in _MONEY_KEYS or key == "band_d":
        if abs(x) >= 1e6:
            return _m(x)
        return f"£{x:,.0f}" if x == int(x) else f"£{x:,.2f}"
    if key in _RATE_KEYS:
        return f"{x * 100:.4g}%"
    if key in _COUNT_KEYS:
        return f"{x:,.0f}" if x == int(x) else f"{x:,}"
    return f"{x:g}"


def _terms(d: dict[str, Any], skip: Iterable[str] = ()) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {_unit(k, v)}" for k, v in d.items() if k not in set(skip))


def assumptions(scenario: Scenario) -> pl.DataFrame:
    """Every input of a scenario as a row (``kind``, ``input``, ``assumption``): the plan, each
    pressure, saving and risk with all its terms (share, cap, profile, recurring), the savings
    delivery models, correlations, the in-year position, reserves with their movements, and the
    policy. A key this function does not know still gets a row, so nothing is silently left out
    of the report or the workbook.

    >>> import fiscalrisk as fr
    >>> table = assumptions(fr.examples.birmingham_2019())
    >>> sorted(set(table["kind"]))[:5]
    ['budget setting', 'capital', 'correlation', 'driver', 'earmarked reserve']
    """
    d = scenario.to_dict()
    rows: list[tuple[str, str, str]] = []
    plan = dict(d.get("plan", {}))
    rows.append(("plan", str(plan.pop("name", "")), f"{plan.pop('years', '?')} years from {plan.pop('first_year', '?')}"))
    if "net_budget" in plan:
        rows.append(("plan", "net budget", _by_year(plan.pop("net_budget"))))
    rows.append(("plan", "management response",
                 f"{float(plan.pop('management_response', 0.0)):.0%} of the recurring gap still open closed each year (accumulating)"))
    rows += [("plan", k.replace("_", " "), _by_year(v)) for k, v in plan.items()]
    for p in d.get("pressures", []):
        extra = {k: v for k, v in p.items() if k not in ("name", "amount", "first_year", "recurring")}
        text = f"{_describe(p['amount'])} from {p['first_year']}, " + ("recurring" if p.get("recurring", True) else "one-off")
        rows.append(("pressure", str(p["name"]), text + "".join(f", {k} {_by_year(v)}" for k, v in extra.items())))
    for s in d.get("savings", []):
        text = f"{_m(float(s['value']))} in {s['year']}, RAG {s['rag']}, " + ("recurring" if s.get("recurring", True) else "one-off")
        for k, v in s.items():
            if k in ("id", "name", "value", "year", "rag", "recurring"):
                continue
            text += f", {k} " + (_delivery(v) if isinstance(v, dict) and "dist" not in v else _by_year(v))
        rows.append(("saving", f"{s['id']}: {s['name']}", text))
    delivery = dict(d.get("savings_delivery") or {})
    from . import _fiscalrisk as _native

    unidentified_model = delivery.pop("unidentified", None)
    for year, amount in (d.get("unidentified") or {}).items():
        rows.append(("unidentified saving", f"still to be identified, {year}",
                     f"{_m(float(amount))} recurring from {year}, "
                     + ("never delivered (no model given)" if unidentified_model is None else f"delivered as {_delivery(unidentified_model)}")))
    programme = float(delivery.pop("programme_correlation", 0.0))
    directorate = float(delivery.pop("directorate_correlation", 0.0))
    rows.append(("savings delivery", "programme correlation",
                 f"{programme:g} between savings due in one year (programme_correlation), "
                 f"{programme + directorate:g} between two of one directorate ({programme:g} plus "
                 f"directorate_correlation {directorate:g})"
                 + (" (independent: splitting a saving diversifies its risk away)" if programme + directorate == 0 else "")))
    models = {**_native.default_delivery_models(), **delivery}
    for rag, model in models.items():
        source = "scenario" if rag in delivery else "default"
        rows.append(("savings delivery", f"RAG {rag} ({source})", _delivery(model) if isinstance(model, dict) else str(model)))
    for r in d.get("risks", []):
        text = f"probability {r['probability']}, impact {_describe(r['impact'])}"
        if r.get("share") is not None:
            text += f", council's share {float(r['share']):.0%}"
        if r.get("cap") is not None:
            text += f", cap {_m(float(r['cap']))}"
        if r.get("profile"):
            text += f", profile {_by_year(r['profile'])}"
        for k, v in r.items():
            if k not in ("id", "name", "probability", "impact", "share", "cap", "profile"):
                text += f", {k} {_unit(k, v)}"
        rows.append(("risk", f"{r['id']}: {r['name']}", text))
    for c in d.get("correlations", []):
        members = c.get("risks") or c.get("ids") or []
        rows.append(("correlation", " and ".join(map(str, members)) or "table",
                     f"rho {c['rho']}" if "rho" in c else _by_year(c)))
    for key in ("in_year", "opening_overspend"):
        if d.get(key) is not None:
            value = d[key]
            text = ", ".join(f"{k.replace('_', ' ')} {_describe(v)}" for k, v in value.items()) if isinstance(value, dict) and "dist" not in value else _describe(value)
            rows.append(("in-year position", key.replace("_", " "), text))
    reserves = dict(d.get("reserves", {}))
    rows.append(("reserves", "general fund", f"opening balance {_m(float(reserves.pop('general_fund', 0.0)))}"))
    for e in reserves.pop("earmarked", []):
        e = dict(e)
        name = str(e.pop("name"))
        text = f"balance {_m(float(e.pop('balance', 0.0)))}"
        text += ", usable" if e.pop("usable", True) else ", not usable (ring-fenced)"
        text += "".join(f", {k.replace('_', ' ')} {_by_year(v)}" for k, v in e.items())
        rows.append(("earmarked reserve", name, text))
    for t in reserves.pop("transfers", []):
        rows.append(("reserves", f"transfer in {t['year']}", f"{_m(float(t['amount']))} from {t['from']} to {t['to']}"))
    rows += [("reserves", k.replace("_", " "), _by_year(v)) for k, v in reserves.items()]
    policy = d.get("policy", {})
    for k, v in policy.items():
        if k == "minimum_general_fund" and isinstance(v, dict):
            text = _terms(v)
        elif k == "reserves_for_recurring_gaps":
            text = "reserves may fund recurring gaps" if v else "reserves may not fund recurring gaps (breaches are reported)"
        else:
            text = _by_year(v)
        rows.append(("policy", k.replace("_", " "), text))
    for drv in d.get("drivers", []):
        rate = drv["rate"]
        text = ("each year " + _describe(rate)) if not isinstance(rate, dict) or "dist" in rate else _by_year(rate)
        rows.append(("driver", str(drv["name"]), text + (f" ({drv['description']})" if drv.get("description") else "")))
    funding = dict(d.get("funding") or {})
    for source in ("council_tax", "business_rates"):
        if funding.get(source):
            text = _terms(funding[source])
            rows.append(("funding", source.replace("_", " "), text))
    for g in funding.get("grants", []):
        ends = f", ends {g['ends']}" if g.get("ends") else ""
        rows.append(("funding", f"grant: {g['name']}", f"{_by_year(g['amount'])}, {g.get('certainty', 'confirmed')}{ends}"))
    for fee in funding.get("fees", []):
        rows.append(("funding", f"fees: {fee['name']}", _terms(fee, skip=["name"])))
    for line in d.get("spending", []):
        rows.append(("spending line", str(line["name"]), _terms(line, skip=["name"])))
    setting = d.get("budget_setting")
    if setting is not None:
        to_limit = setting.get("council_tax", "as_planned") == "to_limit"
        rows.append(("budget setting", "council tax",
                     "raised to the referendum limit to close the recurring gap carried in" if to_limit else "as planned"))
        capacity = setting.get("new_savings_capacity", 0.02)
        share = _describe(capacity) if isinstance(capacity, dict) else f"{float(capacity):.1%}"
        rows.append(("budget setting", "new savings capacity", f"{share} of the next year's net budget a year"))
        model = setting.get("new_savings_delivery")
        rows.append(("budget setting", "new savings delivery", _delivery(model) if model else "the programme's amber model"))
    for p in d.get("provisions") or []:
        charge = p.get("recognised") or p.get("accrual_per_month") or []
        unit = "a year" if p.get("recognised") else "a month"
        rows.append(("provision", p["name"], f"opening {_describe(p.get('opening', 0))}; recognised "
                     f"{_by_year(charge)} {unit}; paid {_by_year(p.get('payments') or [0])}; charged when recognised"))
    for section, kind in (("dsg", "DSG deficit"), ("collection_fund", "collection fund"), ("hra", "HRA"),
                          ("treasury", "treasury")):
        for k, v in (d.get(section) or {}).items():
            rows.append((kind, k.replace("_", " "), _by_year(v) if isinstance(v, list) else _describe(v)))
    for section, kind in (("efs", "exceptional support"), ("capital", "capital")):
        for k, v in (d.get(section) or {}).items():
            rows.append((kind, k.replace("_", " "), _terms(v) if isinstance(v, dict) and "method" in v else _unit(k, v)))
    known = {"plan", "pressures", "savings", "savings_delivery", "risks", "correlations", "in_year", "opening_overspend",
             "reserves", "policy", "unidentified", "drivers", "funding", "spending", "budget_setting", "efs", "capital",
             "provisions", "dsg", "collection_fund", "hra", "treasury"}
    rows += [("other", k, str(v)) for k, v in d.items() if k not in known]
    return pl.DataFrame(rows, schema=["kind", "input", "assumption"], orient="row")


ASSUMPTION = re.compile(r"#.*\bASSUMPTION", re.IGNORECASE)


def assumption_comments(source: Optional[str]) -> pl.DataFrame:
    """Every ``# ASSUMPTION`` comment of a scenario file, on a line of its own or after a value,
    with its line number and the line's key (the text before the comment).

    A comment goes on for as long as the lines below it are comments that continue it: on a
    line of its own, every comment line that follows (up to a blank ``#``, a line of code or
    another ASSUMPTION); after a value, the comment lines aligned under it.

    >>> assumption_comments('x = 1   # ASSUMPTION: a guess\\n# plain note\\n').rows()
    [(1, 'x = 1', 'ASSUMPTION: a guess')]
    >>> assumption_comments('# ASSUMPTION: the amounts. A pilot\\n# from 2017/18.\\nx = 1\\n').rows()
    [(1, '', 'ASSUMPTION: the amounts. A pilot from 2017/18.')]
    """
    rows = []
    lines = (source or "").splitlines()
    for number, line in enumerate(lines, start=1):
        at = line.find("#")
        if at < 0 or not ASSUMPTION.search(line[at:]):
            continue
        key = line[:at].strip()
        parts = [line[at:].lstrip("#").strip()]
        for following in lines[number:]:
            mark = following.find("#")
            text = following[mark + 1:].strip() if mark >= 0 else ""
            if mark < 0 or following[:mark].strip() or not text or ASSUMPTION.search(text):
                break
            if key and mark != at:  # after a value: only lines aligned under the comment
                break
            parts.append(text)
        rows.append((number, key, " ".join(parts)))
    return pl.DataFrame(rows, schema={"line": pl.Int64, "key": pl.String, "comment": pl.String}, orient="row")


def _assumptions(result: PlanResult) -> str:
    parts = [_table(assumptions(result.scenario))]
    source = result.scenario.source_text
    if source:
        comments = assumption_comments(source)
        notes = [ln.strip().lstrip("#").strip() for ln in source.splitlines() if ln.strip().startswith("#")]
        parts.append(f"<h3 id='assumption-comments'>{comments.height} ASSUMPTION comments in the scenario file</h3>")
        parts.append(_table(comments))
        if notes:
            parts.append("<h3>Sources and notes in the scenario file</h3><pre>" + html.escape("\n".join(notes)) + "</pre>")
        parts.append("<details><summary>The scenario file</summary><pre>" + html.escape(source) + "</pre></details>")
    return "\n".join(parts)


SAVINGS_TRIALS = 20_000


def _savings_section(result: PlanResult) -> list[str]:
    """The savings programme: target, the part still to be identified, expected delivery and
    the shortfall's mean and P90 by year, from the plan's own trials
    (:meth:`PlanResult.savings_shortfall`, the one definition), and the programme's figure (its
    own simulation, the plan's seed)."""
    from . import plot
    from .savings import SavingsProgramme

    d = result.scenario.to_dict()
    savings = d.get("savings") or []
    if not savings:
        return []
    programme = SavingsProgramme(savings, delivery=d.get("savings_delivery") or {}, unidentified=d.get("unidentified") or {})
    unidentified = d.get("unidentified") or {}
    shortfall = result.savings_shortfall()
    still = [sum((float(v) for due, v in unidentified.items() if due <= y), 0.0) for y in shortfall["year"].to_list()]
    view = shortfall.select(
        "year", "target", pl.Series("unidentified", still, dtype=pl.Float64), "expected_delivery", "shortfall_mean",
        "shortfall_p90",
    )
    return [
        "<h2>Savings programme</h2>",
        "<p class='note'>The savings the budget counts on in each year, the part still to be identified, expected "
        "delivery and the shortfall (target less delivered: one definition, the plan's) with its mean and P90, "
        f"over the plan's trials. The figure is the programme alone ({SAVINGS_TRIALS:,} trials, seed {result.seed}).</p>",
        _svg(plot.savings_delivery(programme, trials=SAVINGS_TRIALS, seed=result.seed)),
        _table(view, money=["target", "unidentified", "expected_delivery", "shortfall_mean", "shortfall_p90"]),
    ]


def _mtfs_section(result: PlanResult, previous: Optional[Scenario]) -> list[str]:
    """The MTFS: the central case exactly, the simulated gap after savings beside the risks,
    the sensitivities with their tornado, and a bridge from ``previous`` when given."""
    from . import plot
    from .plan import bridge

    scenario = result.scenario
    central = scenario.mtfs().select(
        "year", "funding", "spending", "gap_before_savings", "savings", "gap_after_savings", "savings_required_to_balance"
    )
    mean = result.mtfs().select("year", "funding", "spending", "savings", "gap_after_savings", "risks")
    p90 = result.mtfs("p90").select("year", pl.col("gap_after_savings").alias("gap_after_savings_p90"))
    simulated = mean.join(p90, on="year", maintain_order="left")
    money = ["funding", "spending", "gap_before_savings", "savings", "gap_after_savings", "savings_required_to_balance",
             "risks", "gap_after_savings_p90"]
    parts = [
        "<h2>Medium-term financial strategy</h2>",
        "<p class='note'>The central case, exactly: funding against spending before savings, the gap before and after "
        "savings (negative: a surplus). Risks are not in it: they are what reserves are for.</p>",
        _table(central, money=money),
        "<h3>Simulated: means over the trials (savings as delivered), the P90 gap after savings, and the risks "
        "beside them</h3>",
        _table(simulated, money=money),
    ]
    sens = scenario.sensitivities()
    if sens.height:
        wide = sens.with_columns(pl.col("change_per_1pct").cast(pl.Float64)).pivot(
            on="year", index="input", values="change_per_1pct"
        )
        parts += [
            "<h3>Sensitivities: the gap after savings' change per 1% of each input</h3>",
            "<p class='note'>One percentage point more on each driver's rate, the core council tax increase and "
            "business rates growth in every year; 1% more tax base or grants; 1% of planned savings not delivered. "
            "Positive: a larger gap.</p>",
            _svg(plot.sensitivity_tornado(sens)),
            _table(wide, money=[c for c in wide.columns if c != "input"]),
        ]
    if previous is not None:
        b = bridge(previous, scenario)
        parts.append(f"<h3>Bridge from the previous version ({html.escape(previous.name)})</h3>")
        if b.height:
            wide = b.with_columns(pl.col("change").cast(pl.Float64)).pivot(on="year", index="input", values="change")
            parts += [_svg(plot.bridge_waterfall(b)), _table(wide, money=[c for c in wide.columns if c != "input"])]
        else:
            parts.append("<p>The two versions have the same central gap after savings in every year.</p>")
    return parts


def _capital_section(result: PlanResult) -> list[str]:
    """Capital and treasury: the CFR, MRP against the policy, debt, interest and the net cost by
    year, and the prudential indicators (only for a scenario with ``[capital]``)."""
    scenario = result.scenario
    c = scenario.capital()
    if not c.height:
        return []
    money = ["cfr_start", "borrowing", "capitalised", "flexible_receipts", "mrp", "mrp_required", "cfr_end", "debt_end",
             "interest", "financing_cost", "gap_effect"]
    p = scenario.prudential_indicators()
    flagged = c.filter(pl.col("mrp_below_policy"))["year"].to_list()
    note = ("MRP is below what the stated policy requires in " + ", ".join(flagged) + "."
            if flagged else "MRP meets the stated policy in every year.")
    return [
        "<h2>Capital and treasury</h2>",
        "<p class='note'>The capital financing requirement (CFR), minimum revenue provision (MRP) charged against what "
        "the policy requires, external debt and interest, and the net revenue cost; capitalisation directions fund "
        "their year's gap and are repaid in later years. " + html.escape(note) + "</p>",
        _table(c.select("year", *money), money=money),
        "<h3>Prudential indicators</h3>",
        _table(p.with_columns(pl.col(pl.Decimal).cast(pl.Float64)), money=["cfr", "gross_debt"]),
        *_capital_spread(result),
    ]


def _capital_spread(result: PlanResult) -> list[str]:
    """When the capital plan varies by trial (slippage, overrun, receipts, a borrowing rate from
    an uncertain driver): the debt measures' spread over the trials."""
    rows = result.resilience().filter(
        pl.col("indicator").is_in(["capital_financing_to_nre", "gross_debt_to_nre"])
    )
    if not rows.height or (rows["p10"] == rows["p90"]).all():
        return []
    out = [
        "<h3>Capital financing and debt over the trials</h3>",
        "<p class='note'>The capital plan varies by trial: capital financing (MRP and interest) and gross debt at "
        "the year's end, as shares of the net revenue stream (the net budget): 10th, 50th and 90th percentiles. "
        "The tables above are at the inputs' means.</p>",
        _table(rows.select("indicator", "year", "p10", "p50", "p90")),
    ]
    limits = {k: v for k, v in result.scenario.to_dict()["capital"].items()
              if k in ("authorised_limit", "operational_boundary")}
    if limits:
        years = result.by_year()["year"].to_list()
        budget = [float(b) for b in result.scenario.net_budget]
        table = pl.DataFrame({"year": years, **{
            f"p_debt_above_{k}": [1.0 - result.probability_below("gross_debt_to_nre", float(v) / b, y)
                                  for y, b in zip(years, budget)]
            for k, v in limits.items()}})
        out += ["<p class='note'>The probability that gross external debt at the year's end is above the "
                "authorised limit and the operational boundary.</p>",
                _table(table, percent=[c for c in table.columns if c != "year"])]
    return out


def _minimum_section(result: PlanResult) -> list[str]:
    """The risk-assessed minimum, itemised as a section 25 statement shows it: at the policy's
    confidence when the policy is risk-assessed, otherwise at 95%."""
    policy = result.scenario.to_dict().get("policy", {}).get("minimum_general_fund", {})
    confidence = float(policy["risk_assessed"]) if isinstance(policy, dict) and "risk_assessed" in policy else 0.95
    m = result.minimum_statement(confidence, progress=False)
    label = "name" if "name" in m.table.columns else "id"
    lines = m.table.head(10).select("kind", label, "mean", "mean_in_tail", "provision", "share")
    rest = m.table.height - lines.height
    more = f" The {rest} smaller lines are in <code>minimum_statement()</code>." if rest > 0 else ""
    return [
        "<h3>Risk-assessed minimum general fund balance (section 25 statement)</h3>",
        f"<p>At the {confidence:.0%} quantile of the plan's cumulative one-off exposure beyond the budget "
        f"(one-off risks, one-off pressures beyond their budgeted mean, savings shortfalls in their due year, "
        f"the in-year overspend; summed over the plan's years), the general fund should hold "
        f"<b>{html.escape(_m(m.minimum))}</b>. Each line is the minimum shared in proportion to the input's mean "
        f"exposure in the {m.tail_trials:,} trials whose exposure reached it (CIPFA LAAP Bulletin 99 framing). "
        f"Recurring risks and pressures have no line: each year's budget must close them.{more}</p>",
        _table(lines, money=["mean", "mean_in_tail", "provision"], percent=["share"]),
    ]


def render(result: PlanResult, *, title: Optional[str] = None, previous: Optional[Scenario] = None,
           source: Optional[str] = None) -> str:
    """The report as one HTML document (a string). ``previous``: an earlier version of the plan
    (same years), bridged to this one in the MTFS section. ``source``: the scenario file's name,
    for the audit's command to reproduce it."""
    import shlex

    source_name = source or "SCENARIO.toml"
    from . import __version__
    from . import plot

    name = result.scenario.name
    title = title or f"Financial resilience: {name}"
    boxes = "".join(
        f"<div class='figure-box'><div class='value'>{html.escape(v)}</div><div class='label'>{html.escape(k)}</div></div>"
        for k, v in headline(result).items()
    )
    table = result.by_year()
    gaps = table.select("year", "gap_mean", "gap_p90", "one_off_reliance", "underlying_gap_mean", "unidentified", "p_s114")
    usable = table.select("year", "reserves_p5", "reserves_p50", "reserves_p95", "p_exhausted")
    general = table.select("year", "general_fund_p5", "general_fund_p50", "general_fund_p95", "minimum", "p_below_minimum")
    each = result.reserves_by_year()
    drivers = result.drivers().head(10)
    breaches = result.policy_breaches()
    # Years of usable reserves at the recent rate of use (three years at most); 100 is the
    # index's cap: reserves not falling.
    def years_of(v: Optional[float]) -> str:
        if v is None:
            return ""
        return "100+ (not falling)" if v >= 100 else f"{v:,.1f} years"

    sustain = result.resilience().filter(pl.col("indicator") == "reserves_sustainability")
    forward = pl.DataFrame({
        "year": sustain["year"],
        "1 in 10 lowest": [years_of(v) for v in sustain["p10"].to_list()],
        "median": [years_of(v) for v in sustain["p50"].to_list()],
        "1 in 10 highest": [years_of(v) for v in sustain["p90"].to_list()],
    })
    policy_note = (
        "The reserves policy does not allow reserves to fund recurring gaps: each row is how often, and by "
        "how much on average, the plan would need them to."
    )
    audit = {
        "fiscalrisk version": __version__,
        "seed": str(result.seed),
        "trials": f"{result.trials:,}",
        "inputs (SHA-256 of the canonical scenario TOML)": inputs_hash(result),
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "to reproduce": f"fiscalrisk report {shlex.quote(source_name)} --trials {result.trials} --seed {result.seed}",
    }
    audit_rows = "".join(f"<tr><td>{html.escape(k)}</td><td><code>{html.escape(v)}</code></td></tr>" for k, v in audit.items())
    sections = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='note'>{result.trials:,} simulated futures of the plan (seed {result.seed}). Amounts in £m.</p>",
        "<h2>Headline figures</h2>",
        f"<div class='headline' id='headline'>{boxes}</div>",
        "<h2>Reserves</h2>",
        _svg(plot.reserves_fan(result)),
        "<h3>Usable reserves (general fund and uncommitted usable earmarked reserves), against exhaustion</h3>",
        _table(usable, money=["reserves_p5", "reserves_p50", "reserves_p95"], percent=["p_exhausted"]),
        "<h3>General fund, against its policy minimum</h3>",
        _table(general, money=["general_fund_p5", "general_fund_p50", "general_fund_p95", "minimum"],
               percent=["p_below_minimum"]),
        *_minimum_section(result),
        "<h3>Each reserve, against its own minimum</h3>",
        _table(each, money=["p5", "p50", "p95", "minimum"], percent=["p_below_minimum"],
               labels={"p5": "5th percentile", "p50": "median", "p95": "95th percentile",
                       "minimum": "its minimum", "p_below_minimum": "below its own minimum, in the year"}),
        *_mtfs_section(result, previous),
        *_capital_section(result),
        "<h2>The gap and the balanced-budget test</h2>",
        f"<p>{html.escape(S114_NOTE)}</p>",
        _table(gaps, money=["gap_mean", "gap_p90", "one_off_reliance", "underlying_gap_mean", "unidentified"], percent=["p_s114"]),
        "<h2>Budget gap</h2>",
        _svg(plot.gap_exceedance(result)),
        *_savings_section(result),
        "<h2>What drives the gap and exhaustion</h2>",
        _svg(plot.drivers_tornado(result)),
        _table(drivers, money=["mean", "exhausted_mean"]),
        "<h2>Reserves policy checks</h2>",
        f"<p>{policy_note}</p>",
        _table(breaches, money=["mean_amount"], percent=["probability"]),
        "<h3>Reserves sustainability (years of reserves at the recent rate of use)</h3>",
        _table(forward),
        "<h2>Assumptions and their sources</h2>",
        _assumptions(result),
        "<h2>Audit</h2>",
        f"<table id='audit'>{audit_rows}</table>",
    ]
    body = "\n".join(sections)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style><script>{_SCRIPT}</script></head>"
        f"<body>\n{body}\n</body></html>\n"
    )


def write(
    result: PlanResult,
    path: Union[str, "PathLike[str]"],
    *,
    inputs: Sequence[Union[str, "PathLike[str]"]] = (),
    previous: Optional[Scenario] = None,
) -> Path:
    """Writes :func:`render` to ``path`` (``.html``) atomically; never over one of ``inputs``."""
    target = Path(path)
    check_output(target, [Path(i) for i in inputs], (".html", ".htm"), option="path")
    text = render(result, previous=previous, source=str(inputs[0]) if inputs else None)
    atomic_write(target, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return target
