"""Monte Carlo over a risk register.

Examples
--------
>>> import fiscalrisk as fr
>>> reg = fr.RiskRegister(
...     [fr.Risk("a", "A", 0.3, fr.Fixed(1e6)), fr.Risk("b", "B", 0.5, fr.Pert(0, 1e6, 4e6))],
...     first_year="2019/20")
>>> res = fr.simulate(reg, trials=20_000, seed=7)
>>> res.summary().columns[:4]
['period', 'mean', 'std', 'p5']
>>> 0.0 <= res.exceedance(3e6) <= 1.0
True
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import polars as pl

from . import _fiscalrisk as _native
from ._convert import html_table, pounds, real, run_arguments
from ._progress import ProgressOption, reporter
from .exceptions import ValidationError
from .risk import RiskRegister

__all__ = ["simulate", "SimulationResult", "BATCH_SIZE"]

#: Trials per batch. Batch ``b`` draws from the stream ``(seed, b)``, which is what makes
#: results independent of the number of threads.
BATCH_SIZE: int = _native.BATCH_SIZE



def simulate(
    register: RiskRegister,
    trials: int = 100_000,
    seed: int = 42,
    *,
    threads: Optional[int] = None,
    keep_trials: bool = False,
    progress: ProgressOption = True,
) -> SimulationResult:
    """Simulate a risk register.

    Per trial, each risk happens or not, its impact is drawn, shared, capped and spread over the
    years. Correlated risks share a Gaussian copula whose one latent variable per risk drives
    both whether it happens and how severe it is.

    Parameters
    ----------
    register
        The risks.
    trials
        Number of trials (1 to 10^9).
    seed
        Seed (0 to 2^64 - 1). The same seed and inputs give bit-identical results on any
        number of threads.
    threads
        Threads to use; default one per core.
    keep_trials
        Keep the trial-level table (:meth:`SimulationResult.trial_table`); otherwise only
        aggregates are kept and memory does not grow with ``trials``.
    progress
        True (the default): a progress bar once the run has taken a second; False: none; a
        callable: called as ``progress(done, total)`` (in batches) as batches finish, at most every
        50 ms.

    Returns
    -------
    SimulationResult

    Raises
    ------
    ValidationError
        For a bad trial or thread count.
    KeyboardInterrupt
        When interrupted (Ctrl-C or a notebook's stop button); no thread is left running.
    """
    if not isinstance(register, RiskRegister):
        raise ValidationError(f"register: expected a RiskRegister, got {type(register).__name__}")
    trials, seed, threads = run_arguments(trials, seed, threads)
    with reporter(progress, "simulating") as callback:
        native = _native.simulate(register._native, trials, seed, threads, keep_trials, callback)
    return SimulationResult(native, register)


class SimulationResult:
    """What a simulation found: the cost's distribution by year and over the plan, and which
    risks drive it. All tables are :class:`polars.DataFrame`."""

    __slots__ = ("_native", "_register")

    def __init__(self, native: _native.SimulationResult, register: RiskRegister) -> None:
        self._native = native
        self._register = register

    @property
    def trials(self) -> int:
        """Number of trials."""
        return self._native.trials

    @property
    def seed(self) -> int:
        """The seed."""
        return self._native.seed

    @property
    def periods(self) -> list[str]:
        """The years, then ``total``."""
        return self._native.periods()

    @property
    def register(self) -> RiskRegister:
        """The register simulated."""
        return self._register

    @property
    def tail_threshold(self) -> float:
        """The P95 of the plan total: trials at or above it are the tail."""
        return self._native.tail_threshold

    def summary(self) -> pl.DataFrame:
        """One row per year and one for the whole plan (``period == "total"``).

        Columns ``period``, ``mean``, ``std``, ``p5``, ``p10``, ``p50``, ``p90``, ``p95``,
        ``p99``, ``var95`` (value at risk: the P95), ``es95`` (expected shortfall: the mean of
        the worst 5% of trials), ``se_mean`` and ``se_p95`` (standard errors: if they are too
        large for the decision at hand, run more trials). Percentiles are the inverse of the
        empirical cdf, within 2^-10 (under 0.1%) of the exact order statistic (see the Rust
        docs of the quantile sketch); atoms (e.g. 0 when nothing happens) are exact.
        """
        return pl.DataFrame(self._native.summary())

    def exceedance(self, amount: float, period: str = "total") -> float:
        """The probability that the cost in ``period`` (a year such as ``"2019/20"``, or
        ``"total"``) exceeds ``amount``."""
        if not isinstance(period, str):
            raise ValidationError(f"period: {period!r} is not a year label such as '2019/20' or 'total'")
        return self._native.exceedance(real("amount", amount), period)

    def contributions(self, by_period: bool = False) -> pl.DataFrame:
        """Which risks drive the cost and its tail.

        Columns ``risk_id``, (``period`` when ``by_period``), ``mean`` (mean cost), ``se_mean``,
        ``tail_mean`` (mean cost in the tail trials: those whose plan total is at or above its
        P95). The ``tail_mean`` column sums to the mean plan total over the tail trials. Sort by
        ``tail_mean`` to rank the drivers of the tail.
        """
        return pl.DataFrame(self._native.contributions(by_period))

    def expected_values(self) -> pl.DataFrame:
        """The register's exact expected values (``risk_id``, ``period``, ``expected``), to set
        beside the simulated means."""
        return self._register.expected_values()

    def trial_table(self) -> pl.DataFrame:
        """The trial-level table, when the run kept it (``keep_trials=True``): one row per trial,
        with ``trial``, each year's cost, ``total``, and each risk's cost over the plan in a
        column named ``risk:<id>``.

        Raises
        ------
        FiscalRiskError
            When the run did not keep trials.
        """
        from .exceptions import FiscalRiskError

        t = self._native.trial_table()
        if t is None:
            raise FiscalRiskError("trial_table: this run did not keep trials; simulate(..., keep_trials=True)")
        periods_flat, risks_flat = t
        n = self.trials
        periods = periods_flat.reshape(n, len(self.periods))
        ids = self._native.risk_ids()
        cols: dict[str, Any] = {"trial": np.arange(n, dtype=np.int64)}
        for j, p in enumerate(self.periods):
            cols[p] = periods[:, j]
        if ids:
            risks = risks_flat.reshape(n, len(ids))
            for j, rid in enumerate(ids):
                cols[f"risk:{rid}"] = risks[:, j]
        return pl.DataFrame(cols)

    def __repr__(self) -> str:
        return f"SimulationResult({self.trials} trials, seed {self.seed}, {self.periods[0]} to {self.periods[-2]})"

    def _repr_html_(self) -> str:
        total = self.summary().filter(pl.col("period") == "total").row(0, named=True)
        return html_table(
            "SimulationResult",
            [
                ("trials", f"{self.trials:,} (seed {self.seed})"),
                ("years", f"{self.periods[0]} to {self.periods[-2]}"),
                ("mean cost over the plan", f"{pounds(total['mean'])} ± {pounds(total['se_mean'])}"),
                ("P50 / P95 / P99", " / ".join(pounds(total[k]) for k in ("p50", "p95", "p99"))),
                ("expected shortfall (worst 5%)", pounds(total["es95"])),
            ],
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._native.to_dict(), self._register))


def _rebuild(state: dict[str, Any], register: RiskRegister) -> SimulationResult:
    return SimulationResult(_native.SimulationResult.from_dict(state), register)
