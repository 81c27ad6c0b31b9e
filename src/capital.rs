//! Capital financing: the capital financing requirement (CFR), minimum revenue provision (MRP),
//! interest on debt, capitalisation directions (exceptional financial support) and the
//! prudential indicators, by year, in exact decimals.
//!
//! Councils that failed through capital and debt (commercial property and company loans
//! bought with borrowing, MRP charged too low for years) fail on this side of the budget. A
//! scenario's `[capital]` section gives the opening CFR and debt, the MRP policy on them, a
//! capital programme with its financing, and capitalisation directions; each year's revenue
//! cost (MRP plus interest, less investment and commercial income) beyond what the budget
//! already provides (`budgeted`) enters the plan's gap.
//!
//! Conventions, each in the README's input table:
//!
//! * borrowing in a year adds to the CFR at the year's end; its MRP and interest start the next
//!   year (MRP "in the year after the asset comes into use");
//! * every tranche of borrowing (the opening CFR, each project's borrowing of a year, each
//!   year's capitalisation direction) is repaid by its own MRP method, and carries interest on
//!   its balance at the start of each year: the opening debt at `debt_rate`, new borrowing at
//!   `borrowing_rate`, a capitalisation direction at `borrowing_rate + premium`;
//! * external debt moves with the CFR (new borrowing is external; MRP repays it), so internal
//!   borrowing (CFR less debt) stays what it was at the start.
//!
//! # Examples
//!
//! Straight-line MRP on £10m over five years is £2m a year:
//!
//! ```
//! use fiscalrisk::capital::{Mrp, mrp_schedule};
//! use rust_decimal::Decimal;
//! let s = mrp_schedule(&Mrp::StraightLine { years: 5 }, Decimal::new(10_000_000, 0), 7);
//! assert_eq!(s, [2e6, 2e6, 2e6, 2e6, 2e6, 0.0, 0.0].map(|x| Decimal::try_from(x).unwrap()));
//! ```

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::money::Money;
use crate::period::Horizon;

/// Errors in `[capital]`, each naming its key path.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CapitalError {
    /// A bad value.
    #[error("{field}: {message}")]
    Invalid {
        /// The key path (`capital.programme[2].grants."2020/21"`).
        field: String,
        /// What is wrong.
        message: String,
    },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> CapitalError {
    CapitalError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// An MRP method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Mrp {
    /// Equal amounts over `years` (asset life).
    StraightLine {
        /// Years.
        years: u32,
    },
    /// The principal part of an annuity over `years` at `rate`: smaller amounts first.
    Annuity {
        /// Years.
        years: u32,
        /// The annuity rate (a fraction).
        rate: f64,
    },
    /// A fixed amount a year until the balance is repaid.
    Fixed {
        /// £ a year.
        amount: Money,
    },
}

/// A capital project (`[[capital.programme]]`): its spend by year and how it is financed; what
/// grants, capital receipts and revenue do not finance is borrowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSpec {
    /// Its name.
    pub name: String,
    /// Spend by year (£ ≥ 0).
    pub spend: BTreeMap<String, Money>,
    /// Financed by grants, by year.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub grants: BTreeMap<String, Money>,
    /// Financed by capital receipts, by year.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub receipts: BTreeMap<String, Money>,
    /// Financed from revenue, by year (a revenue contribution: a cost in the year).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub revenue: BTreeMap<String, Money>,
    /// The MRP method of its borrowing (asset life).
    pub mrp: Mrp,
}

/// A capitalisation direction (`[[capital.directions]]`): revenue spending the government
/// allows to be funded from borrowing or receipts, by year; it is repaid by MRP and carries
/// interest at a premium over the borrowing rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectionSpec {
    /// Its name.
    pub name: String,
    /// The amount capitalised by year (£ ≥ 0).
    pub amount: BTreeMap<String, Money>,
    /// Years of straight-line MRP (20 unless the direction says otherwise).
    #[serde(default = "twenty")]
    pub mrp_years: u32,
    /// The interest premium over `borrowing_rate` (a fraction; 0.01 is one percentage point).
    #[serde(default)]
    pub premium: f64,
    /// Whether the gap it funds is in the plan's ledger: true (the default) takes the amount
    /// off the year's gap, as the direction funds it; false when the plan's gap does not
    /// include it (a past year's deficit, say).
    #[serde(default = "yes")]
    pub funds_plan_gap: bool,
}

fn twenty() -> u32 {
    20
}

fn yes() -> bool {
    true
}

/// Commercial income (`[[capital.commercial]]`): rent from investment property, interest on
/// loans to companies. Its risks (a tenant default, an impairment) are risks of the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommercialSpec {
    /// Its name.
    pub name: String,
    /// Income a year (£ ≥ 0).
    pub income: Money,
}

/// The capital section (`[capital]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapitalSpec {
    /// The CFR at the start of the plan (£).
    pub opening_cfr: Money,
    /// External debt at the start of the plan (£).
    pub opening_debt: Money,
    /// The MRP policy on the opening CFR.
    pub mrp: Mrp,
    /// The MRP the council actually charges on the opening CFR, by year, when it differs from
    /// the policy (below it: flagged as imprudent).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mrp_charged: BTreeMap<String, Money>,
    /// The average interest rate on the opening debt (a fraction).
    pub debt_rate: f64,
    /// The rate on new borrowing (a fraction).
    pub borrowing_rate: f64,
    /// Investments held (£) and their yield.
    #[serde(default)]
    pub investments: Money,
    /// The yield on investments (a fraction).
    #[serde(default)]
    pub investment_rate: f64,
    /// Capital financing costs the budget already provides, by year (£): the gap takes only
    /// the cost beyond them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub budgeted: BTreeMap<String, Money>,
    /// The authorised limit for external debt (£).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorised_limit: Option<Money>,
    /// The operational boundary for external debt (£).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operational_boundary: Option<Money>,
    /// Core spending power by year (£), for debt relative to it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub core_spending_power: BTreeMap<String, Money>,
    /// The capital programme.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub programme: Vec<ProjectSpec>,
    /// Capitalisation directions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directions: Vec<DirectionSpec>,
    /// Commercial income.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commercial: Vec<CommercialSpec>,
}

/// MRP on `amount` by year from its first year (index 0) for `years` years: straight-line,
/// the principal part of an annuity (`amount * r (1 + r)^(k-1) / ((1 + r)^n - 1)` in year k),
/// or a fixed amount until repaid. Never more than what is left.
pub fn mrp_schedule(method: &Mrp, amount: Decimal, years: usize) -> Vec<Decimal> {
    let mut out = vec![Decimal::ZERO; years];
    let mut left = amount;
    for (k, slot) in out.iter_mut().enumerate() {
        let due = match method {
            Mrp::StraightLine { years: n } => {
                if (k as u32) < *n {
                    amount / Decimal::from(*n)
                } else {
                    Decimal::ZERO
                }
            }
            Mrp::Annuity { years: n, rate } => {
                if (k as u32) >= *n {
                    Decimal::ZERO
                } else {
                    let r = crate::funding::fraction(*rate);
                    if r.is_zero() {
                        amount / Decimal::from(*n)
                    } else {
                        let growth =
                            |p: u32| (0..p).fold(Decimal::ONE, |acc, _| acc * (Decimal::ONE + r));
                        amount * r * growth(k as u32) / (growth(*n) - Decimal::ONE)
                    }
                }
            }
            Mrp::Fixed { amount: a } => a.decimal(),
        };
        let take = due.min(left);
        *slot = take;
        left -= take;
    }
    out
}

/// One year of [`CapitalPlan::years`], exact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapitalYear {
    /// The year.
    pub year: String,
    /// CFR at the start.
    pub cfr_start: Money,
    /// Borrowing in the year (programme and capitalisation directions).
    pub borrowing: Money,
    /// Of which capitalisation directions.
    pub capitalised: Money,
    /// MRP charged.
    pub mrp: Money,
    /// MRP the stated policies require (the opening CFR's policy, not what is charged).
    pub mrp_required: Money,
    /// Whether MRP charged is below what the policies require.
    pub mrp_below_policy: bool,
    /// CFR at the end.
    pub cfr_end: Money,
    /// External debt at the end.
    pub debt_end: Money,
    /// Interest on debt.
    pub interest: Money,
    /// Investment income.
    pub investment_income: Money,
    /// Commercial income.
    pub commercial_income: Money,
    /// Revenue contributions to capital.
    pub revenue_contributions: Money,
    /// Net capital financing cost: MRP + interest + revenue contributions - investment and
    /// commercial income.
    pub financing_cost: Money,
    /// What the budget already provides.
    pub budgeted: Money,
    /// The cost beyond it, less the capitalisation directions that fund the plan's gap: what
    /// enters the year's gap.
    pub gap_effect: Money,
}

/// The capital plan compiled: tranches and flows by year.
#[derive(Debug, Clone)]
pub struct CapitalPlan {
    spec: CapitalSpec,
    labels: Vec<String>,
    rows: Vec<CapitalYear>,
}

fn by_year(
    field: &str,
    map: &BTreeMap<String, Money>,
    horizon: &Horizon,
) -> Result<Vec<Decimal>, CapitalError> {
    let mut out = vec![Decimal::ZERO; horizon.len()];
    for (label, m) in map {
        let f = format!("{field}.{label:?}");
        money(&f, *m)?;
        let y = crate::funding::plan_year(label, horizon).map_err(|e| invalid(&f, e))?;
        out[y] = m.decimal();
    }
    Ok(out)
}

fn money(field: &str, m: Money) -> Result<(), CapitalError> {
    crate::funding::amount_problem(m).map_or(Ok(()), |e| Err(invalid(field, e)))
}

fn rate(field: &str, x: f64) -> Result<Decimal, CapitalError> {
    if !x.is_finite() || !(0.0..=1.0).contains(&x) {
        return Err(invalid(
            field,
            format!("{x:?} is not a yearly rate between 0 and 1 (0.04 is 4%)"),
        ));
    }
    Ok(crate::funding::fraction(x))
}

fn check_mrp(field: &str, m: &Mrp) -> Result<(), CapitalError> {
    match m {
        Mrp::StraightLine { years } | Mrp::Annuity { years, .. } if *years == 0 || *years > 250 => {
            Err(invalid(
                format!("{field}.years"),
                format!("{years} is not between 1 and 250"),
            ))
        }
        Mrp::Annuity { rate: r, .. } => rate(&format!("{field}.rate"), *r).map(|_| ()),
        Mrp::Fixed { amount } => {
            money(&format!("{field}.amount"), *amount)?;
            if amount.decimal().is_zero() {
                return Err(invalid(
                    format!("{field}.amount"),
                    "0 never repays the debt",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A tranche: its amount, the year it is borrowed, its MRP method and interest rate.
struct Tranche {
    amount: Decimal,
    from: usize,
    mrp: Mrp,
    rate: Decimal,
    /// The opening CFR (its MRP may be overridden by what is charged).
    opening: bool,
}

impl CapitalPlan {
    /// Validates `[capital]` against the plan's years and runs it.
    pub fn new(spec: &CapitalSpec, horizon: &Horizon) -> Result<CapitalPlan, CapitalError> {
        let f = "capital";
        let years = horizon.len();
        money(&format!("{f}.opening_cfr"), spec.opening_cfr)?;
        money(&format!("{f}.opening_debt"), spec.opening_debt)?;
        money(&format!("{f}.investments"), spec.investments)?;
        check_mrp(&format!("{f}.mrp"), &spec.mrp)?;
        let debt_rate = rate(&format!("{f}.debt_rate"), spec.debt_rate)?;
        let borrowing_rate = rate(&format!("{f}.borrowing_rate"), spec.borrowing_rate)?;
        let investment_rate = rate(&format!("{f}.investment_rate"), spec.investment_rate)?;
        for (k, v) in [
            ("authorised_limit", spec.authorised_limit),
            ("operational_boundary", spec.operational_boundary),
        ] {
            if let Some(m) = v {
                money(&format!("{f}.{k}"), m)?;
            }
        }
        let charged = by_year(&format!("{f}.mrp_charged"), &spec.mrp_charged, horizon)?;
        let labels = horizon.labels();
        let charged_given: Vec<bool> = labels
            .iter()
            .map(|l| spec.mrp_charged.contains_key(l))
            .collect();
        let budgeted = by_year(&format!("{f}.budgeted"), &spec.budgeted, horizon)?;
        by_year(
            &format!("{f}.core_spending_power"),
            &spec.core_spending_power,
            horizon,
        )?;
        let mut tranches = vec![Tranche {
            amount: spec.opening_cfr.decimal(),
            from: 0,
            mrp: spec.mrp.clone(),
            rate: Decimal::ZERO,
            opening: true,
        }];
        let mut borrowing = vec![Decimal::ZERO; years];
        let mut capitalised = vec![Decimal::ZERO; years];
        let mut funds_gap = vec![Decimal::ZERO; years];
        let mut revenue = vec![Decimal::ZERO; years];
        let mut names = std::collections::BTreeSet::new();
        for (i, p) in spec.programme.iter().enumerate() {
            let pf = format!("{f}.programme[{i}]");
            if !names.insert(p.name.trim().to_string()) {
                return Err(invalid(
                    format!("{pf}.name"),
                    format!("{:?} is given twice", p.name),
                ));
            }
            check_mrp(&format!("{pf}.mrp"), &p.mrp)?;
            let spend = by_year(&format!("{pf}.spend"), &p.spend, horizon)?;
            let grants = by_year(&format!("{pf}.grants"), &p.grants, horizon)?;
            let receipts = by_year(&format!("{pf}.receipts"), &p.receipts, horizon)?;
            let rev = by_year(&format!("{pf}.revenue"), &p.revenue, horizon)?;
            for y in 0..years {
                let borrowed = spend[y] - grants[y] - receipts[y] - rev[y];
                if borrowed < Decimal::ZERO {
                    return Err(invalid(
                        pf.clone(),
                        format!(
                            "in {} grants, receipts and revenue finance {} more than the spend of {}",
                            horizon.first().offset(y as u32),
                            -borrowed,
                            spend[y]
                        ),
                    ));
                }
                revenue[y] += rev[y];
                if borrowed > Decimal::ZERO {
                    borrowing[y] += borrowed;
                    tranches.push(Tranche {
                        amount: borrowed,
                        from: y + 1,
                        mrp: p.mrp.clone(),
                        rate: borrowing_rate,
                        opening: false,
                    });
                }
            }
        }
        for (i, d) in spec.directions.iter().enumerate() {
            let df = format!("{f}.directions[{i}]");
            if d.mrp_years == 0 || d.mrp_years > 250 {
                return Err(invalid(
                    format!("{df}.mrp_years"),
                    format!("{} is not between 1 and 250", d.mrp_years),
                ));
            }
            let premium = rate(&format!("{df}.premium"), d.premium)?;
            let amount = by_year(&format!("{df}.amount"), &d.amount, horizon)?;
            for (y, a) in amount.iter().enumerate() {
                if *a > Decimal::ZERO {
                    borrowing[y] += a;
                    capitalised[y] += a;
                    if d.funds_plan_gap {
                        funds_gap[y] += a;
                    }
                    tranches.push(Tranche {
                        amount: *a,
                        from: y + 1,
                        mrp: Mrp::StraightLine { years: d.mrp_years },
                        rate: borrowing_rate + premium,
                        opening: false,
                    });
                }
            }
        }
        let mut commercial = Decimal::ZERO;
        for (i, c) in spec.commercial.iter().enumerate() {
            money(&format!("{f}.commercial[{i}].income"), c.income)?;
            commercial += c.income.decimal();
        }
        // Each tranche's MRP and its balance at the start of each year.
        let mut mrp_required = vec![Decimal::ZERO; years];
        let mut mrp = vec![Decimal::ZERO; years];
        let mut interest = vec![Decimal::ZERO; years];
        for t in &tranches {
            if t.from >= years {
                continue;
            }
            let schedule = mrp_schedule(&t.mrp, t.amount, years - t.from);
            let mut balance = t.amount;
            for (k, m) in schedule.iter().enumerate() {
                let y = t.from + k;
                if !t.opening {
                    interest[y] += t.rate * balance;
                }
                mrp_required[y] += m;
                let charge = if t.opening && charged_given[y] {
                    charged[y].min(balance)
                } else {
                    *m
                };
                mrp[y] += charge;
                balance -= charge;
            }
        }
        // The opening debt carries its own rate, on the part not yet repaid.
        let mut debt = spec.opening_debt.decimal();
        let mut cfr = spec.opening_cfr.decimal();
        let opening_share = |repaid: Decimal| {
            if spec.opening_debt.decimal() > Decimal::ZERO {
                (spec.opening_debt.decimal() - repaid).max(Decimal::ZERO)
            } else {
                Decimal::ZERO
            }
        };
        let mut repaid_opening = Decimal::ZERO;
        let m = |d: Decimal| Money::new(d).round_to_penny();
        let mut rows = Vec::with_capacity(years);
        let opening_schedule: Vec<Decimal> = {
            let s = mrp_schedule(&spec.mrp, spec.opening_cfr.decimal(), years);
            (0..years)
                .map(|y| if charged_given[y] { charged[y] } else { s[y] })
                .collect()
        };
        for y in 0..years {
            interest[y] += debt_rate * opening_share(repaid_opening);
            repaid_opening += opening_schedule[y];
            let start = cfr;
            cfr = cfr + borrowing[y] - mrp[y];
            debt = debt + borrowing[y] - mrp[y];
            let investment_income = investment_rate * spec.investments.decimal();
            let cost = mrp[y] + interest[y] + revenue[y] - investment_income - commercial;
            rows.push(CapitalYear {
                year: horizon.first().offset(y as u32).to_string(),
                cfr_start: m(start),
                borrowing: m(borrowing[y]),
                capitalised: m(capitalised[y]),
                mrp: m(mrp[y]),
                mrp_required: m(mrp_required[y]),
                mrp_below_policy: mrp[y] < mrp_required[y],
                cfr_end: m(cfr),
                debt_end: m(debt),
                interest: m(interest[y]),
                investment_income: m(investment_income),
                commercial_income: m(commercial),
                revenue_contributions: m(revenue[y]),
                financing_cost: m(cost),
                budgeted: m(budgeted[y]),
                gap_effect: m(cost - budgeted[y] - funds_gap[y]),
            });
        }
        Ok(CapitalPlan {
            spec: spec.clone(),
            labels,
            rows,
        })
    }

    /// The capital plan by year.
    pub fn years(&self) -> &[CapitalYear] {
        &self.rows
    }

    /// What each year adds to the plan's gap.
    pub fn gap_effect(&self) -> Vec<Decimal> {
        self.rows.iter().map(|r| r.gap_effect.decimal()).collect()
    }

    /// The prudential indicators by year against the net revenue stream (`net_budget`).
    pub fn indicators(&self, net_budget: &[Money]) -> Vec<PrudentialRow> {
        let csp: BTreeMap<&str, Decimal> = self
            .spec
            .core_spending_power
            .iter()
            .map(|(k, v)| (k.as_str(), v.decimal()))
            .collect();
        self.rows
            .iter()
            .zip(net_budget)
            .zip(&self.labels)
            .map(|((r, nrs), label)| {
                let nrs = nrs.decimal();
                let ratio = |x: Decimal, of: Decimal| {
                    (of > Decimal::ZERO).then(|| Money::new((x / of).round_dp(6)))
                };
                let costs = r.mrp.decimal() + r.interest.decimal() - r.investment_income.decimal();
                let debt = r.debt_end.decimal();
                PrudentialRow {
                    year: label.clone(),
                    financing_costs_to_net_revenue: ratio(costs, nrs),
                    cfr: r.cfr_end,
                    gross_debt: r.debt_end,
                    debt_above_cfr: debt > r.cfr_end.decimal(),
                    above_operational_boundary: self
                        .spec
                        .operational_boundary
                        .map(|b| debt > b.decimal()),
                    above_authorised_limit: self.spec.authorised_limit.map(|b| debt > b.decimal()),
                    debt_to_net_revenue: ratio(debt, nrs),
                    debt_to_core_spending_power: csp
                        .get(label.as_str())
                        .and_then(|c| ratio(debt, *c)),
                    mrp_below_policy: r.mrp_below_policy,
                }
            })
            .collect()
    }
}

/// One row of [`CapitalPlan::indicators`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrudentialRow {
    /// The year.
    pub year: String,
    /// MRP and interest less investment income, over the net revenue stream.
    pub financing_costs_to_net_revenue: Option<Money>,
    /// The CFR at the year's end.
    pub cfr: Money,
    /// Gross external debt at the year's end.
    pub gross_debt: Money,
    /// Gross debt above the CFR (borrowing in advance of need, or for revenue).
    pub debt_above_cfr: bool,
    /// Debt above the operational boundary (none given: not checked).
    pub above_operational_boundary: Option<bool>,
    /// Debt above the authorised limit (none given: not checked).
    pub above_authorised_limit: Option<bool>,
    /// Gross debt over the net revenue stream.
    pub debt_to_net_revenue: Option<Money>,
    /// Gross debt over core spending power (when given).
    pub debt_to_core_spending_power: Option<Money>,
    /// MRP charged below what the policies require.
    pub mrp_below_policy: bool,
}
