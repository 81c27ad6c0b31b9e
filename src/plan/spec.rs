//! The scenario as written (TOML, JSON or a Python dict), its validation, and the types the
//! rest of the plan shares: the error enum and the reverse stress test's condition.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::distribution::{Distribution, DistributionError, DistributionSpec, MAX_AMOUNT};
use crate::funding::{DriverSpec, FundingError, FundingSpec, SpendingSpec};
use crate::money::Money;
use crate::period::{FinancialYear, Horizon, PeriodError};
use crate::register::{CorrelationSpec, RegisterError, RegisterSpec, RiskRegister};
use crate::reserves::{Policy, Reserves, ReservesError};
use crate::resilience::ResilienceError;
use crate::risk::RiskSpec;
use crate::saving::{DeliveryModel, ProgrammeDelivery, Rag, Saving, SavingError, SavingSpec};
use crate::simulation::SimulationError;

use super::ledger::ReservePlan;
use super::year::Supports;

/// Errors in a scenario or a plan run, each naming its key path.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PlanError {
    /// A malformed file or a value of the wrong type (with its key path, and line in TOML).
    #[error("{0}")]
    Parse(String),
    /// A bad plan section.
    #[error("plan.{field}: {message}")]
    Plan {
        /// The key.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A bad pressure.
    #[error("{}.{message}", crate::source::item("pressures", *index, name))]
    Pressure {
        /// Its position.
        index: usize,
        /// Its name.
        name: String,
        /// What is wrong (starting with the key).
        message: String,
    },
    /// A bad saving.
    #[error("{}.{source}", crate::source::item("savings", *index, id))]
    Saving {
        /// Its position.
        index: usize,
        /// Its id.
        id: String,
        /// What is wrong.
        source: SavingError,
    },
    /// A saving due outside the plan.
    #[error("{}.year: {source}", crate::source::item("savings", *index, id))]
    SavingYear {
        /// Its position.
        index: usize,
        /// Its id.
        id: String,
        /// What is wrong.
        source: PeriodError,
    },
    /// Two savings with one id.
    #[error("savings[{index}].id: {id:?} is already the id of savings[{first}]")]
    DuplicateSaving {
        /// The second one.
        index: usize,
        /// The id.
        id: String,
        /// The first one.
        first: usize,
    },
    /// A bad delivery model override.
    #[error("savings_delivery.{rag}.{source}")]
    Delivery {
        /// The RAG status.
        rag: Rag,
        /// What is wrong.
        source: SavingError,
    },
    /// A bad risk, correlation or horizon.
    #[error("{0}")]
    Register(#[from] RegisterError),
    /// Bad reserves.
    #[error("reserves.{0}")]
    Reserves(ReservesError),
    /// A bad policy.
    #[error("policy.{0}")]
    Policy(ReservesError),
    /// A bad in-year hand-over (`in_year` or `opening_overspend`).
    #[error("{field}.{source}")]
    InYear {
        /// The key.
        field: &'static str,
        /// What is wrong.
        source: DistributionError,
    },
    /// An amount out of range in the in-year hand-over.
    #[error(
        "in_year.{field}: {value} is beyond the {MAX_AMOUNT:e} in absolute value that fiscalrisk accepts"
    )]
    InYearAmount {
        /// The key.
        field: &'static str,
        /// The value.
        value: Money,
    },
    /// Negative one-off mitigations: they would turn an overspend into a surplus.
    #[error(
        "in_year.one_off_mitigations: {value} is negative; one-off mitigations are the pounds of one-off measures inside the forecast (0 or more): an overspend belongs in in_year.overspend"
    )]
    NegativeMitigations {
        /// The value.
        value: Money,
    },
    /// A bad `[budget_setting]`.
    #[error(transparent)]
    BudgetSetting(#[from] crate::budget_setting::BudgetSettingError),
    /// A bad `[hra]`.
    #[error(transparent)]
    Hra(#[from] crate::hra::HraError),
    /// A bad `[efs]`.
    #[error(transparent)]
    Efs(#[from] crate::efs::EfsError),
    /// A bad provision.
    #[error(transparent)]
    Provision(#[from] crate::provision::ProvisionError),
    /// A bad `[dsg]`.
    #[error(transparent)]
    Dsg(#[from] crate::dsg::DsgError),
    /// A bad `[collection_fund]`.
    #[error(transparent)]
    CollectionFund(#[from] crate::collection_fund::CollectionFundError),
    /// A bad `[treasury]`.
    #[error(transparent)]
    Treasury(#[from] crate::treasury::TreasuryError),
    /// Two models of how the council closes its gap.
    #[error(
        "plan.management_response: {0} and [budget_setting] are two models of how the council closes its gap (a costless closure, and council tax, new savings and reserves); give one"
    )]
    TwoResponses(f64),
    /// Council tax to the limit without council tax.
    #[error(
        "budget_setting.council_tax: \"to_limit\" needs [funding.council_tax], whose Band D, tax base and referendum limits give the headroom"
    )]
    NoCouncilTax,
    /// Both forms of the in-year hand-over.
    #[error(
        "opening_overspend: give the in-year position once, as [in_year] (opening_overspend is its one-off part only)"
    )]
    TwoInYear,
    /// Bad run options (trials, threads) or a thread pool that could not start.
    #[error(transparent)]
    Run(#[from] SimulationError),
    /// An input the exact ledger cannot take because it is uncertain.
    #[error("ledger: {what} is uncertain ({why})")]
    Uncertain {
        /// The input's key path.
        what: String,
        /// Why.
        why: String,
    },
    /// A confidence outside its range.
    #[error("confidence: {0:?} is not between 0.5 and 1")]
    Confidence(f64),
    /// A probability outside [0, 1].
    #[error("{field}: {value:?} is not between 0 and 1")]
    Probability {
        /// The argument.
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// A number that must be finite.
    #[error("{field}: {value:?} is not a finite number")]
    NotFinite {
        /// The argument.
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// A reverse stress test's condition that is not known.
    #[error("threshold: {0:?} is not one of exhausted, below_minimum")]
    Condition(String),
    /// A year that is not in the plan.
    #[error("year: {year:?} is not a year of the plan ({first} to {last})")]
    UnknownYear {
        /// What was given.
        year: String,
        /// The plan's first year.
        first: String,
        /// Its last.
        last: String,
    },
    /// An indicator the plan cannot give.
    #[error(transparent)]
    Indicator(#[from] ResilienceError),
    /// A stored result (JSON, a pickle) that does not hold together.
    #[error("a plan result: {0}")]
    Result(String),
    /// An input larger than [`MAX_INPUT_BYTES`].
    #[error("input: {bytes} bytes is more than the {MAX_INPUT_BYTES} a scenario file may have")]
    TooLarge {
        /// Its size.
        bytes: usize,
    },
    /// Too many pressures or savings.
    #[error("{field}: {count} is more than the {MAX_ITEMS} a scenario may have")]
    TooMany {
        /// `pressures` or `savings`.
        field: &'static str,
        /// How many.
        count: usize,
    },
    /// Stopped by the progress callback (e.g. Ctrl-C).
    #[error("the simulation was interrupted")]
    Interrupted,
    /// Bad programme correlations.
    #[error("savings_delivery.{0}")]
    Programme(SavingError),
    /// Correlations of a saving that together cannot hold.
    #[error("correlations: {0}")]
    Links(String),
    /// A correlation naming a saving that cannot be applied.
    #[error("correlations[{index}]: {message}")]
    Correlation {
        /// Its position.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// A bad amount of savings still to be identified.
    #[error("{field}: {message}")]
    Unidentified {
        /// `unidentified."2020/21"`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Bad drivers, funding or spending.
    #[error(transparent)]
    Funding(#[from] FundingError),
    /// A bad capital section.
    #[error(transparent)]
    Capital(#[from] crate::capital::CapitalError),
    /// An error found after parsing a TOML file, with the line its key path points at.
    #[error("{source} (line {line})")]
    AtLine {
        /// The error.
        source: Box<PlanError>,
        /// The file's line.
        line: usize,
    },
}

/// The plan section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSpec {
    /// The plan's name.
    pub name: String,
    /// Its first year (`2019/20`).
    pub first_year: String,
    /// How many years.
    pub years: u32,
    /// Net budget per year (£). Optional with a `[funding]` section: the central case's
    /// funding is then the net budget.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub net_budget: Vec<Money>,
    /// Each year closes this fraction of the recurring gap still open (closures are recurring
    /// and accumulate; 0: no further action).
    #[serde(default)]
    pub management_response: f64,
}

fn yes() -> bool {
    true
}

/// A cost pressure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PressureSpec {
    /// What it is.
    pub name: String,
    /// Its amount (annual, when recurring).
    pub amount: DistributionSpec,
    /// The year it starts.
    pub first_year: String,
    /// Whether it recurs every year from its first.
    #[serde(default = "yes")]
    pub recurring: bool,
}

/// The in-year position handed to the plan (from this year's budget monitoring).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InYearSpec {
    /// This year's forecast overspend (outturn less budget; negative: an underspend), met
    /// from reserves in the usual order before the plan's first year.
    pub overspend: DistributionSpec,
    /// The one-off mitigations inside that forecast (positive pounds). The underlying
    /// overspend, `overspend + one_off_mitigations`, recurs in the base budget of every year
    /// of the plan, unless `in_base`.
    #[serde(default)]
    pub one_off_mitigations: Money,
    /// Whether the plan's base budgets already include the underlying overspend (budgets set
    /// after the forecast, which carry it as a pressure): then only the year's overspend is
    /// handed over, met from reserves, and nothing recurs. Default false: the plan's budgets
    /// were set before the forecast.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_base: bool,
}

/// A scenario as written (TOML, JSON or a Python dict).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    /// The plan.
    pub plan: PlanSpec,
    /// Cost pressures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pressures: Vec<PressureSpec>,
    /// Savings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub savings: Vec<SavingSpec>,
    /// Delivery models overriding the defaults, by RAG status (each status once, whatever its
    /// case: `amber` and `AMBER` together are refused), and how deliveries move together
    /// ([`ProgrammeDelivery`]).
    #[serde(default, skip_serializing_if = "ProgrammeDelivery::is_empty")]
    pub savings_delivery: ProgrammeDelivery,
    /// Risks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risks: Vec<RiskSpec>,
    /// Rank correlations between risks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub correlations: Vec<CorrelationSpec>,
    /// Reserves.
    #[serde(default)]
    pub reserves: Reserves,
    /// The reserves policy.
    #[serde(default)]
    pub policy: Policy,
    /// The in-year hand-over: this year's overspend and its underlying recurring part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_year: Option<InYearSpec>,
    /// The current year's overspend alone, met from reserves before the plan's first year
    /// (the one-off part of `in_year`, kept for scenarios written before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_overspend: Option<DistributionSpec>,
    /// Savings the budget assumes but no one has yet found, by due year (£ ≥ 0): recurring
    /// savings that are never delivered unless `savings_delivery.unidentified` gives them a
    /// model ("£253.3m still to be identified").
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unidentified: crate::reserves::ByYear,
    /// Named drivers (pay award, CPI, demand): yearly rates, fixed or uncertain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drivers: Vec<DriverSpec>,
    /// The funding side: council tax, business rates, grants, fees and charges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funding: Option<FundingSpec>,
    /// Spending lines before savings, indexed to drivers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spending: Vec<SpendingSpec>,
    /// Capital financing: CFR, MRP, debt, the capital programme, capitalisation directions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capital: Option<crate::capital::CapitalSpec>,
    /// A budget set every year: how the council closes the gap it carries into each next year
    /// (see [`crate::budget_setting`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_setting: Option<crate::budget_setting::BudgetSettingSpec>,
    /// Exceptional financial support as a response to a failed in-year test (see
    /// [`crate::efs`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub efs: Option<crate::efs::EfsSpec>,
    /// The Housing Revenue Account, ring-fenced: its own ledger, never drawn for the general
    /// fund (see [`crate::hra`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hra: Option<crate::hra::HraSpec>,
    /// Provisions: charged to revenue when recognised, paid in cash later (see
    /// [`crate::provision`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provisions: Vec<crate::provision::ProvisionSpec>,
    /// The Dedicated Schools Grant deficit under the statutory override (see [`crate::dsg`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsg: Option<crate::dsg::DsgSpec>,
    /// Collection fund surpluses and deficits, falling on the next year's budget (see
    /// [`crate::collection_fund`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_fund: Option<crate::collection_fund::CollectionFundSpec>,
    /// Treasury cash: interest on balances that follows the balances (see
    /// [`crate::treasury`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treasury: Option<crate::treasury::TreasurySpec>,
}

/// The id under which the savings still to be identified in `year` appear (drivers, trials).
pub fn unidentified_id(year: &str) -> String {
    format!("unidentified {year}")
}

/// How far apart in scale an amount and the net budget may be before a warning: amounts are in
/// pounds, and one typed in £m or £k is 10^6 or 10^3 off.
pub const SCALE_WARNING: f64 = 1e4;

/// Amounts that look typed in another unit than pounds: a net budget under £100,000 or one
/// year's 10^4 times another's; and a balance, saving, pressure, risk impact or in-year
/// overspend under £100,000 that is 10^4 times smaller than the net budget (a figure in £m), or
/// 10^4 times larger than it. Each warning names the field and suggests pounds.
fn scale_warnings(spec: &ScenarioSpec) -> Vec<String> {
    let budgets: Vec<f64> = spec.plan.net_budget.iter().map(|b| b.to_f64()).collect();
    let largest = budgets.iter().copied().fold(0.0, f64::max);
    let mut out = Vec::new();
    let pounds = "amounts are in pounds (write 125e6 for £125m)";
    for (i, b) in budgets.iter().enumerate() {
        if *b < 1e5 {
            out.push(format!(
                "plan.net_budget[{i}]: {b} is under £100,000; {pounds}"
            ));
        } else if largest / b > SCALE_WARNING {
            out.push(format!(
                "plan.net_budget[{i}]: {b} is more than {SCALE_WARNING:e} times smaller than the largest year's {largest}; {pounds}"
            ));
        }
    }
    let mut amounts: Vec<(String, f64)> = vec![(
        "reserves.general_fund".into(),
        spec.reserves.general_fund.to_f64(),
    )];
    for (i, e) in spec.reserves.earmarked.iter().enumerate() {
        amounts.push((
            format!("reserves.earmarked[{i}].balance"),
            e.balance.to_f64(),
        ));
    }
    for (i, s) in spec.savings.iter().enumerate() {
        amounts.push((format!("savings[{i}].value"), s.value.to_f64()));
    }
    let mean = |d: &DistributionSpec| Distribution::from_spec(d.clone()).map(|d| d.mean()).ok();
    for (i, p) in spec.pressures.iter().enumerate() {
        if let Some(m) = mean(&p.amount) {
            amounts.push((format!("pressures[{i}].amount"), m));
        }
    }
    for (i, r) in spec.risks.iter().enumerate() {
        if let Some(m) = mean(&r.impact) {
            amounts.push((format!("risks[{i}].impact"), m));
        }
    }
    if let Some(m) = spec.in_year.as_ref().and_then(|i| mean(&i.overspend)) {
        amounts.push(("in_year.overspend".into(), m));
    }
    for (field, x) in amounts {
        let x = x.abs();
        if largest <= 0.0 || x == 0.0 {
            continue;
        }
        if (x < 1e5 && largest / x > SCALE_WARNING) || x / largest > SCALE_WARNING {
            out.push(format!(
                "{field}: {x} is more than {SCALE_WARNING:e} times {} the net budget ({largest}); {pounds}",
                if x < largest { "smaller than" } else { "larger than" }
            ));
        }
    }
    out
}

/// Reads `savings_delivery`, refusing a RAG status given twice (`amber` and `AMBER` are one).
/// What a saving's delivery is correlated with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Linked {
    /// A risk, by register position.
    Risk(usize),
    /// A pressure, by position.
    Pressure(usize),
    /// A driver, by position.
    Driver(usize),
}

/// A saving correlated with a risk or a pressure: `loading` is the latent correlation of the
/// saving's shortfall with the other's cost (positive: they go wrong together).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Link {
    pub(crate) saving: usize,
    pub(crate) other: Linked,
    pub(crate) loading: f64,
}

#[derive(Clone)]
pub(crate) struct Pressure {
    pub(crate) amount: Distribution,
    pub(crate) start: usize,
    pub(crate) recurring: bool,
}

/// A budget set every year, compiled (see [`super::year`]).
#[derive(Debug, Clone)]
pub(crate) struct Setting {
    pub(crate) rule: crate::budget_setting::BudgetSetting,
    /// How new savings are delivered: the stated model, or the programme's amber one.
    pub(crate) delivery: DeliveryModel,
    /// By year, one more than the plan's (the year after it repeats the last): the council
    /// tax a budget can add by rising to the referendum limit (zeros as planned).
    pub(crate) headroom: Vec<Decimal>,
    pub(crate) headroom_f64: Vec<f64>,
}

/// The in-year hand-over, validated.
#[derive(Clone)]
pub(crate) struct InYear {
    pub(crate) overspend: Distribution,
    /// Added to the drawn overspend to give the underlying recurring overspend (`None`: the
    /// one-off `opening_overspend` form, which has no recurring part).
    pub(crate) mitigations: Option<f64>,
}

/// What a reverse stress test looks for in a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Usable reserves exhausted by the end of the plan.
    Exhausted,
    /// The general fund below its minimum in some year.
    BelowMinimum,
}

impl std::str::FromStr for Condition {
    type Err = PlanError;
    fn from_str(s: &str) -> Result<Condition, PlanError> {
        match s {
            "exhausted" => Ok(Condition::Exhausted),
            "below_minimum" => Ok(Condition::BelowMinimum),
            _ => Err(PlanError::Condition(s.to_string())),
        }
    }
}

/// A validated scenario.
#[derive(Clone)]
pub struct Scenario {
    pub(crate) spec: ScenarioSpec,
    pub(crate) horizon: Horizon,
    pub(crate) register: RiskRegister,
    pub(crate) pressures: Vec<Pressure>,
    pub(crate) savings: Vec<(Saving, usize)>,
    pub(crate) models: BTreeMap<Rag, DeliveryModel>,
    pub(crate) in_year: Option<InYear>,
    /// Savings correlated with risks and pressures (from `correlations`).
    pub(crate) links: Vec<Link>,
    pub(crate) reserves: ReservePlan<f64>,
    pub(crate) warnings: Vec<String>,
    /// Funding, spending and drivers, when the scenario has them.
    pub(crate) finance: Option<super::mtfs::Finance>,
    /// The net budget by year: `plan.net_budget`, or the central case's funding.
    pub(crate) net_budget: Vec<Money>,
    /// The capital plan, when the scenario has one.
    pub(crate) capital: Option<crate::capital::CapitalPlan>,
    /// A budget set every year, when the scenario has one.
    pub(crate) budget_setting: Option<Setting>,
    /// Exceptional financial support as a response, exact and in floats.
    pub(crate) support: Option<Supports>,
    /// Provisions, the DSG deficit and the collection fund (empty without them).
    pub(crate) sheet: super::sheet::Sheet,
    /// Treasury cash's rates, exact and in floats (without `[treasury]`: none).
    pub(crate) treasury: Option<(crate::treasury::Rates<Decimal>, crate::treasury::Rates<f64>)>,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario")
            .field("spec", &self.spec)
            .finish()
    }
}

impl PartialEq for Scenario {
    fn eq(&self, other: &Self) -> bool {
        self.spec == other.spec
    }
}

fn path_error<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> PlanError {
    PlanError::Parse(crate::source::with_path(e))
}

/// The largest scenario file read (64 MiB): far beyond any real plan, small enough that
/// parsing it cannot exhaust memory.
pub const MAX_INPUT_BYTES: usize = 64 << 20;
/// Most pressures, and most savings, a scenario may have (each holds a cost per trial of a
/// batch, as risks do: see [`crate::register::MAX_RISKS`]).
pub const MAX_ITEMS: usize = 10_000;
/// Most characters a name or id (of the plan, a pressure, a saving, a risk, a reserve) may have.
pub const MAX_NAME: usize = 1_000;

fn check_size(text: &str) -> Result<(), PlanError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(PlanError::TooLarge { bytes: text.len() });
    }
    Ok(())
}

impl Scenario {
    /// Reads TOML; errors name the key path and the line.
    pub fn from_toml(text: &str) -> Result<Scenario, PlanError> {
        check_size(text)?;
        let de = toml::Deserializer::parse(text)
            .map_err(|e| PlanError::Parse(crate::source::parse_error(&e.to_string())))?;
        let spec: ScenarioSpec = serde_path_to_error::deserialize(de).map_err(path_error)?;
        let mut scenario = Scenario::from_spec(spec).map_err(|e| {
            let message = e.to_string();
            match crate::source::line_of(text, &crate::source::message_path(&message)) {
                Some(line) => PlanError::AtLine {
                    source: Box::new(e),
                    line,
                },
                None => e,
            }
        })?;
        // Warnings name the file's line too, as errors do.
        for w in &mut scenario.warnings {
            if let Some(line) = crate::source::line_of(text, &crate::source::message_path(w)) {
                w.push_str(&format!(" (line {line})"));
            }
        }
        Ok(scenario)
    }

    /// Reads JSON; errors name the key path.
    pub fn from_json(text: &str) -> Result<Scenario, PlanError> {
        check_size(text)?;
        let mut de = serde_json::Deserializer::from_str(text);
        let spec: ScenarioSpec = serde_path_to_error::deserialize(&mut de).map_err(path_error)?;
        Scenario::from_spec(spec)
    }

    /// TOML that [`Scenario::from_toml`] reads back into an equal scenario.
    pub fn to_toml(&self) -> Result<String, PlanError> {
        toml::to_string(&self.spec).map_err(|e| PlanError::Parse(e.to_string()))
    }

    /// The spec.
    pub fn spec(&self) -> &ScenarioSpec {
        &self.spec
    }

    /// The plan's years.
    pub fn horizon(&self) -> Horizon {
        self.horizon
    }

    /// The net budget by year: `plan.net_budget`, or with `[funding]` and no net budget typed,
    /// the central case's funding (what `percent_of_budget` and the resilience ratios use).
    pub fn net_budget(&self) -> &[Money] {
        &self.net_budget
    }

    /// The Housing Revenue Account's ledger by year (empty without `[hra]`): its own balance,
    /// ring-fenced, never part of usable reserves.
    pub fn hra(&self) -> Vec<crate::hra::HraYear> {
        self.spec
            .hra
            .as_ref()
            .and_then(|h| h.ledger(&self.horizon).ok())
            .unwrap_or_default()
    }

    /// The capital plan by year (empty without `[capital]`).
    pub fn capital(&self) -> Vec<crate::capital::CapitalYear> {
        self.capital
            .as_ref()
            .map(|c| c.years().to_vec())
            .unwrap_or_default()
    }

    /// The prudential indicators by year against the net revenue stream (the net budget;
    /// empty without `[capital]`).
    pub fn prudential_indicators(&self) -> Vec<crate::capital::PrudentialRow> {
        self.capital
            .as_ref()
            .map(|c| c.indicators(&self.net_budget))
            .unwrap_or_default()
    }

    /// The risks as a register.
    pub fn register(&self) -> &RiskRegister {
        &self.register
    }

    /// Validates a spec.
    pub fn from_spec(spec: ScenarioSpec) -> Result<Scenario, PlanError> {
        for (field, count) in [
            ("pressures", spec.pressures.len()),
            ("savings", spec.savings.len()),
        ] {
            if count > MAX_ITEMS {
                return Err(PlanError::TooMany { field, count });
            }
        }
        // Names and ids reach every table, report and workbook: a 60 MiB plan name made a
        // 250 MB report (issue 38, item 13).
        let names = std::iter::once(("plan.name".to_string(), spec.plan.name.as_str()))
            .chain(
                spec.pressures
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (format!("pressures[{i}].name"), p.name.as_str())),
            )
            .chain(spec.savings.iter().enumerate().flat_map(|(i, s)| {
                [
                    (format!("savings[{i}].id"), s.id.as_str()),
                    (format!("savings[{i}].name"), s.name.as_str()),
                ]
            }))
            .chain(spec.risks.iter().enumerate().flat_map(|(i, r)| {
                [
                    (format!("risks[{i}].id"), r.id.as_str()),
                    (format!("risks[{i}].name"), r.name.as_str()),
                ]
            }))
            .chain(
                spec.reserves
                    .earmarked
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (format!("reserves.earmarked[{i}].name"), e.name.as_str())),
            );
        for (field, name) in names {
            let chars = name.chars().count();
            if chars > MAX_NAME {
                return Err(PlanError::Parse(crate::source::clip(&format!(
                    "{field}: a name of {chars} characters is longer than the {MAX_NAME} a name may have"
                ))));
            }
        }
        let plan = &spec.plan;
        let first: FinancialYear =
            plan.first_year
                .parse()
                .map_err(|e: PeriodError| PlanError::Plan {
                    field: "first_year",
                    message: e.to_string(),
                })?;
        let horizon = Horizon::new(first, plan.years).map_err(|e| PlanError::Plan {
            field: "years",
            message: e.to_string().trim_start_matches("years: ").to_string(),
        })?;
        let derived = plan.net_budget.is_empty() && spec.funding.is_some();
        if !derived && plan.net_budget.len() != horizon.len() {
            return Err(PlanError::Plan {
                field: "net_budget",
                message: format!(
                    "{} values for {} years{}",
                    plan.net_budget.len(),
                    horizon.len(),
                    if plan.net_budget.is_empty() {
                        " (give one per year, or a [funding] section)"
                    } else {
                        ""
                    }
                ),
            });
        }
        for (i, b) in plan.net_budget.iter().enumerate() {
            if *b <= Money::ZERO || b.to_f64() > MAX_AMOUNT {
                return Err(PlanError::Plan {
                    field: "net_budget",
                    message: format!(
                        "[{i}]: {b} is not a positive amount of at most {MAX_AMOUNT:e}"
                    ),
                });
            }
        }
        if !(0.0..=1.0).contains(&plan.management_response) {
            return Err(PlanError::Plan {
                field: "management_response",
                message: format!("{:?} is outside [0, 1]", plan.management_response),
            });
        }
        let mut pressures = Vec::new();
        for (index, p) in spec.pressures.iter().enumerate() {
            let bad = |message: String| PlanError::Pressure {
                index,
                name: p.name.clone(),
                message,
            };
            let amount = Distribution::from_spec(p.amount.clone())
                .map_err(|e: DistributionError| bad(format!("amount.{e}")))?;
            let year: FinancialYear = p
                .first_year
                .parse()
                .map_err(|e: PeriodError| bad(format!("first_year: {e}")))?;
            let start = horizon
                .index_of(year)
                .map_err(|e| bad(format!("first_year: {e}")))?;
            pressures.push(Pressure {
                amount,
                start,
                recurring: p.recurring,
            });
        }
        let mut savings = Vec::new();
        let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
        for (index, s) in spec.savings.iter().enumerate() {
            let saving = Saving::from_spec(s.clone()).map_err(|source| PlanError::Saving {
                index,
                id: s.id.clone(),
                source,
            })?;
            let due = horizon
                .index_of(saving.year())
                .map_err(|source| PlanError::SavingYear {
                    index,
                    id: s.id.clone(),
                    source,
                })?;
            if let Some(&first) = ids.get(s.id.as_str()) {
                return Err(PlanError::DuplicateSaving {
                    index,
                    id: s.id.clone(),
                    first,
                });
            }
            ids.insert(&s.id, index);
            savings.push((saving, due));
        }
        let mut models: BTreeMap<Rag, DeliveryModel> = Rag::ALL
            .iter()
            .map(|&r| (r, DeliveryModel::default_for(r)))
            .collect();
        spec.savings_delivery
            .validate()
            .map_err(PlanError::Programme)?;
        for (&rag, d) in &spec.savings_delivery.models {
            let m = DeliveryModel::from_spec(d.clone())
                .map_err(|source| PlanError::Delivery { rag, source })?;
            models.insert(rag, m);
        }
        // Savings still to be identified: recurring savings of the year, delivered only as
        // `savings_delivery.unidentified` says (by default, never).
        let never = crate::saving::DeliverySpec {
            p_full: 0.0,
            partial: DistributionSpec::Fixed { value: Money::ZERO },
            p_slip: 0.0,
            delay: None,
            one_off_late: false,
        };
        let unidentified_model = spec.savings_delivery.unidentified.clone().unwrap_or(never);
        DeliveryModel::from_spec(unidentified_model.clone()).map_err(|source| {
            PlanError::Programme(SavingError::Model {
                field: "unidentified",
                source: Box::new(source),
            })
        })?;
        for (label, amount) in &spec.unidentified {
            let field = || format!("unidentified.{label:?}");
            let saving = Saving::from_spec(SavingSpec {
                id: unidentified_id(label),
                name: format!("Savings still to be identified, {label}"),
                year: label.clone(),
                value: *amount,
                rag: Rag::Red,
                recurring: true,
                directorate: None,
                delivery: Some(unidentified_model.clone()),
            })
            .map_err(|e| PlanError::Unidentified {
                field: field(),
                message: e.to_string(),
            })?;
            let due = horizon
                .index_of(saving.year())
                .map_err(|e| PlanError::Unidentified {
                    field: field(),
                    message: e.to_string(),
                })?;
            savings.push((saving, due));
        }
        spec.reserves
            .validate_for(&horizon)
            .map_err(PlanError::Reserves)?;
        if let Some(hra) = &spec.hra {
            hra.check(&horizon)?;
        }
        let sheet = super::sheet::Sheet::compile(&spec, &horizon)?;
        // One collection fund: `[collection_fund]` times and spreads its deficits; the older
        // keys of `[funding.council_tax]` put amounts in the year they fall. Both would count
        // the same deficit twice.
        if spec.collection_fund.is_some()
            && let Some(c) = spec.funding.as_ref().and_then(|f| f.council_tax.as_ref())
            && (!c.collection_fund_surplus.is_empty() || !c.collection_fund_deficit.is_empty())
        {
            return Err(PlanError::Parse(
                "collection_fund: give the collection fund once, as [collection_fund] (which times and spreads its surpluses and deficits) or as funding.council_tax.collection_fund_surplus and collection_fund_deficit (amounts in the year they fall), not both".into(),
            ));
        }
        spec.policy.validate().map_err(PlanError::Policy)?;
        let in_year = match (&spec.in_year, &spec.opening_overspend) {
            (Some(_), Some(_)) => return Err(PlanError::TwoInYear),
            (Some(i), None) => {
                if i.one_off_mitigations.decimal().is_sign_negative()
                    && !i.one_off_mitigations.decimal().is_zero()
                {
                    return Err(PlanError::NegativeMitigations {
                        value: i.one_off_mitigations,
                    });
                }
                if i.one_off_mitigations.to_f64().abs() > MAX_AMOUNT {
                    return Err(PlanError::InYearAmount {
                        field: "one_off_mitigations",
                        value: i.one_off_mitigations,
                    });
                }
                Some(InYear {
                    overspend: Distribution::from_spec(i.overspend.clone()).map_err(|source| {
                        PlanError::InYear {
                            field: "in_year.overspend",
                            source,
                        }
                    })?,
                    mitigations: (!i.in_base).then(|| i.one_off_mitigations.to_f64()),
                })
            }
            (None, Some(d)) => Some(InYear {
                overspend: Distribution::from_spec(d.clone()).map_err(|source| {
                    PlanError::InYear {
                        field: "opening_overspend",
                        source,
                    }
                })?,
                mitigations: None,
            }),
            (None, None) => None,
        };
        // Drivers first: correlations may name them.
        let drivers = crate::funding::Drivers::new(&spec.drivers, &horizon)?;
        // Correlations naming a saving link it to a risk, a pressure or a driver; those naming
        // a driver correlate it with another driver or a risk; the rest are the register's,
        // between risks.
        let saving_ids: HashMap<&str, usize> = spec
            .savings
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let risk_ids: HashMap<&str, usize> = spec
            .risks
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i))
            .collect();
        let pressure_names: HashMap<&str, usize> = spec
            .pressures
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.as_str(), i))
            .collect();
        let driver_names: HashMap<&str, usize> = drivers
            .names
            .iter()
            .enumerate()
            .map(|(i, d)| (d.as_str(), i))
            .collect();
        for (i, d) in drivers.names.iter().enumerate() {
            let d = d.as_str();
            if saving_ids.contains_key(d)
                || risk_ids.contains_key(d)
                || pressure_names.contains_key(d)
            {
                return Err(PlanError::Funding(FundingError::Invalid {
                    field: format!("drivers[{i}].name"),
                    message: format!(
                        "{d:?} is also a risk, pressure or saving; correlations need one meaning for each name"
                    ),
                }));
            }
        }
        let mut between_risks = Vec::new();
        let mut links = Vec::new();
        let mut driver_pairs: Vec<(usize, usize, f64)> = Vec::new();
        let mut driver_risks: Vec<(usize, usize, f64)> = Vec::new();
        for (index, c) in spec.correlations.iter().enumerate() {
            let (a, b, rho) = crate::register::Correlation::from(c.clone());
            let bad = |message: String| PlanError::Correlation { index, message };
            let saving = |x: &str| saving_ids.get(x).copied();
            let driver = |x: &str| driver_names.get(x).copied();
            let other = |x: &str| {
                risk_ids
                    .get(x)
                    .map(|&i| Linked::Risk(i))
                    .or_else(|| pressure_names.get(x).map(|&i| Linked::Pressure(i)))
                    .or_else(|| driver(x).map(Linked::Driver))
            };
            let involves_driver = driver(&a).is_some() || driver(&b).is_some();
            if (involves_driver || saving(&a).is_some() || saving(&b).is_some())
                && !(-1.0..=1.0).contains(&rho)
            {
                return Err(bad(format!("rho: {rho:?} is outside [-1, 1]")));
            }
            match (saving(&a), saving(&b)) {
                (Some(_), Some(_)) => {
                    return Err(bad(format!(
                        "{a:?} and {b:?} are both savings: savings move together through savings_delivery.programme_correlation and directorate_correlation"
                    )));
                }
                (Some(s), None) | (None, Some(s)) => {
                    let name = if saving(&a).is_some() { &b } else { &a };
                    let Some(o) = other(name) else {
                        return Err(bad(format!(
                            "no risk, pressure or driver has the id or name {name:?}"
                        )));
                    };
                    if rho != 0.0 {
                        links.push(Link {
                            saving: s,
                            other: o,
                            loading: crate::correlation::pearson_from_spearman(rho),
                        });
                    }
                }
                (None, None) if involves_driver => {
                    let (d, name) = match driver(&a) {
                        Some(d) => (d, &b),
                        None => (driver(&b).expect("one is a driver"), &a),
                    };
                    let r = crate::correlation::pearson_from_spearman(rho);
                    if let Some(e) = driver(name) {
                        if e == d {
                            return Err(bad(format!("{a:?} is correlated with itself")));
                        }
                        driver_pairs.push((d, e, r));
                    } else if let Some(&risk) = risk_ids.get(name.as_str()) {
                        if rho != 0.0 {
                            driver_risks.push((d, risk, r));
                        }
                    } else {
                        return Err(bad(format!(
                            "{name:?}: a driver can be correlated with another driver, a risk or a saving"
                        )));
                    }
                }
                (None, None) => {
                    if pressure_names.contains_key(a.as_str())
                        || pressure_names.contains_key(b.as_str())
                    {
                        return Err(bad(format!(
                            "{a:?} and {b:?}: a pressure can be correlated with a saving, not with a risk or another pressure"
                        )));
                    }
                    between_risks.push(c.clone());
                }
            }
        }
        let linked_risks: Vec<usize> = links
            .iter()
            .filter_map(|l| match l.other {
                Linked::Risk(i) => Some(i),
                Linked::Pressure(_) | Linked::Driver(_) => None,
            })
            .chain(driver_risks.iter().map(|&(_, r, _)| r))
            .collect();
        let register = RiskRegister::from_spec_with_members(
            RegisterSpec {
                first_year: Some(horizon.first().to_string()),
                years: Some(horizon.len() as u32),
                strict: false,
                risks: spec.risks.clone(),
                correlations: between_risks,
            },
            &linked_risks,
        )?;
        let reserves = ReservePlan::new(&spec.reserves, &horizon, Money::to_f64);
        let mut warnings = register.warnings().to_vec();
        warnings.extend(scale_warnings(&spec));
        let finance =
            super::mtfs::Finance::new(&spec, drivers, &horizon, driver_pairs, driver_risks)?;
        let capital = spec
            .capital
            .as_ref()
            .map(|c| {
                crate::capital::CapitalPlan::with_drivers(
                    c,
                    &horizon,
                    finance.as_ref().map(|f| &f.drivers),
                )
            })
            .transpose()?;
        if let Some(c) = &spec.capital {
            for (i, x) in c.commercial.iter().enumerate() {
                if let Some(id) = &x.risk
                    && !register.risks().iter().any(|r| r.id() == id.trim())
                {
                    return Err(crate::capital::CapitalError::Invalid {
                        field: format!("capital.commercial[{i}].risk"),
                        message: format!("{id:?} is not a risk of the register"),
                    }
                    .into());
                }
            }
        }
        if let Some(f) = &finance {
            warnings.extend(f.warnings());
        }
        let spec_budget = spec.plan.net_budget.clone();
        let scenario = Scenario {
            spec,
            horizon,
            register,
            pressures,
            savings,
            models,
            in_year,
            links,
            reserves,
            warnings,
            finance,
            net_budget: spec_budget,
            capital,
            budget_setting: None,
            support: None,
            sheet,
            treasury: None,
        };
        let mut scenario = scenario;
        scenario.check_budget_range()?;
        if scenario.net_budget.is_empty() {
            scenario.net_budget = scenario.central_funding()?;
        }
        scenario.budget_setting = scenario.setting()?;
        scenario.support = scenario.support()?;
        if let Some(t) = &scenario.spec.treasury {
            let capital = scenario.spec.capital.as_ref().map(|c| {
                let rate = scenario
                    .capital
                    .as_ref()
                    .and_then(|p| p.central_borrowing_rate().first().copied())
                    .map_or(0.0, |d| Money::new(d).to_f64());
                (c.opening_cfr - c.opening_debt, rate)
            });
            let exact = t.compile(capital)?;
            scenario.treasury = Some((exact, exact.to_f64()));
        }
        scenario.check_links()?;
        Ok(scenario)
    }

    /// Each saving's programme and directorate factors and its links to risks and pressures
    /// must leave it a variance of its own: their loadings cannot explain more than all of it.
    fn check_links(&self) -> Result<(), PlanError> {
        let mut seen = std::collections::BTreeSet::new();
        for l in &self.links {
            let key = (l.saving, format!("{:?}", l.other));
            if !seen.insert(key) {
                return Err(PlanError::Links(format!(
                    "savings[{}] is correlated with the same risk or pressure twice",
                    l.saving
                )));
            }
        }
        let driver_links = self
            .finance
            .as_ref()
            .is_some_and(|f| f.risk_links.iter().any(|l| !l.is_empty()));
        if self.links.is_empty() && !driver_links {
            return Ok(());
        }
        let options = crate::simulation::SimulationOptions {
            trials: 1,
            seed: 0,
            threads: Some(1),
            keep_trials: false,
        };
        let engine = crate::simulation::Engine::new(&self.register, &options);
        if let Some(f) = &self.finance {
            for (d, v) in f.linked_variance(&engine).iter().enumerate() {
                if *v > 1.0 + 1e-9 {
                    return Err(PlanError::Links(format!(
                        "driver {:?}: its correlations with risks explain {v:.3} of its variance, more than all of it",
                        f.drivers.names[d]
                    )));
                }
            }
        }
        let (links, _) = self.delivery_loadings(&engine);
        let p = &self.spec.savings_delivery;
        for (k, (s, _)) in self.savings.iter().enumerate() {
            if links[k].is_empty() {
                continue;
            }
            let factors = p.programme_correlation
                + if s.spec().directorate.is_some() {
                    p.directorate_correlation
                } else {
                    0.0
                };
            let linked = super::engine::linked_variance(&links[k], &engine, self.finance.as_ref());
            if factors + linked > 1.0 + 1e-9 {
                return Err(PlanError::Links(format!(
                    "{}: its correlations with risks and pressures (explaining {linked:.3} of its variance) and the programme and directorate correlations ({factors:.3}) add to more than 1",
                    crate::source::item("savings", k, &s.spec().id)
                )));
            }
        }
        Ok(())
    }

    /// Warnings about the scenario: correlations repaired, amounts that look typed in another
    /// unit.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub(crate) fn model<'a>(&'a self, saving: &'a Saving) -> &'a DeliveryModel {
        saving
            .delivery()
            .unwrap_or_else(|| &self.models[&saving.spec().rag])
    }

    /// The one-off savings due in each year: the base budget does not keep them, so each
    /// returns as a recurring gap from the next year unless replaced.
    pub(crate) fn one_off_savings(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.horizon.len()];
        for (s, due) in &self.savings {
            if !s.spec().recurring {
                out[*due] += s.spec().value.to_f64();
            }
        }
        out
    }

    /// The names of the reserves reported by year: the general fund, then each earmarked
    /// reserve in file order.
    pub fn reserve_names(&self) -> Vec<String> {
        self.reserves.names.clone()
    }
}
