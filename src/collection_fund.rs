//! The collection fund (`[collection_fund]`): council tax and business rates surpluses and
//! deficits, which fall on the next year's budget.
//!
//! A billing authority collects council tax and business rates into its collection fund. Each
//! January it estimates the fund's surplus or deficit for the year, and its share falls on the
//! following year's budget (the Local Authorities (Funds) (England) Regulations 1992). The
//! deficits of 2020/21 could be spread over the next three years (the Local Authorities
//! (Collection Fund: Surplus and Deficit) (Coronavirus) (England) Regulations 2020). So:
//!
//! * `council_tax` and `business_rates` are the council's share of each plan year's estimated
//!   deficit (£; a number or a distribution; positive a deficit, negative a surplus);
//! * `brought_forward` is the deficit estimated in the January before the plan (£, signed the
//!   same way), which falls on the plan's first year;
//! * each falls on the budgets of the `spread_years` years after it arises (default 1; at most
//!   3), in equal parts (exactly: pennies, the last part taking the remainder);
//! * because it is known when the next budget is set, the statutory test counts the part falling
//!   on the next year as a deficit that budget must provide for.
//!
//! # Examples
//!
//! ```
//! use fiscalrisk::collection_fund::charges;
//! // A £30m deficit brought forward, spread over three years; £6m arising in the first year.
//! let falls = charges(&[30.0, 6.0, 0.0], 3, |x, _| x / 3.0);
//! assert_eq!(falls, [10.0, 12.0, 12.0]);
//! ```

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::amount::Amount;
use crate::distribution::{AmountSpec, Distribution, DistributionError, MAX_AMOUNT};
use crate::money::Money;

/// The longest spread: the 2020/21 deficits' three years.
pub const MAX_SPREAD: u32 = 3;

/// Errors in `[collection_fund]`, each naming its key.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum CollectionFundError {
    /// Not one amount per year of the plan.
    #[error(
        "collection_fund.{field}: {given} amounts for a plan of {years} years (give one per year)"
    )]
    Length {
        /// The key.
        field: &'static str,
        /// How many were given.
        given: usize,
        /// The plan's years.
        years: usize,
    },
    /// A spread outside 1 to 3 years.
    #[error(
        "collection_fund.spread_years: {0} is not between 1 and {MAX_SPREAD} (a deficit falls on the next year's budget, or is spread over up to three)"
    )]
    Spread(u32),
    /// An amount beyond what fiscalrisk accepts.
    #[error(
        "collection_fund.brought_forward: {0} is beyond the 1e15 pounds that fiscalrisk accepts"
    )]
    Amount(Money),
    /// A bad distribution.
    #[error("collection_fund.{field}.{source}")]
    Distribution {
        /// The key.
        field: String,
        /// What is wrong.
        source: DistributionError,
    },
}

fn one() -> u32 {
    1
}

/// `[collection_fund]` as written: the council's share, in £, a deficit positive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionFundSpec {
    /// The deficit estimated in the January before the plan (£; negative: a surplus; default
    /// 0), falling on the plan's first year.
    #[serde(default, skip_serializing_if = "Money::is_zero")]
    pub brought_forward: Money,
    /// Council tax: each plan year's estimated deficit (£; a number or a distribution;
    /// negative: a surplus), one per plan year (default none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub council_tax: Vec<AmountSpec>,
    /// Business rates: the same.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub business_rates: Vec<AmountSpec>,
    /// Over how many years' budgets each deficit is spread (1 to 3; default 1).
    #[serde(default = "one")]
    pub spread_years: u32,
}

/// `[collection_fund]` compiled.
#[derive(Debug, Clone)]
pub struct CollectionFund {
    /// The deficit brought forward.
    pub brought_forward: Money,
    /// Each plan year's estimated deficit (council tax and business rates), by year.
    pub arising: Vec<Vec<Distribution>>,
    /// Exactly, by year, when every amount is fixed: both funds' deficits together.
    pub fixed: Option<Vec<Decimal>>,
    /// The spread.
    pub spread: usize,
}

impl CollectionFundSpec {
    /// Checks the section against a plan of `years` years and compiles it.
    pub fn compile(&self, years: usize) -> Result<CollectionFund, CollectionFundError> {
        if !(1..=MAX_SPREAD).contains(&self.spread_years) {
            return Err(CollectionFundError::Spread(self.spread_years));
        }
        if self.brought_forward.to_f64().abs() > MAX_AMOUNT {
            return Err(CollectionFundError::Amount(self.brought_forward));
        }
        let mut arising = vec![Vec::new(); years];
        let mut fixed = Some(vec![Decimal::ZERO; years]);
        for (field, values) in [
            ("council_tax", &self.council_tax),
            ("business_rates", &self.business_rates),
        ] {
            if values.is_empty() {
                continue;
            }
            if values.len() != years {
                return Err(CollectionFundError::Length {
                    field,
                    given: values.len(),
                    years,
                });
            }
            for (y, a) in values.iter().enumerate() {
                let d = a
                    .distribution()
                    .map_err(|source| CollectionFundError::Distribution {
                        field: format!("{field}[{y}]"),
                        source,
                    })?;
                match (&mut fixed, a.fixed()) {
                    (Some(f), Some(v)) => f[y] += v.decimal(),
                    _ => fixed = None,
                }
                arising[y].push(d);
            }
        }
        Ok(CollectionFund {
            brought_forward: self.brought_forward,
            arising,
            fixed,
            spread: self.spread_years as usize,
        })
    }
}

/// What falls on each year's budget, written once for exact and simulated amounts: `arising[0]`
/// the deficit brought forward, `arising[k]` the deficit arising in plan year `k - 1`, each
/// falling on the `spread` years after it as `part(amount, i)` for its `i`-th part. The result
/// has one value per entry of `arising`: the plan's years and the year after it.
pub fn charges<T: Amount>(arising: &[T], spread: usize, part: impl Fn(T, usize) -> T) -> Vec<T> {
    let mut out = vec![T::ZERO; arising.len()];
    for (a, &x) in arising.iter().enumerate() {
        for i in 0..spread {
            if let Some(v) = out.get_mut(a + i) {
                *v += part(x, i);
            }
        }
    }
    out
}

/// The `i`-th of `parts` equal parts of `amount` in pennies, the last taking the remainder.
pub fn exact_part(amount: Decimal, parts: usize, i: usize) -> Decimal {
    let n = Decimal::from(parts as u64);
    let each = (amount / n).round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero);
    if i + 1 == parts {
        amount - each * (n - Decimal::ONE)
    } else {
        each
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deficit_spread_over_three_years_falls_in_equal_parts_to_the_penny() {
        // The 2020/21 deficits could be spread over 2021/22 to 2023/24. £10,000,000.01 in
        // thirds: £3,333,333.33 twice and £3,333,333.35.
        let x: Decimal = "10000000.01".parse().unwrap();
        let falls = charges(
            &[x, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO],
            3,
            |a, i| exact_part(a, 3, i),
        );
        let shown: Vec<String> = falls.iter().map(|d| d.to_string()).collect();
        assert_eq!(shown, ["3333333.33", "3333333.33", "3333333.35", "0"]);
        assert_eq!(falls.iter().copied().sum::<Decimal>(), x);
    }

    #[test]
    fn errors_name_the_key() {
        let e = |t: &str| {
            toml::from_str::<CollectionFundSpec>(t)
                .unwrap()
                .compile(3)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e("council_tax = [1, 2]"),
            "collection_fund.council_tax: 2 amounts for a plan of 3 years (give one per year)"
        );
        assert!(
            e("spread_years = 4")
                .starts_with("collection_fund.spread_years: 4 is not between 1 and 3")
        );
        assert!(
            e("business_rates = [1, { dist = \"uniform\", low = 2, high = 1 }, 3]")
                .starts_with("collection_fund.business_rates[1].")
        );
    }
}
