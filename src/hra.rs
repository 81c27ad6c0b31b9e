//! The Housing Revenue Account (`[hra]`): council housing's own ring-fenced account.
//!
//! A council that owns housing keeps its rents and the cost of managing and maintaining the
//! stock in the Housing Revenue Account, which Schedule 4 of the Local Government and Housing
//! Act 1989 ring-fences: its balance is the tenants', never the general fund's. Moving it to
//! the general fund is unlawful (Nottingham City Council's section 114 notice of December 2021
//! was over £15.86m so moved). So the HRA is its own ledger here, year by year:
//!
//! * its balance opens at `balance` and moves by `income` less `spending` in each year;
//! * it is read against its own `minimum` (a policy floor; default 0), and a balance below zero
//!   is an HRA deficit, which the council must not carry (Schedule 4 requires a balanced HRA);
//! * it never counts in usable reserves and never meets the general fund's gap, and a reserve
//!   transfer out of it (`reserves.transfers` with `from = "hra"`), or an earmarked reserve that
//!   is the HRA marked usable, is refused naming the ring-fence (see [`crate::reserves`]).
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::hra::HraSpec;
//! use fiscalrisk::period::Horizon;
//! let spec: HraSpec = toml::from_str(
//!     "balance = 20e6\nminimum = 5e6\nincome = [100e6, 102e6]\nspending = [110e6, 108e6]",
//! ).unwrap();
//! let horizon = Horizon::new("2025/26".parse().unwrap(), 2).unwrap();
//! let years = spec.ledger(&horizon).unwrap();
//! assert_eq!(years[0].closing.to_string(), "10000000.00");
//! assert_eq!(years[1].closing.to_string(), "4000000.00");
//! assert!(years[1].below_minimum && !years[0].below_minimum);
//! ```

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::distribution::MAX_AMOUNT;
use crate::money::Money;
use crate::period::Horizon;

/// The ring-fence, as messages name it.
pub const RING_FENCE: &str = "the Housing Revenue Account is ring-fenced (Local Government and Housing Act 1989, \
     Schedule 4): its balance cannot fund the general fund";

/// Whether an earmarked reserve's name says it is the HRA (`HRA`, `HRA balances`, `Housing
/// Revenue Account reserve`), whatever the case.
pub fn names_the_hra(name: &str) -> bool {
    let n = name.trim().to_lowercase();
    n == "hra" || n.starts_with("hra ") || n.contains("housing revenue account")
}

/// Errors in `[hra]`, each naming its key.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum HraError {
    /// An amount below zero or beyond what fiscalrisk accepts.
    #[error("hra.{field}: {value} is {why}")]
    Amount {
        /// The key.
        field: String,
        /// The value.
        value: Money,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Not one amount per year of the plan.
    #[error("hra.{field}: {given} amounts for a plan of {years} years (give one per year)")]
    Length {
        /// The key.
        field: &'static str,
        /// How many were given.
        given: usize,
        /// The plan's years.
        years: usize,
    },
}

/// `[hra]` as written: amounts in £.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HraSpec {
    /// The HRA balance at the start of the plan (£ ≥ 0).
    pub balance: Money,
    /// The policy minimum balance (£ ≥ 0; default 0).
    #[serde(default, skip_serializing_if = "Money::is_zero")]
    pub minimum: Money,
    /// Income by year, one per plan year in order: rents, service charges, grants (£ ≥ 0).
    pub income: Vec<Money>,
    /// Spending by year, one per plan year in order: management, maintenance, capital
    /// charges (£ ≥ 0).
    pub spending: Vec<Money>,
}

/// One year of the HRA's ledger, exact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HraYear {
    /// The year.
    pub year: String,
    /// The balance at the start of the year.
    pub opening: Money,
    /// Income in the year.
    pub income: Money,
    /// Spending in the year.
    pub spending: Money,
    /// The balance at the end of the year (negative: an HRA deficit).
    pub closing: Money,
    /// The policy minimum.
    pub minimum: Money,
    /// Whether the year ends below the minimum.
    pub below_minimum: bool,
}

impl HraSpec {
    /// Checks the amounts against `horizon`: each £ ≥ 0 and within bounds, one income and one
    /// spending figure per year.
    pub fn check(&self, horizon: &Horizon) -> Result<(), HraError> {
        let amount = |field: String, value: Money| {
            if value < Money::ZERO {
                Err(HraError::Amount {
                    field,
                    value,
                    why: "negative (amounts are positive; the key says the direction)",
                })
            } else if value.to_f64() > MAX_AMOUNT {
                Err(HraError::Amount {
                    field,
                    value,
                    why: "beyond the 1e15 pounds that fiscalrisk accepts",
                })
            } else {
                Ok(())
            }
        };
        amount("balance".into(), self.balance)?;
        amount("minimum".into(), self.minimum)?;
        for (field, values) in [("income", &self.income), ("spending", &self.spending)] {
            if values.len() != horizon.len() {
                return Err(HraError::Length {
                    field,
                    given: values.len(),
                    years: horizon.len(),
                });
            }
            for (y, v) in values.iter().enumerate() {
                amount(format!("{field}[{y}]"), *v)?;
            }
        }
        Ok(())
    }

    /// The ledger, year by year: each year opens at the last one's close and moves by its
    /// income less its spending.
    pub fn ledger(&self, horizon: &Horizon) -> Result<Vec<HraYear>, HraError> {
        self.check(horizon)?;
        let mut balance = self.balance;
        Ok(horizon
            .labels()
            .into_iter()
            .enumerate()
            .map(|(y, year)| {
                let opening = balance;
                balance = opening + self.income[y] - self.spending[y];
                HraYear {
                    year,
                    opening,
                    income: self.income[y],
                    spending: self.spending[y],
                    closing: balance,
                    minimum: self.minimum,
                    below_minimum: balance < self.minimum,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn horizon(years: u32) -> Horizon {
        Horizon::new("2025/26".parse().unwrap(), years).unwrap()
    }

    fn spec(text: &str) -> HraSpec {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_ledger_by_hand() {
        // 20 + 100 - 110 = 10; 10 + 102 - 115 = -3: an HRA deficit, below the 5m minimum.
        let s = spec(
            "balance = 20e6\nminimum = 5e6\nincome = [100e6, 102e6]\nspending = [110e6, 115e6]",
        );
        let years = s.ledger(&horizon(2)).unwrap();
        let closing: Vec<String> = years.iter().map(|y| y.closing.to_string()).collect();
        assert_eq!(closing, ["10000000.00", "-3000000.00"]);
        assert_eq!(years[1].opening, years[0].closing);
        assert_eq!(
            years.iter().map(|y| y.below_minimum).collect::<Vec<_>>(),
            [false, true]
        );
    }

    #[test]
    fn bad_amounts_name_their_key() {
        let short = spec("balance = 1\nincome = [1]\nspending = [1, 2]");
        assert_eq!(
            short.check(&horizon(2)).unwrap_err().to_string(),
            "hra.income: 1 amounts for a plan of 2 years (give one per year)"
        );
        let negative = spec("balance = 1\nincome = [1, -2]\nspending = [1, 2]");
        assert_eq!(
            negative.check(&horizon(2)).unwrap_err().to_string(),
            "hra.income[1]: -2.00 is negative (amounts are positive; the key says the direction)"
        );
    }

    #[test]
    fn an_hra_is_known_by_its_name() {
        for name in [
            "HRA",
            "hra balances",
            "Housing Revenue Account reserve",
            " HRA ",
        ] {
            assert!(names_the_hra(name), "{name}");
        }
        for name in ["Schools", "Hrafnkell fund", "housing"] {
            assert!(!names_the_hra(name), "{name}");
        }
    }
}
