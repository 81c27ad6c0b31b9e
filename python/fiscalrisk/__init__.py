"""fiscalrisk: how likely is a public body to run out of money, and why?

Distributions of uncertain amounts, probability-weighted risk registers, and a reproducible
Monte Carlo engine written in Rust. Tables are :class:`polars.DataFrame`.

>>> import fiscalrisk as fr
>>> reg = fr.RiskRegister([fr.Risk("a", "A", 0.3, fr.Pert(1e6, 2e6, 6e6))], first_year="2019/20")
>>> fr.simulate(reg, trials=10_000, seed=1).summary()["period"].to_list()
['2019/20', 'total']
"""

from __future__ import annotations

from . import datasets, examples, excel, monitoring, plot, report, resilience, schema, tracker
from ._fiscalrisk import __version__
from ._present import present
from .distributions import (
    Discrete,
    Distribution,
    Empirical,
    Fixed,
    LogNormal,
    Normal,
    Pert,
    Triangular,
    Uniform,
)
from .exceptions import FiscalRiskError, FiscalRiskWarning, MissingDependency, ValidationError
from .plan import MinimumStatement, PlanResult, ReverseStress, Scenario, bridge, referendum_principles
from .risk import Risk, RiskRegister
from .savings import Saving, SavingsProgramme
from .simulation import BATCH_SIZE, SimulationResult, simulate
from .sweeps import sweep

__all__ = [
    "__version__",
    "BATCH_SIZE",
    "Discrete",
    "Distribution",
    "Empirical",
    "FiscalRiskError",
    "FiscalRiskWarning",
    "Fixed",
    "MinimumStatement",
    "MissingDependency",
    "LogNormal",
    "Normal",
    "Pert",
    "PlanResult",
    "ReverseStress",
    "Risk",
    "RiskRegister",
    "Scenario",
    "Saving",
    "SavingsProgramme",
    "SimulationResult",
    "Triangular",
    "Uniform",
    "ValidationError",
    "bridge",
    "datasets",
    "examples",
    "excel",
    "monitoring",
    "plot",
    "present",
    "referendum_principles",
    "report",
    "resilience",
    "schema",
    "simulate",
    "sweep",
    "tracker",
]
