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

from ._io import atomic_write, check_output

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .plan import PlanResult

__all__ = ["render", "write", "headline", "inputs_hash"]

#: Threshold of the reserves sustainability headline (years).
SUSTAINABILITY_YEARS = 2.0

_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Arial, sans-serif; margin: 2rem auto;
       max-width: 60rem; color: #1a1a1a; line-height: 1.4; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; border-bottom: 1px solid #ccc; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #e5e5e5; text-align: right; }
th:first-child, td:first-child { text-align: left; }
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
    from .plot import millions

    return millions(x)


def _pct(p: float) -> str:
    return f"{p:.1%}"


S114_NOTE = (
    "p_s114 is the probability that, at the end of the year, the recurring gap carried into the next "
    "(the recurring gap still open after savings and the management response, plus the year's one-off "
    "savings, which fall out of the base budget) exceeds usable reserves above the general fund's "
    "minimum: the next budget cannot then be balanced without new measures or external support, the "
    "position in which a chief finance officer considers a section 114 notice. It fires before reserves "
    "are exhausted."
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
        f"Probability the budget for the year after {years[worst]} cannot be balanced from reserves above the minimum (p_s114)": _pct(
            float(y["p_s114"][worst])
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

        out["Largest driver of exhaustion"] = driver_label(first_driver["kind"], first_driver["id"], first_driver["name"])
    return out


def _table(df: pl.DataFrame, money: Iterable[str] = (), percent: Iterable[str] = ()) -> str:
    money, percent = set(money), set(percent)
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in df.columns)
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
            cells.append(f"<td>{html.escape(text)}</td>")
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
        return str(dist)
    kind = dist.get("dist", "?")
    params = ", ".join(f"{k} {_m(float(v)) if isinstance(v, (int, float)) and abs(float(v)) >= 1e4 else v}"
                       for k, v in dist.items() if k != "dist")
    return f"{kind}({params})"


def _assumptions(result: PlanResult) -> str:
    d = result.scenario.to_dict()
    rows: list[tuple[str, str, str]] = []
    for p in d.get("pressures", []):
        rows.append(("pressure", str(p["name"]), f"{_describe(p['amount'])}, from {p['first_year']}, "
                     + ("recurring" if p.get("recurring", True) else "one-off")))
    for s in d.get("savings", []):
        rows.append(("saving", f"{s['id']}: {s['name']}", f"{_m(float(s['value']))} in {s['year']}, RAG {s['rag']}"))
    for r in d.get("risks", []):
        cap = f", cap {_m(float(r['cap']))}" if r.get("cap") is not None else ""
        rows.append(("risk", f"{r['id']}: {r['name']}", f"probability {r['probability']}, impact {_describe(r['impact'])}{cap}"))
    table = pl.DataFrame(rows, schema=["kind", "input", "assumption"], orient="row")
    parts = [_table(table)]
    source = result.scenario.source_text
    if source:
        notes = [ln.strip().lstrip("#").strip() for ln in source.splitlines() if ln.strip().startswith("#")]
        flagged = [ln for ln in source.splitlines() if re.search(r"ASSUMPTION|[Ss]ource", ln)]
        if notes:
            parts.append("<h3>Sources and notes in the scenario file</h3><pre>" + html.escape("\n".join(notes)) + "</pre>")
        parts.append(f"<p class='note'>{len(flagged)} lines of the scenario file mark an assumption or a source.</p>")
        parts.append("<details><summary>The scenario file</summary><pre>" + html.escape(source) + "</pre></details>")
    return "\n".join(parts)


def render(result: PlanResult, *, title: Optional[str] = None) -> str:
    """The report as one HTML document (a string)."""
    from . import __version__
    from . import plot

    name = result.scenario.name
    title = title or f"Financial resilience: {name}"
    boxes = "".join(
        f"<div class='figure-box'><div class='value'>{html.escape(v)}</div><div class='label'>{html.escape(k)}</div></div>"
        for k, v in headline(result).items()
    )
    table = result.by_year()
    gaps = table.select("year", "gap_mean", "gap_p90", "one_off_reliance", "underlying_gap_mean", "p_s114")
    usable = table.select("year", "reserves_p5", "reserves_p50", "reserves_p95", "p_exhausted")
    general = table.select("year", "general_fund_p5", "general_fund_p50", "general_fund_p95", "minimum", "p_below_minimum")
    each = result.reserves_by_year()
    drivers = result.drivers().head(10)
    breaches = result.policy_breaches()
    forward = result.resilience().filter(pl.col("indicator") == "reserves_sustainability").select(
        "year", "p10", "p50", "p90"
    )
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
        "to reproduce": f"fiscalrisk report SCENARIO.toml --trials {result.trials} --seed {result.seed}",
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
        "<h3>Each reserve, against its own minimum</h3>",
        _table(each, money=["p5", "p50", "p95", "minimum"], percent=["p_below_minimum"]),
        "<h2>The gap and the balanced-budget test</h2>",
        f"<p>{html.escape(S114_NOTE)}</p>",
        _table(gaps, money=["gap_mean", "gap_p90", "one_off_reliance", "underlying_gap_mean"], percent=["p_s114"]),
        "<h2>Budget gap</h2>",
        _svg(plot.gap_exceedance(result)),
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


def write(result: PlanResult, path: Union[str, "PathLike[str]"], *, inputs: Sequence[Union[str, "PathLike[str]"]] = ()) -> Path:
    """Writes :func:`render` to ``path`` (``.html``) atomically; never over one of ``inputs``."""
    target = Path(path)
    check_output(target, [Path(i) for i in inputs], (".html", ".htm"), option="path")
    text = render(result)
    atomic_write(target, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return target
