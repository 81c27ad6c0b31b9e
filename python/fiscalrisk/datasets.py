"""Example data shipped with fiscalrisk (illustrative: see each function)."""

from __future__ import annotations

from importlib import resources

import polars as pl

from .monitoring import MonitoringData, read
from .risk import RiskRegister

__all__ = [
    "risks_and_savings_path",
    "mhclg_reserves",
    "mhclg_reserves_path",
    "mhclg_borrowing",
    "mhclg_borrowing_path",
    "example_register",
    "example_register_path",
    "monitoring_example",
    "monitoring_example_path",
    "monitoring_history",
    "dispensations",
]


def _path(name: str) -> str:
    return str(resources.files("fiscalrisk").joinpath("data", name))


def example_register_path() -> str:
    """Path of the bundled example register (TOML), modelled on the risks named in Birmingham
    City Council's 2018/19 papers, with illustrative amounts."""
    return _path("birmingham_register.toml")


def example_register() -> RiskRegister:
    """The bundled example register.

    >>> reg = example_register()
    >>> reg.periods
    ['2019/20', '2020/21', '2021/22', '2022/23']
    """
    return RiskRegister.from_toml(example_register_path())


def risks_and_savings_path() -> str:
    """Path of an illustrative Excel workbook with a risk register (sheet ``risks``) and a
    savings tracker (sheet ``savings``) as a finance team keeps them, with three deliberate
    mistakes for the library to report (made by ``scripts/make_workbook.py``).

    >>> import polars as pl
    >>> pl.read_excel(risks_and_savings_path(), sheet_name="savings").height
    5
    """
    return _path("risks_and_savings.xlsx")


def monitoring_example_path(month: int) -> str:
    """Path of the illustrative 2018/19 monitoring table for month 7 or 8 (CSV)."""
    if month not in (7, 8):
        from .exceptions import ValidationError

        raise ValidationError(f"month: the example has months 7 and 8, not {month}")
    return _path(f"monitoring_2018_19_m{month:02d}.csv")


def monitoring_example(month: int = 8) -> MonitoringData:
    """An illustrative 2018/19 monitoring table whose forecast overspend is £27m at month 7 and
    £3m at month 8, "in part using one-off savings" (Birmingham City Council, December 2018; the
    lines, budgets and actuals are illustrative, made by ``scripts/make_monitoring_example.py``).

    >>> from fiscalrisk import monitoring
    >>> m7, m8 = monitoring_example(7), monitoring_example(8)
    >>> [str(monitoring.forecast(m)["variance"][-1]) for m in (m7, m8)]
    ['27000000.00', '3000000.00']
    """
    return read(monitoring_example_path(month))


def monitoring_history() -> pl.DataFrame:
    """Five illustrative past years (2013/14 to 2017/18) of month-by-month forecasts of the
    total outturn and the outturns, for :func:`fiscalrisk.monitoring.calibrate`."""
    return pl.read_csv(_path("monitoring_history.csv"), infer_schema=False)


#: The source's known anomalies that :func:`mhclg_reserves` corrects, each checked against the
#: figures it expects before it is applied (documented in ``data/mhclg_rs_reserves_README.md``).
_BRISTOL = ("2015/16", "E0102")
_RESERVE_PAIRS = [
    ("earmarked_reserves_1apr_k", "unallocated_reserves_1apr_k"),
    ("earmarked_reserves_31mar_k", "unallocated_reserves_31mar_k"),
    ("approp_earmarked_reserves_k", "approp_unallocated_reserves_k"),
]


def mhclg_reserves_path() -> str:
    """Path of the bundled MHCLG Revenue Summary extract (CSV, £ thousand, as published)."""
    return _path("mhclg_rs_reserves_2015_2018.csv")


def mhclg_reserves(*, corrected: bool = True) -> pl.DataFrame:
    """Every English authority's reserves and financing, 2015/16 to 2017/18, from the MHCLG
    Revenue Summary (RS) returns (Open Government Licence v3.0): one row per authority and
    year, money in £ thousand as published (exact decimals). The 2017/18 figures are the
    provisional release (``RS_2017-18_data_by_LA_PRENOV.xlsx``: "Final data are to be
    published in November"): the ``provisional`` column says so on each row, and
    :func:`fiscalrisk.resilience.indicators` carries it through.

    With ``corrected`` (the default) the source's known anomalies are handled, and every
    change is written in the ``note`` column:

    - Bristol 2015/16 has its earmarked and unallocated reserves the wrong way round (its 31
      March 2016 balances are 20,000 / 87,311; the 2016/17 return opens at 87,311 / 20,000):
      they are swapped back.
    - Two combined authorities swap E-codes between 2016/17 and 2017/18 (their ONS codes and
      balances follow the names): an ONS code keeps the E-code of its latest year.
    - Renamed authorities (Shepway became Folkestone and Hythe) are named by their latest
      name; ``name_as_published`` keeps the source's.
    - Imputed or grossed returns (``data_flag`` ``I`` or ``Grossed``), whose figures the
      source suppresses, are kept with missing figures, never zeros.

    >>> df = mhclg_reserves()
    >>> df.height, df["year"].unique().sort().to_list()
    (1335, ['2015/16', '2016/17', '2017/18'])
    >>> b = df.filter(pl.col("name") == "Birmingham").sort("year")
    >>> [str(x) for x in b["unallocated_reserves_31mar_k"]]
    ['110843.000000', '100838.000000', '170469.000000']
    """
    raw = pl.read_csv(mhclg_reserves_path(), infer_schema=False)
    money = [c for c in raw.columns if c.endswith("_k")]
    df = raw.with_columns(
        pl.col(money).cast(pl.Decimal(precision=38, scale=6), strict=True),
        pl.lit(None, dtype=pl.String).alias("note"),
        pl.col("name").alias("name_as_published"),
        # The 2017/18 workbook is the release before November 2018's final figures.
        pl.col("source_file").str.contains("PRENOV", literal=True).alias("provisional"),
    )
    if not corrected:
        return df
    # Bristol 2015/16: swap back, only if the source still holds the swapped figures.
    is_bristol = (pl.col("year") == _BRISTOL[0]) & (pl.col("ecode") == _BRISTOL[1])
    row = df.filter(is_bristol)
    if row.height == 1 and str(row["unallocated_reserves_31mar_k"][0]) == "87311.000000":
        swaps = []
        for a, b in _RESERVE_PAIRS:
            swaps += [pl.when(is_bristol).then(pl.col(b)).otherwise(pl.col(a)).alias(a),
                      pl.when(is_bristol).then(pl.col(a)).otherwise(pl.col(b)).alias(b)]
        df = df.with_columns(swaps).with_columns(
            pl.when(is_bristol)
            .then(pl.lit("earmarked and unallocated reserves swapped back (as the 2016/17 return opens)"))
            .otherwise(pl.col("note"))
            .alias("note")
        )
    # One E-code per ONS code: the latest year's.
    latest = (
        df.filter(pl.col("ons_code").is_not_null())
        .sort("year")
        .group_by("ons_code")
        .agg(pl.col("ecode").last().alias("_ecode"))
    )
    df = df.join(latest, on="ons_code", how="left", maintain_order="left")
    moved = pl.col("_ecode").is_not_null() & (pl.col("_ecode") != pl.col("ecode"))
    df = df.with_columns(
        pl.when(moved)
        .then(pl.concat_str(pl.lit("E-code "), pl.col("ecode"), pl.lit(" as published; "), pl.col("ons_code"),
                            pl.lit(" is "), pl.col("_ecode"), pl.lit(" in its latest year")))
        .otherwise(pl.col("note"))
        .alias("note"),
        pl.when(moved).then(pl.col("_ecode")).otherwise(pl.col("ecode")).alias("ecode"),
    ).drop("_ecode")
    # The latest name of each authority.
    names = df.sort("year").group_by("ecode").agg(pl.col("name").last().alias("_name"))
    df = df.join(names, on="ecode", how="left", maintain_order="left")
    df = df.with_columns(pl.col("_name").alias("name")).drop("_name")
    return df


def mhclg_borrowing_path() -> str:
    """Path of the bundled MHCLG borrowing and investment extract (CSV, £ thousand)."""
    return _path("mhclg_borrowing_investment_2016_2018.csv")


def mhclg_borrowing() -> pl.DataFrame:
    """Every English authority's outstanding borrowing and investments at 31 March 2016, 2017
    and 2018, from MHCLG's "Local authority borrowing and investment live tables" (Open
    Government Licence v3.0; as reported by authorities in a quarterly survey, not audited):
    one row per authority and year, money in £ thousand as published, read as exact decimals:
    ``borrowing_k`` (every loan and security), ``pwlb_k`` (the Public Works Loan Board part)
    and ``investments_k``. Every principal council of :func:`mhclg_reserves` has a row in every
    year, joined by ``ecode`` and ``year``.

    ``name`` is each authority's latest name and ``name_as_published`` the source's (some years
    add " UA" to unitary names); ``note`` says where they differ. No figure needed correcting
    (``data/mhclg_borrowing_README.md`` lists the checks). ``class`` is the borrowing tables' own
    code (``UNIT``, ``ILB``, ``OLB``, ...); rank peers by the reserves returns' ``class``.

    >>> debt = mhclg_borrowing()
    >>> debt.height, debt["year"].unique().sort().to_list()
    (1310, ['2015/16', '2016/17', '2017/18'])
    >>> b = debt.filter(pl.col("ecode") == "E4601").sort("year")   # Birmingham
    >>> [str(x) for x in b["borrowing_k"]]
    ['3045855.000000', '3094491.000000', '3387561.000000']
    """
    raw = pl.read_csv(mhclg_borrowing_path(), infer_schema=False)
    money = ["borrowing", "pwlb", "investments"]
    df = raw.rename({c: f"{c}_k" for c in money}).with_columns(
        pl.col([f"{c}_k" for c in money]).cast(pl.Decimal(precision=38, scale=6), strict=True),
        pl.col("name").alias("name_as_published"),
    )
    names = df.sort("year").group_by("ecode").agg(pl.col("name").last().alias("_name"))
    df = df.join(names, on="ecode", how="left", maintain_order="left")
    renamed = pl.col("_name") != pl.col("name_as_published")
    return df.with_columns(
        pl.col("_name").alias("name"),
        pl.when(renamed)
        .then(pl.format("published as '{}' this year", pl.col("name_as_published")))
        .otherwise(None)
        .alias("note"),
    ).drop("_name")


def dispensations() -> pl.DataFrame:
    """The bespoke council tax referendum principles the government agreed for individual
    councils, as shipped: ``authority``, ``year``, ``additional`` (the points above the class's
    threshold: 0.025 lets a social care authority's 5% become 7.5% "or more") and ``source``.
    2025/26 only so far: the six councils of the Secretary of State's written statement on the
    final local government finance settlement 2025 to 2026 (3 February 2025). Give a council's
    own in ``funding.council_tax.dispensation = { "2025/26" = 0.025 }``: a limit, not a waiver.

    >>> t = dispensations()
    >>> t.filter(authority="Birmingham City Council").select("year", "additional").row(0)
    ('2025/26', Decimal('0.025000'))
    """
    from decimal import Decimal

    from . import _fiscalrisk

    rows = _fiscalrisk.dispensations()
    return pl.DataFrame(
        {
            "authority": [r[0] for r in rows],
            "year": [r[1] for r in rows],
            "additional": pl.Series("additional", [Decimal(r[2]) for r in rows], dtype=pl.Decimal(38, 6)),
            "source": [r[3] for r in rows],
        }
    )
