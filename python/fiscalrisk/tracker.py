"""The savings tracker: each month, every saving's RAG status and forecast delivery, read exactly
and checked like the monitoring table (the rules are the core's ``TRACKER_RULES``:
:data:`RULES`), rebuilt into a programme at any month, and its movement explained.

A tracker has one row per saving with ``id``, ``year`` (due), ``value`` (£, full-year),
``rag`` (this month's status), ``forecast_delivery`` (£ forecast in its year) and
``counted_in_budget`` (yes or no), and optionally ``name``, ``directorate`` and
``explanation``.

Examples
--------
>>> import polars as pl
>>> import fiscalrisk as fr
>>> april = pl.DataFrame({"id": ["S1", "S2"], "year": ["2019/20"] * 2, "value": ["4000000", "2000000"],
...                       "rag": ["amber", "red"], "forecast_delivery": ["3000000", "0"],
...                       "counted_in_budget": ["yes", "no"]})
>>> fr.tracker.check(fr.tracker.read(april)).exit_code()
0
>>> may = april.with_columns(pl.Series("rag", ["green", "red"]))
>>> fr.tracker.check(fr.tracker.read(may), fr.tracker.read(april)).findings["rule"].to_list()
['rag-improved-unexplained']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Union

import polars as pl

from . import _fiscalrisk as _native
from .monitoring import CheckReport, _text_columns, read_table

if TYPE_CHECKING:
    from os import PathLike

__all__ = ["SavingsTracker", "read", "check", "RULES"]

#: The tracker check's rules, ``(name, severity, description)``, from the core.
RULES: list[tuple[str, str, str]] = [(r["name"], r["severity"], r["description"]) for r in _native.tracker_rules()]


class SavingsTracker:
    """A month's savings tracker, read exactly: ``frame`` (as given) and ``rows`` (as read)."""

    __slots__ = ("frame", "_native")

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame
        self._native = _native.SavingsTracker(_text_columns(frame))

    @property
    def rows(self) -> pl.DataFrame:
        """One row per saving as read: ``row``, ``id``, ``name``, ``directorate``, ``year``,
        ``value``, ``rag``, ``forecast_delivery`` (exact, as text), ``counted_in_budget`` and
        ``explanation`` (None where a cell was blank or unreadable)."""
        schema = {"row": pl.Int64, "id": pl.String, "name": pl.String, "directorate": pl.String, "year": pl.String,
                  "value": pl.String, "rag": pl.String, "forecast_delivery": pl.String,
                  "counted_in_budget": pl.Boolean, "explanation": pl.String}
        return pl.DataFrame(self._native.rows(), schema=schema)

    def __repr__(self) -> str:
        return f"SavingsTracker({self.frame.height} savings)"


def read(source: Union[str, "PathLike[str]", pl.DataFrame]) -> SavingsTracker:
    """A tracker from a CSV (every column as text), Excel or Parquet file, or a DataFrame; a
    missing required column is a ValidationError naming it."""
    return SavingsTracker(source if isinstance(source, pl.DataFrame) else read_table(source))


def check(current: SavingsTracker, previous: Optional[SavingsTracker] = None, source: str = "tracker") -> CheckReport:
    """Check a tracker (against last month's when given) with :data:`RULES`: unreadable cells
    and duplicate ids (errors), a red saving still counted in the budget (error), a forecast
    above the saving's value and a RAG status that improved with no explanation (warnings)."""
    report: dict[str, Any] = current._native.check(None if previous is None else previous._native)
    schema = {"rule": pl.String, "severity": pl.String, "row": pl.Int64, "line_id": pl.String, "column": pl.String, "message": pl.String}
    return CheckReport(0, pl.DataFrame(report["findings"], schema=schema), source, RULES)
