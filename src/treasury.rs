//! Treasury cash (`[treasury]`): interest on balances that follows the balances.
//!
//! A council's cash is its usable reserves, the provisions it holds, less a DSG deficit (cash
//! spent ahead of grant), plus working capital. It earns interest on the cash beyond what it
//! has lent to itself instead of borrowing (internal borrowing: the CFR not covered by external
//! debt); when cash falls below that, the shortfall must be borrowed externally at the
//! borrowing rate. So drawing reserves costs an indebted council twice: the reserves, and the
//! interest.
//!
//! The budget carries the net interest on the cash at the plan's start; each year's gap moves
//! by the net interest lost on the change in cash since then, on the cash at the year's start
//! (opening balances, so that a year's interest does not depend on itself):
//!
//! ```text
//! net(c) = investment_rate * max(c - internal, 0) - borrowing_rate * max(internal - c, 0)
//! cost_y = net(cash_0) - net(cash_y)
//! ```
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::treasury::Rates;
//! // 5% on cash, 6% on external borrowing, £80m of internal borrowing; cash falls from
//! // £100m to £60m: £1m of income becomes £1.2m of interest paid, £2.2m a year.
//! let r = Rates { investment: 0.05, borrowing: 0.06, internal: 80.0, working_capital: 0.0 };
//! assert!((r.cost(100.0, 60.0) - 2.2).abs() < 1e-12);
//! ```

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::amount::Amount;
use crate::distribution::MAX_AMOUNT;
use crate::money::Money;

/// Errors in `[treasury]`, each naming its key.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum TreasuryError {
    /// A rate outside 0 to 1.
    #[error("treasury.{field}: {value:?} is not between 0 and 1 (a fraction a year: 0.05 is 5%)")]
    Rate {
        /// The key.
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// An amount below zero or too large.
    #[error("treasury.{field}: {value} is {why}")]
    Amount {
        /// The key.
        field: &'static str,
        /// The value.
        value: Money,
        /// What is wrong.
        why: &'static str,
    },
    /// No borrowing rate.
    #[error(
        "treasury.borrowing_rate: give the rate at which a shortfall of cash is borrowed (no [capital] gives one)"
    )]
    NoBorrowingRate,
}

/// `[treasury]` as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreasurySpec {
    /// The yield on cash (a fraction a year).
    pub investment_rate: f64,
    /// The rate at which a shortfall of cash below internal borrowing is borrowed externally
    /// (a fraction a year; default: `capital.borrowing_rate` in the plan's first year).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub borrowing_rate: Option<f64>,
    /// Working capital in cash (creditors less debtors; £ ≥ 0; default 0).
    #[serde(default, skip_serializing_if = "Money::is_zero")]
    pub working_capital: Money,
    /// Internal borrowing: the CFR not covered by external debt (£ ≥ 0; default: `[capital]`'s
    /// opening CFR less its opening debt, else 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_borrowing: Option<Money>,
}

/// `[treasury]` compiled, in one number type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates<T> {
    /// The yield on cash.
    pub investment: T,
    /// The external borrowing rate.
    pub borrowing: T,
    /// Internal borrowing.
    pub internal: T,
    /// Working capital.
    pub working_capital: T,
}

impl TreasurySpec {
    /// Checks and compiles `[treasury]`: `capital` the CFR less debt at the start and the first
    /// year's borrowing rate, when the plan has `[capital]`.
    pub fn compile(
        &self,
        capital: Option<(Money, f64)>,
    ) -> Result<Rates<rust_decimal::Decimal>, TreasuryError> {
        let rate = |field: &'static str, value: f64| {
            if value.is_finite() && (0.0..=1.0).contains(&value) {
                Ok(crate::funding::fraction(value))
            } else {
                Err(TreasuryError::Rate { field, value })
            }
        };
        let amount = |field: &'static str, value: Money| {
            if value < Money::ZERO {
                Err(TreasuryError::Amount {
                    field,
                    value,
                    why: "negative (amounts are positive; the key says the direction)",
                })
            } else if value.to_f64() > MAX_AMOUNT {
                Err(TreasuryError::Amount {
                    field,
                    value,
                    why: "beyond the 1e15 pounds that fiscalrisk accepts",
                })
            } else {
                Ok(value.decimal())
            }
        };
        let borrowing = match (self.borrowing_rate, capital) {
            (Some(r), _) => rate("borrowing_rate", r)?,
            (None, Some((_, r))) => rate("borrowing_rate", r)?,
            (None, None) => return Err(TreasuryError::NoBorrowingRate),
        };
        let internal = match (self.internal_borrowing, capital) {
            (Some(m), _) => amount("internal_borrowing", m)?,
            (None, Some((m, _))) => m.decimal().max(rust_decimal::Decimal::ZERO),
            (None, None) => rust_decimal::Decimal::ZERO,
        };
        Ok(Rates {
            investment: rate("investment_rate", self.investment_rate)?,
            borrowing,
            internal,
            working_capital: amount("working_capital", self.working_capital)?,
        })
    }
}

impl<T: Amount> Rates<T> {
    /// Net interest a year on `cash`: earned beyond internal borrowing, paid on the shortfall
    /// below it.
    pub fn net(&self, cash: T) -> T {
        self.investment * (cash - self.internal).max0()
            - self.borrowing * (self.internal - cash).max0()
    }

    /// The year's cost beyond the budget: the net interest on the cash at the plan's start
    /// (`base`, what the budget carries) less that on the year's opening cash.
    pub fn cost(&self, base: T, cash: T) -> T {
        self.net(base) - self.net(cash)
    }
}

impl Rates<rust_decimal::Decimal> {
    /// In floats, for the simulation.
    pub fn to_f64(&self) -> Rates<f64> {
        use rust_decimal::prelude::ToPrimitive;
        let f = |d: rust_decimal::Decimal| d.to_f64().unwrap_or(0.0);
        Rates {
            investment: f(self.investment),
            borrowing: f(self.borrowing),
            internal: f(self.internal),
            working_capital: f(self.working_capital),
        }
    }
}
