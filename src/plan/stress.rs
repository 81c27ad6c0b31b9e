//! The reverse stress test: which trials meet a condition, what occurred in them, and the
//! smallest sets of risks that meet it in the central case. It calls the engine; the engine
//! never calls it.

use std::ops::ControlFlow;

use serde::{Deserialize, Serialize};

use super::ledger::{relieved, saving_gap};
use super::spec::{Condition, PlanError, Scenario};
use super::year::YearIn;

/// Sizes of risk set searched exhaustively by the reverse stress test while a size has at
/// most this many sets.
pub const EXHAUSTIVE_SETS: usize = 200_000;
/// How many smallest sets a reverse stress test reports.
pub const SMALLEST_SETS: usize = 10;
/// Central cases evaluated between two calls of the progress callback.
const CHECK_EVERY: u64 = 4096;

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

/// A risk in the central case: its mean cost if it occurs, whether it recurs, its spread, and
/// the MRP relief a year of the commercial income it takes away, with that income (the most
/// it can cost in a year).
type CentralRisk = (f64, bool, Vec<(usize, f64)>, (f64, Option<f64>));

/// The central case, computed once: every pressure, saving shortfall and the in-year overspend
/// at its mean; each risk's mean cost if it occurs, with its spread.
pub(crate) struct Central {
    recurring: Vec<f64>,
    one_off: Vec<f64>,
    overspend: f64,
    fallout: Vec<f64>,
    /// Capitalisation directions funding each year's gap (see [`super::year`]).
    direction: Vec<f64>,
    risks: Vec<CentralRisk>,
    probability: Vec<f64>,
    /// What each year's end knows falls on the next budget (see [`super::sheet`]).
    falling: Vec<f64>,
    /// The balance sheet's cash by year's start, for treasury cash.
    held: Vec<f64>,
}

impl Scenario {
    pub(crate) fn central(&self) -> Central {
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
            let (once, lasting, later) = saving_gap(
                saving.spec().value.to_f64(),
                saving.spec().recurring,
                model.expected_fraction_in_due_year(),
                model.expected_fraction_when_not_slipped(),
            );
            one_off[*due] += once;
            // A longer delay keeps the saving missing in expectation: value times the expected
            // fraction, times P(still late k years on); a late one-off arrives when it is due.
            let value = saving.spec().value.to_f64();
            let eventual = value * model.expected_fraction_when_not_slipped();
            for (k, v) in one_off.iter_mut().enumerate().skip(due + 1) {
                let k = k - due;
                if saving.spec().recurring {
                    *v += eventual * model.p_late_beyond(k);
                } else if model.spec().one_off_late {
                    *v -= eventual * (model.p_late_beyond(k - 1) - model.p_late_beyond(k));
                }
            }
            recurring[*due..].iter_mut().for_each(|v| *v += lasting);
            recurring[due + 1..].iter_mut().for_each(|v| *v += later);
        }
        // The base budget's own gap (funding and spending at their central values).
        for (v, s) in recurring.iter_mut().zip(self.central_structural()) {
            *v += s;
        }
        // Capital financing, as the simulation adds it to each year's gap: its cost, with the
        // directions that fund a year's gap given to the year on their own.
        let direction: Vec<f64> = self
            .directions()
            .iter()
            .map(|d| crate::Money::new(*d).to_f64())
            .collect();
        if let Some(c) = &self.capital {
            for ((v, d), x) in recurring.iter_mut().zip(c.gap_effect()).zip(&direction) {
                *v += crate::Money::new(d).to_f64() + x;
            }
        }
        // Provisions, the DSG deficit and the collection fund at their means.
        let sheet = self.sheet.central(years);
        for y in 0..years {
            one_off[y] += sheet.one_off[y];
            recurring[y] += sheet.recurring[y];
        }
        let overspend = self.in_year.as_ref().map_or(0.0, |i| i.overspend.mean());
        if let Some(x) = self.in_year.as_ref().and_then(|i| i.mitigations) {
            recurring.iter_mut().for_each(|v| *v += overspend + x);
        }
        let compiled = self.register.compiled();
        let risks = self
            .register
            .risks()
            .iter()
            .zip(compiled)
            .zip(self.reliefs())
            .map(|((r, c), (relief, income))| {
                let relief = crate::Money::new(relief).to_f64();
                let income = income.map(|x| crate::Money::new(x).to_f64());
                (
                    r.expected_cost_if_occurs(),
                    c.recurring,
                    c.spread,
                    (relief, income),
                )
            })
            .collect();
        Central {
            recurring,
            one_off,
            overspend,
            fallout: self.one_off_savings(),
            direction,
            risks,
            probability: self
                .register
                .risks()
                .iter()
                .map(|r| r.spec().probability)
                .collect(),
            falling: sheet.falling,
            held: sheet.held,
        }
    }

    /// Whether `condition` holds in the central case with the risks in `occurs` occurring:
    /// every pressure, saving shortfall and the in-year overspend at its mean, funding, spending
    /// and capital financing at their central values, each occurring risk at its mean cost if
    /// it occurs, every other risk absent.
    pub fn central_case(&self, occurs: &[bool], condition: Condition, minimum: &[f64]) -> bool {
        self.meets(&self.central(), occurs, condition, minimum)
    }

    fn meets(&self, c: &Central, occurs: &[bool], condition: Condition, minimum: &[f64]) -> bool {
        let (mut recurring, mut one_off) = (c.recurring.clone(), c.one_off.clone());
        for ((cost, rec, spread, (relief, income)), _) in
            c.risks.iter().zip(occurs).filter(|(_, o)| **o)
        {
            let target = if *rec { &mut recurring } else { &mut one_off };
            for &(t, f) in spread {
                target[t] += relieved(f, *cost, *relief, *income);
            }
        }
        let plan = &self.reserves;
        let mut book = plan.book();
        plan.open(&mut book, c.overspend);
        let mut run = self.years(plan);
        let setting = match &self.budget_setting {
            Some(s) => self.central_setting(s),
            None => vec![(0.0, 1.0, 1.0); recurring.len()],
        };
        let mut below = false;
        for y in 0..recurring.len() {
            let interest = self.treasury.as_ref().map_or(0.0, |t| {
                let w = t.1.working_capital;
                t.1.cost(
                    plan.opening_usable() + c.held[0] + w,
                    book.usable + c.held[y] + w,
                )
            });
            run.year(
                &mut book,
                y,
                YearIn {
                    recurring: recurring[y] + interest,
                    one_off: one_off[y],
                    direction: c.direction[y],
                    fallout: c.fallout[y],
                    capacity: setting[y].0,
                    delivered: (setting[y].1, setting[y].2),
                    falling: c.falling[y],
                },
            );
            below |= book.balance[0] < minimum[y];
            if condition == Condition::Exhausted && book.usable < 0.0 {
                return true;
            }
        }
        condition == Condition::BelowMinimum && below
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
        self.reverse_stress_with_progress(trials, seed, threads, condition, top, &mut |_, _| {
            ControlFlow::Continue(())
        })
    }

    /// [`Scenario::reverse_stress`], calling `progress(done, total)` as batches finish (at most every 50 ms)
    /// and during the search for the smallest sets; a `Break` stops it with
    /// [`PlanError::Interrupted`].
    pub fn reverse_stress_with_progress(
        &self,
        trials: u64,
        seed: u64,
        threads: Option<usize>,
        condition: Condition,
        top: usize,
        progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    ) -> Result<ReverseStress, PlanError> {
        let run = self.run_plan(
            trials,
            seed,
            threads,
            super::engine::Want {
                stress: Some(condition),
                keep: false,
                mtfs: false,
                tail: None,
            },
            progress,
        )?;
        let stress = &run.acc.stress;
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
        let inputs = self
            .items()
            .into_iter()
            .enumerate()
            .map(|(i, (kind, id))| StressInput {
                kind,
                id,
                mean: run.acc.item_sum[i] / n,
                mean_when_met: if met > 0.0 {
                    stress.item_sum[i] / met
                } else {
                    0.0
                },
            })
            .collect();
        // The search reports the finished run's count again: a check for Ctrl-C, not progress.
        let batches = trials.div_ceil(crate::simulation::BATCH_SIZE as u64);
        let mut check = |_: u64, _: u64| progress(batches, batches);
        let (sets, exact) = self.smallest_sets(condition, &run.minimum, &mut check)?;
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

    /// The smallest sets of risks (indices) that meet `condition` in the central case, most
    /// likely first (by the product of their probabilities), and whether the search was
    /// exhaustive. Sizes are searched exhaustively while a size has at most
    /// [`EXHAUSTIVE_SETS`] sets; beyond that one set is found greedily (largest expected cost
    /// first, then each member dropped that is not needed).
    fn smallest_sets(
        &self,
        condition: Condition,
        minimum: &[f64],
        progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    ) -> Result<(Vec<Vec<usize>>, bool), PlanError> {
        let central = self.central();
        let r = central.risks.len();
        let candidates: Vec<usize> = (0..r)
            .filter(|&i| central.probability[i] > 0.0 && central.risks[i].0 > 0.0)
            .collect();
        let mut occurs = vec![false; r];
        let mut evaluated = 0u64;
        let mut meets = |set: &[usize]| -> Result<bool, PlanError> {
            evaluated += 1;
            if evaluated.is_multiple_of(CHECK_EVERY) && progress(evaluated, 0).is_break() {
                return Err(PlanError::Interrupted);
            }
            set.iter().for_each(|&i| occurs[i] = true);
            let out = self.meets(&central, &occurs, condition, minimum);
            set.iter().for_each(|&i| occurs[i] = false);
            Ok(out)
        };
        if meets(&[])? {
            return Ok((vec![Vec::new()], true));
        }
        if !meets(&candidates)? {
            return Ok((Vec::new(), true));
        }
        let likelihood =
            |set: &[usize]| -> f64 { set.iter().map(|&i| central.probability[i]).product() };
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
                if meets(&set)? {
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
                return Ok((found, true));
            }
        }
        // Greedy: add the largest expected costs until the condition holds, then drop what
        // is not needed (smallest first).
        let mut order = candidates.clone();
        order.sort_by(|&a, &b| central.risks[b].0.total_cmp(&central.risks[a].0));
        let mut set = Vec::new();
        for &i in &order {
            set.push(i);
            if meets(&set)? {
                break;
            }
        }
        for &i in order.iter().rev() {
            if let Some(pos) = set.iter().position(|&x| x == i) {
                let mut smaller = set.clone();
                smaller.remove(pos);
                if meets(&smaller)? {
                    set = smaller;
                }
            }
        }
        set.sort_unstable();
        Ok((vec![set], false))
    }
}
