"""Example data shipped with fiscalrisk."""

from __future__ import annotations

from importlib import resources

from .risk import RiskRegister

__all__ = ["example_register", "example_register_path"]


def example_register_path() -> str:
    """Path of the bundled example register (TOML), modelled on the risks named in Birmingham
    City Council's 2018/19 papers, with illustrative amounts."""
    return str(resources.files("fiscalrisk").joinpath("data", "birmingham_register.toml"))


def example_register() -> RiskRegister:
    """The bundled example register.

    >>> reg = example_register()
    >>> reg.periods
    ['2019/20', '2020/21', '2021/22', '2022/23']
    """
    return RiskRegister.from_toml(example_register_path())
