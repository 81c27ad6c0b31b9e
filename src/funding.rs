//! The funding and spending side of a medium-term financial plan: council tax (with England's
//! referendum principles), business rates under retention, grants, fees and charges, and
//! spending lines that move with named drivers (pay, prices, demand).
//!
//! A scenario with a `[funding]` section and `[[spending]]` lines builds each year's gap the way
//! a medium-term financial strategy (MTFS) does: spending before savings, less funding, is the
//! gap before savings; planned savings close it. The plan's ledger ([`crate::plan`]) takes the
//! gap from here, so that council tax, pay awards and inflation move the gap, and their
//! uncertainty is part of the risk.
//!
//! Conventions, each in the README's input table:
//!
//! * **rates** are fractions per year (`0.02` is 2%), never percentages.
//! * **drivers** compound: a driver's index in plan year `y` is the product of `1 + rate` over
//!   the plan's years up to and including `y`. A spending line's `base` is the budget of the
//!   year before the plan, so the first plan year already carries one year of the driver.
//! * **council tax**: each year's Band D charge is the previous year's times
//!   `1 + core_increase + asc_precept` (the social care precept is a percentage of the
//!   previous year's Band D, added to the core increase), rounded to the penny as councils set
//!   it. Income is `tax_base * band_d * collection_rate`, to the penny, plus any collection fund
//!   surplus less any deficit.
//! * **business rates**: the baseline funding level, plus the retained share of growth in
//!   rates collected over the baseline, less the levy on that growth; never below the safety
//!   net (a fraction of the baseline funding level). At a reset year, accumulated growth is
//!   lost and growth starts again from the new baseline.
//!
//! # Examples
//!
//! Band D rolls forward by the core increase and the social care precept, to the penny
//! (Birmingham, 2022/23: £1,748.19 with 1.99% and 1% gives £1,800.46; Express & Star,
//! "Council tax set to rise in Birmingham ...", 19 January 2022):
//!
//! ```
//! use fiscalrisk::funding::band_d_after;
//! use rust_decimal::Decimal;
//! use std::str::FromStr;
//! let d = |s: &str| Decimal::from_str(s).unwrap();
//! assert_eq!(band_d_after(d("1748.19"), d("0.0199"), d("0.01")), d("1800.46"));
//! ```

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::distribution::{Distribution, DistributionError, DistributionSpec, MAX_AMOUNT};
use crate::money::Money;
use crate::period::{FinancialYear, Horizon};

/// Errors in drivers, funding and spending, each naming its key path.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FundingError {
    /// A bad value (its key path and what is wrong).
    #[error("{field}: {message}")]
    Invalid {
        /// The key path (`funding.council_tax.collection_rate`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A driver named that does not exist.
    #[error("{field}: {name:?} is not the name of a driver (drivers: {known})")]
    UnknownDriver {
        /// The key path.
        field: String,
        /// The name given.
        name: String,
        /// The drivers there are.
        known: String,
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

fn invalid(field: impl Into<String>, message: impl Into<String>) -> FundingError {
    FundingError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// A driver's rate in one year: a number (a fraction: `0.02` is 2%) or a distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RateSpec {
    /// A fixed rate.
    Value(f64),
    /// An uncertain rate.
    Distribution(DistributionSpec),
}

/// A driver's rates: one for every year, or one per year of the plan (each year given), as a
/// table by year label or an array in the plan's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DriverRates {
    /// The same rate (or distribution) every year.
    Every(RateSpec),
    /// One per year of the plan, in order (`[0.05, 0.04, 0.03]`).
    PerYear(Vec<RateSpec>),
    /// By year label; every year of the plan must be given.
    ByYear(BTreeMap<String, RateSpec>),
}

/// A named driver (`[[drivers]]`): pay award, National Living Wage, CPI, energy, demand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriverSpec {
    /// Its name (unique; spending lines, funding and correlations refer to it).
    pub name: String,
    /// Its yearly rate (a fraction; `0.02` is 2%), fixed or a distribution.
    pub rate: DriverRates,
    /// What it is, for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How far a year's shock carries into the next (0 to 1; default 1): the correlation of
    /// the driver's latent from one year to the next. 1 keeps a trial's draw for every year (a
    /// pay shock lasts the plan); 0 draws each year afresh; between, the shock decays
    /// (`z_y = p z_(y-1) + sqrt(1 - p^2) e_y`, each year's rate its distribution's quantile at
    /// `z_y`, so each year keeps its own distribution).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence: Option<f64>,
}

/// A yearly rate used by funding (tax base growth, business rates growth, uprating): a number
/// every year, a number per year, or the name of a driver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Growth {
    /// The same fraction every year.
    Value(f64),
    /// A driver's rate.
    Driver(String),
    /// A fraction per year label (years not given: 0).
    ByYear(BTreeMap<String, f64>),
}

impl Default for Growth {
    fn default() -> Growth {
        Growth::Value(0.0)
    }
}

fn is_no_growth(g: &Growth) -> bool {
    *g == Growth::Value(0.0)
}

/// A fraction set by the council each year (council tax increases): the same every year, or
/// one per year of the plan (each year given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Yearly {
    /// The same every year.
    Every(f64),
    /// By year label.
    ByYear(BTreeMap<String, f64>),
}

impl Default for Yearly {
    fn default() -> Yearly {
        Yearly::Every(0.0)
    }
}

fn is_zero_yearly(y: &Yearly) -> bool {
    *y == Yearly::Every(0.0)
}

/// A count (Band D equivalents) in the first plan year, or by year label (the first year
/// given; later years not given grow from the year before).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Base {
    /// The first plan year's.
    First(Money),
    /// By year label.
    ByYear(BTreeMap<String, Money>),
}

/// A council's own referendum limits for a year (overriding the table shipped).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// The core threshold (a fraction): a total increase of `core + asc` or more is excessive.
    pub core: f64,
    /// The adult social care allowance on top (a fraction; 0 for a district).
    pub asc: f64,
    /// A district's £ alternative on Band D: an increase of no more than this is never
    /// excessive (none: no alternative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pounds: Option<f64>,
}

/// Dispensations: the bespoke additional principle the government agreed, by year (`{
/// "2025/26" = 0.025 }`: 2.5 points above the class's threshold), or, as written before 0.7.0,
/// a list of years (a blanket waiver, warned about).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Dispensations {
    /// The additional principle by year.
    Additional(BTreeMap<String, f64>),
    /// Years waived (the form before 0.7.0).
    Years(Vec<String>),
}

impl Default for Dispensations {
    fn default() -> Dispensations {
        Dispensations::Additional(BTreeMap::new())
    }
}

impl Dispensations {
    /// Whether none is given.
    pub fn is_empty(&self) -> bool {
        match self {
            Dispensations::Additional(m) => m.is_empty(),
            Dispensations::Years(v) => v.is_empty(),
        }
    }
}

/// Council tax (`[funding.council_tax]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CouncilTaxSpec {
    /// The tax base in Band D equivalents: the first plan year's, or by year.
    pub tax_base: Base,
    /// The tax base's growth in years not given (a fraction per year, or a driver's name).
    #[serde(default, skip_serializing_if = "is_no_growth")]
    pub tax_base_growth: Growth,
    /// The Band D charge (£) of the year before the plan: the base the increases apply to.
    pub band_d: Money,
    /// The core increase each year (a fraction of the previous year's Band D).
    #[serde(default, skip_serializing_if = "is_zero_yearly")]
    pub core_increase: Yearly,
    /// The adult social care precept each year (a fraction of the previous year's Band D).
    #[serde(default, skip_serializing_if = "is_zero_yearly")]
    pub asc_precept: Yearly,
    /// The share of the charge collected (default 1: published tax bases usually allow for
    /// non-collection already).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub collection_rate: f64,
    /// Collection fund surplus distributed to the council, by year (£, not negative).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub collection_fund_surplus: BTreeMap<String, Money>,
    /// Collection fund deficit the council must meet, by year (£, not negative).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub collection_fund_deficit: BTreeMap<String, Money>,
    /// The bespoke additional referendum principles the government agreed, by year (see
    /// [`Dispensations`]).
    #[serde(default, skip_serializing_if = "Dispensations::is_empty")]
    pub dispensation: Dispensations,
    /// The class of authority whose referendum principles apply (default `social_care`).
    #[serde(default, skip_serializing_if = "is_social_care")]
    pub authority_class: crate::referendum::AuthorityClass,
    /// Social care precepts set in years before the plan (fractions by year), for the
    /// principles that carry across years (2017/18-2019/20's 6%, 2021/22's deferral).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub asc_precept_before: BTreeMap<String, f64>,
    /// Referendum limits by year, for years the shipped table does not cover or to override it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub referendum_limits: BTreeMap<String, Limits>,
}

fn one() -> f64 {
    1.0
}

fn is_social_care(c: &crate::referendum::AuthorityClass) -> bool {
    *c == crate::referendum::AuthorityClass::SocialCare
}

fn is_one(x: &f64) -> bool {
    *x == 1.0
}

/// Business rates under retention (`[funding.business_rates]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessRatesSpec {
    /// The baseline funding level (£): the first plan year's, or by year.
    pub baseline_funding_level: Base,
    /// Its yearly uprating in years not given (a fraction, or a driver's name).
    #[serde(default, skip_serializing_if = "is_no_growth")]
    pub uprating: Growth,
    /// The business rates baseline (£): rates collected at the baseline in the first plan
    /// year, uprated as the baseline funding level. Growth is measured against it.
    pub baseline_rates: Money,
    /// Growth in rates collected, each plan year after the first (a fraction, or a driver):
    /// the first plan year collects the baseline.
    #[serde(default, skip_serializing_if = "is_no_growth")]
    pub growth: Growth,
    /// The share of growth the council keeps (0.49 under 50% retention; 0.99 in the 100%
    /// pilots).
    pub retention_share: f64,
    /// The levy on retained growth (a fraction; 0 for pilots and top-up authorities).
    #[serde(default)]
    pub levy_rate: f64,
    /// The safety net: retained income never falls below this fraction of the baseline
    /// funding level (0.925 nationally; 0.95 or 0.97 in pilots).
    #[serde(default)]
    pub safety_net: f64,
    /// The year of a reset: growth accumulated before it is lost from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_year: Option<String>,
}

/// How sure a grant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Certainty {
    /// Confirmed in a settlement.
    #[default]
    Confirmed,
    /// Indicated by the government for later years.
    Indicative,
    /// The council's assumption.
    Assumed,
}

/// A grant's amount: the same every year until it ends, or by year (a number or a
/// distribution).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GrantAmount {
    /// The same every year (a number or a distribution).
    Every(AmountSpec),
    /// By year label.
    ByYear(BTreeMap<String, AmountSpec>),
}

/// An amount of money: exact, or a distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AmountSpec {
    /// Exact pounds.
    Value(Money),
    /// Uncertain.
    Distribution(DistributionSpec),
}

/// A grant (`[[funding.grants]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantSpec {
    /// Its name.
    pub name: String,
    /// Its amount (£ a year, not negative).
    pub amount: GrantAmount,
    /// Confirmed, indicative or assumed.
    #[serde(default)]
    pub certainty: Certainty,
    /// The last year it is paid: nothing after (a cliff edge in the plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends: Option<String>,
}

/// Fees and charges (`[[funding.fees]]`): price times volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeSpec {
    /// Its name.
    pub name: String,
    /// The price (£ per unit) in the year before the plan.
    pub price: Money,
    /// The volume (units a year) in the year before the plan.
    pub volume: Money,
    /// The driver of the price (none: unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_driver: Option<String>,
    /// The driver of the volume (none: unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_driver: Option<String>,
}

/// The funding side (`[funding]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FundingSpec {
    /// Council tax.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub council_tax: Option<CouncilTaxSpec>,
    /// Business rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_rates: Option<BusinessRatesSpec>,
    /// Grants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<GrantSpec>,
    /// Fees and charges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fees: Vec<FeeSpec>,
}

/// A spending line (`[[spending]]`), in one of three forms: `base` indexed to drivers by
/// share, `population` times `unit_cost` (a demand line), or a fixed `amount` by year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpendingSpec {
    /// Its name.
    pub name: String,
    /// The budget (£) in the year before the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Money>,
    /// The drivers it moves with and their shares (at most 1 in total; the rest of the line
    /// does not move): `{ pay_award = 0.6, cpi = 0.4 }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub drivers: BTreeMap<String, f64>,
    /// A demand line: the number of people or cases in the year before the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<Money>,
    /// The driver of the population.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population_driver: Option<String>,
    /// The unit cost (£ per person or case a year) in the year before the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_cost: Option<Money>,
    /// The driver of the unit cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_cost_driver: Option<String>,
    /// Fixed amounts (£) by year, every year of the plan given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<BTreeMap<String, Money>>,
}

/// The referendum principles shipped for a year for authorities with social care
/// responsibilities, as `(core threshold, social care allowance)` (see
/// [`crate::referendum::PRINCIPLES`] for every class, with sources).
pub fn referendum_principles(year: &str) -> Option<(Decimal, Decimal)> {
    crate::referendum::principle(crate::referendum::AuthorityClass::SocialCare, year).map(|p| {
        (
            p.core.parse().unwrap_or_default(),
            p.asc.parse().unwrap_or_default(),
        )
    })
}

/// The Band D charge after a year's increases: `previous * (1 + core + asc)`, to the penny
/// (half away from zero).
pub fn band_d_after(previous: Decimal, core: Decimal, asc: Decimal) -> Decimal {
    (previous * (Decimal::ONE + core + asc))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// An exact decimal from a typed fraction, through its shortest text (`0.0199` is 199/10000).
pub fn fraction(x: f64) -> Decimal {
    Money::from_f64(x).map(Money::decimal).unwrap_or_default()
}

/// A validated driver: its rate in each plan year.
#[derive(Debug, Clone)]
pub(crate) enum Rate {
    Fixed(f64),
    Uncertain(Distribution),
}

impl Rate {
    /// The rate's central value (a distribution's mean).
    pub(crate) fn mean(&self) -> f64 {
        match self {
            Rate::Fixed(x) => *x,
            Rate::Uncertain(d) => d.mean(),
        }
    }
}

/// Drivers, validated: rates by driver and year.
#[derive(Debug, Clone, Default)]
pub(crate) struct Drivers {
    pub(crate) names: Vec<String>,
    /// `[driver][year]`.
    pub(crate) rates: Vec<Vec<Rate>>,
    /// By driver: the year-to-year correlation of its latent (1: the same every year).
    pub(crate) persistence: Vec<f64>,
}

/// The index of a year label in the plan, or what is wrong with it.
pub(crate) fn plan_year(label: &str, horizon: &Horizon) -> Result<usize, String> {
    let year: FinancialYear = label
        .parse()
        .map_err(|e: crate::period::PeriodError| e.to_string())?;
    horizon.index_of(year).map_err(|e| e.to_string())
}

/// What is wrong with an amount typed where pounds of one direction are meant: negative, or
/// beyond what fiscalrisk accepts.
pub(crate) fn amount_problem(m: Money) -> Option<String> {
    if m < Money::ZERO {
        Some(format!(
            "{m} is negative (amounts are positive; the key says the direction)"
        ))
    } else if m.to_f64() > MAX_AMOUNT {
        Some(format!(
            "{m} is beyond the {MAX_AMOUNT:e} fiscalrisk accepts"
        ))
    } else {
        None
    }
}

fn year_of(field: &str, label: &str, horizon: &Horizon) -> Result<usize, FundingError> {
    plan_year(label, horizon).map_err(|e| invalid(field, e))
}

fn check_rate(field: &str, spec: &RateSpec) -> Result<Rate, FundingError> {
    match spec {
        RateSpec::Value(x) => {
            if !x.is_finite() || *x <= -1.0 || *x > 10.0 {
                return Err(invalid(
                    field,
                    format!(
                        "{x:?} is not a yearly rate above -1 and at most 10 (rates are fractions: 0.02 is 2%)"
                    ),
                ));
            }
            Ok(Rate::Fixed(*x))
        }
        RateSpec::Distribution(d) => {
            let dist = Distribution::from_spec(d.clone()).map_err(|source| {
                FundingError::Distribution {
                    field: field.to_string(),
                    source,
                }
            })?;
            let low = dist.quantile(1e-12).unwrap_or(f64::NEG_INFINITY);
            let high = dist.quantile(1.0 - 1e-12).unwrap_or(f64::INFINITY);
            if low <= -1.0 || high > 10.0 {
                return Err(invalid(
                    field,
                    format!(
                        "the distribution reaches {low:?} to {high:?}; a yearly rate must stay above -1 and at most 10"
                    ),
                ));
            }
            Ok(Rate::Uncertain(dist))
        }
    }
}

impl Drivers {
    pub(crate) fn new(specs: &[DriverSpec], horizon: &Horizon) -> Result<Drivers, FundingError> {
        let mut names: Vec<String> = Vec::new();
        let mut rates = Vec::new();
        let mut persistence = Vec::new();
        for (i, d) in specs.iter().enumerate() {
            let field = format!("drivers[{i}]");
            let name = d.name.trim();
            if name.is_empty() {
                return Err(invalid(format!("{field}.name"), "is empty"));
            }
            if let Some(first) = names.iter().position(|n| n == name) {
                return Err(invalid(
                    format!("{field}.name"),
                    format!("{name:?} is already the name of drivers[{first}]"),
                ));
            }
            let by_year = match &d.rate {
                DriverRates::Every(r) => {
                    let rate = check_rate(&format!("{field}.rate"), r)?;
                    vec![rate; horizon.len()]
                }
                DriverRates::PerYear(list) => {
                    if list.len() != horizon.len() {
                        return Err(invalid(
                            format!("{field}.rate"),
                            format!(
                                "has {} rates for a plan of {} years (give one per year, or one rate for all)",
                                list.len(),
                                horizon.len()
                            ),
                        ));
                    }
                    list.iter()
                        .enumerate()
                        .map(|(y, r)| check_rate(&format!("{field}.rate[{y}]"), r))
                        .collect::<Result<_, _>>()?
                }
                DriverRates::ByYear(map) => {
                    let mut out: Vec<Option<Rate>> = vec![None; horizon.len()];
                    for (label, r) in map {
                        let f = format!("{field}.rate.{label:?}");
                        let y = year_of(&f, label, horizon)?;
                        out[y] = Some(check_rate(&f, r)?);
                    }
                    out.into_iter()
                        .enumerate()
                        .map(|(y, r)| {
                            r.ok_or_else(|| {
                                invalid(
                                    format!("{field}.rate"),
                                    format!(
                                        "no rate for {} (give every year of the plan, or one rate for all)",
                                        horizon.first().offset(y as u32)
                                    ),
                                )
                            })
                        })
                        .collect::<Result<_, _>>()?
                }
            };
            let p = d.persistence.unwrap_or(1.0);
            if !p.is_finite() || !(0.0..=1.0).contains(&p) {
                return Err(invalid(
                    format!("{field}.persistence"),
                    format!("{p:?} is not between 0 (fresh each year) and 1 (lasting)"),
                ));
            }
            names.push(name.to_string());
            rates.push(by_year);
            persistence.push(p);
        }
        Ok(Drivers {
            names,
            rates,
            persistence,
        })
    }

    pub(crate) fn index(&self, field: &str, name: &str) -> Result<usize, FundingError> {
        self.names
            .iter()
            .position(|n| n == name.trim())
            .ok_or_else(|| FundingError::UnknownDriver {
                field: field.to_string(),
                name: name.to_string(),
                known: if self.names.is_empty() {
                    "none".into()
                } else {
                    self.names.join(", ")
                },
            })
    }

    /// Whether any rate is uncertain.
    pub(crate) fn uncertain(&self, d: usize) -> bool {
        self.rates[d]
            .iter()
            .any(|r| matches!(r, Rate::Uncertain(_)))
    }
}

/// A yearly rate compiled: fixed by year, or a driver's.
#[derive(Debug, Clone)]
pub(crate) enum Step<T> {
    Fixed(Vec<T>),
    Driver(usize),
}

impl<T: crate::amount::Amount> Step<T> {
    fn at(&self, y: usize, rates: &[T], years: usize) -> T {
        match self {
            Step::Fixed(v) => v[y],
            Step::Driver(d) => rates[d * years + y],
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CouncilTax<T> {
    /// Given tax bases by year.
    pub(crate) base: Vec<Option<T>>,
    pub(crate) growth: Step<T>,
    pub(crate) band_d: T,
    pub(crate) core: Vec<T>,
    pub(crate) asc: Vec<T>,
    pub(crate) collection: T,
    /// Surplus less deficit, by year.
    pub(crate) fund: Vec<T>,
}

#[derive(Debug, Clone)]
pub(crate) struct BusinessRates<T> {
    pub(crate) bfl: Vec<Option<T>>,
    pub(crate) uprating: Step<T>,
    pub(crate) baseline: T,
    pub(crate) growth: Step<T>,
    pub(crate) share: T,
    pub(crate) levy: T,
    pub(crate) safety: T,
    pub(crate) reset: Option<usize>,
}

#[derive(Debug, Clone)]
pub(crate) enum Line<T> {
    Indexed {
        base: T,
        shares: Vec<(usize, T)>,
        rest: T,
    },
    Demand {
        population: T,
        population_driver: Option<usize>,
        unit_cost: T,
        unit_cost_driver: Option<usize>,
    },
    Fixed(Vec<T>),
}

#[derive(Debug, Clone)]
pub(crate) struct Fee<T> {
    pub(crate) price: T,
    pub(crate) volume: T,
    pub(crate) price_driver: Option<usize>,
    pub(crate) volume_driver: Option<usize>,
}

/// A grant by year: fixed amounts, or distributions (drawn by the caller).
#[derive(Debug, Clone)]
pub(crate) enum GrantYear {
    Fixed(Money),
    Uncertain(Distribution),
}

/// Funding and spending compiled for one number type.
#[derive(Debug, Clone)]
pub(crate) struct Budget<T> {
    pub(crate) years: usize,
    pub(crate) council_tax: Option<CouncilTax<T>>,
    pub(crate) business_rates: Option<BusinessRates<T>>,
    pub(crate) fees: Vec<Fee<T>>,
    pub(crate) lines: Vec<Line<T>>,
    /// The number of grants (their amounts come from the caller).
    pub(crate) grants: usize,
}

/// One year of the budget.
#[derive(Debug, Clone, Default)]
pub(crate) struct BudgetYear<T> {
    pub(crate) council_tax: T,
    pub(crate) business_rates: T,
    pub(crate) grants: T,
    pub(crate) fees: T,
    pub(crate) spending: T,
}

/// The same for the exact tables, with each line.
#[derive(Debug, Clone)]
pub(crate) struct Detail<T> {
    pub(crate) band_d: Vec<T>,
    pub(crate) tax_base: Vec<T>,
    /// `[line][year]`.
    pub(crate) lines: Vec<Vec<T>>,
    /// `[fee][year]`.
    pub(crate) fees: Vec<Vec<T>>,
}

/// Validated funding and spending: what does not depend on the number type.
#[derive(Debug, Clone)]
pub(crate) struct Sides {
    pub(crate) drivers: Drivers,
    pub(crate) grants: Vec<Vec<GrantYear>>,
    pub(crate) flags: Vec<ReferendumCheck>,
}

/// A year's referendum check, the principles' way (see [`crate::referendum`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ReferendumCheck {
    /// The year.
    pub year: String,
    /// The core increase.
    pub core_increase: Decimal,
    /// The social care precept.
    pub asc_precept: Decimal,
    /// The core threshold and the social care allowance applied (`None`: no principles known
    /// for the year).
    pub limits: Option<(Decimal, Decimal)>,
    /// A district's £ alternative.
    pub pounds: Option<Decimal>,
    /// The bespoke additional principle (0: none).
    pub additional: Decimal,
    /// The total threshold (core + allowance + additional): that or more is excessive.
    pub threshold: Option<Decimal>,
    /// The realised increase in Band D, penny-rounded (a fraction).
    pub increase: Decimal,
    /// Whether the increase is excessive under them.
    pub excessive: bool,
    /// Whether the scenario records a dispensation for the year.
    pub dispensation: bool,
    /// Whether it is a blanket waiver (a dispensation given as a list of years).
    pub waived: bool,
}

impl ReferendumCheck {
    /// Excessive and not waived: the plan assumes an increase the council cannot set without
    /// a referendum.
    pub fn flagged(&self) -> bool {
        self.excessive && !self.waived
    }
}

fn yearly(field: &str, y: &Yearly, horizon: &Horizon, low: f64) -> Result<Vec<f64>, FundingError> {
    let check = |f: &str, x: f64| {
        if !x.is_finite() || x < low || x > 1.0 {
            Err(invalid(
                f,
                format!("{x:?} is not a fraction between {low} and 1 (0.0199 is 1.99%)"),
            ))
        } else {
            Ok(x)
        }
    };
    match y {
        Yearly::Every(x) => Ok(vec![check(field, *x)?; horizon.len()]),
        Yearly::ByYear(map) => {
            let mut out = vec![None; horizon.len()];
            for (label, x) in map {
                let f = format!("{field}.{label:?}");
                out[year_of(&f, label, horizon)?] = Some(check(&f, *x)?);
            }
            out.into_iter()
                .enumerate()
                .map(|(i, v)| {
                    v.ok_or_else(|| {
                        invalid(
                            field,
                            format!(
                                "no value for {} (give every year of the plan, or one value for all)",
                                horizon.first().offset(i as u32)
                            ),
                        )
                    })
                })
                .collect()
        }
    }
}

fn by_year_money(
    field: &str,
    map: &BTreeMap<String, Money>,
    horizon: &Horizon,
) -> Result<Vec<Money>, FundingError> {
    let mut out = vec![Money::ZERO; horizon.len()];
    for (label, m) in map {
        let f = format!("{field}.{label:?}");
        check_money(&f, *m)?;
        out[year_of(&f, label, horizon)?] = *m;
    }
    Ok(out)
}

fn check_money(field: &str, m: Money) -> Result<(), FundingError> {
    amount_problem(m).map_or(Ok(()), |e| Err(invalid(field, e)))
}

fn check_fraction(field: &str, x: f64) -> Result<(), FundingError> {
    if !(0.0..=1.0).contains(&x) {
        return Err(invalid(
            field,
            format!("{x:?} is not a fraction between 0 and 1"),
        ));
    }
    Ok(())
}

/// A growth spec compiled to exact fractions by year or a driver.
fn growth_step(
    field: &str,
    g: &Growth,
    drivers: &Drivers,
    horizon: &Horizon,
) -> Result<Step<Decimal>, FundingError> {
    let check = |f: &str, x: f64| {
        if !x.is_finite() || x <= -1.0 || x > 10.0 {
            Err(invalid(
                f,
                format!("{x:?} is not a yearly rate above -1 (0.01 is 1%)"),
            ))
        } else {
            Ok(fraction(x))
        }
    };
    Ok(match g {
        Growth::Value(x) => Step::Fixed(vec![check(field, *x)?; horizon.len()]),
        Growth::Driver(name) => Step::Driver(drivers.index(field, name)?),
        Growth::ByYear(map) => {
            let mut out = vec![Decimal::ZERO; horizon.len()];
            for (label, x) in map {
                let f = format!("{field}.{label:?}");
                out[year_of(&f, label, horizon)?] = check(&f, *x)?;
            }
            Step::Fixed(out)
        }
    })
}

fn base_by_year(
    field: &str,
    b: &Base,
    horizon: &Horizon,
) -> Result<Vec<Option<Decimal>>, FundingError> {
    let mut out = vec![None; horizon.len()];
    match b {
        Base::First(m) => {
            check_money(field, *m)?;
            out[0] = Some(m.decimal());
        }
        Base::ByYear(map) => {
            for (label, m) in map {
                let f = format!("{field}.{label:?}");
                check_money(&f, *m)?;
                out[year_of(&f, label, horizon)?] = Some(m.decimal());
            }
            if out[0].is_none() {
                return Err(invalid(
                    field,
                    format!("give the first plan year, {}", horizon.first()),
                ));
            }
        }
    }
    Ok(out)
}

fn optional_driver(
    field: &str,
    name: &Option<String>,
    drivers: &Drivers,
) -> Result<Option<usize>, FundingError> {
    name.as_deref().map(|n| drivers.index(field, n)).transpose()
}

impl Budget<Decimal> {
    /// Validates funding and spending against the drivers and the plan's years; returns the
    /// exact budget and what the simulation draws.
    pub(crate) fn new(
        funding: &FundingSpec,
        spending: &[SpendingSpec],
        drivers: Drivers,
        horizon: &Horizon,
    ) -> Result<(Budget<Decimal>, Sides), FundingError> {
        let years = horizon.len();
        let labels = horizon.labels();
        let mut flags = Vec::new();
        let council_tax = match &funding.council_tax {
            None => None,
            Some(c) => {
                let f = "funding.council_tax";
                let base = base_by_year(&format!("{f}.tax_base"), &c.tax_base, horizon)?;
                let growth = growth_step(
                    &format!("{f}.tax_base_growth"),
                    &c.tax_base_growth,
                    &drivers,
                    horizon,
                )?;
                check_money(&format!("{f}.band_d"), c.band_d)?;
                let core = yearly(
                    &format!("{f}.core_increase"),
                    &c.core_increase,
                    horizon,
                    -1.0,
                )?;
                let asc = yearly(&format!("{f}.asc_precept"), &c.asc_precept, horizon, 0.0)?;
                if !(c.collection_rate > 0.0 && c.collection_rate <= 1.0) {
                    return Err(invalid(
                        format!("{f}.collection_rate"),
                        format!(
                            "{:?} is not a share above 0 and at most 1",
                            c.collection_rate
                        ),
                    ));
                }
                let surplus = by_year_money(
                    &format!("{f}.collection_fund_surplus"),
                    &c.collection_fund_surplus,
                    horizon,
                )?;
                let deficit = by_year_money(
                    &format!("{f}.collection_fund_deficit"),
                    &c.collection_fund_deficit,
                    horizon,
                )?;
                let class = c.authority_class;
                let (mut additional, mut waived) = (BTreeMap::new(), BTreeSet::new());
                match &c.dispensation {
                    Dispensations::Years(years) => {
                        for (i, label) in years.iter().enumerate() {
                            waived.insert(year_of(
                                &format!("{f}.dispensation[{i}]"),
                                label,
                                horizon,
                            )?);
                        }
                    }
                    Dispensations::Additional(map) => {
                        for (label, x) in map {
                            let field = format!("{f}.dispensation.{label:?}");
                            let y = year_of(&field, label, horizon)?;
                            check_fraction(&field, *x)?;
                            additional.insert(y, fraction(*x));
                        }
                    }
                }
                for (label, l) in &c.referendum_limits {
                    let field = format!("{f}.referendum_limits.{label:?}");
                    let _: FinancialYear = label
                        .parse()
                        .map_err(|e: crate::period::PeriodError| invalid(&field, e.to_string()))?;
                    check_fraction(&format!("{field}.core"), l.core)?;
                    check_fraction(&format!("{field}.asc"), l.asc)?;
                    if let Some(p) = l.pounds
                        && (!p.is_finite() || p < 0.0)
                    {
                        return Err(invalid(
                            format!("{field}.pounds"),
                            format!("{p:?} is not an amount of £ at or above 0"),
                        ));
                    }
                }
                let mut before = BTreeMap::new();
                for (label, x) in &c.asc_precept_before {
                    let field = format!("{f}.asc_precept_before.{label:?}");
                    let y: FinancialYear = label
                        .parse()
                        .map_err(|e: crate::period::PeriodError| invalid(&field, e.to_string()))?;
                    if y >= horizon.first() {
                        return Err(invalid(
                            field,
                            format!(
                                "is a year of the plan (from {}): give it as asc_precept",
                                horizon.first()
                            ),
                        ));
                    }
                    check_fraction(&field, *x)?;
                    before.insert(label.clone(), fraction(*x));
                }
                let precept = |year: &str| -> Option<Decimal> {
                    labels
                        .iter()
                        .position(|l| l == year)
                        .map(|y| fraction(asc[y]))
                        .or_else(|| before.get(year).copied())
                };
                let mut previous = c.band_d.decimal();
                for y in 0..years {
                    let label = &labels[y];
                    let (core_y, asc_y) = (fraction(core[y]), fraction(asc[y]));

                    let extra = additional.get(&y).copied();
                    let found = match c.referendum_limits.get(label) {
                        Some(l) => Some(crate::referendum::check_with(
                            (fraction(l.core), fraction(l.asc), l.pounds.map(fraction)),
                            previous,
                            core_y + asc_y,
                            extra.unwrap_or_default(),
                        )),
                        None => crate::referendum::check(
                            class, label, previous, core_y, asc_y, &precept, extra,
                        ),
                    };
                    flags.push(ReferendumCheck {
                        year: label.clone(),
                        core_increase: core_y,
                        asc_precept: asc_y,
                        limits: found.as_ref().map(|x| (x.core, x.asc)),
                        pounds: found.as_ref().and_then(|x| x.pounds),
                        additional: extra.unwrap_or_default(),
                        threshold: found.as_ref().map(|x| x.threshold),
                        increase: found.as_ref().map_or_else(
                            || {
                                let after = band_d_after(previous, core_y, asc_y);
                                if previous > Decimal::ZERO {
                                    (after - previous) / previous
                                } else {
                                    Decimal::ZERO
                                }
                            },
                            |x| x.increase,
                        ),
                        excessive: found.as_ref().is_some_and(|x| x.excessive),
                        dispensation: extra.is_some() || waived.contains(&y),
                        waived: waived.contains(&y),
                    });
                    // Beyond £1e15 the budget's own check refuses the plan (naming the year);
                    // the chain stops growing there, so that it never leaves exact decimals.
                    if rust_decimal::prelude::ToPrimitive::to_f64(&previous)
                        .is_some_and(|x| x <= MAX_AMOUNT)
                    {
                        previous = band_d_after(previous, core_y, asc_y);
                    }
                }
                Some(CouncilTax {
                    base,
                    growth,
                    band_d: c.band_d.decimal(),
                    core: core.iter().map(|x| fraction(*x)).collect(),
                    asc: asc.iter().map(|x| fraction(*x)).collect(),
                    collection: fraction(c.collection_rate),
                    fund: surplus
                        .iter()
                        .zip(&deficit)
                        .map(|(s, d)| s.decimal() - d.decimal())
                        .collect(),
                })
            }
        };
        let business_rates = match &funding.business_rates {
            None => None,
            Some(b) => {
                let f = "funding.business_rates";
                check_money(&format!("{f}.baseline_rates"), b.baseline_rates)?;
                check_fraction(&format!("{f}.retention_share"), b.retention_share)?;
                check_fraction(&format!("{f}.levy_rate"), b.levy_rate)?;
                check_fraction(&format!("{f}.safety_net"), b.safety_net)?;
                if let Growth::ByYear(map) = &b.growth
                    && map.get(&labels[0]).is_some_and(|g| *g != 0.0)
                {
                    return Err(invalid(
                        format!("{f}.growth.{:?}", labels[0]),
                        "the first plan year collects the baseline: growth starts in the second",
                    ));
                }
                let reset = b
                    .reset_year
                    .as_deref()
                    .map(|l| year_of(&format!("{f}.reset_year"), l, horizon))
                    .transpose()?;
                Some(BusinessRates {
                    bfl: base_by_year(
                        &format!("{f}.baseline_funding_level"),
                        &b.baseline_funding_level,
                        horizon,
                    )?,
                    uprating: growth_step(
                        &format!("{f}.uprating"),
                        &b.uprating,
                        &drivers,
                        horizon,
                    )?,
                    baseline: b.baseline_rates.decimal(),
                    growth: growth_step(&format!("{f}.growth"), &b.growth, &drivers, horizon)?,
                    share: fraction(b.retention_share),
                    levy: fraction(b.levy_rate),
                    safety: fraction(b.safety_net),
                    reset,
                })
            }
        };
        let mut grants = Vec::new();
        let mut names = BTreeSet::new();
        for (i, g) in funding.grants.iter().enumerate() {
            let f = format!("funding.grants[{i}]");
            if !names.insert(g.name.trim().to_string()) {
                return Err(invalid(
                    format!("{f}.name"),
                    format!("{:?} is given twice", g.name),
                ));
            }
            let ends = g
                .ends
                .as_deref()
                .map(|l| year_of(&format!("{f}.ends"), l, horizon))
                .transpose()?;
            let last = ends.unwrap_or(years - 1);
            let amount = |field: &str, a: &AmountSpec| -> Result<GrantYear, FundingError> {
                match a {
                    AmountSpec::Value(m) => {
                        check_money(field, *m)?;
                        Ok(GrantYear::Fixed(*m))
                    }
                    AmountSpec::Distribution(d) => {
                        let dist = Distribution::from_spec(d.clone()).map_err(|source| {
                            FundingError::Distribution {
                                field: field.to_string(),
                                source,
                            }
                        })?;
                        if dist.support().0 < 0.0 {
                            return Err(invalid(
                                field,
                                "a grant's distribution cannot go below zero (use a lower bound of 0 or more)",
                            ));
                        }
                        Ok(GrantYear::Uncertain(dist))
                    }
                }
            };
            let mut by_year = vec![GrantYear::Fixed(Money::ZERO); years];
            match &g.amount {
                GrantAmount::Every(a) => {
                    let v = amount(&format!("{f}.amount"), a)?;
                    for slot in by_year.iter_mut().take(last + 1) {
                        *slot = v.clone();
                    }
                }
                GrantAmount::ByYear(map) => {
                    let mut given = vec![false; years];
                    for (label, a) in map {
                        let field = format!("{f}.amount.{label:?}");
                        let y = year_of(&field, label, horizon)?;
                        if y > last {
                            return Err(invalid(
                                field,
                                format!("the grant ends in {}", labels[last]),
                            ));
                        }
                        by_year[y] = amount(&field, a)?;
                        given[y] = true;
                    }
                    if let Some(y) = (0..=last).find(|&y| !given[y]) {
                        return Err(invalid(
                            format!("{f}.amount"),
                            format!(
                                "no amount for {} (give every year until the grant ends, or set ends)",
                                labels[y]
                            ),
                        ));
                    }
                }
            }
            grants.push(by_year);
        }
        let mut fees = Vec::new();
        for (i, fee) in funding.fees.iter().enumerate() {
            let f = format!("funding.fees[{i}]");
            check_money(&format!("{f}.price"), fee.price)?;
            check_money(&format!("{f}.volume"), fee.volume)?;
            fees.push(Fee {
                price: fee.price.decimal(),
                volume: fee.volume.decimal(),
                price_driver: optional_driver(
                    &format!("{f}.price_driver"),
                    &fee.price_driver,
                    &drivers,
                )?,
                volume_driver: optional_driver(
                    &format!("{f}.volume_driver"),
                    &fee.volume_driver,
                    &drivers,
                )?,
            });
        }
        let mut lines = Vec::new();
        let mut line_names = BTreeSet::new();
        for (i, s) in spending.iter().enumerate() {
            let f = format!("spending[{i}]");
            if !line_names.insert(s.name.trim().to_string()) {
                return Err(invalid(
                    format!("{f}.name"),
                    format!("{:?} is given twice", s.name),
                ));
            }
            let forms = [
                s.base.is_some(),
                s.population.is_some() || s.unit_cost.is_some(),
                s.amount.is_some(),
            ];
            if forms.iter().filter(|x| **x).count() != 1 {
                return Err(invalid(
                    f,
                    "give exactly one of base (with drivers), population with unit_cost, or amount by year",
                ));
            }
            let line = if let Some(base) = s.base {
                check_money(&format!("{f}.base"), base)?;
                let mut shares = Vec::new();
                let mut total = Decimal::ZERO;
                for (name, share) in &s.drivers {
                    let field = format!("{f}.drivers.{name}");
                    check_fraction(&field, *share)?;
                    let d = drivers.index(&field, name)?;
                    shares.push((d, fraction(*share)));
                    total += fraction(*share);
                }
                if total > Decimal::ONE {
                    return Err(invalid(
                        format!("{f}.drivers"),
                        format!("the shares add to {total}, more than 1"),
                    ));
                }
                Line::Indexed {
                    base: base.decimal(),
                    shares,
                    rest: Decimal::ONE - total,
                }
            } else if s.population.is_some() || s.unit_cost.is_some() {
                let (Some(p), Some(c)) = (s.population, s.unit_cost) else {
                    return Err(invalid(
                        f,
                        "a demand line needs both population and unit_cost",
                    ));
                };
                check_money(&format!("{f}.population"), p)?;
                check_money(&format!("{f}.unit_cost"), c)?;
                Line::Demand {
                    population: p.decimal(),
                    population_driver: optional_driver(
                        &format!("{f}.population_driver"),
                        &s.population_driver,
                        &drivers,
                    )?,
                    unit_cost: c.decimal(),
                    unit_cost_driver: optional_driver(
                        &format!("{f}.unit_cost_driver"),
                        &s.unit_cost_driver,
                        &drivers,
                    )?,
                }
            } else {
                let map = s.amount.as_ref().expect("one form is given");
                let mut out = vec![None; years];
                for (label, m) in map {
                    let field = format!("{f}.amount.{label:?}");
                    check_money(&field, *m)?;
                    out[year_of(&field, label, horizon)?] = Some(m.decimal());
                }
                Line::Fixed(
                    out.into_iter()
                        .enumerate()
                        .map(|(y, v)| {
                            v.ok_or_else(|| {
                                invalid(
                                    format!("{f}.amount"),
                                    format!(
                                        "no amount for {} (give every year of the plan)",
                                        labels[y]
                                    ),
                                )
                            })
                        })
                        .collect::<Result<_, _>>()?,
                )
            };
            if !matches!(line, Line::Indexed { .. }) && !s.drivers.is_empty() {
                return Err(invalid(
                    format!("{f}.drivers"),
                    "drivers index a base; a demand line uses population_driver and unit_cost_driver",
                ));
            }
            if !matches!(line, Line::Demand { .. })
                && (s.population_driver.is_some() || s.unit_cost_driver.is_some())
            {
                return Err(invalid(
                    f,
                    "population_driver and unit_cost_driver belong to a demand line (population with unit_cost)",
                ));
            }
            lines.push(line);
        }
        let budget = Budget {
            years,
            council_tax,
            business_rates,
            fees,
            lines,
            grants: grants.len(),
        };
        Ok((
            budget,
            Sides {
                drivers,
                grants,
                flags,
            },
        ))
    }

    /// The same budget in another number type.
    pub(crate) fn to<T: Copy>(&self, f: impl Fn(Decimal) -> T) -> Budget<T> {
        let step = |s: &Step<Decimal>| match s {
            Step::Fixed(v) => Step::Fixed(v.iter().map(|x| f(*x)).collect()),
            Step::Driver(d) => Step::Driver(*d),
        };
        Budget {
            years: self.years,
            council_tax: self.council_tax.as_ref().map(|c| CouncilTax {
                base: c.base.iter().map(|b| b.map(&f)).collect(),
                growth: step(&c.growth),
                band_d: f(c.band_d),
                core: c.core.iter().map(|x| f(*x)).collect(),
                asc: c.asc.iter().map(|x| f(*x)).collect(),
                collection: f(c.collection),
                fund: c.fund.iter().map(|x| f(*x)).collect(),
            }),
            business_rates: self.business_rates.as_ref().map(|b| BusinessRates {
                bfl: b.bfl.iter().map(|x| x.map(&f)).collect(),
                uprating: step(&b.uprating),
                baseline: f(b.baseline),
                growth: step(&b.growth),
                share: f(b.share),
                levy: f(b.levy),
                safety: f(b.safety),
                reset: b.reset,
            }),
            fees: self
                .fees
                .iter()
                .map(|x| Fee {
                    price: f(x.price),
                    volume: f(x.volume),
                    price_driver: x.price_driver,
                    volume_driver: x.volume_driver,
                })
                .collect(),
            lines: self
                .lines
                .iter()
                .map(|l| match l {
                    Line::Indexed { base, shares, rest } => Line::Indexed {
                        base: f(*base),
                        shares: shares.iter().map(|(d, s)| (*d, f(*s))).collect(),
                        rest: f(*rest),
                    },
                    Line::Demand {
                        population,
                        population_driver,
                        unit_cost,
                        unit_cost_driver,
                    } => Line::Demand {
                        population: f(*population),
                        population_driver: *population_driver,
                        unit_cost: f(*unit_cost),
                        unit_cost_driver: *unit_cost_driver,
                    },
                    Line::Fixed(v) => Line::Fixed(v.iter().map(|x| f(*x)).collect()),
                })
                .collect(),
            grants: self.grants,
        }
    }
}

impl<T: crate::amount::Amount> Budget<T> {
    /// Each driver's index by year (`[driver * years + year]`) from its rates (same layout):
    /// the product of `1 + rate` up to and including the year.
    pub(crate) fn indexes(&self, rates: &[T], out: &mut Vec<T>) {
        out.clear();
        let years = self.years;
        for chunk in rates.chunks(years) {
            let mut idx = T::ONE;
            for r in chunk {
                idx = idx * (T::ONE + *r);
                out.push(idx);
            }
        }
    }

    /// Runs every year: `rates` are the drivers' rates and `grants` the grants' amounts
    /// (`[grant * years + year]`). `detail`, when given, receives each line.
    pub(crate) fn run(
        &self,
        rates: &[T],
        index: &[T],
        grants: &[T],
        out: &mut [BudgetYear<T>],
        mut detail: Option<&mut Detail<T>>,
    ) {
        let years = self.years;
        let idx = |d: usize, y: usize| index[d * years + y];
        let opt = |d: Option<usize>, y: usize| d.map_or(T::ONE, |d| idx(d, y));
        if let Some(c) = &self.council_tax {
            let mut band_d = c.band_d;
            let mut base = T::ZERO;
            for (y, o) in out.iter_mut().enumerate() {
                band_d = (band_d * (T::ONE + c.core[y] + c.asc[y])).penny();
                base = match c.base[y] {
                    Some(b) => b,
                    None => base * (T::ONE + c.growth.at(y, rates, years)),
                };
                o.council_tax = (base * band_d * c.collection).penny() + c.fund[y];
                if let Some(d) = detail.as_deref_mut() {
                    d.band_d.push(band_d);
                    d.tax_base.push(base);
                }
            }
        }
        if let Some(b) = &self.business_rates {
            let mut bfl = T::ZERO;
            let mut uprate = T::ONE;
            let mut grown = T::ONE;
            for (y, o) in out.iter_mut().enumerate() {
                let up = b.uprating.at(y, rates, years);
                bfl = match b.bfl[y] {
                    Some(v) => v,
                    None => bfl * (T::ONE + up),
                };
                if y > 0 {
                    uprate = uprate * (T::ONE + up);
                }
                grown = if y == 0 || b.reset == Some(y) {
                    T::ONE
                } else {
                    grown * (T::ONE + b.growth.at(y, rates, years))
                };
                let baseline = b.baseline * uprate;
                let growth = b.share * baseline * (grown - T::ONE);
                let levy = b.levy * growth.max0();
                let income = bfl + growth - levy;
                let floor = b.safety * bfl;
                o.business_rates = (if income < floor { floor } else { income }).penny();
            }
        }
        for (y, o) in out.iter_mut().enumerate() {
            let mut g = T::ZERO;
            for k in 0..self.grants {
                g += grants[k * years + y];
            }
            o.grants = g;
            let mut fees = T::ZERO;
            for (k, f) in self.fees.iter().enumerate() {
                let v =
                    (f.price * opt(f.price_driver, y) * f.volume * opt(f.volume_driver, y)).penny();
                fees += v;
                if let Some(d) = detail.as_deref_mut() {
                    d.fees[k].push(v);
                }
            }
            o.fees = fees;
            let mut spending = T::ZERO;
            for (k, l) in self.lines.iter().enumerate() {
                let v = match l {
                    Line::Indexed { base, shares, rest } => {
                        let mut m = *rest;
                        for &(d, s) in shares {
                            m += s * idx(d, y);
                        }
                        (*base * m).penny()
                    }
                    Line::Demand {
                        population,
                        population_driver,
                        unit_cost,
                        unit_cost_driver,
                    } => (*population
                        * opt(*population_driver, y)
                        * *unit_cost
                        * opt(*unit_cost_driver, y))
                    .penny(),
                    Line::Fixed(v) => v[y],
                };
                spending += v;
                if let Some(d) = detail.as_deref_mut() {
                    d.lines[k].push(v);
                }
            }
            o.spending = spending;
        }
    }
}
