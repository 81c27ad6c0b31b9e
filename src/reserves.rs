//! Reserves and the reserves policy.
//!
//! The general fund balance and earmarked reserves (each usable for budget risks or
//! ring-fenced), with planned contributions (+) and draws (-) by year, which go to the general
//! fund. A year's gap is met from the general fund first, then from usable earmarked reserves;
//! usable reserves (general fund plus usable earmarked) below zero are **exhausted**: the point
//! at which a chief finance officer must consider a section 114 notice.
//!
//! The policy sets a minimum general fund balance, as an amount, a percentage of the year's net
//! budget, or risk-assessed: the level that covers the simulated one-off exposure at a chosen
//! confidence. And it says whether reserves may fund recurring gaps; Birmingham's policy (January
//! 2019) and its auditor say they may not (003_e0349e307be76d5a.txt), so the default is `false`
//! and trials in which they do are reported as policy breaches.
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::reserves::{Policy, Minimum};
//! let p: Policy = toml::from_str("minimum_general_fund = { percent_of_budget = 0.05 }").unwrap();
//! assert_eq!(p.minimum_general_fund, Minimum::PercentOfBudget(0.05));
//! assert!(!p.reserves_for_recurring_gaps);
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::money::Money;

/// Errors in reserves or the policy.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ReservesError {
    /// A negative balance.
    #[error("{field}: {value} is negative")]
    Negative {
        /// The field.
        field: String,
        /// The value.
        value: Money,
    },
    /// A percentage or confidence outside its range.
    #[error("minimum_general_fund.{field}: {value:?} is outside {range}")]
    Range {
        /// `percent_of_budget` or `risk_assessed`.
        field: &'static str,
        /// The value.
        value: f64,
        /// The range allowed.
        range: &'static str,
    },
}

/// An earmarked reserve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Earmarked {
    /// Its name.
    pub name: String,
    /// Balance at the start of the plan.
    pub balance: Money,
    /// Whether it may be used for budget risks (false: ring-fenced, e.g. schools balances).
    pub usable: bool,
}

/// Reserves at the start of the plan and planned movements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Reserves {
    /// General fund balance at the start of the plan.
    pub general_fund: Money,
    /// Earmarked reserves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earmarked: Vec<Earmarked>,
    /// Planned contributions (+) and draws (-) by year label, to and from the general fund.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub planned: BTreeMap<String, Money>,
}

impl Reserves {
    /// Checks balances are not negative.
    pub fn validate(&self) -> Result<(), ReservesError> {
        if self.general_fund < Money::ZERO {
            return Err(ReservesError::Negative {
                field: "general_fund".into(),
                value: self.general_fund,
            });
        }
        for (i, e) in self.earmarked.iter().enumerate() {
            if e.balance < Money::ZERO {
                return Err(ReservesError::Negative {
                    field: format!("earmarked[{i}].balance"),
                    value: e.balance,
                });
            }
        }
        Ok(())
    }

    /// Usable earmarked reserves.
    pub fn usable_earmarked(&self) -> Money {
        self.earmarked
            .iter()
            .filter(|e| e.usable)
            .map(|e| e.balance)
            .sum()
    }
}

/// The minimum general fund balance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Minimum {
    /// A fixed amount.
    Amount(Money),
    /// A share of the year's net budget (0.05 for 5%).
    PercentOfBudget(f64),
    /// The one-off exposure at this confidence (0.95): the quantile of each year's one-off gap.
    RiskAssessed(f64),
}

fn no() -> bool {
    false
}

fn no_minimum() -> Minimum {
    Minimum::Amount(Money::ZERO)
}

/// The reserves policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The minimum general fund balance (default: none).
    #[serde(default = "no_minimum")]
    pub minimum_general_fund: Minimum,
    /// Whether reserves may fund recurring gaps (default: no).
    #[serde(default = "no")]
    pub reserves_for_recurring_gaps: bool,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            minimum_general_fund: no_minimum(),
            reserves_for_recurring_gaps: false,
        }
    }
}

impl Policy {
    /// Checks the minimum's parameter.
    pub fn validate(&self) -> Result<(), ReservesError> {
        match self.minimum_general_fund {
            Minimum::Amount(a) if a < Money::ZERO => Err(ReservesError::Negative {
                field: "minimum_general_fund.amount".into(),
                value: a,
            }),
            Minimum::PercentOfBudget(p) if !(0.0..=1.0).contains(&p) => Err(ReservesError::Range {
                field: "percent_of_budget",
                value: p,
                range: "[0, 1] (0.05 is 5%)",
            }),
            Minimum::RiskAssessed(c) if !(0.5..1.0).contains(&c) => Err(ReservesError::Range {
                field: "risk_assessed",
                value: c,
                range: "[0.5, 1) (a confidence such as 0.95)",
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_forms_and_errors() {
        let p = |t: &str| toml::from_str::<Policy>(t).unwrap();
        assert_eq!(
            p("minimum_general_fund = { amount = 30e6 }").minimum_general_fund,
            Minimum::Amount("30000000".parse().unwrap())
        );
        assert_eq!(
            p("minimum_general_fund = { risk_assessed = 0.95 }").minimum_general_fund,
            Minimum::RiskAssessed(0.95)
        );
        let bad = p("minimum_general_fund = { percent_of_budget = 5.0 }");
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "minimum_general_fund.percent_of_budget: 5.0 is outside [0, 1] (0.05 is 5%)"
        );
        assert!(toml::from_str::<Policy>("minimum_general_fund = { pct = 0.05 }").is_err());
        let r: Reserves = toml::from_str(
            "general_fund = 125e6\nearmarked = [{ name = \"Schools\", balance = 60e6, usable = false }, { name = \"Resilience\", balance = 100e6, usable = true }]",
        )
        .unwrap();
        assert_eq!(r.usable_earmarked(), "100000000".parse().unwrap());
    }
}
