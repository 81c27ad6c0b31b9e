"""JSON Schemas of the scenario and register files, for editors that validate and complete them
(``fiscalrisk schema > fiscalrisk-scenario.schema.json``; in VS Code with Even Better TOML, a
``#:schema ./fiscalrisk-scenario.schema.json`` first line).

The schemas describe the files the Rust core reads (``ScenarioSpec`` and ``RegisterSpec``): every
key with its meaning, unit, sign and default, as the README's table gives them. A test keeps
them honest: for every table in the schema it adds an unknown key, and the core's error must
list exactly the schema's keys; the bundled scenarios and the ``init`` templates validate.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["scenario_schema", "register_schema", "to_json"]

DRAFT = "https://json-schema.org/draft/2020-12/schema"
YEAR = {"type": "string", "pattern": r"^\d{4}/\d{2}$", "description": "a financial year, e.g. 2019/20"}


def _money(description: str, default: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description + " (pounds, not £m; a number, or a string of digits for exact pence)",
        "type": ["number", "string"],
    }
    if default is not None:
        out["default"] = default
    return out


def _number(description: str, minimum: float, maximum: float, default: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "type": "number", "minimum": minimum, "maximum": maximum}
    if default is not None:
        out["default"] = default
    return out


def _table(properties: dict[str, Any], required: list[str], description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    if description:
        out["description"] = description
    return out


def _by_year(description: str) -> dict[str, Any]:
    return {
        "description": description + " (pounds by year label, each ≥ 0)",
        "type": "object",
        "propertyNames": {"pattern": YEAR["pattern"]},
        "additionalProperties": {"type": ["number", "string"]},
    }


def _per_year(description: str) -> dict[str, Any]:
    amount = {"oneOf": [{"type": ["number", "string"]}, _distribution("an uncertain amount")]}
    return {"type": "array", "items": amount,
            "description": description + "; one per plan year in order, each a number or a distribution"}


def _distribution(description: str) -> dict[str, Any]:
    def kind(name: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
        return _table({"dist": {"const": name}, **props}, ["dist", *required])

    n = {"type": "number"}
    return {
        "description": description + ": a distribution table; `dist` names its kind",
        "oneOf": [
            kind("fixed", {"value": n}, ["value"]),
            kind("uniform", {"low": n, "high": n}, ["low", "high"]),
            kind("triangular", {"low": n, "mode": n, "high": n}, ["low", "mode", "high"]),
            kind("pert", {"low": n, "mode": n, "high": n, "lamb": {**n, "default": 4.0, "description": "PERT shape"}},
                 ["low", "mode", "high"]),
            kind("normal", {"mean": n, "sd": {**n, "minimum": 0}}, ["mean", "sd"]),
            kind("lognormal", {"mu": n, "sigma": n, "p50": n, "p90": n}, []),
            kind("discrete", {"values": {"type": "array", "items": n}, "weights": {"type": "array", "items": n}},
                 ["values", "weights"]),
            kind("empirical", {"samples": {"type": "array", "items": n}}, ["samples"]),
        ],
    }


def _delivery(description: str) -> dict[str, Any]:
    return _table(
        {
            "p_full": _number("probability the saving is delivered in full", 0, 1),
            "partial": _distribution("the fraction delivered when not in full, on [0, 1]"),
            "p_slip": _number("probability it slips (is late)", 0, 1),
            "delay": _distribution("years a slipped saving is late, 1 to 30 (rounded to whole years); default 1"),
            "one_off_late": {"type": "boolean", "default": False,
                             "description": "a slipped one-off saving is still delivered, in the year it arrives"},
        },
        ["p_full", "partial", "p_slip"],
        description,
    )


def _risk() -> dict[str, Any]:
    return _table(
        {
            "id": {"type": "string", "description": "unique id (correlations name it)"},
            "name": {"type": "string"},
            "probability": _number("probability it happens over the plan", 0, 1),
            "impact": _distribution("its cost if it happens (pounds; positive is a cost)"),
            "profile": {
                "description": "share of the cost in each year (fractions summing to 1); default: all in the first year",
                "type": "object",
                "propertyNames": {"pattern": YEAR["pattern"]},
                "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
            },
            "recurring": {"type": "boolean", "default": False, "description": "the cost recurs every year from the profile's year"},
            "share": _number("the council's share of the cost", 0, 1, 1.0),
            "cap": _money("the most the council pays (after its share)"),
            "category": {"type": "string"},
            "owner": {"type": "string"},
        },
        ["id", "name", "probability", "impact"],
    )


def _correlations() -> dict[str, Any]:
    pair = {"type": "array", "prefixItems": [{"type": "string"}, {"type": "string"}, {"type": "number", "minimum": -1, "maximum": 1}],
            "minItems": 3, "maxItems": 3, "description": "[risk_a, risk_b, rho]"}
    table = _table(
        {"risks": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
         "rho": _number("rank (Spearman) correlation", -1, 1)},
        ["risks", "rho"],
    )
    return {"type": "array", "items": {"oneOf": [pair, table]},
            "description": "rank correlations between risks; in a scenario also a saving with a risk or a pressure "
                           "(its shortfall with their cost)"}


def _rate(description: str) -> dict[str, Any]:
    return {"description": description + " (a fraction a year: 0.02 is 2%; above -1)",
            "oneOf": [{"type": "number", "exclusiveMinimum": -1}, _distribution("an uncertain rate")]}


def _growth(description: str) -> dict[str, Any]:
    return {
        "description": description + ": a fraction a year (0.01 is 1%), a driver's name, or fractions by year (missing: 0)",
        "default": 0.0,
        "oneOf": [
            {"type": "number", "exclusiveMinimum": -1},
            {"type": "string"},
            {"type": "object", "propertyNames": {"pattern": YEAR["pattern"]}, "additionalProperties": {"type": "number"}},
        ],
    }


def _yearly(description: str) -> dict[str, Any]:
    return {
        "description": description + ": one fraction for every year, or one per year of the plan (0.0199 is 1.99%)",
        "default": 0.0,
        "oneOf": [
            {"type": "number"},
            {"type": "object", "propertyNames": {"pattern": YEAR["pattern"]}, "additionalProperties": {"type": "number"}},
        ],
    }


def _first_or_by_year(description: str) -> dict[str, Any]:
    return {
        "description": description + ": the first plan year's, or by year (the first year given; later years not given grow)",
        "oneOf": [
            {"type": ["number", "string"]},
            {"type": "object", "propertyNames": {"pattern": YEAR["pattern"]}, "additionalProperties": {"type": ["number", "string"]}},
        ],
    }


def _funding() -> dict[str, Any]:
    amount = {"oneOf": [{"type": ["number", "string"]}, _distribution("an uncertain amount (pounds, ≥ 0)")]}
    council_tax = _table(
        {
            "tax_base": _first_or_by_year("the tax base in Band D equivalents"),
            "tax_base_growth": _growth("growth of the tax base in years not given"),
            "band_d": _money("the Band D charge of the year before the plan, the base the increases apply to"),
            "core_increase": _yearly("the core increase, a fraction of the previous year's Band D"),
            "asc_precept": _yearly("the adult social care precept, a fraction of the previous year's Band D"),
            "collection_rate": _number("share of the charge collected (published tax bases usually allow for it already)",
                                       0, 1, 1.0),
            "collection_fund_surplus": _by_year("collection fund surplus distributed to the council"),
            "collection_fund_deficit": _by_year("collection fund deficit the council meets"),
            "dispensation": {
                "description": "the bespoke referendum principle the government agreed, by year: the points above "
                               "the class's threshold (0.025); or, as before 0.7.0, a list of years waived (warned about)",
                "oneOf": [{"type": "object", "propertyNames": {"pattern": YEAR["pattern"]},
                           "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1}},
                          {"type": "array", "items": YEAR}]},
            "authority_class": {"enum": ["social_care", "district"], "default": "social_care",
                                "description": "whose referendum principles apply: an authority with adult social "
                                               "care responsibilities, or a shire district (a percentage or £5)"},
            "asc_precept_before": {"type": "object", "propertyNames": {"pattern": YEAR["pattern"]},
                                   "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
                                   "description": "social care precepts of years before the plan, for the principles "
                                                  "that carry across years (2017/18-2019/20, 2021/22's deferral)"},
            "referendum_limits": {
                "type": "object", "propertyNames": {"pattern": YEAR["pattern"]},
                "description": "referendum limits by year, adding to or overriding the table shipped: a total rise "
                               "of core + asc or more is excessive (and more than pounds, when given)",
                "additionalProperties": _table({"core": _number("the core threshold", 0, 1),
                                                "asc": _number("the social care allowance on top", 0, 1),
                                                "pounds": {"type": "number", "minimum": 0,
                                                           "description": "a district's £ alternative on Band D"}},
                                               ["core", "asc"]),
            },
        },
        ["tax_base", "band_d"],
        "council tax: income = tax base x Band D x collection rate, to the penny, plus surplus less deficit",
    )
    business_rates = _table(
        {
            "baseline_funding_level": _first_or_by_year("the baseline funding level (pounds)"),
            "uprating": _growth("the yearly uprating of the baseline funding level and the rates baseline"),
            "baseline_rates": _money("rates collected at the baseline in the first plan year"),
            "growth": _growth("growth in rates collected, each year after the first"),
            "retention_share": _number("share of growth kept (0.49 under 50% retention, 0.99 in the pilots)", 0, 1),
            "levy_rate": _number("levy on retained growth", 0, 1, 0.0),
            "safety_net": _number("income never below this fraction of the baseline funding level", 0, 1, 0.0),
            "reset_year": {**YEAR, "description": "a reset: growth accumulated before it is lost from it"},
        },
        ["baseline_funding_level", "baseline_rates", "retention_share"],
        "business rates: baseline funding level + retained share of growth - levy, at least the safety net",
    )
    grant = _table(
        {
            "name": {"type": "string"},
            "amount": {"description": "pounds a year: one amount for every year until it ends, or by year; "
                                      "each a number or a distribution",
                       "oneOf": [amount, {"type": "object", "propertyNames": {"pattern": YEAR["pattern"]},
                                          "additionalProperties": amount}]},
            "certainty": {"enum": ["confirmed", "indicative", "assumed"], "default": "confirmed"},
            "ends": {**YEAR, "description": "the last year it is paid: nothing after (a cliff edge)"},
        },
        ["name", "amount"],
    )
    fee = _table(
        {
            "name": {"type": "string"},
            "price": _money("price per unit in the year before the plan"),
            "volume": {"type": ["number", "string"], "description": "units a year in the year before the plan"},
            "price_driver": {"type": "string", "description": "the driver of the price (none: unchanged)"},
            "volume_driver": {"type": "string", "description": "the driver of the volume (none: unchanged)"},
        },
        ["name", "price", "volume"],
    )
    return _table(
        {"council_tax": council_tax, "business_rates": business_rates,
         "grants": {"type": "array", "items": grant}, "fees": {"type": "array", "items": fee}},
        [],
        "the funding side of the MTFS: with it, the gap is spending less funding less savings",
    )


def _mrp(description: str) -> dict[str, Any]:
    years = {"type": "integer", "minimum": 1, "maximum": 250, "description": "years (asset life)"}
    return {
        "description": description + ": an MRP method",
        "oneOf": [
            _table({"method": {"const": "straight_line"}, "years": years}, ["method", "years"]),
            _table({"method": {"const": "annuity"}, "years": years, "rate": _number("the annuity rate", 0, 1)},
                   ["method", "years", "rate"]),
            _table({"method": {"const": "fixed"}, "amount": _money("a fixed MRP a year, until repaid")}, ["method", "amount"]),
            _table({"method": {"const": "reducing_balance"},
                    "rate": _number("the share of the balance a year (0.04: the regulatory method for supported borrowing)",
                                    0, 1)},
                   ["method", "rate"]),
        ],
    }


def _capital() -> dict[str, Any]:
    project = _table(
        {
            "name": {"type": "string"},
            "spend": _by_year("capital spend"),
            "grants": _by_year("financed by capital grants"),
            "receipts": _by_year("financed by capital receipts"),
            "revenue": _by_year("financed from revenue (a cost in the year)"),
            "mrp": _mrp("the MRP method of the project's borrowing (the rest of the spend is borrowed)"),
            "slippage": _distribution("the share of each year's spend (with its financing) that slips to the next "
                                      "year, 0 to 1, drawn once per trial"),
            "overrun": _distribution("cost overrun as a share of the spend (0.2 is 20% more), at or above 0, borrowed"),
            "receipts_shortfall": _distribution("the share of the project's capital receipts not realised, 0 to 1, "
                                                "borrowed instead"),
        },
        ["name", "spend", "mrp"],
    )
    flexible = _table(
        {
            "name": {"type": "string"},
            "amount": _by_year("capital receipts used for the revenue costs of transformation (off the year's gap; "
                               "the programme borrows as much instead)"),
            "mrp_years": {"type": "integer", "minimum": 1, "maximum": 250, "default": 20,
                          "description": "years of straight-line MRP on the borrowing that replaces them"},
        },
        ["name", "amount"],
    )
    direction = _table(
        {
            "name": {"type": "string"},
            "amount": _by_year("revenue spending capitalised (exceptional financial support)"),
            "mrp_years": {"type": "integer", "minimum": 1, "maximum": 250, "default": 20,
                          "description": "years of straight-line MRP"},
            "premium": _number("interest premium over borrowing_rate (0.01 is one point)", 0, 1, 0.0),
            "funds_plan_gap": {"type": "boolean", "default": True,
                               "description": "the amount funds the plan's gap in its year (false: a gap outside the plan)"},
        },
        ["name", "amount"],
    )
    return _table(
        {
            "opening_cfr": _money("capital financing requirement at the start of the plan"),
            "opening_debt": _money("external debt at the start of the plan"),
            "mrp": _mrp("the MRP policy on the opening CFR (its unsupported part, with supported_cfr)"),
            "supported_cfr": _money("of the opening CFR, supported borrowing (pre-2008, recognised by revenue support)", 0),
            "supported_mrp": {**_mrp("the MRP policy on the supported part"),
                              "default": {"method": "reducing_balance", "rate": 0.04}},
            "mrp_charged": {"description": "MRP actually charged on the opening CFR by year, when it differs from the "
                                           "policy (below it: flagged); each a number or a distribution",
                            "type": "object", "propertyNames": {"pattern": YEAR["pattern"]},
                            "additionalProperties": {"oneOf": [{"type": ["number", "string"]},
                                                               _distribution("an uncertain MRP")]}},
            "mrp_from_receipts": _by_year("capital receipts set aside in place of MRP (not allowed from 2025/26 "
                                          "except for capital loans and leases: flagged)"),
            "debt_rate": _number("average interest rate on the opening debt", 0, 1),
            "borrowing_rate": {
                "description": "interest rate on new borrowing and refinancing in the year it is taken: a fraction, "
                               "a driver's name, or fractions by year (every year given)",
                "oneOf": [
                    {"type": "number", "minimum": 0, "maximum": 1},
                    {"type": "string"},
                    {"type": "object", "propertyNames": {"pattern": YEAR["pattern"]},
                     "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1}},
                ],
            },
            "refinancing": _by_year("opening debt refinanced in the year at that year's borrowing rate"),
            "programme_correlation": _number("correlation of the projects' slippage, overrun and receipts shortfall "
                                             "(one common factor per input)", 0, 1, 0.0),
            "investments": _money("investments held", 0),
            "investment_rate": _number("yield on investments", 0, 1, 0.0),
            "budgeted": _by_year("capital financing costs the budget already provides (the gap takes the rest)"),
            "authorised_limit": _money("the authorised limit for external debt"),
            "operational_boundary": _money("the operational boundary for external debt"),
            "core_spending_power": _by_year("core spending power, for debt relative to it"),
            "programme": {"type": "array", "items": project},
            "directions": {"type": "array", "items": direction},
            "commercial": {"type": "array", "items": _table(
                {"name": {"type": "string"}, "income": _money("commercial income a year (its risks are register risks)"),
                 "risk": {"type": "string", "description": "the register risk whose cost is this income lost"},
                 "mrp_relief": _money("MRP no longer charged in a year the income is lost (needs risk)", 0),
                 "first_year": {**YEAR, "description": "the year the income starts (default: every year)"},
                 "project": {"type": "string", "description": "or: the capital project whose asset earns it; the "
                                                              "income starts with its financing, the year after its "
                                                              "first spend"}},
                ["name", "income"])},
            "flexible_receipts": {"type": "array", "items": flexible},
            "loans": {"type": "array", "items": _table(
                {"name": {"type": "string"},
                 "principal": _money("the principal outstanding at the start of the plan, inside the opening CFR"),
                 "rate": _number("the interest rate the borrower pays, a year", 0, 1, 0),
                 "expected_credit_loss": _per_year("the credit loss newly expected in each year (pounds, ≥ 0), "
                                                   "charged as MRP in its year")},
                ["name", "principal"],
                "a loan to a company or another body, financed by borrowing inside the CFR")},
            "enforce_prudent_mrp": {"type": "boolean", "default": False,
                                    "description": "charge the prudent MRP the statutory guidance requires instead "
                                                   "of the policy and mrp_charged"},
        },
        ["opening_cfr", "opening_debt", "mrp", "debt_rate", "borrowing_rate"],
        "capital financing: MRP, interest and capitalisation directions; the net cost beyond `budgeted` enters the gap",
    )


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (TOML or JSON).

    >>> s = scenario_schema()
    >>> sorted(s["properties"])[:4]
    ['budget_setting', 'capital', 'collection_fund', 'correlations']
    """
    minimum = {
        "description": "the general fund's minimum balance: one of the forms; default { amount = 0 }",
        "oneOf": [
            _table({"amount": _money("a fixed minimum")}, ["amount"]),
            _table({"percent_of_budget": _number("a share of each year's net budget (0.05 is 5%)", 0, 1)}, ["percent_of_budget"]),
            _table({"risk_assessed": _number("that quantile of the plan's cumulative one-off exposure beyond the budget", 0.5, 1)}, ["risk_assessed"]),
            _table({"risk_matrix": {"type": "array", "items": _table(
                {"up_to": _number("a likelihood band's upper probability", 0, 1),
                 "factor": _number("the share of impact provided for", 0, 1)}, ["up_to", "factor"])}}, ["risk_matrix"]),
        ],
    }
    earmarked = _table(
        {
            "name": {"type": "string", "description": "the reserve's name (not general_fund)"},
            "balance": _money("balance at the start, committed part included"),
            "committed": _money("already promised: never available for a gap", 0),
            "usable": {"type": "boolean", "description": "false: ring-fenced (e.g. schools balances), never drawn"},
            "minimum": _money("drawn below this only once the general fund is empty", 0),
            "draw_order": {"type": "integer", "default": 0, "description": "lower is drawn first; ties in file order"},
            "planned_use": _by_year("planned use of this reserve"),
            "planned_contribution": _by_year("planned contribution to this reserve"),
        },
        ["name", "balance", "usable"],
    )
    transfer = _table(
        {"year": YEAR, "from": {"type": "string", "description": "a reserve's name, or general_fund"},
         "to": {"type": "string", "description": "a reserve's name, or general_fund"},
         "amount": _money("the amount moved at the start of the year, at most what `from` holds")},
        ["year", "from", "to", "amount"],
    )
    reserves = _table(
        {
            "general_fund": _money("unallocated general fund balance at the start; negative: a deficit brought "
                                   "forward, which the first budget must provide for", 0),
            "earmarked": {"type": "array", "items": earmarked},
            "planned_use": _by_year("planned use of the general fund for one-off spending"),
            "planned_use_for_recurring": _by_year("planned use that balances recurring spending (a policy breach unless allowed)"),
            "planned_contribution": _by_year("planned contribution to the general fund"),
            "transfers": {"type": "array", "items": transfer},
            "planned": {"not": {}, "description": "refused: a bare signed number; write planned_use or planned_contribution"},
        },
        [],
    )
    rags = ["delivered", "green", "amber", "red"]
    return {
        "$schema": DRAFT,
        "title": "fiscalrisk scenario",
        "description": "A multi-year financial plan: funding gap, savings, risks and reserves. Amounts in pounds.",
        **_table(
            {
                "plan": _table(
                    {
                        "name": {"type": "string"},
                        "first_year": YEAR,
                        "years": {"type": "integer", "minimum": 1},
                        "net_budget": {"type": "array", "items": _money("net budget of a year, > 0"),
                                       "description": "net budget of each year, one per year; optional with [funding] "
                                                      "(then the central case's funding)"},
                        "management_response": _number(
                            "fraction of the recurring gap still open that each year closes (accumulating)", 0, 1, 0.0),
                    },
                    ["name", "first_year", "years"],
                ),
                "pressures": {"type": "array", "items": _table(
                    {"name": {"type": "string"},
                     "amount": _distribution("a cost pressure, annual when recurring (positive is a cost)"),
                     "first_year": YEAR,
                     "recurring": {"type": "boolean", "default": True}},
                    ["name", "amount", "first_year"])},
                "savings": {"type": "array", "items": _table(
                    {"id": {"type": "string"}, "name": {"type": "string"}, "year": YEAR,
                     "value": _money("the full-year saving, ≥ 0"),
                     "rag": {"enum": rags},
                     "recurring": {"type": "boolean", "default": True,
                                   "description": "false: one-off, falls out of the base budget the next year"},
                     "directorate": {"type": "string"},
                     "delivery": _delivery("this saving's own delivery model instead of its RAG status's")},
                    ["id", "name", "year", "value", "rag"])},
                "savings_delivery": {
                    "type": "object",
                    "description": "delivery models by RAG status (defaults otherwise) and how deliveries move together",
                    "properties": {
                        "programme_correlation": _number(
                            "latent correlation of any two savings due in one year (one-factor model)", 0, 1, 0.0),
                        "directorate_correlation": _number(
                            "further correlation of two savings of one directorate due in one year", 0, 1, 0.0),
                        "unidentified": _delivery("the delivery model of savings still to be identified (default: never delivered)"),
                    },
                    "propertyNames": {"enum": [*rags, "unidentified", "programme_correlation", "directorate_correlation"]},
                    "additionalProperties": _delivery("a RAG status's delivery model"),
                },
                "risks": {"type": "array", "items": _risk()},
                "correlations": _correlations(),
                "reserves": reserves,
                "policy": _table(
                    {"minimum_general_fund": minimum,
                     "s114_floor": _money("the statutory test's floor on usable reserves (independent of the "
                                          "general fund's minimum)", 0),
                     "reserves_for_recurring_gaps": {"type": "boolean", "default": False,
                                                     "description": "whether reserves may fund recurring spending"}},
                    [],
                ),
                "in_year": _table(
                    {"overspend": _distribution("this year's forecast outturn less budget, met from reserves before the first year"),
                     "one_off_mitigations": _money("one-off measures inside that forecast; the underlying overspend recurs", 0),
                     "in_base": {"type": "boolean", "default": False,
                                 "description": "the plan's base budgets already include the underlying overspend "
                                                "(set after the forecast): nothing recurs"}},
                    ["overspend"],
                ),
                "opening_overspend": _distribution("the older one-off form of in_year.overspend"),
                "unidentified": _by_year("savings the budget assumes but no one has yet found, by due year; recurring, "
                                         "never delivered unless savings_delivery.unidentified gives a model"),
                "drivers": {"type": "array", "description": "named yearly rates that compound: a driver's index in year y "
                                                            "is the product of 1 + rate up to y",
                            "items": _table(
                                {"name": {"type": "string", "description": "unique; spending, funding and correlations name it"},
                                 "rate": {"description": "one rate for every year, or one per year of the plan (a "
                                                         "table by year, or an array in the plan's order)",
                                          "oneOf": [_rate("the rate"),
                                                    {"type": "array", "items": _rate("the year's rate"), "minItems": 1},
                                                    {"type": "object", "propertyNames": {"pattern": YEAR["pattern"]},
                                                     "additionalProperties": _rate("the year's rate")}]},
                                 "description": {"type": "string"},
                                 "persistence": _number("the year-to-year correlation of its shocks: 1 lasts the plan, "
                                                        "0 draws each year afresh", 0, 1, 1.0)},
                                ["name", "rate"])},
                "funding": _funding(),
                "capital": _capital(),
                "hra": _table(
                    {"balance": _money("the Housing Revenue Account's balance at the start of the plan"),
                     "minimum": _money("its policy minimum balance", 0),
                     "income": {"type": "array", "items": _money("the year's income: rents, service charges, grants"),
                                "description": "income by year, one per plan year in order"},
                     "spending": {"type": "array", "items": _money("the year's spending: management, maintenance, "
                                                                   "capital charges"),
                                  "description": "spending by year, one per plan year in order"}},
                    ["balance", "income", "spending"],
                    "the Housing Revenue Account, ring-fenced (Local Government and Housing Act 1989, Schedule 4): its "
                    "own ledger, never part of usable reserves or drawn for the general fund",
                ),
                "provisions": {
                    "type": "array",
                    "description": "provisions (IAS 37): charged to revenue when recognised, paid in cash later",
                    "items": _table(
                        {"name": {"type": "string", "description": "what it is, e.g. equal pay; unique"},
                         "opening": _money("the provision's balance at the start of the plan, charged in earlier years", 0),
                         "recognised": _per_year("what each year recognises and charges to revenue (pounds a year, ≥ 0)"),
                         "accrual_per_month": _per_year("or: the monthly accrual in each year (pounds a month, ≥ 0; "
                                                        "the year is charged 12 months of one rate)"),
                         "payments": {"type": "array", "items": _money("cash paid out in the year (≥ 0)"),
                                      "description": "cash paid out of the provision by year, one per plan year"}},
                        ["name"],
                    ),
                },
                "dsg": _table(
                    {"deficit": _money("the cumulative Dedicated Schools Grant deficit at the start of the plan (≥ 0)"),
                     "in_year": _per_year("what each year adds to the deficit (pounds; negative: the year reduces it)"),
                     "override_ends": {**YEAR, "default": "2027/28",
                                       "description": "the statutory override's last year; what is left falls on the "
                                                      "general fund the next year"},
                     "write_off": _table(
                         {"share": _number("share of the deficit government clears", 0, 1, 0.9),
                          "of_deficit_at": {**YEAR, "default": "2025/26",
                                            "description": "the year whose closing deficit is cleared, in the next year"},
                          "probability": _number("probability the council qualifies (an approved SEND reform plan)",
                                                 0, 1, 1.0)},
                         [],
                         "government clearing a share of the deficit (the High Needs Stability Grant)",
                     ),
                     "interest_rate": _number("interest a year on the year's average deficit while it is held", 0, 1, 0)},
                    ["deficit", "in_year"],
                    "the DSG deficit in its unusable reserve under the statutory override",
                ),
                "collection_fund": _table(
                    {"brought_forward": _money("the deficit estimated in the January before the plan, falling on its "
                                               "first year (negative: a surplus)", 0),
                     "council_tax": _per_year("council tax: each year's estimated deficit, the council's share, falling "
                                              "on the next year's budget (pounds; negative: a surplus)"),
                     "business_rates": _per_year("business rates: the same"),
                     "spread_years": {"type": "integer", "minimum": 1, "maximum": 3, "default": 1,
                                      "description": "over how many years' budgets each deficit is spread"}},
                    [],
                    "collection fund surpluses and deficits, falling on the next year's budget",
                ),
                "treasury": _table(
                    {"investment_rate": _number("the yield on cash, a year", 0, 1),
                     "borrowing_rate": _number("the rate a shortfall of cash below internal borrowing is borrowed at "
                                               "(default: capital.borrowing_rate in the first year)", 0, 1),
                     "working_capital": _money("working capital in cash (creditors less debtors)", 0),
                     "internal_borrowing": _money("the CFR not covered by external debt (default: capital's opening "
                                                  "CFR less its opening debt, else 0)")},
                    ["investment_rate"],
                    "treasury cash: usable reserves + provisions - the DSG deficit + working capital; the gap moves by "
                    "the net interest lost on cash below its level at the plan's start",
                ),
                "efs": _table(
                    {"capitalise": {"type": "boolean", "default": True,
                                    "description": "a failed in-year test is met by capitalising the shortfall below the floor"},
                     "mrp_years": {"type": "integer", "minimum": 1, "maximum": 50, "default": 20,
                                   "description": "years of straight-line MRP on each direction, from the next year"},
                     "premium": _number("interest premium over the borrowing rate (default 0.01 before 2025/26, 0 from "
                                        "2025/26: an assumption)", 0, 0.1),
                     "limit": _money("the most that may be capitalised over the plan (default: no limit)"),
                     "borrowing_rate": _number("the rate a direction is borrowed at (default capital.borrowing_rate; "
                                               "required without [capital])", 0, 0.25)},
                    [],
                    "exceptional financial support as a response to a failed in-year statutory test",
                ),
                "budget_setting": _table(
                    {"council_tax": {"enum": ["as_planned", "to_limit"], "default": "as_planned",
                                     "description": "how far each budget raises council tax to close the recurring gap "
                                                    "carried in: as the plan says, or up to the referendum limit"},
                     "new_savings_capacity": {
                         "description": "the share of the net budget new savings can close in a year (0.02 is 2%; "
                                        "default 0.02): a number or a distribution",
                         "oneOf": [_number("a fixed share", 0, 1), _distribution("a share drawn each year")]},
                     "new_savings_delivery": _delivery("how new savings are delivered (default: the programme's amber model)")},
                    [],
                    "a budget set every year: council tax to the limit, then new savings up to a capacity, then reserves",
                ),
                "spending": {"type": "array", "description": "spending lines before savings, in one of three forms",
                             "items": _table(
                                 {"name": {"type": "string"},
                                  "base": _money("the budget of the year before the plan"),
                                  "drivers": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
                                              "description": "driver name -> share of the base it moves (at most 1 in total)"},
                                  "population": {"type": ["number", "string"],
                                                 "description": "a demand line: people or cases in the year before the plan"},
                                  "population_driver": {"type": "string"},
                                  "unit_cost": _money("pounds per person or case a year, the year before the plan"),
                                  "unit_cost_driver": {"type": "string"},
                                  "amount": _by_year("fixed amounts, every year of the plan")},
                                 ["name"])},
            },
            ["plan"],
        ),
    }


def register_schema() -> dict[str, Any]:
    """The JSON Schema of a risk register file (TOML or JSON)."""
    return {
        "$schema": DRAFT,
        "title": "fiscalrisk risk register",
        **_table(
            {
                "first_year": YEAR,
                "years": {"type": "integer", "minimum": 1},
                "risks": {"type": "array", "items": _risk()},
                "correlations": _correlations(),
            },
            [],
        ),
    }


def to_json(schema: dict[str, Any]) -> str:
    """The schema as indented JSON text."""
    return json.dumps(schema, indent=2, ensure_ascii=False)
