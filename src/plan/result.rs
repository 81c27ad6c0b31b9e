//! What a plan simulation found: tables by year, by reserve and by input, read from the
//! engine's accumulators.

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use crate::resilience::{self, ResilienceError};
use crate::simulation::SimulationOptions;
use crate::simulation::sketch::{Sketch, from_ordered_bits, ordered_bits};

use super::engine::{BELOW_MINIMUM, EXHAUSTED, KEPT, PlanAcc, S114, Want};
use super::spec::{PlanError, Scenario};

/// The id under which [`PlanResult::drivers`] reports funding and spending: the gap's departure
/// from the central case through drivers and uncertain grants.
pub const BUDGET_ITEM: &str = "funding and spending drivers";

/// The drivers table's input of kind `capital`: the capital plan's cost to the gap (MRP,
/// interest and revenue contributions less income, beyond what is budgeted, directions as the
/// year capped them) less the central case's.
pub const CAPITAL_ITEM: &str = "capital financing";

/// The drivers table's input of kind `in_year`: the underlying in-year overspend's departure
/// from the value the budget carries (its mean), in every year it recurs.
pub const IN_YEAR_ITEM: &str = "underlying in-year overspend";

/// The drivers table's input of kind `response`: what budgets set every year and the
/// management response closed (negative: they close the gap).
pub const RESPONSE_ITEM: &str = "closures by later budgets";

/// The drivers table's input of kind `reserves`: recurring spending that planned uses of
/// reserves funded and that returns to the gap.
pub const RETURNING_ITEM: &str = "recurring spending funded from reserves";

/// The drivers table's input of kind `efs`: MRP and interest on exceptional support.
pub const EFS_ITEM: &str = "exceptional support: MRP and interest";

/// The drivers table's input of kind `balance_sheet`: provisions' charges, the DSG deficit's
/// interest and what falls on the general fund, and collection fund deficits, less their
/// central case.
pub const SHEET_ITEM: &str = "provisions, DSG deficit and collection fund";

/// The drivers table's input of kind `treasury`: interest lost on cash below its level at the
/// plan's start (see [`crate::treasury`]).
pub const TREASURY_ITEM: &str = "interest on cash";

/// The name under which [`PlanResult::reserves_by_year`] reports usable reserves in total.
pub const USABLE_RESERVES: &str = "usable_reserves";

/// One row of [`PlanResult::savings_shortfall`]: the savings shortfall, defined once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShortfallRow {
    /// The year.
    pub year: String,
    /// The savings the budget counts on in the year: recurring savings due by it, one-off
    /// savings due in it, and those still to be identified (the MTFS's planned savings).
    pub target: f64,
    /// The savings delivered in the year: mean over the trials.
    pub expected_delivery: f64,
    /// The shortfall, target less delivered: mean. A one-off saving's fall-out from the base
    /// budget in later years is not a shortfall (the budget counts it).
    pub shortfall_mean: f64,
    /// 10th percentile.
    pub shortfall_p10: f64,
    /// Median.
    pub shortfall_p50: f64,
    /// 90th percentile.
    pub shortfall_p90: f64,
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
    /// Probability the general fund ends the year below its minimum.
    pub p_below_minimum: f64,
    /// Probability usable reserves are exhausted in this year or before.
    pub p_exhausted: f64,
    /// The general fund's minimum balance applied.
    pub minimum: f64,
    /// One-off savings planned for the year (not kept by the base budget).
    pub one_off_reliance: f64,
    /// Mean gap with those one-off savings added back.
    pub underlying_gap_mean: f64,
    /// The general fund at the end of the year: 5th percentile.
    pub general_fund_p5: f64,
    /// Median.
    pub general_fund_p50: f64,
    /// 95th percentile.
    pub general_fund_p95: f64,
    /// Probability that the statutory test fails at the year's end, either test (see
    /// [`super::year`]); in-year and for the next budget, not cumulative.
    pub p_s114: f64,
    /// Probability that usable reserves end the year below `policy.s114_floor`: the year's
    /// expenditure exceeded the resources available to meet it (s114(3) of the Local
    /// Government Finance Act 1988). In-year, not cumulative.
    pub p_s114_in_year: f64,
    /// Probability that the next budget cannot be balanced: the recurring gap carried in and
    /// the deficit brought forward exceed usable reserves above the floor (s31A of the Local
    /// Government Finance Act 1992). In-year, not cumulative.
    pub p_s114_budget: f64,
    /// With `[efs]`: the probability that exceptional support is capitalised at the year's
    /// end (0 without it). In-year, not cumulative.
    pub p_efs: f64,
    /// The support capitalised in the year over all trials (zero where none): median.
    pub efs_p50: f64,
    /// 90th percentile.
    pub efs_p90: f64,
    /// With `[dsg]`: the DSG deficit held in its unusable reserve at the year's end, under
    /// the statutory override (0 once it has fallen on the general fund; 0 without `[dsg]`):
    /// median.
    pub dsg_deficit_p50: f64,
    /// 90th percentile.
    pub dsg_deficit_p90: f64,
}

/// One row of [`PlanResult::provisions_by_year`]: a provision in a year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvisionRow {
    /// The provision's name.
    pub provision: String,
    /// The year.
    pub year: String,
    /// What the year charged to the general fund (recognised, and any payment beyond the
    /// provision): mean, in-year.
    pub charge_mean: f64,
    /// Median.
    pub charge_p50: f64,
    /// 90th percentile.
    pub charge_p90: f64,
    /// Cash paid out of the provision in the year (as given).
    pub payments: f64,
    /// The provision's balance at the year's end (cumulative): median.
    pub balance_p50: f64,
    /// 90th percentile.
    pub balance_p90: f64,
}

/// One row of [`PlanResult::reserves_by_year`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReserveRow {
    /// `general_fund`, an earmarked reserve's name, or `usable_reserves` (the total).
    pub reserve: String,
    /// The year.
    pub year: String,
    /// Its uncommitted balance at the end of the year: 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// The minimum it is measured against: the policy's for the general fund, the reserve's
    /// own for an earmarked reserve, zero (exhaustion) for usable reserves.
    pub minimum: f64,
    /// Probability it ends the year below that minimum.
    pub p_below_minimum: f64,
}

/// One row of [`PlanResult::policy_breaches`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreachRow {
    /// The year.
    pub year: String,
    /// Probability reserves fund recurring spending in the year.
    pub probability: f64,
    /// Mean amount over all trials.
    pub mean_amount: f64,
}

/// One row of [`PlanResult::drivers`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverRow {
    /// `risk`, `pressure`, `saving` (its shortfall), `unidentified`, `budget` (funding and
    /// spending: the gap's departure from the central case through drivers and grants), or
    /// `capital` (capital financing's cost to the gap).
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
/// cluster); what is read back is checked to hold together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Stored")]
pub struct PlanResult {
    trials: u64,
    seed: u64,
    years: Vec<String>,
    minimum: Vec<f64>,
    one_off_savings: Vec<f64>,
    budget: Vec<f64>,
    reserve_names: Vec<String>,
    floors: Vec<f64>,
    acc: PlanAcc,
    items: Vec<(String, String)>,
    /// With `[capital]`, by year: interest, capital financing (MRP and interest) and gross
    /// debt at the year's end in the central case (empty without capital); when the capital
    /// plan varies by trial, their distributions are in the accumulators.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    debt: Vec<[f64; 3]>,
    /// By year: the savings the budget counts on (empty in results stored before 0.7.0).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    planned_savings: Vec<f64>,
    /// The balance sheet's reported series, as (kind, name) (empty without provisions,
    /// `[dsg]` or `[collection_fund]`); their distributions are in the accumulators.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sheet: Vec<(String, String)>,
}

/// The debt indicators a plan with `[capital]` adds to [`PlanResult::resilience`], as shares
/// of the net revenue stream: distributions when the capital plan varies by trial (slippage,
/// overrun, receipts, a borrowing rate from an uncertain driver), else the same in every trial.
pub const DEBT_INDICATORS: [&str; 3] = [
    "interest_payable_to_nre",
    "capital_financing_to_nre",
    "gross_debt_to_nre",
];

/// A result as stored, before it is checked.
#[derive(Deserialize)]
struct Stored {
    trials: u64,
    seed: u64,
    years: Vec<String>,
    minimum: Vec<f64>,
    one_off_savings: Vec<f64>,
    budget: Vec<f64>,
    reserve_names: Vec<String>,
    floors: Vec<f64>,
    acc: PlanAcc,
    items: Vec<(String, String)>,
    #[serde(default)]
    debt: Vec<[f64; 3]>,
    #[serde(default)]
    planned_savings: Vec<f64>,
    #[serde(default)]
    sheet: Vec<(String, String)>,
}

impl TryFrom<Stored> for PlanResult {
    type Error = PlanError;
    fn try_from(s: Stored) -> Result<PlanResult, PlanError> {
        let years = s.years.len();
        let bad = |m: String| Err(PlanError::Result(m));
        if years == 0 {
            return bad("years is empty".into());
        }
        for (name, len) in [
            ("minimum", s.minimum.len()),
            ("one_off_savings", s.one_off_savings.len()),
            ("budget", s.budget.len()),
        ] {
            if len != years {
                return bad(format!("{name} has {len} values for {years} years"));
            }
        }
        if !s.planned_savings.is_empty() && s.planned_savings.len() != years {
            return bad(format!(
                "planned_savings has {} values for {years} years",
                s.planned_savings.len()
            ));
        }
        if !s.debt.is_empty() && s.debt.len() != years {
            return bad(format!(
                "debt has {} values for {years} years",
                s.debt.len()
            ));
        }
        if s.reserve_names.is_empty() || s.floors.len() != s.reserve_names.len() {
            return bad(format!(
                "{} reserve names and {} minimums",
                s.reserve_names.len(),
                s.floors.len()
            ));
        }
        if s.trials != s.acc.trials {
            return bad(format!(
                "trials is {} but the accumulators hold {}",
                s.trials, s.acc.trials
            ));
        }
        s.acc
            .check(years, s.items.len(), s.reserve_names.len())
            .map_err(PlanError::Result)?;
        if s.acc.sheet.len() != s.sheet.len() * years {
            return bad(format!(
                "the balance sheet has {} distributions for {} series over {years} years",
                s.acc.sheet.len(),
                s.sheet.len()
            ));
        }
        Ok(PlanResult {
            trials: s.trials,
            seed: s.seed,
            years: s.years,
            minimum: s.minimum,
            one_off_savings: s.one_off_savings,
            budget: s.budget,
            reserve_names: s.reserve_names,
            floors: s.floors,
            debt: s.debt,
            planned_savings: s.planned_savings,
            acc: s.acc,
            items: s.items,
            sheet: s.sheet,
        })
    }
}

/// A plan's kept trials: one entry per trial and year, trial-major (`[trial * years + year]`).
#[derive(Debug, Clone, PartialEq)]
pub struct TrialTable {
    /// The years of the plan.
    pub years: Vec<String>,
    /// The year's gap after savings and the management response (£).
    pub gap: Vec<f64>,
    /// Usable reserves at the year's end (£).
    pub usable_reserves: Vec<f64>,
    /// The general fund at the year's end (£).
    pub general_fund: Vec<f64>,
    /// The general fund ends the year below its minimum.
    pub below_minimum: Vec<bool>,
    /// Usable reserves have been exhausted by the year's end.
    pub exhausted: Vec<bool>,
    /// The balanced-budget test fails at the year's end (`p_s114`).
    pub s114: Vec<bool>,
}

impl Scenario {
    /// Simulates the plan: `trials` trials from `seed`, on `threads` threads (default: one per
    /// core; the numbers do not depend on it).
    pub fn simulate(
        &self,
        trials: u64,
        seed: u64,
        threads: Option<usize>,
    ) -> Result<PlanResult, PlanError> {
        self.simulate_with_progress(trials, seed, threads, &mut |_, _| ControlFlow::Continue(()))
    }

    /// [`Scenario::simulate`], calling `progress(done, total)` (in batches) as batches finish
    /// (at most every 50 ms); a `Break` stops the run with [`PlanError::Interrupted`] and no thread left
    /// running.
    pub fn simulate_with_progress(
        &self,
        trials: u64,
        seed: u64,
        threads: Option<usize>,
        progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    ) -> Result<PlanResult, PlanError> {
        let options = SimulationOptions {
            trials,
            seed,
            threads,
            keep_trials: false,
        };
        self.simulate_with(&options, progress)
    }

    /// The plan's simulation with every option: with `keep_trials`, the result also holds each
    /// trial's gap, usable reserves, general fund and flags by year ([`PlanResult::trial_table`]),
    /// up to [`crate::simulation::MAX_KEPT_CELLS`] values. Keeping trials never changes the
    /// statistics: the same seed gives the same numbers with or without it.
    ///
    /// # Examples
    ///
    /// ```
    /// use fiscalrisk::plan::Scenario;
    /// use fiscalrisk::simulation::SimulationOptions;
    /// let s = Scenario::from_toml(r#"
    ///     [plan]
    ///     name = "two years"
    ///     first_year = "2024/25"
    ///     years = 2
    ///     net_budget = [100e6, 100e6]
    ///     [[pressures]]
    ///     name = "demand"
    ///     amount = { dist = "uniform", low = 0.0, high = 4e6 }
    ///     first_year = "2024/25"
    ///     [reserves]
    ///     general_fund = 10e6
    /// "#).unwrap();
    /// let options = SimulationOptions { trials: 1_000, seed: 7, threads: Some(1), keep_trials: true };
    /// let r = s.simulate_with(&options, &mut |_, _| std::ops::ControlFlow::Continue(())).unwrap();
    /// let t = r.trial_table().unwrap();
    /// assert_eq!(t.gap.len(), 1_000 * 2);
    /// // The whole plan's gap is the sum of the years' gaps, trial by trial.
    /// let above = (0..1_000).filter(|&j| t.gap[2 * j] + t.gap[2 * j + 1] > 4e6).count();
    /// assert_eq!(r.exceedance(4e6, None).unwrap(), above as f64 / 1_000.0);
    /// ```
    pub fn simulate_with(
        &self,
        options: &SimulationOptions,
        progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    ) -> Result<PlanResult, PlanError> {
        let want = Want {
            stress: None,
            keep: options.keep_trials,
            mtfs: true,
            tail: None,
        };
        let run = self.run_plan(
            options.trials,
            options.seed,
            options.threads,
            want,
            progress,
        )?;
        Ok(PlanResult {
            trials: options.trials,
            seed: options.seed,
            years: self.horizon.labels(),
            minimum: run.minimum,
            one_off_savings: self.one_off_savings(),
            budget: self.net_budget.iter().map(|b| b.to_f64()).collect(),
            reserve_names: self.reserves.names.clone(),
            floors: self.reserves.floor.clone(),
            debt: self
                .capital()
                .iter()
                .map(|c| {
                    let interest = c.interest.to_f64();
                    [interest, c.mrp.to_f64() + interest, c.debt_end.to_f64()]
                })
                .collect(),
            acc: run.acc,
            items: self.items(),
            sheet: self.sheet.series(),
            planned_savings: self
                .planned_savings()
                .0
                .iter()
                .map(|d| crate::money::Money::new(*d).to_f64())
                .collect(),
        })
    }

    /// Every input that drives the gap, as (kind, id): risks, pressures (by name), savings,
    /// then the plan-wide inputs in the order of [`Scenario::plan_items`].
    pub(crate) fn items(&self) -> Vec<(String, String)> {
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
        items.extend(
            self.spec
                .unidentified
                .keys()
                .map(|y| ("unidentified".to_string(), super::spec::unidentified_id(y))),
        );
        let plan = self.plan_items();
        for (kind, name, present) in [
            ("budget", BUDGET_ITEM, plan.budget),
            ("capital", CAPITAL_ITEM, plan.capital),
            ("in_year", IN_YEAR_ITEM, plan.in_year),
            ("response", RESPONSE_ITEM, plan.response),
            ("reserves", RETURNING_ITEM, plan.returning),
            ("efs", EFS_ITEM, plan.efs),
            ("balance_sheet", SHEET_ITEM, plan.sheet),
            ("treasury", TREASURY_ITEM, plan.treasury),
        ] {
            if present.is_some() {
                items.push((kind.to_string(), name.to_string()));
            }
        }
        items
    }

    /// The plan-wide inputs of the drivers table that this scenario has, each with its index
    /// among the items after the risks (the engine's `item_cost` rows), in a fixed order:
    /// funding and spending, capital, the in-year position, the closures of later budgets
    /// (budget setting or a management response), recurring spending funded from reserves,
    /// and exceptional support.
    pub(crate) fn plan_items(&self) -> PlanItems {
        let mut next = self.pressures.len() + self.savings.len();
        let mut take = |present: bool| {
            present.then(|| {
                next += 1;
                next - 1
            })
        };
        PlanItems {
            budget: take(self.funded().is_some()),
            capital: take(self.capital.is_some()),
            in_year: take(
                self.in_year
                    .as_ref()
                    .is_some_and(|i| i.mitigations.is_some()),
            ),
            response: take(
                self.budget_setting.is_some() || self.spec.plan.management_response > 0.0,
            ),
            returning: take(self.reserves.returning.iter().any(|r| *r != 0.0)),
            efs: take(self.support.is_some()),
            sheet: take(!self.sheet.is_empty()),
            treasury: take(self.treasury.is_some()),
        }
    }
}

/// Where the plan-wide inputs sit among the drivers table's items after the risks (see
/// [`Scenario::plan_items`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlanItems {
    pub(crate) budget: Option<usize>,
    pub(crate) capital: Option<usize>,
    pub(crate) in_year: Option<usize>,
    pub(crate) response: Option<usize>,
    pub(crate) returning: Option<usize>,
    pub(crate) efs: Option<usize>,
    pub(crate) sheet: Option<usize>,
    pub(crate) treasury: Option<usize>,
}

impl PlanItems {
    /// How many there are.
    pub(crate) fn count(&self) -> usize {
        [
            self.budget,
            self.capital,
            self.in_year,
            self.response,
            self.returning,
            self.efs,
            self.sheet,
            self.treasury,
        ]
        .iter()
        .filter(|i| i.is_some())
        .count()
    }
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

    /// The general fund's minimum by year, as applied.
    pub fn minimum(&self) -> &[f64] {
        &self.minimum
    }

    /// One row per year.
    pub fn by_year(&self) -> Vec<YearRow> {
        let n = self.trials as f64;
        (0..self.years.len())
            .map(|y| {
                let gap_mean = self.acc.gap_sum[y] / n;
                let gf = &self.acc.general_fund[y];
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
                    general_fund_p5: gf.quantile(0.05),
                    general_fund_p50: gf.quantile(0.5),
                    general_fund_p95: gf.quantile(0.95),
                    p_below_minimum: self.acc.below_minimum[y] as f64 / n,
                    p_exhausted: self.acc.exhausted[y] as f64 / n,
                    p_s114: self.acc.s114[y] as f64 / n,
                    p_s114_in_year: self.acc.s114_in_year[y] as f64 / n,
                    p_s114_budget: self.acc.s114_budget[y] as f64 / n,
                    p_efs: self.acc.efs_trials.get(y).map_or(0.0, |c| *c as f64 / n),
                    efs_p50: self.acc.efs.get(y).map_or(0.0, |s| s.quantile(0.5)),
                    efs_p90: self.acc.efs.get(y).map_or(0.0, |s| s.quantile(0.9)),
                    dsg_deficit_p50: self
                        .series(super::sheet::DSG_DEFICIT, "", y)
                        .map_or(0.0, |s| s.quantile(0.5)),
                    dsg_deficit_p90: self
                        .series(super::sheet::DSG_DEFICIT, "", y)
                        .map_or(0.0, |s| s.quantile(0.9)),
                    minimum: self.minimum[y],
                    one_off_reliance: self.one_off_savings[y],
                    underlying_gap_mean: gap_mean + self.one_off_savings[y],
                }
            })
            .collect()
    }

    /// A balance sheet series' distribution in year `y` (see [`super::sheet`]).
    fn series(&self, kind: &str, name: &str, y: usize) -> Option<&Sketch> {
        let k = self
            .sheet
            .iter()
            .position(|(a, b)| a == kind && b == name)?;
        self.acc.sheet.get(k * self.years.len() + y)
    }

    /// Each provision by year: what the year charged to the general fund, what it paid, and
    /// the provision's balance at the year's end (empty without provisions).
    ///
    /// # Examples
    ///
    /// ```
    /// use fiscalrisk::plan::Scenario;
    /// let s = Scenario::from_toml(r#"
    /// [plan]
    /// name = "Equal pay"
    /// first_year = "2023/24"
    /// years = 2
    /// net_budget = [850e6, 870e6]
    /// [reserves]
    /// general_fund = 100e6
    /// [[provisions]]
    /// name = "equal pay"
    /// opening = 650e6
    /// accrual_per_month = [{ dist = "uniform", low = 5e6, high = 14e6 }, 0]
    /// payments = [0, 300e6]
    /// "#).unwrap();
    /// let r = s.simulate(2_000, 1, None).unwrap();
    /// let rows = r.provisions_by_year();
    /// // Twelve months at £5m-£14m a month: £60m-£168m, £114m on average.
    /// assert!((rows[0].charge_mean - 114e6).abs() < 3e6);
    /// assert!(rows[0].charge_p90 > 150e6 && rows[0].charge_p90 < 168e6);
    /// assert_eq!(rows[1].payments, 300e6);
    /// ```
    pub fn provisions_by_year(&self) -> Vec<ProvisionRow> {
        use super::sheet::{PROVISION_BALANCE, PROVISION_CHARGE, PROVISION_PAYMENTS};
        let mut rows = Vec::new();
        for (kind, name) in &self.sheet {
            if kind != PROVISION_CHARGE {
                continue;
            }
            for (y, year) in self.years.iter().enumerate() {
                let get = |k: &str| self.series(k, name, y);
                let (Some(charge), Some(paid), Some(balance)) = (
                    get(PROVISION_CHARGE),
                    get(PROVISION_PAYMENTS),
                    get(PROVISION_BALANCE),
                ) else {
                    continue;
                };
                rows.push(ProvisionRow {
                    provision: name.clone(),
                    year: year.clone(),
                    charge_mean: charge.mean(),
                    charge_p50: charge.quantile(0.5),
                    charge_p90: charge.quantile(0.9),
                    payments: paid.mean(),
                    balance_p50: balance.quantile(0.5),
                    balance_p90: balance.quantile(0.9),
                });
            }
        }
        rows
    }

    /// Each reserve's uncommitted balance by year against its own minimum: the general fund
    /// (against the policy minimum), each earmarked reserve, and usable reserves in total
    /// (against zero: exhaustion in that year).
    pub fn reserves_by_year(&self) -> Vec<ReserveRow> {
        let n = self.trials as f64;
        let years = self.years.len();
        let mut rows = Vec::new();
        let row = |reserve: &str, y: usize, s: &Sketch, minimum: f64, below: u64| ReserveRow {
            reserve: reserve.to_string(),
            year: self.years[y].clone(),
            p5: s.quantile(0.05),
            p50: s.quantile(0.5),
            p95: s.quantile(0.95),
            minimum,
            p_below_minimum: below as f64 / n,
        };
        for (i, name) in self.reserve_names.iter().enumerate() {
            for y in 0..years {
                let minimum = if i == 0 {
                    self.minimum[y]
                } else {
                    self.floors[i]
                };
                let k = i * years + y;
                rows.push(row(
                    name,
                    y,
                    &self.acc.balances[k],
                    minimum,
                    self.acc.below_floor[k],
                ));
            }
        }
        for y in 0..years {
            let s = &self.acc.reserves[y];
            rows.push(row(USABLE_RESERVES, y, s, 0.0, self.acc.negative[y]));
        }
        rows
    }

    /// How often, and by how much, reserves fund recurring spending against the policy, by year
    /// (all zero when the policy allows it).
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

    /// Each input's mean departure from what the budget counts, over the plan, and in the
    /// trials in which reserves are exhausted (0 when there are none): a risk's whole cost, a
    /// pressure's cost less its mean, a saving's shortfall against full delivery (without a
    /// one-off saving's fall-out, which the budget counts), and the plan-wide inputs'
    /// departures (see [`Scenario::plan_items`]). They add up to the mean gap over the plan
    /// less the central MTFS's gap after savings.
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

    /// The general fund balance that covers the plan's simulated cumulative one-off exposure
    /// (one-off pressures and risk costs, the due-year part of savings shortfalls, the in-year
    /// overspend) with probability `confidence`: one figure for the plan.
    pub fn risk_assessed_minimum(&self, confidence: f64) -> Result<f64, PlanError> {
        if !(0.5..1.0).contains(&confidence) {
            return Err(PlanError::Confidence(confidence));
        }
        Ok(self.acc.cumulative_one_off.quantile(confidence))
    }

    /// Each year's gap at each probability in `probs` (quantiles, for exceedance curves).
    pub fn gap_quantiles(&self, probs: &[f64]) -> Result<Vec<Vec<f64>>, PlanError> {
        if let Some(p) = probs.iter().find(|p| !(0.0..=1.0).contains(*p)) {
            return Err(PlanError::Probability {
                field: "probabilities",
                value: *p,
            });
        }
        Ok(self
            .acc
            .gap
            .iter()
            .map(|s| probs.iter().map(|&p| s.quantile(p)).collect())
            .collect())
    }

    /// The probability that the gap exceeds `amount`: in `year`, or, with `None`, over the whole
    /// plan (the sum of the years' gaps, trial by trial: what the plan needs from reserves and
    /// further measures in all).
    pub fn exceedance(&self, amount: f64, year: Option<&str>) -> Result<f64, PlanError> {
        if !amount.is_finite() {
            return Err(PlanError::NotFinite {
                field: "amount",
                value: amount,
            });
        }
        let sketch = match year {
            Some(year) => &self.acc.gap[self.year_index(year)?],
            None if self.acc.cumulative_gap.count() == 0 => {
                return Err(PlanError::Result(
                    "this result was stored before the whole plan's gap was kept; simulate again"
                        .into(),
                ));
            }
            None => &self.acc.cumulative_gap,
        };
        Ok(sketch.exceedance(amount))
    }

    /// The whole plan's gap (the sum of the years' gaps) at each probability in `probs`.
    pub fn cumulative_gap_quantiles(&self, probs: &[f64]) -> Result<Vec<f64>, PlanError> {
        if let Some(p) = probs.iter().find(|p| !(0.0..=1.0).contains(*p)) {
            return Err(PlanError::Probability {
                field: "probabilities",
                value: *p,
            });
        }
        Ok(probs
            .iter()
            .map(|&p| self.acc.cumulative_gap.quantile(p))
            .collect())
    }

    /// Each trial's values by year, when the run kept them
    /// ([`SimulationOptions::keep_trials`]); `None` otherwise.
    pub fn trial_table(&self) -> Option<TrialTable> {
        if self.acc.kept_flags.is_empty() {
            return None;
        }
        let column = |k: usize| {
            self.acc
                .kept
                .iter()
                .skip(k)
                .step_by(KEPT)
                .copied()
                .collect()
        };
        let flag = |f: u8| self.acc.kept_flags.iter().map(|x| x & f != 0).collect();
        Some(TrialTable {
            years: self.years.clone(),
            gap: column(0),
            usable_reserves: column(1),
            general_fund: column(2),
            below_minimum: flag(BELOW_MINIMUM),
            exhausted: flag(EXHAUSTED),
            s114: flag(S114),
        })
    }

    fn year_index(&self, year: &str) -> Result<usize, PlanError> {
        self.years
            .iter()
            .position(|l| l == year)
            .ok_or_else(|| PlanError::UnknownYear {
                year: year.to_string(),
                first: self.years[0].clone(),
                last: self.years[self.years.len() - 1].clone(),
            })
    }

    /// The MTFS table as distributions: by year, one value per column of
    /// [`super::MTFS_COLUMNS`] (and `risks`, the register's cost in the year), each the
    /// `statistic` of that column over the trials: `mean`, or a percentile `p1` to `p99`.
    /// Means keep the table's identities (funding less spending is minus the gap before
    /// savings; that less savings delivered is the gap after savings); percentiles are each
    /// column's own. `savings` is what was delivered in each trial.
    ///
    /// # Examples
    ///
    /// ```
    /// use fiscalrisk::plan::{MTFS_COLUMNS, Scenario};
    /// let s = Scenario::from_toml(r#"
    /// [plan]
    /// name = "One year"
    /// first_year = "2024/25"
    /// years = 1
    /// net_budget = [100e6]
    ///
    /// [[pressures]]
    /// name = "Care"
    /// amount = { dist = "uniform", low = 0, high = 10e6 }
    /// first_year = "2024/25"
    /// "#).unwrap();
    /// let r = s.simulate(10_000, 1, None).unwrap();
    /// let t = r.mtfs("mean").unwrap();
    /// let col = |name: &str| MTFS_COLUMNS.iter().position(|c| *c == name).unwrap();
    /// assert_eq!(t[0][col("funding")], 100e6);
    /// assert!((t[0][col("gap_after_savings")] - 5e6).abs() < 1e5);
    /// ```
    pub fn mtfs(&self, statistic: &str) -> Result<Vec<Vec<f64>>, PlanError> {
        let years = self.years.len();
        let columns = super::MTFS_COLUMNS.len();
        if self.acc.mtfs.len() != columns * years {
            return Err(PlanError::Result(
                "it was stored without this version's MTFS columns (closures by source: 0.7.0); run the plan again".into(),
            ));
        }
        let p = match statistic {
            "mean" => None,
            s => {
                let p = s
                    .strip_prefix('p')
                    .and_then(|x| x.parse::<u32>().ok())
                    .filter(|x| (1..=99).contains(x))
                    .ok_or_else(|| PlanError::Plan {
                        field: "statistic",
                        message: format!("{s:?} is not mean or a percentile p1 to p99"),
                    })?;
                Some(f64::from(p) / 100.0)
            }
        };
        Ok((0..years)
            .map(|y| {
                (0..columns)
                    .map(|c| {
                        let sk = &self.acc.mtfs[c * years + y];
                        p.map_or_else(|| sk.mean(), |p| sk.quantile(p))
                    })
                    .collect()
            })
            .collect())
    }

    /// The savings shortfall by year, the one definition the programme view, the plan and the
    /// report use: the savings the budget counts on in the year (recurring ones due by it,
    /// one-off ones due in it, those still to be identified) less those delivered in it, read
    /// from the simulated MTFS (`savings`, as delivered). Its quantiles are the target less
    /// the delivered savings' opposite quantiles.
    pub fn savings_shortfall(&self) -> Result<Vec<ShortfallRow>, PlanError> {
        if self.planned_savings.len() != self.years.len() {
            return Err(PlanError::Result(
                "it was stored before fiscalrisk 0.7.0 kept the planned savings; run the plan again"
                    .into(),
            ));
        }
        let mean = self.mtfs("mean")?;
        let q = |p: &str| self.mtfs(p);
        let (p90, p50, p10) = (q("p90")?, q("p50")?, q("p10")?);
        let k = super::MTFS_COLUMNS
            .iter()
            .position(|c| *c == "savings")
            .expect("the MTFS has a savings column");
        Ok(self
            .years
            .iter()
            .enumerate()
            .map(|(y, year)| {
                let target = self.planned_savings[y];
                ShortfallRow {
                    year: year.clone(),
                    target,
                    expected_delivery: mean[y][k],
                    shortfall_mean: target - mean[y][k],
                    shortfall_p10: target - p90[y][k],
                    shortfall_p50: target - p50[y][k],
                    shortfall_p90: target - p10[y][k],
                }
            })
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
    /// in-year overspend). `change_in_reserves` is undefined in trials whose reserves at the
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
        let years = self.years.len();
        for (k, name) in DEBT_INDICATORS.iter().enumerate() {
            for (y, year) in self.years.iter().enumerate().take(self.debt.len()) {
                let b = self.budget[y];
                let row = |mean: f64, p10: f64, p50: f64, p90: f64| ForwardRow {
                    year: year.clone(),
                    indicator: name.to_string(),
                    mean: mean / b,
                    p10: p10 / b,
                    p50: p50 / b,
                    p90: p90 / b,
                    defined: 1.0,
                };
                rows.push(match self.acc.debt.get(k * years + y) {
                    Some(s) => row(s.mean(), s.quantile(0.1), s.quantile(0.5), s.quantile(0.9)),
                    None => {
                        let x = self.debt[y][k];
                        row(x, x, x, x)
                    }
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
        let y = self.year_index(year)?;
        if !threshold.is_finite() {
            return Err(PlanError::NotFinite {
                field: "threshold",
                value: threshold,
            });
        }
        let debt = DEBT_INDICATORS
            .iter()
            .position(|n| *n == indicator)
            .filter(|_| !self.debt.is_empty());
        let (s, scale) = match debt {
            Some(k) if self.acc.debt.is_empty() => {
                return Ok(f64::from(u8::from(
                    self.debt[y][k] / self.budget[y] < threshold,
                )));
            }
            Some(k) => (&self.acc.debt[k * self.years.len() + y], self.budget[y]),
            None => self.indicator(indicator, y)?,
        };
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
