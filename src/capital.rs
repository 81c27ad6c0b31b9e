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
//!   year (MRP "in the year after the asset comes into use"), and so does commercial income
//!   tied to the project that borrowed (`commercial[].project`): rent and financing start
//!   together;
//! * the opening CFR's supported part (`supported_cfr`, pre-2008 borrowing the government's
//!   revenue support recognised) is repaid by `supported_mrp`, 4% of the balance a year unless
//!   stated (the regulatory method); the rest by `mrp`;
//! * every tranche of borrowing (the opening CFR, each project's borrowing of a year, each
//!   year's capitalisation direction) is repaid by its own MRP method, and carries interest on
//!   its balance at the start of each year: the opening debt at `debt_rate`, new borrowing at
//!   `borrowing_rate`, a capitalisation direction at `borrowing_rate + premium`;
//! * external debt moves with the CFR (new borrowing is external; MRP repays it), so internal
//!   borrowing (CFR less debt) stays what it was at the start;
//! * new borrowing, refinancing and a capitalisation direction carry the borrowing rate of the
//!   year they are taken (fixed-rate loans): a number, a number per year, or a driver's rate;
//! * a project's `slippage` defers that share of each year's spend, with its financing, to the
//!   next year (what slips past the plan's last year leaves it); `overrun` adds that share to
//!   the spend, borrowed; `receipts_shortfall` is the share of its capital receipts not
//!   realised, borrowed instead. Each is drawn once per project and trial (a programme's
//!   projects move together by `programme_correlation`); the exact tables use their means;
//! * flexible use of capital receipts funds revenue costs of transformation in the year (off
//!   the gap); the receipts then do not finance the programme, which borrows as much instead.
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

use std::ops::Div;

use crate::amount::Amount;
use crate::distribution::{Distribution, DistributionError, DistributionSpec, LatentQuantile};
use crate::funding::{Drivers, Growth};
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
    /// A bad distribution.
    #[error("{field}.{source}")]
    Distribution {
        /// The key path.
        field: String,
        /// What is wrong.
        source: DistributionError,
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
    /// A share of the balance at the start of each year: the regulatory method for supported
    /// borrowing (4% in the statutory guidance on MRP).
    ReducingBalance {
        /// The share a year (a fraction).
        rate: f64,
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
    /// The share of each year's spend (with its financing) that slips to the next year, a
    /// distribution on 0 to 1 (none: nothing slips).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slippage: Option<DistributionSpec>,
    /// Cost overrun as a share of the spend, borrowed (a distribution at or above 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrun: Option<DistributionSpec>,
    /// The share of its capital receipts not realised (an asset sale that fetches less or
    /// falls through), borrowed instead: a distribution on 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipts_shortfall: Option<DistributionSpec>,
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

/// Flexible use of capital receipts (`[[capital.flexible_receipts]]`): receipts that fund the
/// revenue costs of transformation in the year, as the statutory guidance allows, so that the
/// programme they would have financed is borrowed instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlexibleReceiptsSpec {
    /// Its name.
    pub name: String,
    /// Receipts used by year (£ ≥ 0): off the year's gap, and borrowed in the programme.
    pub amount: BTreeMap<String, Money>,
    /// Years of straight-line MRP on the borrowing that replaces them (20 unless stated).
    #[serde(default = "twenty")]
    pub mrp_years: u32,
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
    /// The register risk whose cost is this income lost (a tenant default, an impairment):
    /// in each year it costs at most this income (the incomes of every entry naming it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<String>,
    /// MRP no longer charged in a year the income is lost (£ a year ≥ 0: the asset sold and
    /// its debt repaid, say): in each year the risk costs the plan, the gap moves by the lost
    /// income less this. Needs `risk`; at most `income` (a default never gains the plan money).
    #[serde(default, skip_serializing_if = "Money::is_zero")]
    pub mrp_relief: Money,
    /// The year the income starts (default: before the plan, so every year of it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_year: Option<String>,
    /// Or: the capital project whose asset earns it (a property bought with borrowing): the
    /// income starts when that project's financing does, the year after its first spend
    /// (issue 33: rent from the purchase year against interest from the next showed a £200m
    /// borrowed purchase making a surplus in its first year).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// A loan to a company or another body (`[[capital.loans]]`), financed by borrowing inside the
/// opening CFR: its interest is income at risk, and the credit loss expected on it is MRP.
///
/// Under the statutory guidance on MRP (4th edition, 2018; 5th edition, April 2024) and the
/// Capital Finance regulations as amended in 2024, the CFR financing a loan is kept at or below
/// the principal outstanding less the expected credit loss: each year's new credit loss is
/// charged as MRP that year. Interest is earned on the principal less the loss to date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoanSpec {
    /// Its name.
    pub name: String,
    /// The principal outstanding at the start of the plan (£ ≥ 0), part of the opening CFR.
    pub principal: Money,
    /// The interest rate the borrower pays (a fraction a year; default 0).
    #[serde(default)]
    pub rate: f64,
    /// The credit loss newly expected in each year (£ ≥ 0; a number or a distribution), one
    /// per plan year (default none); charged as MRP in its year, at most the principal in all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected_credit_loss: Vec<crate::distribution::AmountSpec>,
}

/// The capital section (`[capital]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapitalSpec {
    /// The CFR at the start of the plan (£).
    pub opening_cfr: Money,
    /// External debt at the start of the plan (£).
    pub opening_debt: Money,
    /// The MRP policy on the opening CFR (on its unsupported part, with `supported_cfr`).
    pub mrp: Mrp,
    /// Of the opening CFR, the supported borrowing (pre-2008 borrowing the government's
    /// revenue support recognised), repaid by `supported_mrp` (£; 0: none).
    #[serde(default, skip_serializing_if = "Money::is_zero")]
    pub supported_cfr: Money,
    /// The MRP policy on the supported part (default: 4% of the balance a year).
    #[serde(default = "four_percent", skip_serializing_if = "is_four_percent")]
    pub supported_mrp: Mrp,
    /// The MRP the council actually charges on the opening CFR, by year, when it differs from
    /// the policy (below it: flagged as imprudent): each a number or a distribution (drawn by
    /// trial; the exact tables take its mean).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mrp_charged: BTreeMap<String, crate::distribution::AmountSpec>,
    /// Capital receipts set aside in place of MRP, by year (£ ≥ 0): they reduce the CFR as MRP
    /// would, but cost revenue nothing. The Capital Finance regulations as amended in 2024 do
    /// not allow it from 2025/26 (except for capital loans and leases): from then it is
    /// flagged as imprudent, and the prudent MRP does not count it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mrp_from_receipts: BTreeMap<String, Money>,
    /// The average interest rate on the opening debt (a fraction).
    pub debt_rate: f64,
    /// The rate on new borrowing and refinancing in the year it is taken (a fraction, a
    /// fraction per year, or a driver's name).
    pub borrowing_rate: Growth,
    /// Opening debt that matures and is refinanced, by year (£): from that year it carries the
    /// year's borrowing rate instead of `debt_rate`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub refinancing: BTreeMap<String, Money>,
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
    /// Flexible use of capital receipts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flexible_receipts: Vec<FlexibleReceiptsSpec>,
    /// The correlation of the programme's projects' slippage, overrun and receipts (0 to 1:
    /// one common factor per kind; 0, the default, draws each project on its own).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub programme_correlation: f64,
    /// Loans to companies and other bodies, inside the opening CFR (see [`LoanSpec`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub loans: Vec<LoanSpec>,
    /// Charge the prudent MRP (what the statutory guidance requires; see
    /// [`CapitalYear::mrp_prudent`]) instead of the council's policy and `mrp_charged`: what
    /// auditors and commissioners impose (default false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enforce_prudent_mrp: bool,
}

fn four_percent() -> Mrp {
    Mrp::ReducingBalance { rate: 0.04 }
}

fn is_four_percent(m: &Mrp) -> bool {
    *m == four_percent()
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// MRP on `amount` by year from its first year (index 0) for `years` years: straight-line,
/// the principal part of an annuity (`amount * r (1 + r)^(k-1) / ((1 + r)^n - 1)` in year k),
/// a fixed amount until repaid, or a share `r` of the reducing balance
/// (`amount * r (1 - r)^(k-1)`). Never more than what is left.
pub fn mrp_schedule(method: &Mrp, amount: Decimal, years: usize) -> Vec<Decimal> {
    let rule = Rule::new(method, crate::funding::fraction, Money::decimal);
    let mut out = vec![Decimal::ZERO; years];
    let mut left = amount;
    for (k, slot) in out.iter_mut().enumerate() {
        let take = rule.due(amount, k).min(left);
        *slot = take;
        left -= take;
    }
    out
}

/// A number the capital plan runs on: `Decimal` for the exact tables, `f64` per trial.
pub(crate) trait Num: Amount + Div<Output = Self> + From<u32> {}

impl<T: Amount + Div<Output = T> + From<u32>> Num for T {}

/// An MRP method compiled for one number type.
#[derive(Debug, Clone)]
enum Rule<T> {
    Straight(u32),
    /// Years, rate and `(1 + rate)^k` for k = 0..=years.
    Annuity(u32, T, Vec<T>),
    Fixed(T),
    /// A share of the balance at the start of each year.
    Reducing(T),
}

impl<T: Num> Rule<T> {
    fn new(m: &Mrp, rate: impl Fn(f64) -> T, money: impl Fn(Money) -> T) -> Rule<T> {
        match m {
            Mrp::StraightLine { years } => Rule::Straight(*years),
            Mrp::Annuity { years, rate: r } => {
                let r = rate(*r);
                let mut pow = vec![T::ONE];
                for k in 0..*years as usize {
                    pow.push(pow[k] * (T::ONE + r));
                }
                Rule::Annuity(*years, r, pow)
            }
            Mrp::Fixed { amount } => Rule::Fixed(money(*amount)),
            Mrp::ReducingBalance { rate: r } => Rule::Reducing(rate(*r)),
        }
    }

    /// What the method charges on `amount` in its year `k` (before the cap at what is left).
    fn due(&self, amount: T, k: usize) -> T {
        match self {
            Rule::Straight(n) if (k as u32) < *n => amount / T::from(*n),
            Rule::Annuity(n, r, pow) if (k as u32) < *n => {
                if *r == T::ZERO {
                    amount / T::from(*n)
                } else {
                    amount * *r * pow[k] / (pow[*n as usize] - T::ONE)
                }
            }
            Rule::Fixed(a) => *a,
            Rule::Reducing(r) => {
                let mut left = amount;
                for _ in 0..k {
                    left -= *r * left;
                }
                *r * left
            }
            _ => T::ZERO,
        }
    }
}

/// A project's inputs by year.
#[derive(Debug, Clone)]
struct Project<T> {
    spend: Vec<T>,
    grants: Vec<T>,
    receipts: Vec<T>,
    revenue: Vec<T>,
    rule: Rule<T>,
    prudent: Rule<T>,
}

/// Borrowing that funds revenue: a capitalisation direction or flexible receipts.
#[derive(Debug, Clone)]
struct Direction<T> {
    amount: Vec<T>,
    rule: Rule<T>,
    prudent: Rule<T>,
    premium: T,
    funds_gap: bool,
    flexible: bool,
}

/// The capital plan's inputs, compiled for one number type.
#[derive(Debug, Clone)]
struct Inputs<T> {
    years: usize,
    opening_cfr: T,
    opening_debt: T,
    /// The opening CFR's parts (unsupported less loans, supported) with their MRP methods:
    /// the council's policy and the guidance's minimum.
    opening: Vec<(T, Rule<T>, Rule<T>)>,
    /// Loans: principal and interest rate.
    loans: Vec<(T, T)>,
    /// Capital receipts set aside in place of MRP, by year.
    from_receipts: Vec<T>,
    /// Whether the prudent MRP is charged.
    enforce: bool,
    charged: Vec<Option<T>>,
    debt_rate: T,
    investment_income: T,
    commercial: Vec<T>,
    budgeted: Vec<T>,
    refinancing: Vec<T>,
    projects: Vec<Project<T>>,
    directions: Vec<Direction<T>>,
}

/// What varies between trials: the borrowing rate by year, and each project's slippage,
/// overrun and receipts shortfall.
#[derive(Debug, Clone)]
struct Draw<T> {
    borrowing_rate: Vec<T>,
    projects: Vec<[T; 3]>,
    /// `[loan][year]`: the credit loss newly expected in the year.
    credit_loss: Vec<Vec<T>>,
    /// By year, an uncertain `mrp_charged` drawn for the trial (none: as compiled).
    charged: Vec<Option<T>>,
}

/// One year's flows.
#[derive(Debug, Clone, Copy)]
struct Flows<T> {
    cfr_start: T,
    borrowing: T,
    capitalised: T,
    flexible: T,
    mrp: T,
    mrp_required: T,
    mrp_prudent: T,
    from_receipts: T,
    loan_interest: T,
    credit_loss: T,
    cfr_end: T,
    debt_end: T,
    interest: T,
    revenue: T,
    cost: T,
    gap_effect: T,
}

/// A tranche: its amount, the year its MRP and interest start, its method and rate.
struct Tranche<'a, T> {
    amount: T,
    from: usize,
    rule: &'a Rule<T>,
    prudent: &'a Rule<T>,
    rate: T,
}

/// The capital plan's arithmetic, written once for the exact tables and the trials.
fn run<T: Num>(inp: &Inputs<T>, draw: &Draw<T>) -> Vec<Flows<T>> {
    let years = inp.years;
    let zero = || vec![T::ZERO; years];
    let (mut borrowing, mut capitalised, mut flexible, mut funds_gap, mut revenue) =
        (zero(), zero(), zero(), zero(), zero());
    let mut tranches: Vec<Tranche<'_, T>> = Vec::new();
    for (p, [slip, overrun, shortfall]) in inp.projects.iter().zip(&draw.projects) {
        // What slippage carries into the year: spend, grants, receipts, revenue.
        let mut carried = [T::ZERO; 4];
        for y in 0..years {
            let now = [
                p.spend[y] + carried[0],
                p.grants[y] + carried[1],
                p.receipts[y] + carried[2],
                p.revenue[y] + carried[3],
            ];
            let kept = now.map(|x| x * (T::ONE - *slip));
            carried = now.map(|x| x * *slip);
            let spend = kept[0] * (T::ONE + *overrun);
            let receipts = kept[2] * (T::ONE - *shortfall);
            let borrowed = spend - kept[1] - receipts - kept[3];
            revenue[y] += kept[3];
            if borrowed > T::ZERO {
                borrowing[y] += borrowed;
                tranches.push(Tranche {
                    amount: borrowed,
                    from: y + 1,
                    rule: &p.rule,
                    prudent: &p.prudent,
                    rate: draw.borrowing_rate[y],
                });
            }
        }
    }
    for d in &inp.directions {
        for (y, a) in d.amount.iter().enumerate() {
            if *a > T::ZERO {
                borrowing[y] += *a;
                if d.flexible {
                    flexible[y] += *a;
                } else {
                    capitalised[y] += *a;
                }
                if d.funds_gap {
                    funds_gap[y] += *a;
                }
                tranches.push(Tranche {
                    amount: *a,
                    from: y + 1,
                    rule: &d.rule,
                    prudent: &d.prudent,
                    rate: draw.borrowing_rate[y] + d.premium,
                });
            }
        }
    }
    // Each tranche's MRP and the interest on its balance at the start of each year: what the
    // policy requires, what the guidance's minimum makes prudent (the larger of the two, each
    // on its own balance), and what is charged (the policy, `mrp_charged` on the opening CFR,
    // or with `enforce_prudent_mrp` the prudent MRP).
    let (mut mrp_required, mut mrp, mut interest) = (zero(), zero(), zero());
    let mut mrp_prudent = zero();
    let mut opening_repaid = zero();
    let mut left: Vec<T> = inp.opening.iter().map(|p| p.0).collect();
    let mut left_prudent = left.clone();
    let mut balance = inp.opening_cfr;
    for y in 0..years {
        let (mut due, mut prudent) = (T::ZERO, T::ZERO);
        for (((amount, rule, minimum), left), left_p) in inp
            .opening
            .iter()
            .zip(left.iter_mut())
            .zip(left_prudent.iter_mut())
        {
            let d = rule.due(*amount, y).min(*left);
            *left -= d;
            due += d;
            let p = larger(rule.due(*amount, y), minimum.due(*amount, y)).min(*left_p);
            *left_p -= p;
            prudent += p;
        }
        mrp_required[y] += due;
        mrp_prudent[y] += prudent;
        let stated = draw.charged.get(y).copied().flatten().or(inp.charged[y]);
        let charge = if inp.enforce {
            prudent.min(balance)
        } else {
            stated.map_or(due, |c| c.min(balance))
        };
        mrp[y] += charge;
        balance -= charge;
        opening_repaid[y] = if inp.enforce {
            prudent
        } else {
            stated.unwrap_or(due)
        };
    }
    for t in &tranches {
        let (mut left, mut left_p, mut balance) = (t.amount, t.amount, t.amount);
        for y in t.from..years {
            interest[y] += t.rate * balance;
            let k = y - t.from;
            let due = t.rule.due(t.amount, k).min(left);
            left -= due;
            let p = larger(t.rule.due(t.amount, k), t.prudent.due(t.amount, k)).min(left_p);
            left_p -= p;
            mrp_required[y] += due;
            mrp_prudent[y] += p;
            let charge = if inp.enforce { p } else { due }.min(balance);
            mrp[y] += charge;
            balance -= charge;
        }
    }
    // Loans: each year's new credit loss is MRP (at most the principal in all), and interest
    // is earned on the principal less the loss to date.
    let (mut loan_interest, mut credit_loss) = (zero(), zero());
    for ((principal, rate), losses) in inp.loans.iter().zip(&draw.credit_loss) {
        let mut lost = T::ZERO;
        for y in 0..years {
            let new = losses
                .get(y)
                .copied()
                .unwrap_or(T::ZERO)
                .max0()
                .min(*principal - lost);
            lost += new;
            credit_loss[y] += new;
            mrp_required[y] += new;
            mrp_prudent[y] += new;
            mrp[y] += new;
            opening_repaid[y] += new;
            loan_interest[y] += *rate * (*principal - lost);
        }
    }
    // The opening debt carries its own rate on what is not yet repaid, and what is refinanced
    // carries the rate of its year.
    let mut repaid = T::ZERO;
    let mut refinanced = T::ZERO;
    let mut refinanced_interest = T::ZERO;
    for y in 0..years {
        if inp.refinancing[y] > T::ZERO {
            refinanced += inp.refinancing[y];
            refinanced_interest += inp.refinancing[y] * draw.borrowing_rate[y];
        }
        let outstanding = if inp.opening_debt > T::ZERO {
            (inp.opening_debt - repaid).max0()
        } else {
            T::ZERO
        };
        interest[y] += inp.debt_rate * (outstanding - refinanced).max0();
        if refinanced > T::ZERO {
            interest[y] += if refinanced > outstanding {
                refinanced_interest * outstanding / refinanced
            } else {
                refinanced_interest
            };
        }
        repaid += opening_repaid[y];
    }
    let (mut cfr, mut debt) = (inp.opening_cfr, inp.opening_debt);
    (0..years)
        .map(|y| {
            let start = cfr;
            cfr = cfr + borrowing[y] - mrp[y];
            debt = debt + borrowing[y] - mrp[y];
            let receipts = if inp.enforce {
                T::ZERO
            } else {
                inp.from_receipts[y].min(mrp[y])
            };
            let cost = mrp[y] - receipts + interest[y] + revenue[y]
                - inp.investment_income
                - inp.commercial[y]
                - loan_interest[y];
            Flows {
                cfr_start: start,
                borrowing: borrowing[y],
                capitalised: capitalised[y],
                flexible: flexible[y],
                mrp: mrp[y],
                mrp_required: mrp_required[y],
                mrp_prudent: mrp_prudent[y],
                from_receipts: receipts,
                loan_interest: loan_interest[y],
                credit_loss: credit_loss[y],
                cfr_end: cfr,
                debt_end: debt,
                interest: interest[y],
                revenue: revenue[y],
                cost,
                gap_effect: cost - inp.budgeted[y] - funds_gap[y],
            }
        })
        .collect()
}

/// The larger of two amounts.
fn larger<T: Amount>(a: T, b: T) -> T {
    if a > b { a } else { b }
}

/// The longest asset life the statutory guidance on MRP (5th edition, April 2024) accepts for
/// unsupported borrowing (land aside, which fiscalrisk does not single out).
pub const MAX_ASSET_LIFE: u32 = 50;

/// The longest MRP period of a capitalisation direction.
pub const MAX_DIRECTION_YEARS: u32 = 20;

/// The first financial year (its start year) from which capital receipts may not replace MRP
/// (the Capital Finance regulations as amended in 2024, from 1 April 2025).
pub const RECEIPTS_BARRED_FROM: i32 = 2025;

/// The regulatory share of the supported CFR a year (4% of the reducing balance).
pub const SUPPORTED_SHARE: f64 = 0.04;

/// What a part of the CFR is, for the guidance's minimum MRP on it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    /// Unsupported borrowing (the opening CFR's rest, a project's).
    Unsupported,
    /// Supported borrowing (pre-2008).
    Supported,
    /// A capitalisation direction or flexible receipts.
    Direction,
}

/// The guidance's minimum for a policy on a part of the CFR (the prudent MRP is the larger of
/// the policy's charge and this, year by year), and why the policy falls short of it, if it
/// can: straight-line or annuity over at most 50 years (20 for a direction); a fixed amount
/// or a reducing balance on unsupported borrowing at least straight-line over 50 years; at
/// least 4% of the reducing balance on supported borrowing.
fn guidance_minimum(policy: &Mrp, part: Part) -> (Mrp, Option<String>) {
    let cap = if part == Part::Direction {
        MAX_DIRECTION_YEARS
    } else {
        MAX_ASSET_LIFE
    };
    let over = |n: u32, what: &str| {
        (n > cap).then(|| {
            format!(
                "{what} over {n} years, longer than the {cap} years the statutory guidance on MRP (5th edition, April 2024) allows"
            )
        })
    };
    match (policy, part) {
        (_, Part::Supported) => {
            let short = match policy {
                Mrp::ReducingBalance { rate } => *rate < SUPPORTED_SHARE,
                Mrp::StraightLine { years } | Mrp::Annuity { years, .. } => {
                    f64::from(*years) * SUPPORTED_SHARE > 1.0
                }
                Mrp::Fixed { .. } => true,
            };
            (
                Mrp::ReducingBalance {
                    rate: SUPPORTED_SHARE,
                },
                short.then(|| {
                    "the supported borrowing's MRP can fall below 4% of its reducing balance, the regulatory method".to_string()
                }),
            )
        }
        (Mrp::StraightLine { years }, _) => (
            Mrp::StraightLine {
                years: (*years).min(cap),
            },
            over(*years, "straight-line"),
        ),
        (Mrp::Annuity { years, rate }, _) => (
            Mrp::Annuity {
                years: (*years).min(cap),
                rate: *rate,
            },
            over(*years, "an annuity"),
        ),
        (Mrp::Fixed { amount }, _) => (
            Mrp::StraightLine { years: cap },
            Some(format!(
                "a fixed £{} a year is not a method the guidance recognises: it may repay over more than {cap} years",
                amount
            )),
        ),
        (Mrp::ReducingBalance { rate }, _) => (
            Mrp::StraightLine { years: cap },
            Some(format!(
                "a reducing balance at {rate} on unsupported borrowing never repays it; the guidance's longest life is {cap} years"
            )),
        ),
    }
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
    /// Of which borrowing in place of capital receipts used flexibly for revenue.
    pub flexible_receipts: Money,
    /// MRP charged.
    pub mrp: Money,
    /// MRP the stated policies require (the opening CFR's policy, not what is charged).
    pub mrp_required: Money,
    /// Whether MRP charged is below what the policies require.
    pub mrp_below_policy: bool,
    /// The MRP the statutory guidance requires (5th edition, April 2024, and the 2024
    /// amendments to the Capital Finance regulations), tranche by tranche: the larger of the
    /// policy's charge and straight-line over at most 50 years on unsupported borrowing (20 on
    /// a direction), 4% of the reducing balance on supported borrowing, every part of the CFR
    /// included, and each year's new credit loss on loans.
    pub mrp_prudent: Money,
    /// Why the MRP charged is below the prudent MRP, or receipts replace it where the law no
    /// longer allows, when either is so (none: neither).
    pub mrp_imprudent: Option<String>,
    /// Capital receipts set aside in place of MRP (reducing the CFR at no cost to revenue).
    pub mrp_from_receipts: Money,
    /// Interest earned on loans (on the principal less the credit loss to date).
    pub loan_interest: Money,
    /// Credit loss newly expected on loans, charged as MRP.
    pub credit_loss: Money,
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
    /// The cost beyond it, less the capitalisation directions and flexible receipts that fund
    /// the plan's gap: what enters the year's gap.
    pub gap_effect: Money,
}

/// Where the borrowing rate comes from.
#[derive(Debug, Clone)]
enum BorrowingRate {
    /// By year.
    Fixed(Vec<Decimal>),
    /// A driver's rate (its index), with its central rates by year.
    Driver(usize, Vec<Decimal>),
}

/// A project's slippage, overrun and receipts shortfall (none: 0).
type Uncertain = [Option<Distribution>; 3];

/// The capital plan compiled: its inputs (exact and for trials), what varies, and the exact
/// flows by year at the central inputs.
#[derive(Debug, Clone)]
pub struct CapitalPlan {
    spec: CapitalSpec,
    labels: Vec<String>,
    rows: Vec<CapitalYear>,
    exact: Inputs<Decimal>,
    float: Inputs<f64>,
    rate: BorrowingRate,
    uncertain: Vec<Uncertain>,
    /// Each loan's credit loss by year.
    losses: Vec<Vec<Distribution>>,
    /// An uncertain `mrp_charged` by year.
    charged_draws: Vec<Option<Distribution>>,
    /// By year: whether receipts may no longer replace MRP.
    receipts_barred: Vec<bool>,
    /// Why the policy's MRP may fall short of the guidance's minimum.
    imprudence: Vec<String>,
    /// Each uncertain input's quantile at a latent, built at the first run.
    latent: std::sync::OnceLock<Vec<[Option<LatentQuantile>; 3]>>,
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
        Mrp::ReducingBalance { rate: r } => {
            if *r <= 0.0 {
                return Err(invalid(
                    format!("{field}.rate"),
                    format!("{r:?} never repays the debt"),
                ));
            }
            rate(&format!("{field}.rate"), *r).map(|_| ())
        }
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

/// A share drawn for a project: slippage and receipts shortfall on 0 to 1, overrun at or
/// above 0.
fn share(
    field: String,
    spec: &Option<DistributionSpec>,
    at_most_one: bool,
) -> Result<Option<Distribution>, CapitalError> {
    let Some(spec) = spec else {
        return Ok(None);
    };
    let dist =
        Distribution::from_spec(spec.clone()).map_err(|source| CapitalError::Distribution {
            field: field.clone(),
            source,
        })?;
    let (low, high) = dist.support();
    if low < 0.0 || (at_most_one && high > 1.0) {
        return Err(invalid(
            field,
            format!(
                "the distribution reaches {low:?} to {high:?}; a share must stay {}",
                if at_most_one {
                    "between 0 and 1 (0.2 is 20%)"
                } else {
                    "at or above 0 (0.2 is 20% more)"
                }
            ),
        ));
    }
    Ok(Some(dist))
}

fn to_f64(d: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(0.0)
}

impl Rule<Decimal> {
    fn to_f64(&self) -> Rule<f64> {
        match self {
            Rule::Straight(n) => Rule::Straight(*n),
            Rule::Annuity(n, r, _) => {
                let r = to_f64(*r);
                let mut p = vec![1.0];
                for k in 0..*n as usize {
                    p.push(p[k] * (1.0 + r));
                }
                Rule::Annuity(*n, r, p)
            }
            Rule::Fixed(a) => Rule::Fixed(to_f64(*a)),
            Rule::Reducing(r) => Rule::Reducing(to_f64(*r)),
        }
    }
}

impl Inputs<Decimal> {
    fn to_f64(&self) -> Inputs<f64> {
        let v = |x: &[Decimal]| x.iter().map(|d| to_f64(*d)).collect::<Vec<f64>>();
        Inputs {
            years: self.years,
            opening_cfr: to_f64(self.opening_cfr),
            opening_debt: to_f64(self.opening_debt),
            opening: self
                .opening
                .iter()
                .map(|(a, r, m)| (to_f64(*a), r.to_f64(), m.to_f64()))
                .collect(),
            loans: self
                .loans
                .iter()
                .map(|(p, r)| (to_f64(*p), to_f64(*r)))
                .collect(),
            from_receipts: v(&self.from_receipts),
            enforce: self.enforce,
            charged: self.charged.iter().map(|c| c.map(to_f64)).collect(),
            debt_rate: to_f64(self.debt_rate),
            investment_income: to_f64(self.investment_income),
            commercial: v(&self.commercial),
            budgeted: v(&self.budgeted),
            refinancing: v(&self.refinancing),
            projects: self
                .projects
                .iter()
                .map(|p| Project {
                    spend: v(&p.spend),
                    grants: v(&p.grants),
                    receipts: v(&p.receipts),
                    revenue: v(&p.revenue),
                    rule: p.rule.to_f64(),
                    prudent: p.prudent.to_f64(),
                })
                .collect(),
            directions: self
                .directions
                .iter()
                .map(|d| Direction {
                    amount: v(&d.amount),
                    rule: d.rule.to_f64(),
                    prudent: d.prudent.to_f64(),
                    premium: to_f64(d.premium),
                    funds_gap: d.funds_gap,
                    flexible: d.flexible,
                })
                .collect(),
        }
    }
}

fn years_error(field: &str, years: u32) -> CapitalError {
    invalid(field, format!("{years} is not between 1 and 250"))
}

impl CapitalPlan {
    /// Validates `[capital]` against the plan's years and runs it (a borrowing rate may not
    /// name a driver here: see the scenario).
    pub fn new(spec: &CapitalSpec, horizon: &Horizon) -> Result<CapitalPlan, CapitalError> {
        CapitalPlan::with_drivers(spec, horizon, None)
    }

    /// The same, with the scenario's drivers (for a borrowing rate that names one).
    pub(crate) fn with_drivers(
        spec: &CapitalSpec,
        horizon: &Horizon,
        drivers: Option<&Drivers>,
    ) -> Result<CapitalPlan, CapitalError> {
        let f = "capital";
        let years = horizon.len();
        money(&format!("{f}.opening_cfr"), spec.opening_cfr)?;
        money(&format!("{f}.opening_debt"), spec.opening_debt)?;
        money(&format!("{f}.investments"), spec.investments)?;
        check_mrp(&format!("{f}.mrp"), &spec.mrp)?;
        money(&format!("{f}.supported_cfr"), spec.supported_cfr)?;
        check_mrp(&format!("{f}.supported_mrp"), &spec.supported_mrp)?;
        if spec.supported_cfr > spec.opening_cfr {
            return Err(invalid(
                format!("{f}.supported_cfr"),
                format!(
                    "{} is more than the opening CFR of {}",
                    spec.supported_cfr, spec.opening_cfr
                ),
            ));
        }
        let debt_rate = rate(&format!("{f}.debt_rate"), spec.debt_rate)?;
        let investment_rate = rate(&format!("{f}.investment_rate"), spec.investment_rate)?;
        let borrowing_field = format!("{f}.borrowing_rate");
        let borrowing = match &spec.borrowing_rate {
            Growth::Value(x) => BorrowingRate::Fixed(vec![rate(&borrowing_field, *x)?; years]),
            Growth::ByYear(map) => {
                let mut out = vec![None; years];
                for (label, x) in map {
                    let field = format!("{borrowing_field}.{label:?}");
                    let y = crate::funding::plan_year(label, horizon)
                        .map_err(|e| invalid(&field, e))?;
                    out[y] = Some(rate(&field, *x)?);
                }
                let missing: Vec<String> = (0..years)
                    .filter(|&y| out[y].is_none())
                    .map(|y| horizon.first().offset(y as u32).to_string())
                    .collect();
                if !missing.is_empty() {
                    return Err(invalid(
                        borrowing_field,
                        format!("gives no rate for {}", missing.join(", ")),
                    ));
                }
                BorrowingRate::Fixed(out.into_iter().flatten().collect())
            }
            Growth::Driver(name) => {
                let Some(d) = drivers else {
                    return Err(invalid(
                        borrowing_field,
                        format!("names the driver {name:?}, but the scenario has no [[drivers]]"),
                    ));
                };
                let a = d
                    .index(&borrowing_field, name)
                    .map_err(|e| invalid(&borrowing_field, e.to_string()))?;
                let central = d.rates[a]
                    .iter()
                    .map(|r| crate::funding::fraction(r.mean()))
                    .collect();
                BorrowingRate::Driver(a, central)
            }
        };
        for (k, v) in [
            ("authorised_limit", spec.authorised_limit),
            ("operational_boundary", spec.operational_boundary),
        ] {
            if let Some(m) = v {
                money(&format!("{f}.{k}"), m)?;
            }
        }
        let labels = horizon.labels();
        let mut charged: Vec<Option<Decimal>> = vec![None; years];
        let mut charged_draws: Vec<Option<Distribution>> = vec![None; years];
        for (label, a) in &spec.mrp_charged {
            let field = format!("{f}.mrp_charged.{label:?}");
            let y = crate::funding::plan_year(label, horizon).map_err(|e| invalid(&field, e))?;
            match a.fixed() {
                Some(m) => {
                    money(&field, m)?;
                    charged[y] = Some(m.decimal());
                }
                None => {
                    let d = a
                        .distribution()
                        .map_err(|source| CapitalError::Distribution {
                            field: field.clone(),
                            source,
                        })?;
                    if d.support().0 < 0.0 {
                        return Err(invalid(
                            field,
                            format!(
                                "the distribution reaches {:?}; MRP charged is 0 or more",
                                d.support().0
                            ),
                        ));
                    }
                    charged[y] = Some(
                        Money::from_f64(d.mean())
                            .map(Money::decimal)
                            .unwrap_or_default(),
                    );
                    charged_draws[y] = Some(d);
                }
            }
        }
        let from_receipts = by_year(
            &format!("{f}.mrp_from_receipts"),
            &spec.mrp_from_receipts,
            horizon,
        )?;
        // From 2025/26 the amended regulations do not let receipts replace MRP.
        let receipts_barred: Vec<bool> = (0..years)
            .map(|y| horizon.first().offset(y as u32).start_year() >= RECEIPTS_BARRED_FROM)
            .collect();
        let budgeted = by_year(&format!("{f}.budgeted"), &spec.budgeted, horizon)?;
        by_year(
            &format!("{f}.core_spending_power"),
            &spec.core_spending_power,
            horizon,
        )?;
        let refinancing = by_year(&format!("{f}.refinancing"), &spec.refinancing, horizon)?;
        let total: Decimal = refinancing.iter().sum();
        if total > spec.opening_debt.decimal() {
            return Err(invalid(
                format!("{f}.refinancing"),
                format!(
                    "refinances {total} of an opening debt of {}",
                    spec.opening_debt
                ),
            ));
        }
        let c = spec.programme_correlation;
        if !c.is_finite() || !(0.0..=1.0).contains(&c) {
            return Err(invalid(
                format!("{f}.programme_correlation"),
                format!("{c:?} is not between 0 and 1"),
            ));
        }
        let dec_rule = |m: &Mrp| Rule::new(m, crate::funding::fraction, Money::decimal);
        let mut names = std::collections::BTreeSet::new();
        let mut projects = Vec::new();
        let mut uncertain = Vec::new();
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
            let revenue = by_year(&format!("{pf}.revenue"), &p.revenue, horizon)?;
            for y in 0..years {
                let borrowed = spend[y] - grants[y] - receipts[y] - revenue[y];
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
            }
            uncertain.push([
                share(format!("{pf}.slippage"), &p.slippage, true)?,
                share(format!("{pf}.overrun"), &p.overrun, false)?,
                share(
                    format!("{pf}.receipts_shortfall"),
                    &p.receipts_shortfall,
                    true,
                )?,
            ]);
            projects.push(Project {
                spend,
                grants,
                receipts,
                revenue,
                rule: dec_rule(&p.mrp),
                prudent: dec_rule(&guidance_minimum(&p.mrp, Part::Unsupported).0),
            });
        }
        let mut directions = Vec::new();
        for (i, d) in spec.directions.iter().enumerate() {
            let df = format!("{f}.directions[{i}]");
            check_mrp(&df, &Mrp::StraightLine { years: d.mrp_years })
                .map_err(|_| years_error(&format!("{df}.mrp_years"), d.mrp_years))?;
            directions.push(Direction {
                amount: by_year(&format!("{df}.amount"), &d.amount, horizon)?,
                rule: Rule::Straight(d.mrp_years),
                prudent: Rule::Straight(d.mrp_years.min(MAX_DIRECTION_YEARS)),
                premium: rate(&format!("{df}.premium"), d.premium)?,
                funds_gap: d.funds_plan_gap,
                flexible: false,
            });
        }
        for (i, d) in spec.flexible_receipts.iter().enumerate() {
            let df = format!("{f}.flexible_receipts[{i}]");
            check_mrp(&df, &Mrp::StraightLine { years: d.mrp_years })
                .map_err(|_| years_error(&format!("{df}.mrp_years"), d.mrp_years))?;
            directions.push(Direction {
                amount: by_year(&format!("{df}.amount"), &d.amount, horizon)?,
                rule: Rule::Straight(d.mrp_years),
                prudent: Rule::Straight(d.mrp_years.min(MAX_DIRECTION_YEARS)),
                premium: Decimal::ZERO,
                funds_gap: true,
                flexible: true,
            });
        }
        let mut commercial = vec![Decimal::ZERO; years];
        for (i, c) in spec.commercial.iter().enumerate() {
            let cf = format!("{f}.commercial[{i}]");
            money(&format!("{cf}.income"), c.income)?;
            money(&format!("{cf}.mrp_relief"), c.mrp_relief)?;
            if c.risk.is_none() && !c.mrp_relief.is_zero() {
                return Err(invalid(
                    format!("{cf}.mrp_relief"),
                    "needs `risk`: the register risk whose cost is the income lost",
                ));
            }
            // A default never improves the plan: the MRP it relieves is at most the income it
            // loses (issue 38, item 3: relief of 1e9 on 2m of income made each default a gain).
            if c.mrp_relief > c.income {
                return Err(invalid(
                    format!("{cf}.mrp_relief"),
                    format!(
                        "£{} is more than the income of £{} it goes with: a default would gain the plan money",
                        c.mrp_relief, c.income
                    ),
                ));
            }
            let start = match (&c.first_year, &c.project) {
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        format!("{cf}.project"),
                        "give when the income starts once: first_year, or the project whose asset earns it",
                    ));
                }
                (Some(label), None) => {
                    let y: crate::period::FinancialYear =
                        label.parse().map_err(|e: crate::period::PeriodError| {
                            invalid(format!("{cf}.first_year"), e.to_string())
                        })?;
                    let first = horizon.first().start_year();
                    usize::try_from(y.start_year() - first).unwrap_or(0)
                }
                (None, Some(name)) => {
                    let Some(p) = spec.programme.iter().find(|p| p.name == *name) else {
                        return Err(invalid(
                            format!("{cf}.project"),
                            format!("{name:?} is not the name of a project in capital.programme"),
                        ));
                    };
                    let mut first = years;
                    for (label, m) in &p.spend {
                        if !m.is_zero()
                            && let Ok(y) = crate::funding::plan_year(label, horizon)
                        {
                            first = first.min(y);
                        }
                    }
                    first.saturating_add(1)
                }
                (None, None) => 0,
            };
            for v in commercial.iter_mut().skip(start) {
                *v += c.income.decimal();
            }
        }
        // Loans: inside the opening CFR's unsupported part; each year's credit loss a
        // distribution (at least 0).
        let mut loans: Vec<(Decimal, Decimal, Vec<Distribution>)> = Vec::new();
        let mut lent = Decimal::ZERO;
        for (i, l) in spec.loans.iter().enumerate() {
            let lf = format!("{f}.loans[{i}]");
            money(&format!("{lf}.principal"), l.principal)?;
            let r = rate(&format!("{lf}.rate"), l.rate)?;
            if !l.expected_credit_loss.is_empty() && l.expected_credit_loss.len() != years {
                return Err(invalid(
                    format!("{lf}.expected_credit_loss"),
                    format!(
                        "{} amounts for a plan of {years} years (give one per year)",
                        l.expected_credit_loss.len()
                    ),
                ));
            }
            let mut losses = Vec::new();
            for (y, a) in l.expected_credit_loss.iter().enumerate() {
                let field = format!("{lf}.expected_credit_loss[{y}]");
                let d = a
                    .distribution()
                    .map_err(|source| CapitalError::Distribution {
                        field: field.clone(),
                        source,
                    })?;
                if d.support().0 < 0.0 {
                    return Err(invalid(
                        field,
                        format!(
                            "the distribution reaches {:?}; a credit loss newly expected is 0 or more",
                            d.support().0
                        ),
                    ));
                }
                losses.push(d);
            }
            lent += l.principal.decimal();
            loans.push((l.principal.decimal(), r, losses));
        }
        if lent > spec.opening_cfr.decimal() - spec.supported_cfr.decimal() {
            return Err(invalid(
                format!("{f}.loans"),
                format!(
                    "lend £{} in all, more than the opening CFR's unsupported part of £{}: loans financed by borrowing are inside the CFR",
                    Money::new(lent),
                    Money::new(spec.opening_cfr.decimal() - spec.supported_cfr.decimal())
                ),
            ));
        }
        let exact = Inputs {
            years,
            opening_cfr: spec.opening_cfr.decimal(),
            opening_debt: spec.opening_debt.decimal(),
            opening: vec![
                (
                    spec.opening_cfr.decimal() - spec.supported_cfr.decimal() - lent,
                    dec_rule(&spec.mrp),
                    dec_rule(&guidance_minimum(&spec.mrp, Part::Unsupported).0),
                ),
                (
                    spec.supported_cfr.decimal(),
                    dec_rule(&spec.supported_mrp),
                    dec_rule(&guidance_minimum(&spec.supported_mrp, Part::Supported).0),
                ),
            ],
            loans: loans.iter().map(|l| (l.0, l.1)).collect(),
            from_receipts,
            enforce: spec.enforce_prudent_mrp,
            charged,
            debt_rate,
            investment_income: investment_rate * spec.investments.decimal(),
            commercial,
            budgeted,
            refinancing,
            projects,
            directions,
        };
        let mut plan = CapitalPlan {
            spec: spec.clone(),
            labels,
            rows: Vec::new(),
            float: exact.to_f64(),
            exact,
            rate: borrowing,
            uncertain,
            losses: loans.into_iter().map(|l| l.2).collect(),
            charged_draws,
            receipts_barred,
            imprudence: {
                let mut why = Vec::new();
                let mut note = |field: String, policy: &Mrp, part: Part| {
                    if let Some(w) = guidance_minimum(policy, part).1 {
                        why.push(format!("{field}: {w}"));
                    }
                };
                note(format!("{f}.mrp"), &spec.mrp, Part::Unsupported);
                if !spec.supported_cfr.is_zero() {
                    note(
                        format!("{f}.supported_mrp"),
                        &spec.supported_mrp,
                        Part::Supported,
                    );
                }
                for (i, p) in spec.programme.iter().enumerate() {
                    note(format!("{f}.programme[{i}].mrp"), &p.mrp, Part::Unsupported);
                }
                for (i, d) in spec.directions.iter().enumerate() {
                    note(
                        format!("{f}.directions[{i}].mrp_years"),
                        &Mrp::StraightLine { years: d.mrp_years },
                        Part::Direction,
                    );
                }
                why
            },
            latent: std::sync::OnceLock::new(),
        };
        plan.rows = plan.rows_at(None);
        Ok(plan)
    }

    /// The exact rows at the central inputs, with a driver's rates (`[d * years + y]`) when
    /// the borrowing rate names one (none: its central rates).
    pub(crate) fn rows_at(&self, driver_rates: Option<&[Decimal]>) -> Vec<CapitalYear> {
        let years = self.labels.len();
        let borrowing_rate = match (&self.rate, driver_rates) {
            (BorrowingRate::Fixed(r), _) => r.clone(),
            (BorrowingRate::Driver(a, _), Some(rates)) => {
                rates[a * years..(a + 1) * years].to_vec()
            }
            (BorrowingRate::Driver(_, central), None) => central.clone(),
        };
        let projects = self
            .uncertain
            .iter()
            .map(|u| {
                u.clone()
                    .map(|d| d.map_or(Decimal::ZERO, |d| crate::funding::fraction(d.mean())))
            })
            .collect();
        let credit_loss = self
            .losses
            .iter()
            .map(|l| {
                l.iter()
                    .map(|d| {
                        Money::from_f64(d.mean())
                            .map(Money::decimal)
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .collect();
        let flows = run(
            &self.exact,
            &Draw {
                borrowing_rate,
                projects,
                credit_loss,
                charged: Vec::new(),
            },
        );
        let m = |d: Decimal| Money::new(d).round_to_penny();
        flows
            .iter()
            .zip(&self.labels)
            .enumerate()
            .map(|(y, (x, label))| CapitalYear {
                year: label.clone(),
                cfr_start: m(x.cfr_start),
                borrowing: m(x.borrowing),
                capitalised: m(x.capitalised),
                flexible_receipts: m(x.flexible),
                mrp: m(x.mrp),
                mrp_required: m(x.mrp_required),
                mrp_below_policy: x.mrp < x.mrp_required,
                mrp_prudent: m(x.mrp_prudent),
                mrp_imprudent: {
                    let mut why = Vec::new();
                    if m(x.mrp) < m(x.mrp_prudent) {
                        why.extend(self.imprudence.iter().cloned());
                        why.push(format!(
                            "MRP charged of £{} is below the prudent £{}: no part of the CFR may be left out of MRP (Capital Finance regulations as amended in 2024)",
                            m(x.mrp),
                            m(x.mrp_prudent)
                        ));
                    }
                    if self.receipts_barred[y] && x.from_receipts > Decimal::ZERO {
                        why.push(format!(
                            "£{} of capital receipts replace MRP, which the Capital Finance regulations as amended in 2024 do not allow from 2025/26 (except for capital loans and leases)",
                            m(x.from_receipts)
                        ));
                    }
                    (!why.is_empty()).then(|| why.join("; "))
                },
                mrp_from_receipts: m(x.from_receipts),
                loan_interest: m(x.loan_interest),
                credit_loss: m(x.credit_loss),
                cfr_end: m(x.cfr_end),
                debt_end: m(x.debt_end),
                interest: m(x.interest),
                investment_income: m(self.exact.investment_income),
                commercial_income: m(self.exact.commercial[y]),
                revenue_contributions: m(x.revenue),
                financing_cost: m(x.cost),
                budgeted: m(self.exact.budgeted[y]),
                gap_effect: m(x.gap_effect),
            })
            .collect()
    }

    /// Capitalisation directions and flexible receipts that fund the plan's gap, by year
    /// (already netted from [`CapitalPlan::gap_effect`]). Each is one year's money: the plan
    /// lets it fund at most its year's gap (see `plan::year`).
    pub fn directions(&self) -> Vec<Decimal> {
        let mut out = vec![Decimal::ZERO; self.exact.years];
        for d in self.exact.directions.iter().filter(|d| d.funds_gap) {
            for (o, a) in out.iter_mut().zip(&d.amount) {
                if *a > Decimal::ZERO {
                    *o += *a;
                }
            }
        }
        out
    }

    /// The borrowing rate by year: as given, or the central rates of the driver it follows.
    pub fn central_borrowing_rate(&self) -> Vec<Decimal> {
        match &self.rate {
            BorrowingRate::Fixed(r) | BorrowingRate::Driver(_, r) => r.clone(),
        }
    }

    /// The driver the borrowing rate follows, if any.
    pub(crate) fn driver(&self) -> Option<usize> {
        match self.rate {
            BorrowingRate::Driver(a, _) => Some(a),
            BorrowingRate::Fixed(_) => None,
        }
    }

    /// Whether the projects draw anything (slippage, overrun, receipts).
    pub(crate) fn draws(&self) -> bool {
        self.uncertain.iter().flatten().any(Option::is_some)
            || self
                .losses
                .iter()
                .flatten()
                .any(|d| d.support().0 != d.support().1)
            || self.charged_draws.iter().any(Option::is_some)
    }

    /// A batch's capital flows by trial (`[j * years + y]`: gap effect, interest, MRP plus
    /// interest, debt at the year's end): the projects' draws from `rng` (latents, one per
    /// project and uncertain input, sharing a factor per input by `programme_correlation`),
    /// the borrowing rate from the driver's rates of each trial (`[j * years + y]`, when the
    /// rate follows an uncertain driver).
    pub(crate) fn trials(
        &self,
        n: usize,
        rng: &mut crate::rng::Rng,
        driver_rates: Option<&[f64]>,
    ) -> Vec<[f64; 4]> {
        let years = self.labels.len();
        let tables = self.latent.get_or_init(|| {
            self.uncertain
                .iter()
                .map(|u| u.clone().map(|d| d.map(|d| d.latent_quantile())))
                .collect()
        });
        let rho = self.spec.programme_correlation;
        let (common, own) = (rho.sqrt(), (1.0 - rho).sqrt());
        let normals = |rng: &mut crate::rng::Rng| crate::plan::engine::std_normals(rng, n);
        let factors: Vec<Vec<f64>> = (0..3)
            .map(|k| {
                if rho > 0.0 && tables.iter().any(|t| t[k].is_some()) {
                    normals(rng)
                } else {
                    Vec::new()
                }
            })
            .collect();
        let mut values: Vec<[Vec<f64>; 3]> = Vec::with_capacity(tables.len());
        for t in tables {
            let mut v: [Vec<f64>; 3] = Default::default();
            for k in 0..3 {
                if let Some(q) = &t[k] {
                    let e = normals(rng);
                    v[k] = (0..n)
                        .map(|j| {
                            let z = if factors[k].is_empty() {
                                e[j]
                            } else {
                                common * factors[k][j] + own * e[j]
                            };
                            q.at(z)
                        })
                        .collect();
                }
            }
            values.push(v);
        }
        let fixed_rate: Vec<f64> = match &self.rate {
            BorrowingRate::Fixed(r) | BorrowingRate::Driver(_, r) => {
                r.iter().map(|d| to_f64(*d)).collect()
            }
        };
        let mut out = Vec::with_capacity(n * years);
        // Loans' credit losses, after every other draw (so that a plan without loans draws as
        // before): per loan and year, a value per trial.
        let losses: Vec<Vec<Vec<f64>>> = self
            .losses
            .iter()
            .map(|l| {
                l.iter()
                    .map(|d| (0..n).map(|_| d.draw(rng)).collect())
                    .collect()
            })
            .collect();
        // An uncertain MRP charged, after that.
        let charged: Vec<Option<Vec<f64>>> = self
            .charged_draws
            .iter()
            .map(|d| {
                d.as_ref()
                    .map(|d| (0..n).map(|_| d.draw(rng).max(0.0)).collect())
            })
            .collect();
        let mut draw = Draw {
            borrowing_rate: fixed_rate,
            projects: vec![[0.0; 3]; tables.len()],
            credit_loss: self.losses.iter().map(|l| vec![0.0; l.len()]).collect(),
            charged: vec![None; years],
        };
        for j in 0..n {
            if let Some(rates) = driver_rates {
                draw.borrowing_rate
                    .copy_from_slice(&rates[j * years..(j + 1) * years]);
            }
            for (c, d) in draw.charged.iter_mut().zip(&charged) {
                *c = d.as_ref().map(|v| v[j]);
            }
            for (c, l) in draw.credit_loss.iter_mut().zip(&losses) {
                for (x, v) in c.iter_mut().zip(l) {
                    *x = v[j];
                }
            }
            for (p, v) in draw.projects.iter_mut().zip(&values) {
                for k in 0..3 {
                    p[k] = if v[k].is_empty() {
                        0.0
                    } else {
                        let x = v[k][j].max(0.0);
                        if k == 1 { x } else { x.min(1.0) }
                    };
                }
            }
            out.extend(
                run(&self.float, &draw)
                    .iter()
                    .map(|x| [x.gap_effect, x.interest, x.mrp + x.interest, x.debt_end]),
            );
        }
        out
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
                let costs = r.mrp.decimal() + r.interest.decimal()
                    - r.investment_income.decimal()
                    - r.loan_interest.decimal();
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
    /// MRP and interest less investment income and interest earned on loans, over the net
    /// revenue stream.
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
