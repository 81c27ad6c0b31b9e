//! The risk-assessed minimum general fund balance, itemised as a section 25 statement shows it.
//!
//! Section 25 of the Local Government Act 2003 asks the chief finance officer to report on the
//! adequacy of the proposed reserves; CIPFA's LAAP Bulletin 99 (*Local Authority Reserves and
//! Balances*, July 2014) frames that as an assessment of the risks the budget does not provide
//! for, item by item. The minimum here is one figure for the plan: the quantile, at a stated
//! confidence, of the plan's **cumulative one-off exposure beyond the budget**, summed over the
//! plan's years, trial by trial:
//!
//! * each one-off risk's cost (with its spread, share, cap and MRP relief): a register's risks are
//!   not in the budget;
//! * each one-off pressure beyond its budgeted value (the budget carries it at its mean, so a
//!   pressure at its mean adds nothing);
//! * each saving's shortfall in its due year (and in the years it slips), net of what is received
//!   late: the budget counts every saving delivered in full;
//! * the in-year overspend met from reserves before the plan's first year.
//!
//! Recurring risks and pressures are left out: a recurring gap is the budget's to close each
//! year (see [`super::year`]), not a call on the minimum balance.
//!
//! The itemisation allocates the minimum over the inputs in proportion to each input's mean
//! exposure in the trials whose total reaches the minimum (the tail at the stated confidence):
//! what, on average, made up the exposures the balance is there for. The provisions add up to
//! the minimum; an input below its budget in those trials is a negative line.
//!
//! It calls the engine; the engine never calls it.

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use super::engine::Want;
use super::spec::{PlanError, Scenario};

/// One line of a [`MinimumStatement`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinimumRow {
    /// `risk`, `pressure`, `saving`, `unidentified` or `in_year`.
    pub kind: String,
    /// Its id (a pressure's name).
    pub id: String,
    /// Its mean one-off exposure beyond the budget over all trials (£).
    pub mean: f64,
    /// Its mean one-off exposure beyond the budget in the trials whose total reaches the
    /// minimum (£).
    pub mean_in_tail: f64,
    /// Its share of the minimum (£): the minimum times its share of the tail means.
    pub provision: f64,
}

/// What [`Scenario::minimum_statement`] found: the risk-assessed minimum general fund balance
/// at a confidence, itemised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinimumStatement {
    /// The confidence: the quantile of the cumulative one-off exposure taken as the minimum.
    pub confidence: f64,
    /// The minimum (£): that quantile, as [`super::PlanResult::risk_assessed_minimum`] reads it.
    pub minimum: f64,
    /// Trials simulated.
    pub trials: u64,
    /// The seed.
    pub seed: u64,
    /// The trials whose cumulative one-off exposure reached the minimum.
    pub tail_trials: u64,
    /// The mean cumulative one-off exposure beyond the budget in those trials (£; the expected
    /// shortfall at the confidence).
    pub tail_mean: f64,
    /// The inputs that can call on the minimum, in the drivers table's order.
    pub rows: Vec<MinimumRow>,
}

impl Scenario {
    /// The risk-assessed minimum general fund balance at `confidence` (0.5 to 1), itemised:
    /// the trials of [`Scenario::simulate`] (same `trials` and `seed`) simulated again, with
    /// each input's one-off exposure beyond the budget summed in all trials and in those whose
    /// total reaches the minimum. See the module documentation for what counts.
    ///
    /// # Examples
    ///
    /// ```
    /// use fiscalrisk::plan::Scenario;
    /// let s = Scenario::from_toml(r#"
    /// [plan]
    /// name = "One year"
    /// first_year = "2019/20"
    /// years = 1
    /// net_budget = [100e6]
    ///
    /// [[pressures]]
    /// name = "Budgeted at its value"
    /// amount = { dist = "fixed", value = 4e6 }
    /// first_year = "2019/20"
    /// recurring = false
    ///
    /// [[risks]]
    /// id = "R1"
    /// name = "Equal pay"
    /// probability = 1.0
    /// impact = { dist = "fixed", value = 3e6 }
    ///
    /// [reserves]
    /// general_fund = 10e6
    /// "#).unwrap();
    /// let m = s.minimum_statement(1000, 1, None, 0.95).unwrap();
    /// // The budget carries the pressure: only the risk calls on the minimum.
    /// assert_eq!(m.minimum, 3e6);
    /// assert_eq!((m.rows[0].id.as_str(), m.rows[0].provision), ("R1", 3e6));
    /// assert_eq!((m.rows[1].kind.as_str(), m.rows[1].provision), ("pressure", 0.0));
    /// ```
    pub fn minimum_statement(
        &self,
        trials: u64,
        seed: u64,
        threads: Option<usize>,
        confidence: f64,
    ) -> Result<MinimumStatement, PlanError> {
        self.minimum_statement_with_progress(trials, seed, threads, confidence, &mut |_, _| {
            ControlFlow::Continue(())
        })
    }

    /// [`Scenario::minimum_statement`], calling `progress(done, total)` as batches finish; a
    /// `Break` stops it with [`PlanError::Interrupted`].
    pub fn minimum_statement_with_progress(
        &self,
        trials: u64,
        seed: u64,
        threads: Option<usize>,
        confidence: f64,
        progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    ) -> Result<MinimumStatement, PlanError> {
        if !(0.5..1.0).contains(&confidence) {
            return Err(PlanError::Confidence(confidence));
        }
        let run = self.run_plan(
            trials,
            seed,
            threads,
            Want {
                tail: Some(confidence),
                ..Want::default()
            },
            progress,
        )?;
        let minimum = run.acc.cumulative_one_off.quantile(confidence);
        let tail = &run.acc.tail;
        let in_tail = tail.trials as f64;
        let per = |x: f64| if in_tail > 0.0 { x / in_tail } else { 0.0 };
        let n = trials as f64;
        let kept = self.exposed_items();
        let tail_mean: f64 = kept.iter().map(|&i| per(tail.tail_sum[i])).sum();
        let items = self.items();
        let rows = kept
            .into_iter()
            .map(|i| {
                let mean_in_tail = per(tail.tail_sum[i]);
                MinimumRow {
                    kind: items[i].0.clone(),
                    id: items[i].1.clone(),
                    mean: tail.sum[i] / n,
                    mean_in_tail,
                    provision: if tail_mean > 0.0 {
                        minimum * mean_in_tail / tail_mean
                    } else {
                        0.0
                    },
                }
            })
            .collect();
        Ok(MinimumStatement {
            confidence,
            minimum,
            trials,
            seed,
            tail_trials: tail.trials,
            tail_mean,
            rows,
        })
    }

    /// The drivers table's inputs that can call on the minimum: one-off risks and pressures,
    /// every saving, and the in-year overspend.
    fn exposed_items(&self) -> Vec<usize> {
        let risks = self.register.risks();
        let r = risks.len();
        let p = self.pressures.len();
        let mut kept: Vec<usize> = (0..r).filter(|&i| !risks[i].spec().recurring).collect();
        kept.extend(
            (0..p)
                .filter(|&k| !self.pressures[k].recurring)
                .map(|k| r + k),
        );
        kept.extend((0..self.savings.len()).map(|k| r + p + k));
        if let Some(i) = self.plan_items().in_year {
            kept.push(r + i);
        }
        kept
    }
}
