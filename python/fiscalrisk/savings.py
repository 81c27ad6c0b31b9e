"""Budget-reduction programmes: how much of a savings programme will be delivered, when, and
by whom; and the delivery model fitted to a council's own track record.

The delivery model of a RAG status is: the probability the saving slips a year (``p_slip``),
the probability it is delivered in full (``p_full``), and the distribution of the fraction
delivered when not in full (``partial``). The defaults (documented in the Rust ``saving``
module) are assumptions; :meth:`SavingsProgramme.calibrate` replaces them with a council's
history.

Examples
--------
>>> import fiscalrisk as fr
>>> programme = fr.SavingsProgramme([
...     {"id": "S1", "name": "Redesign", "year": "2019/20", "value": 4e6, "rag": "green", "directorate": "Place"},
...     {"id": "S2", "name": "Sale", "year": "2019/20", "value": 2e6, "rag": "red", "recurring": False},
... ])
>>> programme.view(trials=20_000, seed=1)["target"].to_list()
[6000000.0]
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Iterable, Mapping, Optional

import polars as pl

from . import _fiscalrisk as _native
from .exceptions import FiscalRiskWarning, ValidationError
from .plan import Scenario, _plain

__all__ = ["Saving", "SavingsProgramme", "RAGS", "MIN_CALIBRATION_SAVINGS"]

RAGS = ["delivered", "green", "amber", "red"]
#: Past savings a RAG status needs before its calibration replaces the default.
MIN_CALIBRATION_SAVINGS = 5
_Z90 = 1.6448536269514722  # the normal's 95th percentile: a two-sided 90% interval


def _wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson's score interval for a proportion, 90%."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + _Z90**2 / n
    centre = (p + _Z90**2 / (2 * n)) / denom
    half = _Z90 * math.sqrt(p * (1 - p) / n + _Z90**2 / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


class Saving:
    """A saving: the full-year ``value`` (exact money) due in ``year``, its ``rag`` status
    (``delivered``, ``green``, ``amber``, ``red``), whether it is ``recurring`` (it reduces the
    base budget for good) or one-off, its ``directorate``, and optionally its own ``delivery``
    model (``{"p_full": ..., "partial": {...}, "p_slip": ...}``) instead of its status's.

    >>> Saving("S-001", "Waste service redesign", "2019/20", 4_500_000, rag="amber").to_dict()["rag"]
    'amber'
    >>> Saving("S-002", "X", "2019/20", 1e6, rag="amberish")
    Traceback (most recent call last):
    ...
    fiscalrisk.exceptions.ValidationError: savings[0].rag: "amberish" is not one of delivered, green, amber, red
    """

    __slots__ = ("_data",)

    def __init__(
        self,
        id: str,
        name: str,
        year: str,
        value: Any,
        *,
        rag: str,
        recurring: bool = True,
        directorate: Optional[str] = None,
        delivery: Optional[Mapping[str, Any]] = None,
    ) -> None:
        data: dict[str, Any] = {"id": id, "name": name, "year": year, "value": value, "rag": rag, "recurring": recurring}
        if directorate is not None:
            data["directorate"] = directorate
        if delivery is not None:
            data["delivery"] = dict(delivery)
        SavingsProgramme([data])  # validates, naming the field
        self._data = data

    def to_dict(self) -> dict[str, Any]:
        """The dict form used in scenario files."""
        return dict(self._data)

    def __repr__(self) -> str:
        d = self._data
        return f"Saving({d['id']!r}, {d['name']!r}, {d['year']!r}, {d['value']!r}, rag={d['rag']!r})"


class SavingsProgramme:
    """A savings programme: savings (dicts in the scenario-file form, or a DataFrame with those
    columns) and, optionally, delivery models by RAG status that replace the defaults."""

    __slots__ = ("savings", "delivery")

    def __init__(
        self, savings: Iterable[Saving | Mapping[str, Any]] | pl.DataFrame, delivery: Optional[Mapping[str, Any]] = None
    ) -> None:
        if isinstance(savings, pl.DataFrame):
            rows = savings.to_dicts()
        else:
            rows = [s.to_dict() if isinstance(s, Saving) else dict(s) for s in savings]
        self.savings = [{k: v for k, v in r.items() if v is not None} for r in rows]
        self.delivery = dict(delivery or {})
        if not self.savings:
            raise ValidationError("savings: the programme has no savings")
        self._scenario()  # validates

    def _scenario(self) -> Scenario:
        years = []
        for i, s in enumerate(self.savings):
            label = s.get("year")
            if not isinstance(label, str) or "/" not in label:
                raise ValidationError(f"savings[{i}].year: {label!r} is not a financial year label like '2019/20'")
            years.append(int(label[:4]))
        first, last = min(years), max(years)
        data = {
            "plan": {
                "name": "savings programme",
                "first_year": f"{first}/{(first + 1) % 100:02d}",
                "years": last - first + 1,
                "net_budget": [1.0] * (last - first + 1),
            },
            "savings": self.savings,
            "savings_delivery": self.delivery,
        }
        # The net budget here only carries the savings: its scale warnings would be about it,
        # not about anything the user typed.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"plan\.net_budget|.* the net budget \(", category=FiscalRiskWarning)
            return Scenario.from_dict(_plain(data))

    def view(self, trials: int = 100_000, seed: int = 42) -> pl.DataFrame:
        """By year: ``target`` (savings the budget assumes: recurring ones from their year on,
        one-off ones in their year), ``expected_delivery``, and the shortfall's mean, P10, P50
        and P90."""
        scenario = self._scenario()
        result = scenario.simulate(trials=trials, seed=seed).by_year()
        years = result["year"].to_list()
        target = []
        for y in years:
            total = 0.0
            for s in self.savings:
                due = s["year"]
                if (s.get("recurring", True) and due <= y) or due == y:
                    total += float(s["value"])
            target.append(total)
        return pl.DataFrame(
            {
                "year": years,
                "target": target,
                "expected_delivery": [t - m for t, m in zip(target, result["gap_mean"].to_list())],
                "shortfall_mean": result["gap_mean"],
                "shortfall_p10": result["gap_p10"],
                "shortfall_p50": result["gap_p50"],
                "shortfall_p90": result["gap_p90"],
            }
        )

    def by_directorate(self, trials: int = 100_000, seed: int = 42) -> pl.DataFrame:
        """Mean shortfall over the plan by directorate (``(none)`` where none is given)."""
        drivers = self._scenario().simulate(trials=trials, seed=seed).drivers()
        directorate = {s["id"]: s.get("directorate", "(none)") for s in self.savings}
        return (
            drivers.filter(pl.col("kind") == "saving")
            .with_columns(directorate=pl.col("id").replace_strict(directorate))
            .group_by("directorate")
            .agg(shortfall_mean=pl.col("mean").sum())
            .sort("shortfall_mean", descending=True)
        )

    @staticmethod
    def calibrate(history: pl.DataFrame) -> pl.DataFrame:
        """Fit delivery models from a track record: one row per past saving with ``rag`` (when the
        budget was set) and ``fraction_delivered`` (in its due year, 0 to 1), and optionally
        ``slipped`` (true when it was delivered a year late).

        Returns one row per RAG status: ``n``, ``p_full`` with its 90% (Wilson) interval
        ``p_full_low``/``p_full_high``, ``p_slip`` and its interval, the mean partial fraction,
        ``method`` (``history``, or ``default`` with a :class:`FiscalRiskWarning` where fewer
        than :data:`MIN_CALIBRATION_SAVINGS` savings had that status), and ``delivery``: the
        model as a dict, ready for a scenario's ``savings_delivery``.
        """
        for column in ("rag", "fraction_delivered"):
            if column not in history.columns:
                raise ValidationError(f"columns: missing {column} (has {', '.join(history.columns)})")
        rows = []
        for i, r in enumerate(history.iter_rows(named=True)):
            rag = str(r["rag"]).strip().lower()
            if rag not in RAGS:
                raise ValidationError(f"history row {i + 1}: rag {r['rag']!r} is not one of delivered, green, amber, red")
            try:
                f = float(r["fraction_delivered"])
            except (TypeError, ValueError):
                raise ValidationError(f"history row {i + 1}: fraction_delivered {r['fraction_delivered']!r} is not a number") from None
            if not 0.0 <= f <= 1.0:
                raise ValidationError(f"history row {i + 1}: fraction_delivered {f!r} is outside [0, 1]")
            slipped = r.get("slipped")
            if slipped is not None and not isinstance(slipped, bool):
                parsed = _native.parse_bool(str(slipped))
                if parsed is None:
                    raise ValidationError(f"history row {i + 1}: slipped {slipped!r} is not true or false")
                slipped = parsed
            rows.append((rag, f, slipped))
        out = []
        for rag in RAGS:
            mine = [r for r in rows if r[0] == rag]
            n = len(mine)
            if n < MIN_CALIBRATION_SAVINGS:
                if rag != "delivered":
                    warnings.warn(
                        f"calibrate: {n} past {rag} savings is fewer than {MIN_CALIBRATION_SAVINGS}; the default delivery model is kept",
                        FiscalRiskWarning,
                        stacklevel=2,
                    )
                out.append({"rag": rag, "n": n, "method": "default", "delivery": None})
                continue
            full = sum(1 for r in mine if r[1] >= 1.0)
            partial = [r[1] for r in mine if r[1] < 1.0]
            slips = [r[2] for r in mine if r[2] is not None]
            p_slip = sum(slips) / len(slips) if slips else 0.0
            low, high = _wilson(full, n)
            slip_low, slip_high = _wilson(sum(slips), len(slips)) if slips else (0.0, 0.0)
            partial_spec: dict[str, Any] = (
                {"dist": "empirical", "samples": partial} if partial else {"dist": "fixed", "value": 1.0}
            )
            out.append(
                {
                    "rag": rag,
                    "n": n,
                    "p_full": full / n,
                    "p_full_low": low,
                    "p_full_high": high,
                    "p_slip": p_slip,
                    "p_slip_low": slip_low,
                    "p_slip_high": slip_high,
                    "partial_mean": sum(partial) / len(partial) if partial else None,
                    "method": "history",
                    "delivery": {"p_full": full / n, "partial": partial_spec, "p_slip": p_slip},
                }
            )
        schema = {
            "rag": pl.String, "n": pl.Int64, "p_full": pl.Float64, "p_full_low": pl.Float64, "p_full_high": pl.Float64,
            "p_slip": pl.Float64, "p_slip_low": pl.Float64, "p_slip_high": pl.Float64, "partial_mean": pl.Float64,
            "method": pl.String, "delivery": pl.Object,
        }
        return pl.DataFrame([{k: r.get(k) for k in schema} for r in out], schema=schema)
