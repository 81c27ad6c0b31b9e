//! Monte Carlo over a risk register: the distribution of the cost by year and over the plan,
//! and which risks drive the tail.
//!
//! # How a trial is drawn
//!
//! Each risk has one latent uniform `U`. The risk happens when `U > 1 - probability`; its
//! impact is then drawn at the conditional quantile level `V = (U - (1 - p)) / p`, so one
//! latent drives both occurrence and severity: a risk pushed high by its correlations is both
//! more likely to happen and more severe when it does. The council's cost is
//! `min(share * impact, cap)`, spread over the years by the risk's profile (or, for a recurring
//! risk, charged every year from its start year).
//!
//! Independent risks draw `U` and the impact directly. Correlated risks take their latents from
//! a Gaussian copula (latent Pearson correlations from the users' rank correlations, see
//! [`crate::correlation`]); their impacts are placed by the Iman-Conover method within each
//! batch: the impacts of the trials in which a risk happens are drawn independently, sorted,
//! and given to those trials in the order of their latents. Marginal distributions are thus
//! exact, and no inverse cdf is evaluated in the hot loop.
//!
//! # Reproducibility
//!
//! Trials are cut into fixed batches of [`BATCH_SIZE`]; batch `b` draws from
//! [`crate::rng::stream`]`(seed, b)`; batch results are merged in batch order. The same inputs
//! and seed give bit-identical results on any number of threads.
//!
//! # Memory
//!
//! Results hold moments and a quantile sketch per period ([`sketch`]) and a few numbers per
//! risk: flat in the number of trials, unless the trial-level table is asked for. Which trials
//! are in the tail is known only once the P95 of the plan total is, so the tail contributions
//! come from a second pass that re-draws the same batches.
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::risk::RiskRegister;
//! use fiscalrisk::simulation::{simulate, SimulationOptions};
//! let reg: RiskRegister = toml::from_str(r#"
//! first_year = "2019/20"
//! [[risks]]
//! id = "a"
//! name = "A"
//! probability = 0.3
//! impact = { dist = "fixed", value = 1e6 }
//! "#).unwrap();
//! let res = simulate(&reg, &SimulationOptions { trials: 10_000, seed: 1, ..Default::default() }).unwrap();
//! let total = &res.summary()[1];
//! assert_eq!(total.period, "total");
//! assert!((total.mean - 0.3e6).abs() < 4.0 * total.se_mean);
//! assert_eq!(total.p99, 1e6);
//! ```

pub mod sketch;

use std::ops::ControlFlow;

use rand::RngExt;
use rand::distr::Distribution as _;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::Normal;
use thiserror::Error;

use crate::distribution::{Distribution, std_normal_quantile};
use crate::risk::{Compiled, RiskRegister};
use crate::rng;
use sketch::Sketch;

/// Trials per batch: part of the reproducibility contract (changing it changes the numbers).
pub const BATCH_SIZE: usize = 4096;
/// Most trials a run may ask for.
pub const MAX_TRIALS: u64 = 1_000_000_000;
/// Most cells (trials x (risks + periods)) a trial-level table may hold.
pub const MAX_KEPT_CELLS: u64 = 200_000_000;
/// Most threads a run may ask for.
pub const MAX_THREADS: usize = 1024;
/// The label of the whole-plan period in results.
pub const TOTAL: &str = "total";

/// Errors from running a simulation or querying its result.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SimulationError {
    /// A trial count of zero or above [`MAX_TRIALS`].
    #[error("trials: {value} is not between 1 and {MAX_TRIALS}")]
    Trials {
        /// The value given.
        value: u64,
    },
    /// A thread count of zero or above [`MAX_THREADS`].
    #[error("threads: {value} is not between 1 and {MAX_THREADS}")]
    Threads {
        /// The value given.
        value: usize,
    },
    /// A trial-level table too large to hold.
    #[error(
        "keep_trials: {cells} cells (trials x (risks + periods)) is more than the {MAX_KEPT_CELLS} a trial table holds; use fewer trials"
    )]
    TooManyCells {
        /// Cells asked for.
        cells: u64,
    },
    /// A period not in the result.
    #[error("period: {period:?} is not one of {known}")]
    UnknownPeriod {
        /// The period asked for.
        period: String,
        /// Those that exist.
        known: String,
    },
    /// A query argument that is not a finite number.
    #[error("{field}: {value:?} is not a finite number")]
    NotFinite {
        /// The argument.
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// The caller stopped the run.
    #[error("the simulation was interrupted")]
    Interrupted,
    /// The thread pool could not be built.
    #[error("threads: could not start {threads} threads: {message}")]
    ThreadPool {
        /// Threads asked for.
        threads: usize,
        /// Why not.
        message: String,
    },
}

/// How to run a simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationOptions {
    /// Number of trials.
    pub trials: u64,
    /// Seed of the random streams.
    pub seed: u64,
    /// Threads to use (`None`: rayon's default, one per core).
    pub threads: Option<usize>,
    /// Keep the trial-level table (trials x periods and trials x risks).
    pub keep_trials: bool,
}

impl Default for SimulationOptions {
    fn default() -> Self {
        SimulationOptions {
            trials: 100_000,
            seed: 42,
            threads: None,
            keep_trials: false,
        }
    }
}

/// Count, mean and sum of squared deviations, merged with Chan et al.'s formula.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    /// Number of values.
    pub n: u64,
    /// Their mean.
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    pub m2: f64,
}

impl Moments {
    #[inline]
    fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    fn merge(&mut self, o: &Moments) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        self.mean += d * o.n as f64 / n as f64;
        self.m2 += o.m2 + d * d * (self.n as f64 * o.n as f64) / n as f64;
        self.n = n;
    }

    /// Sample standard deviation (n - 1 in the denominator).
    pub fn std(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2.max(0.0) / (self.n - 1) as f64).sqrt()
        }
    }

    /// Standard error of the mean.
    pub fn se(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.std() / (self.n as f64).sqrt()
        }
    }
}

/// One row of [`SimulationResult::summary`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// `2019/20`, ..., or `total`.
    pub period: String,
    /// Mean cost.
    pub mean: f64,
    /// Standard deviation of the cost.
    pub std: f64,
    /// Percentiles of the cost.
    pub p5: f64,
    /// 10th percentile.
    pub p10: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Value at risk: the 95th percentile of the cost.
    pub var95: f64,
    /// Expected shortfall: the mean of the worst 5% of trials.
    pub es95: f64,
    /// Standard error of the mean.
    pub se_mean: f64,
    /// Standard error of the 95th percentile (from the order statistics one binomial standard
    /// deviation either side of rank 0.95 n).
    pub se_p95: f64,
}

/// One row of [`SimulationResult::contributions`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The risk.
    pub risk_id: String,
    /// The period (`total` for the whole plan).
    pub period: String,
    /// Mean cost.
    pub mean: f64,
    /// Its standard error.
    pub se_mean: f64,
    /// Mean cost in the tail trials: those whose plan total is at or above its P95.
    pub tail_mean: f64,
}

/// The trial-level table, row-major.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrialTable {
    /// `trials x (years + 1)`: each year's cost, then the plan total.
    pub periods: Vec<f64>,
    /// `trials x risks`: each risk's cost over the plan.
    pub risks: Vec<f64>,
}

/// What a simulation found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationResult {
    trials: u64,
    seed: u64,
    periods: Vec<String>,
    risk_ids: Vec<String>,
    /// Per period, the years then the total.
    moments: Vec<Moments>,
    sketches: Vec<Sketch>,
    /// Per risk: moments of its drawn cost (per year, for recurring risks).
    risk_moments: Vec<Moments>,
    /// Per risk: (period, fraction) of its drawn cost.
    risk_spread: Vec<Vec<(usize, f64)>>,
    tail_threshold: f64,
    tail_count: u64,
    /// Per risk: sum over tail trials of its drawn cost.
    tail_sums: Vec<f64>,
    trial_table: Option<TrialTable>,
}

struct Engine<'a> {
    compiled: Vec<Compiled>,
    impacts: Vec<&'a Distribution>,
    independent: Vec<usize>,
    /// Correlated risks: register positions, occurrence thresholds on the latent normal.
    members: Vec<usize>,
    thresholds: Vec<f64>,
    cholesky: Vec<f64>,
    years: usize,
    seed: u64,
    trials: u64,
}

struct BatchOut {
    period_moments: Vec<Moments>,
    sketches: Vec<Sketch>,
    risk_moments: Vec<Moments>,
    tail_count: u64,
    tail_sums: Vec<f64>,
    table: Option<TrialTable>,
}

impl<'a> Engine<'a> {
    fn new(register: &'a RiskRegister, options: &SimulationOptions) -> Engine<'a> {
        let compiled = register.compiled();
        let impacts = register.risks().iter().map(|r| r.impact()).collect();
        let (members, cholesky) = match register.copula() {
            Some(c) => (c.members.clone(), c.cholesky.clone()),
            None => (Vec::new(), Vec::new()),
        };
        let thresholds = members
            .iter()
            .map(|&i| std_normal_quantile(1.0 - compiled[i].probability))
            .collect();
        let independent = (0..compiled.len())
            .filter(|i| members.binary_search(i).is_err())
            .collect();
        Engine {
            compiled,
            impacts,
            independent,
            members,
            thresholds,
            cholesky,
            years: register.horizon().len(),
            seed: options.seed,
            trials: options.trials,
        }
    }

    fn batches(&self) -> u64 {
        self.trials.div_ceil(BATCH_SIZE as u64)
    }

    #[inline]
    fn cost(&self, i: usize, impact: f64) -> f64 {
        let c = &self.compiled[i];
        (c.share * impact).min(c.cap)
    }

    /// Runs batch `b`. With `tail = Some(t)`, only the tail statistics (plan total >= t) are
    /// gathered; otherwise everything else.
    fn run_batch(&self, b: u64, tail: Option<f64>, keep: bool) -> BatchOut {
        let start = b * BATCH_SIZE as u64;
        let n = (self.trials - start).min(BATCH_SIZE as u64) as usize;
        let r = self.compiled.len();
        let t_count = self.years;
        let mut rng = rng::stream(self.seed, b);

        // Correlated risks first: latent normals, then Iman-Conover placement of impacts.
        let k = self.members.len();
        let mut correlated_cost = vec![0.0; n * k];
        if k > 0 {
            let normal = Normal::standard();
            let mut z = vec![0.0; n * k];
            let mut eps = vec![0.0; k];
            for j in 0..n {
                for e in eps.iter_mut() {
                    *e = normal.sample(&mut rng);
                }
                for s in 0..k {
                    let row = &self.cholesky[s * k..s * k + s + 1];
                    z[j * k + s] = row.iter().zip(&eps).map(|(l, e)| l * e).sum();
                }
            }
            let mut hits: Vec<(f64, usize)> = Vec::with_capacity(n);
            let mut draws: Vec<f64> = Vec::with_capacity(n);
            for s in 0..k {
                let i = self.members[s];
                hits.clear();
                hits.extend(
                    (0..n)
                        .filter(|&j| z[j * k + s] > self.thresholds[s])
                        .map(|j| (z[j * k + s], j)),
                );
                draws.clear();
                draws.extend((0..hits.len()).map(|_| self.impacts[i].draw(&mut rng)));
                hits.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                draws.sort_unstable_by(f64::total_cmp);
                for (&(_, j), &x) in hits.iter().zip(&draws) {
                    correlated_cost[j * k + s] = self.cost(i, x);
                }
            }
        }

        // Independent risks, risk by risk, into a batch x risks cost matrix.
        let mut cost = vec![0.0; n * r];
        for &i in &self.independent {
            let p = self.compiled[i].probability;
            for j in 0..n {
                if rng.random::<f64>() < p {
                    cost[j * r + i] = self.cost(i, self.impacts[i].draw(&mut rng));
                }
            }
        }
        for (s, &i) in self.members.iter().enumerate() {
            for j in 0..n {
                cost[j * r + i] = correlated_cost[j * k + s];
            }
        }

        // Per trial: period totals and the plan total.
        let mut totals = vec![0.0; n * (t_count + 1)];
        for j in 0..n {
            let row = &mut totals[j * (t_count + 1)..(j + 1) * (t_count + 1)];
            for (i, c) in self.compiled.iter().enumerate() {
                let x = cost[j * r + i];
                if x != 0.0 {
                    for &(t, f) in &c.spread {
                        row[t] += x * f;
                    }
                }
            }
            row[t_count] = row[..t_count].iter().sum();
        }

        let mut out = BatchOut {
            period_moments: Vec::new(),
            sketches: Vec::new(),
            risk_moments: Vec::new(),
            tail_count: 0,
            tail_sums: Vec::new(),
            table: None,
        };
        if let Some(threshold) = tail {
            out.tail_sums = vec![0.0; r];
            for j in 0..n {
                if totals[j * (t_count + 1) + t_count] >= threshold {
                    out.tail_count += 1;
                    for (acc, x) in out.tail_sums.iter_mut().zip(&cost[j * r..(j + 1) * r]) {
                        *acc += x;
                    }
                }
            }
            return out;
        }
        out.risk_moments = vec![Moments::default(); r];
        for j in 0..n {
            for (m, &x) in out.risk_moments.iter_mut().zip(&cost[j * r..(j + 1) * r]) {
                m.push(x);
            }
        }
        let mut column = vec![0.0; n];
        for t in 0..=t_count {
            let mut m = Moments::default();
            for j in 0..n {
                column[j] = totals[j * (t_count + 1) + t];
                m.push(column[j]);
            }
            out.period_moments.push(m);
            out.sketches.push(Sketch::from_values(&mut column));
        }
        if keep {
            let plan_cost = cost
                .chunks(r.max(1))
                .take(n)
                .flat_map(|row| {
                    row.iter()
                        .zip(&self.compiled)
                        .map(|(x, c)| x * c.spread.iter().map(|s| s.1).sum::<f64>())
                })
                .collect();
            out.table = Some(TrialTable {
                periods: totals,
                risks: if r == 0 { Vec::new() } else { plan_cost },
            });
        }
        out
    }

    /// Runs every batch, in parallel windows, folding results in batch order.
    fn run_all(
        &self,
        pool: &rayon::ThreadPool,
        tail: Option<f64>,
        keep: bool,
        progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
        mut fold: impl FnMut(BatchOut),
    ) -> Result<(), SimulationError> {
        let batches = self.batches();
        let window = (pool.current_num_threads() as u64 * 4).max(1);
        let mut done = 0;
        while done < batches {
            let end = (done + window).min(batches);
            let outs: Vec<BatchOut> = pool.install(|| {
                (done..end)
                    .into_par_iter()
                    .map(|b| self.run_batch(b, tail, keep))
                    .collect()
            });
            outs.into_iter().for_each(&mut fold);
            done = end;
            if progress(done, batches).is_break() {
                return Err(SimulationError::Interrupted);
            }
        }
        Ok(())
    }
}

/// Simulates `register` with `options`.
pub fn simulate(
    register: &RiskRegister,
    options: &SimulationOptions,
) -> Result<SimulationResult, SimulationError> {
    simulate_with_progress(register, options, &mut |_, _| ControlFlow::Continue(()))
}

/// Simulates `register`, calling `progress(work_done, work_total)` on the calling thread between
/// windows of batches; returning `ControlFlow::Break` stops the run with
/// [`SimulationError::Interrupted`].
pub fn simulate_with_progress(
    register: &RiskRegister,
    options: &SimulationOptions,
    progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
) -> Result<SimulationResult, SimulationError> {
    if options.trials == 0 || options.trials > MAX_TRIALS {
        return Err(SimulationError::Trials {
            value: options.trials,
        });
    }
    if let Some(t) = options.threads
        && (t == 0 || t > MAX_THREADS)
    {
        return Err(SimulationError::Threads { value: t });
    }
    let years = register.horizon().len();
    let r = register.risks().len();
    if options.keep_trials {
        let cells = options.trials.saturating_mul((r + years + 1) as u64);
        if cells > MAX_KEPT_CELLS {
            return Err(SimulationError::TooManyCells { cells });
        }
    }
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = options.threads {
        builder = builder.num_threads(t);
    }
    let pool = builder.build().map_err(|e| SimulationError::ThreadPool {
        threads: options.threads.unwrap_or(0),
        message: e.to_string(),
    })?;
    let engine = Engine::new(register, options);
    let batches = engine.batches();

    let mut moments = vec![Moments::default(); years + 1];
    let mut sketches = vec![Sketch::default(); years + 1];
    let mut risk_moments = vec![Moments::default(); r];
    let mut table = options.keep_trials.then(TrialTable::default);
    // Progress counts both passes.
    let mut first_pass = |d, _| progress(d, 2 * batches);
    engine.run_all(&pool, None, options.keep_trials, &mut first_pass, |out| {
        for (m, o) in moments.iter_mut().zip(&out.period_moments) {
            m.merge(o);
        }
        for (s, o) in sketches.iter_mut().zip(&out.sketches) {
            s.merge(o);
        }
        for (m, o) in risk_moments.iter_mut().zip(&out.risk_moments) {
            m.merge(o);
        }
        if let (Some(t), Some(o)) = (table.as_mut(), out.table) {
            t.periods.extend(o.periods);
            t.risks.extend(o.risks);
        }
    })?;

    let tail_threshold = sketches[years].quantile(0.95);
    let mut tail_count = 0;
    let mut tail_sums = vec![0.0; r];
    let mut second_pass = |d, _| progress(batches + d, 2 * batches);
    engine.run_all(
        &pool,
        Some(tail_threshold),
        false,
        &mut second_pass,
        |out| {
            tail_count += out.tail_count;
            for (acc, x) in tail_sums.iter_mut().zip(&out.tail_sums) {
                *acc += x;
            }
        },
    )?;

    let mut periods = register.horizon().labels();
    periods.push(TOTAL.to_string());
    Ok(SimulationResult {
        trials: options.trials,
        seed: options.seed,
        periods,
        risk_ids: register
            .risks()
            .iter()
            .map(|r| r.id().to_string())
            .collect(),
        moments,
        sketches,
        risk_moments,
        risk_spread: engine.compiled.iter().map(|c| c.spread.clone()).collect(),
        tail_threshold,
        tail_count,
        tail_sums,
        trial_table: table,
    })
}

impl SimulationResult {
    /// Number of trials.
    pub fn trials(&self) -> u64 {
        self.trials
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Period labels: the years, then `total`.
    pub fn periods(&self) -> &[String] {
        &self.periods
    }

    /// Risk ids in register order.
    pub fn risk_ids(&self) -> &[String] {
        &self.risk_ids
    }

    /// The plan total's P95: trials at or above it are the tail.
    pub fn tail_threshold(&self) -> f64 {
        self.tail_threshold
    }

    /// The trial-level table, when it was kept.
    pub fn trial_table(&self) -> Option<&TrialTable> {
        self.trial_table.as_ref()
    }

    fn period_index(&self, period: &str) -> Result<usize, SimulationError> {
        self.periods
            .iter()
            .position(|p| p == period)
            .ok_or_else(|| SimulationError::UnknownPeriod {
                period: period.to_string(),
                known: self.periods.join(", "),
            })
    }

    /// One row per year and one for the whole plan.
    pub fn summary(&self) -> Vec<SummaryRow> {
        let n = self.trials as f64;
        self.periods
            .iter()
            .zip(self.moments.iter().zip(&self.sketches))
            .map(|(period, (m, s))| {
                let q = |p: f64| s.quantile(p);
                let spread = (0.95 * 0.05 / n).sqrt();
                let se_p95 = 0.5 * (q((0.95 + spread).min(1.0)) - q(0.95 - spread));
                SummaryRow {
                    period: period.clone(),
                    mean: m.mean,
                    std: m.std(),
                    p5: q(0.05),
                    p10: q(0.10),
                    p50: q(0.50),
                    p90: q(0.90),
                    p95: q(0.95),
                    p99: q(0.99),
                    var95: q(0.95),
                    es95: s.mean_of_largest((0.05 * n).ceil() as u64),
                    se_mean: m.se(),
                    se_p95,
                }
            })
            .collect()
    }

    /// The probability that the cost in `period` (a year label or `total`) exceeds `amount`.
    pub fn exceedance(&self, amount: f64, period: &str) -> Result<f64, SimulationError> {
        if !amount.is_finite() {
            return Err(SimulationError::NotFinite {
                field: "amount",
                value: amount,
            });
        }
        let i = self.period_index(period)?;
        Ok(self.sketches[i].exceedance(amount))
    }

    /// Each risk's mean cost over the whole plan, its standard error, and its mean in the tail
    /// trials (plan total at or above its P95): which risks drive the tail. The tail means sum
    /// to the mean plan total over the tail trials.
    pub fn contributions(&self) -> Vec<Contribution> {
        self.risk_ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let factor: f64 = self.risk_spread[i].iter().map(|s| s.1).sum();
                self.contribution(i, id, TOTAL, factor)
            })
            .collect()
    }

    /// As [`contributions`](Self::contributions), one row per risk and year (tail trials are
    /// still those of the plan total).
    pub fn contributions_by_period(&self) -> Vec<Contribution> {
        let years = self.periods.len() - 1;
        let mut rows = Vec::with_capacity(self.risk_ids.len() * years);
        for (i, id) in self.risk_ids.iter().enumerate() {
            for t in 0..years {
                let factor: f64 = self.risk_spread[i]
                    .iter()
                    .filter(|s| s.0 == t)
                    .map(|s| s.1)
                    .sum();
                rows.push(self.contribution(i, id, &self.periods[t], factor));
            }
        }
        rows
    }

    fn contribution(&self, i: usize, id: &str, period: &str, factor: f64) -> Contribution {
        let m = &self.risk_moments[i];
        Contribution {
            risk_id: id.to_string(),
            period: period.to_string(),
            mean: factor * m.mean,
            se_mean: factor * m.se(),
            tail_mean: if self.tail_count == 0 {
                0.0
            } else {
                factor * self.tail_sums[i] / self.tail_count as f64
            },
        }
    }
}
