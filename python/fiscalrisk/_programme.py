"""The savings-programme operations that both a programme and a plan use (kept apart from
:mod:`fiscalrisk.savings` and :mod:`fiscalrisk.plan` so that neither imports the other for
them): delivery models from a calibration table, and the star chamber."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

import polars as pl

from .exceptions import ValidationError

__all__ = ["RAGS", "delivery_models", "star_chamber"]

RAGS = ["delivered", "green", "amber", "red"]


def delivery_models(fitted: Any) -> dict[str, Any]:
    """The ``savings_delivery`` table of a scenario from :meth:`fiscalrisk.SavingsProgramme.calibrate`'s
    result (the statuses fitted from history; those kept at their default are left out), or
    a dict of models as it is.

    >>> from fiscalrisk import SavingsProgramme
    >>> history = pl.DataFrame({"rag": ["green", "amber", "red"] * 5, "fraction_delivered": [1.0, 0.5, 0.0] * 5})
    >>> delivery_models(SavingsProgramme.calibrate(history))["red"]["p_full"]
    0.0
    """
    if isinstance(fitted, pl.DataFrame):
        if not {"rag", "delivery"} <= set(fitted.columns):
            raise ValidationError("delivery: expected the table SavingsProgramme.calibrate returns (rag, delivery)")
        return {r["rag"]: r["delivery"] for r in fitted.iter_rows(named=True) if r["delivery"] is not None}
    if isinstance(fitted, Mapping):
        return dict(fitted)
    raise ValidationError(f"delivery: expected a calibration table or a dict, got {type(fitted).__name__}")


def star_chamber(
    savings: list[dict[str, Any]],
    unidentified: Mapping[str, Any],
    rag: Optional[str | Iterable[str]] = None,
    ids: Optional[Iterable[str]] = None,
    contingency: Optional[Mapping[str, Any]] = None,
) -> tuple[list[dict[str, Any]], dict[str, float], pl.DataFrame]:
    """What a star chamber does to a programme: the savings judged undeliverable (by ``rag``,
    one status or several, and/or by ``ids``) are removed; the budget still needs what they
    were to save, so their value by year joins the savings still to be identified, less the
    ``contingency`` the plan held against them (£ by year), which is released. Returns the
    savings kept, the new ``unidentified`` by year, and the removed savings as a table.

    A removed recurring saving is needed from its year on (it joins ``unidentified`` there); a
    removed one-off saving only in its year, so it is released from the one-off savings the
    year relied on and the year's gap carries it instead.
    """
    rags = {rag} if isinstance(rag, str) else set(rag or ())
    unknown = rags - set(RAGS)
    if unknown:
        raise ValidationError(f"rag: {sorted(unknown)} is not one of delivered, green, amber, red")
    wanted = set(ids or ())
    known = {str(s.get("id")) for s in savings}
    if wanted - known:
        raise ValidationError(f"ids: no saving has the id {sorted(wanted - known)[0]!r}")
    if not rags and not wanted:
        raise ValidationError("without: name the savings to remove, by rag or by ids")
    removed = [s for s in savings if s.get("rag") in rags or str(s.get("id")) in wanted]
    kept = [s for s in savings if s not in removed]
    if removed and not kept:
        raise ValidationError("without: every saving would be removed; the programme would be empty")
    new = {str(k): float(v) for k, v in unidentified.items()}
    one_off: dict[str, float] = {}
    for s in removed:
        year = str(s["year"])
        if s.get("recurring", True):
            new[year] = new.get(year, 0.0) + float(s["value"])
        else:
            one_off[year] = one_off.get(year, 0.0) + float(s["value"])
    for year, amount in (contingency or {}).items():
        amount = float(amount)
        if not amount >= 0:
            raise ValidationError(f"contingency.{year!r}: {amount!r} must be an amount ≥ 0 (£)")
        if amount > new.get(str(year), 0.0) + 1e-6:
            raise ValidationError(
                f"contingency.{year!r}: {amount:,.0f} is more than the recurring savings removed from that year "
                f"({new.get(str(year), 0.0):,.0f}); a contingency is released against the savings it covered"
            )
        new[str(year)] = new.get(str(year), 0.0) - amount
    table = pl.DataFrame(
        [{k: s.get(k) for k in ("id", "name", "year", "value", "rag", "recurring")} for s in removed],
        schema={"id": pl.String, "name": pl.String, "year": pl.String, "value": pl.Float64, "rag": pl.String,
                "recurring": pl.Boolean},
        orient="row",
    )
    if one_off:
        # A one-off saving removed leaves its year's gap: a certain one-off shortfall, kept as a
        # saving that is never delivered, so the ledger still sees the one-off reliance go.
        for year, value in one_off.items():
            kept.append({"id": f"removed one-off {year}", "name": f"One-off savings removed at star chamber, {year}",
                         "year": year, "value": value, "rag": "red", "recurring": False,
                         "delivery": {"p_full": 0.0, "partial": {"dist": "fixed", "value": 0.0}, "p_slip": 0.0}})
    return kept, {k: v for k, v in new.items() if v > 0}, table
