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

import io
import json
from decimal import Decimal
from os import PathLike
from pathlib import Path
from typing import Any, Optional, Sequence, Union
from xml.etree import ElementTree

import polars as pl

from . import _fiscalrisk as _native
from .distributions import Distribution
from .exceptions import ValidationError

__all__ = [
    "MonitoringData",
    "CheckReport",
    "Calibration",
    "read",
    "check",
    "calibrate",
    "forecast",
    "backtest",
    "overspend_distribution",
    "RULES",
]

Source = Union[str, "PathLike[str]", pl.DataFrame]

#: Every rule the check applies: (name, severity, what it means), from the core's one catalogue
#: (``fiscalrisk::monitoring::RULES``), so a rule can never be missing from an output.
RULES: list[tuple[str, str, str]] = [(r["name"], r["severity"], r["description"]) for r in _native.monitoring_rules()]
_DECIMAL = pl.Decimal(precision=38, scale=2)


class MonitoringData:
    """A monthly monitoring table: the DataFrame as given (all columns kept) and its exact
    reading."""

    __slots__ = ("frame", "_native")

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame
        self._native = _native.MonitoringTable.from_columns(_text_columns(frame))

    @property
    def last_month(self) -> int:
        """The last month with actuals on any line (0 when none has)."""
        return self._native.last_month_with_actuals()

    def check(
        self,
        month: Optional[int] = None,
        previous: Optional[MonitoringData] = None,
        rules: Optional[str] = None,
        calibration: Optional[Calibration] = None,
    ) -> CheckReport:
        """See :func:`check`."""
        return check(self, month=month, previous=previous, rules=rules, calibration=calibration)

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
    return MonitoringData(_frame(source))


class CheckReport:
    """What :func:`check` found: ``findings`` as a DataFrame, the exit code, and the text, JSON
    and JUnit XML forms."""

    __slots__ = ("month", "findings", "source", "rules")

    def __init__(self, month: int, findings: pl.DataFrame, source: str,
                 rules: Optional[list[tuple[str, str, str]]] = None) -> None:
        self.month = month
        self.findings = findings
        self.source = source
        #: The catalogue checked (:data:`RULES`, or the savings tracker's): JUnit has a case for each.
        self.rules = RULES if rules is None else rules

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
        """For people: one line per finding, then a summary. Control characters in a table's
        text (a line id, a file name) are written as escapes, never sent to the terminal."""
        lines = []
        for raw in self.findings.iter_rows(named=True):
            f = {k: _printable(v) if isinstance(v, str) else v for k, v in raw.items()}
            # The place as the core's own messages give it: row 5 ("ADU-01"), column m07 (the
            # row in the sheet or file, the headings being row 1).
            where = ""
            if f["row"] is not None:
                where = f"row {f['row']}" + (f' ("{f["line_id"]}")' if f["line_id"] else "")
            elif f["line_id"]:
                where = f'line "{f["line_id"]}"'
            if f["column"]:
                where = f"{where}, column {f['column']}" if where else f"column {f['column']}"
            # A message that names its own row and column is not prefixed with them again; it
            # reads as the others do: error[rule] row 2 ("ADU-01"), column X: ...
            head = f"{f['severity']}[{f['rule']}]"
            if f["row"] is not None and f["message"].startswith(f"row {f['row']} ("):
                lines.append(f"{head} {f['message']}")
            else:
                lines.append(f"{head} {where}: {f['message']}" if where else f"{head}: {f['message']}")
        verdict = "FAIL" if self.exit_code(strict) else "OK"
        def count(n: int, word: str) -> str:
            return f"{n} {word}" if n == 1 else f"{n} {word}s"

        when = f", month {self.month}" if self.month else ""
        lines.append(f"{verdict}: {_printable(self.source)}{when}: {count(self.errors, 'error')}, {count(self.warnings, 'warning')}")
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
        suite = ElementTree.Element("testsuite", name="fiscalrisk check", tests=str(len(self.rules)))
        failures = 0
        for name, severity, description in self.rules:
            # XML 1.0 cannot hold control characters, even escaped: they are written as
            # backslash escapes, so the report stays well-formed whatever the file is called.
            case = ElementTree.SubElement(suite, "testcase", classname=f"fiscalrisk.check.{_printable(self.source)}",
                                          name=name)
            hits = self.findings.filter(pl.col("rule") == name)
            if hits.height == 0:
                continue
            text = "\n".join(_printable(m) for m in hits["message"].to_list())
            if severity == "error" or strict:
                failures += 1
                failure = ElementTree.SubElement(case, "failure", message=f"{hits.height} x {description}", type=severity)
                failure.text = text
            else:
                out = ElementTree.SubElement(case, "system-out")
                out.text = text
        suite.set("failures", str(failures))
        return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)


def _printable(text: str) -> str:
    """``text`` with every character that is not printable (controls, terminal escapes,
    surrogates) written as a backslash escape: safe for a terminal and for XML."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii") for c in text)


def check(
    data: MonitoringData,
    month: Optional[int] = None,
    previous: Optional[MonitoringData] = None,
    rules: Optional[str] = None,
    source: str = "table",
    calibration: Optional[Calibration] = None,
) -> CheckReport:
    """Check a monitoring table for ``month`` (default: the last month with actuals), against
    last month's table when given, with thresholds from ``rules`` (the text of a rules TOML
    file: ``movement_without_explanation`` in pounds, default 1,000,000; ``one_off_share``,
    default 0.5). The rules are :data:`RULES`; ``forecast-outside-band`` applies only when a
    ``calibration`` (from the council's history) is given.

    Raises
    ------
    ValidationError
        For a month outside 1 to 12 or a malformed rules file.
    """
    _whole_month(month)
    report = data._native.check(
        month,
        None if previous is None else previous._native,
        rules,
        None if calibration is None else calibration._data,
    )
    schema = {"rule": pl.String, "severity": pl.String, "row": pl.Int64, "line_id": pl.String, "column": pl.String, "message": pl.String}
    findings = pl.DataFrame(report["findings"], schema=schema)
    return CheckReport(int(report["month"]), findings, source)


def _text_columns(frame: pl.DataFrame) -> list[tuple[str, list[Optional[str]]]]:
    text = frame.select(pl.all().cast(pl.String))
    return [(name, text[name].to_list()) for name in text.columns]


def _frame(source: Source) -> pl.DataFrame:
    if isinstance(source, pl.DataFrame):
        return source
    return read_table(source)


def read_table(source: Union[str, "PathLike[str]"]) -> pl.DataFrame:
    """A CSV (every column as text), Excel or Parquet file as a DataFrame: exactly the file named
    (a path is never a glob pattern), a regular file within the size limit. A column header
    given twice is refused; rows whose cells are all empty are skipped."""
    import csv
    import io

    from ._convert import read_bytes

    path = Path(source)
    data = read_bytes(path)
    suffix = path.suffix.lower()
    limit = _native.MAX_MONITORING_ROWS
    columns = _native.MAX_TABLE_COLUMNS
    too_many = ValidationError(f"{path}: more than the {limit} rows a monitoring table may have")
    if suffix in (".xlsx", ".xlsm"):
        _check_xlsx_extent(path, data, limit + 1, columns)
    elif suffix == ".parquet":
        _check_parquet_extent(path, data, limit, columns)
    elif suffix != ".xls":
        # Counted before parsing, every line ending alike (a CR-only file is one line to a
        # count of LF): a file of short rows, or one of a million columns, cannot exhaust memory.
        if max(data.count(b"\n"), data.count(b"\r")) > limit + 1:
            raise too_many
        end = min((i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0), default=len(data))
        if data[:end].count(b",") + 1 > columns:
            raise ValidationError(f"{path}: more than the {columns} columns a table may have")
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            # Every cell as text, as a CSV is read: a TRUE cell in an amount column reaches the
            # core as "true" and is refused, where a typed read made it 1 (issue 38).
            frame = pl.read_excel(io.BytesIO(data), read_options={"n_rows": limit + 1}, infer_schema_length=0)
            # The header row as written (the reader renames a repeated one to budget_1).
            top = pl.read_excel(io.BytesIO(data), has_header=False, read_options={"n_rows": 1}, infer_schema_length=0)
            headers = ["" if v is None else str(v) for v in top.row(0)] if top.height else []
        elif suffix == ".parquet":
            frame = pl.read_parquet(io.BytesIO(data), n_rows=limit + 1)
            headers = frame.columns
        else:
            first = data.decode("utf-8-sig", errors="replace").splitlines()[:1]
            headers = next(csv.reader(first), []) if first else []
            try:
                frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
            except Exception:
                _check_csv_rows(path, data, len(headers))  # names the row, when that is it
                raise
    except ValidationError:
        raise
    except Exception as e:  # polars', fastexcel's and the OS's errors alike: unreadable input
        raise ValidationError(_native.clip_message(f"{path}: cannot be read as a table: {e}")) from None
    if frame.height > limit:
        raise too_many
    seen: set[str] = set()
    for h in headers:
        if h.strip() in seen:
            raise ValidationError(f"{path}: the column {h.strip()!r} appears twice in the header")
        seen.add(h.strip())
    if frame.width:
        # One pass: a row is dropped when every cell, as text, is empty.
        blank = pl.all_horizontal([
            pl.col(c).is_null() | (pl.col(c).cast(pl.String).str.strip_chars() == "") for c in frame.columns
        ])
        frame = frame.filter(~blank)
    return frame


def _column_number(letters: bytes) -> int:
    n = 0
    for c in letters:
        n = n * 26 + (c - 64)
    return n


def _check_xlsx_extent(path: Path, data: bytes, rows: int, columns: int) -> None:
    """Refuses an xlsx workbook the reader would blow up in memory, before it reads it: a part
    that unpacks to more than ``MAX_XLSX_PART_BYTES`` (one huge cell), or a sheet with a cell
    beyond ``rows`` or ``columns`` (the reader allocates the whole used range: one cell at
    XFD1048576 asked for 512 GiB; issue 38, item 8). A file that is not a zip is left to the
    reader's own error."""
    import re
    import zipfile

    cap = _native.MAX_XLSX_PART_BYTES
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return
    with book:
        for info in book.infolist():
            if info.file_size > cap:
                raise ValidationError(
                    f"{path}: the workbook part {info.filename} unpacks to {info.file_size:,} bytes, "
                    f"more than the {cap:,} a table may hold"
                )
        cell = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')
        for name in book.namelist():
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            xml = book.read(name)
            for m in cell.finditer(xml):
                col, row = _column_number(m.group(1)), int(m.group(2))
                if col > columns or row > rows:
                    ref = (m.group(1) + m.group(2)).decode()
                    what = (f"more than the {rows - 1} rows a monitoring table may have" if row > rows
                            else f"more than the {columns} columns a table may have")
                    raise ValidationError(
                        f"{path}: cell {ref} makes the sheet {what} (a stray cell far from the table? "
                        "delete it in Excel)"
                    )


def _check_csv_rows(path: Path, data: bytes, width: int) -> None:
    """Names the first row with more fields than the header (where the parser says only
    "more fields than defined in 'Schema'"): most often an amount with thousands separators
    written without quotes (28,056,000)."""
    import csv

    text = data.decode("utf-8-sig", errors="replace")
    # Rows as a spreadsheet numbers them: the headings are row 1.
    for number, fields in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        if number > 1 and len(fields) > width:
            grouped = [f for f in fields if f.strip().isdigit() and len(f.strip()) == 3]
            hint = (" (an amount with thousands separators, such as 28,056,000, must be in quotes or "
                    "written without them)") if grouped else ""
            raise ValidationError(
                f"{path}: row {number} has {len(fields)} fields but the header has {width}{hint}"
            )


def _check_parquet_extent(path: Path, data: bytes, rows: int, columns: int) -> None:
    """Refuses a parquet file of more than ``columns`` columns from its schema, before reading
    (rows are bounded by the read itself)."""
    try:
        width = len(pl.read_parquet_schema(io.BytesIO(data)))
    except Exception:  # not parquet: the reader names it
        return
    if width > columns:
        raise ValidationError(f"{path}: more than the {columns} columns a table may have ({width})")


class Calibration:
    """How far month-``k`` forecasts of the outturn have been from outturns, as shares of the
    budget: ``table`` has one row per month with ``bias`` (mean of (outturn - forecast) /
    budget: positive when forecasts were optimistic), ``spread`` (its standard deviation),
    ``multiplier`` (of the spread for P10 and P90) and ``method`` (``history``, or ``default``
    where fewer than three years were available)."""

    __slots__ = ("_data",)

    def __init__(self, data: Any) -> None:
        self._data = data

    @classmethod
    def default(cls) -> Calibration:
        """The documented default, used without history: no bias, a spread of 3% of the budget
        at month 1 falling to 0.5% at month 12."""
        return cls(_native.monitoring_calibrate(None))

    @property
    def table(self) -> pl.DataFrame:
        """One row per month."""
        return pl.DataFrame(self._data["months"])

    def interval(self, month: int, budget: float, forecast: float) -> tuple[float, float, float]:
        """The P10, P50 and P90 of the outturn for a month-``month`` forecast."""
        ((p10, p50, p90),) = _native.monitoring_intervals(self._data, month, [(float(budget), float(forecast))])
        return p10, p50, p90

    def __repr__(self) -> str:
        methods = set(self.table["method"].to_list())
        return f"Calibration({', '.join(sorted(methods))})"


def calibrate(history: Optional[Source] = None) -> Calibration:
    """Measure forecast bias and spread by month from past years: a table (or file) with one row
    per year and month: ``year``, ``month`` (1 = April), ``budget``, ``forecast_outturn`` (the
    forecast made that month) and ``outturn`` (the final outturn). Months with fewer than three
    years keep the default, and say so in ``method``. Without history, the default.

    >>> calibrate().table["method"].unique().to_list()
    ['default']
    """
    if history is None:
        return Calibration.default()
    return Calibration(_native.monitoring_calibrate(_text_columns(_frame(history))))


def _whole_month(month: Any) -> None:
    """A month must be a whole number (a bool or a float is refused here, where Python's types
    are known); its range, 1 to 12, is the core's check (``reported_month``)."""
    if month is not None and (isinstance(month, bool) or not isinstance(month, int)):
        raise ValidationError(f"month: {month!r} is not a whole number")
    if month is not None and not -(2**63) <= month < 2**63:
        raise ValidationError(f"month: {month} is not between 1 and 12")


def forecast(
    data: MonitoringData,
    month: Optional[int] = None,
    calibration: Optional[Calibration] = None,
    profile: Optional[Sequence[Any]] = None,
) -> pl.DataFrame:
    """Forecasts per line and in total (``TOTAL`` last): the managers' ``forecast_outturn`` as
    reported, the ``run_rate`` from actuals, and ``p10``, ``p50``, ``p90`` of the outturn around
    the managers' forecast, from ``calibration`` (default: :meth:`Calibration.default`; line
    intervals use the same shares of each line's budget). Beside the headline ``variance``
    (forecast less budget), ``underlying_variance`` adds back the one-off mitigations: the
    position without one-off measures. ``method`` says where the interval comes from."""
    _whole_month(month)
    k = data.last_month if month is None else month
    if month is None and k == 0:
        raise ValidationError(
            "month: the table has no actuals (m01 to m12 are all empty), so there is no month to "
            "forecast from; fill in the months to date or give month="
        )
    # The core checks the month (1 to 12) before anything else uses it.
    rr = dict(data._native.run_rate(k, None if profile is None else [str(x) for x in profile]))
    cal = calibration or Calibration.default()
    wanted = ("budget", "forecast_outturn", "one_off_mitigations")
    for b in data._native.bad_cells():
        if b["column"] in wanted:
            raise ValidationError(
                f"row {b['row']} ({b['line_id']!r}), column {b['column']}: {b['text']!r} {b['problem']}"
            )
    # The lines must add up to the TOTAL row, which the hand-over to a plan reads (issue 38,
    # item 6: a line changed to 1e15 beside an unchanged TOTAL gave the same result).
    for f in data._native.check(k, None, None, None)["findings"]:
        if f["severity"] == "error" and f["rule"] in ("totals", "no-total-row", "duplicate-line-id"):
            where = f"row {f['row']} ({f['line_id']!r}), column {f['column']}: " if f.get("column") else ""
            raise ValidationError(f"{where}{f['message']} (rule {f['rule']}); fix the table before forecasting")
    rows = data._native.lines()
    ids = [r["line_id"] for r in rows]
    budget, managers, one_off = ([_money(r[c]) for r in rows] for c in wanted)
    pairs = [(float(b or 0), float(m or 0)) for b, m in zip(budget, managers)]
    intervals = _native.monitoring_intervals(cal._data, k, pairs)
    variance, underlying = ([_money(v[i]) for v in data._native.variances()] for i in (0, 1))
    method = cal.table["method"][k - 1]
    return pl.DataFrame(
        {
            "line_id": ids,
            "budget": pl.Series(budget, dtype=_DECIMAL),
            "forecast_outturn": pl.Series(managers, dtype=_DECIMAL),
            "run_rate": pl.Series([_money(rr.get(i)) for i in ids], dtype=_DECIMAL),
            "p10": [i[0] for i in intervals],
            "p50": [i[1] for i in intervals],
            "p90": [i[2] for i in intervals],
            "variance": pl.Series(variance, dtype=_DECIMAL),
            "one_off_mitigations": pl.Series(one_off, dtype=_DECIMAL),
            "underlying_variance": pl.Series(underlying, dtype=_DECIMAL),
            "method": [method] * len(ids),
        }
    )


def backtest(history: Source) -> pl.DataFrame:
    """How good past forecasts were, by month: ``years``, ``bias`` and ``mae`` in pounds
    (outturn - forecast), and ``coverage``: the share of years whose outturn fell inside the
    P10-P90 interval calibrated on the other years (about 0.8 when the intervals are honest)."""
    rows = _native.monitoring_backtest(_text_columns(_frame(history)))
    schema = {"month": pl.Int64, "years": pl.Int64, "bias": pl.Float64, "mae": pl.Float64, "coverage": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def overspend_distribution(
    data: MonitoringData, month: Optional[int] = None, calibration: Optional[Calibration] = None
) -> Distribution:
    """The year's overspend (outturn less budget, for the ``TOTAL`` row) as a
    :class:`~fiscalrisk.Normal` with the calibrated forecast's P10 and P90: what the in-year
    position takes from the reserves a financial plan starts from. The calibrated interval is a
    Student-t prediction interval; matching a normal to its P10 and P90 is an approximation
    that thins its far tails slightly.
    """
    overspend, _ = _in_year_position(forecast(data, month=month, calibration=calibration))
    return overspend


def _in_year_position(frame: pl.DataFrame) -> tuple[Distribution, Decimal]:
    """The ``TOTAL`` row of a forecast table as the plan's in-year hand-over: the overspend as a
    :class:`~fiscalrisk.Normal` with the calibrated P10 and P90, and the one-off mitigations."""
    from .distributions import Normal

    f = frame.row(-1, named=True)
    if f["line_id"] != "TOTAL" or f["budget"] is None or f["p10"] is None:
        raise ValidationError("the table needs a TOTAL row with a budget and a forecast to give an overspend")
    # The hand-over reads the TOTAL row: the lines must add up to it, to the penny.
    lines = frame.filter(pl.col("line_id") != "TOTAL")
    for column in ("budget", "forecast_outturn", "one_off_mitigations"):
        if column not in frame.columns:
            continue
        total = f[column]
        cells = [Decimal(str(v)) for v in lines[column].to_list() if v is not None]
        stated = Decimal(0) if total is None else Decimal(str(total))
        if cells and sum(cells, Decimal(0)) != stated:
            raise ValidationError(
                f"{column}: the lines add to £{sum(cells, Decimal(0)):,.2f} but the TOTAL row says £{stated:,.2f}; "
                "the hand-over reads the TOTAL row, so the lines must add up to it"
            )
    budget = float(f["budget"])
    z90 = 1.2815515655446004
    sd = (f["p90"] - f["p10"]) / (2 * z90)
    if not sd > 0:
        raise ValidationError(
            f"budget: the TOTAL row's budget is {f['budget']}, so the calibrated interval (a share of the "
            "budget) has no width and the overspend no spread to hand over; give the budget"
        )
    mitigations = f["one_off_mitigations"] if f["one_off_mitigations"] is not None else Decimal(0)
    return Normal(f["p50"] - budget, sd), mitigations
