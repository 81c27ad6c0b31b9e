//! The medium-term financial strategy (MTFS) view of a plan: funding by source against
//! spending before savings, the gap before and after savings, by year; named deterministic
//! cases; the gap's sensitivity to each driver; and a bridge between two versions of a plan.
//!
//! A scenario with a `[funding]` section builds its gap here: for year `y`,
//!
//! * `funding` = council tax + business rates + grants + fees and charges;
//! * `spending` = spending lines (indexed to drivers) + pressures (and the underlying in-year
//!   overspend, which recurs);
//! * `gap_before_savings` = `spending` - `funding`;
//! * `savings` = recurring savings due by `y` plus one-off savings due in `y` (a one-off
//!   saving is not in the next year's: it returns as a gap);
//! * `gap_after_savings` = `gap_before_savings` - `savings`.
//!
//! A scenario without a `[funding]` section has a balanced base budget: its funding is the net
//! budget (`other_funding`), its spending the net budget before savings plus pressures, so its
//! gap after savings is its pressures and the one-off savings of earlier years. Risks are not
//! in the MTFS (they are what reserves are for); a simulated plan reports them beside it.
//!
//! The plan's ledger then runs on this gap: the management response closes part of its
//! recurring part, and reserves meet what is left (see [`super::ledger`]).

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::distribution::{DistributionSpec, LatentQuantile};
use crate::funding::{
    Budget, BudgetYear, Certainty, Detail, Drivers, FundingError, GrantYear, Rate, ReferendumCheck,
    Sides, Step, fraction,
};
use crate::money::Money;
use crate::period::Horizon;
use crate::simulation::Engine;

use super::spec::{PlanError, Scenario, ScenarioSpec};

/// The columns of [`Scenario::mtfs`] and [`super::PlanResult::mtfs`] that are amounts, in
/// order (the exact table adds the council tax columns). `risks` is the register's cost in the
/// year and `closed_by_budget` what budgets set every year closed of it (`[budget_setting]`:
/// council tax and new savings as delivered), by source in `closed_by_council_tax` and
/// `closed_by_new_savings` (cumulative: what all budgets so far take off the year); the exact
/// table is the plan before either, so they are zero there, and a year's gap is
/// `gap_after_savings + risks - closed_by_budget`.
pub const MTFS_COLUMNS: [&str; 17] = [
    "council_tax",
    "business_rates",
    "grants",
    "fees_and_charges",
    "other_funding",
    "funding",
    "spending_lines",
    "pressures",
    "capital_financing",
    "spending",
    "gap_before_savings",
    "savings",
    "gap_after_savings",
    "risks",
    "closed_by_budget",
    "closed_by_council_tax",
    "closed_by_new_savings",
];

/// A named deterministic case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Case {
    /// Every uncertain input at its mean.
    Central,
    /// Each uncertain driver, grant, pressure and in-year overspend at its 10th or 90th
    /// percentile, whichever lowers the gap.
    Optimistic,
    /// The same, whichever raises the gap.
    Pessimistic,
}

impl FromStr for Case {
    type Err = PlanError;
    fn from_str(s: &str) -> Result<Case, PlanError> {
        match s {
            "central" => Ok(Case::Central),
            "optimistic" => Ok(Case::Optimistic),
            "pessimistic" => Ok(Case::Pessimistic),
            _ => Err(PlanError::Plan {
                field: "case",
                message: format!("{s:?} is not one of central, optimistic, pessimistic"),
            }),
        }
    }
}

/// The percentile of an uncertain input in the optimistic and pessimistic cases.
pub const CASE_PERCENTILE: f64 = 0.9;

/// One row of [`Scenario::mtfs`]: exact money, to the penny.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MtfsRow {
    /// The year.
    pub year: String,
    /// Council tax income (with any collection fund surplus less deficit).
    pub council_tax: Money,
    /// Retained business rates.
    pub business_rates: Money,
    /// Grants.
    pub grants: Money,
    /// Fees and charges.
    pub fees_and_charges: Money,
    /// The net budget typed in `plan.net_budget`, for a scenario without `[funding]`.
    pub other_funding: Money,
    /// Their sum.
    pub funding: Money,
    /// Spending lines before savings (without `[funding]`: the net budget before savings).
    pub spending_lines: Money,
    /// Pressures of the year (recurring ones from their first year) and the underlying in-year
    /// overspend.
    pub pressures: Money,
    /// Capital financing beyond what the budget provides (MRP, interest and revenue
    /// contributions, less investment and commercial income, less `capital.budgeted`), less
    /// capitalisation directions that fund the year's gap (see [`crate::capital`]).
    pub capital_financing: Money,
    /// Spending lines plus pressures plus capital financing.
    pub spending: Money,
    /// Spending less funding.
    pub gap_before_savings: Money,
    /// Planned savings: recurring ones due by the year, one-off ones due in it.
    pub savings: Money,
    /// The gap before savings less the savings: what is still to be found (negative: a
    /// surplus).
    pub gap_after_savings: Money,
    /// The gap after savings when positive: the further savings required to balance.
    pub savings_required_to_balance: Money,
    /// The Band D charge (with council tax).
    pub band_d: Option<Money>,
    /// The rise in that Band D charge that would close the gap after savings instead
    /// (`savings_required_to_balance` over the tax base and collection rate, rounded up to the
    /// penny).
    pub band_d_increase_to_balance: Option<Money>,
    /// The same as a fraction of the year's Band D.
    pub council_tax_equivalent: Option<Money>,
    /// Whether that rise would make the year's increase excessive under the referendum limits
    /// (without a dispensation for the year).
    pub breaches_referendum_limit: Option<bool>,
}

impl MtfsRow {
    /// The amount columns in [`MTFS_COLUMNS`] order (risks and closures by later budgets:
    /// zero, they are not in the exact table).
    pub fn amounts(&self) -> [Money; 17] {
        [
            self.council_tax,
            self.business_rates,
            self.grants,
            self.fees_and_charges,
            self.other_funding,
            self.funding,
            self.spending_lines,
            self.pressures,
            self.capital_financing,
            self.spending,
            self.gap_before_savings,
            self.savings,
            self.gap_after_savings,
            Money::ZERO,
            Money::ZERO,
            Money::ZERO,
            Money::ZERO,
        ]
    }
}

/// One row of [`Scenario::mtfs_lines`]: a funding source or spending line in a year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MtfsLine {
    /// The year.
    pub year: String,
    /// `funding` or `spending`.
    pub side: String,
    /// `council_tax`, `business_rates`, `grant`, `fees`, `other_funding`; `line`,
    /// `pressure`, `in_year`.
    pub kind: String,
    /// The source's or line's name.
    pub name: String,
    /// The amount.
    pub amount: Money,
}

/// One row of [`Scenario::sensitivities`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sensitivity {
    /// The input (a driver's name, `council_tax_increase`, `tax_base`,
    /// `business_rates_growth`, `grants`, `savings_delivery`).
    pub input: String,
    /// The year.
    pub year: String,
    /// The change in the year's gap after savings (positive: a larger gap) per 1% of the
    /// input: one percentage point more on a driver's rate, the core council tax increase or
    /// business rates growth in every year; 1% more tax base or grants; 1% of planned savings
    /// not delivered.
    pub change_per_1pct: Money,
}

/// One row of [`bridge`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BridgeRow {
    /// The year.
    pub year: String,
    /// The input changed (`driver: pay_award`, `council_tax`, `spending: Pay`, ...).
    pub input: String,
    /// The change in the year's gap after savings it made.
    pub change: Money,
}

/// One row of [`Scenario::council_tax`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CouncilTaxRow {
    /// The year.
    pub year: String,
    /// The tax base (Band D equivalents).
    pub tax_base: Money,
    /// The Band D charge.
    pub band_d: Money,
    /// The core increase.
    pub core_increase: Money,
    /// The social care precept.
    pub asc_precept: Money,
    /// The referendum limit on the core increase (an increase of this or more is excessive).
    pub core_limit: Option<Money>,
    /// The social care precept allowed.
    pub asc_limit: Option<Money>,
    /// The total threshold applied (core + allowance + any bespoke additional principle): a
    /// realised increase of this or more is excessive.
    pub threshold: Option<Money>,
    /// The realised increase in Band D, penny-rounded (a fraction).
    pub increase: Money,
    /// Whether the increase is excessive.
    pub excessive: bool,
    /// Whether the scenario records a dispensation.
    pub dispensation: bool,
    /// Excessive without a dispensation.
    pub flagged: bool,
    /// Council tax income.
    pub income: Money,
}

/// What a scenario's funding and spending need at run time.
#[derive(Debug, Clone)]
pub(crate) struct Finance {
    pub(crate) exact: Budget<Decimal>,
    pub(crate) float: Budget<f64>,
    pub(crate) drivers: Drivers,
    pub(crate) grants: Vec<Vec<GrantYear>>,
    pub(crate) flags: Vec<ReferendumCheck>,
    pub(crate) grant_names: Vec<(String, Certainty)>,
    pub(crate) fee_names: Vec<String>,
    pub(crate) line_names: Vec<String>,
    /// The drivers' own correlations (`D x D`) and its lower Cholesky factor.
    pub(crate) own_corr: Vec<f64>,
    pub(crate) chol: Vec<f64>,
    /// Each driver's links to risks: (risk index, latent loading).
    pub(crate) risk_links: Vec<Vec<(usize, f64)>>,
    /// Whether any driver or grant is uncertain.
    pub(crate) uncertain: bool,
    /// Per driver and year, and per grant and year: whether the year's distribution is the
    /// previous year's (one quantile serves both: a trial's latent is the same every year).
    pub(crate) rate_repeats: Vec<Vec<bool>>,
    pub(crate) grant_repeats: Vec<Vec<bool>>,
    /// Each uncertain rate's and grant's quantile at a latent, built at the first run.
    latent: std::sync::OnceLock<LatentTables>,
    /// Drivers without `[funding]` and `[[spending]]`: the rates other inputs follow (a
    /// capital borrowing rate); the budget is `plan.net_budget`, and the funding tables are
    /// empty.
    pub(crate) drivers_only: bool,
}

/// `[driver][year]` and `[grant][year]`: the quantile at a latent of each uncertain year (none
/// for fixed years and for years that repeat the previous year's distribution).
#[derive(Debug, Clone)]
struct LatentTables {
    rates: Vec<Vec<Option<LatentQuantile>>>,
    grants: Vec<Vec<Option<LatentQuantile>>>,
}

fn repeats<T>(by_year: &[T], spec: impl Fn(&T) -> Option<&DistributionSpec>) -> Vec<bool> {
    (0..by_year.len())
        .map(|y| y > 0 && spec(&by_year[y]).is_some() && spec(&by_year[y]) == spec(&by_year[y - 1]))
        .collect()
}

/// Exact decimals whose arithmetic flags an overflow instead of panicking: the budget of each
/// case is run in them once, when the scenario is built, so that inputs within their own bounds
/// whose products leave the exact range (a tax base of 1e15 at a Band D of 1e15, a driver of 10
/// a year over 30 years) are an error naming the year, never a panic (issue 38, item 9).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
struct Checked(Decimal);

thread_local! {
    static OVERFLOWED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl Checked {
    fn or_flag(x: Option<Decimal>) -> Checked {
        Checked(x.unwrap_or_else(|| {
            OVERFLOWED.with(|o| o.set(true));
            Decimal::ZERO
        }))
    }
}

impl std::ops::Add for Checked {
    type Output = Checked;
    fn add(self, o: Checked) -> Checked {
        Checked::or_flag(self.0.checked_add(o.0))
    }
}

impl std::ops::Sub for Checked {
    type Output = Checked;
    fn sub(self, o: Checked) -> Checked {
        Checked::or_flag(self.0.checked_sub(o.0))
    }
}

impl std::ops::Mul for Checked {
    type Output = Checked;
    fn mul(self, o: Checked) -> Checked {
        Checked::or_flag(self.0.checked_mul(o.0))
    }
}

impl std::ops::AddAssign for Checked {
    fn add_assign(&mut self, o: Checked) {
        *self = *self + o;
    }
}

impl std::ops::SubAssign for Checked {
    fn sub_assign(&mut self, o: Checked) {
        *self = *self - o;
    }
}

impl super::ledger::Amount for Checked {
    const ZERO: Checked = Checked(Decimal::ZERO);
    const ONE: Checked = Checked(Decimal::ONE);
    const HALF: Checked = Checked(<Decimal as crate::amount::Amount>::HALF);
    fn penny(self) -> Checked {
        Checked(super::ledger::Amount::penny(self.0))
    }
}

/// The inputs of a deterministic case: drivers' rates (`[d * years + y]`), grants' amounts
/// (same layout), pressures by year, and the underlying in-year overspend.
#[derive(Debug, Clone)]
pub(crate) struct CaseInputs {
    pub(crate) rates: Vec<Decimal>,
    pub(crate) grants: Vec<Decimal>,
    pub(crate) pressures: Vec<Decimal>,
}

fn dec(x: f64) -> Decimal {
    Money::from_f64(x).map(|m| m.decimal()).unwrap_or_default()
}

impl Finance {
    pub(crate) fn new(
        spec: &ScenarioSpec,
        drivers: Drivers,
        horizon: &Horizon,
        pairs: Vec<(usize, usize, f64)>,
        risks: Vec<(usize, usize, f64)>,
    ) -> Result<Option<Finance>, PlanError> {
        let Some(funding) = &spec.funding else {
            if !spec.spending.is_empty() {
                return Err(FundingError::Invalid {
                    field: "spending".into(),
                    message:
                        "spending lines need a [funding] section: the gap is spending less funding"
                            .into(),
                }
                .into());
            }
            if spec.drivers.is_empty() {
                return Ok(None);
            }
            // Drivers without funding and spending: rates that other inputs follow (a capital
            // borrowing rate), drawn as with funding; the budget is the plan's net budget.
            return Self::build(
                &crate::funding::FundingSpec::default(),
                spec,
                drivers,
                horizon,
                pairs,
                risks,
                true,
            );
        };
        if spec.spending.is_empty() {
            return Err(FundingError::Invalid {
                field: "spending".into(),
                message:
                    "a [funding] section needs [[spending]] lines: the gap is spending less funding"
                        .into(),
            }
            .into());
        }
        Self::build(funding, spec, drivers, horizon, pairs, risks, false)
    }

    /// Compiles funding and spending (none, with `drivers_only`) with the drivers.
    fn build(
        funding: &crate::funding::FundingSpec,
        spec: &ScenarioSpec,
        drivers: Drivers,
        horizon: &Horizon,
        pairs: Vec<(usize, usize, f64)>,
        risks: Vec<(usize, usize, f64)>,
        drivers_only: bool,
    ) -> Result<Option<Finance>, PlanError> {
        let (
            exact,
            Sides {
                drivers,
                grants,
                flags,
            },
        ) = Budget::new(funding, &spec.spending, drivers, horizon)?;
        let d = drivers.names.len();
        let mut own_corr = vec![0.0; d * d];
        for i in 0..d {
            own_corr[i * d + i] = 1.0;
        }
        for &(a, b, r) in &pairs {
            if own_corr[a * d + b] != 0.0 {
                return Err(PlanError::Links(format!(
                    "drivers {:?} and {:?} are correlated twice",
                    drivers.names[a], drivers.names[b]
                )));
            }
            own_corr[a * d + b] = r;
            own_corr[b * d + a] = r;
        }
        let chol = crate::correlation::cholesky(&own_corr, d).ok_or_else(|| {
            PlanError::Links(
                "the correlations between drivers do not form a valid correlation matrix".into(),
            )
        })?;
        let mut risk_links = vec![Vec::new(); d];
        for &(driver, risk, r) in &risks {
            if risk_links[driver].iter().any(|(x, _)| *x == risk) {
                return Err(PlanError::Links(format!(
                    "driver {:?} is correlated with the same risk twice",
                    drivers.names[driver]
                )));
            }
            risk_links[driver].push((risk, r));
        }
        let uncertain = (0..d).any(|i| drivers.uncertain(i))
            || grants
                .iter()
                .flatten()
                .any(|g| matches!(g, GrantYear::Uncertain(_)));
        let float = exact.to(|x| {
            use rust_decimal::prelude::ToPrimitive;
            x.to_f64().unwrap_or(f64::NAN)
        });
        // A repeated distribution shares the previous year's quantile only while the latent
        // stays the same (persistence 1).
        let rate_repeats = drivers
            .rates
            .iter()
            .zip(&drivers.persistence)
            .map(|(r, p)| {
                let same = repeats(r, |x| match x {
                    Rate::Uncertain(d) => Some(d.spec()),
                    Rate::Fixed(_) => None,
                });
                if *p < 1.0 {
                    vec![false; same.len()]
                } else {
                    same
                }
            })
            .collect();
        let grant_repeats = grants
            .iter()
            .map(|g| {
                repeats(g, |x| match x {
                    GrantYear::Uncertain(d) => Some(d.spec()),
                    GrantYear::Fixed(_) => None,
                })
            })
            .collect();
        Ok(Some(Finance {
            drivers_only,
            latent: std::sync::OnceLock::new(),
            rate_repeats,
            grant_repeats,
            exact,
            float,
            drivers,
            grants,
            flags,
            grant_names: funding
                .grants
                .iter()
                .map(|g| (g.name.trim().to_string(), g.certainty))
                .collect(),
            fee_names: funding
                .fees
                .iter()
                .map(|f| f.name.trim().to_string())
                .collect(),
            line_names: spec
                .spending
                .iter()
                .map(|s| s.name.trim().to_string())
                .collect(),
            own_corr,
            chol,
            risk_links,
            uncertain,
        }))
    }

    /// Referendum flags and years the shipped principles do not cover.
    pub(crate) fn warnings(&self) -> Vec<String> {
        let pct = |x: Decimal| format!("{}%", (x * Decimal::ONE_HUNDRED).normalize());
        let mut out = Vec::new();
        let unchecked: Vec<&str> = self
            .flags
            .iter()
            .filter(|f| f.limits.is_none() && f.core_increase + f.asc_precept > Decimal::ZERO)
            .map(|f| f.year.as_str())
            .collect();
        if !unchecked.is_empty() {
            out.push(format!(
                "funding.council_tax: no referendum principles are shipped for {}; the increases there are not checked (give funding.council_tax.referendum_limits)",
                unchecked.join(", ")
            ));
        }
        for f in &self.flags {
            if let (Some(threshold), true) = (f.threshold, f.flagged()) {
                out.push(format!(
                    "funding.council_tax: the increase in {} (core {}, social care precept {}: Band D up {}) is excessive under the referendum principles (a rise of {} or more{}): it needs a referendum, or the bespoke principle the government agreed, in funding.council_tax.dispensation",
                    f.year,
                    pct(f.core_increase),
                    pct(f.asc_precept),
                    pct(f.increase.round_dp(4)),
                    pct(threshold),
                    f.pounds
                        .map(|p| format!(" and more than £{p} on Band D"))
                        .unwrap_or_default()
                ));
            }
        }
        for f in self.flags.iter().filter(|f| f.waived) {
            out.push(format!(
                "funding.council_tax.dispensation: {} is waived in full (a list of years); give the bespoke principle the government agreed, the points above the threshold: {{ \"{}\" = 0.025 }}",
                f.year, f.year
            ));
        }
        out
    }

    /// The correlation of driver `a`'s latent with driver `b`'s.
    pub(crate) fn driver_correlation(&self, a: usize, b: usize, engine: &Engine<'_>) -> f64 {
        let own = self.own_scale(engine);
        let d = self.drivers.names.len();
        let mut v = 0.0;
        for &(s, cs) in &self.risk_links[a] {
            for &(t, ct) in &self.risk_links[b] {
                v += cs * ct * risk_correlation(engine, s, t);
            }
        }
        v + own[a] * own[b] * self.own_corr[a * d + b]
    }

    /// The correlation of driver `a`'s latent with the risk latent in copula slot `slot`.
    pub(crate) fn driver_slot_correlation(
        &self,
        a: usize,
        slot: usize,
        engine: &Engine<'_>,
    ) -> f64 {
        self.risk_links[a]
            .iter()
            .map(|&(s, c)| {
                engine
                    .member_slot(s)
                    .map_or(0.0, |t| c * engine.latent_correlation(t, slot))
            })
            .sum()
    }

    /// The variance each driver's risk links explain.
    pub(crate) fn linked_variance(&self, engine: &Engine<'_>) -> Vec<f64> {
        self.risk_links
            .iter()
            .map(|links| {
                let mut v = 0.0;
                for &(s, cs) in links {
                    for &(t, ct) in links {
                        v += cs * ct * risk_correlation(engine, s, t);
                    }
                }
                v
            })
            .collect()
    }

    fn own_scale(&self, engine: &Engine<'_>) -> Vec<f64> {
        self.linked_variance(engine)
            .iter()
            .map(|v| (1.0 - v).max(0.0).sqrt())
            .collect()
    }

    /// The budget by year when no driver or grant is uncertain.
    pub(crate) fn fixed_years(&self) -> Vec<BudgetYear<f64>> {
        let d = self.drivers.names.len();
        let years = self.float.years;
        let mut rates = vec![0.0; d * years];
        for (a, by_year) in self.drivers.rates.iter().enumerate() {
            for (y, r) in by_year.iter().enumerate() {
                rates[a * years + y] = r.mean();
            }
        }
        let mut grants = vec![0.0; self.grants.len() * years];
        for (k, by_year) in self.grants.iter().enumerate() {
            for (y, g) in by_year.iter().enumerate() {
                grants[k * years + y] = match g {
                    GrantYear::Fixed(m) => m.to_f64(),
                    GrantYear::Uncertain(dist) => dist.mean(),
                };
            }
        }
        let mut index = Vec::new();
        self.float.indexes(&rates, &mut index);
        let mut out = vec![BudgetYear::default(); years];
        self.float.run(&rates, &index, &grants, &mut out, None);
        out
    }

    /// Draws a batch's driver latents (`[d * n + j]`, standard normals correlated as the
    /// scenario says) and grant amounts, and runs each trial's budget. Returns the latents,
    /// the budget by trial and year (`[j * years + y]`) and, for driver `keep`, its rates by
    /// trial and year (same layout; empty without `keep`).
    pub(crate) fn draw(
        &self,
        engine: &Engine<'_>,
        n: usize,
        rng: &mut crate::rng::Rng,
        risk_z: &[f64],
        keep: Option<usize>,
    ) -> (Vec<f64>, Vec<BudgetYear<f64>>, Vec<f64>) {
        let d = self.drivers.names.len();
        let years = self.float.years;
        let e = super::engine::std_normals(rng, d * n);
        let own = self.own_scale(engine);
        let mut z = vec![0.0; d * n];
        for a in 0..d {
            for k in 0..=a {
                let l = self.chol[a * d + k] * own[a];
                if l != 0.0 {
                    for j in 0..n {
                        z[a * n + j] += l * e[k * n + j];
                    }
                }
            }
            for &(risk, c) in &self.risk_links[a] {
                let slot = engine
                    .member_slot(risk)
                    .expect("a linked risk is in the copula");
                for j in 0..n {
                    z[a * n + j] += c * risk_z[slot * n + j];
                }
            }
        }
        let g = self.grants.len();
        let uncertain_grants: Vec<usize> = (0..g)
            .filter(|&k| {
                self.grants[k]
                    .iter()
                    .any(|x| matches!(x, GrantYear::Uncertain(_)))
            })
            .collect();
        let gz = super::engine::std_normals(rng, uncertain_grants.len() * n);
        let mut rates = vec![0.0; d * years];
        let mut grants = vec![0.0; g * years];
        for (k, by_year) in self.grants.iter().enumerate() {
            for (y, x) in by_year.iter().enumerate() {
                if let GrantYear::Fixed(m) = x {
                    grants[k * years + y] = m.to_f64();
                }
            }
        }
        // Drivers whose shocks decay: each later year's latent `p z + sqrt(1 - p^2) e`, the
        // innovations correlated between drivers as the first year's are (drawn after every
        // other draw, so that lasting drivers draw as before).
        let decaying: Vec<usize> = (0..d)
            .filter(|&a| self.drivers.persistence[a] < 1.0 && self.drivers.uncertain(a))
            .collect();
        let mut yearly: Vec<f64> = Vec::new();
        if !decaying.is_empty() && years > 1 {
            yearly = vec![0.0; d * years * n];
            for a in 0..d {
                yearly[a * years * n..a * years * n + n].copy_from_slice(&z[a * n..(a + 1) * n]);
            }
            for y in 1..years {
                let e = super::engine::std_normals(rng, d * n);
                for a in 0..d {
                    let p = self.drivers.persistence[a];
                    let fresh = (1.0 - p * p).sqrt();
                    for j in 0..n {
                        let mut u = 0.0;
                        for k in 0..=a {
                            u += self.chol[a * d + k] * e[k * n + j];
                        }
                        let before = yearly[(a * years + y - 1) * n + j];
                        yearly[(a * years + y) * n + j] = p * before + fresh * u;
                    }
                }
            }
        }
        let mut index = Vec::with_capacity(d * years);
        let mut out = vec![BudgetYear::default(); n * years];
        let mut kept = Vec::with_capacity(if keep.is_some() { n * years } else { 0 });
        let tables = self.latent.get_or_init(|| {
            let table = |repeats: &[bool], y: usize, dist: &crate::distribution::Distribution| {
                (!repeats[y]).then(|| dist.latent_quantile())
            };
            LatentTables {
                rates: self
                    .drivers
                    .rates
                    .iter()
                    .enumerate()
                    .map(|(a, by_year)| {
                        by_year
                            .iter()
                            .enumerate()
                            .map(|(y, r)| match r {
                                Rate::Uncertain(dist) => table(&self.rate_repeats[a], y, dist),
                                Rate::Fixed(_) => None,
                            })
                            .collect()
                    })
                    .collect(),
                grants: self
                    .grants
                    .iter()
                    .enumerate()
                    .map(|(k, by_year)| {
                        by_year
                            .iter()
                            .enumerate()
                            .map(|(y, g)| match g {
                                GrantYear::Uncertain(dist) => {
                                    table(&self.grant_repeats[k], y, dist)
                                }
                                GrantYear::Fixed(_) => None,
                            })
                            .collect()
                    })
                    .collect(),
            }
        });
        for j in 0..n {
            for a in 0..d {
                for (y, r) in self.drivers.rates[a].iter().enumerate() {
                    rates[a * years + y] = match (r, &tables.rates[a][y]) {
                        (Rate::Fixed(x), _) => *x,
                        (Rate::Uncertain(_), Some(q)) => {
                            if yearly.is_empty() || self.drivers.persistence[a] >= 1.0 {
                                q.at(z[a * n + j])
                            } else {
                                q.at(yearly[(a * years + y) * n + j])
                            }
                        }
                        (Rate::Uncertain(_), None) => rates[a * years + y - 1],
                    };
                }
            }
            for (slot, &k) in uncertain_grants.iter().enumerate() {
                let latent = gz[slot * n + j];
                for y in 0..years {
                    if let Some(q) = &tables.grants[k][y] {
                        grants[k * years + y] = q.at(latent);
                    } else if matches!(self.grants[k][y], GrantYear::Uncertain(_)) {
                        grants[k * years + y] = grants[k * years + y - 1];
                    }
                }
            }
            if let Some(a) = keep {
                kept.extend_from_slice(&rates[a * years..(a + 1) * years]);
            }
            self.float.indexes(&rates, &mut index);
            self.float.run(
                &rates,
                &index,
                &grants,
                &mut out[j * years..(j + 1) * years],
                None,
            );
        }
        (z, out, kept)
    }
}

/// The correlation of two risks' latents (register indexes).
fn risk_correlation(engine: &Engine<'_>, s: usize, t: usize) -> f64 {
    match (engine.member_slot(s), engine.member_slot(t)) {
        (Some(a), Some(b)) => engine.latent_correlation(a, b),
        _ => f64::from(u8::from(s == t)),
    }
}

/// Exact amounts of one case, by year.
struct Table {
    years: Vec<BudgetYear<Decimal>>,
    detail: Option<Detail<Decimal>>,
    net_budget: Vec<Decimal>,
    pressures: Vec<Decimal>,
    /// Capital financing beyond what the budget provides, before capitalisation directions.
    capital: Vec<Decimal>,
    /// Capitalisation directions that fund the year's gap (one year's money; see
    /// [`super::year`]).
    direction: Vec<Decimal>,
    need: Vec<Decimal>,
    savings: Vec<Decimal>,
}

impl Table {
    fn funding(&self, y: usize) -> Decimal {
        let b = &self.years[y];
        b.council_tax + b.business_rates + b.grants + b.fees + self.net_budget[y]
    }

    fn lines(&self, y: usize) -> Decimal {
        if self.detail.is_some() {
            self.years[y].spending
        } else {
            self.net_budget[y] + self.need[y]
        }
    }

    /// Capital financing less the part of the direction that funds the year's gap: at most
    /// the gap, never a surplus (as [`super::year::Years::year`] applies it).
    fn capital_financing(&self, y: usize) -> Decimal {
        let before =
            self.lines(y) + self.pressures[y] + self.capital[y] - self.funding(y) - self.savings[y];
        self.capital[y] - self.direction[y].min(before.max(Decimal::ZERO))
    }

    fn spending(&self, y: usize) -> Decimal {
        self.lines(y) + self.pressures[y] + self.capital_financing(y)
    }

    fn gap_after(&self, y: usize) -> Decimal {
        self.spending(y) - self.funding(y) - self.savings[y]
    }

    /// The gap the base budget leaves beyond pressures and savings shortfalls: spending lines
    /// less funding less every saving due (with `[funding]`), plus capital financing before
    /// directions (the year applies those, one year at a time).
    fn structural(&self, y: usize) -> Decimal {
        let base = if self.detail.is_some() {
            self.lines(y) - self.funding(y) - self.need[y]
        } else {
            Decimal::ZERO
        };
        base + self.capital[y]
    }
}

impl Scenario {
    /// Planned savings by year: recurring savings due by the year, one-off savings due in it;
    /// and what the base budget needs of them (every saving due by the year, one-off or not).
    pub(crate) fn planned_savings(&self) -> (Vec<Decimal>, Vec<Decimal>) {
        let years = self.horizon.len();
        let mut savings = vec![Decimal::ZERO; years];
        let mut need = vec![Decimal::ZERO; years];
        for (s, due) in &self.savings {
            let v = s.spec().value.decimal();
            for y in *due..years {
                need[y] += v;
                if s.spec().recurring || y == *due {
                    savings[y] += v;
                }
            }
        }
        (savings, need)
    }

    /// The value of an uncertain input in a case: its mean, or its 10th or 90th percentile in
    /// the direction `adverse` (true: the higher value raises the gap).
    fn case_value(d: &crate::distribution::Distribution, case: Case, adverse_high: bool) -> f64 {
        let p = match (case, adverse_high) {
            (Case::Central, _) => return d.mean(),
            (Case::Pessimistic, true) | (Case::Optimistic, false) => CASE_PERCENTILE,
            _ => 1.0 - CASE_PERCENTILE,
        };
        d.quantile(p).unwrap_or_else(|_| d.mean())
    }

    /// The inputs of a case. `signs` says, per driver, whether a higher rate raises the gap.
    fn case_inputs(&self, case: Case, signs: Option<&[bool]>) -> CaseInputs {
        let years = self.horizon.len();
        let mut rates = Vec::new();
        let mut grants = Vec::new();
        if let Some(f) = &self.finance {
            for (a, by_year) in f.drivers.rates.iter().enumerate() {
                let high = signs.is_none_or(|s| s[a]);
                for r in by_year {
                    rates.push(match r {
                        Rate::Fixed(x) => fraction(*x),
                        Rate::Uncertain(d) => dec(Self::case_value(d, case, high)),
                    });
                }
            }
            for by_year in &f.grants {
                for g in by_year {
                    grants.push(match g {
                        GrantYear::Fixed(m) => m.decimal(),
                        GrantYear::Uncertain(d) => {
                            dec(Self::case_value(d, case, false)).round_dp(2)
                        }
                    });
                }
            }
        }
        let mut pressures = vec![Decimal::ZERO; years];
        for (p, spec) in self.pressures.iter().zip(&self.spec.pressures) {
            let v = match &spec.amount {
                DistributionSpec::Fixed { value } => value.decimal(),
                _ => dec(Self::case_value(&p.amount, case, true)).round_dp(2),
            };
            if p.recurring {
                for x in &mut pressures[p.start..] {
                    *x += v;
                }
            } else {
                pressures[p.start] += v;
            }
        }
        if let (Some(i), Some(spec)) = (&self.in_year, &self.spec.in_year)
            && let Some(m) = i.mitigations
        {
            let o = match &spec.overspend {
                DistributionSpec::Fixed { value } => value.decimal(),
                _ => dec(Self::case_value(&i.overspend, case, true)).round_dp(2),
            };
            let underlying = o + dec(m);
            for x in &mut pressures {
                *x += underlying;
            }
        }
        CaseInputs {
            rates,
            grants,
            pressures,
        }
    }

    fn table_with(&self, inputs: &CaseInputs, budget: Option<&Budget<Decimal>>) -> Table {
        let years = self.horizon.len();
        let (savings, need) = self.planned_savings();
        let mut out = vec![BudgetYear::default(); years];
        let mut net_budget = vec![Decimal::ZERO; years];
        let detail = match (self.funded(), budget) {
            (Some(f), Some(b)) => {
                let mut index = Vec::new();
                b.indexes(&inputs.rates, &mut index);
                let mut detail = Detail {
                    band_d: Vec::new(),
                    tax_base: Vec::new(),
                    lines: vec![Vec::new(); f.line_names.len()],
                    fees: vec![Vec::new(); f.fee_names.len()],
                };
                b.run(
                    &inputs.rates,
                    &index,
                    &inputs.grants,
                    &mut out,
                    Some(&mut detail),
                );
                Some(detail)
            }
            _ => {
                net_budget = self.net_budget.iter().map(|m| m.decimal()).collect();
                None
            }
        };
        // Capital financing at the case's rates when the borrowing rate follows a driver.
        let capital = match &self.capital {
            Some(c) if c.driver().is_some() && !inputs.rates.is_empty() => c
                .rows_at(Some(&inputs.rates))
                .iter()
                .map(|r| r.gap_effect.decimal())
                .collect(),
            Some(c) => c.gap_effect(),
            None => vec![Decimal::ZERO; years],
        };
        let direction = self.directions();
        let capital = capital.iter().zip(&direction).map(|(c, d)| c + d).collect();
        Table {
            years: out,
            detail,
            net_budget,
            pressures: inputs.pressures.clone(),
            capital,
            direction,
            need,
            savings,
        }
    }

    fn table(&self, case: Case) -> Table {
        let signs = (case != Case::Central).then(|| self.driver_signs());
        let inputs = self.case_inputs(case, signs.as_deref());
        self.table_with(&inputs, self.funded().map(|f| &f.exact))
    }

    /// Per driver: whether one point more on its rate raises the plan's total gap.
    fn driver_signs(&self) -> Vec<bool> {
        let Some(f) = self.funded() else {
            return Vec::new();
        };
        let central = self.case_inputs(Case::Central, None);
        let base = self.table_with(&central, Some(&f.exact));
        let years = self.horizon.len();
        (0..f.drivers.names.len())
            .map(|a| {
                let mut bumped = central.clone();
                for r in &mut bumped.rates[a * years..(a + 1) * years] {
                    *r += Decimal::new(1, 2);
                }
                let t = self.table_with(&bumped, Some(&f.exact));
                (0..years)
                    .map(|y| t.gap_after(y) - base.gap_after(y))
                    .sum::<Decimal>()
                    >= Decimal::ZERO
            })
            .collect()
    }

    /// Runs the budget of each named case, and of the central case with every driver one point
    /// higher (the sensitivities), in checked decimals: an overflow, or a year's council tax,
    /// business rates, fees or spending beyond the amounts the plan takes (£1e15), is an error
    /// naming the year, before any table is built.
    pub(crate) fn check_budget_range(&self) -> Result<(), PlanError> {
        let Some(f) = self.funded() else {
            return Ok(());
        };
        let budget = f.exact.to(Checked);
        let central = self.case_inputs(Case::Central, None);
        let mut bumped = central.clone();
        bumped
            .rates
            .iter_mut()
            .for_each(|r| *r += Decimal::new(1, 2));
        let years = self.horizon.len();
        let limit = Decimal::from(1_000_000_000_000_000i64);
        // The adverse and favourable cases need the drivers' signs, which run the exact tables
        // of the central case and its bumps: those are checked first.
        let mut cases: Vec<Option<CaseInputs>> = vec![Some(central), Some(bumped), None, None];
        for k in 0..cases.len() {
            if k == 2 {
                let signs = self.driver_signs();
                cases[2] = Some(self.case_inputs(Case::Optimistic, Some(&signs)));
                cases[3] = Some(self.case_inputs(Case::Pessimistic, Some(&signs)));
            }
            let Some(inputs) = &cases[k] else { continue };
            OVERFLOWED.with(|o| o.set(false));
            let rates: Vec<Checked> = inputs.rates.iter().map(|r| Checked(*r)).collect();
            let grants: Vec<Checked> = inputs.grants.iter().map(|g| Checked(*g)).collect();
            let mut index = Vec::new();
            budget.indexes(&rates, &mut index);
            let mut out = vec![BudgetYear::default(); years];
            budget.run(&rates, &index, &grants, &mut out, None);
            let overflowed = OVERFLOWED.with(|o| o.replace(false));
            let beyond = out.iter().position(|b| {
                [
                    b.council_tax,
                    b.business_rates,
                    b.grants,
                    b.fees,
                    b.spending,
                ]
                .iter()
                .any(|x| x.0.abs() > limit)
            });
            if overflowed || beyond.is_some() {
                let year = beyond.map_or_else(
                    || "the plan's years".to_string(),
                    |y| self.horizon.first().offset(y as u32).to_string(),
                );
                return Err(PlanError::Funding(FundingError::Invalid {
                    field: "funding".into(),
                    message: format!(
                        "the budget in {year} reaches amounts beyond £1e15 (tax base times Band D, \
                         price times volume, population times unit cost, or a driver compounded \
                         over the years, in the central case or a driver's adverse percentile): \
                         check the units and the rates"
                    ),
                }));
            }
        }
        Ok(())
    }

    /// The central case's funding by year (a scenario's net budget when it has `[funding]`
    /// and no `plan.net_budget`).
    pub(crate) fn central_funding(&self) -> Result<Vec<Money>, PlanError> {
        let t = self.table(Case::Central);
        (0..self.horizon.len())
            .map(|y| {
                let f = t.funding(y);
                if f <= Decimal::ZERO {
                    Err(PlanError::Plan {
                        field: "net_budget",
                        message: format!(
                            "the funding of {} is {f}, not positive: the net budget cannot be taken from it",
                            self.horizon.first().offset(y as u32)
                        ),
                    })
                } else {
                    Ok(Money::new(f).round_to_penny())
                }
            })
            .collect()
    }

    /// The gap the base budget leaves by year beyond pressures and savings shortfalls, for the
    /// exact ledger: spending lines less funding less every saving due by the year (zero
    /// without `[funding]`). Errors name the first uncertain driver or grant.
    pub(crate) fn exact_structural(&self) -> Result<Vec<Decimal>, PlanError> {
        let years = self.horizon.len();
        let Some(f) = self.funded() else {
            let t = self.table(Case::Central);
            return Ok((0..years).map(|y| t.structural(y)).collect());
        };
        for (a, by_year) in f.drivers.rates.iter().enumerate() {
            if by_year.iter().any(|r| matches!(r, Rate::Uncertain(_))) {
                return Err(PlanError::Uncertain {
                    what: format!("drivers[{a}].rate"),
                    why: "a distribution".into(),
                });
            }
        }
        for (k, by_year) in f.grants.iter().enumerate() {
            if by_year.iter().any(|g| matches!(g, GrantYear::Uncertain(_))) {
                return Err(PlanError::Uncertain {
                    what: format!("funding.grants[{k}].amount"),
                    why: "a distribution".into(),
                });
            }
        }
        let t = self.table(Case::Central);
        Ok((0..years).map(|y| t.structural(y)).collect())
    }

    /// The central case's capital financing by year in floats (the MTFS column, directions
    /// capped at the central gap): what the budget carries of capital.
    pub(crate) fn central_capital_financing(&self) -> Vec<f64> {
        let t = self.table(Case::Central);
        (0..self.horizon.len())
            .map(|y| Money::new(t.capital_financing(y)).to_f64())
            .collect()
    }

    /// The central case's structural gap by year in floats (see [`Scenario::exact_structural`];
    /// zero without `[funding]`), uncertain drivers and grants at their means.
    pub(crate) fn central_structural(&self) -> Vec<f64> {
        use rust_decimal::prelude::ToPrimitive;
        let years = self.horizon.len();
        if self.funded().is_none() {
            return vec![0.0; years];
        }
        let t = self.table(Case::Central);
        (0..years)
            .map(|y| {
                (t.lines(y) - t.funding(y) - t.need[y])
                    .to_f64()
                    .unwrap_or(0.0)
            })
            .collect()
    }

    /// The MTFS table by year for a deterministic case (`central`: every uncertain input at
    /// its mean), exact to the penny: funding by source, spending, the gap before savings,
    /// savings, the gap after savings and its council tax equivalent. Risks are not in it.
    ///
    /// # Examples
    ///
    /// ```
    /// use fiscalrisk::plan::{Case, Scenario};
    /// let s = Scenario::from_toml(r#"
    /// [plan]
    /// name = "Funded"
    /// first_year = "2024/25"
    /// years = 2
    ///
    /// [[drivers]]
    /// name = "pay"
    /// rate = 0.03
    ///
    /// [funding.council_tax]
    /// tax_base = 100_000
    /// band_d = 2_000
    /// core_increase = 0.0299
    /// asc_precept = 0.02
    ///
    /// [[spending]]
    /// name = "Pay"
    /// base = 200e6
    /// drivers = { pay = 1.0 }
    ///
    /// [reserves]
    /// general_fund = 20e6
    /// "#).unwrap();
    /// let t = s.mtfs(Case::Central).unwrap();
    /// // Band D 2,000 * 1.0499 = 2,099.80; 100,000 of them = 209.98m against pay of 206m.
    /// assert_eq!(t[0].council_tax.to_string(), "209980000.00");
    /// assert_eq!(t[0].spending.to_string(), "206000000.00");
    /// assert_eq!(t[0].gap_after_savings.to_string(), "-3980000.00");
    /// ```
    pub fn mtfs(&self, case: Case) -> Result<Vec<MtfsRow>, PlanError> {
        let t = self.table(case);
        let years = self.horizon.len();
        let m = |d: Decimal| Money::new(d).round_to_penny();
        let ct = self.funded().and_then(|f| f.exact.council_tax.as_ref());
        let mut rows = Vec::with_capacity(years);
        for y in 0..years {
            let b = &t.years[y];
            let funding = t.funding(y);
            let lines = t.lines(y);
            let spending = t.spending(y);
            let before = spending - funding;
            let after = before - t.savings[y];
            let required = after.max(Decimal::ZERO);
            let (mut band_d, mut increase, mut equivalent, mut breach) = (None, None, None, None);
            if let (Some(c), Some(detail)) = (ct, &t.detail) {
                let bd = detail.band_d[y];
                let units = detail.tax_base[y] * c.collection;
                let extra = if units > Decimal::ZERO {
                    (required / units)
                        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::AwayFromZero)
                } else {
                    Decimal::ZERO
                };
                let previous = if y == 0 {
                    c.band_d
                } else {
                    detail.band_d[y - 1]
                };
                let flag = &self.funded().expect("council tax is funding").flags[y];
                band_d = Some(m(bd));
                increase = Some(m(extra));
                equivalent = (bd > Decimal::ZERO).then(|| Money::new((extra / bd).round_dp(6)));
                breach = Some(
                    !flag.waived
                        && flag.limits.is_some_and(|l| {
                            previous > Decimal::ZERO
                                && crate::referendum::check_with(
                                    (l.0, l.1, flag.pounds),
                                    previous,
                                    c.core[y] + c.asc[y] + extra / previous,
                                    flag.additional,
                                )
                                .excessive
                        }),
                );
            }
            rows.push(MtfsRow {
                year: self.horizon.first().offset(y as u32).to_string(),
                council_tax: m(b.council_tax),
                business_rates: m(b.business_rates),
                grants: m(b.grants),
                fees_and_charges: m(b.fees),
                other_funding: m(t.net_budget[y]),
                funding: m(funding),
                spending_lines: m(lines),
                pressures: m(t.pressures[y]),
                capital_financing: m(t.capital_financing(y)),
                spending: m(spending),
                gap_before_savings: m(before),
                savings: m(t.savings[y]),
                gap_after_savings: m(after),
                savings_required_to_balance: m(required),
                band_d,
                band_d_increase_to_balance: increase,
                council_tax_equivalent: equivalent,
                breaches_referendum_limit: breach,
            });
        }
        Ok(rows)
    }

    /// Each funding source and spending line by year in a case (the MTFS table's detail).
    pub fn mtfs_lines(&self, case: Case) -> Vec<MtfsLine> {
        let t = self.table(case);
        let years = self.horizon.len();
        let mut out = Vec::new();
        let label = |y: usize| self.horizon.first().offset(y as u32).to_string();
        let mut push = |y: usize, side: &str, kind: &str, name: &str, amount: Decimal| {
            out.push(MtfsLine {
                year: label(y),
                side: side.into(),
                kind: kind.into(),
                name: name.into(),
                amount: Money::new(amount).round_to_penny(),
            });
        };
        let inputs = self.case_inputs(case, None);
        for y in 0..years {
            match (self.funded(), &t.detail) {
                (Some(f), Some(d)) => {
                    if f.exact.council_tax.is_some() {
                        push(
                            y,
                            "funding",
                            "council_tax",
                            "council_tax",
                            t.years[y].council_tax,
                        );
                    }
                    if f.exact.business_rates.is_some() {
                        push(
                            y,
                            "funding",
                            "business_rates",
                            "business_rates",
                            t.years[y].business_rates,
                        );
                    }
                    for (k, (name, _)) in f.grant_names.iter().enumerate() {
                        push(y, "funding", "grant", name, inputs.grants[k * years + y]);
                    }
                    for (k, name) in f.fee_names.iter().enumerate() {
                        push(y, "funding", "fees", name, d.fees[k][y]);
                    }
                    for (k, name) in f.line_names.iter().enumerate() {
                        push(y, "spending", "line", name, d.lines[k][y]);
                    }
                }
                _ => {
                    push(y, "funding", "other_funding", "net_budget", t.net_budget[y]);
                    push(
                        y,
                        "spending",
                        "line",
                        "net budget before savings",
                        t.lines(y),
                    );
                }
            }
            for (p, spec) in self.pressures.iter().zip(&self.spec.pressures) {
                let applies = if p.recurring {
                    y >= p.start
                } else {
                    y == p.start
                };
                if applies {
                    let v = match &spec.amount {
                        DistributionSpec::Fixed { value } => value.decimal(),
                        _ => dec(p.amount.mean()).round_dp(2),
                    };
                    push(y, "spending", "pressure", &spec.name, v);
                }
            }
        }
        out
    }

    /// The council tax by year: tax base, Band D, increases, the referendum check and income
    /// (empty without council tax).
    pub fn council_tax(&self) -> Vec<CouncilTaxRow> {
        let Some(f) = self.funded() else {
            return Vec::new();
        };
        if f.exact.council_tax.is_none() {
            return Vec::new();
        }
        let t = self.table(Case::Central);
        let d = t.detail.as_ref().expect("a funded scenario has detail");
        f.flags
            .iter()
            .enumerate()
            .map(|(y, flag)| CouncilTaxRow {
                year: flag.year.clone(),
                tax_base: Money::new(d.tax_base[y].normalize()),
                band_d: Money::new(d.band_d[y]),
                core_increase: Money::new(flag.core_increase),
                asc_precept: Money::new(flag.asc_precept),
                core_limit: flag.limits.map(|l| Money::new(l.0)),
                asc_limit: flag.limits.map(|l| Money::new(l.1)),
                threshold: flag.threshold.map(Money::new),
                increase: Money::new(flag.increase.round_dp(6)),
                excessive: flag.excessive,
                dispensation: flag.dispensation,
                flagged: flag.flagged(),
                income: Money::new(t.years[y].council_tax).round_to_penny(),
            })
            .collect()
    }

    /// Funding and spending, when the scenario has them (drivers alone are not a budget).
    pub(crate) fn funded(&self) -> Option<&Finance> {
        self.finance.as_ref().filter(|f| !f.drivers_only)
    }

    /// The referendum checks by year (empty without council tax).
    pub fn referendum_checks(&self) -> Vec<ReferendumCheck> {
        self.finance
            .as_ref()
            .map(|f| f.flags.clone())
            .unwrap_or_default()
    }

    /// The gap after savings' change per 1% of each input, by year, exact from the central
    /// case: one percentage point more on each driver's rate, on the core council tax increase
    /// and on business rates growth (in every year); 1% more tax base and grants; 1% of
    /// planned savings not delivered.
    pub fn sensitivities(&self) -> Vec<Sensitivity> {
        let years = self.horizon.len();
        let central = self.case_inputs(Case::Central, None);
        let exact = self.funded().map(|f| &f.exact);
        let base = self.table_with(&central, exact);
        let point = Decimal::new(1, 2);
        let mut out = Vec::new();
        let label = |y: usize| self.horizon.first().offset(y as u32).to_string();
        let mut row = |input: &str, t: &Table| {
            for y in 0..years {
                out.push(Sensitivity {
                    input: input.to_string(),
                    year: label(y),
                    change_per_1pct: Money::new(t.gap_after(y) - base.gap_after(y))
                        .round_to_penny(),
                });
            }
        };
        if let Some(f) = &self.finance {
            for (a, name) in f.drivers.names.iter().enumerate() {
                let mut bumped = central.clone();
                for r in &mut bumped.rates[a * years..(a + 1) * years] {
                    *r += point;
                }
                row(name, &self.table_with(&bumped, Some(&f.exact)));
            }
            if f.exact.council_tax.is_some() {
                let mut b = f.exact.clone();
                let ct = b.council_tax.as_mut().expect("checked");
                ct.core.iter_mut().for_each(|x| *x += point);
                row("council_tax_increase", &self.table_with(&central, Some(&b)));
                let mut b = f.exact.clone();
                let ct = b.council_tax.as_mut().expect("checked");
                for x in ct.base.iter_mut().flatten() {
                    *x *= Decimal::ONE + point;
                }
                row("tax_base", &self.table_with(&central, Some(&b)));
            }
            if let Some(br) = &f.exact.business_rates
                && let Step::Fixed(_) = br.growth
            {
                let mut b = f.exact.clone();
                if let Some(Step::Fixed(v)) = b.business_rates.as_mut().map(|x| &mut x.growth) {
                    v.iter_mut().for_each(|x| *x += point);
                }
                row(
                    "business_rates_growth",
                    &self.table_with(&central, Some(&b)),
                );
            }
            if !f.grants.is_empty() {
                let mut bumped = central.clone();
                bumped
                    .grants
                    .iter_mut()
                    .for_each(|g| *g *= Decimal::ONE + point);
                row("grants", &self.table_with(&bumped, Some(&f.exact)));
            }
        }
        if self
            .savings
            .iter()
            .any(|(s, _)| s.spec().value > Money::ZERO)
        {
            let mut t = self.table_with(&central, exact);
            t.savings
                .iter_mut()
                .for_each(|s| *s *= Decimal::ONE - point);
            row("savings_delivery", &t);
        }
        out
    }

    /// The exact gap after savings by year in the central case.
    pub fn central_gap(&self) -> Vec<Decimal> {
        let t = self.table(Case::Central);
        (0..self.horizon.len()).map(|y| t.gap_after(y)).collect()
    }
}

/// A bridge between two versions of a plan: the change in each year's central gap after
/// savings, attributed to each input by replacing the old version's inputs with the new
/// one's, one at a time, in a fixed order (drivers added; each changed driver; council tax;
/// business rates; each grant; each fee; each spending line; each pressure; each saving;
/// savings to be identified; the in-year position; the net budget; drivers removed). Each
/// step's change is exact, so the changes sum exactly to the total change. Both versions must
/// cover the same years.
pub fn bridge(old: &Scenario, new: &Scenario) -> Result<Vec<BridgeRow>, PlanError> {
    if old.horizon != new.horizon {
        return Err(PlanError::Plan {
            field: "first_year",
            message: format!(
                "the two versions cover {} to {} and {} to {}; a bridge needs the same years",
                old.horizon.first(),
                old.horizon.last(),
                new.horizon.first(),
                new.horizon.last()
            ),
        });
    }
    let years = old.horizon.len();
    let mut current = old.spec.clone();
    let mut gap = old.central_gap();
    let mut rows = Vec::new();
    let label = |y: usize| old.horizon.first().offset(y as u32).to_string();
    let mut step =
        |input: String, current: &mut ScenarioSpec, next: ScenarioSpec| -> Result<(), PlanError> {
            if *current == next {
                return Ok(());
            }
            let s = Scenario::from_spec(next.clone()).map_err(|e| PlanError::Plan {
                field: "bridge",
                message: format!("replacing {input} gives a scenario that is not valid: {e}"),
            })?;
            let g = s.central_gap();
            if g != gap {
                for y in 0..years {
                    rows.push(BridgeRow {
                        year: label(y),
                        input: input.clone(),
                        change: Money::new(g[y] - gap[y]),
                    });
                }
            }
            gap = g;
            *current = next;
            Ok(())
        };
    // Drivers the new version adds (no effect until used).
    for d in &new.spec.drivers {
        if !current.drivers.iter().any(|x| x.name == d.name) {
            let mut next = current.clone();
            next.drivers.push(d.clone());
            step(format!("driver: {}", d.name), &mut current, next)?;
        }
    }
    for d in &new.spec.drivers {
        let mut next = current.clone();
        if let Some(x) = next.drivers.iter_mut().find(|x| x.name == d.name) {
            *x = d.clone();
        }
        step(format!("driver: {}", d.name), &mut current, next)?;
    }
    let funding = |s: &ScenarioSpec| s.funding.clone().unwrap_or_default();
    {
        let mut next = current.clone();
        let mut f = funding(&next);
        f.council_tax = funding(&new.spec).council_tax;
        next.funding = Some(f);
        if old.spec.funding.is_none() && new.spec.funding.is_none() {
            next.funding = None;
        }
        step("council_tax".into(), &mut current, next)?;
        let mut next = current.clone();
        if next.funding.is_some() || new.spec.funding.is_some() {
            let mut f = funding(&next);
            f.business_rates = funding(&new.spec).business_rates;
            next.funding = Some(f);
        }
        step("business_rates".into(), &mut current, next)?;
    }
    macro_rules! named {
        ($get:expr, $key:expr, $prefix:expr) => {{
            let new_items = $get(&mut new.spec.clone()).clone();
            let old_items = $get(&mut current.clone()).clone();
            let mut names: Vec<String> = old_items.iter().map($key).collect();
            for item in &new_items {
                let k = $key(item);
                if !names.contains(&k) {
                    names.push(k);
                }
            }
            for name in names {
                let mut next = current.clone();
                let list = $get(&mut next);
                let replacement = new_items.iter().find(|x| $key(x) == name).cloned();
                match (list.iter().position(|x| $key(x) == name), replacement) {
                    (Some(i), Some(r)) => list[i] = r,
                    (Some(i), None) => {
                        list.remove(i);
                    }
                    (None, Some(r)) => list.push(r),
                    (None, None) => {}
                }
                step(format!("{}: {}", $prefix, name), &mut current, next)?;
            }
        }};
    }
    fn grants(s: &mut ScenarioSpec) -> &mut Vec<crate::funding::GrantSpec> {
        &mut s.funding.get_or_insert_with(Default::default).grants
    }
    fn fees(s: &mut ScenarioSpec) -> &mut Vec<crate::funding::FeeSpec> {
        &mut s.funding.get_or_insert_with(Default::default).fees
    }
    fn spending(s: &mut ScenarioSpec) -> &mut Vec<crate::funding::SpendingSpec> {
        &mut s.spending
    }
    fn pressures(s: &mut ScenarioSpec) -> &mut Vec<super::spec::PressureSpec> {
        &mut s.pressures
    }
    fn savings(s: &mut ScenarioSpec) -> &mut Vec<crate::saving::SavingSpec> {
        &mut s.savings
    }
    if current.funding.is_some() || new.spec.funding.is_some() {
        named!(
            grants,
            |g: &crate::funding::GrantSpec| g.name.clone(),
            "grant"
        );
        named!(fees, |g: &crate::funding::FeeSpec| g.name.clone(), "fees");
    }
    named!(
        spending,
        |g: &crate::funding::SpendingSpec| g.name.clone(),
        "spending"
    );
    named!(
        pressures,
        |g: &super::spec::PressureSpec| g.name.clone(),
        "pressure"
    );
    named!(
        savings,
        |g: &crate::saving::SavingSpec| g.id.clone(),
        "saving"
    );
    {
        let mut next = current.clone();
        next.unidentified = new.spec.unidentified.clone();
        step("unidentified savings".into(), &mut current, next)?;
        let mut next = current.clone();
        next.in_year = new.spec.in_year.clone();
        next.opening_overspend = new.spec.opening_overspend.clone();
        step("in_year".into(), &mut current, next)?;
        let mut next = current.clone();
        next.plan.net_budget = new.spec.plan.net_budget.clone();
        step("net_budget".into(), &mut current, next)?;
        let mut next = current.clone();
        next.funding = new.spec.funding.clone();
        step("funding".into(), &mut current, next)?;
        let mut next = current.clone();
        next.drivers = new.spec.drivers.clone();
        step("drivers removed".into(), &mut current, next)?;
    }
    let end = new.central_gap();
    if gap != end {
        return Err(PlanError::Plan {
            field: "bridge",
            message: "the steps do not reach the new version's gap".into(),
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referendum_table_reads() {
        for r in crate::referendum::PRINCIPLES {
            let (core, asc) = (
                r.core.parse::<Decimal>().unwrap(),
                r.asc.parse::<Decimal>().unwrap(),
            );
            assert!(core > Decimal::ZERO && asc >= Decimal::ZERO, "{r:?}");
        }
    }
}
