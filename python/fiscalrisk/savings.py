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
from ._convert import name_frame_row
from .exceptions import FiscalRiskWarning, ValidationError
from ._programme import RAGS, delivery_models, star_chamber
from .plan import PlanResult, Scenario, _plain

__all__ = ["Saving", "SavingsProgramme", "RAGS", "MIN_CALIBRATION_SAVINGS", "delivery_models", "star_chamber"]

#: Past savings a RAG status needs before its calibration replaces the default.
MIN_CALIBRATION_SAVINGS = 5
_Z90 = 1.6448536269514722  # the normal's 95th percentile: a two-sided 90% interval


def _wilson_rate(p: float, n: float) -> tuple[float, float]:
    """Wilson's 90% score interval for a rate ``p`` observed on ``n`` (possibly effective,
    not whole) trials."""
    if n == 0:
        return (0.0, 1.0)
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
    columns) and, optionally, ``delivery``: models by RAG status that replace the defaults, with
    ``programme_correlation``, ``directorate_correlation`` and a model for ``unidentified``
    savings (as a scenario's ``savings_delivery``), or the table :meth:`calibrate` returns;
    and ``unidentified``: savings still to be identified by due year (£), never delivered
    unless ``delivery`` gives them a model.

    >>> p = SavingsProgramme([{"id": "S1", "name": "x", "year": "2016/17", "value": 105.4e6, "rag": "green"}],
    ...                      unidentified={"2016/17": 166.7e6, "2017/18": 86.6e6})
    >>> v = p.view(trials=5_000, seed=1)
    >>> v.select("year", "target", "unidentified").rows()
    [('2016/17', 272100000.0, 166700000.0), ('2017/18', 358700000.0, 253300000.0)]
    """

    __slots__ = ("savings", "delivery", "unidentified", "removed", "tracker", "before")

    def __init__(
        self,
        savings: Iterable[Saving | Mapping[str, Any]] | pl.DataFrame,
        delivery: Optional[Mapping[str, Any] | pl.DataFrame] = None,
        unidentified: Optional[Mapping[str, Any]] = None,
    ) -> None:
        if isinstance(savings, pl.DataFrame):
            rows = savings.to_dicts()
        else:
            rows = [s.to_dict() if isinstance(s, Saving) else dict(s) for s in savings]
        self.savings = [{k: v for k, v in r.items() if v is not None} for r in rows]
        self.delivery = delivery_models(delivery) if delivery is not None else {}
        self.unidentified = dict(unidentified or {})
        #: The tracker it was read from (:meth:`from_tracker`), if any.
        self.tracker: Optional[Any] = None
        #: The programme a star chamber started from (:meth:`without`), if any.
        self.before: Optional[SavingsProgramme] = None
        #: The savings a star chamber removed (:meth:`without`); empty otherwise.
        self.removed = pl.DataFrame(schema={"id": pl.String, "name": pl.String, "year": pl.String, "value": pl.Float64,
                                            "rag": pl.String, "recurring": pl.Boolean})
        if not self.savings:
            raise ValidationError("savings: the programme has no savings")
        try:
            self._scenario()  # validates
        except ValidationError as e:
            if not isinstance(savings, pl.DataFrame) or "id" not in savings.columns:
                raise
            # A sheet's error names its row there and the saving's id.
            raise name_frame_row(e, "savings", savings["id"].to_list()) from None

    def _scenario(self, until: Optional[str] = None) -> Scenario:
        years = [] if until is None else [_native.financial_year_start(until)]
        for year in self.unidentified:
            try:
                years.append(_native.financial_year_start(str(year)))
            except ValidationError as e:
                raise ValidationError(f"unidentified.{year!r}: {e}") from None
        for i, s in enumerate(self.savings):
            label = s.get("year")
            if not isinstance(label, str):
                raise ValidationError(f"savings[{i}].year: {label!r} is not a financial year label like '2019/20'")
            try:
                years.append(_native.financial_year_start(label))  # the core's reading of a year
            except ValidationError as e:
                raise ValidationError(f"savings[{i}].year: {e}") from None
        first, last = min(years[1:] if until is not None and len(years) > 1 else years), max(years)
        data = {
            "plan": {
                "name": "savings programme",
                "first_year": f"{first}/{(first + 1) % 100:02d}",
                "years": last - first + 1,
                "net_budget": [1.0] * (last - first + 1),
            },
            "savings": self.savings,
            "savings_delivery": self.delivery,
            "unidentified": self.unidentified,
        }
        # The net budget here only carries the savings: its scale warnings would be about it,
        # not about anything the user typed.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"plan\.net_budget|.* the net budget \(", category=FiscalRiskWarning)
            return Scenario.from_dict(_plain(data))

    @classmethod
    def from_tracker(cls, tracker: Any, delivery: Optional[Mapping[str, Any] | pl.DataFrame] = None) -> SavingsProgramme:
        """The programme as a month's savings tracker (:mod:`fiscalrisk.tracker`) has it: each
        saving the budget still counts on, at this month's RAG status. A tracker with an
        unreadable cell is refused (run :func:`fiscalrisk.tracker.check` for all of them).

        >>> import fiscalrisk as fr
        >>> t = fr.tracker.read(pl.DataFrame({"id": ["S1", "S2"], "year": ["2019/20"] * 2,
        ...     "value": ["4000000", "2000000"], "rag": ["amber", "red"],
        ...     "forecast_delivery": ["3000000", "0"], "counted_in_budget": ["yes", "no"]}))
        >>> [s["id"] for s in SavingsProgramme.from_tracker(t).savings]
        ['S1']
        """
        from .tracker import check

        report = check(tracker)
        bad = report.findings.filter(pl.col("rule").is_in(["unreadable-cell", "duplicate-saving-id"]))
        if bad.height:
            raise ValidationError(f"tracker: {bad['message'][0]} ({bad.height} such problems; fiscalrisk.tracker.check lists them)")
        savings = []
        for r in tracker.rows.iter_rows(named=True):
            if not r["counted_in_budget"]:
                continue
            saving = {"id": r["id"], "name": r["name"] or r["id"], "year": r["year"], "value": r["value"], "rag": r["rag"]}
            if r["directorate"]:
                saving["directorate"] = r["directorate"]
            savings.append(saving)
        out = cls(savings, delivery=delivery)
        out.tracker = tracker
        return out

    def expected_delivery(self) -> pl.DataFrame:
        """Each saving's expected delivery in its due year under its delivery model (£):
        ``id``, ``rag``, ``value``, ``expected``."""
        from .distributions import Distribution

        models = {**_native.default_delivery_models(), **{k: v for k, v in self.delivery.items() if k in RAGS}}
        rows = []
        for sv in self.savings:
            m = sv.get("delivery") or models[str(sv["rag"]).lower()]
            fraction = (1 - m["p_slip"]) * (m["p_full"] + (1 - m["p_full"]) * Distribution.from_dict(m["partial"]).mean())
            rows.append((str(sv["id"]), str(sv["rag"]).lower(), float(sv["value"]), float(sv["value"]) * fraction))
        return pl.DataFrame(rows, schema={"id": pl.String, "rag": pl.String, "value": pl.Float64, "expected": pl.Float64},
                            orient="row")

    def movement(self, previous: SavingsProgramme) -> pl.DataFrame:
        """What moved since ``previous`` (last month's programme), saving by saving: ``id``,
        ``status`` (``added``, ``removed``, ``moved``, ``unchanged``), ``rag_before``,
        ``rag_after``, ``value_before``, ``value_after``, ``expected_before``,
        ``expected_after`` (expected due-year delivery, £), ``change`` (after less before),
        and, from the trackers when both came from one, ``forecast_before``,
        ``forecast_after`` and this month's ``explanation``. Largest change first: the
        movement of the programme's expected delivery, explained line by line."""
        now, then = self.expected_delivery(), previous.expected_delivery()
        table = then.join(now, on="id", how="full", coalesce=True, suffix="_after").rename(
            {"rag": "rag_before", "value": "value_before", "expected": "expected_before"}
        )
        table = table.with_columns(
            pl.col("expected_before").fill_null(0.0), pl.col("expected_after").fill_null(0.0)
        ).with_columns(
            change=pl.col("expected_after") - pl.col("expected_before"),
            status=pl.when(pl.col("rag_before").is_null()).then(pl.lit("added"))
            .when(pl.col("rag_after").is_null()).then(pl.lit("removed"))
            .when((pl.col("rag_before") != pl.col("rag_after")) | (pl.col("value_before") != pl.col("value_after")))
            .then(pl.lit("moved")).otherwise(pl.lit("unchanged")),
        )

        def tracked(t: Any, name: str) -> pl.DataFrame:
            if t is None:
                return pl.DataFrame(schema={"id": pl.String, name: pl.Float64, "explanation": pl.String})
            rows: pl.DataFrame = t.rows
            return rows.select("id", pl.col("forecast_delivery").cast(pl.Float64).alias(name), "explanation")

        table = table.join(tracked(previous.tracker, "forecast_before").drop("explanation"), on="id", how="left")
        table = table.join(tracked(self.tracker, "forecast_after"), on="id", how="left")
        columns = ["id", "status", "rag_before", "rag_after", "value_before", "value_after", "expected_before",
                   "expected_after", "change", "forecast_before", "forecast_after", "explanation"]
        return table.select(columns).sort(pl.col("change").abs(), descending=True)

    def without(
        self,
        rag: Optional[str | Iterable[str]] = None,
        ids: Optional[Iterable[str]] = None,
        contingency: Optional[Mapping[str, Any]] = None,
    ) -> SavingsProgramme:
        """The programme after a star chamber: the savings judged undeliverable (``rag="red"``,
        several statuses, or a list of ``ids``) removed, their value now still to be identified
        (a certain shortfall unless new savings are found), less any ``contingency`` the plan
        held against them (£ by year), released. What was removed is the returned programme's
        ``removed`` table; set its :meth:`view` beside this one's for the effect on the gap.

        >>> p = SavingsProgramme([
        ...     {"id": "A", "name": "a", "year": "2020/21", "value": 10e6, "rag": "green"},
        ...     {"id": "B", "name": "b", "year": "2020/21", "value": 4e6, "rag": "red"}])
        >>> after = p.without(rag="red", contingency={"2020/21": 1e6})
        >>> after.removed["id"].to_list(), after.unidentified
        (['B'], {'2020/21': 3000000.0})
        """
        kept, unidentified, removed = star_chamber(self.savings, self.unidentified, rag, ids, contingency)
        out = SavingsProgramme(kept, delivery=self.delivery, unidentified=unidentified)
        out.removed = removed
        out.before = self
        return out

    def effect(self, trials: int = 100_000, seed: int = 42, *, until: Optional[str] = None) -> pl.DataFrame:
        """A star chamber's effect on the gap, by year: the shortfall's mean and P90 before
        (the programme :meth:`without` started from) and after, and the change in the mean (the
        same trials and seed for both), to the later programme's last year or ``until``.

        >>> p = SavingsProgramme([
        ...     {"id": "A", "name": "a", "year": "2020/21", "value": 10e6, "rag": "green"},
        ...     {"id": "B", "name": "b", "year": "2020/21", "value": 4e6, "rag": "red"}])
        >>> e = p.without(rag="red", contingency={"2020/21": 1e6}).effect(trials=20_000, seed=1)
        >>> e.columns
        ['year', 'shortfall_mean_before', 'shortfall_mean_after', 'change', 'shortfall_p90_before', 'shortfall_p90_after']
        """
        if self.before is None:
            raise ValidationError("effect: this programme did not come from without(); there is nothing to compare")
        years = self.view(trials=1, seed=seed)["year"].to_list() + self.before.view(trials=1, seed=seed)["year"].to_list()
        last = max(years + ([until] if until else []))
        after = self.view(trials=trials, seed=seed, until=last)
        before = self.before.view(trials=trials, seed=seed, until=last)
        joined = before.select("year", "shortfall_mean", "shortfall_p90").join(
            after.select("year", "shortfall_mean", "shortfall_p90"), on="year", how="full", coalesce=True, suffix="_after"
        ).fill_null(0.0).sort("year")
        return joined.select(
            "year",
            pl.col("shortfall_mean").alias("shortfall_mean_before"),
            "shortfall_mean_after",
            (pl.col("shortfall_mean_after") - pl.col("shortfall_mean")).alias("change"),
            pl.col("shortfall_p90").alias("shortfall_p90_before"),
            "shortfall_p90_after",
        )

    def simulate(self, trials: int = 100_000, seed: int = 42, *, until: Optional[str] = None) -> PlanResult:
        """The programme alone as a plan (no pressures, risks or reserves): each year's gap is
        the programme's shortfall plus one-off savings' fall-out from the base budget, so
        :meth:`fiscalrisk.PlanResult.exceedance` gives P(gap > amount),
        :meth:`fiscalrisk.PlanResult.savings_shortfall` the shortfall itself and ``drivers()``
        each saving's part. Years as in :meth:`view`.

        >>> p = SavingsProgramme([{"id": "S1", "name": "x", "year": "2019/20", "value": 10e6, "rag": "red"}])
        >>> p.simulate(trials=20_000, seed=1).exceedance(0.0, "2019/20") > 0.5  # red: usually short
        True
        """
        return self._scenario(until).simulate(trials=trials, seed=seed, progress=False)

    def view(self, trials: int = 100_000, seed: int = 42, *, until: Optional[str] = None) -> pl.DataFrame:
        """By year: ``target`` (savings the budget assumes: recurring ones from their year on,
        one-off ones in their year, and those still to be identified), ``unidentified`` (the
        part of the target still to be identified), ``expected_delivery``, and the shortfall's
        mean, P10, P50 and P90. The years run from the first saving's to the last's, or to
        ``until`` (a year label) when it is later: a recurring saving's shortfall lasts."""
        shortfall = self.simulate(trials=trials, seed=seed, until=until).savings_shortfall()
        # Still to be identified: recurring, so each year's amount stays in later targets.
        unidentified = [sum((float(v) for due, v in self.unidentified.items() if due <= y), 0.0)
                        for y in shortfall["year"].to_list()]
        return shortfall.select(
            "year", "target", pl.Series("unidentified", unidentified, dtype=pl.Float64), "expected_delivery",
            "shortfall_mean", "shortfall_p10", "shortfall_p50", "shortfall_p90",
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
        budget was set) and ``fraction_delivered`` (the fraction delivered in its due year, 0 to
        1); optionally ``slipped`` (true when it was delivered late), ``fraction_delivered_later``
        (what a slipped saving delivered in the end) and ``value`` (its full-year value, £).

        Each past saving is counted once, in the state the model has for it: a slipped saving
        counts towards ``p_slip``, and towards ``p_full`` and the partial fraction only through
        what it delivered in the end, when ``fraction_delivered_later`` gives it (its zero in the
        due year is the slip itself, not a failure to deliver). With a ``value`` column, rates are
        value-weighted (a £20m saving counts 20 times a £1m one), with the unweighted rates
        beside them; intervals are 90% Wilson intervals on the effective number of savings
        (Kish: ``(sum of values)^2 / sum of squared values``).

        Returns one row per RAG status: ``n``, ``value``, ``p_full`` with its interval
        ``p_full_low``/``p_full_high`` and ``p_full_unweighted``, likewise ``p_slip``, the mean
        partial fraction, ``expected_due_year`` (the share delivered in the due year the model
        expects), ``method`` (``history``, or ``default`` with a :class:`FiscalRiskWarning`
        where fewer than :data:`MIN_CALIBRATION_SAVINGS` savings had that status), and
        ``delivery``: the model as a dict. Pass the table itself to
        :meth:`fiscalrisk.Scenario.with_savings_delivery` or to :class:`SavingsProgramme`.

        Examples
        --------
        Eight savings delivered in full and two that slipped: 80% delivered in the due year.

        >>> history = pl.DataFrame({"rag": ["green"] * 10 + ["amber"] * 10 + ["red"] * 10,
        ...                         "fraction_delivered": ([1.0] * 8 + [0.0] * 2) * 3,
        ...                         "slipped": ([False] * 8 + [True] * 2) * 3})
        >>> row = SavingsProgramme.calibrate(history).filter(pl.col("rag") == "amber").row(0, named=True)
        >>> round(row["expected_due_year"], 3), row["p_slip"], row["p_full"]
        (0.8, 0.2, 1.0)
        """
        for column in ("rag", "fraction_delivered"):
            if column not in history.columns:
                raise ValidationError(f"columns: missing {column} (has {', '.join(history.columns)})")
        weighted = "value" in history.columns

        def fraction(i: int, column: str, value: Any) -> float:
            try:
                f = float(value)
            except (TypeError, ValueError):
                raise ValidationError(f"history row {i + 1}: {column} {value!r} is not a number") from None
            if not 0.0 <= f <= 1.0:
                raise ValidationError(f"history row {i + 1}: {column} {f!r} is outside [0, 1]")
            return f

        rows: list[tuple[str, float, Optional[bool], Optional[float]]] = []
        weights: list[float] = []
        for i, r in enumerate(history.iter_rows(named=True)):
            rag = str(r["rag"]).strip().lower()
            if rag not in RAGS:
                raise ValidationError(f"history row {i + 1}: rag {r['rag']!r} is not one of delivered, green, amber, red")
            f = fraction(i, "fraction_delivered", r["fraction_delivered"])
            slipped = r.get("slipped")
            if slipped is not None and not isinstance(slipped, bool):
                parsed = _native.parse_bool(str(slipped))
                if parsed is None:
                    raise ValidationError(f"history row {i + 1}: slipped {slipped!r} is not true or false")
                slipped = parsed
            later_text = r.get("fraction_delivered_later")
            later = None if later_text is None else fraction(i, "fraction_delivered_later", later_text)
            if later is not None and not slipped:
                raise ValidationError(
                    f"history row {i + 1}: fraction_delivered_later is given but the saving did not slip "
                    "(what it delivered is fraction_delivered)"
                )
            w = 1.0
            if weighted:
                try:
                    w = float(r["value"])
                except (TypeError, ValueError):
                    raise ValidationError(f"history row {i + 1}: value {r['value']!r} is not a number") from None
                if not (w > 0 and math.isfinite(w)):
                    raise ValidationError(f"history row {i + 1}: value {w!r} must be a positive amount (£)")
            rows.append((rag, f, slipped, later))
            weights.append(w)

        def rate(hits: list[tuple[bool, float]]) -> tuple[float, float, float, float]:
            """Weighted rate, its interval on the effective count, and the unweighted rate."""
            total = sum(w for _, w in hits)
            p = sum(w for h, w in hits if h) / total
            n_eff = total**2 / sum(w * w for _, w in hits)
            low, high = _wilson_rate(p, n_eff)
            return p, low, high, sum(1 for h, _ in hits if h) / len(hits)

        out = []
        for rag in RAGS:
            mine = [(r, w) for r, w in zip(rows, weights) if r[0] == rag]
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
            # What each saving delivered in the end: in its due year, or later when it slipped.
            outcomes = [(r[1] if not r[2] else r[3], w) for r, w in mine]
            known = [(f, w) for f, w in outcomes if f is not None]
            slips = [(bool(r[2]), w) for r, w in mine if r[2] is not None]
            p_slip, slip_low, slip_high, slip_unweighted = rate(slips) if slips else (0.0, 0.0, 0.0, 0.0)
            if known:
                p_full, low, high, full_unweighted = rate([(f >= 1.0, w) for f, w in known])
            else:  # every saving slipped and none says what it delivered later
                p_full, low, high, full_unweighted = 1.0, 0.0, 1.0, 1.0
            partial = [(f, w) for f, w in known if f < 1.0]
            if not partial:
                partial_spec: dict[str, Any] = {"dist": "fixed", "value": 1.0}
                partial_mean = None
            elif weighted:
                partial_spec = {"dist": "discrete", "values": [f for f, _ in partial], "weights": [w for _, w in partial]}
                partial_mean = sum(f * w for f, w in partial) / sum(w for _, w in partial)
            else:
                partial_spec = {"dist": "empirical", "samples": [f for f, _ in partial]}
                partial_mean = sum(f for f, _ in partial) / len(partial)
            mean_fraction = p_full + (1 - p_full) * (partial_mean if partial_mean is not None else 1.0)
            out.append(
                {
                    "rag": rag,
                    "n": n,
                    "value": sum(w for _, w in mine) if weighted else None,
                    "p_full": p_full,
                    "p_full_low": low,
                    "p_full_high": high,
                    "p_full_unweighted": full_unweighted,
                    "p_slip": p_slip,
                    "p_slip_low": slip_low,
                    "p_slip_high": slip_high,
                    "p_slip_unweighted": slip_unweighted,
                    "partial_mean": partial_mean,
                    "expected_due_year": (1 - p_slip) * mean_fraction,
                    "method": "history",
                    "delivery": {"p_full": p_full, "partial": partial_spec, "p_slip": p_slip},
                }
            )
        schema = {
            "rag": pl.String, "n": pl.Int64, "value": pl.Float64, "p_full": pl.Float64, "p_full_low": pl.Float64,
            "p_full_high": pl.Float64, "p_full_unweighted": pl.Float64, "p_slip": pl.Float64, "p_slip_low": pl.Float64,
            "p_slip_high": pl.Float64, "p_slip_unweighted": pl.Float64, "partial_mean": pl.Float64,
            "expected_due_year": pl.Float64, "method": pl.String, "delivery": pl.Object,
        }
        return pl.DataFrame([{k: r.get(k) for k in schema} for r in out], schema=schema)
