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
//! [`crate::rng::stream`]`(seed, b)`. Batch results are merged in a fixed binary tree over the
//! batch numbers (`run_tree`), so every floating-point sum is taken in the same order: the
//! same inputs and seed give bit-identical results on any number of threads.
//!
//! The contract is per version. 0.2.0 changed the numbers a seed gives from 0.1.0 (the draws
//! are the same; how they are summed and summarised is not): sketch buckets 2^-10 wide (were
//! 2^-12), batches merged in one tree over the run (were trees within windows of 16 batches,
//! and a plan's batches merged in order), and a register's risk moments summed over the trials
//! in which each risk happens. 0.3.0 draws what 0.2.0 drew for any scenario without drivers or
//! funding (a funded scenario draws its drivers' and grants' latents after the pressures).
//! 0.4.0 draws what 0.3.0 drew for any scenario whose capital plan is the same in every trial
//! (one that varies draws its projects' latents after everything else). 0.4.1 gives what
//! 0.4.0 gave, bit for bit: only how the sketches' buckets are gathered changed (per thread,
//! see [`sketch::Bank`]). 0.5.0 draws PERTs by an exact envelope sampler (see
//! `distribution::beta`) instead of two gamma draws: the same distribution, but any run that
//! draws a PERT gives different numbers from 0.4.1's (its own draws, and, as it takes a
//! different number of draws from the batch's stream, every draw after it in the batch). A
//! run without a PERT gives what 0.4.1 gave, bit for bit; so does a PERT whose envelope fits
//! badly (a weight of 200 or more with the mode at or near an end), which keeps the gammas.
//! 0.5.1 gives what 0.5.0 gave, bit for bit (the plan's savings ledger and the copula's
//! normals made faster, the same draws in the same order and the same sums in the same order).
//! 0.5.2 gives what 0.5.1 gave, bit for bit (Iman-Conover's column without a scratch column,
//! a register's moments four sums at a time, each sum still in its own order from -0.0).
//! 0.6.0 gives what 0.5.2 gave, bit for bit (the sketches' banks read on the pool's threads,
//! the tail candidates merged in one walk, each key's sums still added in batch order).
//! 0.6.1 gives what 0.6.0 gave, bit for bit (a run's sketches made compact in place on the
//! pool's threads, the banks read a page at a time).
//! 0.7.0 changes a plan's numbers once (issue 32). The draws: a register's are what 0.6.1 drew,
//! bit for bit, and so are a plan's risks (the batch's main stream); every other component of
//! a plan (pressures, funding and spending, savings, the in-year overspend, capital, a budget set
//! every year) draws on a stream of its own keyed by (seed, batch, component)
//! (`rng::component`), so a plan with any of them draws other numbers than 0.6.1 did, from the
//! same distributions. The year (`plan::year`) follows the statute: `p_s114` is either of two
//! tests against `policy.s114_floor`, not the general fund's minimum; a capitalisation
//! direction funds at most its year's gap; reserves planned for recurring spending leave the
//! need in the next year.
//!
//! # Memory
//!
//! Results hold moments and a quantile sketch per period ([`sketch`]) and a few numbers per
//! risk: flat in the number of trials, unless the trial-level table is asked for.
//! Between runs the process keeps at most [`sketch::KEPT_BYTES`] (8 MiB of the cells they
//! wrote) of the last run's sketch banks, for the next run's, which empties them as it takes
//! them (see [`sketch::Banks::recycle`]).
//!
//! Which trials are in the tail (plan total at or above its P95) is known only at the end. A
//! pilot of the first batches gives a floor (its P90, almost surely below the run's P95); every
//! batch then adds each risk's cost in the trials above the floor into bins by the sketch
//! bucket of the plan total. The tail is the trials in the P95's bucket and above, so the tail
//! threshold is the smallest plan total in that bucket (exact, within 2^-10 of the P95) and the
//! bins give the tail sums exactly. Should the floor turn out above the threshold, one more
//! pass over every batch computes them directly (a test checks the two agree).
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::register::RiskRegister;
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

use rand::Rng as _;
use rand::distr::Distribution as _;
use serde::{Deserialize, Serialize};
use statrs::distribution::Normal;
use thiserror::Error;

use crate::distribution::{Distribution, std_normal_quantile};
use crate::register::{Compiled, RiskRegister};
use crate::rng;
use sketch::{Banks, Sketch};

/// Trials per batch: part of the reproducibility contract (changing it changes the numbers).
pub const BATCH_SIZE: usize = 4096;
/// Most trials a run may ask for.
pub const MAX_TRIALS: u64 = 1_000_000_000;
/// Most cells (trials x (risks + periods)) a trial-level table may hold: at 2 x 10^8 a plan's
/// kept trials took 5.1 GB (12 million trials of the reference plan, issue 38, item 13), so the
/// cap is a quarter of that, about 1.3 GB.
pub const MAX_KEPT_CELLS: u64 = 50_000_000;
/// Most threads a run may ask for.
pub const MAX_THREADS: usize = 1024;
/// The low bits that hold a trial's position in a batch (`BATCH_SIZE` is `1 << 12`).
const TRIAL_MASK: u64 = (1 << 12) - 1;
const _: () = assert!(BATCH_SIZE as u64 == TRIAL_MASK + 1);
/// Batches in the pilot that sets the floor for tail candidates (see `simulate_with_progress`).
const PILOT_BATCHES: u64 = 4;
/// The pilot's quantile of the plan total used as that floor.
const PILOT_FLOOR: f64 = 0.90;
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

/// The integer `t` such that a uniform 64-bit draw `u` satisfies `u < t` with probability `p`
/// (to within 2^-64; `p = 1` is handled by the caller, as `2^64` does not fit).
fn occurrence_threshold(p: f64) -> u64 {
    // 2^64 as f64 is exact; the product saturates at u64::MAX in the cast.
    (p * 18_446_744_073_709_551_616.0) as u64
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

pub(crate) struct Engine<'a> {
    compiled: Vec<Compiled>,
    impacts: Vec<&'a Distribution>,
    /// Correlated risks: register positions, occurrence thresholds on the latent normal.
    members: Vec<usize>,
    thresholds: Vec<f64>,
    cholesky: Vec<f64>,
    years: usize,
    seed: u64,
    trials: u64,
    /// Whether batches stream their risks (see [`MAX_HITS_BYTES`]).
    streams: bool,
}

/// What a batch is asked for.
#[derive(Clone, Copy)]
struct Want {
    /// Moments and sketches (and the trial table when `keep`).
    stats: bool,
    keep: bool,
    /// Gather per-risk sums, by bucket of the plan total, of the trials at or above this.
    candidates: Option<f64>,
    /// Gather per-risk sums of the trials at or above this exact threshold.
    tail: Option<f64>,
    /// Hold the batch's risk draws and plan totals (the pilot's, for their candidates).
    hold: bool,
}

/// A batch's risk costs, sparse: risk `i` happens in trials `trial[start[i]..start[i + 1]]`
/// at the costs `cost[start[i]..start[i + 1]]`. A batch thus holds the trials in which risks
/// happen, not every risk in every trial.
#[derive(Default)]
pub(crate) struct Hits {
    pub(crate) trial: Vec<u32>,
    pub(crate) cost: Vec<f64>,
    pub(crate) start: Vec<usize>,
}

impl Hits {
    /// Risk `i`'s trials and costs.
    pub(crate) fn risk(&self, i: usize) -> (&[u32], &[f64]) {
        let (a, b) = (self.start[i], self.start[i + 1]);
        (&self.trial[a..b], &self.cost[a..b])
    }

    /// Number of risks.
    pub(crate) fn risks(&self) -> usize {
        self.start.len() - 1
    }
}

/// What receives a batch's risks one at a time: the risk, the trials in which it happens, and
/// its cost in each.
pub(crate) type RiskVisitor<'f> = dyn FnMut(usize, &[u32], &[f64]) + 'f;

/// Bytes a held (risk, trial) pair takes: its trial and its cost.
const HIT_BYTES: usize = 12;
/// Most bytes a batch may hold of its risks' draws. Above it (about 2,700 risks that happen
/// one year in a trial, at 4,096 trials a batch) a batch streams: it draws each risk, uses it
/// and lets it go, and draws the risks again, from a copy of the batch's stream, for what
/// needs them once the batch's totals are known (the tail, reserves exhausted). The numbers
/// are the same either way; streaming costs the risks' draws twice and keeps memory flat.
pub const MAX_HITS_BYTES: usize = 32 << 20;

#[cfg(test)]
thread_local! {
    /// Tests lower it to make small registers stream (read when an engine is made).
    pub(crate) static STREAM_ABOVE: std::cell::Cell<usize> = const { std::cell::Cell::new(MAX_HITS_BYTES) };
}

/// The bytes of held draws above which a new engine streams.
fn stream_above() -> usize {
    #[cfg(test)]
    return STREAM_ABOVE.with(|c| c.get());
    #[cfg(not(test))]
    MAX_HITS_BYTES
}

/// A batch's risk draws, for a second look once its totals are known.
pub(crate) enum Risks {
    /// All held.
    Held(Hits),
    /// To be drawn again from this copy of the stream.
    Replay {
        /// The stream as it was before the risks were drawn.
        rng: rng::Rng,
        /// Trials in the batch.
        n: usize,
    },
}

impl Risks {
    /// Gives each risk's trials and costs to `f`, in register order.
    pub(crate) fn visit(&self, engine: &Engine<'_>, f: &mut RiskVisitor<'_>) {
        match self {
            Risks::Held(h) => {
                for i in 0..h.risks() {
                    let (t, c) = h.risk(i);
                    f(i, t, c);
                }
            }
            Risks::Replay { rng, n } => {
                engine.each_risk(*n, &mut rng.clone(), f);
            }
        }
    }
}

/// A risk's moments over all `n` trials of a batch, from its costs in the trials in which it
/// happens (zero in the others).
fn hit_moments(n: usize, costs: &[f64]) -> Moments {
    column_moments(n, &[costs]).0[0]
}

/// Each held risk's [`hit_moments`], bit for bit, with four risks' sums taken at a time so
/// that their chains of additions overlap instead of each waiting on the last (see
/// [`column_sums`]).
fn held_moments(n: usize, hits: &Hits) -> Vec<Moments> {
    let columns: Vec<&[f64]> = (0..hits.risks()).map(|i| hits.risk(i).1).collect();
    column_moments(n, &columns).0
}

/// The moments over `n` trials of each column's values (zero in the trials it has no value
/// for), by two passes (the mean, then squared deviations from it) of [`column_sums`]; and
/// each column's sum.
fn column_moments(n: usize, columns: &[&[f64]]) -> (Vec<Moments>, Vec<f64>) {
    if n == 0 {
        return (
            vec![Moments::default(); columns.len()],
            vec![0.0; columns.len()],
        );
    }
    let sums = column_sums(columns, |_, x| x);
    let means: Vec<f64> = sums.iter().map(|s| s / n as f64).collect();
    let squares = column_sums(columns, |i, x| (x - means[i]) * (x - means[i]));
    let moments = columns
        .iter()
        .zip(means.iter().zip(squares))
        .map(|(values, (&mean, m2))| Moments {
            n: n as u64,
            mean,
            m2: m2 + (n - values.len()) as f64 * mean * mean,
        })
        .collect();
    (moments, sums)
}

/// `Iterator::sum` of `f(i, x)` over each column `i`'s values, in order from `-0.0`: the same
/// bits as a column at a time, but four columns (of about the same length) at a time in one
/// loop while all four last.
fn column_sums(columns: &[&[f64]], f: impl Fn(usize, f64) -> f64) -> Vec<f64> {
    let mut sums = vec![-0.0; columns.len()];
    let mut order: Vec<usize> = (0..columns.len()).collect();
    order.sort_by_key(|&i| columns[i].len());
    for block in order.chunks(4) {
        let mut done = 0;
        if let &[a, b, c, d] = block {
            // The shortest first: all four last for its length.
            done = columns[a].len();
            let (ca, cb, cc, cd) = (
                &columns[a][..done],
                &columns[b][..done],
                &columns[c][..done],
                &columns[d][..done],
            );
            let mut s = [-0.0f64; 4];
            for j in 0..done {
                s[0] += f(a, ca[j]);
                s[1] += f(b, cb[j]);
                s[2] += f(c, cc[j]);
                s[3] += f(d, cd[j]);
            }
            for (&i, s) in block.iter().zip(s) {
                sums[i] = s;
            }
        }
        for &i in block {
            for &x in &columns[i][done..] {
                sums[i] += f(i, x);
            }
        }
    }
    sums
}

/// Per-risk cost sums of the trials whose plan total falls in one sketch bucket.
/// In key order: `keys[s]`, the number of trials `counts[s]`, and the risks' sums
/// `sums[s * risks..(s + 1) * risks]`.
#[derive(Default)]
struct Candidates {
    keys: Vec<i64>,
    counts: Vec<u64>,
    sums: Vec<f64>,
}

impl Candidates {
    /// Merges `later` into `self` (see [`Candidates::merge_all`]).
    fn merge(self, later: Candidates) -> Candidates {
        Candidates::merge_all(vec![self, later])
    }

    /// `parts` merged in one walk of their key lists: a key's sums are added in the order of
    /// `parts` (the first copied), which gives the bits of merging them two at a time in turn,
    /// without copying the earlier ones' sums again for each.
    fn merge_all(parts: Vec<Candidates>) -> Candidates {
        let mut parts: Vec<Candidates> = parts.into_iter().filter(|c| !c.keys.is_empty()).collect();
        if parts.len() <= 1 {
            return parts.pop().unwrap_or_default();
        }
        let r = parts[0].sums.len() / parts[0].keys.len();
        let keys: usize = parts.iter().map(|c| c.keys.len()).sum();
        let mut out = Candidates {
            keys: Vec::with_capacity(keys),
            counts: Vec::with_capacity(keys),
            sums: Vec::with_capacity(keys * r),
        };
        let mut at = vec![0; parts.len()];
        while let Some(key) = parts
            .iter()
            .zip(&at)
            .filter_map(|(c, &i)| c.keys.get(i))
            .min()
        {
            let key = *key;
            let start = out.sums.len();
            let mut count = 0;
            for (c, i) in parts.iter().zip(&mut at) {
                if c.keys.get(*i) != Some(&key) {
                    continue;
                }
                let sums = &c.sums[*i * r..(*i + 1) * r];
                if out.sums.len() == start {
                    out.sums.extend_from_slice(sums);
                } else {
                    out.sums[start..]
                        .iter_mut()
                        .zip(sums)
                        .for_each(|(o, x)| *o += x);
                }
                count += c.counts[*i];
                *i += 1;
            }
            out.keys.push(key);
            out.counts.push(count);
        }
        out
    }
}

#[derive(Default)]
struct BatchOut {
    candidates: Candidates,
    period_moments: Vec<Moments>,
    sketches: Vec<Sketch>,
    risk_moments: Vec<Moments>,
    tail_count: u64,
    tail_sums: Vec<f64>,
    table: Option<TrialTable>,
    /// Held batches' risk draws and plan totals, in batch order.
    held: Vec<(Risks, Vec<f64>)>,
}

fn add_into(acc: &mut Vec<f64>, other: &[f64]) {
    if acc.is_empty() {
        acc.extend_from_slice(other);
    } else {
        for (a, x) in acc.iter_mut().zip(other) {
            *a += x;
        }
    }
}

fn merge_moments(acc: &mut Vec<Moments>, other: &[Moments]) {
    if acc.is_empty() {
        acc.extend_from_slice(other);
    } else {
        for (a, o) in acc.iter_mut().zip(other) {
            a.merge(o);
        }
    }
}

impl BatchOut {
    /// Merges `later` (the results of later batches) into `self`. Floating-point sums depend on
    /// the order of merging, so batches are always merged in the same tree (see `run_all`).
    fn merge(mut self, later: BatchOut) -> BatchOut {
        merge_moments(&mut self.period_moments, &later.period_moments);
        merge_moments(&mut self.risk_moments, &later.risk_moments);
        if self.sketches.is_empty() {
            self.sketches = later.sketches;
        } else {
            for (s, o) in self.sketches.iter_mut().zip(&later.sketches) {
                s.merge(o);
            }
        }
        self.tail_count += later.tail_count;
        add_into(&mut self.tail_sums, &later.tail_sums);
        match (&mut self.table, later.table) {
            (Some(t), Some(o)) => {
                t.periods.extend(o.periods);
                t.risks.extend(o.risks);
            }
            (None, Some(o)) => self.table = Some(o),
            _ => {}
        }
        self.candidates = std::mem::take(&mut self.candidates).merge(later.candidates);
        self.held.extend(later.held);
        self
    }
}

impl<'a> Engine<'a> {
    pub(crate) fn new(register: &'a RiskRegister, options: &SimulationOptions) -> Engine<'a> {
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
        let mut engine = Engine {
            compiled,
            impacts,
            members,
            thresholds,
            cholesky,
            years: register.horizon().len(),
            seed: options.seed,
            trials: options.trials,
            streams: false,
        };
        engine.streams = engine.expected_hits(BATCH_SIZE) * HIT_BYTES > stream_above();
        engine
    }

    fn batches(&self) -> u64 {
        self.trials.div_ceil(BATCH_SIZE as u64)
    }

    /// The latent normals of the correlated risks for a batch, member-major (`z[s * n + j]`):
    /// independent normals drawn trial by trial, `k` for each, then each member's row of the
    /// Cholesky factor applied to them a member at a time (the terms added in the order of
    /// the factor's columns, as a dot product would add them, over the whole batch at once).
    fn latents(&self, n: usize, rng: &mut rng::Rng) -> Vec<f64> {
        let k = self.members.len();
        let normal = Normal::standard();
        let mut z = vec![0.0; k * n];
        // On a local copy of the generator, so that its state stays in registers.
        let mut r = rng.clone();
        for j in 0..n {
            for c in 0..k {
                z[c * n + j] = normal.sample(&mut r);
            }
        }
        *rng = r;
        // From the last member up, so that the normals a row needs are not yet overwritten.
        let mut row = vec![0.0; n];
        for s in (0..k).rev() {
            let factor = &self.cholesky[s * k..s * k + s + 1];
            for (acc, e) in row.iter_mut().zip(&z[..n]) {
                *acc = factor[0] * e;
            }
            for (c, &l) in factor.iter().enumerate().skip(1) {
                for (acc, e) in row.iter_mut().zip(&z[c * n..(c + 1) * n]) {
                    *acc += l * e;
                }
            }
            z[s * n..(s + 1) * n].copy_from_slice(&row);
        }
        z
    }

    /// Appends the trials in which risk `i` happens, and its cost in each, to `out`: first
    /// which trials it happens in (one 64-bit draw each, compared as an integer with
    /// `p * 2^64`, in a branch-free loop), then an impact for each of those trials.
    fn cost_column(&self, i: usize, n: usize, rng: &mut rng::Rng, out: &mut Hits) {
        let c = &self.compiled[i];
        let impact = self.impacts[i];
        let base = out.trial.len();
        out.trial.resize(base + n + 1, 0);
        let threshold = occurrence_threshold(c.probability);
        let hits = &mut out.trial[base..];
        let mut count = 0;
        // On a local copy of the generator, so that its state stays in registers.
        let mut r = rng.clone();
        if c.probability >= 1.0 {
            for (j, h) in hits[..n].iter_mut().enumerate() {
                *h = j as u32;
                let _ = r.next_u64();
            }
            count = n;
        } else {
            for j in 0..n {
                hits[count] = j as u32;
                count += usize::from(r.next_u64() < threshold);
            }
        }
        *rng = r;
        out.trial.truncate(base + count);
        let from = out.cost.len();
        out.cost.resize(from + count, 0.0);
        let costs = &mut out.cost[from..];
        impact.draw_into(rng, costs);
        for x in costs {
            *x = (c.share * *x).min(c.cap);
        }
    }

    /// Appends correlated risk `i` (member `s`) by Iman-Conover: the impacts of the trials in
    /// which it happens are drawn independently, sorted, and given out in the order of the
    /// latents.
    fn correlated_column(&self, i: usize, s: usize, z: &[f64], rng: &mut rng::Rng, out: &mut Hits) {
        let n = z.len() / self.members.len();
        let c = &self.compiled[i];
        let latent = &z[s * n..(s + 1) * n];
        let threshold = self.thresholds[s];
        // The trials in which the risk happens, in trial order, found without a branch; with
        // each, its latent's order-preserving bits (top 52) packed with its place in that list
        // (low 12 bits, as n <= 4096), to be sorted as plain integers. The place rises with
        // the trial, so ties in the top bits are broken by trial.
        let base = out.trial.len();
        out.trial.resize(base + n + 1, 0);
        let trials = &mut out.trial[base..];
        let mut order = vec![0u64; n + 1];
        let mut count = 0;
        for (j, &v) in latent.iter().enumerate() {
            trials[count] = j as u32;
            order[count] = (sketch::ordered_bits(v) & !TRIAL_MASK) | count as u64;
            count += usize::from(v > threshold);
        }
        out.trial.truncate(base + count);
        order.truncate(count);
        order.sort_unstable();
        let mut draws = vec![0.0; count];
        self.impacts[i].draw_into(rng, &mut draws);
        sketch::sort_floats(&mut draws);
        // The k-th smallest impact to the trial with the k-th smallest latent.
        let from = out.cost.len();
        out.cost.resize(from + count, 0.0);
        let costs = &mut out.cost[from..];
        for (&h, &x) in order.iter().zip(&draws) {
            costs[(h & TRIAL_MASK) as usize] = (c.share * x).min(c.cap);
        }
    }

    /// What the engine knows of each risk.
    pub(crate) fn compiled(&self) -> &[Compiled] {
        &self.compiled
    }

    /// Draws each risk's costs in a batch of `n` trials from `rng` (the correlated risks'
    /// latents first, then each risk in register order) and gives them to `f` one risk at a
    /// time, as the trials in which it happens and its cost in each; returns the copula
    /// members' latents (`[slot * n + trial]`: a higher latent is a costlier outcome). Only one risk's draws are held at a time.
    pub(crate) fn each_risk(
        &self,
        n: usize,
        rng: &mut rng::Rng,
        f: &mut RiskVisitor<'_>,
    ) -> Vec<f64> {
        let z = if self.members.is_empty() {
            Vec::new()
        } else {
            self.latents(n, rng)
        };
        let mut column = Hits {
            trial: Vec::with_capacity(n + 1),
            cost: Vec::with_capacity(n),
            start: vec![0],
        };
        let mut next_member = 0;
        for i in 0..self.compiled.len() {
            column.trial.clear();
            column.cost.clear();
            if self.members.get(next_member) == Some(&i) {
                self.correlated_column(i, next_member, &z, rng, &mut column);
                next_member += 1;
            } else {
                self.cost_column(i, n, rng, &mut column);
            }
            f(i, &column.trial, &column.cost);
        }
        z
    }

    /// The trials in which each risk happens and its cost in them, all held (drawn as
    /// [`Engine::each_risk`] draws them), and the copula members' latents.
    pub(crate) fn risk_hits(&self, n: usize, rng: &mut rng::Rng) -> (Hits, Vec<f64>) {
        let expected = self.expected_hits(n);
        let mut hits = Hits {
            trial: Vec::with_capacity(expected + n + 1),
            cost: Vec::with_capacity(expected),
            start: Vec::with_capacity(self.compiled.len() + 1),
        };
        hits.start.push(0);
        let z = if self.members.is_empty() {
            Vec::new()
        } else {
            self.latents(n, rng)
        };
        // Drawn straight into the held columns, in the order of `each_risk`.
        let mut next_member = 0;
        for i in 0..self.compiled.len() {
            if self.members.get(next_member) == Some(&i) {
                self.correlated_column(i, next_member, &z, rng, &mut hits);
                next_member += 1;
            } else {
                self.cost_column(i, n, rng, &mut hits);
            }
            hits.start.push(hits.trial.len());
        }
        (hits, z)
    }

    /// About how many (risk, trial) pairs in `n` trials have a cost.
    fn expected_hits(&self, n: usize) -> usize {
        let p: f64 = self.compiled.iter().map(|c| c.probability).sum();
        (p * n as f64 * 1.05) as usize + 64
    }

    /// Draws a batch's risks from `rng`, giving each to `f` (see [`Engine::each_risk`]), and
    /// returns them for a second look: held, or (when the engine streams: see [`MAX_HITS_BYTES`])
    /// as a copy of the stream that draws them again, the same draws; and the copula members'
    /// latents.
    pub(crate) fn draw_risks(
        &self,
        n: usize,
        rng: &mut rng::Rng,
        f: &mut RiskVisitor<'_>,
    ) -> (Risks, Vec<f64>) {
        if !self.streams {
            let (hits, z) = self.risk_hits(n, rng);
            for i in 0..hits.risks() {
                let (t, c) = hits.risk(i);
                f(i, t, c);
            }
            (Risks::Held(hits), z)
        } else {
            let replay = rng.clone();
            let z = self.each_risk(n, rng, f);
            (Risks::Replay { rng: replay, n }, z)
        }
    }

    /// Where risk `i`'s latent is in [`Engine::each_risk`]'s latents, if it is a
    /// member of the copula.
    pub(crate) fn member_slot(&self, i: usize) -> Option<usize> {
        self.members.iter().position(|&m| m == i)
    }

    /// The copula members' latent correlation between slots `s` and `t`.
    pub(crate) fn latent_correlation(&self, s: usize, t: usize) -> f64 {
        let k = self.members.len();
        // L L^T, row s times row t of the lower factor.
        (0..=s.min(t))
            .map(|c| self.cholesky[s * k + c] * self.cholesky[t * k + c])
            .sum()
    }

    /// The per-risk cost sums of a batch's trials whose plan total is at or above `floor`, by
    /// sketch bucket of the plan total.
    fn candidates(&self, risks: &Risks, plan: &[f64], floor: f64) -> Candidates {
        let n = plan.len();
        let r = self.compiled.len();
        // Each candidate trial's slot: one per bucket of the plan total, in key order.
        let mut keyed: Vec<(i64, u32)> = plan
            .iter()
            .enumerate()
            .filter(|(_, x)| **x >= floor)
            .map(|(j, x)| (sketch::key(*x), j as u32))
            .collect();
        keyed.sort_unstable();
        let mut slot = vec![u32::MAX; n];
        let mut keys: Vec<(i64, u64)> = Vec::new();
        for &(k, j) in &keyed {
            match keys.last_mut() {
                Some(last) if last.0 == k => last.1 += 1,
                _ => keys.push((k, 1)),
            }
            slot[j as usize] = (keys.len() - 1) as u32;
        }
        let mut sums = vec![0.0; keys.len() * r];
        // A risk's candidate costs are picked out without a branch (about one trial in ten
        // is a candidate, at random), then added in trial order.
        let (mut picked_slot, mut picked_cost) = (Vec::new(), Vec::new());
        risks.visit(self, &mut |i, trials, costs| {
            picked_slot.resize(trials.len() + 1, 0);
            picked_cost.resize(trials.len() + 1, 0.0);
            let mut count = 0;
            for (&j, &x) in trials.iter().zip(costs) {
                let s = slot[j as usize];
                picked_slot[count] = s;
                picked_cost[count] = x;
                count += usize::from(s != u32::MAX);
            }
            for (&s, &x) in picked_slot[..count].iter().zip(&picked_cost[..count]) {
                sums[s as usize * r + i] += x;
            }
        });
        Candidates {
            keys: keys.iter().map(|k| k.0).collect(),
            counts: keys.iter().map(|k| k.1).collect(),
            sums,
        }
    }

    /// Runs batch `b`. With `tail = Some(t)`, only the tail statistics (plan total >= t) are
    /// gathered; otherwise everything else.
    ///
    /// Layout: risk costs are sparse ([`Hits`]), totals period-major (`totals[t * n + j]`, the
    /// plan total last).
    fn run_batch(&self, b: u64, want: Want, banks: &Banks) -> BatchOut {
        let start = b * BATCH_SIZE as u64;
        let n = (self.trials - start).min(BATCH_SIZE as u64) as usize;
        let r = self.compiled.len();
        let years = self.years;
        let mut rng = rng::stream(self.seed, b);

        let mut totals = vec![0.0; (years + 1) * n];
        let mut risk_moments = Vec::new();
        let (risks, _) = self.draw_risks(n, &mut rng, &mut |i, trials, costs| {
            for &(t, f) in &self.compiled[i].spread {
                let row = &mut totals[t * n..(t + 1) * n];
                for (&j, &x) in trials.iter().zip(costs) {
                    row[j as usize] += f * x;
                }
            }
            // Held risks' moments are taken together, below.
            if want.stats && self.streams {
                risk_moments.push(hit_moments(n, costs));
            }
        });
        if let (true, Risks::Held(hits)) = (want.stats, &risks) {
            risk_moments = held_moments(n, hits);
        }
        let (by_year, plan) = totals.split_at_mut(years * n);
        for t in 0..years {
            for (acc, x) in plan.iter_mut().zip(&by_year[t * n..(t + 1) * n]) {
                *acc += x;
            }
        }

        let mut out = BatchOut::default();
        if let Some(floor) = want.candidates {
            out.candidates = self.candidates(&risks, plan, floor);
        }
        if let Some(threshold) = want.tail {
            out.tail_count = plan.iter().filter(|x| **x >= threshold).count() as u64;
            out.tail_sums = vec![0.0; r];
            risks.visit(self, &mut |i, trials, costs| {
                out.tail_sums[i] = trials
                    .iter()
                    .zip(costs)
                    .filter(|(j, _)| plan[**j as usize] >= threshold)
                    .map(|(_, x)| x)
                    .sum();
            });
        }
        if !want.stats {
            return out;
        }
        out.risk_moments = risk_moments;
        // Each period's moments, and its sum for its sketch.
        let rows: Vec<&[f64]> = totals.chunks_exact(n).collect();
        let (period_moments, sums) = column_moments(n, &rows);
        out.period_moments = period_moments;
        if want.keep {
            // Row-major trial tables: years then the total; and each risk's plan cost.
            let mut periods = vec![0.0; n * (years + 1)];
            for (t, row) in totals.chunks_exact(n).enumerate() {
                for (j, x) in row.iter().enumerate() {
                    periods[j * (years + 1) + t] = *x;
                }
            }
            let mut table = vec![0.0; n * r];
            risks.visit(self, &mut |i, trials, costs| {
                let factor: f64 = self.compiled[i].spread.iter().map(|s| s.1).sum();
                for (&j, &x) in trials.iter().zip(costs) {
                    table[j as usize * r + i] = x * factor;
                }
            });
            out.table = Some(TrialTable {
                periods,
                risks: table,
            });
        }
        out.sketches = sums.iter().map(|&s| Sketch::tallied(n as u64, s)).collect();
        banks.with(years + 1, |banks| {
            for (bank, row) in banks.iter_mut().zip(totals.chunks_exact(n)) {
                bank.add(row);
            }
        });
        if want.hold {
            out.held.push((risks, totals[years * n..].to_vec()));
        }
        out
    }

    /// Runs batches `range` (see [`run_tree`], with `idle`) and merges the result into `acc`.
    fn run_all(
        &self,
        pool: &rayon::ThreadPool,
        range: std::ops::Range<u64>,
        (want, idle): (Want, Idle<'_>),
        banks: &Banks,
        progress: &mut dyn FnMut(u64) -> ControlFlow<()>,
        acc: &mut BatchOut,
    ) -> Result<(), SimulationError> {
        let mut stopped = false;
        let mut step = |k: u64| {
            let flow = progress(k);
            stopped |= flow.is_break();
            flow
        };
        let merged = run_tree(
            pool,
            range,
            &|b| self.run_batch(b, want, banks),
            &BatchOut::merge,
            idle,
            &mut step,
        );
        if stopped {
            return Err(SimulationError::Interrupted);
        }
        if let Some(m) = merged {
            *acc = std::mem::take(acc).merge(m);
        }
        if want.stats {
            // The pilot needs only the plan total's buckets (for its floor); the others
            // wait in the banks for the end of the run.
            let skip = if want.hold {
                acc.sketches.len().saturating_sub(1)
            } else {
                0
            };
            banks.fill_on(
                pool,
                acc.sketches.iter_mut().enumerate().skip(skip).collect(),
            );
        }
        Ok(())
    }
}

/// Jobs for a run's threads to take up when they find no batch to run (see [`run_tree`]):
/// `job(k)` for `k` in `0..count`.
#[derive(Clone, Copy)]
pub(crate) struct Idle<'a> {
    pub(crate) job: &'a (dyn Fn(usize) + Sync),
    pub(crate) count: usize,
}

impl Idle<'_> {
    /// No such jobs.
    pub(crate) const NONE: Idle<'static> = Idle {
        job: &|_| {},
        count: 0,
    };
}

/// Runs `batch` on batches `range` on `pool` and merges their outputs in a fixed binary tree
/// over batch numbers (each range split at its midpoint; the earlier half merged first), so
/// that every floating-point sum is taken in the same order whatever the number of threads.
/// There is no barrier between batches: idle threads steal the next subtree.
///
/// `idle.job(k)`, for `k` in `0..idle.count`, runs as well, each when a thread finds no batch
/// to run or to steal (a pool takes up jobs from outside it last), so that such jobs fill
/// the threads' wait for the last batches; the tree's result is given when they are done too.
///
/// `progress(batches done)` is called on the calling thread as batches finish; returning
/// `ControlFlow::Break` stops the run (batches not yet started are skipped) with `Ok(None)`.
pub(crate) fn run_tree<T: Send>(
    pool: &rayon::ThreadPool,
    range: std::ops::Range<u64>,
    batch: &(dyn Fn(u64) -> T + Sync),
    merge: &(dyn Fn(T, T) -> T + Sync),
    idle: Idle<'_>,
    progress: &mut dyn FnMut(u64) -> ControlFlow<()>,
) -> Option<T> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc;

    fn tree<T: Send>(
        lo: u64,
        hi: u64,
        batch: &(dyn Fn(u64) -> T + Sync),
        merge: &(dyn Fn(T, T) -> T + Sync),
        stop: &AtomicBool,
        done: &mpsc::Sender<()>,
    ) -> Option<T> {
        if hi - lo == 1 {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let out = batch(lo);
            // The receiver is gone only when the run is over.
            let _ = done.send(());
            return Some(out);
        }
        let mid = lo + (hi - lo) / 2;
        let done_b = done.clone();
        let (a, b) = rayon::join(
            || tree(lo, mid, batch, merge, stop, done),
            || tree(mid, hi, batch, merge, stop, &done_b),
        );
        Some(merge(a?, b?))
    }

    if range.is_empty() && idle.count == 0 {
        return None;
    }
    let stop = AtomicBool::new(false);
    let result = Mutex::new(None);
    let (tx, rx) = mpsc::channel();
    pool.in_place_scope(|scope| {
        let (stop, result) = (&stop, &result);
        if range.is_empty() {
            drop(tx);
        } else {
            scope.spawn(move |_| {
                let out = tree(range.start, range.end, batch, merge, stop, &tx);
                *result.lock().unwrap_or_else(|e| e.into_inner()) = out;
            });
        }
        // Spawned from outside the pool, after the tree: its threads take them up when they
        // have no batch of their own and none to steal.
        for k in 0..idle.count {
            scope.spawn(move |_| (idle.job)(k));
        }
        // Every sender is dropped when the tree is done, which ends this loop. Progress is
        // told at most every 50 ms, and at the end.
        // Once told to stop, it is not called again.
        let mut pending = 0;
        let mut told = std::time::Instant::now();
        for () in rx.iter() {
            pending += 1;
            if told.elapsed().as_millis() >= 50 && !stop.load(Ordering::Relaxed) {
                told = std::time::Instant::now();
                if progress(std::mem::take(&mut pending)).is_break() {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        }
        if pending > 0 && !stop.load(Ordering::Relaxed) && progress(pending).is_break() {
            stop.store(true, Ordering::Relaxed);
        }
    });
    if stop.load(Ordering::Relaxed) {
        return None;
    }
    result.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// The one check of a run's options, used by every simulation (registers and plans): trials in
/// 1 to [`MAX_TRIALS`], threads (when given) in 1 to [`MAX_THREADS`].
pub fn check_run(trials: u64, threads: Option<usize>) -> Result<(), SimulationError> {
    if trials == 0 || trials > MAX_TRIALS {
        return Err(SimulationError::Trials { value: trials });
    }
    if let Some(t) = threads
        && (t == 0 || t > MAX_THREADS)
    {
        return Err(SimulationError::Threads { value: t });
    }
    Ok(())
}

/// The working set the default thread count may use in all (4 GiB): at the documented limits
/// a batch needs about 0.9 GiB per thread, so a many-core machine's default must not be one
/// thread per core.
pub const DEFAULT_WORKING_SET: usize = 4 << 30;

/// The default thread count: one per core, but no more than [`DEFAULT_WORKING_SET`] divided
/// by the estimated working set of one thread (at least one). The numbers a seed gives do not
/// depend on it.
pub fn default_threads(cores: usize, per_thread_bytes: usize) -> usize {
    let fit = DEFAULT_WORKING_SET / per_thread_bytes.max(1);
    cores.min(fit).max(1)
}

/// The estimated working set of one thread running a batch with `columns` per-trial columns of
/// floats (costs, parts of the gap, balances): `BATCH_SIZE` trials of 8 bytes each, doubled
/// for the sorts of the sketches.
pub fn batch_bytes(columns: usize) -> usize {
    BATCH_SIZE * 8 * 2 * columns.max(1)
}

/// The thread pool of a checked run (`None`: [`default_threads`] for a working set of
/// `per_thread_bytes` a thread).
pub(crate) fn thread_pool(
    threads: Option<usize>,
    per_thread_bytes: usize,
) -> Result<std::sync::Arc<rayon::ThreadPool>, SimulationError> {
    use std::sync::{Arc, Mutex, OnceLock};
    // The last pool made is kept for the next run with as many threads: its threads, and
    // their allocators' memory, are warm (a new pool's first batches run about half as fast).
    static LAST: OnceLock<Mutex<Option<Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let count = threads.unwrap_or_else(|| default_threads(cores, per_thread_bytes));
    let mut last = LAST
        .get_or_init(|| Mutex::new(None))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(pool) = last.as_ref().filter(|p| p.current_num_threads() == count) {
        return Ok(Arc::clone(pool));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(count)
        .build()
        .map_err(|e| SimulationError::ThreadPool {
            threads: threads.unwrap_or(0),
            message: e.to_string(),
        })?;
    let pool = Arc::new(pool);
    *last = Some(Arc::clone(&pool));
    Ok(pool)
}

/// Simulates `register` with `options`.
pub fn simulate(
    register: &RiskRegister,
    options: &SimulationOptions,
) -> Result<SimulationResult, SimulationError> {
    simulate_with_progress(register, options, &mut |_, _| ControlFlow::Continue(()))
}

/// Simulates `register`, calling `progress(work_done, work_total)` on the calling thread as
/// batches finish (at most every 50 ms); returning `ControlFlow::Break` stops the run with
/// [`SimulationError::Interrupted`].
pub fn simulate_with_progress(
    register: &RiskRegister,
    options: &SimulationOptions,
    progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
) -> Result<SimulationResult, SimulationError> {
    run(register, options, progress, PILOT_FLOOR)
}

/// The engine, with the pilot's floor quantile as a parameter so that tests can force the
/// exact fallback pass.
fn run(
    register: &RiskRegister,
    options: &SimulationOptions,
    progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    pilot_floor: f64,
) -> Result<SimulationResult, SimulationError> {
    check_run(options.trials, options.threads)?;
    let years = register.horizon().len();
    let r = register.risks().len();
    if options.keep_trials {
        let cells = options.trials.saturating_mul((r + years + 1) as u64);
        if cells > MAX_KEPT_CELLS {
            return Err(SimulationError::TooManyCells { cells });
        }
    }
    let pool = thread_pool(options.threads, batch_bytes(3 * r + 4 * (years + 1)))?;
    let engine = Engine::new(register, options);
    let batches = engine.batches();
    // The period sketches' buckets, counted by thread across the pilot and the main pass.
    // Each gathers four batches' values before it counts them (see `Bank::with_limit`): a
    // register has few sketches, and counting 16,384 values at a time keeps a bank's cells
    // in cache for more of them.
    let banks = Banks::new(pool.current_num_threads(), 4 * BATCH_SIZE);

    let mut acc = BatchOut::default();
    // Work is counted in batches run.
    let pilot = PILOT_BATCHES.min(batches);
    let work = batches;
    let mut done = 0;
    let mut step = |k: u64| {
        done += k;
        progress(done, work)
    };
    let stats = Want {
        stats: true,
        keep: options.keep_trials,
        candidates: None,
        tail: None,
        hold: false,
    };
    // 1. A pilot of the first batches sets a floor below which no trial can be in the tail
    //    (its P90, almost surely below the run's P95). Its batches hold their draws.
    let first = Want {
        hold: true,
        ..stats
    };
    engine.run_all(
        &pool,
        0..pilot,
        (first, Idle::NONE),
        &banks,
        &mut step,
        &mut acc,
    )?;
    let floor = acc.sketches[years].quantile(pilot_floor);
    // 2. The other batches, gathering per-risk sums of the trials above the floor, by bucket
    //    of the plan total; and the pilot's, from their held draws, as threads run out of
    //    batches; merged in batch order.
    let main = Want {
        candidates: Some(floor),
        ..stats
    };
    let held = std::mem::take(&mut acc.held);
    let pilot_candidates: Vec<std::sync::OnceLock<Candidates>> =
        held.iter().map(|_| std::sync::OnceLock::new()).collect();
    let pilot_job = |k: usize| {
        let (risks, plan) = &held[k];
        let _ = pilot_candidates[k].set(engine.candidates(risks, plan, floor));
    };
    let idle = Idle {
        job: &pilot_job,
        count: held.len(),
    };
    engine.run_all(
        &pool,
        pilot..batches,
        (main, idle),
        &banks,
        &mut step,
        &mut acc,
    )?;
    let mut parts = vec![std::mem::take(&mut acc.candidates)];
    parts.extend(pilot_candidates.into_iter().map(|c| {
        c.into_inner()
            .expect("the run waits for every pilot batch's candidates")
    }));
    acc.candidates = Candidates::merge_all(parts);
    // 3. The tail: trials in the P95's bucket or above, i.e. at or above the smallest plan
    //    total in that bucket (a value within 2^-10 of the P95 and not above it).
    let n = options.trials;
    let tail_threshold = acc.sketches[years].bucket_min_at_rank((0.95 * n as f64).ceil() as u64);
    let mut tail_count = 0;
    let mut tail_sums = Vec::new();
    if tail_threshold >= floor {
        let c = &acc.candidates;
        let first = c.keys.partition_point(|&k| k < sketch::key(tail_threshold));
        for s in first..c.keys.len() {
            tail_count += c.counts[s];
            add_into(&mut tail_sums, &c.sums[s * r..(s + 1) * r]);
        }
    } else {
        // The pilot's floor was above the tail after all: one more exact pass over every batch.
        let exact = Want {
            stats: false,
            keep: false,
            candidates: None,
            tail: Some(tail_threshold),
            hold: false,
        };
        let mut step = |_| progress(work, work);
        let mut out = BatchOut::default();
        engine.run_all(
            &pool,
            0..batches,
            (exact, Idle::NONE),
            &banks,
            &mut step,
            &mut out,
        )?;
        tail_count = out.tail_count;
        tail_sums = out.tail_sums;
    }

    banks.recycle();
    Sketch::compact_on(&pool, acc.sketches.iter_mut().collect());
    tail_sums.resize(r, 0.0);
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
        moments: acc.period_moments,
        sketches: acc.sketches,
        risk_moments: acc.risk_moments,
        risk_spread: engine.compiled.iter().map(|c| c.spread.clone()).collect(),
        tail_threshold,
        tail_count,
        tail_sums,
        trial_table: acc.table,
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_thread_count_fits_the_working_set() {
        // The documented limits: 10,000 risks, savings and pressures over 5 years.
        let limits = batch_bytes(2 * 10_000 + 20_000 + 5 * 13);
        assert_eq!(default_threads(64, limits), 1);
        // The reference plan: one thread per core.
        assert_eq!(default_threads(64, batch_bytes(500)), 64);
        assert_eq!(default_threads(2, batch_bytes(500)), 2);
        assert!(
            default_threads(64, batch_bytes(2_000)) * batch_bytes(2_000) <= DEFAULT_WORKING_SET
        );
    }

    use super::*;

    #[test]
    fn a_tree_runs_each_idle_job_once_and_waits_for_them() {
        // Batches that take a while and jobs that take longer: on 1, 2 and 3 threads every job
        // has run exactly once when the tree gives its result, which is the batches' merge
        // in batch order; and so when the run is stopped at its first report, and when there
        // is no batch to run.
        use std::sync::atomic::{AtomicUsize, Ordering};
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for (range, stop_at_once) in [(3..40, false), (3..40, true), (3..3, false)] {
                let runs: Vec<AtomicUsize> = (0..5).map(|_| AtomicUsize::new(0)).collect();
                let job = |k: usize| {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    runs[k].fetch_add(1, Ordering::SeqCst);
                };
                let batch = |b: u64| {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    vec![b]
                };
                let merge = |mut a: Vec<u64>, b: Vec<u64>| {
                    a.extend(b);
                    a
                };
                let idle = Idle {
                    job: &job,
                    count: 5,
                };
                let out = run_tree(&pool, range.clone(), &batch, &merge, idle, &mut |_| {
                    if stop_at_once {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                });
                assert!(runs.iter().all(|r| r.load(Ordering::SeqCst) == 1));
                if !stop_at_once {
                    let all: Vec<u64> = range.clone().collect();
                    assert_eq!(out, (!all.is_empty()).then_some(all));
                }
            }
        }
    }

    /// Three risks: a correlated PERT and log-normal, and a recurring fixed cost.
    fn three_risks() -> RiskRegister {
        toml::from_str(
            r#"
first_year = "2019/20"
years = 2
correlations = [["a", "b", 0.5]]
[[risks]]
id = "a"
name = "A"
probability = 0.3
impact = { dist = "pert", low = 1.0, mode = 2.0, high = 9.0 }
[[risks]]
id = "b"
name = "B"
probability = 0.6
impact = { dist = "lognormal", p50 = 3.0, p90 = 7.0 }
profile = { "2020/21" = 1.0 }
[[risks]]
id = "c"
name = "C"
probability = 0.5
impact = { dist = "fixed", value = 4 }
recurring = true
"#,
        )
        .unwrap()
    }

    #[test]
    fn candidates_merge_in_one_walk_as_they_would_two_at_a_time() {
        // Parts with shared and own keys, empty parts, and sums whose rounding depends on the
        // order of addition: each key's count, and its sums added in the parts' order (the
        // first present copied, so -0.0 stays -0.0), as a map built part by part gives.
        let part = |keys: &[i64], seed: f64| Candidates {
            keys: keys.to_vec(),
            counts: keys.iter().map(|&k| k.unsigned_abs() + 1).collect(),
            sums: keys
                .iter()
                .flat_map(|&k| [seed, -0.0, seed / 3.0 + k as f64 * 0.1])
                .collect(),
        };
        let parts = vec![
            // 1e16 + 1.0 + 1.0 is 1e16; 1.0 + 1.0 + 1e16 is not.
            part(&[-5, 0, 3, 9], 1e16),
            Candidates::default(),
            part(&[0, 4, 9], 1.0),
            part(&[-7, 3, 9, 12], 1.0),
            part(&[9], 0.7),
        ];
        let mut expected: std::collections::BTreeMap<i64, (u64, Vec<f64>)> = Default::default();
        for c in &parts {
            for (s, &k) in c.keys.iter().enumerate() {
                let sums = &c.sums[3 * s..3 * s + 3];
                let e = expected.entry(k).or_insert((0, Vec::new()));
                e.0 += c.counts[s];
                if e.1.is_empty() {
                    e.1 = sums.to_vec();
                } else {
                    e.1.iter_mut().zip(sums).for_each(|(a, b)| *a += *b);
                }
            }
        }
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let check = |m: &Candidates| {
            assert_eq!(m.keys, expected.keys().copied().collect::<Vec<_>>());
            assert_eq!(m.counts, expected.values().map(|e| e.0).collect::<Vec<_>>());
            let sums: Vec<f64> = expected.values().flat_map(|e| e.1.clone()).collect();
            assert_eq!(bits(&m.sums), bits(&sums));
        };
        let copy = |c: &Candidates| Candidates {
            keys: c.keys.clone(),
            counts: c.counts.clone(),
            sums: c.sums.clone(),
        };
        check(&Candidates::merge_all(parts.iter().map(copy).collect()));
        let in_turn = parts
            .iter()
            .map(copy)
            .fold(Candidates::default(), Candidates::merge);
        check(&in_turn);
    }

    #[test]
    fn tail_from_candidates_equals_the_exact_pass() {
        let reg = three_risks();
        let options = SimulationOptions {
            trials: 50_000,
            seed: 3,
            ..Default::default()
        };
        let go = &mut |_, _| ControlFlow::Continue(());
        let usual = run(&reg, &options, go, PILOT_FLOOR).unwrap();
        // A floor at the pilot's maximum lies above the P95: the exact pass must run.
        let exact = run(&reg, &options, go, 1.0).unwrap();
        assert_eq!(usual.tail_threshold, exact.tail_threshold);
        assert_eq!(usual.tail_count, exact.tail_count);
        for (a, b) in usual.tail_sums.iter().zip(&exact.tail_sums) {
            assert!((a - b).abs() <= 1e-12 * b.abs(), "{a} vs {b}");
        }
        assert_eq!(usual.summary(), exact.summary());
    }

    #[test]
    fn a_correlated_risk_costs_more_where_its_latent_is_higher() {
        let reg = three_risks();
        let options = SimulationOptions::default();
        let engine = Engine::new(&reg, &options);
        let n = BATCH_SIZE;
        let (hits, z) = engine.risk_hits(n, &mut rng::stream(7, 0));
        for (s, &i) in engine.members.iter().enumerate() {
            let latent = &z[s * n..(s + 1) * n];
            let (trials, costs) = hits.risk(i);
            // It happens exactly where its latent is above its threshold, in trial order.
            let above: Vec<u32> = (0..n as u32)
                .filter(|&j| latent[j as usize] > engine.thresholds[s])
                .collect();
            assert_eq!(trials, &above[..]);
            assert!(trials.len() > n / 5, "risk {i}: {} trials", trials.len());
            // Its costs rise with its latent (continuous impacts, no cap: strictly).
            let mut by_latent: Vec<(f64, f64)> = trials
                .iter()
                .zip(costs)
                .map(|(&j, &x)| (latent[j as usize], x))
                .collect();
            by_latent.sort_by(|a, b| a.0.total_cmp(&b.0));
            assert!(by_latent.windows(2).all(|w| w[0].1 < w[1].1), "risk {i}");
        }
        // Equal latents take the impacts in trial order.
        let mut z = vec![0.0; 2 * 8];
        z[..8].fill(1.5);
        let mut out = Hits::default();
        engine.correlated_column(0, 0, &z, &mut rng::stream(7, 1), &mut out);
        assert_eq!(out.trial, (0..8).collect::<Vec<u32>>());
        assert!(out.cost.windows(2).all(|w| w[0] < w[1]), "{:?}", out.cost);
    }

    #[test]
    fn column_sums_are_each_columns_own_sum() {
        use rand::Rng as _;
        let mut rng = rng::stream(11, 0);
        for columns in 0..10 {
            // Lengths from 0 to 40, values of mixed signs and magnitudes, zeros of both signs.
            let data: Vec<Vec<f64>> = (0..columns)
                .map(|_| {
                    let len = (rng.next_u64() % 41) as usize;
                    (0..len)
                        .map(|_| match rng.next_u64() % 8 {
                            0 => 0.0,
                            1 => -0.0,
                            k => (rng.next_u64() as f64 / 3e9 - 3e9) * 10f64.powi(k as i32 - 4),
                        })
                        .collect()
                })
                .collect();
            let slices: Vec<&[f64]> = data.iter().map(Vec::as_slice).collect();
            let plain: Vec<u64> = data
                .iter()
                .map(|c| c.iter().sum::<f64>().to_bits())
                .collect();
            let four: Vec<u64> = column_sums(&slices, |_, x| x)
                .iter()
                .map(|s| s.to_bits())
                .collect();
            assert_eq!(four, plain, "{columns} columns");
            // The column's index reaches the function.
            let scaled: Vec<f64> = data
                .iter()
                .enumerate()
                .map(|(i, c)| c.iter().map(|x| x * i as f64).sum::<f64>())
                .collect();
            let got = column_sums(&slices, |i, x| x * i as f64);
            assert_eq!(
                got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                scaled.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
            );
        }
        // Held risks' moments are each risk's own, bit for bit.
        let reg = three_risks();
        let engine = Engine::new(&reg, &SimulationOptions::default());
        let (hits, _) = engine.risk_hits(1000, &mut rng::stream(5, 0));
        // Each risk's own two passes over its costs, the other trials counting zero.
        let each: Vec<Moments> = (0..3)
            .map(|i| {
                let costs = hits.risk(i).1;
                let mean = costs.iter().sum::<f64>() / 1000.0;
                let m2 = costs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>()
                    + (1000 - costs.len()) as f64 * mean * mean;
                Moments { n: 1000, mean, m2 }
            })
            .collect();
        assert_eq!(held_moments(1000, &hits), each);
        assert_eq!(hit_moments(1000, hits.risk(1).1), each[1]);
    }

    #[test]
    fn a_streamed_batch_gives_the_numbers_of_a_held_one() {
        let reg = three_risks();
        let options = SimulationOptions {
            trials: 30_000,
            seed: 8,
            ..Default::default()
        };
        let held = simulate(&reg, &options).unwrap();
        STREAM_ABOVE.with(|c| c.set(0));
        assert!(Engine::new(&reg, &options).streams);
        let streamed = simulate(&reg, &options).unwrap();
        STREAM_ABOVE.with(|c| c.set(MAX_HITS_BYTES));
        assert_eq!(held, streamed);
        assert!(!Engine::new(&reg, &options).streams);
    }
}
