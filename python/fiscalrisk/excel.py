"""A plan's results as one Excel workbook, the form a finance team passes round.

:func:`write` (and :meth:`fiscalrisk.PlanResult.to_excel`, and ``fiscalrisk simulate ... --out
results.xlsx``) writes one sheet each for the by-year table, each reserve, the drivers, the reserves
policy checks, the inputs (the report's assumptions table and the file's ``# ASSUMPTION``
comments) and an audit sheet (version, seed, trials, the SHA-256 of the inputs). Amounts are
pounds with a thousands separator (``£#,##0``), probabilities percentages: the cells hold the
numbers, so a formula on them gives the same answer as the API. Headings are for a person
("Usable reserves exhausted, by this year (cumulative)"); the first sheet, "About", pairs each
heading with its column name in the API (``p_exhausted``), and :func:`read` gives a sheet back
under those names. The workbook is written through
polars (``DataFrame.write_excel``, with XlsxWriter) to a temporary file and renamed into place,
so an interrupted run never leaves half a workbook.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence, Union

import polars as pl

from ._io import atomic_write, check_output

if TYPE_CHECKING:
    from os import PathLike

    from .plan import PlanResult

__all__ = ["write", "read", "sheets", "headings", "POUNDS", "PERCENT"]

#: The Excel number format of an amount: whole pounds, negative with a minus sign.
POUNDS = "£#,##0;-£#,##0"
#: The Excel number format of a probability.
PERCENT = "0.0%"


def _is_probability(column: str) -> bool:
    return column.startswith("p_") or column == "probability"


def sheets(result: PlanResult, source: Optional[str] = None) -> dict[str, pl.DataFrame]:
    """The workbook's sheets by name, as DataFrames (the numbers :func:`write` stores);
    ``source``, the scenario file's name, goes in the audit's command to reproduce it."""
    import shlex

    from . import __version__
    from .report import assumption_comments, assumptions, inputs_hash

    audit = pl.DataFrame(
        {
            "item": ["scenario", "fiscalrisk version", "seed", "trials", "inputs (SHA-256 of the canonical scenario TOML)",
                     "to reproduce"],
            "value": [result.scenario.name, __version__, str(result.seed), str(result.trials), inputs_hash(result),
                      f"fiscalrisk simulate {shlex.quote(source or 'SCENARIO.toml')} --trials {result.trials} "
                      f"--seed {result.seed} --out results.xlsx"],
        }
    )
    out = {
        "By year": result.by_year(),
        "Reserves": result.reserves_by_year(),
        "Drivers": result.drivers().select("kind", "id", "name", "mean", "exhausted_mean"),
        "Policy checks": result.policy_breaches(),
        "Inputs": assumptions(result.scenario),
        "ASSUMPTION comments": assumption_comments(result.scenario.source_text),
        "Audit": audit,
    }
    provisions = result.provisions_by_year()
    if provisions.height:  # a sheet only for a plan with provisions
        out = {**dict(list(out.items())[:2]), "Provisions": provisions, **dict(list(out.items())[2:])}
    return out


def headings(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The "About" sheet: for each sheet's column, its ``heading`` in the workbook and its
    ``column`` name in the API (the DataFrames :func:`sheets` returns)."""
    from ._present import heading

    rows = [(sheet, heading(sheet, c), c) for sheet, frame in tables.items() for c in frame.columns]
    return pl.DataFrame(rows, schema={"sheet": pl.String, "heading": pl.String, "column": pl.String}, orient="row")


def read(path: Union[str, "PathLike[str]"], sheet: str) -> pl.DataFrame:
    """A sheet of a workbook :func:`write` wrote, under the API's column names (the "About"
    sheet maps headings back), so code written against :meth:`PlanResult.by_year` reads it.

    >>> import tempfile, pathlib, fiscalrisk as fr
    >>> result = fr.examples.birmingham_2019().simulate(trials=2_000, seed=1, progress=False)
    >>> out = fr.excel.write(result, pathlib.Path(tempfile.mkdtemp()) / "results.xlsx")
    >>> fr.excel.read(out, "By year")["year"].to_list()
    ['2019/20', '2020/21', '2021/22', '2022/23']
    """
    from .exceptions import ValidationError

    path = Path(path)
    try:
        about = pl.read_excel(path, sheet_name="About", infer_schema_length=0)
    except FileNotFoundError:
        raise
    except Exception as e:  # polars' error for a missing sheet or a file that is not a workbook
        raise ValidationError(f"{path}: not a workbook fiscalrisk wrote (no readable \"About\" sheet: "
                              f"{type(e).__name__})") from None
    mine = about.filter(pl.col("Sheet") == sheet)
    if mine.height == 0:
        known = ", ".join(dict.fromkeys(about["Sheet"].to_list()))
        raise ValidationError(f"sheet: {sheet!r} is not one of the workbook's sheets ({known})")
    frame = pl.read_excel(path, sheet_name=sheet, infer_schema_length=0 if sheet in _TEXT_SHEETS else 100)
    return frame.rename(dict(zip(mine["Heading"].to_list(), mine["Column"].to_list())), strict=False)


#: Sheets whose cells are all text (read back without inferring numbers).
_TEXT_SHEETS = ("Inputs", "ASSUMPTION comments", "Audit", "About")


def _write_workbook(result: PlanResult, path: str, source: Optional[str] = None) -> None:
    try:
        from xlsxwriter import Workbook  # type: ignore[import-untyped]
    except ModuleNotFoundError as e:  # a dependency; only a broken install lacks it
        from .exceptions import MissingDependency

        raise MissingDependency("xlsxwriter", "excel") from e
    # Every text cell is written as text: a name such as ``=2+2`` or ``=HYPERLINK(...)`` typed in
    # a scenario must not become a live formula or link in the committee's workbook (XlsxWriter's
    # defaults turn strings that start with "=" into formulas and URLs into links).
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    from ._present import heading

    tables = sheets(result, source)
    about = headings(tables).rename({"sheet": "Sheet", "heading": "Heading", "column": "Column"})
    with Workbook(path, options) as workbook:
        for name, frame in {"About": about, **tables}.items():
            formats = {
                heading(name, c): (PERCENT if _is_probability(c) else POUNDS)
                for c, dtype in frame.schema.items()
                if dtype.is_float()
            }
            if name != "About":
                frame = frame.rename({c: heading(name, c) for c in frame.columns})
            frame.write_excel(workbook, worksheet=name, column_formats=formats,  # type: ignore[arg-type]
                              autofit=True, freeze_panes=(1, 0))


def write(
    result: PlanResult, path: Union[str, "PathLike[str]"], *, inputs: Sequence[Union[str, "PathLike[str]"]] = ()
) -> Path:
    """Writes the workbook to ``path`` (``.xlsx``) atomically; never over one of ``inputs``.

    >>> import tempfile, pathlib, polars as pl, fiscalrisk as fr
    >>> result = fr.examples.birmingham_2019().simulate(trials=2_000, seed=1, progress=False)
    >>> out = fr.excel.write(result, pathlib.Path(tempfile.mkdtemp()) / "results.xlsx")
    >>> pl.read_excel(out, sheet_name="By year")["Year"].to_list()
    ['2019/20', '2020/21', '2021/22', '2022/23']
    """
    target = Path(path)
    check_output(target, [Path(i) for i in inputs], (".xlsx",), option="path")
    source = str(inputs[0]) if inputs else None
    atomic_write(target, lambda tmp: _write_workbook(result, tmp, source))
    return target
