"""The medium-term financial plan, simulated: how likely is the council to breach its reserves
policy or run out of reserves, in which year, and why?

Examples
--------
>>> import fiscalrisk as fr
>>> s = fr.Scenario.from_dict({
...     "plan": {"name": "Two years", "first_year": "2019/20", "years": 2, "net_budget": [100e6, 102e6]},
...     "pressures": [{"name": "Care demand", "amount": {"dist": "fixed", "value": 5e6},
...                    "first_year": "2019/20", "recurring": True}],
...     "reserves": {"general_fund": 8e6}})
>>> s.simulate(trials=1000, seed=1).by_year().select("year", "gap_mean", "reserves_p50", "p_exhausted").rows()
[('2019/20', 5000000.0, 3000000.0, 0.0), ('2020/21', 5000000.0, -2000000.0, 1.0)]
"""

from __future__ import annotations

import warnings
from decimal import Decimal
from os import PathLike
from pathlib import Path
from typing import Any, Mapping, Optional, Union

import numpy as np
import polars as pl

from . import _fiscalrisk as _native
from ._convert import html_table, json_object, pounds, read_json_object, read_path, run_arguments, user_stacklevel, utf8_text
from ._progress import ProgressOption, reporter
from .distributions import Distribution
from .exceptions import FiscalRiskWarning, ValidationError

__all__ = ["Scenario", "PlanResult", "ReverseStress", "bridge", "referendum_principles"]


def _plain(obj: Any) -> Any:
    """Python data for the core: Decimals as exact text, numpy scalars as Python numbers."""
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


class Scenario:
    """A financial plan: years and net budget, pressures, savings with delivery models, risks
    with correlations, reserves and the reserves policy. Load it from TOML (:meth:`from_toml`),
    JSON (:meth:`from_json`) or a dict (:meth:`from_dict`); errors name the key path (and, for
    TOML, the line): ``savings[12].rag: "amberish" is not one of delivered, green, amber, red``.
    """

    __slots__ = ("_native", "_source")

    def __init__(self, native: _native.Scenario, source: Optional[str] = None) -> None:
        self._native = native
        self._source = source
        level = user_stacklevel()
        for message in native.warnings():
            warnings.warn(message, FiscalRiskWarning, stacklevel=level)

    @classmethod
    def from_toml(cls, path: Union[str, "PathLike[str]"]) -> Scenario:
        """From a TOML file (a path); :meth:`from_toml_str` reads TOML text. Errors name the key
        path and the file's line."""
        return cls.from_toml_str(read_path(path, "from_toml"))

    @classmethod
    def from_toml_str(cls, text: str) -> Scenario:
        """From TOML text (the contents of a scenario file)."""
        if not isinstance(text, str):
            raise ValidationError(f"from_toml_str: expected TOML text (a str), got {type(text).__name__}")
        return cls(_native.Scenario.from_toml(utf8_text(text, "TOML text")), text)

    @property
    def source_text(self) -> Optional[str]:
        """The TOML text it was read from (with its comments: sources, assumptions), if any."""
        return self._source

    @classmethod
    def from_json(cls, path: Union[str, "PathLike[str]"]) -> Scenario:
        """From a JSON file (a path); :meth:`from_json_str` reads JSON text."""
        return cls.from_dict(read_json_object(path, "from_json"))

    @classmethod
    def from_json_str(cls, text: str) -> Scenario:
        """From JSON text."""
        return cls.from_dict(json_object(text))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """From the dict form (as in a TOML or JSON file)."""
        try:
            return cls(_native.Scenario.from_dict(_plain(data)))
        except RecursionError:
            raise ValidationError("scenario: nested too deeply") from None

    def to_dict(self) -> dict[str, Any]:
        """The dict form."""
        d: dict[str, Any] = self._native.to_dict()
        return d

    def to_toml(self) -> str:
        """TOML that :meth:`from_toml` reads back into an equal scenario."""
        return self._native.to_toml()

    def to_json(self) -> str:
        """JSON that :meth:`from_json` reads back into an equal scenario."""
        import json

        return json.dumps(self.to_dict(), indent=2)

    def ledger(self) -> pl.DataFrame:
        """The plan as an exact ledger, for a scenario with no uncertainty. By year, as exact
        decimals (to the penny): ``gap``, ``recurring_gap`` (its recurring part still open after
        the management response), ``carried_gap`` (the recurring gap the next budget must close,
        with the year's one-off savings, which fall out), ``capitalised`` (the part of the gap a
        capitalisation direction funds: one year's money, at most the gap), ``closed_by_council_tax`` and
        ``closed_by_new_savings`` (with a budget set every year, what the year's budget closed, planned),
        ``efs`` and ``efs_cost`` (with ``[efs]``, the exceptional support capitalised at the year's end and
        the MRP and interest on earlier support inside the year's gap), ``treasury_cost`` (with
        ``[treasury]``, the net interest lost on cash below its level at the plan's start, inside
        the year's gap), ``drawn_from_reserves``,
        ``policy_breach`` (reserves funding recurring spending against the policy),
        ``general_fund``, ``usable_earmarked``, ``usable_reserves``, ``minimum`` (the general
        fund's, a prudence level) and ``deficit_brought_forward`` (usable reserves below zero,
        which the next budget must provide for); and ``below_minimum``, ``exhausted``, ``s114``
        and ``s114_reason``: the statutory test at the year's end, ``"in_year"`` when usable
        reserves end the year below ``policy.s114_floor`` (s114(3) of the Local Government
        Finance Act 1988), ``"budget"`` when the next budget cannot be balanced, the recurring gap
        carried in and the deficit brought forward exceeding usable reserves above the floor
        (s31A of the Local Government Finance Act 1992), null when neither fails (both:
        ``"in_year"``). Each reserve's balance is in :meth:`reserves_ledger`.

        It runs the same year arithmetic as :meth:`simulate`.

        Raises
        ------
        ValidationError
            Naming the first input that is uncertain.

        Examples
        --------
        >>> import fiscalrisk as fr
        >>> s = fr.Scenario.from_dict({
        ...     "plan": {"name": "m", "first_year": "2019/20", "years": 4, "net_budget": [100e6] * 4,
        ...              "management_response": 0.5},
        ...     "pressures": [{"name": "Care", "amount": {"dist": "fixed", "value": 10e6}, "first_year": "2019/20"}],
        ...     "reserves": {"general_fund": 50e6}})
        >>> [str(g) for g in s.ledger()["gap"]]
        ['10000000.00', '5000000.00', '2500000.00', '1250000.00']
        """
        from ._convert import money_out

        rows = self._native.ledger()
        money = ["gap", "recurring_gap", "carried_gap", "capitalised", "closed_by_council_tax", "closed_by_new_savings",
                 "efs", "efs_cost", "treasury_cost", "drawn_from_reserves", "policy_breach", "general_fund", "usable_earmarked", "usable_reserves", "minimum",
                 "deficit_brought_forward"]
        dtype = pl.Decimal(precision=38, scale=2)
        return pl.DataFrame(
            {
                "year": [r["year"] for r in rows],
                **{c: pl.Series(c, [money_out(r[c]) for r in rows], dtype=dtype) for c in money},
                "below_minimum": [r["below_minimum"] for r in rows],
                "exhausted": [r["exhausted"] for r in rows],
                "s114": [r["s114"] for r in rows],
                "s114_reason": pl.Series("s114_reason", [r["s114_reason"] for r in rows], dtype=pl.String),
            }
        )

    def reserves_ledger(self) -> pl.DataFrame:
        """Each reserve's uncommitted balance at the end of each year, exactly: ``reserve``
        (``general_fund``, then the earmarked reserves in file order), ``year`` and ``balance``,
        for a scenario with no uncertainty (see :meth:`ledger`)."""
        from ._convert import money_out

        rows = self._native.ledger()
        out = [(name, r["year"], money_out(balance)) for r in rows for name, balance in r["reserves"]]
        out.sort(key=lambda t: self.reserve_names.index(t[0]))
        return pl.DataFrame(
            out, schema={"reserve": pl.String, "year": pl.String, "balance": pl.Decimal(precision=38, scale=2)}, orient="row"
        )

    @property
    def net_budget(self) -> list[Decimal]:
        """The net budget by year: ``plan.net_budget``, or, for a scenario with ``[funding]``
        and no net budget typed, the central case's funding (what a ``percent_of_budget``
        minimum and the resilience ratios use)."""
        return [Decimal(x) for x in self._native.net_budget()]

    @property
    def reserve_names(self) -> list[str]:
        """The reserves as results name them: ``general_fund``, then each earmarked reserve."""
        return self._native.reserve_names()

    def risk_matrix_minimum(self) -> float:
        """The risk-matrix minimum general fund balance (``policy.minimum_general_fund =
        { risk_matrix = [...] }``): each risk's impact (its mean cost if it occurs; a recurring
        risk's annual cost) times its likelihood band's provision factor, summed. 0 when the
        policy sets the minimum another way."""
        return self._native.risk_matrix_minimum()

    def without(self, rag: Any = None, ids: Any = None, contingency: Optional[Mapping[str, Any]] = None) -> Scenario:
        """This plan after a star chamber (:func:`fiscalrisk.savings.star_chamber`): the savings
        judged undeliverable (by ``rag`` and/or ``ids``) removed, their value still to be
        identified from their year (the scenario's ``unidentified``), less the ``contingency``
        (£ by year) the plan held against them, released.

        >>> import fiscalrisk as fr
        >>> s = fr.examples.birmingham_2019().without(rag="red")
        >>> s.to_dict()["unidentified"]  # S-006 (£7m, 2020/21) and S-008 (£6m, 2021/22)
        {'2020/21': 7000000.0, '2021/22': 6000000.0}
        """
        from ._programme import star_chamber

        data = self.to_dict()
        kept, unidentified, _ = star_chamber(data.get("savings", []), data.get("unidentified") or {}, rag, ids, contingency)
        data["savings"] = kept
        data["unidentified"] = unidentified
        return Scenario.from_dict(data)

    def with_savings_delivery(self, delivery: Any) -> Scenario:
        """This scenario with the delivery models of ``delivery``: the table
        :meth:`fiscalrisk.SavingsProgramme.calibrate` returns (the statuses it fitted replace
        the scenario's; the others are kept), or a dict in the ``savings_delivery`` form. The
        programme and directorate correlations are kept unless the dict gives them.

        Examples
        --------
        >>> import fiscalrisk as fr, polars as pl
        >>> history = pl.DataFrame({"rag": ["green"] * 10 + ["amber"] * 10 + ["red"] * 10,
        ...                         "fraction_delivered": ([1.0] * 8 + [0.0] * 2) * 3,
        ...                         "slipped": ([False] * 8 + [True] * 2) * 3})
        >>> s = fr.examples.birmingham_2019().with_savings_delivery(fr.SavingsProgramme.calibrate(history))
        >>> s.to_dict()["savings_delivery"]["amber"]["p_slip"], s.to_dict()["savings_delivery"]["programme_correlation"]
        (0.2, 0.3)
        """
        from ._programme import delivery_models

        data = self.to_dict()
        merged = dict(data.get("savings_delivery") or {})
        merged.update(delivery_models(delivery))
        data["savings_delivery"] = merged
        return Scenario.from_dict(data)

    def with_opening_overspend(self, overspend: Distribution) -> Scenario:
        """This scenario with the current year's overspend alone (e.g.
        :func:`fiscalrisk.monitoring.overspend_distribution`) met from reserves before the
        plan's first year. It carries no recurring part: prefer :meth:`with_in_year`."""
        data = self.to_dict()
        data.pop("in_year", None)
        data["opening_overspend"] = overspend.to_dict()
        return Scenario.from_dict(data)

    def with_in_year(self, forecast: Any, calibration: Any = None, *, in_base: bool = False) -> Scenario:
        """This scenario with the in-year position handed over from budget monitoring: a
        forecast table (:func:`fiscalrisk.monitoring.forecast`) or the monitoring data itself
        (forecast with ``calibration``, by default the documented one). Both parts carry:

        - the year's overspend (the ``TOTAL`` row's calibrated outturn less budget, as a normal
          distribution) is met from reserves before the plan's first year;
        - the underlying overspend, that plus the one-off mitigations inside it, recurs in the
          base budget of every year of the plan (``[in_year] one_off_mitigations``), unless
          ``in_base``: the plan's budgets were set after the forecast and already carry it.

        Examples
        --------
        >>> import fiscalrisk as fr
        >>> m8 = fr.datasets.monitoring_example(8)
        >>> s = fr.examples.birmingham_2019().with_in_year(m8)
        >>> float(s.to_dict()["in_year"]["one_off_mitigations"])  # month 8's one-off measures
        9000000.0
        """
        from . import monitoring

        if not isinstance(forecast, (pl.DataFrame, monitoring.MonitoringData)):
            raise ValidationError(
                f"with_in_year: expected monitoring data or its forecast table, got {type(forecast).__name__}; "
                "for an overspend given as a distribution, write [in_year] overspend = {...} in the scenario"
            )
        frame = forecast if isinstance(forecast, pl.DataFrame) else monitoring.forecast(forecast, calibration=calibration)
        overspend, mitigations = monitoring._in_year_position(frame)
        data = self.to_dict()
        data.pop("opening_overspend", None)
        data["in_year"] = {"overspend": overspend.to_dict(), "one_off_mitigations": str(mitigations), "in_base": in_base}
        return Scenario.from_dict(data)

    def mtfs(self, case: str = "central") -> pl.DataFrame:
        """The medium-term financial strategy table by year, exact to the penny, for a named
        deterministic case: ``central`` (every uncertain input at its mean), ``optimistic`` or
        ``pessimistic`` (each uncertain driver, grant, pressure and in-year overspend at its 10th
        or 90th percentile, whichever lowers or raises the gap; savings as planned).

        Columns: ``year``; funding by source (``council_tax``, ``business_rates``, ``grants``,
        ``fees_and_charges``, ``other_funding``: the typed net budget of a scenario without
        ``[funding]``) and ``funding``; ``spending_lines``, ``pressures`` (with the underlying
        in-year overspend), ``capital_financing`` (see :meth:`capital`) and ``spending``; ``gap_before_savings`` (spending less funding);
        ``savings`` (recurring savings due by the year, one-off savings due in it);
        ``gap_after_savings`` (negative: a surplus); ``savings_required_to_balance``; and, with
        council tax, ``band_d``, ``band_d_increase_to_balance`` (the rise in Band D that would
        close the gap instead), ``council_tax_equivalent`` (that rise as a fraction of Band D)
        and ``breaches_referendum_limit``. Risks are not in the MTFS: they are what reserves are
        for (see :meth:`PlanResult.mtfs`).

        Examples
        --------
        >>> import fiscalrisk as fr
        >>> s = fr.Scenario.from_dict({
        ...     "plan": {"name": "m", "first_year": "2024/25", "years": 2},
        ...     "drivers": [{"name": "pay", "rate": 0.03}],
        ...     "funding": {"council_tax": {"tax_base": 100_000, "band_d": 2000,
        ...                                 "core_increase": 0.0299, "asc_precept": 0.02}},
        ...     "spending": [{"name": "Pay", "base": 200e6, "drivers": {"pay": 1.0}}]})
        >>> t = s.mtfs()
        >>> [str(x) for x in t["council_tax"]]  # Band D 2,099.80, then 2,204.58
        ['209980000.00', '220458000.00']
        >>> bool((t["funding"] - t["spending"] == -t["gap_before_savings"]).all())
        True
        """
        from ._convert import money_out

        rows = self._native.mtfs(case)
        dtype = pl.Decimal(precision=38, scale=2)
        money = ["council_tax", "business_rates", "grants", "fees_and_charges", "other_funding", "funding",
                 "spending_lines", "pressures", "capital_financing", "spending", "gap_before_savings", "savings",
                 "gap_after_savings",
                 "savings_required_to_balance", "band_d", "band_d_increase_to_balance"]
        columns: dict[str, Any] = {"year": [r["year"] for r in rows]}
        for c in money:
            columns[c] = pl.Series(c, [None if r[c] is None else money_out(r[c]) for r in rows], dtype=dtype)
        columns["council_tax_equivalent"] = pl.Series(
            "council_tax_equivalent",
            [None if r["council_tax_equivalent"] is None else float(money_out(r["council_tax_equivalent"])) for r in rows],
            dtype=pl.Float64,
        )
        columns["breaches_referendum_limit"] = pl.Series(
            "breaches_referendum_limit", [r["breaches_referendum_limit"] for r in rows], dtype=pl.Boolean
        )
        return pl.DataFrame(columns)

    def mtfs_lines(self, case: str = "central") -> pl.DataFrame:
        """Each funding source and spending line by year in a case (the detail behind
        :meth:`mtfs`): ``year``, ``side`` (``funding`` or ``spending``), ``kind``
        (``council_tax``, ``business_rates``, ``grant``, ``fees``, ``other_funding``; ``line``,
        ``pressure``), ``name`` and ``amount`` (exact)."""
        from ._convert import money_out

        rows = self._native.mtfs_lines(case)
        return pl.DataFrame(
            [(r["year"], r["side"], r["kind"], r["name"], money_out(r["amount"])) for r in rows],
            schema={"year": pl.String, "side": pl.String, "kind": pl.String, "name": pl.String,
                    "amount": pl.Decimal(precision=38, scale=2)},
            orient="row",
        )

    def sensitivities(self) -> pl.DataFrame:
        """The gap after savings' change per 1% of each input, by year, exact from the central
        case (the table a section 25 report carries): ``input``, ``year``, ``change_per_1pct``
        (positive: a larger gap). Inputs: each driver (one percentage point more on its rate in
        every year), ``council_tax_increase`` (one point more on the core increase every year),
        ``tax_base`` (1% more), ``business_rates_growth`` (one point more a year), ``grants``
        (1% more) and ``savings_delivery`` (1% of planned savings not delivered).

        Examples
        --------
        >>> import fiscalrisk as fr
        >>> s = fr.Scenario.from_dict({
        ...     "plan": {"name": "m", "first_year": "2024/25", "years": 2},
        ...     "drivers": [{"name": "pay", "rate": 0.02}],
        ...     "funding": {"council_tax": {"tax_base": 100_000, "band_d": 2000}},
        ...     "spending": [{"name": "Pay", "base": 100e6, "drivers": {"pay": 1.0}}]})
        >>> t = s.sensitivities().filter(input="pay")
        >>> [str(x) for x in t["change_per_1pct"]]  # 100m x 1%, then 100m x (1.03^2 - 1.02^2)
        ['1000000.00', '2050000.00']
        """
        from ._convert import money_out

        rows = self._native.sensitivities()
        return pl.DataFrame(
            [(r["input"], r["year"], money_out(r["change_per_1pct"])) for r in rows],
            schema={"input": pl.String, "year": pl.String, "change_per_1pct": pl.Decimal(precision=38, scale=2)},
            orient="row",
        )

    def capital(self) -> pl.DataFrame:
        """The capital plan by year, exact (empty without ``[capital]``): ``cfr_start``,
        ``borrowing`` (the programme's, capitalisation directions' and in place of flexible
        receipts), ``capitalised`` (directions), ``flexible_receipts``, ``mrp`` (charged),
        ``mrp_required`` (by the stated policies) and ``mrp_below_policy``; ``mrp_prudent``,
        what the statutory guidance on MRP (5th edition, April 2024) requires (at most a
        50-year life on unsupported borrowing, 20 years on a direction, 4% of the reducing
        balance on supported borrowing, no part of the CFR left out, each year's new credit loss
        on loans), and ``mrp_imprudent``, why the MRP charged falls short of it (null when it
        does not; ``capital.enforce_prudent_mrp`` charges it); ``mrp_from_receipts``, capital
        receipts set aside in place of MRP (flagged from 2025/26); ``loan_interest`` and
        ``credit_loss`` on ``capital.loans``; ``cfr_end``, ``debt_end``, ``interest``,
        ``investment_income``, ``commercial_income``, ``revenue_contributions``,
        ``financing_cost`` (MRP + interest + revenue contributions - investment, commercial and
        loan income), ``budgeted`` and
        ``gap_effect`` (the cost beyond what is budgeted, less capitalisation directions and
        flexible receipts that fund the year's gap: what enters the gap). Uncertain project
        inputs (``slippage``, ``overrun``, ``receipts_shortfall``) are at their means and a
        borrowing rate from a driver at the driver's mean; ``simulate`` draws them.

        Examples
        --------
        >>> import fiscalrisk as fr
        >>> s = fr.Scenario.from_dict({
        ...     "plan": {"name": "c", "first_year": "2024/25", "years": 3, "net_budget": [500e6] * 3},
        ...     "capital": {"opening_cfr": 100e6, "opening_debt": 80e6, "debt_rate": 0.04, "borrowing_rate": 0.05,
        ...                 "mrp": {"method": "straight_line", "years": 50},
        ...                 "programme": [{"name": "Depot", "spend": {"2024/25": 10e6},
        ...                                "mrp": {"method": "straight_line", "years": 5}}]}})
        >>> c = s.capital()
        >>> [str(x) for x in c["mrp"]]  # 100m / 50; then with the depot's 10m / 5 from the next year
        ['2000000.00', '4000000.00', '4000000.00']
        >>> [str(x) for x in c["cfr_end"]]
        ['108000000.00', '104000000.00', '100000000.00']
        """
        money = ["cfr_start", "borrowing", "capitalised", "flexible_receipts", "mrp", "mrp_required", "mrp_prudent",
                 "mrp_from_receipts", "loan_interest", "credit_loss", "cfr_end", "debt_end", "interest", "investment_income",
                 "commercial_income", "revenue_contributions", "financing_cost", "budgeted", "gap_effect"]
        return _typed_rows(self._native.capital(),
                           {"year": pl.String, **{c: _MONEY for c in money}, "mrp_below_policy": pl.Boolean,
                            "mrp_imprudent": pl.String})

    def hra(self) -> pl.DataFrame:
        """The Housing Revenue Account by year, exact (empty without ``[hra]``): ``opening``,
        ``income``, ``spending``, ``closing`` (negative: an HRA deficit), ``minimum`` and
        ``below_minimum``. The HRA is ring-fenced (Local Government and Housing Act 1989,
        Schedule 4): never part of usable reserves, never drawn for the general fund, and a
        transfer out of it is refused.

        Examples
        --------
        >>> import fiscalrisk as fr
        >>> s = fr.Scenario.from_dict({
        ...     "plan": {"name": "h", "first_year": "2025/26", "years": 2, "net_budget": [300e6] * 2},
        ...     "hra": {"balance": 20e6, "minimum": 5e6, "income": [100e6, 102e6], "spending": [110e6, 108e6]}})
        >>> [str(x) for x in s.hra()["closing"]]  # 20 + 100 - 110; then 10 + 102 - 108
        ['10000000.00', '4000000.00']
        >>> s.hra()["below_minimum"].to_list()
        [False, True]
        """
        money = ["opening", "income", "spending", "closing", "minimum"]
        return _typed_rows(self._native.hra(), {"year": pl.String, **{c: _MONEY for c in money},
                                                 "below_minimum": pl.Boolean})

    def prudential_indicators(self) -> pl.DataFrame:
        """The prudential indicators by year (empty without ``[capital]``):
        ``financing_costs_to_net_revenue`` (MRP and interest less investment income over the
        net revenue stream, the net budget), ``cfr``, ``gross_debt``, ``debt_above_cfr``,
        ``above_operational_boundary`` and ``above_authorised_limit`` (null when no limit is
        given), ``debt_to_net_revenue``, ``debt_to_core_spending_power`` (with
        ``capital.core_spending_power``) and ``mrp_below_policy``."""
        return _typed_rows(self._native.prudential_indicators(), {
            "year": pl.String, "financing_costs_to_net_revenue": _FRACTION, "cfr": _MONEY, "gross_debt": _MONEY,
            "debt_above_cfr": pl.Boolean, "above_operational_boundary": pl.Boolean, "above_authorised_limit": pl.Boolean,
            "debt_to_net_revenue": _FRACTION, "debt_to_core_spending_power": _FRACTION, "mrp_below_policy": pl.Boolean,
        })

    def council_tax(self) -> pl.DataFrame:
        """Council tax by year (empty without it): ``year``, ``tax_base`` (Band D
        equivalents), ``band_d``, ``core_increase``, ``asc_precept``, ``core_limit`` (the core
        threshold), ``asc_limit`` (the social care allowance, after the rules that carry across
        years), ``threshold`` (core + allowance + any bespoke principle: a rise of this or more
        is excessive), ``increase`` (the realised, penny-rounded rise in Band D), ``excessive``
        (the principles' test of the total rise), ``dispensation`` (a bespoke principle or a
        waiver recorded), ``flagged`` (excessive and not waived) and ``income``. Limits come from
        :func:`fiscalrisk.referendum_principles` or the scenario's ``referendum_limits``."""
        return _typed_rows(self._native.council_tax(), {
            "year": pl.String, "tax_base": _MONEY, "band_d": _MONEY, "core_increase": _FRACTION, "asc_precept": _FRACTION,
            "core_limit": _FRACTION, "asc_limit": _FRACTION, "threshold": _FRACTION, "increase": _FRACTION,
            "excessive": pl.Boolean, "dispensation": pl.Boolean,
            "flagged": pl.Boolean, "income": _MONEY,
        })

    @property
    def name(self) -> str:
        """The plan's name."""
        return str(self.to_dict()["plan"]["name"])

    def simulate(
        self,
        trials: int = 100_000,
        seed: int = 42,
        *,
        threads: Optional[int] = None,
        progress: ProgressOption = True,
        keep_trials: bool = False,
    ) -> PlanResult:
        """Simulate the plan; the same seed gives the same numbers on any number of threads.

        ``progress``: True (the default) shows a progress bar once the run has taken a second;
        False, none; a callable is called as ``progress(done, total)`` in batches. Ctrl-C (or a
        notebook's stop button) raises KeyboardInterrupt promptly, with no thread left running.
        ``keep_trials``: also keep each trial's values by year, for
        :meth:`PlanResult.trial_table` (the statistics are the same either way).
        """
        args = run_arguments(trials, seed, threads)
        with reporter(progress, self.name) as callback:
            return PlanResult(self._native.simulate(*args, callback, bool(keep_trials)), self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scenario) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        plan = self.to_dict()["plan"]
        return f"Scenario({plan['name']!r}, {plan['first_year']}, {plan['years']} years)"

    def _repr_html_(self) -> str:
        d = self.to_dict()
        plan = d["plan"]
        return html_table(
            f"Scenario: {plan['name']}",
            [
                ("years", f"{plan['first_year']}, {plan['years']} years"),
                ("pressures / savings / risks", f"{len(d.get('pressures', []))} / {len(d.get('savings', []))} / {len(d.get('risks', []))}"),
                ("general fund", pounds(float(Decimal(str(d.get('reserves', {}).get('general_fund', 0)))))),
            ],
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_scenario, (self.to_dict(), self._source))


_MONEY = pl.Decimal(precision=38, scale=2)
_FRACTION = pl.Decimal(precision=38, scale=6)


def _typed_rows(rows: list[dict[str, Any]], columns: Mapping[str, Any]) -> pl.DataFrame:
    """A table from the core's rows: each column of ``columns`` with its dtype; decimal columns
    read exactly (the core's money as text or a float that reads back), nulls kept."""
    from ._convert import money_out

    def cell(v: Any, dtype: Any) -> Any:
        return None if v is None or not isinstance(dtype, pl.Decimal) else money_out(v)

    return pl.DataFrame(
        {
            c: pl.Series(c, [cell(r[c], t) if isinstance(t, pl.Decimal) else r[c] for r in rows], dtype=t)
            for c, t in columns.items()
        }
    )


def bridge(old: Scenario, new: Scenario) -> pl.DataFrame:
    """A bridge between two versions of a plan (same years): the change in each year's central
    gap after savings attributed to each input, ``year``, ``input``, ``change`` (exact). The
    old version's inputs are replaced by the new one's one at a time, in a fixed order (drivers
    added; each changed driver; council tax; business rates; each grant, fee, spending line,
    pressure and saving; savings to be identified; the in-year position; the net budget;
    drivers removed), so the changes sum exactly to the total change. Inputs that change
    nothing are left out. :func:`fiscalrisk.plot.bridge_waterfall` draws it.

    Examples
    --------
    >>> import fiscalrisk as fr
    >>> data = {"plan": {"name": "m", "first_year": "2024/25", "years": 1},
    ...         "drivers": [{"name": "pay", "rate": 0.02}],
    ...         "funding": {"council_tax": {"tax_base": 100_000, "band_d": 2000}},
    ...         "spending": [{"name": "Pay", "base": 150e6, "drivers": {"pay": 1.0}}]}
    >>> old = fr.Scenario.from_dict(data)
    >>> data["drivers"][0]["rate"] = 0.035
    >>> b = fr.bridge(old, fr.Scenario.from_dict(data))
    >>> b.rows()
    [('2024/25', 'driver: pay', Decimal('2250000.00'))]
    """
    from ._convert import money_out

    rows = _native.bridge(old._native, new._native)
    return pl.DataFrame(
        [(r["year"], r["input"], money_out(r["change"]).quantize(Decimal("0.01"))) for r in rows],
        schema={"year": pl.String, "input": pl.String, "change": pl.Decimal(precision=38, scale=2)},
        orient="row",
    )


def referendum_principles() -> pl.DataFrame:
    """England's council tax referendum principles shipped with the package, by ``year`` and
    ``class`` (``social_care``: county and unitary councils, metropolitan districts and London
    boroughs; ``district``: shire districts): ``core_limit`` (the core threshold),
    ``asc_limit`` (the adult social care allowance on top), ``pounds_alternative`` (a
    district's £ on Band D: a rise of no more is never excessive), ``note`` and ``source``. The
    principles test the total, realised rise in Band D: ``core_limit + asc_limit`` or more is
    excessive (and, for a district, more than the £ alternative). 2019/20's allowance is what
    2017/18 and 2018/19 left of 6% and 2022/23's adds what 2021/22 deferred, when the precepts
    of those years are known (``asc_precept``, ``asc_precept_before``). A scenario can add or
    override years with ``funding.council_tax.referendum_limits``, and states its class in
    ``funding.council_tax.authority_class``.

    >>> t = referendum_principles().filter(year="2024/25", **{"class": "social_care"})
    >>> [str(t["core_limit"][0]), str(t["asc_limit"][0])]
    ['0.030000', '0.020000']
    >>> referendum_principles()["year"].max()
    '2028/29'
    """
    rows = _native.referendum_principles()
    frac = pl.Decimal(precision=38, scale=6)
    return pl.DataFrame(
        {
            "year": [r[0] for r in rows],
            "class": [r[1] for r in rows],
            "core_limit": pl.Series("core_limit", [Decimal(r[2]) for r in rows], dtype=frac),
            "asc_limit": pl.Series("asc_limit", [Decimal(r[3]) for r in rows], dtype=frac),
            "pounds_alternative": pl.Series("pounds_alternative", [None if r[4] is None else Decimal(r[4]) for r in rows],
                                            dtype=pl.Decimal(precision=38, scale=2)),
            "note": [r[5] for r in rows],
            "source": [r[6] for r in rows],
        }
    )


def _with_names(table: pl.DataFrame, scenario: Scenario) -> pl.DataFrame:
    """``table`` (with ``kind`` and ``id``) with a ``name`` column last: each input's name as the
    scenario gives it (a pressure's id is its name)."""
    spec = scenario.to_dict()
    names = {("risk", r["id"]): r["name"] for r in spec.get("risks", [])}
    names.update({("saving", s["id"]): s["name"] for s in spec.get("savings", [])})
    return table.with_columns(
        pl.Series("name", [names.get((k, i), i) for k, i in zip(table["kind"], table["id"])], dtype=pl.String)
    )


def _restore_scenario(data: Mapping[str, Any], source: Optional[str]) -> Scenario:
    scenario = Scenario.from_dict(data)
    scenario._source = source
    return scenario


def _restore_result(text: str, scenario: Scenario) -> PlanResult:
    return PlanResult(_native.PlanResult.from_json(text), scenario)


class PlanResult:
    """What a plan simulation found. All tables are :class:`polars.DataFrame`. Results pickle
    (with their scenario), so they can come back from another process or a Dask worker."""

    __slots__ = ("_native", "scenario")

    def __init__(self, native: _native.PlanResult, scenario: Scenario) -> None:
        self._native = native
        self.scenario = scenario

    @property
    def trials(self) -> int:
        """Number of trials."""
        return self._native.trials

    @property
    def seed(self) -> int:
        """The seed."""
        return self._native.seed

    def by_year(self) -> pl.DataFrame:
        """One row per year: ``year``; the gap's ``gap_mean``, ``gap_p10``, ``gap_p50``,
        ``gap_p90``, ``gap_p95``; **usable reserves** (the general fund plus uncommitted usable
        earmarked reserves) at the year's end, ``reserves_p5`` to ``reserves_p95``, to be read
        against zero (``p_exhausted``, exhausted in that year or before); ``p_below_minimum``,
        the probability that the **general fund** ends the year below ``minimum``, its policy
        minimum; ``one_off_reliance`` (one-off savings planned for the year) and
        ``underlying_gap_mean`` (the gap without them); the **general fund**'s own
        ``general_fund_p5``, ``general_fund_p50``, ``general_fund_p95``; the statutory test in the
        year (not cumulative): ``p_s114`` either test, ``p_s114_in_year`` usable reserves ending
        the year below ``policy.s114_floor`` (s114(3) of the Local Government Finance Act 1988),
        ``p_s114_budget`` the next budget unable to be balanced, the recurring gap carried in and
        any deficit brought forward exceeding usable reserves above the floor (s31A of the Local
        Government Finance Act 1992) and what is already known to fall on it (a collection fund
        deficit, the DSG deficit when the statutory override ends); with ``[efs]``, ``p_efs``
        (exceptional support capitalised at the year's end, in-year) and ``efs_p50``,
        ``efs_p90`` (the amount, over all trials); with ``[dsg]``, ``dsg_deficit_p50`` and
        ``dsg_deficit_p90``, the DSG deficit held in its unusable reserve at the year's end
        (cumulative; 0 once it has fallen on the general fund, and without ``[dsg]``);
        ``unidentified``, the savings still to be identified that fall due in the year (£, the
        scenario's ``unidentified``: inside the gap, shown apart)."""
        table = pl.DataFrame(self._native.by_year())
        unidentified = {k: float(v) for k, v in (self.scenario.to_dict().get("unidentified") or {}).items()}
        return table.with_columns(
            pl.Series("unidentified", [unidentified.get(y, 0.0) for y in table["year"]], dtype=pl.Float64)
        )

    def reserves_by_year(self) -> pl.DataFrame:
        """Each reserve by year, against its own minimum: ``reserve`` (``general_fund``, each
        earmarked reserve, then ``usable_reserves``, the total), ``year``, the uncommitted
        balance's ``p5``, ``p50`` and ``p95`` at the year's end, ``minimum`` (the policy's for the
        general fund, the reserve's own for an earmarked reserve, zero for usable reserves) and
        ``p_below_minimum`` (in that year)."""
        return pl.DataFrame(
            self._native.reserves_by_year(),
            schema={"reserve": pl.String, "year": pl.String, "p5": pl.Float64, "p50": pl.Float64,
                    "p95": pl.Float64, "minimum": pl.Float64, "p_below_minimum": pl.Float64},
        )

    def provisions_by_year(self) -> pl.DataFrame:
        """Each provision by year (empty without ``[[provisions]]``): ``provision``, ``year``;
        the year's **charge to the general fund** (in-year: what was recognised, and any payment
        beyond the provision) as ``charge_mean``, ``charge_p50``, ``charge_p90``; ``payments``, the
        cash paid out of the provision in the year; and the provision's **balance** at the year's
        end (cumulative), ``balance_p50`` and ``balance_p90``. A provision is charged when it is
        recognised, not when it is paid.

        Examples
        --------
        >>> import fiscalrisk as fr
        >>> s = fr.Scenario.from_dict({
        ...     "plan": {"name": "e", "first_year": "2023/24", "years": 2, "net_budget": [850e6] * 2},
        ...     "reserves": {"general_fund": 100e6},
        ...     "provisions": [{"name": "equal pay", "opening": 650e6,
        ...                     "accrual_per_month": [9.5e6, 9.5e6], "payments": [0, 300e6]}]})
        >>> t = s.simulate(trials=100, seed=1).provisions_by_year()
        >>> t.select("year", "charge_p50", "payments", "balance_p50").rows()
        [('2023/24', 114000000.0, 0.0, 764000000.0), ('2024/25', 114000000.0, 300000000.0, 578000000.0)]
        """
        return pl.DataFrame(
            self._native.provisions_by_year(),
            schema={"provision": pl.String, "year": pl.String, "charge_mean": pl.Float64,
                    "charge_p50": pl.Float64, "charge_p90": pl.Float64, "payments": pl.Float64,
                    "balance_p50": pl.Float64, "balance_p90": pl.Float64},
        )

    def policy_breaches(self) -> pl.DataFrame:
        """By year: the probability that reserves fund a recurring gap, and the mean amount."""
        return pl.DataFrame(self._native.policy_breaches())

    def drivers(self) -> pl.DataFrame:
        """Each input's departure from what the budget already counts, over the plan: ``kind``,
        ``id`` (a pressure's is its name), ``mean``, ``exhausted_mean`` in the trials in which
        reserves are exhausted, and ``name`` as the scenario gives it; largest contribution to
        exhaustion first. A risk counts its whole cost (no budget carries it); a pressure its
        cost less its mean (the budget carries its mean); a saving its shortfall against full
        delivery (a one-off saving's fall-out from the base budget is already counted); and the
        plan-wide rows their departures: ``budget`` (funding and spending drivers), ``capital``,
        ``in_year`` (the underlying overspend less its mean), ``response`` (what later budgets
        or the management response closed: negative), ``reserves`` (recurring spending funded
        from reserves, which returns), ``efs`` (the MRP and interest on exceptional support) and
        ``balance_sheet`` (provisions' charges, the DSG deficit's interest and what falls on the
        general fund, collection fund deficits, less their central case) and ``treasury`` (the
        interest lost on cash below its level at the plan's start).
        The means add up to the mean gap over the plan less the central MTFS's gap after
        savings: the gap beyond the budget."""
        schema = {"kind": pl.String, "id": pl.String, "mean": pl.Float64, "exhausted_mean": pl.Float64}
        table = _with_names(pl.DataFrame(self._native.drivers(), schema=schema), self.scenario)
        return table.sort(["exhausted_mean", "mean"], descending=True)

    def savings_shortfall(self) -> pl.DataFrame:
        """The savings shortfall by year, defined once (the programme view and the report use
        it too): ``target``, the savings the budget counts on in the year (recurring ones due by
        it, one-off ones due in it, those still to be identified); ``expected_delivery``, the
        mean delivered in the year; and the shortfall, target less delivered, as
        ``shortfall_mean``, ``shortfall_p10``, ``shortfall_p50``, ``shortfall_p90``. A one-off
        saving's fall-out from the base budget in later years is not a shortfall: the budget
        counts it.

        >>> import fiscalrisk as fr
        >>> r = fr.examples.birmingham_2019().simulate(trials=5_000, seed=1, progress=False)
        >>> t = r.savings_shortfall()
        >>> bool(((t["target"] - t["expected_delivery"] - t["shortfall_mean"]).abs() < 1e-3).all())
        True
        """
        schema = {"year": pl.String, "target": pl.Float64, "expected_delivery": pl.Float64, "shortfall_mean": pl.Float64,
                  "shortfall_p10": pl.Float64, "shortfall_p50": pl.Float64, "shortfall_p90": pl.Float64}
        return pl.DataFrame(self._native.savings_shortfall(), schema=schema)

    def risk_assessed_minimum(self, confidence: float = 0.95) -> float:
        """One general fund balance for the whole plan (£): the quantile ``confidence`` (0.5 to
        1) of the plan's simulated cumulative one-off exposure beyond the budget, summed over
        the plan's years: one-off risk costs, one-off pressures beyond their budgeted mean, the
        due-year part of savings shortfalls, and the in-year overspend. What the budget already
        provides (a pressure at its mean, a saving delivered in full) calls on nothing. See
        :meth:`minimum_statement` for it itemised."""
        return self._native.risk_assessed_minimum(float(confidence))

    def minimum_statement(self, confidence: float = 0.95, *, progress: ProgressOption = True) -> MinimumStatement:
        """The risk-assessed minimum general fund balance at ``confidence``, itemised risk by
        risk as a section 25 statement shows it (Local Government Act 2003, s25; CIPFA LAAP
        Bulletin 99, *Local Authority Reserves and Balances*, July 2014).

        The minimum is :meth:`risk_assessed_minimum` at ``confidence``. The trials of this
        result (the same trials and seed) are simulated again, and the minimum is shared among
        the inputs that can call on it (one-off risks, one-off pressures beyond their budgeted
        mean, savings' shortfalls, the in-year overspend) in proportion to each one's mean
        exposure in the trials whose total exposure reaches the minimum. The lines add up to
        the minimum. Recurring risks and pressures have no line: the budget set each year must
        close them.

        ``progress`` works as in :meth:`Scenario.simulate`.

        Examples
        --------
        >>> import fiscalrisk as fr
        >>> r = fr.examples.birmingham_2019().simulate(trials=20_000, seed=1)
        >>> m = r.minimum_statement(0.95, progress=False)
        >>> m.minimum == r.risk_assessed_minimum(0.95)
        True
        >>> abs(m.table["provision"].sum() - m.minimum) < 1e-3
        True
        """
        c = float(confidence)
        with reporter(progress, f"{self.scenario.name}: minimum statement") as callback:
            native = self.scenario._native.minimum_statement(self.trials, self.seed, c, None, callback)
        return MinimumStatement(native, self.scenario)

    def gap_exceedance(self) -> pl.DataFrame:
        """Each year's gap exceedance curve: ``year``, ``amount`` (the gap's 1st to 99th
        percentiles) and ``probability`` (that the gap exceeds it, 0.99 down to 0.01)."""
        probs = [i / 100 for i in range(1, 100)]
        years = self.by_year()["year"].to_list()
        quantiles = self._native.gap_quantiles(probs)
        rows = [(y, q, round(1.0 - p, 2)) for y, qs in zip(years, quantiles) for q, p in zip(qs, probs)]
        return pl.DataFrame(rows, schema={"year": pl.String, "amount": pl.Float64, "probability": pl.Float64}, orient="row")

    def exceedance(self, amount: float, year: Optional[str] = None, *, period: Optional[str] = None) -> float:
        """The probability that the gap exceeds ``amount`` (£): in ``year``, or, by default,
        over the whole plan: the sum of the years' gaps, trial by trial, which is what the plan
        needs from reserves and further measures in all. ``period`` is the register result's
        name for the same thing (``"total"`` there: the whole plan here); give one of the two.

        Examples
        --------
        >>> import fiscalrisk as fr
        >>> r = fr.examples.birmingham_2019().simulate(trials=20_000, seed=1, progress=False)
        >>> 0.0 < r.exceedance(100e6) < r.exceedance(0.0) < 1.0  # the plan's gap, over £100m and over zero
        True
        """
        if period is not None:
            if year is not None:
                raise ValidationError(f"period: {period!r} given with year {year!r}; give one of the two")
            year = None if period == "total" else period
        return self._native.exceedance(float(amount), None if year is None else str(year))

    def cumulative_gap_exceedance(self) -> pl.DataFrame:
        """The whole plan's gap exceedance curve: ``amount`` (the 1st to 99th percentiles of the
        sum of the years' gaps) and ``probability`` (that it is exceeded, 0.99 down to 0.01)."""
        probs = [i / 100 for i in range(1, 100)]
        amounts = self._native.cumulative_gap_quantiles(probs)
        return pl.DataFrame({"amount": amounts, "probability": [round(1.0 - p, 2) for p in probs]})

    def trial_table(self) -> pl.DataFrame:
        """The trial-level table, when the run kept it (``simulate(..., keep_trials=True)``): one
        row per trial and year, with ``trial``, ``year``, ``gap`` (£, after savings and the
        management response), ``usable_reserves`` and ``general_fund`` (£, at the year's end),
        and the year's flags ``below_minimum`` (the general fund below its minimum),
        ``exhausted`` (usable reserves exhausted by then) and ``s114`` (the balanced-budget
        test fails). The whole plan's gap of a trial is the sum of its ``gap`` column.

        Raises
        ------
        FiscalRiskError
            When the run did not keep trials.
        """
        from .exceptions import FiscalRiskError

        t = self._native.trial_table()
        if t is None:
            raise FiscalRiskError("trial_table: this run did not keep trials; simulate(..., keep_trials=True)")
        years, gap, usable, general, flags = t
        n = len(years)
        return pl.DataFrame(
            {
                "trial": np.repeat(np.arange(self.trials, dtype=np.int64), n),
                "year": np.tile(np.array(years, dtype=object), self.trials).astype(str),
                "gap": gap,
                "usable_reserves": usable,
                "general_fund": general,
                "below_minimum": (flags & 1) != 0,
                "exhausted": (flags & 2) != 0,
                "s114": (flags & 4) != 0,
            }
        )

    def resilience(self) -> pl.DataFrame:
        """The resilience indicators of :mod:`fiscalrisk.resilience` by year of the plan, as
        distributions over the trials: ``year``, ``indicator``, ``mean``, ``p10``, ``p50``,
        ``p90`` and ``defined`` (the share of trials in which the indicator has a value).

        The general fund stands for unallocated reserves, usable earmarked reserves for
        earmarked, and the net budget for net revenue expenditure; the window of the
        indicators of change starts with the reserves at the start of the plan. With no
        uncertainty the percentiles equal what :func:`fiscalrisk.resilience.indicators` gives
        for the plan's ledger. A plan with ``[capital]`` adds the debt measures
        ``interest_payable_to_nre``, ``capital_financing_to_nre`` and ``gross_debt_to_nre``
        (the same in every trial: the capital plan is exact).

        Examples
        --------
        >>> import fiscalrisk as fr
        >>> r = fr.examples.birmingham_2019().simulate(trials=20_000, seed=1)
        >>> r.resilience().filter(pl.col("indicator") == "reserves_sustainability")["year"].to_list()
        ['2019/20', '2020/21', '2021/22', '2022/23']
        """
        return pl.DataFrame(self._native.resilience())

    def probability_below(self, indicator: str, threshold: float, year: str) -> float:
        """The probability that ``indicator`` (one of :meth:`resilience`'s) is below
        ``threshold`` at the end of ``year``: e.g. that reserves sustainability falls below two
        years in 2021/22.

        >>> import fiscalrisk as fr
        >>> r = fr.examples.birmingham_2019().simulate(trials=20_000, seed=1)
        >>> 0 < r.probability_below("reserves_sustainability", 2.0, "2021/22") < 1
        True
        """
        return self._native.probability_below(str(indicator), float(threshold), str(year))

    def to_html(self, path: Union[str, "PathLike[str]", None] = None, *, previous: Optional[Scenario] = None) -> str:
        """The committee report (:mod:`fiscalrisk.report`): one self-contained HTML document,
        returned, and written atomically to ``path`` when given. ``previous``: an earlier
        version of the plan, bridged to this one in the MTFS section."""
        from . import report

        if path is not None:
            report.write(self, path, previous=previous)
        return report.render(self, previous=previous)

    def to_excel(self, path: Union[str, "PathLike[str]"]) -> Path:
        """One Excel workbook (:mod:`fiscalrisk.excel`): the by-year table, each reserve, the
        drivers, the reserves policy checks, the inputs and an audit sheet, amounts formatted in
        pounds; written atomically to ``path`` (``.xlsx``), which is returned."""
        from . import excel

        return excel.write(self, path)

    def reverse_stress(self, threshold: str = "exhausted", *, top: int = 20, progress: ProgressOption = True) -> ReverseStress:
        """What would have to go wrong? The trials of this result (the same trials and seed,
        simulated again) in which ``threshold`` is met: ``"exhausted"`` (usable reserves
        exhausted by the end of the plan) or ``"below_minimum"`` (the general fund below its
        minimum in some year).

        ``progress`` works as in :meth:`Scenario.simulate`; Ctrl-C stops the run and the search
        for the smallest sets promptly.

        Returns a :class:`ReverseStress`: the probability, the sets of risks that occurred in
        those trials (most frequent first, the ``top`` of them), each input's mean cost there
        against its overall mean, and the smallest sets of risks whose joint occurrence meets the
        threshold in the central case (every other input at its mean, each risk in the set at
        its mean cost if it occurs, other risks absent), most likely first.

        Examples
        --------
        >>> import fiscalrisk as fr
        >>> r = fr.examples.birmingham_2019().simulate(trials=20_000, seed=1)
        >>> stress = r.reverse_stress("exhausted")
        >>> stress.probability == r.p_exhausted
        True
        """
        if not isinstance(top, int) or isinstance(top, bool) or top < 1:
            raise ValidationError(f"top: {top!r} is not a whole number of at least 1")
        with reporter(progress, f"{self.scenario.name}: reverse stress") as callback:
            native = self.scenario._native.reverse_stress(self.trials, self.seed, str(threshold), top, None, callback)
        return ReverseStress(native, self.scenario)

    def mtfs(self, statistic: str = "mean") -> pl.DataFrame:
        """The MTFS table as distributions: by year, each column of :meth:`Scenario.mtfs` (its
        amounts) as ``statistic`` over the trials: ``mean`` (the default; means keep the
        table's identities) or a percentile ``p1`` to ``p99`` (each column's own). ``savings``
        is what was delivered in each trial; ``risks`` is the register's cost in the year,
        which the MTFS leaves out and reserves meet. With no management response, the
        ``gap`` of :meth:`by_year` is ``gap_after_savings`` plus ``risks``, trial by trial.

        Examples
        --------
        >>> import fiscalrisk as fr
        >>> r = fr.examples.birmingham_2019().simulate(trials=5_000, seed=1, progress=False)
        >>> t = r.mtfs()
        >>> bool(((t["funding"] - t["spending"] + t["gap_before_savings"]).abs() < 1e-3).all())
        True
        """
        from ._fiscalrisk import MTFS_COLUMNS

        values = self._native.mtfs(statistic)
        columns: dict[str, Any] = {"year": [r["year"] for r in self._native.by_year()]}
        for c, name in enumerate(MTFS_COLUMNS):
            columns[name] = [row[c] for row in values]
        return pl.DataFrame(columns)

    @property
    def p_exhausted(self) -> float:
        """Probability reserves are exhausted by the end of the plan."""
        return self._native.p_exhausted()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_result, (self._native.to_json(), self.scenario))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlanResult) and self._native.to_json() == other._native.to_json()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PlanResult({self.trials} trials, seed {self.seed}, P(exhausted) {self.p_exhausted:.3f})"

    def _repr_html_(self) -> str:
        y = self.by_year()
        return html_table(
            f"PlanResult: {self.scenario.name}",
            [
                ("trials", f"{self.trials:,} (seed {self.seed})"),
                ("P(usable reserves exhausted by the end)", f"{self.p_exhausted:.1%}"),
                ("P(statutory test fails: in year or next budget), worst year", f"{float(y['p_s114'].max()):.1%}"),  # type: ignore[arg-type]
                ("mean gap by year", ", ".join(pounds(g) for g in y["gap_mean"].to_list())),
            ],
        )


class MinimumStatement:
    """The risk-assessed minimum general fund balance, itemised (see
    :meth:`PlanResult.minimum_statement`).

    Attributes
    ----------
    confidence : float
        The quantile of the plan's cumulative one-off exposure beyond the budget taken as the
        minimum (e.g. 0.95).
    minimum : float
        The minimum general fund balance (£, one figure for the plan).
    trials, seed : int
        The simulation's.
    tail_trials : int
        The trials whose cumulative one-off exposure reached the minimum.
    tail_mean : float
        The mean cumulative one-off exposure in those trials (£; the expected shortfall at the
        confidence): what the balance would have to meet on average when it is not enough.
    table : polars.DataFrame
        One row per input that can call on the minimum, largest provision first: ``kind``,
        ``id``, ``name``, ``mean`` (its mean one-off exposure beyond the budget over the plan,
        all trials, £), ``mean_in_tail`` (the same in the trials that reached the minimum, £),
        ``provision`` (its line of the minimum, £; the lines add up to it) and ``share`` (of
        the minimum).
    """

    __slots__ = ("confidence", "minimum", "trials", "seed", "tail_trials", "tail_mean", "table")

    def __init__(self, native: dict[str, Any], scenario: Optional[Scenario] = None) -> None:
        self.confidence: float = native["confidence"]
        self.minimum: float = native["minimum"]
        self.trials: int = native["trials"]
        self.seed: int = native["seed"]
        self.tail_trials: int = native["tail_trials"]
        self.tail_mean: float = native["tail_mean"]
        schema = {"kind": pl.String, "id": pl.String, "mean": pl.Float64, "mean_in_tail": pl.Float64, "provision": pl.Float64}
        table = pl.DataFrame(native["rows"], schema=schema)
        share = pl.when(pl.lit(self.minimum) != 0).then(pl.col("provision") / self.minimum).otherwise(None)
        table = table.with_columns(share.cast(pl.Float64).alias("share"))
        table = table if scenario is None else _with_names(table, scenario)
        columns = ["kind", "id", *(["name"] if scenario is not None else []), "mean", "mean_in_tail", "provision", "share"]
        self.table: pl.DataFrame = table.select(columns).sort("provision", descending=True, maintain_order=True)

    def __repr__(self) -> str:
        return (f"MinimumStatement(confidence {self.confidence:g}, minimum {pounds(self.minimum)}, "
                f"{self.table.height} lines)")

    def _repr_html_(self) -> str:
        top = self.table.head(8)
        label = "name" if "name" in top.columns else "id"
        return html_table(
            f"Risk-assessed minimum general fund balance, at the {self.confidence:.0%} quantile of the "
            "plan's cumulative one-off exposure beyond the budget",
            [
                ("minimum", pounds(self.minimum)),
                ("trials reaching it", f"{self.tail_trials:,} of {self.trials:,} (mean exposure there {pounds(self.tail_mean)})"),
                *[(str(n), f"{pounds(p)} ({s:.0%})" if s is not None else pounds(p))
                  for n, p, s in zip(top[label], top["provision"], top["share"])],
            ],
        )


class ReverseStress:
    """What a reverse stress test found (see :meth:`PlanResult.reverse_stress`).

    Attributes
    ----------
    threshold : str
        ``"exhausted"`` or ``"below_minimum"``.
    probability : float
        The share of trials that met it.
    combinations : polars.DataFrame
        ``risks`` (the risks that occurred, with a cost), ``trials`` and ``share`` (of the
        trials that met the threshold), most frequent first.
    distinct_combinations : int
        How many different sets of risks occurred in those trials.
    inputs : polars.DataFrame
        ``kind``, ``id``, ``mean`` (cost over the plan in all trials), ``mean_when_met``,
        ``ratio`` (the second over the first) and ``name`` (as the scenario gives it), largest
        ratio first.
    smallest_sets : list of list of str
        The smallest sets of risks whose joint occurrence meets the threshold in the central
        case, most likely first: ``[[]]`` when the central case meets it with no risk, ``[]``
        when not even every risk together does.
    smallest_exact : bool
        Whether the search for them was exhaustive (otherwise one set found greedily).
    """

    __slots__ = ("threshold", "trials", "seed", "probability", "combinations", "distinct_combinations",
                 "inputs", "smallest_sets", "smallest_exact")

    def __init__(self, native: dict[str, Any], scenario: Optional[Scenario] = None) -> None:
        self.threshold: str = native["condition"]
        self.trials: int = native["trials"]
        self.seed: int = native["seed"]
        self.probability: float = native["probability"]
        met = self.probability * self.trials
        combos = native["combinations"]
        self.combinations = pl.DataFrame(
            {
                "risks": pl.Series("risks", [c["risks"] for c in combos], dtype=pl.List(pl.String)),
                "trials": pl.Series("trials", [c["trials"] for c in combos], dtype=pl.UInt64),
                "share": pl.Series("share", [c["trials"] / met for c in combos], dtype=pl.Float64),
            }
        )
        self.distinct_combinations: int = native["distinct_combinations"]
        inputs = pl.DataFrame(native["inputs"], schema={"kind": pl.String, "id": pl.String, "mean": pl.Float64, "mean_when_met": pl.Float64})
        inputs = inputs.with_columns(
            pl.when(pl.col("mean") != 0).then(pl.col("mean_when_met") / pl.col("mean")).otherwise(None).alias("ratio")
        ).sort("ratio", descending=True, nulls_last=True)
        self.inputs = inputs if scenario is None else _with_names(inputs, scenario)
        self.smallest_sets: list[list[str]] = native["smallest_sets"]
        self.smallest_exact: bool = native["smallest_exact"]

    @property
    def smallest_set(self) -> Optional[list[str]]:
        """The most likely of :attr:`smallest_sets`, or None when there is none."""
        return self.smallest_sets[0] if self.smallest_sets else None

    def __repr__(self) -> str:
        return f"ReverseStress({self.threshold!r}, probability {self.probability:.3f}, smallest set {self.smallest_set})"

    def _repr_html_(self) -> str:
        top = self.combinations.head(5)
        return html_table(
            f"Reverse stress test: {self.threshold}",
            [
                ("probability", f"{self.probability:.1%} of {self.trials:,} trials"),
                ("smallest set of risks (central case)", ", ".join(self.smallest_set or []) or "none"),
                *[(f"{share:.0%} of those trials", ", ".join(risks) or "no risk") for risks, share in zip(top["risks"], top["share"])],
            ],
        )
