//! Financial resilience indicators from published returns, ranked within a peer group.
//!
//! Eight of the indicators are those of CIPFA's Financial Resilience Index and four are the
//! library's own (the `origin` of each in [`INDICATORS`]): each describes one way a council can
//! run short, from figures every English authority publishes in its Revenue
//! Summary (RS) return. All use *usable* reserves: earmarked plus unallocated, excluding
//! schools' and public health reserves (which a council cannot spend on its own pressures).
//!
//! | indicator | definition | riskier when |
//! |---|---|---|
//! | `reserves_sustainability` | years until usable reserves run out at the average rate of depletion of the last three years (see below) | lower |
//! | `reserves_to_nre` | usable reserves at 31 March / net revenue expenditure | lower |
//! | `unallocated_reserves_to_nre` | unallocated reserves at 31 March / net revenue expenditure | lower |
//! | `earmarked_reserves_to_nre` | earmarked reserves at 31 March / net revenue expenditure | lower |
//! | `change_in_reserves` | usable reserves at 31 March over those at 1 April of the first year of the window, minus one | lower |
//! | `interest_payable_to_nre` | external interest payable / net revenue expenditure | higher |
//! | `capital_financing_to_nre` | interest, minimum revenue provision and leasing / net revenue expenditure | higher |
//! | `council_tax_to_nre` | council tax requirement / net revenue expenditure (self-sufficiency) | lower |
//! | `gross_debt_to_nre` | outstanding borrowing at 31 March / net revenue expenditure (CIPFA's gross external debt, scaled) | higher |
//! | `net_debt_to_nre` | borrowing less investments at 31 March / net revenue expenditure | higher |
//! | `borrowing_growth` | borrowing at 31 March over borrowing two years earlier, minus one | higher |
//! | `investments_to_nre` | investments at 31 March / net revenue expenditure (exposure to treasury, commercial and company lending) | higher |
//!
//! The debt figures come from MHCLG's borrowing and investment live tables (see
//! `fiscalrisk.datasets.mhclg_borrowing`), joined to the returns by authority and year; the
//! Revenue Summary has interest payable but no stock of debt. CIPFA's index also has the social
//! care share of spending and fees and charges; neither is in these returns, so neither is
//! computed. `borrowing_growth` is missing when the earlier borrowing is zero or not in the table
//! (a council that starts borrowing is seen by `gross_debt_to_nre`).
//!
//! **The window.** An indicator of change uses the year itself and up to two years before it
//! whose reserves the table holds for the same authority, consecutively (`history_years` says
//! how many were used). Both read year-end levels, as CIPFA's index does: usable reserves at
//! the year's 31 March against the level the window opens at (the first year's 1 April), so a
//! restated balance counts as the movement it is. On the 2017/18 returns this reproduces the
//! 12 principal councils CIPFA found would exhaust their reserves within four years (CIPFA,
//! Financial Resilience Index briefing, December 2018). A change over one or two years (the
//! 2015/16 and 2016/17 returns) is ranked only among windows of the same length.
//!
//! **Reserves sustainability.** With `d` the mean yearly change in usable reserves over the
//! window: when usable reserves at 31 March are zero or less the indicator is 0 (the riskiest,
//! falling or not); when they are not falling (`d >= 0`) it is [`SUSTAINABILITY_CAP`] years
//! (CIPFA's convention); otherwise it is `reserves / -d`, capped at [`SUSTAINABILITY_CAP`].
//!
//! **Undefined values.** A ratio to net revenue expenditure is missing when that expenditure
//! is zero or negative (levying and national-park bodies), or when an input is missing (the
//! source suppresses imputed returns); `change_in_reserves` is missing when the opening
//! reserves are zero or less. Missing values are never ranked.
//!
//! **Percentiles.** Within each peer group and year, an indicator's percentile is `(r - 1) /
//! (n - 1)`, with `r` the average rank (ties share it) from safest (1) to riskiest (n) among the
//! `n` authorities with a value, and 0.5 when `n = 1`. The riskiest decile is a percentile of
//! 0.9 or more.
//!
//! **The risk score follows the weakest link.** A council fails on any one route: running out
//! of reserves, being unable to service its debt, carrying more debt than it can refinance, or
//! losing its income. Averaging routes lets one catastrophic indicator be diluted by
//! unremarkable others (a district whose interest payable was 234% of its net revenue
//! expenditure averaged to a middling score), and CIPFA itself publishes no composite for that
//! reason. Early-warning systems that do score (New York State's fiscal stress monitoring, Ohio's
//! fiscal caution and watch designations) trigger on a designated route or threshold, not on an
//! average. So:
//!
//! * indicators are grouped in five **themes**, one per route: reserves depth
//!   (`reserves_to_nre`, `unallocated_reserves_to_nre`, `earmarked_reserves_to_nre`), reserves
//!   trajectory (`reserves_sustainability`, `change_in_reserves`), debt service
//!   (`interest_payable_to_nre`, `capital_financing_to_nre`), debt stock (`gross_debt_to_nre`,
//!   `net_debt_to_nre`, `borrowing_growth`, `investments_to_nre`) and funding
//!   (`council_tax_to_nre`);
//! * a theme's score is the mean of its indicators' percentiles: indicators within a theme
//!   measure nearly the same thing, so their mean removes noise without hiding a route;
//! * **`risk_score`** is the worst theme's score: the route closest to failure. One extreme
//!   route makes the score extreme, whatever the others;
//! * `average_score` keeps the mean of the themes (the earlier headline), for comparison;
//! * **`alarms`** lists every indicator in its peer group's riskiest decile or beyond its stated
//!   absolute threshold ([`Indicator::alarm`]): usable reserves under 5% of net revenue
//!   expenditure, reserves lasting under two years at the recent rate of use, interest over a
//!   quarter of net revenue expenditure, borrowing over ten times it. The thresholds are round
//!   numbers stated in advance, not fitted to any list of councils that later failed.
//!
//! A theme with no value is left out; the scores are missing when no theme has one. The
//! `driver` is the indicator with the highest percentile (the first in the table's order on a
//! tie), and `missing` names the indicators an authority has no value for.
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::resilience::{self, Figures, Return};
//!
//! let row = |ecode: &str, year: &str, close: f64| Return {
//!     ecode: ecode.into(),
//!     year: year.into(),
//!     group: "MD".into(),
//!     figures: Figures {
//!         net_revenue_expenditure: Some(100.0),
//!         earmarked_open: Some(50.0),
//!         earmarked_close: Some(close),
//!         unallocated_open: Some(10.0),
//!         unallocated_close: Some(10.0),
//!         ..Figures::default()
//!     },
//! };
//! let rows = resilience::indicators(&[row("E1", "2017/18", 40.0), row("E2", "2017/18", 60.0)])?;
//! // E1 spent 10 of its 60: 50 left lasts five years; E2's reserves are rising.
//! assert_eq!(rows[0].values[0], Some(5.0));
//! assert_eq!(rows[1].values[0], Some(100.0));
//! assert_eq!(rows[0].percentiles[0], Some(1.0)); // the riskier of the two
//! assert_eq!(rows[0].driver.as_deref(), Some("reserves_sustainability"));
//! # Ok::<(), fiscalrisk::resilience::ResilienceError>(())
//! ```

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::period::FinancialYear;

/// Reserves sustainability when reserves are not falling, and its upper bound (years).
pub const SUSTAINABILITY_CAP: f64 = 100.0;
/// Years in the window of an indicator of change (the year and the two before it).
pub const WINDOW: usize = 3;
/// The percentile from which an authority is in the riskiest decile.
pub const RISKIEST_DECILE: f64 = 0.9;

/// Errors from the resilience indicators.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ResilienceError {
    /// A year that is not a financial year.
    #[error("rows[{row}].year: {value:?} is not a financial year like 2017/18")]
    Year {
        /// The row.
        row: usize,
        /// What was given.
        value: String,
    },
    /// A figure that is NaN or infinite.
    #[error("rows[{row}].{field}: {value} is not a finite number")]
    NotFinite {
        /// The row.
        row: usize,
        /// The figure.
        field: &'static str,
        /// Its value.
        value: f64,
    },
    /// The same authority twice in one year.
    #[error("rows[{row}]: authority {ecode:?} appears twice in {year} (also rows[{first}])")]
    Duplicate {
        /// The second row.
        row: usize,
        /// The first.
        first: usize,
        /// The authority.
        ecode: String,
        /// The year.
        year: String,
    },
    /// An empty authority code.
    #[error("rows[{row}].ecode: empty")]
    EmptyCode {
        /// The row.
        row: usize,
    },
    /// An indicator that a plan's simulation does not give.
    #[error(
        "indicator: {0:?} is not simulated for a plan (it needs figures a scenario does not have)"
    )]
    NotForward(String),
    /// An unknown indicator name.
    #[error("indicator: {0:?} is not one of {names}", names = INDICATORS.iter().map(|i| i.name).collect::<Vec<_>>().join(", "))]
    Unknown(String),
}

/// Which way an indicator points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Riskier {
    /// A higher value is riskier.
    Higher,
    /// A lower value is riskier.
    Lower,
}

/// One indicator: its name, theme, direction and meaning.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Indicator {
    /// Column name.
    pub name: &'static str,
    /// Its theme in the risk score.
    pub theme: &'static str,
    /// Which way is riskier.
    pub riskier: Riskier,
    /// What it measures.
    pub description: &'static str,
    /// A stated absolute threshold: beyond it (below for `lower`, above for `higher`) the
    /// indicator is an alarm whatever its percentile.
    pub alarm: Option<f64>,
    /// `CIPFA` for the indicators of CIPFA's Financial Resilience Index (as far as these
    /// returns allow: its gross external debt is scaled here), `fiscalrisk` for the library's
    /// own.
    pub origin: &'static str,
}

impl Indicator {
    /// Whether `value` is beyond the indicator's absolute threshold.
    pub fn beyond_alarm(&self, value: f64) -> bool {
        match (self.alarm, self.riskier) {
            (Some(t), Riskier::Lower) => value < t,
            (Some(t), Riskier::Higher) => value > t,
            (None, _) => false,
        }
    }
}

/// The theme of the indicators of change, ranked among windows of the same length.
const TRAJECTORY: &str = "reserves trajectory";

/// The indicators, in the order of [`Row::values`].
pub const INDICATORS: [Indicator; 12] = [
    Indicator {
        name: "reserves_sustainability",
        origin: "CIPFA",
        theme: "reserves trajectory",
        riskier: Riskier::Lower,
        description: "years until usable reserves run out at the mean yearly fall in their year-end level over the last three years (capped at 100; 0 with none)",
        alarm: Some(2.0),
    },
    Indicator {
        name: "reserves_to_nre",
        origin: "CIPFA",
        theme: "reserves depth",
        riskier: Riskier::Lower,
        description: "usable reserves (earmarked and unallocated) at 31 March / net revenue expenditure",
        alarm: Some(0.05),
    },
    Indicator {
        name: "unallocated_reserves_to_nre",
        origin: "CIPFA",
        theme: "reserves depth",
        riskier: Riskier::Lower,
        description: "unallocated reserves at 31 March / net revenue expenditure",
        alarm: None,
    },
    Indicator {
        name: "earmarked_reserves_to_nre",
        origin: "CIPFA",
        theme: "reserves depth",
        riskier: Riskier::Lower,
        description: "earmarked reserves at 31 March / net revenue expenditure",
        alarm: None,
    },
    Indicator {
        name: "change_in_reserves",
        origin: "CIPFA",
        theme: "reserves trajectory",
        riskier: Riskier::Lower,
        description: "change in usable reserves over the last three years, as a fraction of the opening level",
        alarm: None,
    },
    Indicator {
        name: "interest_payable_to_nre",
        origin: "CIPFA",
        theme: "debt service",
        riskier: Riskier::Higher,
        description: "external interest payable / net revenue expenditure",
        alarm: Some(0.25),
    },
    Indicator {
        name: "capital_financing_to_nre",
        origin: "fiscalrisk",
        theme: "debt service",
        riskier: Riskier::Higher,
        description: "interest, minimum revenue provision and leasing / net revenue expenditure",
        alarm: None,
    },
    Indicator {
        name: "council_tax_to_nre",
        origin: "CIPFA",
        theme: "funding",
        riskier: Riskier::Lower,
        description: "council tax requirement / net revenue expenditure",
        alarm: None,
    },
    Indicator {
        name: "gross_debt_to_nre",
        origin: "CIPFA",
        theme: "debt stock",
        riskier: Riskier::Higher,
        description: "outstanding borrowing at 31 March / net revenue expenditure",
        alarm: Some(10.0),
    },
    Indicator {
        name: "net_debt_to_nre",
        origin: "fiscalrisk",
        theme: "debt stock",
        riskier: Riskier::Higher,
        description: "borrowing less investments at 31 March / net revenue expenditure",
        alarm: None,
    },
    Indicator {
        name: "borrowing_growth",
        origin: "fiscalrisk",
        theme: "debt stock",
        riskier: Riskier::Higher,
        description: "borrowing at 31 March over borrowing two years earlier, minus one",
        alarm: None,
    },
    Indicator {
        name: "investments_to_nre",
        origin: "fiscalrisk",
        theme: "debt stock",
        riskier: Riskier::Higher,
        description: "investments at 31 March / net revenue expenditure",
        alarm: None,
    },
];

/// The index of an indicator by name.
pub fn indicator_index(name: &str) -> Result<usize, ResilienceError> {
    INDICATORS
        .iter()
        .position(|i| i.name == name)
        .ok_or_else(|| ResilienceError::Unknown(name.to_string()))
}

/// One year's published figures for one authority (any unit, the same throughout; missing
/// when the source suppresses them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Net revenue expenditure.
    pub net_revenue_expenditure: Option<f64>,
    /// Council tax requirement.
    pub council_tax_requirement: Option<f64>,
    /// Earmarked reserves (excluding schools and public health) at 1 April.
    pub earmarked_open: Option<f64>,
    /// At 31 March.
    pub earmarked_close: Option<f64>,
    /// Unallocated reserves at 1 April.
    pub unallocated_open: Option<f64>,
    /// At 31 March.
    pub unallocated_close: Option<f64>,
    /// External interest payable.
    pub interest_payable: Option<f64>,
    /// Minimum revenue provision (repayment of principal).
    pub provision_repayment_principal: Option<f64>,
    /// Leasing payments.
    pub leasing_payments: Option<f64>,
    /// Outstanding borrowing at 31 March.
    #[serde(default)]
    pub borrowing: Option<f64>,
    /// Outstanding investments at 31 March.
    #[serde(default)]
    pub investments: Option<f64>,
}

impl Figures {
    fn fields(&self) -> [(&'static str, Option<f64>); 11] {
        [
            ("net_revenue_expenditure", self.net_revenue_expenditure),
            ("council_tax_requirement", self.council_tax_requirement),
            ("earmarked_open", self.earmarked_open),
            ("earmarked_close", self.earmarked_close),
            ("unallocated_open", self.unallocated_open),
            ("unallocated_close", self.unallocated_close),
            ("interest_payable", self.interest_payable),
            (
                "provision_repayment_principal",
                self.provision_repayment_principal,
            ),
            ("leasing_payments", self.leasing_payments),
            ("borrowing", self.borrowing),
            ("investments", self.investments),
        ]
    }

    fn usable_open(&self) -> Option<f64> {
        Some(self.earmarked_open? + self.unallocated_open?)
    }

    fn usable_close(&self) -> Option<f64> {
        Some(self.earmarked_close? + self.unallocated_close?)
    }
}

/// One authority's return for one year, with the peer group it is ranked in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Return {
    /// The authority's code.
    pub ecode: String,
    /// The financial year (`2017/18`).
    pub year: String,
    /// Its peer group (e.g. its class).
    pub group: String,
    /// The figures.
    pub figures: Figures,
}

/// One row of [`indicators`], in the input's order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Each indicator, in the order of [`INDICATORS`].
    pub values: Vec<Option<f64>>,
    /// Each indicator's percentile within the peer group and year (0 safest, 1 riskiest).
    pub percentiles: Vec<Option<f64>>,
    /// Years of returns in the window of the indicators of change.
    pub history_years: usize,
    /// The weakest link: the worst theme's score, in [0, 1] (higher is riskier).
    pub risk_score: Option<f64>,
    /// The mean of the themes' scores (the earlier headline).
    pub average_score: Option<f64>,
    /// The weakest link with its ties broken by the next-worst theme, and so on: a percentile
    /// within the peer group and year (0 safest, 1 riskiest).
    pub risk_order: Option<f64>,
    /// The indicator with the highest percentile.
    pub driver: Option<String>,
    /// Every indicator in the riskiest decile or beyond its absolute threshold, in table order.
    pub alarms: Vec<String>,
    /// The indicators with no value (missing figures, or a ratio to zero).
    pub missing: Vec<String>,
}

/// Reserves sustainability from usable reserves at the end of a year and the mean yearly
/// change over the window (the module's rule).
pub fn sustainability(usable_close: f64, mean_change: f64) -> f64 {
    if usable_close <= 0.0 {
        // No usable reserves is the riskiest position, whether or not they are still falling.
        0.0
    } else if mean_change >= 0.0 {
        SUSTAINABILITY_CAP
    } else {
        (usable_close / -mean_change).min(SUSTAINABILITY_CAP)
    }
}

/// The change in reserves over a window: close over open, minus one; missing when the opening
/// level is zero or less.
pub fn change(usable_close: f64, usable_open: f64) -> Option<f64> {
    (usable_open > 0.0).then(|| usable_close / usable_open - 1.0)
}

/// The indicators of one year from its figures and those of the window's years (oldest
/// first, the year itself last), and the borrowing two years before the year (for
/// `borrowing_growth`).
pub fn values(window: &[&Figures], borrowing_before: Option<f64>) -> Vec<Option<f64>> {
    let f = window[window.len() - 1];
    let nre = f.net_revenue_expenditure.filter(|x| *x > 0.0);
    let ratio = |x: Option<f64>| Some(x? / nre?);
    // Both trajectory indicators read year-end levels: the 31 March of the year against the
    // level the window opens at (the first year's 1 April), as CIPFA's index does, so a
    // restated balance counts as the movement it is.
    let close = f.usable_close();
    let open = window[0].usable_open();
    let sustain = match (open, close) {
        (Some(o), Some(c)) => Some(sustainability(c, (c - o) / window.len() as f64)),
        _ => None,
    };
    let chg = match (open, close) {
        (Some(o), Some(c)) => change(c, o),
        _ => None,
    };
    let financing = (|| {
        Some(
            f.interest_payable?
                + f.provision_repayment_principal.unwrap_or(0.0)
                + f.leasing_payments.unwrap_or(0.0),
        )
    })();
    let net_debt = (|| Some(f.borrowing? - f.investments?))();
    let growth = match (f.borrowing, borrowing_before) {
        (Some(now), Some(before)) if before > 0.0 => Some(now / before - 1.0),
        _ => None,
    };
    vec![
        sustain,
        ratio(close),
        ratio(f.unallocated_close),
        ratio(f.earmarked_close),
        chg,
        ratio(f.interest_payable),
        ratio(financing),
        ratio(f.council_tax_requirement),
        ratio(f.borrowing),
        ratio(net_debt),
        growth,
        ratio(f.investments),
    ]
}

/// Percentiles of `values` (0 safest, 1 riskiest) given which way is riskier; ties share
/// their average rank, missing values stay missing.
pub fn percentiles(values: &[Option<f64>], riskier: Riskier) -> Vec<Option<f64>> {
    let mut present: Vec<(f64, usize)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|x| (if riskier == Riskier::Lower { -x } else { x }, i)))
        .collect();
    present.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = present.len();
    let mut out = vec![None; values.len()];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && present[j + 1].0 == present[i].0 {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let rank = (i + j) as f64 / 2.0 + 1.0;
        let p = if n == 1 {
            0.5
        } else {
            (rank - 1.0) / (n - 1) as f64
        };
        for item in &present[i..=j] {
            out[item.1] = Some(p);
        }
        i = j + 1;
    }
    out
}

/// A row's scores from its percentiles (the module's rule).
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// The worst theme's score.
    pub risk_score: Option<f64>,
    /// The mean of the themes' scores.
    pub average_score: Option<f64>,
    /// The indicator with the highest percentile.
    pub driver: Option<String>,
    /// The themes' scores, worst first (the order `risk_order` compares).
    pub themes_worst_first: Vec<f64>,
}

/// The scores and driver from one row's percentiles (the module's rule).
pub fn score(percentiles: &[Option<f64>]) -> Scores {
    let mut themes: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    for (ind, p) in INDICATORS.iter().zip(percentiles) {
        if let Some(p) = p {
            let t = themes.entry(ind.theme).or_default();
            t.0 += p;
            t.1 += 1;
        }
    }
    let means: Vec<f64> = themes.values().map(|(s, n)| s / *n as f64).collect();
    let risk_score = means.iter().copied().reduce(f64::max);
    let average_score = (!means.is_empty()).then(|| means.iter().sum::<f64>() / means.len() as f64);
    let mut driver: Option<(usize, f64)> = None;
    for (i, p) in percentiles.iter().enumerate() {
        if let Some(p) = *p
            && driver.is_none_or(|(_, best)| p > best)
        {
            driver = Some((i, p));
        }
    }
    let mut themes_worst_first = means;
    themes_worst_first.sort_by(|a, b| b.total_cmp(a));
    Scores {
        risk_score,
        average_score,
        driver: driver.map(|(i, _)| INDICATORS[i].name.to_string()),
        themes_worst_first,
    }
}

/// Compares two rows' themes, worst first, as `risk_order` ranks them: the worst theme, then
/// the next-worst, and so on; a theme a row lacks counts as 0 (the safest). `Greater` is riskier.
pub fn compare_themes(a: &[f64], b: &[f64]) -> std::cmp::Ordering {
    let n = a.len().max(b.len());
    for k in 0..n {
        let (x, y) = (
            a.get(k).copied().unwrap_or(0.0),
            b.get(k).copied().unwrap_or(0.0),
        );
        match x.total_cmp(&y) {
            std::cmp::Ordering::Equal => continue,
            other => return other,
        }
    }
    std::cmp::Ordering::Equal
}

/// `risk_order` of each member (by index into `themes`): its percentile, 0 safest and 1
/// riskiest, when rows are ordered by [`compare_themes`] (rows equal on every theme share
/// their average rank); missing for a row with no theme.
pub fn order_percentiles(themes: &[&[f64]]) -> Vec<Option<f64>> {
    let mut present: Vec<usize> = (0..themes.len())
        .filter(|&i| !themes[i].is_empty())
        .collect();
    present.sort_by(|&i, &j| compare_themes(themes[i], themes[j]));
    let n = present.len();
    let mut out = vec![None; themes.len()];
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && compare_themes(themes[present[start]], themes[present[end]]).is_eq() {
            end += 1;
        }
        // Ranks start+1 ..= end share their average.
        let rank = (start + 1 + end) as f64 / 2.0;
        let p = if n == 1 {
            0.5
        } else {
            (rank - 1.0) / (n - 1) as f64
        };
        for &i in &present[start..end] {
            out[i] = Some(p);
        }
        start = end;
    }
    out
}

/// The indicators in the riskiest decile or beyond their absolute thresholds.
pub fn alarms(values: &[Option<f64>], percentiles: &[Option<f64>]) -> Vec<String> {
    INDICATORS
        .iter()
        .zip(values.iter().zip(percentiles))
        .filter(|(ind, (v, p))| {
            p.is_some_and(|p| p >= RISKIEST_DECILE) || v.is_some_and(|v| ind.beyond_alarm(v))
        })
        .map(|(ind, _)| ind.name.to_string())
        .collect()
}

/// The indicators of every row, ranked within its peer group and year.
pub fn indicators(rows: &[Return]) -> Result<Vec<Row>, ResilienceError> {
    let mut years = Vec::with_capacity(rows.len());
    let mut index: HashMap<(&str, i32), usize> = HashMap::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        if r.ecode.trim().is_empty() {
            return Err(ResilienceError::EmptyCode { row: i });
        }
        let year: FinancialYear = r.year.parse().map_err(|_| ResilienceError::Year {
            row: i,
            value: r.year.clone(),
        })?;
        for (field, v) in r.figures.fields() {
            if let Some(v) = v.filter(|v| !v.is_finite()) {
                return Err(ResilienceError::NotFinite {
                    row: i,
                    field,
                    value: v,
                });
            }
        }
        if let Some(first) = index.insert((r.ecode.as_str(), year.start_year()), i) {
            return Err(ResilienceError::Duplicate {
                row: i,
                first,
                ecode: r.ecode.clone(),
                year: r.year.clone(),
            });
        }
        years.push(year.start_year());
    }
    let mut out: Vec<Row> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            // The window: this year and the consecutive years before it whose reserves the
            // table holds.
            let mut window = vec![&r.figures];
            for back in 1..WINDOW as i32 {
                match index.get(&(r.ecode.as_str(), years[i] - back)) {
                    Some(&k)
                        if rows[k].figures.usable_close().is_some()
                            && rows[k].figures.usable_open().is_some() =>
                    {
                        window.insert(0, &rows[k].figures)
                    }
                    _ => break,
                }
            }
            let before = index
                .get(&(r.ecode.as_str(), years[i] - 2))
                .and_then(|&k| rows[k].figures.borrowing);
            Row {
                values: values(&window, before),
                percentiles: vec![None; INDICATORS.len()],
                history_years: window.len(),
                risk_score: None,
                average_score: None,
                risk_order: None,
                driver: None,
                alarms: Vec::new(),
                missing: Vec::new(),
            }
        })
        .collect();
    let mut groups: BTreeMap<(&str, i32), Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        groups
            .entry((r.group.as_str(), years[i]))
            .or_default()
            .push(i);
    }
    for members in groups.values() {
        for (k, ind) in INDICATORS.iter().enumerate() {
            // A change over one year is not ranked against a change over three: the
            // trajectory indicators are ranked among windows of the same length.
            let mut parts: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for &i in members {
                let key = if ind.theme == TRAJECTORY {
                    out[i].history_years
                } else {
                    0
                };
                parts.entry(key).or_default().push(i);
            }
            for part in parts.values() {
                let vals: Vec<Option<f64>> = part.iter().map(|&i| out[i].values[k]).collect();
                for (&i, p) in part.iter().zip(percentiles(&vals, ind.riskier)) {
                    out[i].percentiles[k] = p;
                }
            }
        }
    }
    let mut themes: Vec<Vec<f64>> = Vec::with_capacity(out.len());
    for row in &mut out {
        let scores = score(&row.percentiles);
        row.risk_score = scores.risk_score;
        row.average_score = scores.average_score;
        row.driver = scores.driver;
        themes.push(scores.themes_worst_first);
        row.alarms = alarms(&row.values, &row.percentiles);
        row.missing = INDICATORS
            .iter()
            .zip(&row.values)
            .filter(|(_, v)| v.is_none())
            .map(|(ind, _)| ind.name.to_string())
            .collect();
    }
    for members in groups.values() {
        let mine: Vec<&[f64]> = members.iter().map(|&i| themes[i].as_slice()).collect();
        for (&i, p) in members.iter().zip(order_percentiles(&mine)) {
            out[i].risk_order = p;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_their_average_rank_and_missing_values_are_not_ranked() {
        let p = percentiles(
            &[Some(1.0), None, Some(3.0), Some(3.0), Some(5.0)],
            Riskier::Higher,
        );
        // Ranks 1, 2.5, 2.5, 4 of n = 4.
        assert_eq!(p, vec![Some(0.0), None, Some(0.5), Some(0.5), Some(1.0)]);
        let p = percentiles(&[Some(1.0), Some(2.0)], Riskier::Lower);
        assert_eq!(p, vec![Some(1.0), Some(0.0)]);
        assert_eq!(
            percentiles(&[None, Some(7.0)], Riskier::Lower),
            vec![None, Some(0.5)]
        );
        assert_eq!(percentiles(&[None, None], Riskier::Lower), vec![None, None]);
    }

    #[test]
    fn sustainability_rule() {
        assert_eq!(sustainability(50.0, 0.0), SUSTAINABILITY_CAP);
        assert_eq!(sustainability(50.0, -10.0), 5.0);
        assert_eq!(sustainability(-5.0, -10.0), 0.0);
        assert_eq!(sustainability(1e9, -1.0), SUSTAINABILITY_CAP);
        // No usable reserves is the riskiest value even when they are not falling (it was
        // the safest, 100: West of England Combined Authority, 2016/17).
        assert_eq!(sustainability(-5.0, 0.0), 0.0);
        assert_eq!(sustainability(0.0, 3.0), 0.0);
        assert_eq!(change(0.0, 0.0), None);
        assert_eq!(change(75.0, 100.0), Some(-0.25));
    }

    fn reserves(open: f64, close: f64) -> Figures {
        Figures {
            net_revenue_expenditure: Some(100.0),
            earmarked_open: Some(open),
            earmarked_close: Some(close),
            unallocated_open: Some(0.0),
            unallocated_close: Some(0.0),
            ..Figures::default()
        }
    }

    fn ret(ecode: &str, year: &str, open: f64, close: f64) -> Return {
        Return {
            ecode: ecode.into(),
            year: year.into(),
            group: "L".into(),
            figures: reserves(open, close),
        }
    }

    #[test]
    fn trajectory_reads_year_end_levels_so_a_restatement_is_a_movement() {
        // Each return falls by 10 within its year, but the second opens restated at 150: from
        // year-end levels reserves rose from 100 (1 April of the first year) to 140, so they
        // are not falling; the in-year movements alone said 14 years.
        let rows = [
            ret("A", "2016/17", 100.0, 90.0),
            ret("A", "2017/18", 150.0, 140.0),
        ];
        let out = indicators(&rows).unwrap();
        assert_eq!(out[1].history_years, 2);
        assert_eq!(out[1].values[0], Some(SUSTAINABILITY_CAP));
        assert!((out[1].values[4].unwrap() - 0.4).abs() < 1e-12);
        // Falling from 120 to 60 over three years: 20 a year, 3 years left.
        let rows = [
            ret("B", "2015/16", 120.0, 100.0),
            ret("B", "2016/17", 100.0, 80.0),
            ret("B", "2017/18", 80.0, 60.0),
        ];
        assert_eq!(indicators(&rows).unwrap()[2].values[0], Some(3.0));
    }

    #[test]
    fn ties_on_the_worst_theme_are_broken_by_the_next_worst() {
        // A, B and C all score 1.0 on their worst theme; B's next-worst is 0.9, A's 0.5, C's
        // 0.5 too (then C's third is higher); D equals A on every theme; E has no theme.
        let a = [1.0, 0.5, 0.2];
        let b = [1.0, 0.9];
        let c = [1.0, 0.5, 0.3];
        let e: [f64; 0] = [];
        let p = order_percentiles(&[&a, &b, &c, &a, &e, &[0.4]]);
        // Order, safest first: [0.4], A = D (ranks 2, 3), C, B; n = 5.
        assert_eq!(
            p,
            vec![
                Some(0.375),
                Some(1.0),
                Some(0.75),
                Some(0.375),
                None,
                Some(0.0)
            ]
        );
        assert!(
            compare_themes(&[1.0], &[1.0, 0.1]).is_lt(),
            "a missing theme counts as 0"
        );
    }

    #[test]
    fn windows_of_different_lengths_are_ranked_apart() {
        // C and D have three years; E only one (its first return). E's one-year fall is not
        // ranked against their three-year ones; the depth indicators rank all three together.
        let mut rows = Vec::new();
        for (code, close) in [("C", 90.0), ("D", 50.0)] {
            rows.push(ret(code, "2015/16", 100.0, 100.0));
            rows.push(ret(code, "2016/17", 100.0, 100.0));
            rows.push(ret(code, "2017/18", 100.0, close));
        }
        rows.push(ret("E", "2017/18", 100.0, 10.0));
        let out = indicators(&rows).unwrap();
        let (c, d, e) = (&out[2], &out[5], &out[6]);
        assert_eq!((c.history_years, e.history_years), (3, 1));
        assert_eq!((c.percentiles[0], d.percentiles[0]), (Some(0.0), Some(1.0)));
        assert_eq!(e.percentiles[0], Some(0.5), "alone among one-year windows");
        assert_eq!(e.percentiles[1], Some(1.0), "depth: ranked with everyone");
    }

    #[test]
    fn the_score_follows_the_weakest_theme() {
        // Depth mean 0.5, trajectory 1.0, debt service missing, funding 0.0, debt stock missing.
        let mut p = [None; 12];
        p[..5].copy_from_slice(&[Some(1.0), Some(0.0), Some(0.5), Some(1.0), Some(1.0)]);
        p[7] = Some(0.0);
        let s = score(&p);
        assert_eq!(s.risk_score, Some(1.0));
        assert!((s.average_score.unwrap() - 0.5).abs() < 1e-15);
        assert_eq!(s.driver.as_deref(), Some("reserves_sustainability"));
        assert_eq!(
            score(&[None; 12]),
            Scores {
                risk_score: None,
                average_score: None,
                driver: None,
                themes_worst_first: Vec::new(),
            }
        );
        // One extreme route is not diluted: debt service at the top, every other theme safe.
        let mut q = [Some(0.1); 12];
        q[5] = Some(1.0);
        q[6] = Some(1.0);
        let s = score(&q);
        assert_eq!(s.risk_score, Some(1.0));
        assert!(s.average_score.unwrap() < 0.3);
    }

    #[test]
    fn alarms_are_the_riskiest_decile_or_beyond_a_threshold() {
        let mut v = [Some(50.0); 12];
        let mut p = [Some(0.5); 12];
        v[8] = Some(12.0); // gross debt 12 times net revenue expenditure: beyond 10
        p[5] = Some(0.95); // interest in the riskiest decile
        v[1] = Some(0.04); // usable reserves under 5% of net revenue expenditure
        assert_eq!(
            alarms(&v, &p),
            [
                "reserves_to_nre",
                "interest_payable_to_nre",
                "gross_debt_to_nre"
            ]
        );
    }

    #[test]
    fn debt_indicators_by_hand() {
        let f = |borrowing: f64, investments: f64| Figures {
            net_revenue_expenditure: Some(100.0),
            borrowing: Some(borrowing),
            investments: Some(investments),
            ..Figures::default()
        };
        let v = values(&[&f(1200.0, 200.0)], Some(400.0));
        assert_eq!(&v[8..], [Some(12.0), Some(10.0), Some(2.0), Some(2.0)]);
        // No earlier borrowing: growth is missing, the stock is still seen.
        let v = values(&[&f(50.0, 0.0)], Some(0.0));
        assert_eq!(&v[8..], [Some(0.5), Some(0.5), None, Some(0.0)]);
    }

    #[test]
    fn errors_name_the_row_and_field() {
        let r = |ecode: &str, year: &str, nre: f64| Return {
            ecode: ecode.into(),
            year: year.into(),
            group: "L".into(),
            figures: Figures {
                net_revenue_expenditure: Some(nre),
                ..Figures::default()
            },
        };
        let e = indicators(&[r("E1", "2017/18", 1.0), r("E1", "2017/18", 2.0)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "rows[1]: authority \"E1\" appears twice in 2017/18 (also rows[0])"
        );
        let e = indicators(&[r("E1", "2017-18", 1.0)]).unwrap_err();
        assert!(
            e.to_string().starts_with("rows[0].year: \"2017-18\""),
            "{e}"
        );
        let e = indicators(&[r("E1", "2017/18", f64::NAN)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "rows[0].net_revenue_expenditure: NaN is not a finite number"
        );
        assert!(
            indicator_index("nope")
                .unwrap_err()
                .to_string()
                .contains("reserves_to_nre")
        );
    }
}
