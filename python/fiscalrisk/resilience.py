"""Financial resilience indicators from published returns, ranked among peers.

The indicators follow the published CIPFA Financial Resilience Index (which, like this module,
compares each authority with its peers); :func:`catalogue` lists each with its definition, which
way is riskier and any stated absolute alarm threshold. :func:`indicators` computes them for
every authority and year of a table of returns such as :func:`fiscalrisk.datasets.mhclg_reserves`,
with the stock of debt from :func:`fiscalrisk.datasets.mhclg_borrowing`, ranks each within a peer
group, and scores each authority by its **weakest link**.

How the score is built, and why (the Rust module ``fiscalrisk::resilience`` states every rule): a
council fails on any one route (running out of reserves, being unable to service its debt,
carrying more debt than it can refinance, losing its income), so averaging routes would let one
catastrophic indicator be diluted by unremarkable others. Percentiles within the peer group make
indicators comparable; a theme's score is the mean percentile of its indicators (which measure
nearly the same thing); ``risk_score`` is the worst theme's; ``average_score`` keeps the mean of
the themes. ``alarms`` lists every indicator in the riskiest decile or beyond its stated
threshold, so a committee sees all of them. No weight or threshold is fitted to councils that
later failed; :func:`backtest` measures how well a score would have warned.

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

__all__ = ["indicators", "catalogue", "backtest", "Backtest", "INDICATORS", "FIGURES", "DEBT_FIGURES"]

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

#: The stock of debt at 31 March, in the same unit as the returns: read from the returns when
#: they have these columns, else joined from a debt table by ``ecode`` and ``year``.
DEBT_FIGURES: dict[str, str] = {"borrowing": "borrowing", "investments": "investments"}

PeerGroup = Union[str, Sequence[str], Mapping[str, str]]


def catalogue() -> pl.DataFrame:
    """The indicators: ``name``, ``theme`` (a route to failure; the risk score is the worst
    theme's), ``riskier`` (``higher`` or ``lower``), ``description``, ``alarm`` (a stated
    absolute threshold beyond which the indicator is an alarm whatever its percentile, or null)
    and ``origin`` (``CIPFA`` for the eight of CIPFA's Financial Resilience Index, ``fiscalrisk``
    for the library's own four).

    >>> catalogue().filter(pl.col("riskier") == "higher")["name"].to_list()
    ['interest_payable_to_nre', 'capital_financing_to_nre', 'gross_debt_to_nre', 'net_debt_to_nre', 'borrowing_growth', 'investments_to_nre']
    >>> catalogue().filter(pl.col("origin") == "fiscalrisk")["name"].to_list()
    ['capital_financing_to_nre', 'net_debt_to_nre', 'borrowing_growth', 'investments_to_nre']
    >>> catalogue().filter(pl.col("alarm").is_not_null()).select("name", "alarm").rows()
    [('reserves_sustainability', 2.0), ('reserves_to_nre', 0.05), ('interest_payable_to_nre', 0.25), ('gross_debt_to_nre', 10.0)]
    """
    return pl.DataFrame(_native.resilience_catalogue(), schema_overrides={"alarm": pl.Float64})


def _column(df: pl.DataFrame, name: str, table: str = "") -> str:
    for candidate in (name, f"{name}_k"):
        if candidate in df.columns:
            return candidate
    raise ValidationError(f"{table}{name}: no column {name!r} (or {name + '_k'!r}) in the table; it has {df.columns}")


def _floats(values: list[Any], column: str) -> list[float | None]:
    out: list[float | None] = []
    for i, v in enumerate(values):
        if v is None:
            out.append(None)
        elif isinstance(v, (int, float, Decimal)):
            out.append(float(v))
        else:
            # The core's rule for numbers typed as text, as every reader takes it: "1,250"
            # is 1250, "12,3" (a decimal comma) is not a number.
            parsed = _native.parse_number(str(v)) if str(v).strip() else None
            if parsed is None and str(v).strip():
                raise ValidationError(f"{column}[{i}]: {v!r} is not a number")
            out.append(parsed)
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


def _with_debt(df: pl.DataFrame, debt: Any) -> pl.DataFrame:
    """The returns with ``borrowing`` and ``investments`` columns (or without, when there is no
    debt table to join)."""
    if any(c in df.columns for name in DEBT_FIGURES for c in (name, f"{name}_k")):
        return df
    if debt is False:
        return df
    if debt is None:
        # The bundled table is in £ thousand: join it only to returns in £ thousand (the
        # bundled Revenue Summary's ``_k`` columns).
        if "net_revenue_expenditure_k" not in df.columns:
            return df
        from .datasets import mhclg_borrowing

        debt = mhclg_borrowing()
    if not isinstance(debt, pl.DataFrame):
        raise ValidationError(f"debt: expected a polars.DataFrame, None or False, not {type(debt).__name__}")
    for required in ("ecode", "year"):
        if required not in debt.columns:
            raise ValidationError(f"debt.{required}: no column {required!r} in the debt table; it has {debt.columns}")
    cols = {name: _column(debt, name, "debt.") for name in DEBT_FIGURES}
    keys = debt.select("ecode", "year")
    if keys.is_duplicated().any():
        first = keys.filter(keys.is_duplicated()).row(0)
        raise ValidationError(f"debt: authority {first[0]!r} appears twice in {first[1]}")
    right = debt.select(
        pl.col("ecode").cast(pl.String), pl.col("year").cast(pl.String), *[pl.col(c).alias(c) for c in cols.values()]
    )
    return df.with_columns(pl.col("ecode").cast(pl.String), pl.col("year").cast(pl.String)).join(
        right, on=["ecode", "year"], how="left", maintain_order="left"
    )


def indicators(df: pl.DataFrame, peer_group: PeerGroup = "class", debt: Any = None) -> pl.DataFrame:
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
    debt
        The stock of debt (``borrowing`` and ``investments`` at 31 March, same unit as the
        returns, ``_k`` accepted) by ``ecode`` and ``year``. ``None`` (the default): the returns'
        own columns if they have them, else :func:`fiscalrisk.datasets.mhclg_borrowing` for
        returns in £ thousand (the bundled Revenue Summary), else none; a DataFrame: that
        table; ``False``: no debt indicators.

    Returns
    -------
    polars.DataFrame
        ``ecode``, ``name``, ``class``, ``year``, ``provisional`` (when ``df`` has it: figures
        from a provisional release), each indicator of :func:`catalogue`, each
        indicator's ``<indicator>_percentile`` (0 safest, 1 riskiest within the peer group and
        year; ties share their average rank), ``history_years`` (years in the window of the
        indicators of change), ``risk_score`` (the weakest link: the worst theme's mean
        percentile, in [0, 1], higher is riskier), ``average_score`` (the mean of the themes),
        ``risk_order`` (the weakest link with its ties broken by the next-worst theme, then the
        next: a percentile within the peer group and year, 1 riskiest; a theme an authority
        lacks counts as 0),
        ``driver`` (the indicator with the highest percentile), ``riskiest_decile`` (the
        indicators whose percentile is 0.9 or more), ``alarms`` (those and every indicator beyond
        its stated threshold) and ``missing_indicators`` (the indicators with no value: the
        authority has no data for them).

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
    >>> out["risk_score"].round(3).to_list()  # each one's worst route: E2's is reserves depth, a tie in one of three
    [1.0, 0.167]
    >>> out["alarms"].to_list()[0]   # of two, the riskier is in the riskiest decile of each
    ['reserves_sustainability', 'reserves_to_nre', 'earmarked_reserves_to_nre', 'change_in_reserves', 'interest_payable_to_nre', 'capital_financing_to_nre', 'council_tax_to_nre']
    """
    if not isinstance(df, pl.DataFrame):
        raise ValidationError(f"df: expected a polars.DataFrame, not {type(df).__name__}")
    for required in ("ecode", "year"):
        if required not in df.columns:
            raise ValidationError(f"{required}: no column {required!r} in the table; it has {df.columns}")
    columns = {core: _column(df, name) for core, name in FIGURES.items()}
    df = _with_debt(df, debt)
    for core, name in DEBT_FIGURES.items():
        found = [c for c in (name, f"{name}_k") if c in df.columns]
        if found:
            columns[core] = found[0]
    df, groups = _groups(df, peer_group)
    figures = {core: _floats(df[col].to_list(), col) for core, col in columns.items()}
    ecodes = [str(e) for e in df["ecode"].to_list()]
    years = [str(y) for y in df["year"].to_list()]
    rows = [
        {
            "ecode": ecodes[i],
            "year": years[i],
            "group": groups[i],
            "figures": {core: figures[core][i] for core in columns},
        }
        for i in range(df.height)
    ]
    out = _native.resilience_indicators(rows)
    names = df["name"].cast(pl.String) if "name" in df.columns else pl.Series("name", ecodes)
    classes = df["class"].cast(pl.String) if "class" in df.columns else pl.Series("class", [None] * df.height, dtype=pl.String)
    table: dict[str, Any] = {"ecode": ecodes, "name": names, "class": classes, "year": years}
    if "provisional" in df.columns:  # the bundled 2017/18 returns are the provisional release
        table["provisional"] = df["provisional"].cast(pl.Boolean)
    for k, name in enumerate(INDICATORS):
        table[name] = pl.Series(name, [r["values"][k] for r in out], dtype=pl.Float64)
    for k, name in enumerate(INDICATORS):
        table[f"{name}_percentile"] = pl.Series(f"{name}_percentile", [r["percentiles"][k] for r in out], dtype=pl.Float64)
    table["history_years"] = pl.Series("history_years", [r["history_years"] for r in out], dtype=pl.Int32)
    table["risk_score"] = pl.Series("risk_score", [r["risk_score"] for r in out], dtype=pl.Float64)
    table["average_score"] = pl.Series("average_score", [r["average_score"] for r in out], dtype=pl.Float64)
    table["risk_order"] = pl.Series("risk_order", [r["risk_order"] for r in out], dtype=pl.Float64)
    table["driver"] = pl.Series("driver", [r["driver"] for r in out], dtype=pl.String)
    table["riskiest_decile"] = pl.Series(
        "riskiest_decile",
        [[n for n, p in zip(INDICATORS, r["percentiles"]) if p is not None and p >= _native.RISKIEST_DECILE] for r in out],
        dtype=pl.List(pl.String),
    )
    table["alarms"] = pl.Series("alarms", [r["alarms"] for r in out], dtype=pl.List(pl.String))
    table["missing_indicators"] = pl.Series("missing_indicators", [r["missing"] for r in out], dtype=pl.List(pl.String))
    return pl.DataFrame(table)


class Backtest:
    """How well a score would have warned of events (see :func:`backtest`).

    Attributes
    ----------
    auc : float
        The probability that an authority with an event scored higher than one without (ties
        count a half): 0.5 is no better than chance, 1 a perfect ranking.
    auc_low, auc_high : float
        Its bootstrap interval at ``level`` (authorities resampled with replacement).
    k : int
        How many of the riskiest authorities ``precision`` and ``recall`` look at.
    precision, recall : float
        The share of the riskiest ``k`` that had an event, and the share of events among them.
    events : polars.DataFrame
        Each event: ``ecode``, ``date``, ``year`` (the scores' year it is ranked on, the last to
        end before the event), ``score``, ``rank`` (1 riskiest; ties share the best rank) among
        ``of`` authorities scored that year, and ``in_top_k``.
    """

    __slots__ = ("auc", "auc_low", "auc_high", "level", "k", "precision", "recall", "events")

    def __init__(self, auc: float, low: float, high: float, level: float, k: int, precision: float, recall: float,
                 events: pl.DataFrame) -> None:
        self.auc, self.auc_low, self.auc_high, self.level = auc, low, high, level
        self.k, self.precision, self.recall, self.events = k, precision, recall, events

    def __repr__(self) -> str:
        return (f"Backtest(AUC {self.auc:.3f} [{self.auc_low:.3f}, {self.auc_high:.3f}], "
                f"precision@{self.k} {self.precision:.2f}, recall@{self.k} {self.recall:.2f})")


def backtest(
    scores: pl.DataFrame,
    events: pl.DataFrame,
    *,
    score: str = "risk_score",
    k: int = 10,
    bootstrap: int = 2000,
    level: float = 0.9,
    seed: int = 0,
) -> Backtest:
    """How well would ``scores`` have warned of ``events``?

    The AUC, its bootstrap interval and the precision and recall among the riskiest ``k`` use
    the scores of the last financial year to end before the first event (a year ``2017/18``
    ends on 31 March 2018), so no event had happened when they were published: authorities with
    an event are positives, all others negatives (ties count a half in the AUC; at the ``k``-th
    place they are taken in the table's order). Each event is also ranked on its own last year
    before it, in :attr:`Backtest.events` (``rank`` 1 is the riskiest; ties share the best rank).

    Parameters
    ----------
    scores
        ``ecode``, ``year`` and the ``score`` column (higher is riskier), e.g. from
        :func:`indicators`. Rows with no score are left out.
    events
        ``ecode`` and ``date`` (a date, or text ``YYYY-MM-DD``). An authority's first event
        counts.
    k, bootstrap, level, seed
        The riskiest ``k``; bootstrap resamples, interval level and seed.

    Examples
    --------
    >>> import datetime
    >>> scores = pl.DataFrame({"ecode": ["A", "B", "C", "D", "E"], "year": ["2017/18"] * 5,
    ...                        "risk_score": [0.9, 0.8, 0.7, 0.6, 0.5]})
    >>> events = pl.DataFrame({"ecode": ["B", "E"], "date": [datetime.date(2020, 11, 11)] * 2})
    >>> b = backtest(scores, events, k=2)
    >>> round(b.auc, 4), b.precision, b.recall    # B beats C and D; E beats no one: 2 of 6 pairs
    (0.3333, 0.5, 0.5)
    >>> b.events.select("ecode", "year", "rank", "of").rows()
    [('B', '2017/18', 2, 5), ('E', '2017/18', 5, 5)]
    """
    import datetime

    import numpy as np

    for frame, name, needed in ((scores, "scores", ("ecode", "year", score)), (events, "events", ("ecode", "date"))):
        if not isinstance(frame, pl.DataFrame):
            raise ValidationError(f"{name}: expected a polars.DataFrame, not {type(frame).__name__}")
        for c in needed:
            if c not in frame.columns:
                raise ValidationError(f"{name}.{c}: no column {c!r}; it has {frame.columns}")
    if not (isinstance(k, int) and k >= 1):
        raise ValidationError(f"k: {k!r} is not a whole number of at least 1")
    if not (isinstance(bootstrap, int) and bootstrap >= 100):
        raise ValidationError(f"bootstrap: {bootstrap!r} is not a whole number of at least 100")
    if not 0 < level < 1:
        raise ValidationError(f"level: {level!r} is not between 0 and 1")
    table = scores.select(pl.col("ecode").cast(pl.String), pl.col("year").cast(pl.String), pl.col(score).cast(pl.Float64))
    table = table.filter(pl.col(score).is_not_null() & pl.col(score).is_finite())
    if table.height == 0:
        raise ValidationError(f"scores.{score}: no authority has a score")

    def year_end(label: str) -> datetime.date:
        from . import _fiscalrisk as _native

        try:
            return datetime.date(_native.financial_year_start(label) + 1, 3, 31)
        except ValidationError as e:
            raise ValidationError(f"scores.year: {e}") from None

    ends = {y: year_end(y) for y in table["year"].unique().to_list()}
    dates: dict[str, datetime.date] = {}
    for i, (code, when) in enumerate(events.select(pl.col("ecode").cast(pl.String), "date").iter_rows()):
        if isinstance(when, str):
            try:
                when = datetime.date.fromisoformat(when)
            except ValueError:
                raise ValidationError(f"events.date[{i}]: {when!r} is not a date (YYYY-MM-DD)") from None
        if not isinstance(when, datetime.date):
            raise ValidationError(f"events.date[{i}]: {when!r} is not a date")
        dates[code] = min(when, dates.get(code, when))
    if not dates:
        raise ValidationError("events: empty")
    # The year every event is judged on for the AUC: the last to end before the first event.
    judged = [y for y in sorted(ends, key=lambda y: ends[y]) if ends[y] < min(dates.values())]
    if not judged:
        raise ValidationError(f"events: every event is on or before the end of the scores' first year ({min(ends.values())})")
    year = judged[-1]
    frame = table.filter(pl.col("year") == year)
    values = frame[score].to_numpy()
    positive = np.array([c in dates for c in frame["ecode"].to_list()])
    if positive.all() or not positive.any():
        raise ValidationError(f"events: the {year} scores need authorities both with and without an event")

    def auc(v: Any, pos: Any) -> float:
        order = np.argsort(v, kind="mergesort")
        ranks = np.empty(len(v))
        sorted_v = v[order]
        # Average ranks over ties.
        start = 0
        for end in range(1, len(v) + 1):
            if end == len(v) or sorted_v[end] != sorted_v[start]:
                ranks[order[start:end]] = (start + end + 1) / 2.0
                start = end
        n1 = pos.sum()
        n0 = len(v) - n1
        return float((ranks[pos].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))

    point = auc(values, positive)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(bootstrap):
        idx = rng.integers(0, len(values), len(values))
        pos = positive[idx]
        if pos.any() and not pos.all():
            boots.append(auc(values[idx], pos))
    low, high = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    top = np.argsort(-values, kind="mergesort")[: min(k, len(values))]
    hits = int(positive[top].sum())
    rows: list[tuple[Any, ...]] = []
    for code, when in sorted(dates.items(), key=lambda t: (t[1], t[0])):
        prior = [y for y in ends if ends[y] < when]
        if not prior:
            rows.append((code, when, None, None, None, None, False))
            continue
        y = max(prior, key=lambda y: ends[y])
        that = table.filter(pl.col("year") == y)
        codes = that["ecode"].to_list()
        if code not in codes:
            rows.append((code, when, y, None, None, that.height, False))
            continue
        value = float(that[score][codes.index(code)])
        rank = 1 + int((that[score] > value).sum())  # ties share the best rank
        rows.append((code, when, y, value, rank, that.height, rank <= k))
    schema = {"ecode": pl.String, "date": pl.Date, "year": pl.String, "score": pl.Float64, "rank": pl.Int64,
              "of": pl.Int64, "in_top_k": pl.Boolean}
    return Backtest(point, float(low), float(high), level, min(k, len(values)), hits / min(k, len(values)),
                    hits / int(positive.sum()), pl.DataFrame(rows, schema=schema, orient="row"))
