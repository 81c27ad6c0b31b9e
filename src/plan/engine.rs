//! The Monte Carlo engine of a plan: batches of trials, each year run through the shared
//! ledger ([`super::ledger`]), merged in batch order into accumulators that the results read.

use std::collections::HashMap;
use std::ops::ControlFlow;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Money;

use crate::reserves::Minimum;
use crate::resilience;
use crate::rng;
use crate::simulation::sketch::{Banks, Sketch};
use crate::simulation::{self, BATCH_SIZE, Engine, SimulationOptions};

use super::ledger::{relieved, saving_gap, spread};
use super::spec::{Condition, Linked, PlanError, Scenario};
use super::year::YearIn;

/// The trials that meet a reverse stress test's condition, batch by batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct StressAcc {
    pub(crate) trials: u64,
    /// The set of risks that occurred (a bit per risk) and how many trials had it.
    pub(crate) combinations: HashMap<Vec<u64>, u64>,
    pub(crate) item_sum: Vec<f64>,
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

/// The trials whose cumulative one-off exposure beyond the budget reaches a threshold, batch by
/// batch (only a minimum statement fills it): each input's one-off exposure beyond the budget,
/// summed over all trials and over the trials at or beyond the threshold.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TailAcc {
    pub(crate) trials: u64,
    pub(crate) sum: Vec<f64>,
    pub(crate) tail_sum: Vec<f64>,
}

impl TailAcc {
    fn merge(&mut self, o: TailAcc) {
        self.trials += o.trials;
        if self.sum.is_empty() {
            self.sum = o.sum;
            self.tail_sum = o.tail_sum;
        } else {
            for (a, b) in self.sum.iter_mut().zip(o.sum) {
                *a += b;
            }
            for (a, b) in self.tail_sum.iter_mut().zip(o.tail_sum) {
                *a += b;
            }
        }
    }
}

/// Values kept per trial and year: gap, usable reserves, general fund.
pub(crate) const KEPT: usize = 3;
/// Kept flag: the general fund ends the year below its minimum.
pub(crate) const BELOW_MINIMUM: u8 = 1;
/// Kept flag: usable reserves have been exhausted by the year's end.
pub(crate) const EXHAUSTED: u8 = 2;
/// Kept flag: the balanced-budget test fails at the year's end (see `p_s114`).
pub(crate) const S114: u8 = 4;

/// What a run gathers beyond the statistics every run keeps.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Want {
    /// Describe the trials meeting this reverse stress condition.
    pub(crate) stress: Option<Condition>,
    /// Keep each trial's values by year (the trial table).
    pub(crate) keep: bool,
    /// Gather the MTFS columns' distributions (`PlanResult::mtfs`).
    pub(crate) mtfs: bool,
    /// Itemise the one-off exposure beyond the budget in the trials at or beyond its quantile
    /// at this confidence (a minimum statement; see [`TailAcc`]).
    pub(crate) tail: Option<f64>,
}

/// Where each of a batch's sketches is counted in its thread's banks: the order of
/// [`PlanAcc::sketches_mut`] (seven sketches a year, then the reserves' balances, the MTFS
/// columns, the debt measures, and the two over the plan).
struct SketchSlots {
    years: usize,
    balances: usize,
    mtfs: usize,
    debt: usize,
    efs: usize,
    sheet: usize,
}

/// The per-year sketches, in slot order.
const GAP: usize = 0;
const RESERVES: usize = 1;
const ONE_OFF: usize = 2;
const GENERAL_FUND: usize = 3;
const EARMARKED: usize = 4;
const SUSTAINABILITY: usize = 5;
const CHANGE: usize = 6;
const PER_YEAR: usize = 7;

impl SketchSlots {
    fn field(&self, field: usize, year: usize) -> usize {
        field * self.years + year
    }
    fn balance(&self, k: usize) -> usize {
        PER_YEAR * self.years + k
    }
    fn mtfs(&self, k: usize) -> usize {
        self.balance(self.balances) + k
    }
    fn debt(&self, k: usize) -> usize {
        self.mtfs(self.mtfs) + k
    }
    fn efs(&self, y: usize) -> usize {
        self.debt(self.debt) + y
    }
    fn sheet(&self, k: usize) -> usize {
        self.efs(self.efs) + k
    }
    fn cumulative_one_off(&self) -> usize {
        self.sheet(self.sheet)
    }
    fn cumulative_gap(&self) -> usize {
        self.cumulative_one_off() + 1
    }
    fn total(&self) -> usize {
        self.cumulative_gap() + 1
    }
}

/// The first MTFS column written after the year: what budgets set every year closed (then by
/// council tax and by new savings).
const MTFS_CLOSED: usize = 14;

/// The components' random streams (see [`rng::component`]): the risks draw on the batch's main
/// stream (0), as the register simulated alone does; every other component on its own, so that
/// adding a component, or drawing one more or less, leaves every other draw as it was.
pub(crate) mod stream {
    /// A budget set every year: capacities and new savings' deliveries.
    pub(crate) const BUDGET_SETTING: u64 = 1;
    /// Pressures (and the latents of those linked to savings).
    pub(crate) const PRESSURES: u64 = 2;
    /// Funding and spending: drivers' latents and uncertain grants.
    pub(crate) const FINANCE: u64 = 3;
    /// Savings: the programme's delivery factors and each saving's delivery.
    pub(crate) const SAVINGS: u64 = 4;
    /// The in-year overspend.
    pub(crate) const IN_YEAR: u64 = 5;
    /// The capital plan's slippage, overruns and receipts.
    pub(crate) const CAPITAL: u64 = 6;
    /// Provisions, the DSG deficit and the collection fund.
    pub(crate) const BALANCE_SHEET: u64 = 7;
}

/// Adds counts element by element.
fn addu_into(a: &mut [u64], b: &[u64]) {
    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
}

/// Batch results, merged in batch order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PlanAcc {
    pub(crate) trials: u64,
    pub(crate) gap: Vec<Sketch>,
    pub(crate) gap_sum: Vec<f64>,
    /// Usable reserves at each year's end.
    pub(crate) reserves: Vec<Sketch>,
    pub(crate) one_off: Vec<Sketch>,
    /// The plan's cumulative one-off exposure beyond the budget (with the in-year overspend;
    /// one-off pressures beyond their budgeted mean).
    pub(crate) cumulative_one_off: Sketch,
    /// The whole plan's gap: the sum of each year's gap (empty in results stored before it).
    #[serde(default)]
    pub(crate) cumulative_gap: Sketch,
    /// Kept trials (only when asked): per trial and year, in trial order, the gap, usable
    /// reserves and the general fund (`[(trial * years + year) * KEPT + k]`)...
    #[serde(default)]
    pub(crate) kept: Vec<f64>,
    /// ... and the year's flags ([`BELOW_MINIMUM`], [`EXHAUSTED`], [`S114`]).
    #[serde(default)]
    pub(crate) kept_flags: Vec<u8>,
    pub(crate) general_fund: Vec<Sketch>,
    pub(crate) earmarked: Vec<Sketch>,
    pub(crate) sustainability: Vec<Sketch>,
    pub(crate) change: Vec<Sketch>,
    pub(crate) below_minimum: Vec<u64>,
    pub(crate) exhausted: Vec<u64>,
    pub(crate) breaches: Vec<u64>,
    pub(crate) breach_amount: Vec<f64>,
    pub(crate) s114: Vec<u64>,
    /// Of them, trials whose in-year test fails, and whose budget test fails (see
    /// `plan::year`; a trial may fail both).
    pub(crate) s114_in_year: Vec<u64>,
    pub(crate) s114_budget: Vec<u64>,
    /// Trials in which usable reserves end the year below zero.
    pub(crate) negative: Vec<u64>,
    /// Each reserve's uncommitted balance at each year's end (`[reserve * years + year]`).
    pub(crate) balances: Vec<Sketch>,
    /// Trials in which it ends the year below its minimum (same layout).
    pub(crate) below_floor: Vec<u64>,
    pub(crate) exhausted_trials: u64,
    pub(crate) item_sum: Vec<f64>,
    pub(crate) item_exhausted_sum: Vec<f64>,
    /// The MTFS columns' distributions (`[column * years + year]`, columns as
    /// [`super::mtfs::MTFS_COLUMNS`]; empty in results stored before them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) mtfs: Vec<Sketch>,
    /// With a capital plan that varies by trial: interest, capital financing (MRP and
    /// interest) and gross debt at each year's end (`[measure * years + year]`; empty when the
    /// capital plan is the same in every trial).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) debt: Vec<Sketch>,
    /// With `[efs]`: by year, the support capitalised (over all trials) and the trials given
    /// any (empty without it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) efs: Vec<Sketch>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) efs_trials: Vec<u64>,
    /// With provisions, `[dsg]` or `[collection_fund]`: the balance sheet's reported series by
    /// year (`[series * years + year]`, series as [`super::sheet::Sheet::series`]; empty
    /// without them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) sheet: Vec<Sketch>,
    /// Only a reverse stress test fills it, and it never leaves that call.
    #[serde(skip)]
    pub(crate) stress: StressAcc,
    /// Only a minimum statement fills it, and it never leaves that call.
    #[serde(skip)]
    pub(crate) tail: TailAcc,
}

impl PlanAcc {
    /// Every sketch, in the order of [`SketchSlots`].
    fn sketches_mut(&mut self) -> impl Iterator<Item = &mut Sketch> {
        self.gap
            .iter_mut()
            .chain(&mut self.reserves)
            .chain(&mut self.one_off)
            .chain(&mut self.general_fund)
            .chain(&mut self.earmarked)
            .chain(&mut self.sustainability)
            .chain(&mut self.change)
            .chain(&mut self.balances)
            .chain(&mut self.mtfs)
            .chain(&mut self.debt)
            .chain(&mut self.efs)
            .chain(&mut self.sheet)
            .chain([&mut self.cumulative_one_off, &mut self.cumulative_gap])
    }

    pub(crate) fn new(years: usize, items: usize, reserves: usize) -> PlanAcc {
        PlanAcc {
            trials: 0,
            gap: vec![Sketch::default(); years],
            gap_sum: vec![0.0; years],
            reserves: vec![Sketch::default(); years],
            one_off: vec![Sketch::default(); years],
            cumulative_one_off: Sketch::default(),
            cumulative_gap: Sketch::default(),
            kept: Vec::new(),
            kept_flags: Vec::new(),
            general_fund: vec![Sketch::default(); years],
            earmarked: vec![Sketch::default(); years],
            sustainability: vec![Sketch::default(); years],
            change: vec![Sketch::default(); years],
            below_minimum: vec![0; years],
            exhausted: vec![0; years],
            breaches: vec![0; years],
            breach_amount: vec![0.0; years],
            s114: vec![0; years],
            s114_in_year: vec![0; years],
            s114_budget: vec![0; years],
            negative: vec![0; years],
            balances: vec![Sketch::default(); years * reserves],
            below_floor: vec![0; years * reserves],
            exhausted_trials: 0,
            item_sum: vec![0.0; items],
            item_exhausted_sum: vec![0.0; items],
            mtfs: Vec::new(),
            debt: Vec::new(),
            efs: Vec::new(),
            efs_trials: Vec::new(),
            sheet: Vec::new(),
            stress: StressAcc::default(),
            tail: TailAcc::default(),
        }
    }

    /// Checks that a stored accumulator holds together for `years`, `items` and `reserves`.
    pub(crate) fn check(&self, years: usize, items: usize, reserves: usize) -> Result<(), String> {
        let by_year = [
            ("gap", self.gap.len()),
            ("gap_sum", self.gap_sum.len()),
            ("reserves", self.reserves.len()),
            ("one_off", self.one_off.len()),
            ("general_fund", self.general_fund.len()),
            ("earmarked", self.earmarked.len()),
            ("sustainability", self.sustainability.len()),
            ("change", self.change.len()),
            ("below_minimum", self.below_minimum.len()),
            ("exhausted", self.exhausted.len()),
            ("breaches", self.breaches.len()),
            ("breach_amount", self.breach_amount.len()),
            ("s114", self.s114.len()),
            ("s114_in_year", self.s114_in_year.len()),
            ("s114_budget", self.s114_budget.len()),
            ("negative", self.negative.len()),
        ];
        for (name, len) in by_year {
            if len != years {
                return Err(format!("{name} has {len} values for {years} years"));
            }
        }
        for (name, len) in [
            ("balances", self.balances.len()),
            ("below_floor", self.below_floor.len()),
        ] {
            if len != years * reserves {
                return Err(format!(
                    "{name} has {len} values for {reserves} reserves over {years} years"
                ));
            }
        }
        for (name, len) in [
            ("item_sum", self.item_sum.len()),
            ("item_exhausted_sum", self.item_exhausted_sum.len()),
        ] {
            if len != items {
                return Err(format!("{name} has {len} values for {items} inputs"));
            }
        }
        if self.trials == 0 {
            return Err("trials is 0".into());
        }
        let cells = super::mtfs::MTFS_COLUMNS.len() * years;
        if !self.mtfs.is_empty() && self.mtfs.len() != cells {
            return Err(format!("mtfs has {} values for {cells}", self.mtfs.len()));
        }
        for (name, len) in [
            ("efs", self.efs.len()),
            ("efs_trials", self.efs_trials.len()),
        ] {
            if len != 0 && len != years {
                return Err(format!("{name} has {len} values for {years} years"));
            }
        }
        if !self.debt.is_empty() && self.debt.len() != 3 * years {
            return Err(format!(
                "debt has {} values for {}",
                self.debt.len(),
                3 * years
            ));
        }
        if !self.kept_flags.is_empty() || !self.kept.is_empty() {
            let cells = self.trials as usize * years;
            if self.kept_flags.len() != cells || self.kept.len() != cells * KEPT {
                return Err(format!(
                    "the kept trials hold {} flags and {} values for {} trials over {years} years",
                    self.kept_flags.len(),
                    self.kept.len(),
                    self.trials
                ));
            }
        }
        let counts = self
            .below_minimum
            .iter()
            .chain(&self.exhausted)
            .chain(&self.breaches)
            .chain(&self.s114)
            .chain(&self.s114_in_year)
            .chain(&self.s114_budget)
            .chain(&self.negative)
            .chain(&self.below_floor)
            .chain(&self.efs_trials)
            .chain([&self.exhausted_trials]);
        if let Some(c) = counts.into_iter().find(|c| **c > self.trials) {
            return Err(format!(
                "a count of {c} trials is more than the {} run",
                self.trials
            ));
        }
        Ok(())
    }

    fn merge(&mut self, mut o: PlanAcc) {
        self.stress.merge(std::mem::take(&mut o.stress));
        self.tail.merge(std::mem::take(&mut o.tail));
        self.trials += o.trials;
        self.exhausted_trials += o.exhausted_trials;
        self.cumulative_one_off.merge(&o.cumulative_one_off);
        self.cumulative_gap.merge(&o.cumulative_gap);
        self.kept.append(&mut o.kept);
        self.kept_flags.append(&mut o.kept_flags);
        if self.efs_trials.is_empty() {
            self.efs_trials = std::mem::take(&mut o.efs_trials);
        } else {
            addu_into(&mut self.efs_trials, &o.efs_trials);
        }
        for (mine, theirs) in [
            (&mut self.mtfs, &mut o.mtfs),
            (&mut self.debt, &mut o.debt),
            (&mut self.efs, &mut o.efs),
            (&mut self.sheet, &mut o.sheet),
        ] {
            if mine.is_empty() {
                *mine = std::mem::take(theirs);
            } else {
                for (a, b) in mine.iter_mut().zip(theirs.iter()) {
                    a.merge(b);
                }
            }
        }
        for (mine, theirs) in [
            (&mut self.gap, &o.gap),
            (&mut self.reserves, &o.reserves),
            (&mut self.one_off, &o.one_off),
            (&mut self.general_fund, &o.general_fund),
            (&mut self.earmarked, &o.earmarked),
            (&mut self.sustainability, &o.sustainability),
            (&mut self.change, &o.change),
            (&mut self.balances, &o.balances),
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
        addu(&mut self.s114, &o.s114);
        addu(&mut self.s114_in_year, &o.s114_in_year);
        addu(&mut self.s114_budget, &o.s114_budget);
        addu(&mut self.negative, &o.negative);
        addu(&mut self.below_floor, &o.below_floor);
    }
}

/// The common factors of a correlated savings programme for one batch (see
/// [`crate::saving::ProgrammeDelivery`]): standard normals per year, and per directorate and
/// year, for each trial.
struct DeliveryFactors {
    n: usize,
    years: usize,
    year: Vec<f64>,
    directorate: Vec<f64>,
    /// Each saving's directorate (its index), if any.
    of: Vec<Option<usize>>,
    /// Loadings: programme and directorate.
    a: f64,
    b: f64,
    /// Each saving's links to risks (latent slot) and pressures, with their loadings, and its
    /// own loading (what the factors and links leave of unit variance).
    links: Vec<Vec<(Linked, f64)>>,
    own: Vec<f64>,
}

/// A batch's working space for the savings' deliveries, one value per trial: the delivery
/// latents, the recurring shortfalls, and the outcomes (with the partial deliveries' trials).
struct SavingScratch {
    z: Vec<f64>,
    lasting: Vec<f64>,
    slipped: Vec<bool>,
    fraction: Vec<f64>,
    partial: Vec<u32>,
}

/// The latent normals of a batch that a saving's delivery can be correlated with: risks' (by
/// copula slot, `[slot * n + j]`), pressures' (`[pressure][j]`) and drivers'
/// (`[driver * n + j]`).
struct Latents<'a> {
    risk: &'a [f64],
    pressure: &'a [Vec<f64>],
    driver: &'a [f64],
}

/// Each item's sum over the trials of its costs (`costs[item * n + j]`, `n` trials), in all
/// trials and in those `flagged`: the sums of `Iterator::sum` over the trials in order (the
/// others passed over by adding `-0.0`, which leaves every sum as it is), four items at a
/// time so that their eight chains of additions overlap instead of each waiting on the last.
pub(crate) fn item_sums(costs: &[f64], flagged: &[bool], all: &mut [f64], only: &mut [f64]) {
    let n = flagged.len();
    let mut items = costs
        .chunks_exact(n)
        .zip(all.iter_mut().zip(only.iter_mut()));
    let mut block = Vec::with_capacity(4);
    loop {
        block.clear();
        block.extend(items.by_ref().take(4));
        if block.is_empty() {
            break;
        }
        let mut s = [[-0.0f64; 2]; 4];
        if let [(a, _), (b, _), (c, _), (d, _)] = block.as_slice() {
            for j in 0..n {
                let f = flagged[j];
                for (s, x) in s.iter_mut().zip([a[j], b[j], c[j], d[j]]) {
                    s[0] += x;
                    s[1] += std::hint::select_unpredictable(f, x, -0.0);
                }
            }
        } else {
            for (k, (column, _)) in block.iter().enumerate() {
                for (&x, &f) in column.iter().zip(flagged) {
                    s[k][0] += x;
                    s[k][1] += std::hint::select_unpredictable(f, x, -0.0);
                }
            }
        }
        for ((_, (all, only)), s) in block.iter_mut().zip(s) {
            **all = s[0];
            **only = s[1];
        }
    }
}

/// A standard normal draw (statrs' sampler, as the risks' copula uses).
pub(crate) fn std_normal(rng: &mut rng::Rng) -> f64 {
    use rand::distr::Distribution as _;
    statrs::distribution::Normal::standard().sample(rng)
}

/// Fills `out` with the draws of as many [`std_normal`] calls, in order, leaving `rng` where
/// they would: the generator's state is kept on a local copy (in registers) for the loop.
pub(crate) fn std_normals_into(rng: &mut rng::Rng, out: &mut [f64]) {
    use rand::distr::Distribution as _;
    let normal = statrs::distribution::Normal::standard();
    let mut r = rng.clone();
    for o in out {
        *o = normal.sample(&mut r);
    }
    *rng = r;
}

/// `n` draws of [`std_normal`], in order.
pub(crate) fn std_normals(rng: &mut rng::Rng, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n];
    std_normals_into(rng, &mut out);
    out
}

impl DeliveryFactors {
    fn draw(
        scenario: &Scenario,
        engine: &Engine<'_>,
        n: usize,
        rng: &mut rng::Rng,
    ) -> DeliveryFactors {
        let years = scenario.horizon.len();
        let mut names: Vec<&str> = Vec::new();
        let of: Vec<Option<usize>> = scenario
            .savings
            .iter()
            .map(|(s, _)| {
                s.spec().directorate.as_deref().map(|d| {
                    names.iter().position(|x| *x == d).unwrap_or_else(|| {
                        names.push(d);
                        names.len() - 1
                    })
                })
            })
            .collect();
        let year = std_normals(rng, years * n);
        let directorate = std_normals(rng, names.len() * years * n);
        let p = &scenario.spec.savings_delivery;
        let (rp, rd) = (p.programme_correlation, p.directorate_correlation);
        let (links, own) = scenario.delivery_loadings(engine);
        DeliveryFactors {
            n,
            years,
            year,
            directorate,
            of,
            a: rp.sqrt(),
            b: rd.sqrt(),
            links,
            own,
        }
    }

    /// [`DeliveryFactors::latent`] for every trial of the batch at once, into `out`: the own
    /// draws first, in trial order (the stream `latent` takes trial by trial when nothing
    /// else draws between trials), then the same sums in the same order.
    fn latents_into(
        &self,
        k: usize,
        due: usize,
        rng: &mut rng::Rng,
        latents: &Latents<'_>,
        out: &mut [f64],
    ) {
        let n = self.n;
        std_normals_into(rng, out);
        let (a, own) = (self.a, self.own[k]);
        for (o, y) in out.iter_mut().zip(&self.year[due * n..(due + 1) * n]) {
            *o = a * y + own * *o;
        }
        if let Some(d) = self.of[k] {
            let start = (d * self.years + due) * n;
            for (o, x) in out.iter_mut().zip(&self.directorate[start..start + n]) {
                *o += self.b * x;
            }
        }
        for &(other, loading) in &self.links[k] {
            let column = match other {
                Linked::Risk(slot) => &latents.risk[slot * n..(slot + 1) * n],
                Linked::Pressure(p) => &latents.pressure[p][..],
                Linked::Driver(d) => &latents.driver[d * n..(d + 1) * n],
            };
            for (o, x) in out.iter_mut().zip(column) {
                *o -= loading * x;
            }
        }
    }

    /// Saving `k`'s delivery latent (a standard normal) in trial `j`, for its due year `due`:
    /// a costlier outcome of a linked risk or pressure (a higher latent) with a positive loading
    /// is a worse delivery.
    fn latent(
        &self,
        k: usize,
        due: usize,
        j: usize,
        rng: &mut rng::Rng,
        latents: &Latents<'_>,
    ) -> f64 {
        let own = std_normal(rng);
        let mut z = self.a * self.year[due * self.n + j] + self.own[k] * own;
        if let Some(d) = self.of[k] {
            z += self.b * self.directorate[(d * self.years + due) * self.n + j];
        }
        for &(other, loading) in &self.links[k] {
            let x = match other {
                Linked::Risk(slot) => latents.risk[slot * self.n + j],
                Linked::Pressure(p) => latents.pressure[p][j],
                Linked::Driver(d) => latents.driver[d * self.n + j],
            };
            z -= loading * x;
        }
        z
    }
}

impl Scenario {
    /// Each saving's links (risks by their latent slot in `engine`, pressures by position)
    /// with loadings, and its own loading: the square root of what the programme and
    /// directorate factors and the links leave of unit variance (checked when the scenario
    /// was read, so never negative here).
    pub(crate) fn delivery_loadings(
        &self,
        engine: &Engine<'_>,
    ) -> (Vec<Vec<(Linked, f64)>>, Vec<f64>) {
        let p = &self.spec.savings_delivery;
        let mut links = vec![Vec::new(); self.savings.len()];
        for l in &self.links {
            let other = match l.other {
                Linked::Risk(i) => Linked::Risk(
                    engine
                        .member_slot(i)
                        .expect("a linked risk is in the copula"),
                ),
                pressure => pressure,
            };
            links[l.saving].push((other, l.loading));
        }
        let own = self
            .savings
            .iter()
            .enumerate()
            .map(|(k, (s, _))| {
                let factors = p.programme_correlation
                    + if s.spec().directorate.is_some() {
                        p.directorate_correlation
                    } else {
                        0.0
                    };
                (1.0 - factors - linked_variance(&links[k], engine, self.finance.as_ref()))
                    .max(0.0)
                    .sqrt()
            })
            .collect();
        (links, own)
    }
}

/// The variance of a saving's linked part, `sum of loading_a * loading_b * corr(a, b)`: risks
/// (by latent slot) correlate as their latents do, drivers as the scenario's driver model
/// says, a pressure only with itself.
pub(crate) fn linked_variance(
    links: &[(Linked, f64)],
    engine: &Engine<'_>,
    finance: Option<&super::mtfs::Finance>,
) -> f64 {
    let mut v = 0.0;
    for &(a, la) in links {
        for &(b, lb) in links {
            let r = match (a, b, finance) {
                (Linked::Risk(s), Linked::Risk(t), _) => engine.latent_correlation(s, t),
                (Linked::Pressure(x), Linked::Pressure(y), _) if x == y => 1.0,
                (Linked::Driver(x), Linked::Driver(y), Some(f)) => {
                    f.driver_correlation(x, y, engine)
                }
                (Linked::Driver(x), Linked::Risk(slot), Some(f))
                | (Linked::Risk(slot), Linked::Driver(x), Some(f)) => {
                    f.driver_slot_correlation(x, slot, engine)
                }
                _ => 0.0,
            };
            v += la * lb * r;
        }
    }
    v
}

/// A finished run: the accumulators and the general fund's minimum by year that was applied.
pub(crate) struct Run {
    pub(crate) acc: PlanAcc,
    pub(crate) minimum: Vec<f64>,
}

impl Scenario {
    /// Runs the plan's trials (checked options; a risk-assessed minimum takes a first pass for
    /// the one-off exposure). With `stress`, the trials meeting it are described as well.
    pub(crate) fn run_plan(
        &self,
        trials: u64,
        seed: u64,
        threads: Option<usize>,
        want: Want,
        progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    ) -> Result<Run, PlanError> {
        simulation::check_run(trials, threads)?;
        let cells = trials.saturating_mul((self.horizon.len() * (KEPT + 1)) as u64);
        if want.keep && cells > simulation::MAX_KEPT_CELLS {
            return Err(PlanError::Run(simulation::SimulationError::TooManyCells {
                cells,
            }));
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
        let columns = 2 * self.register.risks().len()
            + self.item_count()
            + years * (12 + self.reserves.names.len());
        let pool = simulation::thread_pool(threads, simulation::batch_bytes(columns))?;
        let fixed = |x: f64| vec![x; years];
        // A first pass for the cumulative one-off exposure, when a risk-assessed minimum or a
        // minimum statement needs its quantile (it does not depend on the minimum). Read from
        // the sketch as the result keeps it (compact, as every run's sketches are), so that
        // the result reports the same figure.
        let confidence = match &self.spec.policy.minimum_general_fund {
            Minimum::RiskAssessed(c) => Some(*c),
            _ => None,
        };
        let exposure = if confidence.is_some() || want.tail.is_some() {
            let pass = self.run(
                &engine,
                &pool,
                (batches, trials, seed),
                (&fixed(f64::NEG_INFINITY), None),
                Want::default(),
                progress,
            )?;
            Some(pass.cumulative_one_off)
        } else {
            None
        };
        let quantile = |c: f64| exposure.as_ref().map_or(0.0, |s| s.quantile(c));
        let minimum: Vec<f64> = match &self.spec.policy.minimum_general_fund {
            Minimum::Amount(a) => fixed(a.to_f64()),
            Minimum::PercentOfBudget(p) => self.net_budget.iter().map(|b| p * b.to_f64()).collect(),
            Minimum::RiskMatrix(_) => fixed(self.risk_matrix_minimum()),
            Minimum::RiskAssessed(c) => fixed(quantile(*c)),
        };
        let threshold = want.tail.map(quantile);
        let acc = self.run(
            &engine,
            &pool,
            (batches, trials, seed),
            (&minimum, threshold),
            want,
            progress,
        )?;
        Ok(Run { acc, minimum })
    }

    fn run(
        &self,
        engine: &Engine<'_>,
        pool: &rayon::ThreadPool,
        (batches, trials, seed): (u64, u64, u64),
        (minimum, threshold): (&[f64], Option<f64>),
        want: Want,
        progress: &mut dyn FnMut(u64, u64) -> ControlFlow<()>,
    ) -> Result<PlanAcc, PlanError> {
        let mut acc = PlanAcc::new(
            self.horizon.len(),
            self.item_count(),
            self.reserves.names.len(),
        );
        let fallout = self.one_off_savings();
        let mut done = 0;
        let mut stopped = false;
        let mut step = |k: u64| {
            done += k;
            let flow = progress(done, batches);
            stopped |= flow.is_break();
            flow
        };
        // Counted a batch at a time: a plan has many sketches, and gathering several batches'
        // values for each would cost more memory than it saves time.
        let banks = Banks::new(pool.current_num_threads(), 0);
        let merged = simulation::run_tree(
            pool,
            0..batches,
            &|b| {
                self.batch(
                    engine,
                    b,
                    (trials, seed),
                    (minimum, threshold),
                    &fallout,
                    (want, &banks),
                )
            },
            &|mut a: PlanAcc, b: PlanAcc| {
                a.merge(b);
                a
            },
            simulation::Idle::NONE,
            &mut step,
        );
        if stopped {
            return Err(PlanError::Interrupted);
        }
        if let Some(m) = merged {
            acc.merge(m);
        }
        banks.fill_on(pool, acc.sketches_mut().enumerate().collect());
        banks.recycle();
        // As a finished result keeps them (see [`Sketch::compact`]).
        Sketch::compact_on(pool, acc.sketches_mut().collect());
        Ok(acc)
    }

    pub(crate) fn item_count(&self) -> usize {
        self.register.risks().len()
            + self.pressures.len()
            + self.savings.len()
            + self.plan_items().count()
    }

    /// Whether the capital plan varies by trial (projects that draw, or a borrowing rate that
    /// follows an uncertain driver), and the driver whose rates it needs.
    fn capital_varies(&self) -> (bool, Option<usize>) {
        let Some(c) = &self.capital else {
            return (false, None);
        };
        let driver = c.driver().filter(|&a| {
            self.finance.as_ref().is_some_and(|f| {
                f.drivers.rates[a]
                    .iter()
                    .any(|r| matches!(r, crate::funding::Rate::Uncertain(_)))
            })
        });
        (c.draws() || driver.is_some(), driver)
    }

    /// Each risk's MRP relief a year and, for a risk that is the loss of commercial income,
    /// that income a year (the most it can cost in a year; see
    /// [`crate::capital::CommercialSpec`]), by register index.
    pub(crate) fn reliefs(&self) -> Vec<(Decimal, Option<Decimal>)> {
        let mut out = vec![(Decimal::ZERO, None); self.register.risks().len()];
        if let Some(c) = &self.spec.capital {
            for x in &c.commercial {
                if let Some(id) = &x.risk
                    && let Some(i) = self
                        .register
                        .risks()
                        .iter()
                        .position(|r| r.id() == id.trim())
                {
                    out[i].0 += x.mrp_relief.decimal();
                    out[i].1 = Some(out[i].1.unwrap_or_default() + x.income.decimal());
                }
            }
        }
        out
    }

    /// Saving `k`'s deliveries in every trial of a batch of `cost.len()` trials (drawn from
    /// the delivery factors and latents when the programme is correlated, from `rng` alone
    /// otherwise): its shortfalls added to the batch's one-off and recurring gaps (year-major),
    /// its cost over the plan into `cost`; returns what it leaves in the base budget from the
    /// year after its due year (a one-off saving falls out of it).
    fn saving_ledger(
        &self,
        k: usize,
        delivery: Option<(&DeliveryFactors, &Latents<'_>)>,
        rng: &mut rng::Rng,
        scratch: &mut SavingScratch,
        (cost, once_cost): (&mut [f64], &mut [f64]),
        (one_off, recurring): (&mut [f64], &mut [f64]),
    ) -> f64 {
        let n = cost.len();
        let SavingScratch {
            z: batch_z,
            lasting,
            slipped,
            fraction,
            partial,
        } = scratch;
        let years = self.horizon.len();
        let (saving, due) = &self.savings[k];
        let due = *due;
        let model = self.model(saving);
        // With no delay to draw between trials, the latents are drawn for the whole batch
        // first: the same stream, in a tighter loop.
        let whole_batch = match delivery {
            Some((f, latents)) if !model.draws_delay() => {
                f.latents_into(k, due, rng, latents, batch_z);
                true
            }
            _ => false,
        };
        let value = saving.spec().value.to_f64();
        let recurring_saving = saving.spec().recurring;
        let mut later = 0.0;
        let one_off_late = model.spec().one_off_late;
        if whole_batch && !one_off_late {
            // No delay and no late delivery: every outcome falls in the due year (a span of
            // one year, nothing received late), so the loop below reduces to this one.
            model.outcomes_z(batch_z, (slipped, fraction), partial);
            let row = &mut one_off[due * n..(due + 1) * n];
            for j in 0..n {
                let (slipped, fraction) = (slipped[j], fraction[j]);
                // Nothing in the due year when it slipped: a product rather than a choice,
                // which the compiler makes a branch that mispredicts (fractions are finite and
                // not negative, so the product is exactly 0 or the fraction).
                let due_fraction = fraction * f64::from(u8::from(!slipped));
                let (once, last, after) =
                    saving_gap(value, recurring_saving, due_fraction, fraction);
                row[j] += once;
                lasting[j] = last;
                later = after;
                // The general loop's expression with a span of one year and nothing received
                // late, written the same way so that it gives the same bits. A one-off
                // saving's fall-out from the base budget is not its shortfall: the budget
                // already counts it (the MTFS's gap after savings), so the cost leaves it out.
                cost[j] = once * 1.0 + last * (years - due) as f64 - 0.0;
                if let Some(c) = once_cost.get_mut(j) {
                    *c = once;
                }
            }
        } else {
            for j in 0..n {
                let (slipped, fraction) = match delivery {
                    Some(_) if whole_batch => model.outcome_z(batch_z[j]),
                    Some((f, latents)) => model.outcome_z(f.latent(k, due, j, rng, latents)),
                    None => model.draw(rng),
                };
                let delay = if slipped { model.draw_delay(rng) } else { 0 };
                let due_fraction = if slipped { 0.0 } else { fraction };
                let (once, last, after) =
                    saving_gap(value, recurring_saving, due_fraction, fraction);
                let (span, late) = spread(
                    value,
                    recurring_saving,
                    one_off_late,
                    slipped,
                    delay,
                    fraction,
                );
                let span = span.min(years - due);
                for y in due..due + span {
                    one_off[y * n + j] += once;
                }
                let mut received = 0.0;
                if let Some((k, amount)) = late
                    && due + k < years
                {
                    one_off[(due + k) * n + j] -= amount;
                    received = amount;
                }
                lasting[j] = last;
                later = after;
                cost[j] = once * span as f64 + last * (years - due) as f64 - received;
                if let Some(c) = once_cost.get_mut(j) {
                    *c = once * span as f64 - received;
                }
            }
        }
        if recurring_saving {
            for y in due..years {
                for (acc, x) in recurring[y * n..(y + 1) * n].iter_mut().zip(&*lasting) {
                    *acc += x;
                }
            }
        }
        later
    }

    fn batch(
        &self,
        engine: &Engine<'_>,
        b: u64,
        (trials, seed): (u64, u64),
        (minimum, threshold): (&[f64], Option<f64>),
        fallout: &[f64],
        (want, banks): (Want, &Banks),
    ) -> PlanAcc {
        let start = b * BATCH_SIZE as u64;
        let n = (trials - start).min(BATCH_SIZE as u64) as usize;
        let years = self.horizon.len();
        let mut rng = rng::stream(seed, b);
        // Per trial and year: recurring and one-off parts of the gap (year-major: [y * n + j]).
        let mut recurring = vec![0.0; years * n];
        let mut one_off = vec![0.0; years * n];
        // Per pressure and saving, and trial: its cost over the plan (`[(item - risks) * n + j]`;
        // a risk's is its cost times its spread's total, not stored: the risks are looked at
        // again below, held or drawn again; see `simulation::Risks`).
        let items = self.item_count();
        let r = engine.compiled().len();
        let mut item_cost = vec![0.0; (items - r) * n];
        // With a minimum statement: each pressure's and saving's one-off exposure beyond the
        // budget, by trial (same layout; recurring pressures stay 0).
        let itemised = self.pressures.len() + self.savings.len();
        let mut once_cost = vec![0.0; if threshold.is_some() { itemised * n } else { 0 }];
        let factors: Vec<f64> = engine
            .compiled()
            .iter()
            .map(|c| c.spread.iter().map(|s| s.1).sum::<f64>())
            .collect();
        // A risk that takes commercial income away relieves MRP in each year it costs the
        // plan (`relief[i]` a year; `relief_total[i]` over its years).
        let reliefs = self.reliefs();
        let relief: Vec<f64> = reliefs.iter().map(|d| Money::new(d.0).to_f64()).collect();
        let income: Vec<Option<f64>> = reliefs
            .iter()
            .map(|d| d.1.map(|x| Money::new(x).to_f64()))
            .collect();
        let relief_total: Vec<f64> = engine
            .compiled()
            .iter()
            .zip(&relief)
            .map(|(c, r)| r * c.spread.iter().filter(|s| s.1 > 0.0).count() as f64)
            .collect();
        let (risks, risk_z) = engine.draw_risks(n, &mut rng, &mut |i, trials, costs| {
            let c = &engine.compiled()[i];
            let target = if c.recurring {
                &mut recurring
            } else {
                &mut one_off
            };
            for &(t, f) in &c.spread {
                let row = &mut target[t * n..(t + 1) * n];
                for (&j, &x) in trials.iter().zip(costs) {
                    row[j as usize] += relieved(f, x, relief[i], income[i]);
                }
            }
        });
        // A risk's cost to the plan in a trial in which it happens, `x` its drawn cost.
        let net = |i: usize, x: f64| match income[i] {
            None => factors[i] * x - if x > 0.0 { relief_total[i] } else { 0.0 },
            Some(_) => engine.compiled()[i]
                .spread
                .iter()
                .map(|&(_, f)| relieved(f, x, relief[i], income[i]))
                .sum(),
        };
        // The MTFS view needs the risks' part of each year's gap, and (below) the pressures'
        // and the savings' parts.
        let mtfs = want.mtfs;
        let risk_part: Vec<f64> = if mtfs {
            recurring.iter().zip(&one_off).map(|(a, b)| a + b).collect()
        } else {
            Vec::new()
        };
        // A pressure linked to a saving is drawn through a latent normal (its quantile at the
        // latent's cdf), so that the saving can share it; the others as before.
        let mut pressure_z: Vec<Vec<f64>> = vec![Vec::new(); self.pressures.len()];
        let mut pressure_rng = rng::component(seed, b, stream::PRESSURES);
        for (k, p) in self.pressures.iter().enumerate() {
            let linked = self.links.iter().any(|l| l.other == Linked::Pressure(k));
            // The budget carries a pressure at its mean: the drivers table counts the rest.
            let budgeted = p.amount.mean();
            if linked {
                pressure_z[k] = std_normals(&mut pressure_rng, n);
            }
            for j in 0..n {
                let x = if linked {
                    let u = crate::distribution::std_normal_cdf(pressure_z[k][j]);
                    p.amount
                        .quantile(u.clamp(1e-15, 1.0 - 1e-15))
                        .unwrap_or(0.0)
                } else {
                    p.amount.draw(&mut pressure_rng)
                };
                if p.recurring {
                    for y in p.start..years {
                        recurring[y * n + j] += x;
                    }
                    item_cost[k * n + j] = (x - budgeted) * (years - p.start) as f64;
                } else {
                    one_off[p.start * n + j] += x;
                    item_cost[k * n + j] = x - budgeted;
                    if let Some(c) = once_cost.get_mut(k * n + j) {
                        *c = x - budgeted;
                    }
                }
            }
        }
        // Provisions, the DSG deficit and the collection fund, on their own stream (only for a
        // scenario that has them): each trial's one-off and recurring parts, what each year's
        // end knows falls on the next budget, and the reported series
        // (`[(series * years + year) * n + j]`).
        let mut falling = Vec::new();
        let mut held = Vec::new();
        let mut sheet_values = Vec::new();
        if !self.sheet.is_empty() {
            falling = vec![0.0; years * n];
            held = vec![0.0; years * n];
            debug_assert_eq!(self.sheet.series_count(), self.sheet.series().len());
            sheet_values = vec![0.0; self.sheet.series_count() * years * n];
            let central: f64 = {
                let c = self.sheet.central(years);
                c.one_off.iter().chain(&c.recurring).sum()
            };
            let item = self.plan_items().sheet;
            let mut sheet_rng = rng::component(seed, b, stream::BALANCE_SHEET);
            for j in 0..n {
                let draws = self.sheet.draw(years, &mut sheet_rng);
                let e = self.sheet.float_years(years, &draws);
                let mut total = 0.0;
                for y in 0..years {
                    one_off[y * n + j] += e.one_off[y];
                    recurring[y * n + j] += e.recurring[y];
                    falling[y * n + j] = e.falling[y];
                    held[y * n + j] = e.held[y];
                    total += e.one_off[y] + e.recurring[y];
                }
                for (k, v) in e.series.iter().enumerate() {
                    sheet_values[k * n + j] = *v;
                }
                if let Some(i) = item {
                    item_cost[i * n + j] = total - central;
                }
            }
        }
        let before_savings: Vec<f64> = if mtfs {
            recurring.iter().zip(&one_off).map(|(a, b)| a + b).collect()
        } else {
            Vec::new()
        };
        // Funding and spending: drivers' latents and grants are drawn here (only for a
        // scenario that has them, so that other scenarios draw exactly as before).
        let (capital_varies, capital_driver) = self.capital_varies();
        let (driver_z, budgets, driver_rates, budget_varies) = match &self.finance {
            Some(f)
                if f.uncertain
                    || self
                        .links
                        .iter()
                        .any(|l| matches!(l.other, Linked::Driver(_))) =>
            {
                let mut finance_rng = rng::component(seed, b, stream::FINANCE);
                let (z, b, r) = f.draw(engine, n, &mut finance_rng, &risk_z, capital_driver);
                (z, b, r, true)
            }
            Some(f) => (Vec::new(), f.fixed_years(), Vec::new(), false),
            None => (Vec::new(), Vec::new(), Vec::new(), false),
        };
        // Drivers alone are not a budget: the plan's net budget is.
        let (budgets, budget_varies) = if self.funded().is_none() {
            (Vec::new(), false)
        } else {
            (budgets, budget_varies)
        };
        let latents = Latents {
            risk: &risk_z,
            pressure: &pressure_z,
            driver: &driver_z,
        };
        // What every trial shares: one-off savings falling out of the base budget.
        let mut base = vec![0.0; years];
        // Deliveries that move together: a factor per year and per directorate and year
        // (drawn only when the programme is correlated, so that a programme without
        // correlation draws exactly as before).
        let programme = &self.spec.savings_delivery;
        let mut savings_rng = rng::component(seed, b, stream::SAVINGS);
        let delivery = (programme.is_correlated() || !self.links.is_empty())
            .then(|| DeliveryFactors::draw(self, engine, n, &mut savings_rng));
        let mut scratch = SavingScratch {
            z: vec![0.0; if delivery.is_some() { n } else { 0 }],
            lasting: vec![0.0; n],
            slipped: vec![false; n],
            fraction: vec![0.0; n],
            partial: Vec::new(),
        };
        for (k, (_, due)) in self.savings.iter().enumerate() {
            let item = self.pressures.len() + k;
            let later = self.saving_ledger(
                k,
                delivery.as_ref().map(|f| (f, &latents)),
                &mut savings_rng,
                &mut scratch,
                (
                    &mut item_cost[item * n..(item + 1) * n],
                    once_cost
                        .get_mut(item * n..(item + 1) * n)
                        .unwrap_or_default(),
                ),
                (&mut one_off, &mut recurring),
            );
            base[due + 1..].iter_mut().for_each(|v| *v += later);
        }
        // The in-year overspend, on its own stream.
        let overspend: Vec<f64> = match &self.in_year {
            Some(i) => {
                let mut in_year_rng = rng::component(seed, b, stream::IN_YEAR);
                (0..n).map(|_| i.overspend.draw(&mut in_year_rng)).collect()
            }
            None => vec![0.0; n],
        };
        // The capital plan of each trial, when it varies, on its own stream.
        let capital_trials: Vec<[f64; 4]> = match &self.capital {
            Some(c) if capital_varies => c.trials(
                n,
                &mut rng::component(seed, b, stream::CAPITAL),
                (!driver_rates.is_empty()).then_some(driver_rates.as_slice()),
            ),
            _ => Vec::new(),
        };
        let mitigations = self.in_year.as_ref().and_then(|i| i.mitigations);
        let plan = &self.reserves;
        let k = plan.names.len();
        let mut acc = PlanAcc::new(years, items, k);
        let mut exhausted_by_end = vec![false; n];
        let mut below_minimum_ever = vec![false; n];
        let mut cumulative = vec![0.0; n];
        let mut cumulative_gap = vec![0.0; n];
        if want.keep {
            acc.kept.reserve(n * years * KEPT);
            acc.kept_flags.reserve(n * years);
        }
        let mut gaps = vec![vec![0.0; n]; years];
        // Exceptional support given, by year and trial (only with `[efs]`).
        let mut efs = if self.support.is_some() {
            vec![vec![0.0; n]; years]
        } else {
            Vec::new()
        };
        if !efs.is_empty() {
            acc.efs_trials = vec![0; years];
        }
        let mut reserves = vec![vec![0.0; n]; years];
        let mut earmarked = vec![vec![0.0; n]; years];
        let mut balances = vec![vec![0.0; n]; years * k];
        // Usable reserves at each year's start (the previous year's end).
        let mut opening_usable = vec![vec![0.0; n]; years];
        let mut book = plan.book();
        let need: Vec<f64> = self
            .planned_savings()
            .1
            .iter()
            .map(|d| {
                use rust_decimal::prelude::ToPrimitive;
                d.to_f64().unwrap_or(0.0)
            })
            .collect();
        let net_budget: Vec<f64> = self.net_budget.iter().map(|b| b.to_f64()).collect();
        // Funding and spending as an input of the drivers table: the structural gap's
        // departure from the central case, over the plan.
        let central_structural = if self.funded().is_some() {
            self.central_structural()
        } else {
            Vec::new()
        };
        // Capital financing's effect on each year's gap (the same in every trial).
        let capital: Vec<f64> = match &self.capital {
            Some(c) => c
                .gap_effect()
                .iter()
                .map(|d| {
                    use rust_decimal::prelude::ToPrimitive;
                    d.to_f64().unwrap_or(0.0)
                })
                .collect(),
            None => vec![0.0; years],
        };
        // Capitalisation directions funding each year's gap: netted from capital's gap effect,
        // added back to the recurring part so that the year lets each fund its own year only.
        let directions: Vec<f64> = self
            .directions()
            .iter()
            .map(|d| Money::new(*d).to_f64())
            .collect();
        // A budget set every year draws on its own stream (so that every other draw is as it
        // was): each trial's capacity and new savings' delivery by year.
        let setting = match &self.budget_setting {
            Some(s) => self.drawn_setting(s, seed, b, n),
            None => Vec::new(),
        };
        let plan_items = self.plan_items();
        let (budget_item, capital_item) = (plan_items.budget, plan_items.capital);
        // The central case's capital financing, by year: what the budget carries of it.
        let capital_central = if capital_item.is_some() {
            self.central_capital_financing()
        } else {
            Vec::new()
        };
        let in_year_budgeted = self
            .in_year
            .as_ref()
            .and_then(|i| i.mitigations.map(|m| i.overspend.mean() + m))
            .unwrap_or(0.0);
        let returning: f64 = plan.returning.iter().sum();
        for (item, value) in [(plan_items.returning, returning)] {
            if let Some(i) = item {
                item_cost[i * n..(i + 1) * n].fill(value);
            }
        }
        let columns = super::mtfs::MTFS_COLUMNS.len();
        let mut mtfs_values = if mtfs {
            vec![0.0; columns * years * n]
        } else {
            Vec::new()
        };
        // The budget carries a one-off pressure at its mean: the cumulative exposure beyond
        // the budget leaves it out (a risk, a saving's shortfall and the in-year overspend are
        // not in the budget).
        let provided: f64 = self
            .pressures
            .iter()
            .filter(|p| !p.recurring)
            .map(|p| p.amount.mean())
            .sum();
        // Treasury cash: the budget carries the net interest on the cash at the plan's start;
        // each year's gap moves by the interest lost on the change since (see
        // [`crate::treasury`]).
        let treasury = self.treasury.as_ref().map(|t| {
            let held0 = if self.sheet.is_empty() {
                0.0
            } else {
                self.sheet.central(years).held[0]
            };
            (t.1, plan.opening_usable() + held0 + t.1.working_capital)
        });
        let treasury_item = self.plan_items().treasury;
        for j in 0..n {
            plan.open(&mut book, overspend[j]);
            let underlying = mitigations.map_or(0.0, |x| overspend[j] + x);
            let mut run = self.years(plan);
            let mut exhausted = false;
            cumulative[j] = overspend[j] - provided;
            for y in 0..years {
                // The base budget's own gap: spending lines less funding less every saving due
                // (savings enter the ledger through their shortfalls; see `mtfs`).
                let budget = if budgets.is_empty() {
                    None
                } else if budget_varies {
                    Some(&budgets[j * years + y])
                } else {
                    Some(&budgets[y])
                };
                let (funding, lines) = match budget {
                    Some(b) => (
                        [b.council_tax, b.business_rates, b.grants, b.fees, 0.0],
                        b.spending,
                    ),
                    None => {
                        let nb = net_budget[y];
                        ([0.0, 0.0, 0.0, 0.0, nb], nb + need[y])
                    }
                };
                let funding_total: f64 = funding.iter().sum();
                let capital_y = if capital_trials.is_empty() {
                    capital[y]
                } else {
                    capital_trials[j * years + y][0]
                };
                let base_gap = if budget.is_some() {
                    lines - funding_total - need[y]
                } else {
                    0.0
                };
                let structural = base_gap + capital_y;
                if let Some(b) = budget_item {
                    if y == 0 {
                        item_cost[b * n + j] = 0.0;
                    }
                    item_cost[b * n + j] += base_gap - central_structural[y];
                }

                if mtfs {
                    let cell = y * n + j;
                    let pressures = before_savings[cell] - risk_part[cell] + underlying;
                    let effect = recurring[cell] + one_off[cell] + base[y] - before_savings[cell];
                    let delivered = need[y] - effect;
                    // The direction funds at most the view's own gap, as the year applies it.
                    let full = capital_y + directions[y];
                    let open = lines + pressures + full - funding_total - delivered;
                    let capital_y = full - directions[y].min(open.max(0.0));
                    let spending = lines + pressures + capital_y;
                    let before = spending - funding_total;
                    let values = [
                        funding[0],
                        funding[1],
                        funding[2],
                        funding[3],
                        funding[4],
                        funding_total,
                        lines,
                        pressures,
                        capital_y,
                        spending,
                        before,
                        delivered,
                        before - delivered,
                        risk_part[cell],
                    ];
                    for (c, v) in values.iter().enumerate() {
                        mtfs_values[(c * years + y) * n + j] = *v;
                    }
                }
                cumulative[j] += one_off[y * n + j];
                opening_usable[y][j] = book.usable;
                let interest = treasury.map_or(0.0, |(rates, base)| {
                    let cash = book.usable
                        + held.get(y * n + j).copied().unwrap_or(0.0)
                        + rates.working_capital;
                    rates.cost(base, cash)
                });
                if let Some(i) = treasury_item {
                    if y == 0 {
                        item_cost[i * n + j] = 0.0;
                    }
                    item_cost[i * n + j] += interest;
                }
                let end = run.year(
                    &mut book,
                    y,
                    YearIn {
                        recurring: recurring[y * n + j]
                            + base[y]
                            + underlying
                            + structural
                            + directions[y]
                            + interest,
                        one_off: one_off[y * n + j],
                        direction: directions[y],
                        fallout: fallout[y],
                        capacity: setting.get(j * years + y).map_or(0.0, |s| s.0),
                        delivered: setting
                            .get(j * years + y)
                            .map_or((1.0, 1.0), |s| (s.1, s.2)),
                        falling: falling.get(y * n + j).copied().unwrap_or(0.0),
                    },
                );
                if mtfs {
                    for (c, v) in [
                        end.closure,
                        end.closure_council_tax,
                        end.closure - end.closure_council_tax,
                    ]
                    .into_iter()
                    .enumerate()
                    {
                        mtfs_values[((MTFS_CLOSED + c) * years + y) * n + j] = v;
                    }
                }
                // The drivers table's plan-wide rows: each year's departure from the budget.
                // Capital: what landed in the gap (the direction as the year capped it) less
                // the central case's.
                let mut add = |item: Option<usize>, x: f64| {
                    if let Some(i) = item {
                        if y == 0 {
                            item_cost[i * n + j] = 0.0;
                        }
                        item_cost[i * n + j] += x;
                    }
                };
                if capital_item.is_some() {
                    add(
                        capital_item,
                        capital_y + directions[y] - end.direction - capital_central[y],
                    );
                }
                add(plan_items.in_year, underlying - in_year_budgeted);
                add(plan_items.response, -(end.closure + end.management));
                add(plan_items.efs, end.efs_cost);
                let usable = book.usable;
                if usable < 0.0 {
                    exhausted = true;
                    acc.negative[y] += 1;
                }
                gaps[y][j] = end.gap;
                reserves[y][j] = usable;
                earmarked[y][j] = plan.earmarked(&book);
                for i in 0..k {
                    let bal = book.balance[i];
                    balances[i * years + y][j] = bal;
                    let floor = if i == 0 { minimum[y] } else { plan.floor[i] };
                    if bal < floor {
                        acc.below_floor[i * years + y] += 1;
                    }
                }
                if book.balance[0] < minimum[y] {
                    acc.below_minimum[y] += 1;
                    below_minimum_ever[j] = true;
                }
                if exhausted {
                    acc.exhausted[y] += 1;
                }
                if end.breach > 0.0 {
                    acc.breaches[y] += 1;
                    acc.breach_amount[y] += end.breach;
                }
                if end.s114() {
                    acc.s114[y] += 1;
                }
                acc.s114_in_year[y] += u64::from(end.in_year);
                if !efs.is_empty() {
                    efs[y][j] = end.efs;
                    acc.efs_trials[y] += u64::from(end.efs > 0.0);
                }
                acc.s114_budget[y] += u64::from(end.budget);
                acc.gap_sum[y] += end.gap;
                cumulative_gap[j] += end.gap;
                if want.keep {
                    acc.kept.extend([end.gap, usable, book.balance[0]]);
                    acc.kept_flags.push(
                        u8::from(book.balance[0] < minimum[y]) * BELOW_MINIMUM
                            + u8::from(exhausted) * EXHAUSTED
                            + u8::from(end.s114()) * S114,
                    );
                }
            }
            exhausted_by_end[j] = exhausted;
        }
        // The sketches: each batch tallies its values' count and sum, and counts them into its
        // thread's banks (see `Banks`), slot by slot in the order of `PlanAcc::sketches_mut`.
        let reserve_count = self.reserves.names.len();
        let mtfs_count = if mtfs { mtfs_values.len() / n } else { 0 };
        let debt_count = if capital_trials.is_empty() {
            0
        } else {
            3 * years
        };
        let slots = SketchSlots {
            years,
            balances: balances.len(),
            mtfs: mtfs_count,
            debt: debt_count,
            efs: efs.len(),
            sheet: sheet_values.len() / n,
        };
        debug_assert_eq!(balances.len(), years * reserve_count);
        banks.with(slots.total(), |bank| {
            let mut put = |slot: usize, values: &[f64]| {
                bank[slot].add(values);
                Sketch::tally(values)
            };
            // Resilience indicators of each year, over a window of up to three years.
            for y in 0..years {
                let first = (y + 1).saturating_sub(resilience::WINDOW);
                let span = (y - first + 1) as f64;
                let mut sustain = Vec::with_capacity(n);
                let mut change = Vec::with_capacity(n);
                for j in 0..n {
                    let (open, close) = (opening_usable[first][j], reserves[y][j]);
                    sustain.push(resilience::sustainability(close, (close - open) / span));
                    if let Some(c) = resilience::change(close, open) {
                        change.push(c);
                    }
                }
                acc.sustainability[y] = put(slots.field(SUSTAINABILITY, y), &sustain);
                acc.change[y] = put(slots.field(CHANGE, y), &change);
                acc.general_fund[y] = put(slots.field(GENERAL_FUND, y), &balances[y]);
                acc.earmarked[y] = put(slots.field(EARMARKED, y), &earmarked[y]);
            }
            for (k, (s, v)) in acc.balances.iter_mut().zip(balances.iter()).enumerate() {
                *s = put(slots.balance(k), v);
            }
            for y in 0..years {
                acc.gap[y] = put(slots.field(GAP, y), &gaps[y]);
                acc.reserves[y] = put(slots.field(RESERVES, y), &reserves[y]);
                acc.one_off[y] = put(slots.field(ONE_OFF, y), &one_off[y * n..(y + 1) * n]);
            }
            if mtfs {
                acc.mtfs = mtfs_values
                    .chunks(n)
                    .enumerate()
                    .map(|(k, v)| put(slots.mtfs(k), v))
                    .collect();
            }
            if !capital_trials.is_empty() {
                let mut column = vec![0.0; n];
                for k in 1..4 {
                    for y in 0..years {
                        for (v, t) in column
                            .iter_mut()
                            .zip(capital_trials[y..].iter().step_by(years))
                        {
                            *v = t[k];
                        }
                        let d = acc.debt.len();
                        acc.debt.push(put(slots.debt(d), &column));
                    }
                }
            }
            acc.efs = efs
                .iter()
                .enumerate()
                .map(|(y, v)| put(slots.efs(y), v))
                .collect();
            acc.sheet = sheet_values
                .chunks(n)
                .enumerate()
                .map(|(k, v)| put(slots.sheet(k), v))
                .collect();
            acc.cumulative_one_off = put(slots.cumulative_one_off(), &cumulative);
            acc.cumulative_gap = put(slots.cumulative_gap(), &cumulative_gap);
        });
        acc.exhausted_trials = exhausted_by_end.iter().filter(|e| **e).count() as u64;
        // The pressures' and savings' costs over the plan, in all trials and in those that
        // exhaust reserves (see `item_sums`).
        let cost = |i: usize, j: usize| item_cost[(i - r) * n + j];
        item_sums(
            &item_cost,
            &exhausted_by_end,
            &mut acc.item_sum[r..],
            &mut acc.item_exhausted_sum[r..],
        );
        let met = want.stress.map(|condition| match condition {
            Condition::Exhausted => &exhausted_by_end,
            Condition::BelowMinimum => &below_minimum_ever,
        });
        // The risks' costs, summed over the trials (in trial order), and which risks happen in
        // each trial that meets the stress condition.
        let words = r.div_ceil(64);
        let mut met_slot = vec![u32::MAX; n];
        let mut met_count = 0;
        if let Some(met) = met {
            for j in (0..n).filter(|&j| met[j]) {
                met_slot[j] = met_count;
                met_count += 1;
            }
        }
        let mut keys = vec![0u64; met_count as usize * words];
        let mut stress_sum = vec![0.0; if met.is_some() { items } else { 0 }];
        // A minimum statement: the trials at or beyond the threshold, and each input's one-off
        // exposure beyond the budget there and in all trials (a recurring risk's is 0: the
        // budget-setting loop meets it; the in-year overspend is the in-year input's).
        let tail: Vec<bool> = match threshold {
            Some(t) => cumulative.iter().map(|c| *c >= t).collect(),
            None => Vec::new(),
        };
        if !tail.is_empty() {
            let (mut sum, mut tail_sum) = (vec![0.0; items], vec![0.0; items]);
            item_sums(
                &once_cost,
                &tail,
                &mut sum[r..r + itemised],
                &mut tail_sum[r..r + itemised],
            );
            if let Some(i) = plan_items.in_year {
                let i = r + i;
                sum[i] = overspend.iter().sum();
                tail_sum[i] = overspend
                    .iter()
                    .zip(&tail)
                    .filter(|t| *t.1)
                    .map(|t| t.0)
                    .sum();
            }
            acc.tail = TailAcc {
                trials: tail.iter().filter(|t| **t).count() as u64,
                sum,
                tail_sum,
            };
        }
        let compiled = engine.compiled();
        risks.visit(engine, &mut |i, trials, costs| {
            if !tail.is_empty() && !compiled[i].recurring {
                let (mut all, mut within) = (0.0, 0.0);
                for (&j, &x) in trials.iter().zip(costs) {
                    let x = net(i, x);
                    all += x;
                    if tail[j as usize] {
                        within += x;
                    }
                }
                acc.tail.sum[i] = all;
                acc.tail.tail_sum[i] = within;
            }
            acc.item_sum[i] = costs.iter().map(|&x| net(i, x)).sum();
            acc.item_exhausted_sum[i] = trials
                .iter()
                .zip(costs)
                .filter(|(j, _)| exhausted_by_end[**j as usize])
                .map(|(_, &x)| net(i, x))
                .sum();
            if met.is_some() {
                let mut sum = 0.0;
                for (&j, &x) in trials.iter().zip(costs) {
                    let slot = met_slot[j as usize];
                    if slot != u32::MAX {
                        sum += net(i, x);
                        if x > 0.0 {
                            keys[slot as usize * words + i / 64] |= 1 << (i % 64);
                        }
                    }
                }
                stress_sum[i] = sum;
            }
        });
        if let Some(met) = met {
            if words == 0 {
                *acc.stress.combinations.entry(Vec::new()).or_default() += u64::from(met_count);
            } else {
                for key in keys.chunks_exact(words) {
                    *acc.stress.combinations.entry(key.to_vec()).or_default() += 1;
                }
            }
            acc.stress.trials += u64::from(met_count);
            for (i, s) in stress_sum.iter_mut().enumerate().skip(r) {
                *s = (0..n).filter(|&j| met[j]).map(|j| cost(i, j)).sum();
            }
            acc.stress.item_sum = stress_sum;
        }
        acc.trials = n as u64;
        acc
    }
}
