//! Provisions (`[[provisions]]`): liabilities of uncertain timing or amount, such as equal pay
//! claims, charged to revenue when they are recognised and paid out in cash later.
//!
//! Under the Code of Practice on Local Authority Accounting (IAS 37), a provision is charged to
//! the general fund in the year the council recognises the obligation, not the year it pays:
//! Birmingham City Council's equal pay liability, £650m-£760m at 31 March 2023 and accruing
//! £5m-£14m a month (the council's statement of June 2023), fell on its revenue account as it was
//! recognised, and that is what its section 114 notice of 5 September 2023 was about. So, for
//! each provision and year:
//!
//! * the **charge** to the general fund is what is recognised in the year: `recognised` (£ a
//!   year), or twelve months of `accrual_per_month` (£ a month; one rate drawn for the year,
//!   since what is uncertain is the rate, not each month's);
//! * the **payments** are cash: they run the provision down and cost the general fund nothing,
//!   except a payment beyond the provision's balance, which is charged when it is paid (it was
//!   never provided for);
//! * the provision's balance opens at `opening` (already charged in earlier years) and closes
//!   at opening + charge − payments, never below zero.
//!
//! The charge is expenditure of the year, one-off, in the statutory test (s114(3) of the Local
//! Government Finance Act 1988 counts the year's expenditure, one-off or recurring).
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::provision::year;
//! // A £100m provision; £114m recognised (£9.5m a month); £40m paid.
//! let (charge, closing) = year(100.0, 114.0, 40.0);
//! assert_eq!((charge, closing), (114.0, 174.0));
//! // Paying £50m from a £30m provision: the £20m never provided for is charged when paid.
//! assert_eq!(year(30.0, 0.0, 50.0), (20.0, 0.0));
//! ```

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::amount::Amount;
use crate::distribution::{AmountSpec, Distribution, DistributionError, MAX_AMOUNT};
use crate::money::Money;

/// Months in a year: an accrual per month is charged twelve times a year.
pub const MONTHS: u32 = 12;

/// Errors in `[[provisions]]`, each naming the provision and its key.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ProvisionError {
    /// An amount below zero or beyond what fiscalrisk accepts.
    #[error("{}.{field}: {value} is {why}", crate::source::item("provisions", *index, name))]
    Amount {
        /// Its position.
        index: usize,
        /// Its name.
        name: String,
        /// The key.
        field: String,
        /// The value.
        value: Money,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Not one amount per year of the plan.
    #[error(
        "{}.{field}: {given} amounts for a plan of {years} years (give one per year)",
        crate::source::item("provisions", *index, name)
    )]
    Length {
        /// Its position.
        index: usize,
        /// Its name.
        name: String,
        /// The key.
        field: &'static str,
        /// How many were given.
        given: usize,
        /// The plan's years.
        years: usize,
    },
    /// Both ways of giving the charge.
    #[error(
        "{}: give what is recognised once, as recognised (£ a year) or as accrual_per_month (£ a month), not both",
        crate::source::item("provisions", *index, name)
    )]
    Both {
        /// Its position.
        index: usize,
        /// Its name.
        name: String,
    },
    /// A bad distribution.
    #[error("{}.{field}.{source}", crate::source::item("provisions", *index, name))]
    Distribution {
        /// Its position.
        index: usize,
        /// Its name.
        name: String,
        /// The key.
        field: String,
        /// What is wrong.
        source: DistributionError,
    },
    /// An empty or repeated name.
    #[error("{}.name: {why}", crate::source::item("provisions", *index, name))]
    Name {
        /// Its position.
        index: usize,
        /// Its name.
        name: String,
        /// What is wrong.
        why: String,
    },
}

/// A provision as written (`[[provisions]]`): amounts in £, one per plan year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisionSpec {
    /// What it is (`"equal pay"`).
    pub name: String,
    /// The provision's balance at the start of the plan: charged in earlier years, not yet
    /// paid (£ ≥ 0; default 0).
    #[serde(default, skip_serializing_if = "Money::is_zero")]
    pub opening: Money,
    /// What is recognised and charged to revenue in each year (£ a year, a number or a
    /// distribution, ≥ 0), one per plan year.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recognised: Vec<AmountSpec>,
    /// Or: the monthly accrual in each year (£ a month, ≥ 0), one per plan year; the year is
    /// charged twelve months of one rate drawn for the year.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accrual_per_month: Vec<AmountSpec>,
    /// Cash paid out of the provision in each year (£ ≥ 0), one per plan year (default none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payments: Vec<Money>,
}

/// A provision compiled: what each year recognises (a year's charge) and pays.
#[derive(Debug, Clone)]
pub struct Provision {
    /// Its name.
    pub name: String,
    /// Its balance at the start of the plan.
    pub opening: Money,
    /// What each year recognises, as a distribution of the year's charge (£ a year), and
    /// the multiplier that turns a draw into the charge (1, or 12 for a monthly accrual).
    pub recognised: Vec<(Distribution, u32)>,
    /// Exactly, when every year's is fixed: the year's charge.
    pub fixed: Option<Vec<Money>>,
    /// Cash paid in each year.
    pub payments: Vec<Money>,
}

impl ProvisionSpec {
    /// Checks the provision (at position `index`) against a plan of `years` years and
    /// compiles it.
    pub fn compile(&self, index: usize, years: usize) -> Result<Provision, ProvisionError> {
        let name = self.name.clone();
        if self.name.trim().is_empty() {
            return Err(ProvisionError::Name {
                index,
                name,
                why: "is empty (name the provision: \"equal pay\")".into(),
            });
        }
        let amount = |field: String, value: Money| {
            if value < Money::ZERO {
                Err(ProvisionError::Amount {
                    index,
                    name: name.clone(),
                    field,
                    value,
                    why: "negative (amounts are positive; the key says the direction)",
                })
            } else if value.to_f64() > MAX_AMOUNT {
                Err(ProvisionError::Amount {
                    index,
                    name: name.clone(),
                    field,
                    value,
                    why: "beyond the 1e15 pounds that fiscalrisk accepts",
                })
            } else {
                Ok(())
            }
        };
        amount("opening".into(), self.opening)?;
        let length = |field: &'static str, given: usize| {
            if given != years {
                Err(ProvisionError::Length {
                    index,
                    name: name.clone(),
                    field,
                    given,
                    years,
                })
            } else {
                Ok(())
            }
        };
        let (field, given, times) = match (
            self.recognised.is_empty(),
            self.accrual_per_month.is_empty(),
        ) {
            (false, false) => return Err(ProvisionError::Both { index, name }),
            (_, true) => ("recognised", &self.recognised, 1),
            (true, false) => ("accrual_per_month", &self.accrual_per_month, MONTHS),
        };
        if !given.is_empty() {
            length(field, given.len())?;
        }
        if !self.payments.is_empty() {
            length("payments", self.payments.len())?;
        }
        let mut recognised = Vec::with_capacity(years);
        let mut fixed = Some(Vec::with_capacity(years));
        for y in 0..years {
            let Some(a) = given.get(y) else {
                recognised.push((Distribution::fixed(Money::ZERO).expect("zero"), 1));
                if let Some(f) = &mut fixed {
                    f.push(Money::ZERO);
                }
                continue;
            };
            let key = format!("{field}[{y}]");
            let d = a
                .distribution()
                .map_err(|source| ProvisionError::Distribution {
                    index,
                    name: name.clone(),
                    field: key.clone(),
                    source,
                })?;
            if d.support().0 < 0.0 {
                return Err(ProvisionError::Amount {
                    index,
                    name: name.clone(),
                    field: key,
                    value: Money::from_f64(d.support().0).unwrap_or_default(),
                    why: "a possible negative amount (what is recognised is 0 or more; a release is not modelled)",
                });
            }
            match (&mut fixed, a.fixed()) {
                (Some(f), Some(v)) => {
                    f.push(Money::new(v.decimal() * rust_decimal::Decimal::from(times)))
                }
                _ => fixed = None,
            }
            recognised.push((d, times));
        }
        for (y, p) in self.payments.iter().enumerate() {
            amount(format!("payments[{y}]"), *p)?;
        }
        Ok(Provision {
            name: self.name.trim().to_string(),
            opening: self.opening,
            recognised,
            fixed,
            payments: if self.payments.is_empty() {
                vec![Money::ZERO; years]
            } else {
                self.payments.clone()
            },
        })
    }
}

/// One year of a provision, written once for exact and simulated amounts: from the balance
/// at the year's start, what is recognised and what is paid, the year's charge to the general
/// fund and the balance at its end. A payment beyond the balance is charged when it is paid.
pub fn year<T: Amount>(opening: T, recognised: T, paid: T) -> (T, T) {
    let provided = opening + recognised;
    let unprovided = (paid - provided).max0();
    (recognised + unprovided, provided + unprovided - paid)
}

/// A provision's ledger over the plan: by year, (charge, payments, closing balance).
pub fn ledger<T: Amount>(opening: T, recognised: &[T], payments: &[T]) -> Vec<(T, T, T)> {
    let mut balance = opening;
    recognised
        .iter()
        .zip(payments)
        .map(|(&r, &p)| {
            let (charge, closing) = year(balance, r, p);
            balance = closing;
            (charge, p, closing)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> ProvisionSpec {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn an_equal_pay_accrual_is_charged_twelve_months_a_year() {
        // Birmingham City Council's statement of June 2023: the liability accrues £5m-£14m a
        // month. At the middle of that range, £9.5m a month, a year recognises £114m.
        let p = spec("name = \"equal pay\"\nopening = 650e6\naccrual_per_month = [9.5e6, 9.5e6]\npayments = [0, 300e6]")
            .compile(0, 2)
            .unwrap();
        let fixed = p.fixed.unwrap();
        assert_eq!(fixed[0].to_string(), "114000000.00");
        let charges: Vec<rust_decimal::Decimal> = fixed.iter().map(|m| m.decimal()).collect();
        let paid: Vec<rust_decimal::Decimal> = p.payments.iter().map(|m| m.decimal()).collect();
        let rows = ledger(p.opening.decimal(), &charges, &paid);
        // 650 + 114 = 764; 764 + 114 - 300 = 578.
        assert_eq!(rows[0].2, rust_decimal::Decimal::from(764_000_000));
        assert_eq!(rows[1].2, rust_decimal::Decimal::from(578_000_000));
        assert_eq!(rows[1].0, rust_decimal::Decimal::from(114_000_000));
    }

    #[test]
    fn errors_name_the_provision_and_key() {
        let e = spec("name = \"equal pay\"\nrecognised = [1, 2]\naccrual_per_month = [1, 2]")
            .compile(3, 2)
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("provisions[3] (\"equal pay\"): give what is recognised once")
        );
        let e = spec("name = \"x\"\nrecognised = [1]")
            .compile(0, 2)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "provisions[0] (\"x\").recognised: 1 amounts for a plan of 2 years (give one per year)"
        );
        let e = spec("name = \"x\"\npayments = [1, -2]")
            .compile(0, 2)
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("provisions[0] (\"x\").payments[1]: -2.00 is negative"),
            "{e}"
        );
        let e = spec("name = \"x\"\nrecognised = [{ dist = \"uniform\", low = -1, high = 2 }, 0]")
            .compile(0, 2)
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("provisions[0] (\"x\").recognised[0]:"),
            "{e}"
        );
        let e = spec("name = \" \"").compile(0, 2).unwrap_err();
        assert!(e.to_string().contains(".name: is empty"), "{e}");
    }
}
