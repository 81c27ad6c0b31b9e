"""Reference scenarios shipped with fiscalrisk."""

from __future__ import annotations

from importlib import resources

from .plan import Scenario

__all__ = ["birmingham_2019", "birmingham_2019_path", "woking_2023", "woking_2023_path"]


def birmingham_2019_path() -> str:
    """Path of the reference scenario's TOML file."""
    return str(resources.files("fiscalrisk").joinpath("data", "birmingham_2019.toml"))


def birmingham_2019() -> Scenario:
    """An illustrative scenario for Birmingham City Council's 2019/20 to 2022/23 plan, built from
    the figures in the council's public papers (the equal-pay risk, the Commonwealth Games 25%
    share with its cap, the Amey highways contract, Paradise Circus, waste industrial relations,
    the reserves policy); every number the papers do not give is marked as an assumption in the
    file.

    >>> s = birmingham_2019()
    >>> s.name
    'Birmingham City Council 2019/20 to 2022/23 (illustrative)'
    """
    return Scenario.from_toml(birmingham_2019_path())


def woking_2023_path() -> str:
    """Path of the Woking scenario's TOML file."""
    return str(resources.files("fiscalrisk").joinpath("data", "woking_2023.toml"))


def woking_2023() -> Scenario:
    """An illustrative scenario for Woking Borough Council, 2023/24 to 2025/26, built from public
    figures (debt of £1.8bn, £1.3bn of it lent to two companies, a net budget of £24m, MRP left
    short of the CFR): the council that failed through MRP and loans. Each source is cited in
    the file, and every figure they do not give is marked as an assumption.

    >>> s = woking_2023()
    >>> s.capital()["loan_interest"].to_list()[0]
    Decimal('0.00')
    """
    return Scenario.from_toml(woking_2023_path())
