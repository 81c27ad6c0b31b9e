//! Exceptional financial support as a response (`[efs]`): in a year whose in-year statutory
//! test fails, the government capitalises the deficit (a capitalisation direction under
//! section 16(2)(b) of the Local Government Act 2003), up to a limit; the council repays it by
//! MRP and pays interest on it in the following years.
//!
//! * **What is capitalised**: the amount by which usable reserves end the year below the
//!   statutory floor (`policy.s114_floor`), at most what is left of `limit` (default: no limit).
//!   Like a typed direction it is one year's money: it lifts reserves to the floor at most, and
//!   never touches the recurring gap carried forward. The in-year test still counts the year (the
//!   support is the response to a failure, not its absence); `p_efs` counts the support.
//! * **Its cost**: straight-line MRP over `mrp_years` (default 20) from the next year, and
//!   interest on the balance at the start of each later year at the borrowing rate of the year
//!   of the direction plus `premium`. The borrowing rate is `borrowing_rate`, or the capital
//!   plan's (its central rate) when the scenario has `[capital]`. The premium defaults to one
//!   percentage point for directions before 2025/26 (the premium on borrowing for exceptional
//!   support in those years) and to none from 2025/26: an ASSUMPTION, not a published rule;
//!   state `premium` when a council's letter of support says otherwise. The awards themselves
//!   are listed each year (30 councils for 2025-26: "Councils to receive exceptional support",
//!   Ministry of Housing, Communities and Local Government, 21 February 2025).
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::efs::{Efs, EfsSpec};
//! let spec: EfsSpec = toml::from_str("limit = 50e6\nborrowing_rate = 0.05").unwrap();
//! let efs = Efs::new(spec).unwrap();
//! assert_eq!(efs.spec().mrp_years, 20);
//! assert_eq!(efs.premium_for("2024/25".parse().unwrap()), 0.01);
//! assert_eq!(efs.premium_for("2025/26".parse().unwrap()), 0.0);
//! ```

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::distribution::MAX_AMOUNT;
use crate::money::Money;
use crate::period::FinancialYear;

/// Errors in `[efs]`, each naming its key.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EfsError {
    /// A value out of its range.
    #[error("efs.{field}: {value} is outside {range}")]
    Range {
        /// The key.
        field: &'static str,
        /// The value, as written.
        value: String,
        /// The range allowed.
        range: &'static str,
    },
    /// No borrowing rate to charge interest at.
    #[error(
        "efs.borrowing_rate: needed without [capital] (whose borrowing_rate it otherwise follows): the rate a capitalisation direction is borrowed at"
    )]
    NoRate,
}

fn yes() -> bool {
    true
}

fn twenty() -> u32 {
    20
}

/// `[efs]` as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EfsSpec {
    /// Whether a failed in-year test is met by capitalising the deficit (default true).
    #[serde(default = "yes")]
    pub capitalise: bool,
    /// Years of straight-line MRP on each direction (default 20).
    #[serde(default = "twenty")]
    pub mrp_years: u32,
    /// The interest premium over the borrowing rate (a fraction; default 0.01 for directions
    /// before 2025/26, 0 from 2025/26).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premium: Option<f64>,
    /// The most that may be capitalised over the plan (£; default no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Money>,
    /// The borrowing rate (a fraction a year; default: `capital.borrowing_rate`, required
    /// without `[capital]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub borrowing_rate: Option<f64>,
}

/// A validated `[efs]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Efs {
    spec: EfsSpec,
}

impl Efs {
    /// Validates a spec.
    pub fn new(spec: EfsSpec) -> Result<Efs, EfsError> {
        let range = |field, value: String, range| {
            Err(EfsError::Range {
                field,
                value,
                range,
            })
        };
        if !(1..=50).contains(&spec.mrp_years) {
            return range("mrp_years", spec.mrp_years.to_string(), "1 to 50 years");
        }
        if let Some(p) = spec.premium
            && !(0.0..=0.1).contains(&p)
        {
            return range("premium", format!("{p:?}"), "[0, 0.1] (0.01 is one point)");
        }
        if let Some(r) = spec.borrowing_rate
            && !(0.0..=0.25).contains(&r)
        {
            return range("borrowing_rate", format!("{r:?}"), "[0, 0.25] (0.05 is 5%)");
        }
        if let Some(l) = spec.limit
            && !(l >= Money::ZERO && l.to_f64() <= MAX_AMOUNT)
        {
            return range("limit", l.to_string(), "0 to 1e15 pounds");
        }
        Ok(Efs { spec })
    }

    /// The spec.
    pub fn spec(&self) -> &EfsSpec {
        &self.spec
    }

    /// The premium on a direction made in `year`.
    pub fn premium_for(&self, year: FinancialYear) -> f64 {
        self.spec.premium.unwrap_or_else(|| {
            let from: FinancialYear = "2025/26".parse().expect("a year");
            if year < from { 0.01 } else { 0.0 }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        let s: EfsSpec = toml::from_str(text).unwrap();
        Efs::new(s).unwrap_err().to_string()
    }

    #[test]
    fn bad_values_name_their_key() {
        assert!(err("mrp_years = 0").starts_with("efs.mrp_years: 0 is outside"));
        assert!(err("premium = -0.01").starts_with("efs.premium: -0.01"));
        assert!(err("borrowing_rate = 5").starts_with("efs.borrowing_rate: 5.0"));
        assert!(err("limit = -1").starts_with("efs.limit: -1"));
        assert!(toml::from_str::<EfsSpec>("mrp = 20").is_err());
    }
}
