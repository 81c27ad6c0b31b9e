"""Example data shipped with fiscalrisk (illustrative: see each function)."""

from __future__ import annotations

from importlib import resources

import polars as pl

from .monitoring import MonitoringData, read
from .risk import RiskRegister

__all__ = [
    "example_register",
    "example_register_path",
    "monitoring_example",
    "monitoring_example_path",
    "monitoring_history",
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
