"""Scenario sweeps: many scenarios (every council in a dataset, or a grid of assumptions), one
table.

Every scenario runs with the same ``trials`` and ``seed``. A scenario's numbers depend only on
its own inputs, the trials and the seed (never on the thread count, the machine or the order
of the sweep), so a sweep gives the same table on one machine or on a Dask cluster, and
scenarios that share risks see the same draws for them (common random numbers: differences
between scenarios are differences of assumptions, not of noise).

On a cluster, pass a ``dask.distributed.Client``: scenarios go to the workers pickled, and
each worker sends back its rows (a small table, not the result)::

    from dask.distributed import Client
    client = Client("scheduler-address:8786")   # or Client(LocalCluster(n_workers=8))
    table = fiscalrisk.sweep(scenarios, trials=100_000, seed=42, client=client)

Examples
--------
>>> import fiscalrisk as fr
>>> base = fr.examples.birmingham_2019()
>>> grid = {}
>>> for capacity in (0.01, 0.05):   # new savings each budget can find, a share of the net budget
...     d = base.to_dict()
...     d["budget_setting"]["new_savings_capacity"] = capacity
...     grid[f"capacity {capacity:.0%}"] = fr.Scenario.from_dict(d)
>>> table = fr.sweep(grid, trials=5_000, seed=1)
>>> ends = table.group_by("scenario", maintain_order=True).agg(pl.col("p_exhausted_by_end").first())
>>> ends["scenario"].to_list()
['capacity 1%', 'capacity 5%']
>>> ends["p_exhausted_by_end"][1] <= ends["p_exhausted_by_end"][0]
True
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Union

import polars as pl

from .exceptions import ValidationError
from .plan import Scenario

__all__ = ["sweep", "run_one"]

Scenarios = Union[Mapping[str, Scenario], Iterable[Scenario]]


def run_one(label: str, scenario: Scenario, trials: int, seed: int) -> pl.DataFrame:
    """One scenario's rows of the sweep: ``scenario``, then :meth:`PlanResult.by_year`'s
    columns, then ``p_exhausted_by_end``. Top-level, so that a Dask worker can import it."""
    result = scenario.simulate(trials=trials, seed=seed, progress=False)
    rows = result.by_year()
    return rows.select(
        pl.lit(label).alias("scenario"),
        pl.all(),
        pl.lit(result.p_exhausted).alias("p_exhausted_by_end"),
    )


def _labelled(scenarios: Scenarios) -> list[tuple[str, Scenario]]:
    if isinstance(scenarios, Mapping):
        items = [(str(k), v) for k, v in scenarios.items()]
    else:
        items = [(s.name if isinstance(s, Scenario) else "", s) for s in scenarios]
    for i, (_, s) in enumerate(items):
        if not isinstance(s, Scenario):
            raise ValidationError(f"scenarios[{i}]: expected a Scenario, not {type(s).__name__}")
    seen: dict[str, int] = {}
    for i, (label, _) in enumerate(items):
        if label in seen:
            raise ValidationError(
                f"scenarios[{i}]: the label {label!r} is already that of scenarios[{seen[label]}]; pass a dict of labels"
            )
        seen[label] = i
    if not items:
        raise ValidationError("scenarios: none given")
    return items


def sweep(
    scenarios: Scenarios,
    trials: int = 100_000,
    seed: int = 42,
    *,
    client: Optional[Any] = None,
) -> pl.DataFrame:
    """Simulate every scenario with the same trials and seed; one row per scenario and year.

    Parameters
    ----------
    scenarios
        A dict of label to :class:`Scenario`, or scenarios (labelled by their names, which must
        then differ).
    trials, seed
        As for :meth:`Scenario.simulate`.
    client
        A ``dask.distributed.Client``: run the scenarios on its workers. The table is the same
        as without one.

    Returns
    -------
    polars.DataFrame
        ``scenario``, the columns of :meth:`PlanResult.by_year`, and ``p_exhausted_by_end``, in
        the order the scenarios were given.
    """
    items = _labelled(scenarios)
    from ._convert import run_arguments

    trials, seed, _ = run_arguments(trials, seed, None)
    if client is None:
        parts = [run_one(label, s, trials, seed) for label, s in items]
    else:
        futures = [client.submit(run_one, label, s, trials, seed, pure=False) for label, s in items]
        parts = client.gather(futures)
    return pl.concat(parts, how="vertical")
