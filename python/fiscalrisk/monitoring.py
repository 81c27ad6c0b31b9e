"""In-year budget monitoring: read the monthly table exactly, check it before it goes to
Cabinet, run-rate forecasts, and what moved since last month.

The table has one row per budget line and one ``TOTAL`` row, with at least the columns
``line_id``, ``budget``, ``forecast_outturn``, ``one_off_mitigations``, ``reserves_use``, and
``m01`` ... ``m12`` (actual spend by month, M1 = April, empty for months not yet closed),
``directorate``, ``service``, ``recurring``, ``explanation``. Other columns are kept. Every
amount is read as an exact decimal; a cell that is not an amount is reported with its row,
column and text.

Examples
--------
>>> import polars as pl
>>> import fiscalrisk as fr
>>> df = pl.DataFrame({
...     "line_id": ["A", "B", "TOTAL"], "budget": ["1200", "2400", "3600"],
...     "m01": ["100", "200", "300"], "m02": ["110", "190", "300"],
...     "forecast_outturn": ["1300", "2400", "3700"], "one_off_mitigations": ["0", "0", "0"],
...     "reserves_use": ["0", "0", "0"], "recurring": ["false", "false", None]})
>>> report = fr.monitoring.check(fr.monitoring.read(df))
>>> report.month, report.exit_code()
(2, 0)
>>> fr.monitoring.read(df).run_rate()["run_rate"].to_list()
[Decimal('1260.00'), Decimal('2340.00'), Decimal('3600.00')]
"""

from __future__ import annotations

import json
from decimal import Decimal
from os import PathLike
from pathlib import Path
from typing import Any, Optional, Sequence, Union
from xml.etree import ElementTree

import polars as pl

from . import _fiscalrisk as _native
from .exceptions import ValidationError

__all__ = ["MonitoringData", "CheckReport", "read", "check", "RULES"]

Source = Union[str, "PathLike[str]", pl.DataFrame]

#: Every rule the check applies: (name, severity, what it means).
RULES: list[tuple[str, str, str]] = [
    ("no-total-row", "error", "exactly one row has line_id TOTAL"),
    ("duplicate-line-id", "error", "line ids are present and unique"),
    ("not-a-number", "error", "every amount (and recurring flag) can be read"),
    ("missing-actuals", "error", "actuals are present for every month up to the month reported"),
    ("actuals-beyond-month", "error", "no actuals after the month reported"),
    ("totals", "error", "lines add to the TOTAL row, to the penny, in every amount column"),
    ("reserves-for-recurring", "error", "no reserves_use on a line whose variance is recurring"),
    ("unexplained-movement", "warning", "a forecast that moved more than the threshold since last month is explained"),
    ("one-off-share", "warning", "one-off mitigations do not cover more than a share of the gross overspend"),
]
_DECIMAL = pl.Decimal(precision=38, scale=2)


class MonitoringData:
    """A monthly monitoring table: the DataFrame as given (all columns kept) and its exact
    reading."""

    __slots__ = ("frame", "_native")

    def __init__(self, frame: pl.DataFrame) -> None:
        text = frame.select(pl.all().cast(pl.String))
        columns = [(name, text[name].to_list()) for name in text.columns]
        self.frame = frame
        self._native = _native.MonitoringTable.from_columns(columns)

    @property
    def last_month(self) -> int:
        """The last month with actuals on any line (0 when none has)."""
        return self._native.last_month_with_actuals()

    def check(
        self, month: Optional[int] = None, previous: Optional[MonitoringData] = None, rules: Optional[str] = None
    ) -> CheckReport:
        """See :func:`check`."""
        return check(self, month=month, previous=previous, rules=rules)

    def movements(self, previous: MonitoringData) -> pl.DataFrame:
        """The change in forecast outturn since ``previous``, line by line, largest first:
        columns ``line_id``, ``previous``, ``current``, ``change`` (exact decimals). The changes
        add up exactly to the change in the sum of the lines."""
        rows = self._native.movements(previous._native)
        return pl.DataFrame(
            {
                "line_id": [r["line_id"] for r in rows],
                **{k: pl.Series(k, [_money(r[k]) for r in rows], dtype=_DECIMAL) for k in ("previous", "current", "change")},
            }
        )

    def run_rate(self, month: Optional[int] = None, profile: Optional[Sequence[Any]] = None) -> pl.DataFrame:
        """Run-rate forecast outturn per line (``TOTAL`` last) from actuals for months 1 to
        ``month`` (default: the last month with actuals): actuals to date divided by the share
        of the year's spend in those months, from ``profile`` (twelve monthly shares summing to
        one, e.g. last year's) or a flat 1/12 a month. Exact, rounded to the penny; null where
        an actual is missing."""
        k = self.last_month if month is None else month
        prof = None if profile is None else [str(x) for x in profile]
        rows = self._native.run_rate(k, prof)
        return pl.DataFrame(
            {
                "line_id": [r[0] for r in rows],
                "run_rate": pl.Series("run_rate", [_money(r[1]) for r in rows], dtype=_DECIMAL),
            }
        )

    def __repr__(self) -> str:
        return f"MonitoringData({self.frame.height} rows, actuals to month {self.last_month})"


def _money(value: Any) -> Optional[Decimal]:
    if value is None:
        return None
    return Decimal(value if isinstance(value, str) else repr(float(value)))


def read(source: Source) -> MonitoringData:
    """Read a monitoring table from a CSV, Excel (.xlsx) or Parquet file, or a polars DataFrame.
    CSV is read with every column as text, so amounts are parsed exactly.

    Raises
    ------
    ValidationError
        When a required column is missing, or the file is not a table polars can read.
    OSError
        When the file cannot be opened.
    """
    if isinstance(source, pl.DataFrame):
        return MonitoringData(source)
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            frame = pl.read_excel(path)
        elif suffix == ".parquet":
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_csv(path, infer_schema=False)
    except pl.exceptions.PolarsError as e:
        raise ValidationError(f"{path}: cannot be read as a table: {e}") from None
    return MonitoringData(frame)


class CheckReport:
    """What :func:`check` found: ``findings`` as a DataFrame, the exit code, and the text, JSON
    and JUnit XML forms."""

    __slots__ = ("month", "findings", "source")

    def __init__(self, month: int, findings: pl.DataFrame, source: str) -> None:
        self.month = month
        self.findings = findings
        self.source = source

    @property
    def errors(self) -> int:
        """Number of errors."""
        return int((self.findings["severity"] == "error").sum())

    @property
    def warnings(self) -> int:
        """Number of warnings."""
        return int((self.findings["severity"] == "warning").sum())

    def exit_code(self, strict: bool = False) -> int:
        """0 when clean (warnings allowed unless ``strict``), 1 when a rule fails."""
        return int(self.errors > 0 or (strict and self.warnings > 0))

    def to_text(self, strict: bool = False) -> str:
        """For people: one line per finding, then a summary."""
        lines = []
        for f in self.findings.iter_rows(named=True):
            where = ", ".join(
                x for x in (f"row {f['row']}" if f["row"] is not None else "", f"line {f['line_id']}" if f["line_id"] else "", f["column"] or "") if x
            )
            lines.append(f"{f['severity']}[{f['rule']}] {where}: {f['message']}" if where else f"{f['severity']}[{f['rule']}]: {f['message']}")
        verdict = "FAIL" if self.exit_code(strict) else "OK"
        lines.append(f"{verdict}: {self.source}, month {self.month}: {self.errors} errors, {self.warnings} warnings")
        return "\n".join(lines)

    def to_json(self, strict: bool = False) -> str:
        """For CI systems: the month, counts, exit code and every finding."""
        return json.dumps(
            {
                "source": self.source,
                "month": self.month,
                "exit_code": self.exit_code(strict),
                "errors": self.errors,
                "warnings": self.warnings,
                "findings": self.findings.to_dicts(),
            },
            indent=2,
        )

    def to_junit(self, strict: bool = False) -> str:
        """For CI systems: one test case per rule; an error (or, when ``strict``, a warning)
        fails it, a warning otherwise goes to its ``system-out``."""
        suite = ElementTree.Element("testsuite", name="fiscalrisk check", tests=str(len(RULES)))
        failures = 0
        for name, severity, description in RULES:
            case = ElementTree.SubElement(suite, "testcase", classname=f"fiscalrisk.check.{self.source}", name=name)
            hits = self.findings.filter(pl.col("rule") == name)
            if hits.height == 0:
                continue
            text = "\n".join(hits["message"].to_list())
            if severity == "error" or strict:
                failures += 1
                failure = ElementTree.SubElement(case, "failure", message=f"{hits.height} x {description}", type=severity)
                failure.text = text
            else:
                out = ElementTree.SubElement(case, "system-out")
                out.text = text
        suite.set("failures", str(failures))
        return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)


def check(
    data: MonitoringData,
    month: Optional[int] = None,
    previous: Optional[MonitoringData] = None,
    rules: Optional[str] = None,
    source: str = "table",
) -> CheckReport:
    """Check a monitoring table for ``month`` (default: the last month with actuals), against
    last month's table when given, with thresholds from ``rules`` (the text of a rules TOML
    file: ``movement_without_explanation`` in pounds, default 1,000,000; ``one_off_share``,
    default 0.5). The rules are :data:`RULES`.

    Raises
    ------
    ValidationError
        For a month outside 1 to 12 or a malformed rules file.
    """
    if month is not None and (isinstance(month, bool) or not isinstance(month, int)):
        raise ValidationError(f"month: {month!r} is not a whole number")
    report = data._native.check(month, None if previous is None else previous._native, rules)
    schema = {"rule": pl.String, "severity": pl.String, "row": pl.Int64, "line_id": pl.String, "column": pl.String, "message": pl.String}
    findings = pl.DataFrame(report["findings"], schema=schema)
    return CheckReport(int(report["month"]), findings, source)
