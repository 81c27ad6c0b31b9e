"""Financial resilience indicators from published returns, ranked among peers.

The indicators follow the published CIPFA Financial Resilience Index (which, like this module,
compares each authority with its peers); :func:`catalogue` lists each with its definition and
which way is riskier. :func:`indicators` computes them for every authority and year of a table
of returns such as :func:`fiscalrisk.datasets.mhclg_reserves`, ranks each within a peer group,
and combines the ranks into one ``risk_score`` in [0, 1] (higher is riskier).

How the score is built, and why (the Rust module ``fiscalrisk::resilience`` states every rule):
percentiles within the peer group make indicators of different units comparable and keep one
outlier from dominating; the score averages percentiles within four themes (reserves depth,
reserves trajectory, debt burden, funding) and then the themes with equal weight, so that three
reserve ratios that measure nearly the same thing count once. No weight is fitted to councils
that later failed.

Examples
--------
>>> import polars as pl
>>> import fiscalrisk as fr
>>> ind = fr.resilience.indicators(fr.datasets.mhclg_reserves(), peer_group="class")
>>> row = ind.filter((pl.col("name") == "Birmingham") & (pl.col("year") == "2017/18"))
>>> round(row["reserves_to_nre"][0], 3), row["class"][0]
(0.606, 'MD')
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping, Sequence, Union

import polars as pl

from . import _fiscalrisk as _native
from .exceptions import ValidationError

__all__ = ["indicators", "catalogue", "INDICATORS", "FIGURES"]

#: The indicator columns, in order.
INDICATORS: list[str] = [row["name"] for row in _native.resilience_catalogue()]

#: The figures each return needs: the core's name, and the column it is read from (the name
#: with ``_k`` appended, as in :func:`fiscalrisk.datasets.mhclg_reserves`, is also accepted).
FIGURES: dict[str, str] = {
    "net_revenue_expenditure": "net_revenue_expenditure",
    "council_tax_requirement": "council_tax_requirement",
    "earmarked_open": "earmarked_reserves_1apr",
    "earmarked_close": "earmarked_reserves_31mar",
    "unallocated_open": "unallocated_reserves_1apr",
    "unallocated_close": "unallocated_reserves_31mar",
    "interest_payable": "interest_payable",
    "provision_repayment_principal": "provision_repayment_principal",
    "leasing_payments": "leasing_payments",
}

PeerGroup = Union[str, Sequence[str], Mapping[str, str]]


def catalogue() -> pl.DataFrame:
    """The indicators: ``name``, ``theme`` (in the risk score), ``riskier`` (``higher`` or
    ``lower``) and ``description``.

    >>> catalogue().filter(pl.col("riskier") == "higher")["name"].to_list()
    ['interest_payable_to_nre', 'capital_financing_to_nre']
    """
    return pl.DataFrame(_native.resilience_catalogue())


def _column(df: pl.DataFrame, name: str) -> str:
    for candidate in (name, f"{name}_k"):
        if candidate in df.columns:
            return candidate
    raise ValidationError(f"{name}: no column {name!r} (or {name + '_k'!r}) in the table; it has {df.columns}")


def _floats(values: list[Any], column: str) -> list[float | None]:
    out: list[float | None] = []
    for i, v in enumerate(values):
        if v is None:
            out.append(None)
        elif isinstance(v, (int, float, Decimal)):
            out.append(float(v))
        else:
            try:
                out.append(float(str(v).replace(",", "")) if str(v).strip() else None)
            except ValueError:
                raise ValidationError(f"{column}[{i}]: {v!r} is not a number") from None
    return out


def _groups(df: pl.DataFrame, peer_group: PeerGroup) -> tuple[pl.DataFrame, list[str]]:
    if isinstance(peer_group, str):
        if peer_group == "all":
            return df, ["all"] * df.height
        if peer_group not in df.columns:
            raise ValidationError(f"peer_group: {peer_group!r} is not 'all', a list of ecodes or a column of the table")
        return df, [str(v) for v in df[peer_group].to_list()]
    if isinstance(peer_group, Mapping):
        labels = {str(k): str(v) for k, v in peer_group.items()}
    else:
        labels = {str(k): "peers" for k in peer_group}
    unknown = sorted(set(labels) - set(df["ecode"].to_list()))
    if unknown:
        raise ValidationError(f"peer_group: {unknown} are not ecodes in the table")
    if not labels:
        raise ValidationError("peer_group: empty")
    df = df.filter(pl.col("ecode").is_in(list(labels)))
    return df, [labels[e] for e in df["ecode"].to_list()]


def indicators(df: pl.DataFrame, peer_group: PeerGroup = "class") -> pl.DataFrame:
    """The resilience indicators of every authority and year, ranked within its peer group.

    Parameters
    ----------
    df
        One row per authority and year: ``ecode``, ``year`` (``2017/18``), optionally ``name``
        and ``class``, and the figures of :data:`FIGURES` (any one unit; a ``_k`` suffix is
        accepted). Missing figures stay missing: an indicator that needs them is null and is
        not ranked.
    peer_group
        ``"class"`` (or any column name): rank within each value of that column; ``"all"``: rank
        everyone together; a list of ecodes: rank (and return) only those authorities; a dict
        ``{ecode: group}``: rank within the groups given (and return only those authorities).

    Returns
    -------
    polars.DataFrame
        ``ecode``, ``name``, ``class``, ``year``, each indicator of :func:`catalogue`, each
        indicator's ``<indicator>_percentile`` (0 safest, 1 riskiest within the peer group and
        year; ties share their average rank), ``history_years`` (years in the window of the
        indicators of change), ``risk_score`` (in [0, 1], higher is riskier), ``driver`` (the
        indicator with the highest percentile) and ``riskiest_decile`` (the indicators whose
        percentile is 0.9 or more).

    Raises
    ------
    ValidationError
        A missing column, a figure that is not a number, a year that is not a financial year,
        an authority twice in one year, a peer group naming unknown authorities.

    Examples
    --------
    >>> df = pl.DataFrame({
    ...     "ecode": ["E1", "E2"], "year": ["2017/18", "2017/18"],
    ...     "net_revenue_expenditure": [100.0, 100.0], "council_tax_requirement": [40.0, 60.0],
    ...     "earmarked_reserves_1apr": [50.0, 50.0], "earmarked_reserves_31mar": [40.0, 60.0],
    ...     "unallocated_reserves_1apr": [10.0, 10.0], "unallocated_reserves_31mar": [10.0, 10.0],
    ...     "interest_payable": [5.0, 1.0], "provision_repayment_principal": [0.0, 0.0],
    ...     "leasing_payments": [0.0, 0.0]})
    >>> out = indicators(df, peer_group="all")
    >>> out.select("ecode", "reserves_sustainability", "reserves_sustainability_percentile").rows()
    [('E1', 5.0, 1.0), ('E2', 100.0, 0.0)]
    >>> out["risk_score"].round(3).to_list()  # E1 is riskier in every theme but a tie
    [0.958, 0.042]
    """
    if not isinstance(df, pl.DataFrame):
        raise ValidationError(f"df: expected a polars.DataFrame, not {type(df).__name__}")
    for required in ("ecode", "year"):
        if required not in df.columns:
            raise ValidationError(f"{required}: no column {required!r} in the table; it has {df.columns}")
    columns = {core: _column(df, name) for core, name in FIGURES.items()}
    df, groups = _groups(df, peer_group)
    figures = {core: _floats(df[col].to_list(), col) for core, col in columns.items()}
    ecodes = [str(e) for e in df["ecode"].to_list()]
    years = [str(y) for y in df["year"].to_list()]
    rows = [
        {
            "ecode": ecodes[i],
            "year": years[i],
            "group": groups[i],
            "figures": {core: figures[core][i] for core in FIGURES},
        }
        for i in range(df.height)
    ]
    out = _native.resilience_indicators(rows)
    names = df["name"].cast(pl.String) if "name" in df.columns else pl.Series("name", ecodes)
    classes = df["class"].cast(pl.String) if "class" in df.columns else pl.Series("class", [None] * df.height, dtype=pl.String)
    table: dict[str, Any] = {"ecode": ecodes, "name": names, "class": classes, "year": years}
    for k, name in enumerate(INDICATORS):
        table[name] = pl.Series(name, [r["values"][k] for r in out], dtype=pl.Float64)
    for k, name in enumerate(INDICATORS):
        table[f"{name}_percentile"] = pl.Series(f"{name}_percentile", [r["percentiles"][k] for r in out], dtype=pl.Float64)
    table["history_years"] = pl.Series("history_years", [r["history_years"] for r in out], dtype=pl.Int32)
    table["risk_score"] = pl.Series("risk_score", [r["risk_score"] for r in out], dtype=pl.Float64)
    table["driver"] = pl.Series("driver", [r["driver"] for r in out], dtype=pl.String)
    table["riskiest_decile"] = pl.Series(
        "riskiest_decile",
        [[n for n, p in zip(INDICATORS, r["percentiles"]) if p is not None and p >= _native.RISKIEST_DECILE] for r in out],
        dtype=pl.List(pl.String),
    )
    return pl.DataFrame(table)
