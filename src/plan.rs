//! The medium-term financial plan, simulated: how likely is the council to breach its reserves
//! policy or run out of reserves, in which year, and why?
//!
//! A [`Scenario`] holds the plan (years and net budget), pressures, savings with their delivery
//! models, risks with their correlations, reserves and the reserves policy. Per trial and year:
//!
//! * **gap** = savings shortfall + pressures + risk costs - what the management response closes.
//!   Each part is **recurring** (a recurring pressure, a recurring risk, the lasting shortfall of
//!   a recurring saving) or **one-off**. The management response `m` closes, in each year's
//!   budget, the fraction `m` of the previous year's recurring gap: `closed[y] = m * recurring[y-1]`.
//! * **reserves**: planned contributions and draws go to the general fund; a positive gap is met
//!   from the general fund, then from usable earmarked reserves (a surplus goes to the general
//!   fund). Usable reserves are the general fund plus usable earmarked reserves; below zero they
//!   are **exhausted** (a year counts as exhausted when reserves were exhausted in it or before).
//! * **policy**: the general fund below the minimum; and, unless the policy allows it, reserves
//!   funding a recurring gap: `min(gap, recurring part of the gap)` when both are positive.
//! * an **opening overspend** (the current year's, from in-year monitoring), when given, is
//!   taken from the general fund before the first year.
//! * the **underlying gap** adds back the one-off savings planned for the year, which the base
//!   budget does not keep.
//!
//! Trials run in the risk engine's batches and streams: batch `b` draws the risks first (the
//! same numbers as simulating the register alone), then the pressures, then the savings.
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::plan::Scenario;
//! let s = Scenario::from_toml(r#"
//! [plan]
//! name = "Two years"
//! first_year = "2019/20"
//! years = 2
//! net_budget = [100e6, 102e6]
//!
//! [[pressures]]
//! name = "Care demand"
//! amount = { dist = "fixed", value = 5e6 }
//! first_year = "2019/20"
//! recurring = true
//!
//! [reserves]
//! general_fund = 8e6
//! "#).unwrap();
//! let r = s.simulate(1000, 1, None).unwrap();
//! let years = r.by_year();
//! // A 5m recurring gap a year: 3m left after 2019/20, -2m (exhausted) after 2020/21.
//! assert_eq!(years[0].reserves_p50, 3e6);
//! assert_eq!(years[1].p_exhausted, 1.0);
//! ```

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::distribution::{Distribution, DistributionError, DistributionSpec};
use crate::money::Money;
use crate::period::{FinancialYear, Horizon, PeriodError};
use crate::register::{CorrelationSpec, RegisterError, RegisterSpec, RiskRegister};
use crate::reserves::{Minimum, Policy, Reserves, ReservesError};
use crate::resilience::{self, ResilienceError};
use crate::risk::RiskSpec;
use crate::rng;
use crate::saving::{DeliveryModel, DeliverySpec, Rag, Saving, SavingError, SavingSpec};
use crate::simulation::sketch::{Sketch, from_ordered_bits, ordered_bits};
use crate::simulation::{BATCH_SIZE, Engine, MAX_TRIALS, SimulationOptions};

/// Errors in a scenario, each naming its key path.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PlanError {
    /// A malformed file or a value of the wrong type.
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
    #[error("pressures[{index}].{message}")]
    Pressure {
        /// Its position.
        index: usize,
        /// What is wrong (starting with the key).
        message: String,
    },
    /// A bad saving.
    #[error("savings[{index}].{source}")]
    Saving {
        /// Its position.
        index: usize,
        /// What is wrong.
        source: SavingError,
    },
    /// A saving due outside the plan.
    #[error("savings[{index}].year: {source}")]
    SavingYear {
        /// Its position.
        index: usize,
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
    /// A planned movement in a year outside the plan.
    #[error("reserves.planned: {0}")]
    PlannedYear(PeriodError),
    /// A bad trial count.
    #[error("trials: {0} is not between 1 and 1000000000")]
    Trials(u64),
    /// A confidence outside (0, 1).
    #[error("confidence: {0:?} is not between 0.5 and 1")]
    Confidence(f64),
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
    /// Net budget per year.
    pub net_budget: Vec<Money>,
    /// Fraction of a recurring gap the next year's budget closes (0: no further action).
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
    /// Delivery models overriding the defaults, by RAG status.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub savings_delivery: BTreeMap<Rag, DeliverySpec>,
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
    /// The current year's overspend, taken from the general fund before the plan's first
    /// year (e.g. from in-year monitoring: `fiscalrisk.monitoring.overspend_distribution`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_overspend: Option<DistributionSpec>,
}

#[derive(Clone)]
struct Pressure {
    amount: Distribution,
    start: usize,
    recurring: bool,
}

/// A validated scenario.
#[derive(Clone)]
pub struct Scenario {
    spec: ScenarioSpec,
    horizon: Horizon,
    register: RiskRegister,
    pressures: Vec<Pressure>,
    savings: Vec<(Saving, usize)>,
    models: BTreeMap<Rag, DeliveryModel>,
    planned: Vec<f64>,
    opening_overspend: Option<Distribution>,
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
    let path = e.path().to_string();
    let inner = e.into_inner();
    PlanError::Parse(if path == "." {
        inner.to_string()
    } else {
        format!("{path}: {inner}")
    })
}

/// The largest scenario file read (64 MiB): far beyond any real plan, small enough that
/// parsing it cannot exhaust memory.
pub const MAX_INPUT_BYTES: usize = 64 << 20;
/// Most pressures, and most savings, a scenario may have (each holds a cost per trial of a
/// batch, as risks do: see [`crate::register::MAX_RISKS`]).
pub const MAX_ITEMS: usize = 10_000;

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
        let de = toml::Deserializer::parse(text).map_err(|e| PlanError::Parse(e.to_string()))?;
        let spec: ScenarioSpec = serde_path_to_error::deserialize(de).map_err(path_error)?;
        Scenario::from_spec(spec)
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
        if plan.net_budget.len() != horizon.len() {
            return Err(PlanError::Plan {
                field: "net_budget",
                message: format!(
                    "{} values for {} years",
                    plan.net_budget.len(),
                    horizon.len()
                ),
            });
        }
        if let Some((i, b)) = plan
            .net_budget
            .iter()
            .enumerate()
            .find(|(_, b)| **b <= Money::ZERO)
        {
            return Err(PlanError::Plan {
                field: "net_budget",
                message: format!("[{i}]: {b} is not positive"),
            });
        }
        if !(0.0..=1.0).contains(&plan.management_response) {
            return Err(PlanError::Plan {
                field: "management_response",
                message: format!("{:?} is outside [0, 1]", plan.management_response),
            });
        }
        let mut pressures = Vec::new();
        for (index, p) in spec.pressures.iter().enumerate() {
            let bad = |message: String| PlanError::Pressure { index, message };
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
            let saving = Saving::from_spec(s.clone())
                .map_err(|source| PlanError::Saving { index, source })?;
            let due = horizon
                .index_of(saving.year())
                .map_err(|source| PlanError::SavingYear { index, source })?;
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
        for (&rag, d) in &spec.savings_delivery {
            let m = DeliveryModel::from_spec(d.clone())
                .map_err(|source| PlanError::Delivery { rag, source })?;
            models.insert(rag, m);
        }
        spec.reserves.validate().map_err(PlanError::Reserves)?;
        spec.policy.validate().map_err(PlanError::Policy)?;
        let mut planned = vec![0.0; horizon.len()];
        for (label, amount) in &spec.reserves.planned {
            let year: FinancialYear = label.parse().map_err(PlanError::PlannedYear)?;
            let i = horizon.index_of(year).map_err(PlanError::PlannedYear)?;
            planned[i] += amount.to_f64();
        }
        let opening_overspend = spec
            .opening_overspend
            .clone()
            .map(Distribution::from_spec)
            .transpose()
            .map_err(|e| PlanError::Parse(format!("opening_overspend.{e}")))?;
        let register = RiskRegister::from_spec(RegisterSpec {
            first_year: Some(horizon.first().to_string()),
            years: Some(horizon.len() as u32),
            strict: false,
            risks: spec.risks.clone(),
            correlations: spec.correlations.clone(),
        })?;
        Ok(Scenario {
            spec,
            horizon,
            register,
            pressures,
            savings: savings.into_iter().collect(),
            models,
            planned,
            opening_overspend,
        })
    }

    /// The plan as an exact ledger, for a scenario with no uncertainty (every risk certain or
    /// impossible with a fixed impact, fixed pressures, savings whose delivery is certain):
    /// each year's gap, general fund, usable earmarked and usable reserves to the penny, in
    /// decimal arithmetic. Errors name the first input that is uncertain.
    pub fn ledger(&self) -> Result<Vec<LedgerRow>, PlanError> {
        use rust_decimal::Decimal;
        let dec = |x: f64| Money::from_f64(x).map(Money::decimal).unwrap_or_default();
        let fixed = |d: &DistributionSpec, what: String| match d {
            DistributionSpec::Fixed { value } => Ok(value.decimal()),
            _ => Err(PlanError::Parse(format!(
                "ledger: {what} is uncertain (not a fixed amount)"
            ))),
        };
        let years = self.horizon.len();
        let mut recurring = vec![Decimal::ZERO; years];
        let mut one_off = vec![Decimal::ZERO; years];
        for (i, r) in self.register.risks().iter().enumerate() {
            let spec = r.spec();
            if spec.probability != 0.0 && spec.probability != 1.0 {
                return Err(PlanError::Parse(format!(
                    "ledger: risks[{i}].probability {:?} is uncertain (not 0 or 1)",
                    spec.probability
                )));
            }
            let impact = fixed(&spec.impact, format!("risks[{i}].impact"))?;
            if spec.probability == 0.0 {
                continue;
            }
            let mut cost = dec(spec.share) * impact;
            if let Some(cap) = spec.cap {
                cost = cost.min(cap.decimal());
            }
            let start = r
                .profile()
                .first()
                .map_or(0, |(y, _)| self.horizon.index_of(*y).unwrap_or(0));
            if spec.recurring {
                for v in &mut recurring[start..] {
                    *v += cost;
                }
            } else if r.profile().is_empty() {
                one_off[0] += cost;
            } else {
                for (y, f) in r.profile() {
                    one_off[self.horizon.index_of(*y).unwrap_or(0)] += dec(*f) * cost;
                }
            }
        }
        for (i, p) in self.spec.pressures.iter().enumerate() {
            let amount = fixed(&p.amount, format!("pressures[{i}].amount"))?;
            let start = self.pressures[i].start;
            if p.recurring {
                for v in &mut recurring[start..] {
                    *v += amount;
                }
            } else {
                one_off[start] += amount;
            }
        }
        for (i, (saving, due)) in self.savings.iter().enumerate() {
            let m = self.model(saving).spec();
            let certain = |x: f64| x == 0.0 || x == 1.0;
            if !certain(m.p_slip) || !certain(m.p_full) {
                return Err(PlanError::Parse(format!(
                    "ledger: savings[{i}] has an uncertain delivery (p_full {:?}, p_slip {:?})",
                    m.p_full, m.p_slip
                )));
            }
            let fraction = if m.p_full == 1.0 {
                Decimal::ONE
            } else {
                fixed(&m.partial, format!("savings[{i}] partial delivery"))?
            };
            let value = saving.spec().value.decimal();
            let lasting = if saving.spec().recurring {
                value * (Decimal::ONE - fraction)
            } else {
                Decimal::ZERO
            };
            let first = if m.p_slip == 1.0 {
                value
            } else {
                value * (Decimal::ONE - fraction)
            };
            recurring[*due] += lasting;
            one_off[*due] += first - lasting;
            for v in &mut recurring[due + 1..] {
                *v += lasting;
            }
        }
        let response = dec(self.spec.plan.management_response);
        let opening = match &self.spec.opening_overspend {
            None => Decimal::ZERO,
            Some(d) => fixed(d, "opening_overspend".into())?,
        };
        let mut gf = self.spec.reserves.general_fund.decimal() - opening;
        let mut em = self.spec.reserves.usable_earmarked().decimal();
        let mut planned = vec![Decimal::ZERO; years];
        for (label, amount) in &self.spec.reserves.planned {
            if let Ok(y) = label
                .parse()
                .map_err(|_| ())
                .and_then(|y| self.horizon.index_of(y).map_err(|_| ()))
            {
                planned[y] += amount.decimal();
            }
        }
        let mut exhausted = false;
        let mut rows = Vec::with_capacity(years);
        for y in 0..years {
            let closed = if y == 0 {
                Decimal::ZERO
            } else {
                response * recurring[y - 1]
            };
            let gap = recurring[y] - closed + one_off[y];
            gf += planned[y];
            if gap > Decimal::ZERO {
                let from_gf = gap.min(gf.max(Decimal::ZERO));
                let from_em = (gap - from_gf).min(em.max(Decimal::ZERO));
                gf -= gap - from_em;
                em -= from_em;
            } else {
                gf -= gap;
            }
            let minimum = match self.spec.policy.minimum_general_fund {
                Minimum::Amount(a) => a.decimal(),
                Minimum::PercentOfBudget(p) => dec(p) * self.spec.plan.net_budget[y].decimal(),
                Minimum::RiskAssessed(_) => one_off[y],
            };
            exhausted |= gf + em < Decimal::ZERO;
            let m = |d: Decimal| Money::new(d).round_to_penny();
            rows.push(LedgerRow {
                year: self.horizon.first().offset(y as u32).to_string(),
                gap: m(gap),
                general_fund: m(gf),
                usable_earmarked: m(em),
                usable_reserves: m(gf + em),
                minimum: m(minimum),
                below_minimum: gf < minimum,
                exhausted,
            });
        }
        Ok(rows)
    }

    fn model<'a>(&'a self, saving: &'a Saving) -> &'a DeliveryModel {
        saving
            .delivery()
            .unwrap_or_else(|| &self.models[&saving.spec().rag])
    }

    /// Simulates the plan: `trials` trials from `seed`, on `threads` threads (default: one per
    /// core; the numbers do not depend on it).
    pub fn simulate(
        &self,
        trials: u64,
        seed: u64,
        threads: Option<usize>,
    ) -> Result<PlanResult, PlanError> {
        self.simulate_with(trials, seed, threads, None, &mut |_, _| {
            ControlFlow::Continue(())
        })
    }

    /// [`Scenario::simulate`], calling `progress(done, total)` (in batches) between windows of
    /// batches; a `Break` stops the run with [`PlanError::Interrupted`] and no thread left
    /// running.
    pub fn simulate_with_progress(
        &self,
        trials: u64,
        seed: u64,
        threads: Option<usize>,
        progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    ) -> Result<PlanResult, PlanError> {
        self.simulate_with(trials, seed, threads, None, progress)
    }

    fn simulate_with(
        &self,
        trials: u64,
        seed: u64,
        threads: Option<usize>,
        stress: Option<Condition>,
        progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    ) -> Result<PlanResult, PlanError> {
        if trials == 0 || trials > MAX_TRIALS {
            return Err(PlanError::Trials(trials));
        }
        let options = SimulationOptions {
            trials,
            seed,
            threads,
            keep_trials: false,
        };
        let engine = Engine::new(&self.register, &options);
        let years = self.horizon.len();
        let batches = trials.div_ceil(BATCH_SIZE as u64);
        let mut builder = rayon::ThreadPoolBuilder::new();
        if let Some(t) = threads {
            builder = builder.num_threads(t.max(1));
        }
        let pool = builder
            .build()
            .map_err(|e| PlanError::Parse(e.to_string()))?;
        // A risk-assessed minimum needs the one-off exposure first: one pass for it alone.
        let minimum: Vec<f64> = match self.spec.policy.minimum_general_fund {
            Minimum::Amount(a) => vec![a.to_f64(); years],
            Minimum::PercentOfBudget(p) => self
                .spec
                .plan
                .net_budget
                .iter()
                .map(|b| p * b.to_f64())
                .collect(),
            Minimum::RiskAssessed(c) => {
                let pass = self.run(
                    &engine,
                    &pool,
                    (batches, trials, seed),
                    &vec![f64::NEG_INFINITY; years],
                    None,
                    progress,
                )?;
                pass.one_off.iter().map(|s| s.quantile(c)).collect()
            }
        };
        let acc = self.run(
            &engine,
            &pool,
            (batches, trials, seed),
            &minimum,
            stress,
            progress,
        )?;
        let one_off_savings: Vec<f64> = (0..years)
            .map(|y| {
                self.savings
                    .iter()
                    .filter(|(s, due)| *due == y && !s.spec().recurring)
                    .map(|(s, _)| s.spec().value.to_f64())
                    .fold(0.0, |a, b| a + b)
            })
            .collect();
        let mut items: Vec<(String, String)> = Vec::new();
        items.extend(
            self.register
                .risks()
                .iter()
                .map(|r| ("risk".to_string(), r.id().to_string())),
        );
        items.extend(
            self.spec
                .pressures
                .iter()
                .map(|p| ("pressure".to_string(), p.name.clone())),
        );
        items.extend(
            self.spec
                .savings
                .iter()
                .map(|s| ("saving".to_string(), s.id.clone())),
        );
        Ok(PlanResult {
            trials,
            seed,
            years: self.horizon.labels(),
            minimum,
            one_off_savings,
            budget: self
                .spec
                .plan
                .net_budget
                .iter()
                .map(|b| b.to_f64())
                .collect(),
            acc,
            items,
        })
    }

    /// A reverse stress test: the trials of [`Scenario::simulate`] (same `trials` and `seed`)
    /// in which `condition` holds, described: how often, which sets of risks occurred in them
    /// (most frequent first, the `top` of them), each input's mean there against its overall
    /// mean, and the smallest sets of risks whose joint occurrence meets the condition in the
    /// central case (see [`Scenario::central_case`]).
    pub fn reverse_stress(
        &self,
        trials: u64,
        seed: u64,
        threads: Option<usize>,
        condition: Condition,
        top: usize,
    ) -> Result<ReverseStress, PlanError> {
        let result = self.simulate_with(trials, seed, threads, Some(condition), &mut |_, _| {
            ControlFlow::Continue(())
        })?;
        let stress = &result.acc.stress;
        let ids: Vec<String> = self
            .register
            .risks()
            .iter()
            .map(|r| r.id().to_string())
            .collect();
        let mut combos: Vec<(&Vec<u64>, u64)> =
            stress.combinations.iter().map(|(k, v)| (k, *v)).collect();
        // Most frequent first; ties in the order of the bits (deterministic).
        combos.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let combinations = combos
            .iter()
            .take(top)
            .map(|(key, count)| Combination {
                risks: (0..ids.len())
                    .filter(|i| key[i / 64] >> (i % 64) & 1 == 1)
                    .map(|i| ids[i].clone())
                    .collect(),
                trials: *count,
            })
            .collect();
        let n = trials as f64;
        let met = stress.trials as f64;
        let inputs = result
            .items
            .iter()
            .enumerate()
            .map(|(i, (kind, id))| StressInput {
                kind: kind.clone(),
                id: id.clone(),
                mean: result.acc.item_sum[i] / n,
                mean_when_met: if met > 0.0 {
                    stress.item_sum[i] / met
                } else {
                    0.0
                },
            })
            .collect();
        let (sets, exact) = self.smallest_sets(condition, &result.minimum);
        Ok(ReverseStress {
            condition,
            trials,
            seed,
            probability: met / n,
            distinct_combinations: combos.len(),
            combinations,
            inputs,
            smallest_sets: sets
                .into_iter()
                .map(|s| s.into_iter().map(|i| ids[i].clone()).collect())
                .collect(),
            smallest_exact: exact,
        })
    }

    /// Whether `condition` holds in the central case with the risks in `occurs` occurring:
    /// every pressure, saving shortfall and the opening overspend at its mean, each occurring
    /// risk at its mean cost if it occurs, every other risk absent.
    pub fn central_case(&self, occurs: &[bool], condition: Condition, minimum: &[f64]) -> bool {
        let (mut recurring, mut one_off, opening) = self.central_base();
        let compiled = self.register.compiled();
        for ((risk, c), _) in self
            .register
            .risks()
            .iter()
            .zip(&compiled)
            .zip(occurs)
            .filter(|(_, o)| **o)
        {
            let cost = risk.expected_cost_if_occurs();
            let target = if c.recurring {
                &mut recurring
            } else {
                &mut one_off
            };
            for &(t, f) in &c.spread {
                target[t] += f * cost;
            }
        }
        let m = self.spec.plan.management_response;
        let mut gf = self.spec.reserves.general_fund.to_f64() - opening;
        let mut em = self.spec.reserves.usable_earmarked().to_f64();
        let mut below = false;
        for y in 0..recurring.len() {
            let closed = if y == 0 { 0.0 } else { m * recurring[y - 1] };
            gf += self.planned[y];
            draw_down(&mut gf, &mut em, recurring[y] - closed + one_off[y]);
            below |= gf < minimum[y];
            if condition == Condition::Exhausted && gf + em < 0.0 {
                return true;
            }
        }
        condition == Condition::BelowMinimum && below
    }

    /// The central case's recurring and one-off gap by year before any risk, and the opening
    /// overspend's mean.
    fn central_base(&self) -> (Vec<f64>, Vec<f64>, f64) {
        let years = self.horizon.len();
        let (mut recurring, mut one_off) = (vec![0.0; years], vec![0.0; years]);
        for p in &self.pressures {
            let x = p.amount.mean();
            if p.recurring {
                recurring[p.start..].iter_mut().for_each(|v| *v += x);
            } else {
                one_off[p.start] += x;
            }
        }
        for (saving, due) in &self.savings {
            let model = self.model(saving);
            let value = saving.spec().value.to_f64();
            let first = value * (1.0 - model.expected_fraction_in_due_year());
            let lasting = if saving.spec().recurring {
                value * (1.0 - model.expected_fraction_when_not_slipped())
            } else {
                0.0
            };
            one_off[*due] += first - lasting;
            recurring[*due..].iter_mut().for_each(|v| *v += lasting);
        }
        let opening = self.opening_overspend.as_ref().map_or(0.0, |d| d.mean());
        (recurring, one_off, opening)
    }

    /// The smallest sets of risks (indices) that meet `condition` in the central case, most
    /// likely first (by the product of their probabilities), and whether the search was
    /// exhaustive. Sizes are searched exhaustively while a size has at most
    /// [`EXHAUSTIVE_SETS`] sets; beyond that one set is found greedily (largest expected cost
    /// first, then each member dropped that is not needed).
    fn smallest_sets(&self, condition: Condition, minimum: &[f64]) -> (Vec<Vec<usize>>, bool) {
        let risks = self.register.risks();
        let candidates: Vec<usize> = (0..risks.len())
            .filter(|&i| {
                risks[i].spec().probability > 0.0 && risks[i].expected_cost_if_occurs() > 0.0
            })
            .collect();
        let meets = |set: &[usize]| {
            let mut occurs = vec![false; risks.len()];
            set.iter().for_each(|&i| occurs[i] = true);
            self.central_case(&occurs, condition, minimum)
        };
        if meets(&[]) {
            return (vec![Vec::new()], true);
        }
        if !meets(&candidates) {
            return (Vec::new(), true);
        }
        let likelihood =
            |set: &[usize]| -> f64 { set.iter().map(|&i| risks[i].spec().probability).product() };
        let m = candidates.len();
        let mut binomial = 1.0f64;
        for k in 1..=m {
            binomial = binomial * (m - k + 1) as f64 / k as f64;
            if binomial > EXHAUSTIVE_SETS as f64 {
                break;
            }
            let mut found: Vec<Vec<usize>> = Vec::new();
            let mut idx: Vec<usize> = (0..k).collect();
            loop {
                let set: Vec<usize> = idx.iter().map(|&i| candidates[i]).collect();
                if meets(&set) {
                    found.push(set);
                }
                // The next k-combination of 0..m in lexicographic order.
                let Some(pos) = (0..k).rev().find(|&p| idx[p] < m - k + p) else {
                    break;
                };
                idx[pos] += 1;
                for q in pos + 1..k {
                    idx[q] = idx[q - 1] + 1;
                }
            }
            if !found.is_empty() {
                found.sort_by(|a, b| likelihood(b).total_cmp(&likelihood(a)));
                found.truncate(SMALLEST_SETS);
                return (found, true);
            }
        }
        // Greedy: add the largest expected costs until the condition holds, then drop what
        // is not needed (smallest first).
        let mut order = candidates.clone();
        order.sort_by(|&a, &b| {
            risks[b]
                .expected_cost_if_occurs()
                .total_cmp(&risks[a].expected_cost_if_occurs())
        });
        let mut set = Vec::new();
        for &i in &order {
            set.push(i);
            if meets(&set) {
                break;
            }
        }
        for &i in order.iter().rev() {
            if let Some(pos) = set.iter().position(|&x| x == i) {
                let mut smaller = set.clone();
                smaller.remove(pos);
                if meets(&smaller) {
                    set = smaller;
                }
            }
        }
        set.sort_unstable();
        (vec![set], false)
    }

    fn run(
        &self,
        engine: &Engine<'_>,
        pool: &rayon::ThreadPool,
        (batches, trials, seed): (u64, u64, u64),
        minimum: &[f64],
        stress: Option<Condition>,
        progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    ) -> Result<PlanAcc, PlanError> {
        let mut acc = PlanAcc::new(self.horizon.len(), self.item_count());
        let window = 16u64;
        let mut done = 0;
        while done < batches {
            let end = (done + window).min(batches);
            let outs: Vec<PlanAcc> = pool.install(|| {
                (done..end)
                    .into_par_iter()
                    .map(|b| self.batch(engine, b, (trials, seed), minimum, stress))
                    .collect()
            });
            for o in outs {
                acc.merge(o);
            }
            done = end;
            if progress(done, batches).is_break() {
                return Err(PlanError::Interrupted);
            }
        }
        Ok(acc)
    }

    fn item_count(&self) -> usize {
        self.register.risks().len() + self.pressures.len() + self.savings.len()
    }

    fn batch(
        &self,
        engine: &Engine<'_>,
        b: u64,
        (trials, seed): (u64, u64),
        minimum: &[f64],
        stress: Option<Condition>,
    ) -> PlanAcc {
        let start = b * BATCH_SIZE as u64;
        let n = (trials - start).min(BATCH_SIZE as u64) as usize;
        let years = self.horizon.len();
        let mut rng = rng::stream(seed, b);
        let risk_cost = engine.risk_costs(n, &mut rng);
        // Per trial and year: recurring and one-off parts of the gap (year-major: [y * n + j]).
        let mut recurring = vec![0.0; years * n];
        let mut one_off = vec![0.0; years * n];
        // Per pressure and saving, and trial: its cost over the plan (`[(item - risks) * n + j]`;
        // a risk's is its cost times its spread's total, not stored: see `cost` below).
        let items = self.item_count();
        let r = engine.compiled().len();
        let mut item_cost = vec![0.0; (items - r) * n];
        let mut factors = Vec::with_capacity(r);
        for (i, c) in engine.compiled().iter().enumerate() {
            let col = &risk_cost[i * n..(i + 1) * n];
            let target = if c.recurring {
                &mut recurring
            } else {
                &mut one_off
            };
            for &(t, f) in &c.spread {
                for (acc, x) in target[t * n..(t + 1) * n].iter_mut().zip(col) {
                    *acc += f * x;
                }
            }
            factors.push(c.spread.iter().map(|s| s.1).sum::<f64>());
        }
        for (k, p) in self.pressures.iter().enumerate() {
            let item = k;
            for j in 0..n {
                let x = p.amount.draw(&mut rng);
                if p.recurring {
                    for y in p.start..years {
                        recurring[y * n + j] += x;
                    }
                    item_cost[item * n + j] = x * (years - p.start) as f64;
                } else {
                    one_off[p.start * n + j] += x;
                    item_cost[item * n + j] = x;
                }
            }
        }
        for (k, (saving, due)) in self.savings.iter().enumerate() {
            let item = self.pressures.len() + k;
            let model = self.model(saving);
            let value = saving.spec().value.to_f64();
            let recurring_saving = saving.spec().recurring;
            // Saving::shortfall, a column at a time: the due year's shortfall (`first`) and the
            // lasting one (recurring savings only) in each later year.
            let mut first = vec![0.0; n];
            let mut lasting = vec![0.0; n];
            for j in 0..n {
                let (slipped, fraction) = model.draw(&mut rng);
                let short = value * (1.0 - fraction);
                first[j] = if slipped { value } else { short };
                lasting[j] = if recurring_saving { short } else { 0.0 };
            }
            // The part that lasts beyond the due year is recurring; the rest is one-off.
            for j in 0..n {
                one_off[due * n + j] += first[j] - lasting[j];
                item_cost[item * n + j] = first[j] + lasting[j] * (years - due - 1) as f64;
            }
            if recurring_saving {
                for y in *due..years {
                    for (acc, x) in recurring[y * n..(y + 1) * n].iter_mut().zip(&lasting) {
                        *acc += x;
                    }
                }
            }
        }
        let m = self.spec.plan.management_response;
        let mut acc = PlanAcc::new(years, items);
        let gf0 = self.spec.reserves.general_fund.to_f64();
        let em0 = self.spec.reserves.usable_earmarked().to_f64();
        // Drawn after the savings, so that adding it leaves every other draw as it was.
        let opening: Vec<f64> = match &self.opening_overspend {
            Some(d) => (0..n).map(|_| d.draw(&mut rng)).collect(),
            None => vec![0.0; n],
        };
        let mut exhausted_by_end = vec![false; n];
        let mut below_minimum_ever = vec![false; n];
        let mut gaps = vec![vec![0.0; n]; years];
        let mut reserves = vec![vec![0.0; n]; years];
        let mut general = vec![vec![0.0; n]; years];
        let mut earmarked = vec![vec![0.0; n]; years];
        // Usable reserves at each year's start (the previous year's end).
        let mut opening_usable = vec![vec![0.0; n]; years];
        for j in 0..n {
            let (mut gf, mut em) = (gf0 - opening[j], em0);
            let mut exhausted = false;
            for y in 0..years {
                let closed = if y == 0 {
                    0.0
                } else {
                    m * recurring[(y - 1) * n + j]
                };
                let rec_net = recurring[y * n + j] - closed;
                let gap = rec_net + one_off[y * n + j];
                opening_usable[y][j] = gf + em;
                gf += self.planned[y];
                draw_down(&mut gf, &mut em, gap);
                let usable = gf + em;
                general[y][j] = gf;
                earmarked[y][j] = em;
                exhausted |= usable < 0.0;
                gaps[y][j] = gap;
                reserves[y][j] = usable;
                if gf < minimum[y] {
                    acc.below_minimum[y] += 1;
                    below_minimum_ever[j] = true;
                }
                if exhausted {
                    acc.exhausted[y] += 1;
                }
                if !self.spec.policy.reserves_for_recurring_gaps && gap > 0.0 && rec_net > 0.0 {
                    acc.breaches[y] += 1;
                    acc.breach_amount[y] += gap.min(rec_net);
                }
                acc.gap_sum[y] += gap;
            }
            exhausted_by_end[j] = exhausted;
        }
        // Resilience indicators of each year, over a window of up to three years.
        for y in 0..years {
            let first = (y + 1).saturating_sub(resilience::WINDOW);
            let k = (y - first + 1) as f64;
            let mut sustain = Vec::with_capacity(n);
            let mut change = Vec::with_capacity(n);
            for j in 0..n {
                let (open, close) = (opening_usable[first][j], reserves[y][j]);
                sustain.push(resilience::sustainability(close, (close - open) / k));
                if let Some(c) = resilience::change(close, open) {
                    change.push(c);
                }
            }
            acc.sustainability[y] = Sketch::from_values(&mut sustain);
            acc.change[y] = Sketch::from_values(&mut change);
            acc.general_fund[y] = Sketch::from_values(&mut general[y]);
            acc.earmarked[y] = Sketch::from_values(&mut earmarked[y]);
        }
        for y in 0..years {
            acc.gap[y] = Sketch::from_values(&mut gaps[y]);
            acc.reserves[y] = Sketch::from_values(&mut reserves[y]);
            let mut o: Vec<f64> = one_off[y * n..(y + 1) * n].to_vec();
            acc.one_off[y] = Sketch::from_values(&mut o);
        }
        acc.exhausted_trials = exhausted_by_end.iter().filter(|e| **e).count() as u64;
        // Item `i`'s cost over the plan in trial `j`.
        let cost = |i: usize, j: usize| {
            if i < r {
                factors[i] * risk_cost[i * n + j]
            } else {
                item_cost[(i - r) * n + j]
            }
        };
        for i in 0..items {
            acc.item_sum[i] = (0..n).map(|j| cost(i, j)).sum();
            acc.item_exhausted_sum[i] = (0..n)
                .filter(|&j| exhausted_by_end[j])
                .map(|j| cost(i, j))
                .sum();
        }
        if let Some(condition) = stress {
            let met = match condition {
                Condition::Exhausted => &exhausted_by_end,
                Condition::BelowMinimum => &below_minimum_ever,
            };
            for j in (0..n).filter(|&j| met[j]) {
                let mut key = vec![0u64; r.div_ceil(64)];
                for i in 0..r {
                    if risk_cost[i * n + j] > 0.0 {
                        key[i / 64] |= 1 << (i % 64);
                    }
                }
                *acc.stress.combinations.entry(key).or_default() += 1;
                acc.stress.trials += 1;
            }
            acc.stress.item_sum = (0..items)
                .map(|i| (0..n).filter(|&j| met[j]).map(|j| cost(i, j)).sum())
                .collect();
        }
        acc.trials = n as u64;
        acc
    }
}

/// Meets a year's gap from the general fund first, then from usable earmarked reserves (a
/// surplus goes to the general fund).
fn draw_down(gf: &mut f64, em: &mut f64, gap: f64) {
    if gap > 0.0 {
        let from_gf = gap.min(gf.max(0.0));
        let from_em = (gap - from_gf).min(em.max(0.0));
        *gf -= gap - from_em;
        *em -= from_em;
    } else {
        *gf -= gap;
    }
}

/// Sizes of risk set searched exhaustively by the reverse stress test while a size has at
/// most this many sets.
pub const EXHAUSTIVE_SETS: usize = 200_000;
/// How many smallest sets a reverse stress test reports.
pub const SMALLEST_SETS: usize = 10;

/// A set of risks that occurred together in trials that met the condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Combination {
    /// The risks that occurred (with a cost), in register order.
    pub risks: Vec<String>,
    /// How many such trials.
    pub trials: u64,
}

/// One input of a reverse stress test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StressInput {
    /// `risk`, `pressure` or `saving` (its shortfall).
    pub kind: String,
    /// Its id (or a pressure's name).
    pub id: String,
    /// Its mean cost over the plan in all trials.
    pub mean: f64,
    /// In the trials that met the condition.
    pub mean_when_met: f64,
}

/// What [`Scenario::reverse_stress`] found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReverseStress {
    /// The condition.
    pub condition: Condition,
    /// Trials simulated.
    pub trials: u64,
    /// The seed.
    pub seed: u64,
    /// The share of trials that met it.
    pub probability: f64,
    /// How many different sets of risks occurred in those trials.
    pub distinct_combinations: usize,
    /// The most frequent sets.
    pub combinations: Vec<Combination>,
    /// Every input's mean cost, overall and when the condition is met.
    pub inputs: Vec<StressInput>,
    /// The smallest sets of risks that meet the condition in the central case, most likely
    /// first (an empty set: the central case meets it with no risk at all; none: not even
    /// every risk together does).
    pub smallest_sets: Vec<Vec<String>>,
    /// Whether the search for them was exhaustive.
    pub smallest_exact: bool,
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
            _ => Err(PlanError::Parse(format!(
                "threshold: {s:?} is not one of exhausted, below_minimum"
            ))),
        }
    }
}

/// The trials that meet a reverse stress test's condition, batch by batch.
#[derive(Debug, Clone, Default, PartialEq)]
struct StressAcc {
    trials: u64,
    /// The set of risks that occurred (a bit per risk) and how many trials had it.
    combinations: HashMap<Vec<u64>, u64>,
    item_sum: Vec<f64>,
}

impl StressAcc {
    fn merge(&mut self, o: StressAcc) {
        self.trials += o.trials;
        for (k, v) in o.combinations {
            *self.combinations.entry(k).or_default() += v;
        }
        if self.item_sum.is_empty() {
            self.item_sum = o.item_sum;
        } else {
            for (a, b) in self.item_sum.iter_mut().zip(o.item_sum) {
                *a += b;
            }
        }
    }
}

/// Batch results, merged in batch order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PlanAcc {
    trials: u64,
    gap: Vec<Sketch>,
    gap_sum: Vec<f64>,
    reserves: Vec<Sketch>,
    one_off: Vec<Sketch>,
    general_fund: Vec<Sketch>,
    earmarked: Vec<Sketch>,
    sustainability: Vec<Sketch>,
    change: Vec<Sketch>,
    below_minimum: Vec<u64>,
    exhausted: Vec<u64>,
    breaches: Vec<u64>,
    breach_amount: Vec<f64>,
    exhausted_trials: u64,
    item_sum: Vec<f64>,
    item_exhausted_sum: Vec<f64>,
    /// Only a reverse stress test fills it, and it never leaves that call.
    #[serde(skip)]
    stress: StressAcc,
}

impl PlanAcc {
    fn new(years: usize, items: usize) -> PlanAcc {
        PlanAcc {
            trials: 0,
            gap: vec![Sketch::default(); years],
            gap_sum: vec![0.0; years],
            reserves: vec![Sketch::default(); years],
            one_off: vec![Sketch::default(); years],
            general_fund: vec![Sketch::default(); years],
            earmarked: vec![Sketch::default(); years],
            sustainability: vec![Sketch::default(); years],
            change: vec![Sketch::default(); years],
            below_minimum: vec![0; years],
            exhausted: vec![0; years],
            breaches: vec![0; years],
            breach_amount: vec![0.0; years],
            exhausted_trials: 0,
            item_sum: vec![0.0; items],
            item_exhausted_sum: vec![0.0; items],
            stress: StressAcc::default(),
        }
    }

    fn merge(&mut self, mut o: PlanAcc) {
        self.stress.merge(std::mem::take(&mut o.stress));
        self.trials += o.trials;
        self.exhausted_trials += o.exhausted_trials;
        for (a, b) in self.gap.iter_mut().zip(&o.gap) {
            a.merge(b);
        }
        for (a, b) in self.reserves.iter_mut().zip(&o.reserves) {
            a.merge(b);
        }
        for (mine, theirs) in [
            (&mut self.one_off, &o.one_off),
            (&mut self.general_fund, &o.general_fund),
            (&mut self.earmarked, &o.earmarked),
            (&mut self.sustainability, &o.sustainability),
            (&mut self.change, &o.change),
        ] {
            for (a, b) in mine.iter_mut().zip(theirs) {
                a.merge(b);
            }
        }
        let add = |a: &mut Vec<f64>, b: &[f64]| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add(&mut self.gap_sum, &o.gap_sum);
        add(&mut self.breach_amount, &o.breach_amount);
        add(&mut self.item_sum, &o.item_sum);
        add(&mut self.item_exhausted_sum, &o.item_exhausted_sum);
        let addu = |a: &mut Vec<u64>, b: &[u64]| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        addu(&mut self.below_minimum, &o.below_minimum);
        addu(&mut self.exhausted, &o.exhausted);
        addu(&mut self.breaches, &o.breaches);
    }
}

/// One row of [`PlanResult::by_year`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YearRow {
    /// The year.
    pub year: String,
    /// Mean gap.
    pub gap_mean: f64,
    /// Gap percentiles: 10th.
    pub gap_p10: f64,
    /// Median.
    pub gap_p50: f64,
    /// 90th percentile.
    pub gap_p90: f64,
    /// 95th percentile.
    pub gap_p95: f64,
    /// Usable reserves at the end of the year: 5th percentile.
    pub reserves_p5: f64,
    /// 25th percentile.
    pub reserves_p25: f64,
    /// Median.
    pub reserves_p50: f64,
    /// 75th percentile.
    pub reserves_p75: f64,
    /// 95th percentile.
    pub reserves_p95: f64,
    /// Probability the general fund ends the year below the minimum.
    pub p_below_minimum: f64,
    /// Probability usable reserves are exhausted in this year or before.
    pub p_exhausted: f64,
    /// The minimum general fund balance applied.
    pub minimum: f64,
    /// One-off savings planned for the year (not kept by the base budget).
    pub one_off_reliance: f64,
    /// Mean gap with those one-off savings added back.
    pub underlying_gap_mean: f64,
}

/// One row of [`Scenario::ledger`]: exact money.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerRow {
    /// The year.
    pub year: String,
    /// The gap.
    pub gap: Money,
    /// General fund at the end of the year.
    pub general_fund: Money,
    /// Usable earmarked reserves at the end of the year.
    pub usable_earmarked: Money,
    /// Their sum.
    pub usable_reserves: Money,
    /// The minimum general fund balance.
    pub minimum: Money,
    /// Whether the general fund is below it.
    pub below_minimum: bool,
    /// Whether usable reserves were exhausted in this year or before.
    pub exhausted: bool,
}

/// One row of [`PlanResult::policy_breaches`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreachRow {
    /// The year.
    pub year: String,
    /// Probability reserves fund a recurring gap in the year.
    pub probability: f64,
    /// Mean amount over all trials.
    pub mean_amount: f64,
}

/// One row of [`PlanResult::drivers`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverRow {
    /// `risk`, `pressure` or `saving` (its shortfall).
    pub kind: String,
    /// Its id (or a pressure's name).
    pub id: String,
    /// Mean contribution to the gap over the plan.
    pub mean: f64,
    /// Mean contribution in the trials in which reserves are exhausted by the end of the plan.
    pub exhausted_mean: f64,
}

/// What a plan simulation found.
///
/// It serialises (serde) whole, so that results pickle and cross process boundaries (a Dask
/// cluster).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanResult {
    trials: u64,
    seed: u64,
    years: Vec<String>,
    minimum: Vec<f64>,
    one_off_savings: Vec<f64>,
    budget: Vec<f64>,
    acc: PlanAcc,
    items: Vec<(String, String)>,
}

impl PlanResult {
    /// Number of trials.
    pub fn trials(&self) -> u64 {
        self.trials
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// One row per year.
    pub fn by_year(&self) -> Vec<YearRow> {
        let n = self.trials as f64;
        (0..self.years.len())
            .map(|y| {
                let gap_mean = self.acc.gap_sum[y] / n;
                YearRow {
                    year: self.years[y].clone(),
                    gap_mean,
                    gap_p10: self.acc.gap[y].quantile(0.1),
                    gap_p50: self.acc.gap[y].quantile(0.5),
                    gap_p90: self.acc.gap[y].quantile(0.9),
                    gap_p95: self.acc.gap[y].quantile(0.95),
                    reserves_p5: self.acc.reserves[y].quantile(0.05),
                    reserves_p25: self.acc.reserves[y].quantile(0.25),
                    reserves_p50: self.acc.reserves[y].quantile(0.5),
                    reserves_p75: self.acc.reserves[y].quantile(0.75),
                    reserves_p95: self.acc.reserves[y].quantile(0.95),
                    p_below_minimum: self.acc.below_minimum[y] as f64 / n,
                    p_exhausted: self.acc.exhausted[y] as f64 / n,
                    minimum: self.minimum[y],
                    one_off_reliance: self.one_off_savings[y],
                    underlying_gap_mean: gap_mean + self.one_off_savings[y],
                }
            })
            .collect()
    }

    /// How often, and by how much, reserves would fund recurring gaps, by year (all zero when
    /// the policy allows it).
    pub fn policy_breaches(&self) -> Vec<BreachRow> {
        let n = self.trials as f64;
        (0..self.years.len())
            .map(|y| BreachRow {
                year: self.years[y].clone(),
                probability: self.acc.breaches[y] as f64 / n,
                mean_amount: self.acc.breach_amount[y] / n,
            })
            .collect()
    }

    /// Each risk, pressure and saving's mean contribution to the gap over the plan, and in the
    /// trials in which reserves are exhausted (0 when there are none).
    pub fn drivers(&self) -> Vec<DriverRow> {
        let n = self.trials as f64;
        let e = self.acc.exhausted_trials as f64;
        self.items
            .iter()
            .enumerate()
            .map(|(i, (kind, id))| DriverRow {
                kind: kind.clone(),
                id: id.clone(),
                mean: self.acc.item_sum[i] / n,
                exhausted_mean: if e > 0.0 {
                    self.acc.item_exhausted_sum[i] / e
                } else {
                    0.0
                },
            })
            .collect()
    }

    /// The general fund balance that covers each year's simulated one-off exposure (one-off
    /// pressures, one-off risk costs, one-off saving shortfalls) with probability `confidence`.
    pub fn risk_assessed_minimum(&self, confidence: f64) -> Result<Vec<f64>, PlanError> {
        if !(0.5..1.0).contains(&confidence) {
            return Err(PlanError::Confidence(confidence));
        }
        Ok(self
            .acc
            .one_off
            .iter()
            .map(|s| s.quantile(confidence))
            .collect())
    }

    /// Each year's gap at each probability in `probs` (quantiles, for exceedance curves).
    pub fn gap_quantiles(&self, probs: &[f64]) -> Result<Vec<Vec<f64>>, PlanError> {
        if let Some(p) = probs.iter().find(|p| !(0.0..=1.0).contains(*p)) {
            return Err(PlanError::Parse(format!(
                "probabilities: {p} is not between 0 and 1"
            )));
        }
        Ok(self
            .acc
            .gap
            .iter()
            .map(|s| probs.iter().map(|&p| s.quantile(p)).collect())
            .collect())
    }

    /// Probability reserves are exhausted by the end of the plan.
    pub fn p_exhausted(&self) -> f64 {
        self.acc.exhausted_trials as f64 / self.trials as f64
    }

    /// The distribution of one of [`FORWARD_INDICATORS`] in year `y`, and the divisor that
    /// turns the sketch's values into the indicator's (the net budget for ratios).
    fn indicator(&self, name: &str, y: usize) -> Result<(&Sketch, f64), ResilienceError> {
        Ok(match name {
            "reserves_sustainability" => (&self.acc.sustainability[y], 1.0),
            "reserves_to_nre" => (&self.acc.reserves[y], self.budget[y]),
            "unallocated_reserves_to_nre" => (&self.acc.general_fund[y], self.budget[y]),
            "earmarked_reserves_to_nre" => (&self.acc.earmarked[y], self.budget[y]),
            "change_in_reserves" => (&self.acc.change[y], 1.0),
            _ => {
                resilience::indicator_index(name)?;
                return Err(ResilienceError::NotForward(name.to_string()));
            }
        })
    }

    /// The resilience indicators of [`crate::resilience`] by year of the plan, as distributions
    /// over the trials: the general fund stands for unallocated reserves, usable earmarked
    /// reserves for earmarked, and the net budget for net revenue expenditure. The window of
    /// the indicators of change starts with the reserves at the start of the plan (after any
    /// opening overspend). `change_in_reserves` is undefined in trials whose reserves at the
    /// window's start are zero or less; `defined` is the share of trials with a value, and
    /// the mean and percentiles are over those.
    pub fn resilience(&self) -> Vec<ForwardRow> {
        let mut rows = Vec::new();
        for name in FORWARD_INDICATORS {
            for (y, year) in self.years.iter().enumerate() {
                let (s, scale) = self.indicator(name, y).expect("a forward indicator");
                rows.push(ForwardRow {
                    year: year.clone(),
                    indicator: name.to_string(),
                    mean: s.mean() / scale,
                    p10: s.quantile(0.1) / scale,
                    p50: s.quantile(0.5) / scale,
                    p90: s.quantile(0.9) / scale,
                    defined: s.count() as f64 / self.trials as f64,
                });
            }
        }
        rows
    }

    /// The probability that `indicator` is below `threshold` at the end of `year` (trials in
    /// which it is undefined are not below).
    pub fn probability_below(
        &self,
        indicator: &str,
        threshold: f64,
        year: &str,
    ) -> Result<f64, PlanError> {
        let y =
            self.years
                .iter()
                .position(|l| l == year)
                .ok_or_else(|| PlanError::UnknownYear {
                    year: year.to_string(),
                    first: self.years[0].clone(),
                    last: self.years[self.years.len() - 1].clone(),
                })?;
        if !threshold.is_finite() {
            return Err(PlanError::Parse(format!(
                "threshold: {threshold} is not a finite number"
            )));
        }
        let (s, scale) = self.indicator(indicator, y)?;
        // Below `t` is not above the largest float under `t`.
        let under = from_ordered_bits(ordered_bits(threshold * scale) - 1);
        let below = s.count() as f64 * (1.0 - s.exceedance(under));
        Ok(below / self.trials as f64)
    }
}

/// The indicators of [`crate::resilience`] that a plan's simulation gives by year.
pub const FORWARD_INDICATORS: [&str; 5] = [
    "reserves_sustainability",
    "reserves_to_nre",
    "unallocated_reserves_to_nre",
    "earmarked_reserves_to_nre",
    "change_in_reserves",
];

/// One row of [`PlanResult::resilience`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForwardRow {
    /// The year.
    pub year: String,
    /// The indicator.
    pub indicator: String,
    /// Mean over the trials in which it is defined.
    pub mean: f64,
    /// 10th percentile.
    pub p10: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Share of trials in which it is defined.
    pub defined: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[plan]
name = "Test"
first_year = "2019/20"
years = 3
net_budget = [100e6, 100e6, 100e6]
"#;

    fn scenario(extra: &str) -> Scenario {
        Scenario::from_toml(&format!("{BASE}{extra}")).unwrap()
    }

    fn err(extra: &str) -> String {
        Scenario::from_toml(&format!("{BASE}{extra}"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn deterministic_plan_equals_hand_calculation() {
        let s = scenario(
            r#"
[[pressures]]
name = "Demand"
amount = { dist = "fixed", value = 4e6 }
first_year = "2019/20"
recurring = true

[[pressures]]
name = "Inquiry"
amount = { dist = "fixed", value = 1.5e6 }
first_year = "2020/21"
recurring = false

[[savings]]
id = "S1"
name = "Redesign"
year = "2019/20"
value = 3e6
rag = "delivered"

[[savings]]
id = "S2"
name = "One-off sale"
year = "2020/21"
value = 2e6
rag = "red"
recurring = false
delivery = { p_full = 0.0, partial = { dist = "fixed", value = 0.5 }, p_slip = 0.0 }

[[risks]]
id = "R"
name = "Certain"
probability = 1.0
impact = { dist = "fixed", value = 1e6 }
profile = { "2021/22" = 1.0 }

[reserves]
general_fund = 10e6
planned = { "2019/20" = -1e6 }

[policy]
minimum_general_fund = { amount = 5e6 }
"#,
        );
        let r = s.simulate(100, 7, None).unwrap();
        let years = r.by_year();
        // Gaps by hand: 2019/20: 4m (S1 delivered in full, no shortfall); 2020/21: 4m + 1.5m
        // + 1m (half of S2) = 6.5m; 2021/22: 4m + 1m = 5m. Reserves: 10 - 1 - 4 = 5m, then
        // -1.5m, then -6.5m.
        let gaps: Vec<f64> = years.iter().map(|y| y.gap_mean).collect();
        assert_eq!(gaps, [4e6, 6.5e6, 5e6]);
        let reserves: Vec<f64> = years.iter().map(|y| y.reserves_p50).collect();
        assert_eq!(reserves, [5e6, -1.5e6, -6.5e6]);
        let exhausted: Vec<f64> = years.iter().map(|y| y.p_exhausted).collect();
        assert_eq!(exhausted, [0.0, 1.0, 1.0]);
        let below: Vec<f64> = years.iter().map(|y| y.p_below_minimum).collect();
        assert_eq!(below, [0.0, 1.0, 1.0]);
        assert_eq!(years[1].one_off_reliance, 2e6);
        assert_eq!(years[1].underlying_gap_mean, 8.5e6);
        // Reserves fund the recurring 4m in 2019/20 (the whole gap is recurring).
        let b = r.policy_breaches();
        assert_eq!((b[0].probability, b[0].mean_amount), (1.0, 4e6));
    }

    #[test]
    fn management_response_closes_last_years_recurring_gap() {
        let text = format!(
            "{}{}",
            BASE.replace(
                "net_budget = [100e6, 100e6, 100e6]",
                "net_budget = [100e6, 100e6, 100e6]\nmanagement_response = 0.5"
            ),
            r#"
[[pressures]]
name = "Demand"
amount = { dist = "fixed", value = 4e6 }
first_year = "2019/20"
"#
        );
        let r = Scenario::from_toml(&text)
            .unwrap()
            .simulate(10, 1, None)
            .unwrap();
        let gaps: Vec<f64> = r.by_year().iter().map(|y| y.gap_mean).collect();
        assert_eq!(gaps, [4e6, 2e6, 2e6]);
    }

    #[test]
    fn errors_name_the_key_path() {
        let e = err(
            "[[savings]]\nid = \"S\"\nname = \"S\"\nyear = \"2019/20\"\nvalue = 1\nrag = \"amberish\"\n",
        );
        assert!(
            e.starts_with("savings[0].rag: TOML parse error at line 12"),
            "{e}"
        );
        assert!(
            e.contains("\"amberish\" is not one of delivered, green, amber, red"),
            "{e}"
        );
        assert_eq!(
            err(
                "[[savings]]\nid = \"S\"\nname = \"S\"\nyear = \"2030/31\"\nvalue = 1\nrag = \"red\"\n"
            ),
            "savings[0].year: 2030/31 is outside the horizon 2019/20 to 2021/22"
        );
        assert_eq!(
            Scenario::from_toml(&BASE.replace("[100e6, 100e6, 100e6]", "[100e6, 100e6]"))
                .unwrap_err()
                .to_string(),
            "plan.net_budget: 2 values for 3 years"
        );
        assert_eq!(
            err(
                "[[pressures]]\nname = \"P\"\namount = { dist = \"uniform\", low = 2.0, high = 1.0 }\nfirst_year = \"2019/20\"\n"
            ),
            "pressures[0].amount.high: 1.0 is below low 2.0"
        );
        assert_eq!(
            err(
                "[savings_delivery.amber]\np_full = 1.5\npartial = { dist = \"fixed\", value = 0.5 }\np_slip = 0.1\n"
            ),
            "savings_delivery.amber.p_full: 1.5 is outside [0, 1]"
        );
        assert_eq!(
            err("[policy]\nminimum_general_fund = { percent_of_budget = 5 }\n"),
            "policy.minimum_general_fund.percent_of_budget: 5.0 is outside [0, 1] (0.05 is 5%)"
        );
        let e = err("[reserves]\ngeneral_fund = 1\ncolour = 2\n");
        assert!(
            e.starts_with("reserves") && e.contains("unknown field `colour`"),
            "{e}"
        );
    }

    #[test]
    fn toml_round_trip() {
        let s = scenario(
            "[[pressures]]\nname = \"P\"\namount = { dist = \"pert\", low = 1.0, mode = 2.0, high = 5.0 }\nfirst_year = \"2020/21\"\n[reserves]\ngeneral_fund = 125e6\n",
        );
        let again = Scenario::from_toml(&s.to_toml().unwrap()).unwrap();
        assert_eq!(s, again);
    }

    #[test]
    fn same_numbers_on_any_thread_count() {
        let s = scenario(
            "[[pressures]]\nname = \"P\"\namount = { dist = \"pert\", low = 1e6, mode = 2e6, high = 5e6 }\nfirst_year = \"2020/21\"\n[[risks]]\nid = \"R\"\nname = \"R\"\nprobability = 0.3\nimpact = { dist = \"lognormal\", p50 = 5e6, p90 = 20e6 }\n[reserves]\ngeneral_fund = 12e6\n",
        );
        let a = s.simulate(20_000, 3, Some(1)).unwrap();
        let b = s.simulate(20_000, 3, Some(2)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn an_opening_overspend_comes_off_the_general_fund() {
        let without = scenario("[reserves]\ngeneral_fund = 10e6\n");
        let with = Scenario::from_toml(&format!(
            "opening_overspend = {{ dist = \"fixed\", value = 3e6 }}\n{BASE}[reserves]\ngeneral_fund = 10e6\n"
        ))
        .unwrap();
        let a = without.simulate(100, 1, None).unwrap().by_year();
        let b = with.simulate(100, 1, None).unwrap().by_year();
        assert_eq!(a[0].reserves_p50 - b[0].reserves_p50, 3e6);
        let bad = Scenario::from_toml(&format!(
            "opening_overspend = {{ dist = \"normal\", mean = 1.0, sd = 0.0 }}\n{BASE}"
        ));
        assert_eq!(
            bad.unwrap_err().to_string(),
            "opening_overspend.sd: 0.0 must be greater than 0"
        );
    }

    #[test]
    fn forward_indicators_without_uncertainty_equal_the_published_ones() {
        use crate::resilience::{Figures, Return};
        let s = scenario(
            r#"
[[pressures]]
name = "Demand"
amount = { dist = "fixed", value = 3e6 }
first_year = "2019/20"

[[pressures]]
name = "Inquiry"
amount = { dist = "fixed", value = 2e6 }
first_year = "2020/21"
recurring = false

[reserves]
general_fund = 8e6
earmarked = [{ name = "Smoothing", balance = 6e6, usable = true }]
"#,
        );
        let ledger = s.ledger().unwrap();
        let r = s.simulate(50, 3, None).unwrap();
        // The ledger as three published returns: 1 April is the previous 31 March.
        let (mut gf, mut em) = (8e6, 6e6);
        let returns: Vec<Return> = ledger
            .iter()
            .map(|row| {
                let figures = Figures {
                    net_revenue_expenditure: Some(100e6),
                    unallocated_open: Some(gf),
                    earmarked_open: Some(em),
                    unallocated_close: Some(row.general_fund.to_f64()),
                    earmarked_close: Some(row.usable_earmarked.to_f64()),
                    ..Figures::default()
                };
                (gf, em) = (row.general_fund.to_f64(), row.usable_earmarked.to_f64());
                Return {
                    ecode: "E1".into(),
                    year: row.year.clone(),
                    group: "plan".into(),
                    figures,
                }
            })
            .collect();
        let published = resilience::indicators(&returns).unwrap();
        let forward = r.resilience();
        for f in &forward {
            let y = ledger.iter().position(|l| l.year == f.year).unwrap();
            let k = resilience::indicator_index(&f.indicator).unwrap();
            let want = published[y].values[k];
            assert_eq!(Some(f.p50), want, "{} {}", f.indicator, f.year);
            assert_eq!((f.p10, f.p90, f.defined), (f.p50, f.p50, 1.0));
        }
        // Reserves 14m, then 11m, 6m, 3m: sustainability in 2021/22 is 3m / (11m / 3 a year).
        let p = r
            .probability_below("reserves_sustainability", 1.0, "2021/22")
            .unwrap();
        assert_eq!(p, 1.0);
        assert_eq!(
            r.probability_below("reserves_sustainability", 0.5, "2021/22")
                .unwrap(),
            0.0
        );
        let e = r.probability_below("interest_payable_to_nre", 1.0, "2021/22");
        assert!(e.unwrap_err().to_string().contains("not simulated"));
        let e = r.probability_below("reserves_to_nre", 1.0, "2030/31");
        assert_eq!(
            e.unwrap_err().to_string(),
            "year: \"2030/31\" is not a year of the plan (2019/20 to 2021/22)"
        );
    }

    #[test]
    fn reverse_stress_names_the_pair_that_must_both_occur() {
        let s = scenario(
            r#"
[[risks]]
id = "A"
name = "Equal pay"
probability = 0.3
impact = { dist = "uniform", low = 5e6, high = 7e6 }

[[risks]]
id = "B"
name = "Games overrun"
probability = 0.3
impact = { dist = "uniform", low = 5e6, high = 7e6 }

[[risks]]
id = "C"
name = "Strike"
probability = 0.5
impact = { dist = "fixed", value = 3e6 }

[reserves]
general_fund = 10e6
"#,
        );
        let trials = 40_000;
        let r = s
            .reverse_stress(trials, 9, None, Condition::Exhausted, 10)
            .unwrap();
        // Exhaustion needs more than 10m: A and B together (10m to 14m), never one with C.
        let se = (0.09f64 * 0.91 / trials as f64).sqrt();
        assert!((r.probability - 0.09).abs() < 4.0 * se, "{}", r.probability);
        assert_eq!(
            r.smallest_sets,
            vec![vec!["A".to_string(), "B".to_string()]]
        );
        assert!(r.smallest_exact);
        assert!(!r.combinations.is_empty());
        for c in &r.combinations {
            assert!(
                c.risks.starts_with(&["A".to_string(), "B".to_string()]),
                "{c:?}"
            );
        }
        let total: u64 = r.combinations.iter().map(|c| c.trials).sum();
        assert_eq!(total as f64, r.probability * trials as f64);
        // In those trials A always occurred: its mean there is its mean if it occurs (6m).
        let a = &r.inputs[0];
        assert_eq!(a.id, "A");
        assert!((a.mean_when_met - 6e6).abs() < 0.05e6, "{a:?}");
        assert!((a.mean - 0.3 * 6e6).abs() < 0.05e6, "{a:?}");
        // The same trials as simulate().
        let sim = s.simulate(trials, 9, None).unwrap();
        assert_eq!(sim.p_exhausted(), r.probability);
        // A plan that never runs out has no smallest set; one that always does, an empty one.
        let safe = scenario("[reserves]\ngeneral_fund = 100e6\n");
        let r = safe
            .reverse_stress(100, 1, None, Condition::Exhausted, 10)
            .unwrap();
        assert!(r.smallest_sets.is_empty() && r.probability == 0.0);
        let broke = scenario(
            "[[pressures]]\nname = \"P\"\namount = { dist = \"fixed\", value = 1e6 }\nfirst_year = \"2019/20\"\n",
        );
        let r = broke
            .reverse_stress(100, 1, None, Condition::Exhausted, 10)
            .unwrap();
        assert_eq!(r.smallest_sets, vec![Vec::<String>::new()]);
    }

    #[test]
    fn ledger_is_exact_to_the_penny() {
        let s = scenario(
            r#"
[[pressures]]
name = "Demand"
amount = { dist = "fixed", value = "4000000.10" }
first_year = "2019/20"

[[pressures]]
name = "Inquiry"
amount = { dist = "fixed", value = "0.20" }
first_year = "2020/21"
recurring = false

[[savings]]
id = "S"
name = "Sale"
year = "2020/21"
value = "1000000.01"
rag = "red"
recurring = false
delivery = { p_full = 0.0, partial = { dist = "fixed", value = 0.5 }, p_slip = 0.0 }

[reserves]
general_fund = "10000000.00"
"#,
        );
        let rows = s.ledger().unwrap();
        let m = |t: &str| t.parse::<Money>().unwrap();
        // 2019/20: 4,000,000.10; 2020/21: 4,000,000.10 + 0.20 + half of 1,000,000.01 (500,000.005,
        // kept exact until the penny rounding of the report).
        assert_eq!(rows[0].gap, m("4000000.10"));
        assert_eq!(rows[1].gap, m("4500000.31"));
        assert_eq!(rows[0].usable_reserves, m("5999999.90"));
        // 10,000,000 - 4,000,000.10 - 4,500,000.305 = 1,499,999.595, reported as .60.
        assert_eq!(rows[1].usable_reserves, m("1499999.60"));
        assert!(!rows[1].exhausted && rows[2].exhausted);
        // The simulation agrees, in floats.
        let sim = s.simulate(10, 1, None).unwrap().by_year();
        assert!((sim[1].reserves_p50 - 1_499_999.595).abs() < 1e-6);
        let uncertain = scenario(
            "[[pressures]]\nname = \"P\"\namount = { dist = \"uniform\", low = 1.0, high = 2.0 }\nfirst_year = \"2019/20\"\n",
        );
        assert_eq!(
            uncertain.ledger().unwrap_err().to_string(),
            "ledger: pressures[0].amount is uncertain (not a fixed amount)"
        );
    }
}
