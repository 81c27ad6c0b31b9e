//! The Dedicated Schools Grant deficit (`[dsg]`): high-needs overspends held off the general
//! fund by the statutory override, until the override ends.
//!
//! The School and Early Years Finance (England) Regulations' statutory override keeps a
//! cumulative DSG deficit in an unusable reserve, out of the general fund, to the end of
//! 2027/28 (the government's answer to PQ 61924, 1 July 2025); from 2028/29 what is left falls
//! on the general fund unless government takes it. The February 2026 settlement's High Needs
//! Stability Grant clears 90% of the deficit built up to the end of 2025/26 for councils with
//! an approved local SEND reform plan. While the deficit is held it costs cash, and so interest:
//! West Berkshire Council pays "around £1.5m per annum" on a deficit of £16.13m at 31 March 2025
//! projected to reach £31m-£37m by March 2026 (its Schools' Forum, DSG outturn 2024/25).
//!
//! So, year by year:
//!
//! * the deficit opens at `deficit` and grows by `in_year` (negative: a year that reduces it);
//! * with `write_off`, in the year after `of_deficit_at`, with probability `probability`,
//!   government clears `share` of the deficit at the end of `of_deficit_at` (at most what is
//!   left);
//! * while the override lasts, the general fund pays `interest_rate` on the year's average
//!   deficit (the opening and closing deficits' mean), a recurring cost;
//! * at the end of `override_ends` the deficit left is a deficit the next budget must provide
//!   for (the statutory test counts it at that year's end) and it is charged to the general fund
//!   in the next year, one-off; every later year's `in_year` is the general fund's own cost.
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::dsg::{ledger, Rule};
//! // A £16m deficit, +£18m a year, 6% interest; the override ends after the second year.
//! let rule = Rule { opening: 16.0, rate: 0.06, ends: 1, write_off: None };
//! let years = ledger(&rule, &[18.0, 18.0, 18.0], false);
//! assert_eq!(years[0].deficit, 34.0);
//! assert!((years[0].interest - 0.06 * 25.0).abs() < 1e-12);
//! assert_eq!((years[1].deficit, years[1].falling), (52.0, 52.0));
//! assert_eq!((years[2].deficit, years[2].one_off, years[2].recurring), (0.0, 52.0, 18.0));
//! ```

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::amount::Amount;
use crate::distribution::{AmountSpec, Distribution, DistributionError, MAX_AMOUNT};
use crate::money::Money;
use crate::period::{FinancialYear, Horizon};

/// The last year of the statutory override, as extended (answer to PQ 61924, 1 July 2025).
pub const OVERRIDE_ENDS: &str = "2027/28";

/// The High Needs Stability Grant's share of the deficit it clears (February 2026 settlement).
pub const STABILITY_SHARE: f64 = 0.9;

/// The year whose closing deficit the High Needs Stability Grant clears a share of.
pub const STABILITY_YEAR: &str = "2025/26";

/// Errors in `[dsg]`, each naming its key.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum DsgError {
    /// An amount below zero or beyond what fiscalrisk accepts.
    #[error("dsg.{field}: {value} is {why}")]
    Amount {
        /// The key.
        field: String,
        /// The value.
        value: Money,
        /// What is wrong.
        why: &'static str,
    },
    /// A fraction outside its range.
    #[error("dsg.{field}: {value:?} is not between 0 and {most}")]
    Fraction {
        /// The key.
        field: &'static str,
        /// The value.
        value: f64,
        /// Its largest.
        most: f64,
    },
    /// Not one amount per year of the plan.
    #[error("dsg.in_year: {given} amounts for a plan of {years} years (give one per year)")]
    Length {
        /// How many were given.
        given: usize,
        /// The plan's years.
        years: usize,
    },
    /// A year that cannot be read or used.
    #[error("dsg.{field}: {value:?} {why}")]
    Year {
        /// The key.
        field: &'static str,
        /// What was given.
        value: String,
        /// What is wrong.
        why: String,
    },
    /// A bad distribution.
    #[error("dsg.{field}.{source}")]
    Distribution {
        /// The key.
        field: String,
        /// What is wrong.
        source: DistributionError,
    },
}

/// `[dsg.write_off]`: government clearing a share of the deficit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteOffSpec {
    /// The share of the deficit cleared (0 to 1; default 0.9, the High Needs Stability Grant).
    #[serde(default = "stability_share")]
    pub share: f64,
    /// The year whose closing deficit is cleared a share of (default `"2025/26"`); it is cleared
    /// in the next year, which must be the plan's or before the override ends.
    #[serde(default = "stability_year")]
    pub of_deficit_at: String,
    /// The probability that the council qualifies (an approved local SEND reform plan; 0 to 1;
    /// default 1).
    #[serde(default = "one")]
    pub probability: f64,
}

fn stability_share() -> f64 {
    STABILITY_SHARE
}

fn stability_year() -> String {
    STABILITY_YEAR.into()
}

fn one() -> f64 {
    1.0
}

fn override_ends() -> String {
    OVERRIDE_ENDS.into()
}

/// `[dsg]` as written: amounts in £, a deficit a positive number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DsgSpec {
    /// The cumulative DSG deficit at the start of the plan (£ ≥ 0).
    pub deficit: Money,
    /// What each year adds to the deficit (£ a year; a number or a distribution; negative: the
    /// year reduces it), one per plan year.
    pub in_year: Vec<AmountSpec>,
    /// The last year of the statutory override (default `"2027/28"`).
    #[serde(default = "override_ends")]
    pub override_ends: String,
    /// Government clearing a share of the deficit (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_off: Option<WriteOffSpec>,
    /// Interest a year on the deficit while it is held (a fraction: 0.06 is 6%; default 0).
    #[serde(default)]
    pub interest_rate: f64,
}

/// The DSG's rules for one plan, as plan year indices (which may lie outside the plan).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule<T> {
    /// The deficit at the start of the plan.
    pub opening: T,
    /// Interest a year on the average deficit.
    pub rate: T,
    /// The plan year index of the override's last year (negative: it ended before the plan).
    pub ends: i64,
    /// The write-off: the share, the plan year index whose closing deficit it clears (-1: the
    /// opening deficit), cleared in the next year.
    pub write_off: Option<(T, i64)>,
}

/// One year of the DSG's ledger.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DsgYear<T> {
    /// The deficit held in the unusable reserve at the year's end (negative: a surplus).
    pub deficit: T,
    /// What government cleared in the year.
    pub written_off: T,
    /// Interest the general fund pays in the year (recurring cost).
    pub interest: T,
    /// The deficit left when the override ended, charged to the general fund this year.
    pub one_off: T,
    /// The year's own deficit, after the override: the general fund's cost.
    pub recurring: T,
    /// At the override's last year's end: the deficit the next budget must provide for.
    pub falling: T,
}

/// `[dsg]` compiled.
#[derive(Debug, Clone)]
pub struct Dsg {
    /// The rules.
    pub rule: Rule<f64>,
    /// Exactly, for the exact ledger.
    pub exact: Rule<rust_decimal::Decimal>,
    /// The probability that the write-off happens.
    pub probability: f64,
    /// Each year's addition to the deficit.
    pub in_year: Vec<Distribution>,
    /// Exactly, when every year's is fixed.
    pub fixed: Option<Vec<Money>>,
}

impl DsgSpec {
    /// Checks `[dsg]` against `horizon` and compiles it.
    pub fn compile(&self, horizon: &Horizon) -> Result<Dsg, DsgError> {
        let years = horizon.len();
        if self.deficit < Money::ZERO || self.deficit.to_f64() > MAX_AMOUNT {
            return Err(DsgError::Amount {
                field: "deficit".into(),
                value: self.deficit,
                why: if self.deficit < Money::ZERO {
                    "negative (the deficit is a positive number; a surplus is not a deficit)"
                } else {
                    "beyond the 1e15 pounds that fiscalrisk accepts"
                },
            });
        }
        if self.in_year.len() != years {
            return Err(DsgError::Length {
                given: self.in_year.len(),
                years,
            });
        }
        let fraction = |field: &'static str, value: f64, most: f64| {
            if value.is_finite() && (0.0..=most).contains(&value) {
                Ok(())
            } else {
                Err(DsgError::Fraction { field, value, most })
            }
        };
        fraction("interest_rate", self.interest_rate, 1.0)?;
        let index = |field: &'static str, label: &str| -> Result<i64, DsgError> {
            let y: FinancialYear =
                label
                    .parse()
                    .map_err(|e: crate::period::PeriodError| DsgError::Year {
                        field,
                        value: label.into(),
                        why: format!("is not a financial year ({e})"),
                    })?;
            Ok(i64::from(y.start_year()) - i64::from(horizon.first().start_year()))
        };
        let ends = index("override_ends", &self.override_ends)?;
        let write_off = match &self.write_off {
            Some(w) => {
                fraction("write_off.share", w.share, 1.0)?;
                fraction("write_off.probability", w.probability, 1.0)?;
                let at = index("write_off.of_deficit_at", &w.of_deficit_at)?;
                if at < -1 {
                    return Err(DsgError::Year {
                        field: "write_off.of_deficit_at",
                        value: w.of_deficit_at.clone(),
                        why: format!(
                            "is before {}: the deficit is known at the plan's start (dsg.deficit) and at each plan year's end",
                            FinancialYear::new(horizon.first().start_year() - 1).map_or_else(
                                |_| "the plan's first year".to_string(),
                                |y| y.to_string()
                            )
                        ),
                    });
                }
                if at + 1 > ends {
                    return Err(DsgError::Year {
                        field: "write_off.of_deficit_at",
                        value: w.of_deficit_at.clone(),
                        why: format!(
                            "is cleared in the next year, after the override ends ({}): then the deficit is the general fund's",
                            self.override_ends
                        ),
                    });
                }
                Some((w.share, at))
            }
            None => None,
        };
        let mut in_year = Vec::with_capacity(years);
        let mut fixed = Some(Vec::with_capacity(years));
        for (y, a) in self.in_year.iter().enumerate() {
            let d = a.distribution().map_err(|source| DsgError::Distribution {
                field: format!("in_year[{y}]"),
                source,
            })?;
            match (&mut fixed, a.fixed()) {
                (Some(f), Some(v)) => f.push(v),
                _ => fixed = None,
            }
            in_year.push(d);
        }
        let decimal = |x: f64| {
            x.to_string()
                .parse::<rust_decimal::Decimal>()
                .unwrap_or_default()
        };
        Ok(Dsg {
            rule: Rule {
                opening: self.deficit.to_f64(),
                rate: self.interest_rate,
                ends,
                write_off,
            },
            exact: Rule {
                opening: self.deficit.decimal(),
                rate: decimal(self.interest_rate),
                ends,
                write_off: write_off.map(|(s, at)| (decimal(s), at)),
            },
            probability: self.write_off.as_ref().map_or(0.0, |w| w.probability),
            in_year,
            fixed,
        })
    }
}

/// The DSG's ledger over the plan, written once for exact and simulated amounts: `in_year` each
/// year's addition to the deficit, `cleared` whether the write-off happens.
pub fn ledger<T: Amount>(rule: &Rule<T>, in_year: &[T], cleared: bool) -> Vec<DsgYear<T>> {
    let mut deficit = rule.opening;
    let mut out = Vec::with_capacity(in_year.len());
    let mut known_at = if rule.write_off.is_some_and(|w| w.1 == -1) {
        Some(rule.opening)
    } else {
        None
    };
    for (y, &added) in in_year.iter().enumerate() {
        let y = y as i64;
        let mut year = DsgYear {
            deficit: T::ZERO,
            written_off: T::ZERO,
            interest: T::ZERO,
            one_off: T::ZERO,
            recurring: T::ZERO,
            falling: T::ZERO,
        };
        if y > rule.ends {
            // The override has ended: what was left falls on the general fund in the first
            // year after it, and every year's own deficit is the general fund's cost.
            year.one_off = deficit.max0();
            deficit = T::ZERO;
            year.recurring = added;
        } else {
            let open = deficit;
            deficit += added;
            if let (Some((share, at)), true) = (rule.write_off, cleared)
                && at + 1 == y
                && let Some(base) = known_at
            {
                year.written_off = (share * base.max0()).min(deficit.max0());
                deficit -= year.written_off;
            }
            year.interest = rule.rate * (open.max0() + deficit.max0()) * T::HALF;
            if y == rule.ends {
                year.falling = deficit.max0();
            }
        }
        if rule.write_off.is_some_and(|w| w.1 == y) {
            known_at = Some(deficit);
        }
        year.deficit = deficit;
        out.push(year);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn horizon() -> Horizon {
        Horizon::new("2026/27".parse().unwrap(), 3).unwrap()
    }

    #[test]
    fn west_berkshire_pays_about_one_and_a_half_million_a_year() {
        // West Berkshire Council's Schools' Forum, DSG outturn 2024/25: a cumulative deficit of
        // £16.13m at 31 March 2025, projected to reach £31m-£37m in March 2026, and interest
        // "currently at around £1.5m per annum". At 6% (about the Public Works Loan Board's
        // rate in 2025) on the year's average deficit, both ends of that range give about
        // £1.5m.
        for close in [31e6, 37e6] {
            let rule = Rule {
                opening: 16.13e6,
                rate: 0.06,
                ends: 5,
                write_off: None,
            };
            let y = ledger(&rule, &[close - 16.13e6], false)[0];
            let expected = 0.06 * (16.13e6 + close) / 2.0;
            assert!((y.interest - expected).abs() < 1e-6);
            assert!((1.4e6..1.6e6).contains(&y.interest), "{}", y.interest);
        }
    }

    #[test]
    fn the_stability_grant_clears_ninety_per_cent_of_the_2025_26_deficit() {
        // Plan from 2026/27: the deficit at the end of 2025/26 is the opening £100m; 90% is
        // cleared in 2026/27; the override ends in 2027/28, so 2028/29 takes what is left.
        let spec: DsgSpec = toml::from_str(
            "deficit = 100e6\nin_year = [20e6, 20e6, 20e6]\nwrite_off = { probability = 0.5 }",
        )
        .unwrap();
        let dsg = spec.compile(&horizon()).unwrap();
        use rust_decimal::Decimal as D;
        let years = ledger(
            &dsg.exact,
            &[20e6, 20e6, 20e6].map(|x| rust_decimal::Decimal::from(x as i64)),
            true,
        );
        assert_eq!(years[0].written_off, D::from(90_000_000));
        assert_eq!(years[0].deficit, D::from(30_000_000));
        assert_eq!(years[1].falling, D::from(50_000_000));
        assert_eq!(years[2].one_off, D::from(50_000_000));
        assert_eq!(years[2].recurring, D::from(20_000_000));
        let without = ledger(&dsg.rule, &[20e6; 3], false);
        assert_eq!(without[1].falling, 140e6);
        assert_eq!(dsg.probability, 0.5);
    }

    #[test]
    fn errors_name_the_key() {
        let e = |t: &str| {
            toml::from_str::<DsgSpec>(t)
                .unwrap()
                .compile(&horizon())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e("deficit = 1\nin_year = [1]"),
            "dsg.in_year: 1 amounts for a plan of 3 years (give one per year)"
        );
        assert!(
            e("deficit = -1\nin_year = [1, 1, 1]").starts_with("dsg.deficit: -1.00 is negative")
        );
        assert_eq!(
            e("deficit = 1\nin_year = [1, 1, 1]\ninterest_rate = 6"),
            "dsg.interest_rate: 6.0 is not between 0 and 1"
        );
        assert!(
            e("deficit = 1\nin_year = [1, 1, 1]\noverride_ends = \"2027\"")
                .starts_with("dsg.override_ends: \"2027\" is not a financial year")
        );
        assert!(
            e("deficit = 1\nin_year = [1, 1, 1]\nwrite_off = { of_deficit_at = \"2023/24\" }")
                .starts_with("dsg.write_off.of_deficit_at: \"2023/24\" is before 2025/26")
        );
        assert!(
            e("deficit = 1\nin_year = [1, 1, 1]\noverride_ends = \"2025/26\"\nwrite_off = {}")
                .contains("after the override ends")
        );
    }
}
